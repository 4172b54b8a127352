"""How long a PostgreSQL partition's ids last (docs/retention.md): about thirty partitions
live at once whatever `retention_days`, since every statement not by id visits each one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pilotgate.storage.postgres.partitions import partition_days

NOW = datetime(2026, 12, 6, tzinfo=UTC)


def test_a_partition_holds_a_thirtieth_of_the_retention_at_least_a_day():
    days = [partition_days(NOW, NOW - timedelta(days=kept)) for kept in (1, 7, 60, 365, 3650)]
    assert days == [1, 1, 2, 12, 30]


def test_with_retention_off_a_partition_holds_thirty_days():
    assert partition_days(NOW, None) == 30  # nothing is dropped: 12 partitions a year
