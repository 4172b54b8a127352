"""A fresh upgrade builds, on each database, the schema written down in schema_<dialect>.txt.

The lists were taken from the migrations as they stood before they were written once for
both databases (storage/migrations/__init__.py), so rendering changed nothing an installation
holds. A new migration changes the schema on purpose: rewrite the lists with
PILOTGATE_WRITE_SCHEMA=1 and read their diff.
"""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path

import psycopg

from tests.contract.conftest import Backend

HERE = Path(__file__).parent


def _flat(sql: str | None) -> str:
    """SQL text without comments and with single spaces (SQLite keeps a definition as typed)."""
    return " ".join(re.sub(r"--[^\n]*", "", sql or "").split())


def sqlite_schema(path: str) -> list[str]:
    db = sqlite3.connect(path)
    lines = []
    objects = db.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master "
        "WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name"
    ).fetchall()
    for kind, name, table, sql in objects:
        if kind == "table":
            for _, column, ctype, notnull, default, pk, _ in db.execute(
                f"PRAGMA table_xinfo({name})"
            ):
                lines.append(f"column {name}.{column} {ctype} notnull={notnull} pk={pk} {default}")
        lines.append(f"{kind} {name} on {table}: {_flat(sql)}")
    db.close()
    return lines


def postgres_schema(dsn: str) -> list[str]:
    queries = [
        "SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' null='"
        " || is_nullable || ' ' || coalesce(column_default, '') FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name NOT IN (SELECT relname FROM"
        " pg_class WHERE relispartition)",
        "SELECT 'constraint ' || conrelid::regclass || '.' || conname || ': '"
        " || pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE connamespace = current_schema()::regnamespace AND NOT conrelid IN (SELECT oid"
        " FROM pg_class WHERE relispartition)",
        "SELECT 'index ' || indexname || ': ' || indexdef FROM pg_indexes"
        " WHERE schemaname = current_schema() AND tablename NOT IN (SELECT relname FROM"
        " pg_class WHERE relispartition)",
        # Partitions are listed once each, with their bounds; they take their columns,
        # indexes, constraints and triggers from their parent.
        "SELECT 'partition ' || c.relname || ' of ' || i.inhparent::regclass || ': '"
        " || pg_get_expr(c.relpartbound, c.oid) FROM pg_class c JOIN pg_inherits i"
        " ON i.inhrelid = c.oid WHERE c.relispartition AND c.relkind = 'r'"
        " AND c.relnamespace = current_schema()::regnamespace",
        "SELECT 'trigger ' || tgname || ': ' || pg_get_triggerdef(t.oid) FROM pg_trigger t"
        " JOIN pg_class c ON c.oid = t.tgrelid"
        " WHERE NOT tgisinternal AND c.relnamespace = current_schema()::regnamespace"
        " AND NOT c.relispartition",
        "SELECT 'function ' || proname || ': ' || prosrc FROM pg_proc"
        " WHERE pronamespace = current_schema()::regnamespace",
        "SELECT 'sequence ' || sequencename || ' start ' || start_value FROM pg_sequences"
        " WHERE schemaname = current_schema()",
    ]
    with psycopg.connect(dsn) as conn:
        schema = conn.execute("SELECT current_schema()").fetchone()
        lines = [_flat(row[0]) for query in queries for row in conn.execute(query)]
    assert schema is not None
    return sorted(line.replace(f"{schema[0]}.", "") for line in lines)


async def test_a_fresh_upgrade_builds_the_recorded_schema(backend: Backend) -> None:
    store = await backend.open()
    await store.upgrade()
    if backend.name == "sqlite":
        found = sqlite_schema(backend.target)
    else:
        found = postgres_schema(backend.target)
    recorded = HERE / f"schema_{backend.name}.txt"
    if os.environ.get("PILOTGATE_WRITE_SCHEMA") == "1":
        recorded.write_text("".join(f"{line}\n" for line in found), encoding="utf-8")
    assert found == recorded.read_text(encoding="utf-8").splitlines()
