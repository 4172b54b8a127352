"""`pilotgate db backup` and `db restore` for SQLite, through SQLite's online backup API.

A backup copies every page in one step, under one read transaction: in WAL mode that is a
snapshot, taken while gateways go on writing (they never wait for it), so the copy holds
each committed send whole (its messages with the debit that paid for them) and nothing
half-written. It goes to FILE.partial first and is renamed when checked, so FILE is never a
torn copy.

A restore replaces the database's contents with a backup's, and only while no process has
the database open: a running gateway would go on from caches and leases of the database it
had, and its next writes would mix the two. The check is SQLite's own lock (EXCLUSIVE
locking mode fails while another connection holds the file), held until the copy is done.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from pilotgate.errors import StorageError

#: How long a backup waits for the database when another process is recovering it.
BUSY_SECONDS = 30.0


def _check(db: sqlite3.Connection, what: str) -> None:
    found = db.execute("PRAGMA quick_check").fetchone()[0]
    if found != "ok":
        raise StorageError(f"{what} is damaged: {found}")
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "schema_migrations" not in tables:
        raise StorageError(f"{what} is not a PilotGate database")


def backup(path: str, target: Path) -> int:
    """Copy the live database at `path` to `target`; its size in bytes."""
    if not Path(path).is_file():
        raise StorageError(f"no database at {path}")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        with contextlib.closing(sqlite3.connect(path, timeout=BUSY_SECONDS)) as source:
            with contextlib.closing(sqlite3.connect(partial)) as copy:
                source.backup(copy)  # every page in one step: one snapshot
                _check(copy, "the copy")
                # One self-contained file, whatever journal the live database uses.
                copy.execute("PRAGMA journal_mode=DELETE")
        with partial.open("rb") as written:
            os.fsync(written.fileno())
        partial.replace(target)
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise StorageError(f"backup of {path} failed: {exc}") from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return target.stat().st_size


def restore(source: Path, path: str) -> int:
    """Replace the database at `path` (created if missing) with the backup `source`; the
    size of the backup in bytes. Refused while any process has the database open."""
    if not source.is_file():
        raise StorageError(f"no backup at {source}")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        with contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as backup:
            _check(backup, str(source))
            with contextlib.closing(sqlite3.connect(path, timeout=0)) as live:
                live.execute("PRAGMA locking_mode=EXCLUSIVE")
                try:
                    # Kept after COMMIT in EXCLUSIVE mode, until the connection closes.
                    live.execute("BEGIN EXCLUSIVE")
                    live.execute("COMMIT")
                except sqlite3.OperationalError:
                    raise StorageError(
                        f"{path} is open in another process (a running gateway?): stop every "
                        "gateway using it, then restore"
                    ) from None
                backup.backup(live)
                live.execute("PRAGMA journal_mode=WAL")  # as the gateway opens it
    except sqlite3.Error as exc:
        raise StorageError(f"restore into {path} failed: {exc}") from exc
    return source.stat().st_size
