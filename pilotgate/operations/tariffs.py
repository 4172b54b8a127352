"""Tariffs: replace one with the rates of a CSV file (the CLI's `tariff import`, the console's
upload), and the lists both show."""

from __future__ import annotations

from pilotgate.domain import tariff_csv
from pilotgate.domain.tariffs import Rate
from pilotgate.errors import ConfigError, InputError
from pilotgate.gateway import Gateway
from pilotgate.storage.base import TariffInfo

from . import audit

#: Longest tariff name kept.
NAME_LENGTH = 100


async def replace(gateway: Gateway, actor: str, tariff_id: int, name: str, csv_text: str) -> int:
    """Create or replace tariff `tariff_id` with the file's rates; returns how many. The
    gateway's tariff cache picks the new prices up within seconds. Raises InputError naming
    the first bad line."""
    if not 0 < tariff_id < 10**9:
        raise InputError("tariff", f"id {tariff_id}")
    try:
        rates = tariff_csv.parse(csv_text)
    except ConfigError as exc:
        raise InputError("file", str(exc)) from None
    label = name.strip()[:NAME_LENGTH] or str(tariff_id)
    await gateway.store.replace_tariff(tariff_id, label, rates)
    await audit.record(
        gateway, actor, "tariff.replace", None, f"tariff {tariff_id} {label!r}: {len(rates)} rates"
    )
    return len(rates)


async def require(gateway: Gateway, tariff_id: int) -> None:
    """InputError unless the tariff exists (an account on a missing tariff could not send)."""
    if not any(t.id == tariff_id for t in await gateway.store.tariffs()):
        raise InputError("tariff", f"no tariff {tariff_id}")


# queries -------------------------------------------------------------------------------------
async def listing(gateway: Gateway) -> list[TariffInfo]:
    return await gateway.store.tariffs()


async def find(gateway: Gateway, tariff_id: int) -> TariffInfo | None:
    return next((t for t in await gateway.store.tariffs() if t.id == tariff_id), None)


async def rates(gateway: Gateway, tariff_id: int) -> list[Rate]:
    return await gateway.store.tariff_rates(tariff_id)
