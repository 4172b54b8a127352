"""The numbering plan's use cases (issue 17): import the regulator's registry, import ported
numbers (a full list or an increment), and say what the gateway believes about one number.

An import replaces its table in one transaction: a malformed line is skipped and reported
with its line number, or (`strict`) refuses the whole import before anything is written.
Every running gateway process picks the new plan up within `tariff_cache_seconds` (each
reloads its snapshot when the plan's version moves).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources

from pilotgate.domain import numbering_files as files
from pilotgate.domain.numbering import OUTSIDE, Numbering, Owner, PlanRange, plan_number
from pilotgate.domain.numbering_files import Brands, Problem
from pilotgate.errors import InputError
from pilotgate.gateway import Gateway

from . import audit

#: Problems kept for the report (a broken file of 2·10⁷ lines must not fill memory with them).
KEPT_PROBLEMS = 100


@dataclass(slots=True)
class Imported:
    rows: int = 0
    version: int = 0
    skipped: int = 0
    problems: list[Problem] = field(default_factory=list)

    def note(self, problem: Problem) -> None:
        self.skipped += 1
        if len(self.problems) < KEPT_PROBLEMS:
            self.problems.append(problem)


def shipped_brands() -> str:
    """The shipped brand mapping (`pilotgate/data/operator_brands.csv`)."""
    return resources.files("pilotgate.data").joinpath("operator_brands.csv").read_text("utf-8")


def brands(text: str) -> Brands:
    try:
        return Brands.parse(text)
    except ValueError as exc:
        raise InputError("brands", str(exc)) from None


def _refused(problems: Sequence[Problem], skipped: int) -> InputError:
    shown = "; ".join(str(p) for p in problems[:5])
    return InputError("file", f"{skipped} malformed lines, nothing imported: {shown}")


async def import_plan(
    gateway: Gateway,
    actor: str,
    sources: Sequence[tuple[str, bytes]],
    mapping: Brands,
    *,
    strict: bool = False,
) -> Imported:
    """Replace the whole plan with the ranges of `sources` (file name, bytes)."""
    result = Imported()
    ranges: list[PlanRange] = []
    for name, data in sources:
        parsed = files.plan_rows(files.decode(data), mapping)
        ranges += parsed.rows
        for problem in parsed.problems:
            result.note(Problem(problem.line, problem.reason, name))
    ranges.sort(key=lambda r: r.low)
    kept: list[PlanRange] = []
    for item in ranges:
        if kept and item.low <= kept[-1].high:
            result.note(Problem(0, f"range {item.low}-{item.high} overlaps {kept[-1].low}"))
            continue
        kept.append(item)
    if strict and result.skipped:
        raise _refused(result.problems, result.skipped)
    if not kept:
        raise InputError("file", "no ranges to import; the plan is unchanged")
    result.rows = len(kept)
    result.version = await gateway.store.replace_plan(kept, gateway.clock())
    await audit.record(
        gateway,
        actor,
        "numbering.import",
        None,
        f"{len(kept)} ranges from {len(sources)} files, {result.skipped} lines skipped",
    )
    return result


async def import_ported(
    gateway: Gateway,
    actor: str,
    lines: Iterable[str],
    mapping: Brands,
    *,
    where: tuple[int, int] = (0, 1),
    increment: bool = False,
    strict: bool = False,
) -> Imported:
    """Replace the ported numbers with `lines` (or add them: `increment`). A strict import
    stops at the first malformed line, and its transaction is rolled back."""
    result = Imported()

    def ports() -> Iterator[tuple[int, str, str]]:
        for item in files.ported_rows(lines, mapping, where):
            if isinstance(item, Problem):
                result.note(item)
                if strict:
                    raise _refused(result.problems, result.skipped)
                continue
            result.rows += 1
            yield item

    result.version = await gateway.store.replace_ported(
        ports(), gateway.clock(), increment=increment
    )
    kind = "increment" if increment else "full list"
    await audit.record(
        gateway,
        actor,
        "numbering.ported",
        None,
        f"{kind}: {result.rows} numbers, {result.skipped} lines skipped",
    )
    return result


async def lookup(gateway: Gateway, phone: str) -> tuple[Owner | None, int]:
    """What the gateway believes about `phone` (international digits) and the plan's
    version; another country's number by its shipped mobile range; None when neither covers
    the number."""
    store = gateway.store
    version = await store.numbering_version()
    number = plan_number(phone)
    if number is None:
        return gateway.numbering.current.owner(phone), version
    home = await store.plan_range_at(number)
    if home is None:
        # A one-off command: reading the ranges to learn whether a plan exists is cheap.
        return (OUTSIDE if await store.plan_ranges() else None), version
    port = await store.ported_number(number)
    # The same rules as a send's lookup: a snapshot of just these two rows.
    return Numbering.build(version, [home], [port] if port else []).owner(phone), version
