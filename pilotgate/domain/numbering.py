"""Who serves a number: the Russian numbering plan's ranges and the ported numbers, looked up
without I/O (issue 17).

The plan assigns ranges of 11-digit numbers (`7` + ABC/DEF code + 7 digits) to operators;
about 2·10⁷ numbers have since moved to another operator. A `Numbering` is one immutable
snapshot of both, built once per plan version and shared by every lookup in the process:

    plan = Numbering.build(version=3, ranges=[PlanRange(low=79160000000, ...)], ported=...)
    plan.owner("79161234567")
    # Owner(country="RU", operator="MegaFon", mnc="02", ..., home_operator="MTS", ...)

Numbers of other countries are answered by a prefix table of their mobile ranges (the CIS
countries', `pilotgate/data/cis_ranges.csv`) the snapshot carries along: `plan.owner("77011234567")`
is `Owner(country="KZ", operator="Kcell", ..., found_in="prefix 7701")`.

Why arrays and not dicts: 2·10⁷ Python ints in a dict cost ~2 GB per process; here a ported
number is a 4-byte offset inside its DEF code's `array('I')` plus a 1-byte carrier index
(5 bytes each, ~100 MB at full size), and a lookup is one `bisect` over that code's block.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field

from .prefixes import PrefixTable

#: The country the plan describes, and its mobile country code.
COUNTRY, MCC = "RU", "250"
#: A plan number is `7` + 10 digits; its block in the ported arrays is its first 4 digits.
_BLOCK = 10**7
_LOWEST, _HIGHEST = 7 * 10**10, 8 * 10**10 - 1


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanRange:
    """One row of the plan: numbers `low..high` (international, both included)."""

    low: int
    high: int
    operator: str  # the brand customers know (or the legal name when no brand is mapped)
    legal: str = ""
    region: str = ""
    inn: str = ""
    mnc: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Owner:
    """What the gateway believes about one number, and why (`found_in`)."""

    country: str
    operator: str
    mcc: str = ""
    mnc: str = ""
    region: str = ""
    #: "range 79160000000-79169999999", "ported", or "prefix 7916" (another country's table).
    found_in: str = ""
    #: For a ported number: the operator its range belongs to.
    home_operator: str = ""
    home_mnc: str = ""

    @property
    def ported(self) -> bool:
        return bool(self.home_operator)


#: Not in any range although the plan covers the number's country (contract §2: 111).
OUTSIDE = Owner(country=COUNTRY, operator="", found_in="outside every range")


def plan_number(phone: str) -> int | None:
    """`phone` as a plan number (an int), or None when the plan does not cover it: Russian
    numbers are `7` then a code starting 3, 4, 8 or 9 (`76`, `77` are Kazakhstan's)."""
    if len(phone) == 11 and phone[0] == "7" and phone[1] in "3489" and phone.isdigit():
        return int(phone)
    return None


class Numbering:
    """An immutable snapshot of the plan and the ported numbers of one version."""

    def __init__(
        self,
        version: int,
        carriers: list[tuple[str, str]],
        tables: _Tables,
        abroad: PrefixTable | None = None,
    ) -> None:
        self.version = version
        self._carriers = carriers  # (operator, mnc) by index, shared by ranges and ports
        self._t = tables
        #: Other countries' mobile ranges; shipped data, the same for every version.
        self.abroad = abroad or PrefixTable([])

    @classmethod
    def build(
        cls,
        version: int,
        ranges: Iterable[PlanRange],
        ported: Iterable[tuple[int, str, str]] = (),
        abroad: PrefixTable | None = None,
    ) -> Numbering:
        """From plan rows (any order) and `(number, operator, mnc)` ports in ascending number
        order (the store reads them so; a port out of order raises ValueError)."""
        builder = Builder(ranges)
        builder.add_ports(ported)
        return builder.finish(version, abroad)

    @classmethod
    def empty(cls, abroad: PrefixTable | None = None) -> Numbering:
        return cls.build(0, (), abroad=abroad)

    @property
    def loaded(self) -> bool:
        """Whether a plan was imported at all (without one, prefix tables decide)."""
        return bool(self._t.lows)

    def counts(self) -> tuple[int, int]:
        """(ranges, ported numbers)."""
        return len(self._t.lows), sum(len(block[0]) for block in self._t.ported.values())

    def nbytes(self) -> int:
        """The arrays' size in bytes (the bulk of the snapshot's memory)."""
        t = self._t
        arrays = [t.lows, t.highs, t.owners, t.regions, t.legals]
        arrays += [a for block in t.ported.values() for a in block]
        return sum(a.itemsize * len(a) for a in arrays)

    def range_of(self, number: int) -> PlanRange | None:
        t = self._t
        at = bisect_right(t.lows, number) - 1
        if at < 0 or t.highs[at] < number:
            return None
        operator, mnc = self._carriers[t.owners[at]]
        legal, inn = t.names[t.legals[at]]
        return PlanRange(
            low=t.lows[at],
            high=t.highs[at],
            operator=operator,
            mnc=mnc,
            legal=legal,
            inn=inn,
            region=t.texts[t.regions[at]],
        )

    def ported_to(self, number: int) -> tuple[str, str] | None:
        """(operator, mnc) now serving a ported number, or None."""
        block = self._t.ported.get(number // _BLOCK)
        if block is None:
            return None
        offsets, owners = block
        offset = number % _BLOCK
        at = bisect_right(offsets, offset) - 1
        if at >= 0 and offsets[at] == offset:
            return self._carriers[owners[at]]
        return None

    def owner(self, phone: str) -> Owner | None:
        """The operator serving `phone`; `OUTSIDE` for a plan number in no range; another
        country's number by its mobile range; None when neither the plan (or none was
        imported) nor a range of another country covers the number."""
        number = plan_number(phone)
        if number is None:
            return self._abroad(phone)
        if not self._t.lows or not _LOWEST <= number <= _HIGHEST:
            return None
        home = self.range_of(number)
        if home is None:
            return OUTSIDE
        where = f"range {home.low}-{home.high}"
        moved = self.ported_to(number)
        if moved is not None and moved[0] != home.operator:
            return Owner(
                country=COUNTRY,
                operator=moved[0],
                mcc=MCC,
                mnc=moved[1],
                region=home.region,
                found_in=f"ported (home {where})",
                home_operator=home.operator,
                home_mnc=home.mnc,
            )
        return Owner(
            country=COUNTRY,
            operator=home.operator,
            mcc=MCC,
            mnc=home.mnc,
            region=home.region,
            found_in=where,
        )

    def _abroad(self, phone: str) -> Owner | None:
        network = self.abroad.lookup(phone)
        if network is None:
            return None
        return Owner(
            country=network.country,
            operator=network.name,
            mcc=network.mcc,
            mnc=network.mnc,
            found_in=f"prefix {network.prefix}",
        )


@dataclass(slots=True)
class _Tables:
    """The snapshot's arrays: per range (in `low` order) its bounds, carrier, region and
    legal name as indexes into small lists of distinct values; per DEF code, the ported
    numbers' offsets and carriers."""

    lows: array[int] = field(default_factory=lambda: array("q"))
    highs: array[int] = field(default_factory=lambda: array("q"))
    owners: array[int] = field(default_factory=lambda: array("H"))
    regions: array[int] = field(default_factory=lambda: array("H"))
    legals: array[int] = field(default_factory=lambda: array("H"))
    texts: list[str] = field(default_factory=list)
    names: list[tuple[str, str]] = field(default_factory=list)
    ported: dict[int, tuple[array[int], array[int]]] = field(default_factory=dict)


class Builder:
    """A snapshot built piecemeal: a process loading 2·10⁷ ports page by page never holds
    them as Python objects, only in the arrays (the same for the 10⁵ ranges)."""

    def __init__(self, ranges: Iterable[PlanRange]) -> None:
        self._carriers: list[tuple[str, str]] = []
        self._index: dict[tuple[str, str], int] = {}
        self._t = t = _Tables()
        texts: dict[str, int] = {}
        names: dict[tuple[str, str], int] = {}
        for row in sorted(ranges, key=lambda r: r.low):
            t.lows.append(row.low)
            t.highs.append(row.high)
            t.owners.append(self._carrier(row.operator, row.mnc))
            t.regions.append(texts.setdefault(row.region, len(texts)))
            t.legals.append(names.setdefault((row.legal, row.inn), len(names)))
        t.texts, t.names = list(texts), list(names)
        self._last = -1

    def _carrier(self, operator: str, mnc: str) -> int:
        key = (operator, mnc)
        found = self._index.get(key)
        if found is None:
            found = self._index[key] = len(self._carriers)
            self._carriers.append(key)
            if found > 255:
                raise ValueError("more than 256 distinct operators")
        return found

    def add_ports(self, ported: Iterable[tuple[int, str, str]]) -> None:
        blocks = self._t.ported
        for number, operator, mnc in ported:
            if number <= self._last:
                raise ValueError(f"ported numbers out of order at {number}")
            self._last = number
            block = blocks.get(number // _BLOCK)
            if block is None:
                block = blocks[number // _BLOCK] = (array("I"), array("B"))
            block[0].append(number % _BLOCK)
            block[1].append(self._carrier(operator, mnc))

    def finish(self, version: int, abroad: PrefixTable | None = None) -> Numbering:
        return Numbering(version, self._carriers, self._t, abroad)
