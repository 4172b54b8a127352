"""SqliteStore: two-way SMS (storage/sql/two_way.py), with a list of phones as the JSON array
SQLite's `json_each` reads."""

from __future__ import annotations

import json

from ..sql.two_way import SqlTwoWay


class SqliteTwoWay(SqlTwoWay):
    _phones_among = "IN (SELECT value FROM json_each(%s))"
    _phones_listed = staticmethod(json.dumps)
