"""`pilotgate db backup` and `db restore` for PostgreSQL: pg_dump and pg_restore, run for
the operator with the database URL of the settings.

pg_dump reads one snapshot (a repeatable-read transaction) while gateways go on writing,
so a dump holds each committed send whole, like SQLite's online backup. Its custom format
restores with pg_restore into a new, empty database (then point `database_url` at it):
restoring over a live database would mix two histories, so a database that already has
a schema is refused. Point-in-time recovery (a base backup plus archived WAL) is the
server's business, not ours: see the README, "Backups".
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import psycopg

from pilotgate.errors import StorageError


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise StorageError(
            f"{name} is not on PATH: install the PostgreSQL client (Debian: postgresql-client), "
            f"or run it yourself: {name} --format=custom ... (README, 'Backups')"
        )
    return found


def _run(command: list[str]) -> None:
    # The operator's own tools, found on PATH, given the operator's own settings; no shell.
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise StorageError(f"{Path(command[0]).name} failed: {done.stderr.strip()}")


def dump(url: str, target: Path) -> int:
    """pg_dump the database at `url` to `target` (custom format); its size in bytes."""
    partial = target.with_name(target.name + ".partial")
    try:
        _run([_tool("pg_dump"), "--format=custom", "--file", str(partial), "--dbname", url])
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target.stat().st_size


def restore(source: Path, url: str) -> int:
    """pg_restore `source` into the empty database at `url`, in one transaction."""
    if not source.is_file():
        raise StorageError(f"no backup at {source}")
    tool = _tool("pg_restore")
    try:
        with psycopg.connect(url, connect_timeout=10) as conn:
            found = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    except psycopg.Error as exc:
        raise StorageError(f"cannot reach the database to restore into: {exc}") from exc
    if found and found[0]:
        raise StorageError(
            "the database already has a PilotGate schema: restore into a new, empty database "
            "(createdb), then point database_url at it"
        )
    _run([tool, "--no-owner", "--exit-on-error", "--single-transaction", "--dbname", url,
          str(source)])  # fmt: skip
    return source.stat().st_size
