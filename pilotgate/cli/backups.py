"""`pilotgate db backup FILE` and `pilotgate db restore FILE` (README, "Backups")."""

from __future__ import annotations

from pathlib import Path

import click

from pilotgate import bootstrap
from pilotgate.errors import GatewayError

from .base import _settings
from .server import db


def _where(url: str) -> str:
    return url.split("@")[-1]  # never the password


@db.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def db_backup(ctx: click.Context, file: Path) -> None:
    """Copy the live database to FILE while gateways go on sending (SQLite: the online
    backup API; PostgreSQL: pg_dump's custom format)."""
    settings = _settings(ctx)
    try:
        size = bootstrap.backup_database(settings, file)
    except GatewayError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"backed up {_where(settings.database_url)} to {file} ({size} bytes)")


@db.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def db_restore(ctx: click.Context, file: Path) -> None:
    """Make the database of the settings a copy of the backup FILE. SQLite: refused while
    a gateway has the database open. PostgreSQL: into a new, empty database only."""
    settings = _settings(ctx)
    try:
        size = bootstrap.restore_database(settings, file)
    except GatewayError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"restored {file} ({size} bytes) into {_where(settings.database_url)}; "
        "`pilotgate db upgrade` (or the next start) brings its schema up to date"
    )
