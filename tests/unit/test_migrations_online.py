"""Migrations run while the previous release's nodes keep serving (docs/upgrades.md), so a
new migration may only add: what an older node reads and writes must keep working, and no
statement may hold a table's lock for long. The checks below read each migration after the
last release's, as PostgreSQL runs it; a statement that is safe for a reason the rules
cannot see (a table known to be small) says so on the line before it:
`-- online: <reason>`. Migrations that a release has shipped are never edited: their
digests are recorded here."""

from __future__ import annotations

import hashlib
import re
from importlib import resources

import pytest

from pilotgate.storage.migrations import render

FOLDER = resources.files("pilotgate.storage.migrations")

#: SHA-256 of each migration as release 0.2.0 shipped it. An installation has applied these;
#: editing one changes nothing there and silently forks the schema.
RELEASED = {
    "0001_core.sql": "8d1ae66492e2001cfeae958235f6ab9b5b2e5ec60636440ca5a0e2bec1f1b52e",
    "0002_callbacks.sql": "0ed295bc6a439e48fa9e04e0962d45acdee4187a502ec504758f3601a5277bc1",
    "0003_handing.sql": "fde074c5ea6f255583215c8e9779a5845c2f40b3ce76b3b319d3b2a632f8c00d",
    "0004_routing.sql": "814fcc87231d02dc55a46517f7200a768def28d296cf56ef3a300c64e766997b",
    "0005_receipts.sql": "6fa94b2fbef034b757357561f8322020d8abf987393e1d9c50c6a5860d6eddff",
    "0006_callback_order.sql": "1c552f768cca58f9bf662ce8d15c9d95ccfa3b97a546bd96f19ab51638f79925",
    "0007_lists.sql": "ac8fb971023e58fd71ada9c88d83287021fed3413babcbccb6fd47dd9730ee5b",
    "0008_checks.sql": "e39837df38c22fff3fc48f445a9977257ceb4a5b60c3234d4477bb503220f171",
    "0009_two_way.sql": "ce5f3fe04df7add40daed1d9815e8a38ab8e7747582f0314a0316b7de0364fbb",
    "0010_viber_relay_pool.sql": "4368ebc5f002b800ded193956edd15429231679a81d86301f352f602fba2f940",
    "0011_dashboard.sql": "d941edb2fe08d00d9e3c8c2c9d4f1d00147cf30392d9e06cf1bbead673e7f922",
    "0012_client_id.sql": "026483c34b43a8601e32c8334d46f032b7256936ee333bab8000e7119a85bcda",
    "0013_handover_unknown.sql": "5d6ff870bf31cd05c03290c8564f843c6cb5440d572d7c459ac53b234e36d41c",
    "0014_audit.sql": "0889848a4a64bd1ee0b72cacd6627109396d087b154f50e58e03761666fc93bc",
    "0015_numbering.sql": "11251ee2be7afbc7f38ab1491f9296a6de7b72376305f0319d49cd5bdfa34921",
    "0016_abuse.sql": "2fd688a9a5f84a2b1da3f2762e81bbaab698aa4f99ba644bddc441e5dd349809",
    "0017_smpp.sql": "1ac605b38b2916da4ff49e733114a76cf83aacc3c585e1fc1e07b1e35db4b47a",
}

_CREATED = re.compile(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+)", re.I)
_FORBIDDEN = [
    (
        re.compile(r"ALTER TABLE .*\b(DROP COLUMN|RENAME)\b", re.I | re.S),
        "drops or renames what older nodes still use: do it a release later",
    ),
    (
        re.compile(r"ALTER TABLE .*ALTER COLUMN .*\b(TYPE|SET NOT NULL)\b", re.I | re.S),
        "rewrites or scans the table under an exclusive lock",
    ),
    (
        re.compile(r"ADD COLUMN (?:(?!DEFAULT).)*\bNOT NULL\b(?:(?!DEFAULT).)*$", re.I | re.S),
        "a NOT NULL column without a default breaks older nodes' inserts",
    ),
    (
        re.compile(r"ADD CONSTRAINT (?:(?!NOT VALID).)*$", re.I | re.S),
        "validates every row under lock: add it NOT VALID, validate later",
    ),
]
_ON_EXISTING = [
    (
        re.compile(r"CREATE (?:UNIQUE )?INDEX (?!CONCURRENTLY)\w+ ON (\w+)", re.I),
        "blocks writes to the table while the index builds",
    ),
    (
        re.compile(r"^(?:UPDATE|DELETE FROM) (\w+)", re.I),
        "rewrites every row in one transaction: backfill in batches",
    ),
    (
        re.compile(r"DROP TABLE (?:IF EXISTS )?(\w+)", re.I),
        "drops what older nodes still use: do it a release later",
    ),
]


