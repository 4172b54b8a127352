"""Nothing PilotGate sends to PostgreSQL may depend on a server session outliving its
transaction (docs/pooling.md): behind PgBouncer in transaction pooling mode the next
transaction may run on another session, and this one may serve another client. The
contract and acceptance tests run through a real PgBouncer; this guard names what they
could miss because no test happens to take that path."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: What PostgreSQL is sent: only `storage` speaks SQL (docs/architecture.md), SQLite's
#: driver aside.
SOURCES = sorted(
    path
    for part in ("sql", "postgres", "migrations")
    for path in (ROOT / "pilotgate" / "storage" / part).glob("*.[ps][yq]*")
)

#: Session state a transaction pooler cannot carry, as SQL spells it.
SESSION_STATE = re.compile(
    r"pg_(try_)?advisory_(lock|lock_shared|unlock)\w*\s*\("  # session advisory locks
    r"|\bLISTEN\s|\bUNLISTEN\b|\bpg_notify\s*\("
    r"|\bCREATE\s+(GLOBAL\s+|LOCAL\s+)?TEMP(ORARY)?\s+TABLE\b"
    r"|\bPREPARE\s+\w+\s+(\(|AS\b)|\bDEALLOCATE\b"
    r"|\bSET\s+SESSION\b|\bset_config\s*\([^)]*,\s*false\s*\)"
    r"|\bDECLARE\s+\w+\s+.*\bWITH\s+HOLD\b",
    re.IGNORECASE,
)

#: A SET statement (a string executed or named as a constant, or after a `;` in one; not an
#: UPDATE's SET clause): only SET LOCAL, which ends with its transaction, and the time zone,
#: which PgBouncer tracks per client.
STATEMENT_SET = re.compile(
    r"""(?:(?:execute\(|=)\s*[bf]?["']|;\s*)SET\s+(?!LOCAL\b|TIME ZONE 'UTC')"""
)


def test_no_statement_keeps_state_in_the_server_session() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in SOURCES
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if SESSION_STATE.search(line) or STATEMENT_SET.search(line)
    ]
    assert found == []


def test_the_guard_recognises_what_it_forbids() -> None:
    for line in (
        "SELECT pg_advisory_lock(42)",
        "SELECT pg_try_advisory_lock(hashtext(%s))",
        'await conn.execute("LISTEN messages")',
        "CREATE TEMP TABLE batch (id bigint)",
        "PREPARE claim AS SELECT 1",
        "SELECT set_config('search_path', 'x', false)",
    ):
        assert SESSION_STATE.search(line), line
    assert STATEMENT_SET.search('await conn.execute("SET synchronous_commit = off")')
    assert STATEMENT_SET.search('_FAST = "SET LOCAL enable_sort = off; SET work_mem = 1"')
    for allowed in (
        "SELECT pg_advisory_xact_lock(8100124630752649588)",
        '"SET LOCAL synchronous_commit = off"',
        "await conn.execute(\"SET TIME ZONE 'UTC'\")",
        '"UPDATE messages SET status = 2 WHERE id = %s"',
        '"SET count = account_usage.count + excluded.count "',
    ):
        assert not SESSION_STATE.search(allowed) and not STATEMENT_SET.search(allowed), allowed
