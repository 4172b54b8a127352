"""PostgresStore: two-way SMS (storage/sql/two_way.py), with a list of phones as one text
array."""

from __future__ import annotations

from ..sql.two_way import SqlTwoWay


def _array(phones: list[str]) -> list[str]:
    return phones  # psycopg sends a list as an array


class PostgresTwoWay(SqlTwoWay):
    _phones_among = "= ANY(%s::text[])"
    _phones_listed = staticmethod(_array)
