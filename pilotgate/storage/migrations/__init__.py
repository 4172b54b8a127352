"""The schema's migrations, each written once (NNNN_name.sql here) and rendered per dialect.

A migration's text is SQL that both databases take, with two devices where they differ:

- a token `{name}` stands for a spelling that differs, a type or a literal (`TOKENS`);
- lines between a `-- sqlite:` or `-- postgres:` line and the next `-- end` line are that
  dialect's alone (triggers, plpgsql functions: statements that really differ). A block may
  switch dialect with the other marker before its `-- end`.

`render` is a pure function of the text; a token or marker it does not know raises, so a
typo fails the first upgrade (and the unit tests) instead of reaching a database.
"""

from __future__ import annotations

import re

DIALECTS = ("sqlite", "postgres")

#: What each token is in each dialect. SQLite stores integers of any size in INTEGER, times
#: as unix microseconds (UTC) and booleans as 0/1; an INTEGER PRIMARY KEY is its rowid, so
#: `{serial}` needs no sequence there.
TOKENS: dict[str, dict[str, str]] = {
    "serial": {"sqlite": "INTEGER", "postgres": "bigserial"},
    "bigint": {"sqlite": "INTEGER", "postgres": "bigint"},
    "smallint": {"sqlite": "INTEGER", "postgres": "smallint"},
    "time": {"sqlite": "INTEGER", "postgres": "timestamptz"},
    "bool": {"sqlite": "INTEGER", "postgres": "boolean"},
    "true": {"sqlite": "1", "postgres": "true"},
    "false": {"sqlite": "0", "postgres": "false"},
    "blob": {"sqlite": "BLOB", "postgres": "bytea"},
    # An index on an existing table, built without blocking its writers (docs/upgrades.md):
    # such a migration holds only `CREATE INDEX {concurrently} IF NOT EXISTS` statements and
    # runs outside a transaction on PostgreSQL.
    "concurrently": {"sqlite": "", "postgres": "CONCURRENTLY"},
}

# A word in braces; `'{}'` (an empty JSON object as a default) is no token.
_TOKEN = re.compile(r"\{(\w+)\}")
# A comment line of one lowercase word and a colon opens a block: `-- sqlite:`.
_MARKER = re.compile(r"--\s*([a-z]+):|--\s*end")


def render(script: str, dialect: str) -> str:
    """`script` as `dialect` runs it: tokens replaced, other dialects' blocks left out."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}")
    kept: list[str] = []
    block: str | None = None  # the dialect of the open block
    for number, line in enumerate(script.splitlines(keepends=True), start=1):
        marker = _MARKER.fullmatch(line.strip())
        if marker is None:
            # Every line's tokens are checked, those of the other dialect's blocks too.
            for name in _TOKEN.findall(line):
                if name not in TOKENS:
                    raise ValueError(f"line {number}: unknown token {{{name}}}")
            if block in (None, dialect):
                kept.append(_TOKEN.sub(lambda found: TOKENS[found[1]][dialect], line))
        elif marker[1] is None:
            if block is None:
                raise ValueError(f"line {number}: '-- end' outside a dialect block")
            block = None
        elif marker[1] in DIALECTS:
            block = marker[1]
        else:
            raise ValueError(f"line {number}: unknown dialect block {marker[1]!r}")
    if block is not None:
        raise ValueError(f"the -- {block}: block is not closed by '-- end'")
    return "".join(kept)
