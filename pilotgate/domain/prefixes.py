"""Longest-prefix tables of mobile networks: which network a number's range was allocated to.

Rows are `prefix,mcc,mnc,country,network` (`#` lines are comments). Two ship with PilotGate:
the HLR emulator's table (`pilotgate/data/hlr_prefixes.csv`) and the CIS countries' mobile
ranges (`pilotgate/data/cis_ranges.csv`), which name the operator of a number the Russian
numbering plan does not cover (issue 17):

    table = PrefixTable.parse("7701,401,02,KZ,Kcell\n")
    table.lookup("77011234567")  # Network(prefix="7701", mcc="401", mnc="02", ...)
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Network:
    """One row of the prefix table."""

    prefix: str
    mcc: str
    mnc: str
    country: str
    name: str


class PrefixTable:
    """Longest-prefix lookup of the network that owns a number."""

    def __init__(self, networks: list[Network]) -> None:
        self._by_prefix = {n.prefix: n for n in networks}
        self._longest = max((len(p) for p in self._by_prefix), default=0)

    @classmethod
    def parse(cls, text: str) -> PrefixTable:
        """Rows of `prefix,mcc,mnc,country,network`; `#` lines are comments. Raises
        ValueError naming the first malformed line."""
        networks = []
        for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
            if not row or row[0].startswith("#"):
                continue
            if len(row) != 5 or not all(cell.strip() for cell in row):
                raise ValueError(f"prefix table line {number}: expected 5 columns")
            prefix, mcc, mnc, country, name = (cell.strip() for cell in row)
            if not (prefix.isdigit() and mcc.isdigit() and len(mcc) == 3):
                raise ValueError(f"prefix table line {number}: bad prefix or mcc")
            if not (mnc.isdigit() and len(mnc) in (2, 3)):
                raise ValueError(f"prefix table line {number}: bad mnc")
            networks.append(Network(prefix=prefix, mcc=mcc, mnc=mnc, country=country, name=name))
        return cls(networks)

    def lookup(self, phone: str) -> Network | None:
        for length in range(min(len(phone), self._longest), 0, -1):
            found = self._by_prefix.get(phone[:length])
            if found is not None:
                return found
        return None