def _migrations() -> list[tuple[str, str]]:
    return sorted(
        (entry.name, entry.read_text(encoding="utf-8"))
        for entry in FOLDER.iterdir()
        if entry.name.endswith(".sql")
    )


def _statements(text: str) -> list[tuple[str, bool]]:
    """(statement without comments, whether `-- online:` precedes it); plpgsql bodies
    between $$ are kept whole."""
    found: list[tuple[str, bool]] = []
    current: list[str] = []
    excused = False
    inside_body = False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("-- online:") and not current:
            excused = True
            continue
        code = line if inside_body else re.sub(r"--.*", "", line)
        inside_body ^= code.count("$$") % 2 == 1
        current.append(code)
        if not inside_body and code.rstrip().endswith(";"):
            statement = " ".join(" ".join(current).split()).rstrip(";")
            if statement:
                found.append((statement, excused))
            current, excused = [], False
    return found


def problems(migrations: list[tuple[str, str]], released: set[str]) -> list[str]:
    """What in the migrations not in `released` an older node's traffic would trip over."""
    existing: set[str] = set()
    found = []
    for name, text in migrations:
        statements = _statements(render(text, "postgres"))
        new_tables = {m[1].lower() for s, _ in statements for m in [_CREATED.match(s)] if m}
        concurrent = [s for s, _ in statements if "CONCURRENTLY" in s.upper()]
        if concurrent and len(concurrent) < len(statements):
            found.append(f"{name}: CREATE INDEX CONCURRENTLY runs outside a transaction: alone")
        if name not in released:
            for statement, excused in statements:
                if excused or _CREATED.match(statement):
                    continue
                for pattern, why in _FORBIDDEN:
                    if pattern.search(statement):
                        found.append(f"{name}: {statement[:60]}…: {why}")
                for pattern, why in _ON_EXISTING:
                    hit = pattern.search(statement)
                    if hit and hit[1].lower() in existing and hit[1].lower() not in new_tables:
                        found.append(f"{name}: {statement[:60]}…: {why}")
        existing |= new_tables
    return found


def test_migrations_after_the_last_release_only_add() -> None:
    assert problems(_migrations(), set(RELEASED)) == []


def test_released_migrations_are_never_edited() -> None:
    shipped = {name: hashlib.sha256(text.encode()).hexdigest() for name, text in _migrations()}
    assert {name: shipped.get(name) for name in RELEASED} == RELEASED


@pytest.mark.parametrize(
    ("statement", "allowed"),
    [
        ("ALTER TABLE messages ADD COLUMN smpp_receipt {smallint};", True),
        ("ALTER TABLE messages ADD COLUMN shard {bigint} NOT NULL DEFAULT 0;", True),
        ("CREATE TABLE held (id {serial} PRIMARY KEY);\nCREATE INDEX held_id ON held(id);", True),
        ("-- online: a table of at most a few rows\nCREATE INDEX t_x ON tariffs(name);", True),
        ("ALTER TABLE messages ADD COLUMN shard {bigint} NOT NULL;", False),
        ("ALTER TABLE messages DROP COLUMN text;", False),
        ("ALTER TABLE messages RENAME COLUMN text TO body;", False),
        ("ALTER TABLE messages ALTER COLUMN text TYPE varchar(10);", False),
        ("CREATE INDEX messages_text ON messages(text);", False),
        ("UPDATE messages SET status = 0;", False),
        ("ALTER TABLE messages ADD CONSTRAINT c CHECK (status > -5);", False),
        ("ALTER TABLE messages ADD CONSTRAINT c CHECK (status > -5) NOT VALID;", True),
        ("DROP TABLE tariffs;", False),
        ("CREATE INDEX {concurrently} IF NOT EXISTS m_text ON messages(text);", True),
        (
            "CREATE INDEX {concurrently} IF NOT EXISTS m_t ON messages(text);\n"
            "ALTER TABLE messages ADD COLUMN x TEXT;",
            False,
        ),
    ],
)
def test_the_rules_tell_adding_from_breaking(statement: str, allowed: bool) -> None:
    base = [
        (
            "0001_base.sql",
            "CREATE TABLE messages (id {serial}, text TEXT, status {smallint});\n"
            "CREATE TABLE tariffs (id {serial}, name TEXT);\n",
        )
    ]
    found = problems([*base, ("0002_new.sql", statement + "\n")], {"0001_base.sql"})
    assert (found == []) is allowed, found
