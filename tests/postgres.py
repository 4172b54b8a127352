"""PostgreSQL for the tests: PILOTGATE_TEST_POSTGRES (default 127.0.0.1:5432/test).

Each user of `fresh_schema` gets its own schema, dropped afterwards, so tests never see each
other's rows and may share one database. When the server is unreachable the PostgreSQL cases
are skipped with the reason, unless PILOTGATE_REQUIRE_POSTGRES=1 (CI): then they fail rather
than pass vacuously.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import psycopg
import pytest
from psycopg import sql

POSTGRES_DSN = os.environ.get(
    "PILOTGATE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)


@contextlib.contextmanager
def fresh_schema() -> Iterator[str]:
    """A database URL whose search_path is a new, empty schema; the schema is dropped on exit."""
    try:
        admin = psycopg.connect(POSTGRES_DSN, autocommit=True, connect_timeout=5)
    except psycopg.Error as exc:
        reason = f"PostgreSQL not reachable at {POSTGRES_DSN}: {exc}".strip()
        if os.environ.get("PILOTGATE_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    schema = f"t_{uuid.uuid4().hex}"
    with admin:
        # A test that left a transaction open must fail its clean-up, not hang it.
        admin.execute("SET lock_timeout = '10s'")
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        try:
            # A URL (not key=value conninfo): `pilotgate` takes it as PILOTGATE_DATABASE_URL.
            joiner = "&" if "?" in POSTGRES_DSN else "?"
            yield f"{POSTGRES_DSN}{joiner}options={quote(f'-csearch_path={schema}')}"
        finally:
            admin.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
