"""Migrations are written once and rendered per dialect (storage/migrations/__init__.py).

What each dialect's rendering builds is compared with the schema before the migrations were
merged in tests/contract/test_schema.py; here: the renderer's rules, and that every shipped
migration renders cleanly under the names existing databases have recorded.
"""

from __future__ import annotations

import re
import sqlite3

import pytest

from pilotgate.storage.base import migration_scripts
from pilotgate.storage.migrations import DIALECTS, render

SCRIPT = """\
CREATE TABLE t (
    id {serial} PRIMARY KEY,
    at {time} NOT NULL,
    on_off {bool} NOT NULL DEFAULT {true},
    settings TEXT NOT NULL DEFAULT '{}'
);
-- sqlite:
CREATE TRIGGER t_touch AFTER INSERT ON t
BEGIN
-- postgres:
CREATE FUNCTION t_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
-- end
    UPDATE t SET on_off = {false} WHERE id = NEW.id;
-- sqlite:
END;
-- end
"""


def test_tokens_become_each_dialects_spelling_and_blocks_keep_their_dialect() -> None:
    assert render(SCRIPT, "sqlite") == (
        "CREATE TABLE t (\n"
        "    id INTEGER PRIMARY KEY,\n"
        "    at INTEGER NOT NULL,\n"
        "    on_off INTEGER NOT NULL DEFAULT 1,\n"
        "    settings TEXT NOT NULL DEFAULT '{}'\n"
        ");\n"
        "CREATE TRIGGER t_touch AFTER INSERT ON t\n"
        "BEGIN\n"
        "    UPDATE t SET on_off = 0 WHERE id = NEW.id;\n"
        "END;\n"
    )
    assert render(SCRIPT, "postgres") == (
        "CREATE TABLE t (\n"
        "    id bigserial PRIMARY KEY,\n"
        "    at timestamptz NOT NULL,\n"
        "    on_off boolean NOT NULL DEFAULT true,\n"
        "    settings TEXT NOT NULL DEFAULT '{}'\n"
        ");\n"
        "CREATE FUNCTION t_touch() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        "    UPDATE t SET on_off = false WHERE id = NEW.id;\n"
    )


@pytest.mark.parametrize(
    ("script", "error"),
    [
        ("id {uuid} PRIMARY KEY", r"line 1: unknown token \{uuid\}"),
        # A typo in the other dialect's block fails too, not only when that dialect runs.
        ("-- postgres:\nx {timestamp}\n-- end\n", r"line 2: unknown token \{timestamp\}"),
        ("-- sqlite:\nDROP TRIGGER t;\n", "the -- sqlite: block is not closed"),
        ("SELECT 1;\n-- end\n", "line 2: '-- end' outside a dialect block"),
        ("-- mysql:\nSELECT 1;\n-- end\n", "line 1: unknown dialect block 'mysql'"),
    ],
)
def test_a_migration_the_renderer_cannot_read_raises(script: str, error: str) -> None:
    for dialect in DIALECTS:
        with pytest.raises(ValueError, match=error):
            render(script, dialect)


def test_an_unknown_dialect_raises() -> None:
    with pytest.raises(ValueError, match="unknown dialect 'mysql'"):
        render("SELECT 1;", "mysql")


def test_the_migrations_keep_the_names_databases_recorded() -> None:
    # upgrade() skips what schema_migrations lists by these names: renaming one would run it
    # again on every existing installation.
    expected = [
        "0001_core.sql", "0002_callbacks.sql", "0003_handing.sql", "0004_routing.sql",
        "0005_receipts.sql", "0006_callback_order.sql", "0007_lists.sql", "0008_checks.sql",
        "0009_two_way.sql", "0010_viber_relay_pool.sql", "0011_dashboard.sql",
        "0012_client_id.sql", "0013_handover_unknown.sql",
    ]  # fmt: skip
    for dialect in DIALECTS:
        assert [name for name, _ in migration_scripts(dialect)][: len(expected)] == expected


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_migration_renders_to_plain_sql(dialect: str) -> None:
    for name, sql in migration_scripts(dialect):
        assert not re.search(r"\{\w+\}", sql), name
        assert not re.search(r"^--\s*(sqlite|postgres|end):?\s*$", sql, re.M), name
    whole = "".join(sql for _, sql in migration_scripts(dialect))
    # Each dialect's triggers and none of the other's: PostgreSQL's call a function.
    triggers = [part.split(";")[0] for part in whole.split("CREATE TRIGGER")[1:]]
    assert triggers
    calls = {"sqlite": False, "postgres": True}[dialect]
    assert all(("EXECUTE FUNCTION" in trigger) == calls for trigger in triggers)
    assert ("CREATE FUNCTION" in whole) == calls


def test_the_sqlite_rendering_runs_on_sqlite() -> None:
    db = sqlite3.connect(":memory:")
    for _, sql in migration_scripts("sqlite"):
        db.executescript(sql)
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"accounts", "messages", "callbacks", "message_days"} <= tables
    assert "message_day_deltas" not in tables  # PostgreSQL's alone
