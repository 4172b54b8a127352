"""The base every part of the one SQL store shares: its driver."""

from __future__ import annotations

from .driver import Driver


class SqlCore:
    """Holds the driver; each dialect's store sets it when it opens."""

    _sql: Driver
