"""Tariffs: prefix → per-part price per channel, with the destination's country and operator.
The longest matching prefix wins (contract §5.2)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Rate:
    """One tariff row."""

    prefix: str
    channel: str
    price: int  # kopecks per part (per number for hlr/ping, per call for voice)
    country: str
    operator: str


class Tariff:
    """An immutable lookup table built from a tariff's rows."""

    def __init__(self, tariff_id: int, rates: Iterable[Rate]) -> None:
        self.tariff_id = tariff_id
        self._by_channel: dict[str, dict[str, Rate]] = {}
        self._longest = 0
        for rate in rates:
            self._by_channel.setdefault(rate.channel, {})[rate.prefix] = rate
            self._longest = max(self._longest, len(rate.prefix))

    def rate(self, phone: str, channel: str) -> Rate | None:
        """The rate of the longest prefix of `phone` for `channel`, or None (error 213)."""
        table = self._by_channel.get(channel)
        if not table:
            return None
        for length in range(min(len(phone), self._longest), 0, -1):
            rate = table.get(phone[:length])
            if rate is not None:
                return rate
        return None

    def rates(self) -> list[Rate]:
        return sorted(
            (rate for table in self._by_channel.values() for rate in table.values()),
            key=lambda rate: (rate.prefix, rate.channel),
        )
