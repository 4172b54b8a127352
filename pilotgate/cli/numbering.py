"""`pilotgate numbering ...`: the Russian numbering plan and the ported numbers (issue 17)."""

from __future__ import annotations

from pathlib import Path

import click

from pilotgate import config
from pilotgate.domain import audit, numbering_files, phones
from pilotgate.gateway import Gateway
from pilotgate.operations import numbering as numbering_ops
from pilotgate.operations.numbering import Imported

from .base import main, with_gateway

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@main.group()
def numbering() -> None:
    """The numbering plan: which operator serves each number."""


def _brands(settings: config.Settings) -> numbering_files.Brands:
    # A small file read once by a one-shot command.
    path = settings.numbering_brands
    text = Path(path).read_text("utf-8") if path else numbering_ops.shipped_brands()
    return numbering_ops.brands(text)


def _report(result: Imported, what: str) -> None:
    for problem in result.problems:
        click.echo(f"skipped {problem}", err=True)
    if result.skipped > len(result.problems):
        click.echo(f"… {result.skipped - len(result.problems)} more skipped", err=True)
    click.echo(f"{result.rows} {what} imported (plan version {result.version})")


@numbering.command("import")
@click.argument("files", nargs=-1, required=True, type=_FILE)
@click.option("--strict", is_flag=True, help="Refuse the whole import if any line is malformed.")
@with_gateway
async def numbering_import(
    settings: config.Settings, gateway: Gateway, files: tuple[Path, ...], strict: bool
) -> None:
    """Replace the whole plan with the regulator's FILES (ABC-3xx.csv … DEF-9xx.csv; UTF-8 or
    windows-1251). Malformed lines are reported with their line numbers and skipped."""
    sources = [(file.name, file.read_bytes()) for file in files]
    result = await numbering_ops.import_plan(
        gateway, audit.CLI, sources, _brands(settings), strict=strict
    )
    _report(result, "ranges")


@numbering.group()
def ported() -> None:
    """Ported numbers: the operator that serves a number now."""


def _encoding(file: Path) -> str:
    with file.open("rb") as stream:
        head = stream.read(1 << 16)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut by the sample's end
            return "cp1251"
    return "utf-8-sig"


@ported.command("import")
@click.argument("file", type=_FILE)
@click.option(
    "--columns",
    default="number=1,operator=2",
    show_default=True,
    help="Which columns (from 1) hold the number and the operator (an MNC or a name).",
)
@click.option("--increment", is_flag=True, help="Add these entries (a daily increment).")
@click.option("--strict", is_flag=True, help="Refuse the whole import if any line is malformed.")
@with_gateway
async def ported_import(
    settings: config.Settings,
    gateway: Gateway,
    file: Path,
    columns: str,
    increment: bool,
    strict: bool,
) -> None:
    """Replace the ported numbers with FILE (number;operator), or add to them."""
    try:
        where = numbering_files.columns(columns)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--columns") from None
    # Streamed: a full list of 2·10⁷ lines is never held whole.
    with file.open(encoding=_encoding(file), newline="") as lines:
        result = await numbering_ops.import_ported(
            gateway,
            audit.CLI,
            lines,
            _brands(settings),
            where=where,
            increment=increment,
            strict=strict,
        )
    _report(result, "ported numbers")


@numbering.command("lookup")
@click.argument("phone")
@with_gateway
async def numbering_lookup(settings: config.Settings, gateway: Gateway, phone: str) -> None:
    """Print what the gateway believes about PHONE, and why."""
    checked = phones.check(phone)
    owner, version = await numbering_ops.lookup(gateway, checked.phone)
    click.echo(f"{checked.phone}: plan version {version}")
    if checked.error:
        click.echo(f"  invalid number: a send answers {checked.error} (contract §2)")
    elif owner is None:
        click.echo(
            f"  in no range we know: country {checked.country or '?'}, "
            "operator from the tariff's prefix rows"
        )
    elif not owner.operator:
        click.echo("  outside every range of the plan: a send answers 111 (contract §2)")
    else:
        click.echo(
            f"  operator {owner.operator} (mcc {owner.mcc}, mnc {owner.mnc or '?'}), "
            f"country {owner.country}" + (f", region {owner.region}" if owner.region else "")
        )
        click.echo(f"  why: {owner.found_in}")
        if owner.ported:
            click.echo(f"  ported from {owner.home_operator} (mnc {owner.home_mnc or '?'})")
