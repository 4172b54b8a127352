"""Tariffs: prefix → price per part per channel, imported from a CSV file and shown."""

from __future__ import annotations

from pathlib import Path

import click

from pilotgate import config
from pilotgate.domain import audit, money
from pilotgate.gateway import Gateway
from pilotgate.operations import tariffs

from .base import main, with_gateway


@main.group()
def tariff() -> None:
    """Tariffs: prefix → price per part per channel."""


@tariff.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--id", "tariff_id", type=int, default=None, help="Tariff id (default 1).")
@click.option("--name", default=None, help="Tariff name (default: the file name).")
@with_gateway
async def tariff_import(
    settings: config.Settings,
    gateway: Gateway,
    file: Path,
    tariff_id: int | None,
    name: str | None,
) -> None:
    """Replace a tariff with FILE.csv (prefix,channel,price,country,operator)."""
    # A tariff file is small; reading it blocks nothing else in this one-shot command.
    text = file.read_text(encoding="utf-8-sig")  # noqa: ASYNC240
    target = tariff_id or settings.default_tariff
    count = await tariffs.replace(gateway, audit.CLI, target, name or file.stem, text)
    click.echo(f"tariff {target}: {count} rates")


@tariff.command("show")
@click.option("--id", "tariff_id", type=int, default=None, help="Tariff id (default 1).")
@with_gateway
async def tariff_show(settings: config.Settings, gateway: Gateway, tariff_id: int | None) -> None:
    """Print a tariff's rates."""
    for rate in await tariffs.rates(gateway, tariff_id or settings.default_tariff):
        click.echo(
            f"{rate.prefix}\t{rate.channel}\t{money.format(rate.price)}\t{rate.country}"
            f"\t{rate.operator}"
        )
