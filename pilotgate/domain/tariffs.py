"""Tariffs: prefix → per-part price per channel, with the destination's country and operator.
The longest matching prefix wins (contract §5.2).

A row's operator also selects (issue 17): for a number the numbering plan says `MegaFon`
serves, the longest prefix among the rows naming `MegaFon` wins, so `7,sms,4.25,RU,MegaFon`
prices every MegaFon number, ported ones included, above `7916,sms,4.35,RU,MTS`. Without such
a row the longest prefix wins as before; several rows at that prefix (for other operators)
give the dearest, so a number of an unknown operator is never charged less than any.
"""

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
        self._by_operator: dict[tuple[str, str], dict[str, Rate]] = {}
        self._all: list[Rate] = []
        self._longest = 0
        for rate in rates:
            self._all.append(rate)
            table = self._by_channel.setdefault(rate.channel, {})
            known = table.get(rate.prefix)
            if known is None or rate.price > known.price:
                table[rate.prefix] = rate
            if rate.operator:
                key = (rate.channel, rate.operator.casefold())
                self._by_operator.setdefault(key, {})[rate.prefix] = rate
            self._longest = max(self._longest, len(rate.prefix))

    def rate(self, phone: str, channel: str, operator: str = "") -> Rate | None:
        """The rate of the longest prefix of `phone` for `channel` among the rows naming
        `operator`, else among all rows; None when none matches (error 213)."""
        if operator:
            found = self._longest_match(
                self._by_operator.get((channel, operator.casefold())), phone
            )
            if found is not None:
                return found
        return self._longest_match(self._by_channel.get(channel), phone)

    def _longest_match(self, table: dict[str, Rate] | None, phone: str) -> Rate | None:
        if not table:
            return None
        for length in range(min(len(phone), self._longest), 0, -1):
            rate = table.get(phone[:length])
            if rate is not None:
                return rate
        return None

    def rates(self) -> list[Rate]:
        return sorted(self._all, key=lambda rate: (rate.prefix, rate.channel, rate.operator))
