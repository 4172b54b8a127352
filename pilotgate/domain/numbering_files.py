"""The files the numbering plan is imported from, read without I/O (issue 17).

- The regulator's registry (`ABC-3xx.csv`, `DEF-9xx.csv`, …): `;`-separated, header
  `АВС/ DEF;От;До;Емкость;Оператор;Регион` (newer files add `;ИНН`), UTF-8 or windows-1251.
- Ported numbers: `number;operator` (the operator by MNC or by name), or any columns named by
  a `--columns` mapping such as `number=1,operator=3`.
- The brand mapping (`pilotgate/data/operator_brands.csv`: `inn;legal name;brand;mnc`): legal
  names in the registry become the names customers know, keyed by INN where the file has it,
  else by the legal name; an operator not in it keeps its legal name.

A malformed line becomes a `Problem` (line number and reason); the caller skips or refuses.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from typing import Generic, TypeVar

from .numbering import PlanRange

T = TypeVar("T")
#: The registry's columns after the first (`АВС/ DEF`, in Cyrillic or Latin letters).
_HEADER = ("от", "до", "емкость", "оператор", "регион")


@dataclass(frozen=True, slots=True)
class Problem:
    line: int
    reason: str
    source: str = ""

    def __str__(self) -> str:
        where = f"{self.source} line" if self.source else "line"
        return f"{where} {self.line}: {self.reason}"


@dataclass(slots=True)
class Parsed(Generic[T]):
    rows: list[T] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def decode(data: bytes) -> str:
    """UTF-8 (with or without a BOM) when the bytes are valid UTF-8, else windows-1251: a
    Cyrillic text in windows-1251 is almost never valid UTF-8, so the test is safe."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1251")


def _key(legal: str) -> str:
    """A legal name compared without case, quotes or extra blanks."""
    return " ".join(legal.replace('"', " ").replace("«", " ").replace("»", " ").split()).casefold()


class Brands:
    """Legal name / INN → brand and MNC."""

    def __init__(self, rows: list[tuple[str, str, str, str]]) -> None:
        self._by_inn = {inn: (brand, mnc) for inn, _, brand, mnc in rows if inn}
        self._by_legal = {_key(legal): (brand, mnc) for _, legal, brand, mnc in rows if legal}
        self._by_mnc: dict[str, str] = {}
        self._by_brand: dict[str, tuple[str, str]] = {}
        for _, _, brand, mnc in rows:
            self._by_mnc.setdefault(mnc, brand)
            self._by_brand.setdefault(brand.casefold(), (brand, mnc))

    @classmethod
    def parse(cls, text: str) -> Brands:
        """Rows `inn;legal name;brand;mnc`; `#` lines are comments. ValueError names a bad
        line."""
        rows = []
        for number, row in enumerate(csv.reader(io.StringIO(text), delimiter=";"), start=1):
            if not row or row[0].startswith("#"):
                continue
            if len(row) != 4 or not row[2].strip():
                raise ValueError(f"operator brands line {number}: expected inn;legal;brand;mnc")
            inn, legal, brand, mnc = (cell.strip() for cell in row)
            rows.append((inn, legal, brand, mnc))
        return cls(rows)

    def brand(self, legal: str, inn: str = "") -> tuple[str, str]:
        """(brand, mnc) of a registry operator; an unknown one keeps its legal name."""
        return self._by_inn.get(inn) or self._by_legal.get(_key(legal)) or (legal, "")

    def carrier(self, name_or_mnc: str) -> tuple[str, str]:
        """(brand, mnc) of a ported file's operator column: an MNC, a brand or a legal name."""
        text = name_or_mnc.strip()
        if text.isdigit() and len(text) in (2, 3):
            mnc = text.zfill(2)
            return self._by_mnc.get(mnc, mnc), mnc
        return self._by_brand.get(text.casefold()) or self.brand(text)


def _header(row: list[str]) -> bool:
    names = tuple("".join(cell.split()).casefold().replace("ё", "е") for cell in row[:6])
    return len(names) == 6 and names[0].endswith("def") and names[1:] == _HEADER


def plan_rows(text: str, brands: Brands) -> Parsed[PlanRange]:
    """The ranges of one registry file (its header is required: it says which file it is)."""
    parsed: Parsed[PlanRange] = Parsed()
    reader = csv.reader(io.StringIO(text), delimiter=";")
    first = next(reader, None)
    if first is None or not _header(first):
        parsed.problems.append(Problem(1, "not a numbering plan file (header АВС/ DEF;От;До;…)"))
        return parsed
    with_inn = len(first) > 6
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < 6 or (with_inn and len(row) < 7):
            parsed.problems.append(Problem(line, f"{len(row)} columns"))
            continue
        code, low, high = row[0].strip(), row[1].strip(), row[2].strip()
        if not (len(code) == 3 and code.isdigit() and code[0] in "3489"):
            parsed.problems.append(Problem(line, f"bad ABC/DEF code {code!r}"))
            continue
        if not (low.isdigit() and high.isdigit() and len(low) <= 7 and len(high) <= 7):
            parsed.problems.append(Problem(line, "bad range bounds"))
            continue
        if int(low) > int(high):
            parsed.problems.append(Problem(line, "range ends before it starts"))
            continue
        legal, region = row[4].strip(), row[5].strip()
        inn = row[6].strip() if with_inn else ""
        if not legal:
            parsed.problems.append(Problem(line, "no operator"))
            continue
        brand, mnc = brands.brand(legal, inn)
        base = (70 + int(code[0])) * 10**9 + int(code[1:]) * 10**7
        parsed.rows.append(
            PlanRange(
                low=base + int(low),
                high=base + int(high),
                operator=brand,
                legal=legal,
                region=region,
                inn=inn,
                mnc=mnc,
            )
        )
    return parsed


def columns(spec: str) -> tuple[int, int]:
    """`number=1,operator=3` (1-based) → 0-based (number, operator) column indexes."""
    found = {"number": 0, "operator": 1}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, value = item.partition("=")
        if name.strip() not in found or not value.strip().isdigit() or int(value) < 1:
            raise ValueError(f"--columns {spec!r}: expected number=N,operator=M (from 1)")
        found[name.strip()] = int(value) - 1
    return found["number"], found["operator"]


def _national(text: str) -> int | None:
    digits = text.strip().lstrip("+")
    if not digits.isdigit():
        return None
    if len(digits) == 10:
        return int("7" + digits)
    if len(digits) == 11 and digits[0] in "78":
        return int("7" + digits[1:])
    return None


def ported_rows(
    lines: Iterable[str], brands: Brands, where: tuple[int, int] = (0, 1)
) -> Iterator[tuple[int, str, str] | Problem]:
    """`(number, brand, mnc)` per line, or a `Problem`; a first line that is not a number is
    a header. The delimiter is `;` unless the first line has none (then `,`). `lines` may be
    an open file: a list of 2·10⁷ numbers is read as it is stored, never whole."""
    items = iter(lines)
    head = next(items, "")
    reader = csv.reader(chain([head], items), delimiter=";" if ";" in head else ",")
    number_at, operator_at = where
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(number_at, operator_at):
            yield Problem(line, f"{len(row)} columns")
            continue
        number = _national(row[number_at])
        if number is None:
            if line != 1:
                yield Problem(line, f"bad number {row[number_at].strip()[:20]!r}")
            continue
        operator = row[operator_at].strip()
        if not operator:
            yield Problem(line, "no operator")
            continue
        brand, mnc = brands.carrier(operator)
        yield (number, brand, mnc)
