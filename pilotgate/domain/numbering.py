"""Who serves a number: the Russian numbering plan's ranges and the ported numbers, looked up
without I/O (issue 17).

The plan assigns ranges of 11-digit numbers (`7` + ABC/DEF code + 7 digits) to operators;
about 2·10⁷ numbers have since moved to another operator. A `Numbering` is one immutable
snapshot of both, built once per plan version and shared by every lookup in the process:

    plan = Numbering.build(version=3, ranges=[PlanRange(low=79160000000, ...)], ported=...)
    plan.owner("79161234567")
    # Owner(country="RU", operator="MegaFon", mnc="02", ..., home_operator="MTS", ...)

Why arrays and not dicts: 2·10⁷ Python ints in a dict cost ~2 GB per process; here a ported
number is a 4-byte offset inside its DEF code's `array('I')` plus a 1-byte carrier index
(5 bytes each, ~100 MB at full size), and a lookup is one `bisect` over that code's block.
Arrays hold no per-element objects, so processes forked after the load share their pages.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass

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
        ranges: tuple[array[int], array[int], array[int], list[PlanRange]],
        ported: dict[int, tuple[array[int], array[int]]],
    ) -> None:
        self.version = version
        self._carriers = carriers  # (operator, mnc) by index, shared by ranges and ports
        self._lows, self._highs, self._range_carrier, self._rows = ranges
        self._ported = ported

    @classmethod
    def build(
        cls,
        version: int,
        ranges: Iterable[PlanRange],
        ported: Iterable[tuple[int, str, str]] = (),
    ) -> Numbering:
        """From plan rows (any order) and `(number, operator, mnc)` ports in ascending number
        order (the store reads them so; a port out of order raises ValueError)."""
        carriers: list[tuple[str, str]] = []
        index: dict[tuple[str, str], int] = {}

        def carrier(operator: str, mnc: str) -> int:
            key = (operator, mnc)
            if key not in index:
                index[key] = len(carriers)
                carriers.append(key)
            return index[key]

        rows = sorted(ranges, key=lambda r: r.low)
        lows, highs, owners = array("q"), array("q"), array("H")
        for row in rows:
            lows.append(row.low)
            highs.append(row.high)
            owners.append(carrier(row.operator, row.mnc))
        blocks: dict[int, tuple[array[int], array[int]]] = {}
        last = -1
        for number, operator, mnc in ported:
            if number <= last:
                raise ValueError(f"ported numbers out of order at {number}")
            last = number
            block = blocks.get(number // _BLOCK)
            if block is None:
                block = blocks[number // _BLOCK] = (array("I"), array("B"))
            block[0].append(number % _BLOCK)
            block[1].append(carrier(operator, mnc))
        if len(carriers) > 255:
            raise ValueError("more than 255 distinct operators")
        return cls(version, carriers, (lows, highs, owners, rows), blocks)

    @classmethod
    def empty(cls) -> Numbering:
        return cls.build(0, ())

    @property
    def loaded(self) -> bool:
        """Whether a plan was imported at all (without one, prefix tables decide)."""
        return bool(self._lows)

    def counts(self) -> tuple[int, int]:
        """(ranges, ported numbers)."""
        return len(self._lows), sum(len(block[0]) for block in self._ported.values())

    def nbytes(self) -> int:
        """The arrays' size in bytes (the bulk of the snapshot's memory)."""
        arrays = [self._lows, self._highs, self._range_carrier]
        arrays += [a for block in self._ported.values() for a in block]
        return sum(a.itemsize * len(a) for a in arrays)

    def range_of(self, number: int) -> PlanRange | None:
        at = bisect_right(self._lows, number) - 1
        if at >= 0 and self._highs[at] >= number:
            return self._rows[at]
        return None

    def ported_to(self, number: int) -> tuple[str, str] | None:
        """(operator, mnc) now serving a ported number, or None."""
        block = self._ported.get(number // _BLOCK)
        if block is None:
            return None
        offsets, owners = block
        offset = number % _BLOCK
        at = bisect_right(offsets, offset) - 1
        if at >= 0 and offsets[at] == offset:
            return self._carriers[owners[at]]
        return None

    def owner(self, phone: str) -> Owner | None:
        """The operator serving `phone`; `OUTSIDE` for a plan number in no range; None when
        the plan does not cover the number (or none was imported)."""
        number = plan_number(phone)
        if number is None or not self._lows or not _LOWEST <= number <= _HIGHEST:
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
