"""The numbering plan's imports on every backend (PostgreSQL's full ported load is COPY):
whole replacement in one transaction, never half-applied, and the snapshot each process
loads from the database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pilotgate.domain import audit
from pilotgate.domain.routing import Route
from pilotgate.domain.tariffs import Rate
from pilotgate.errors import InputError
from pilotgate.gateway import Gateway
from pilotgate.gateway.numbering import load
from pilotgate.operations import numbering as ops
from tests.numbering_samples import ABC, DEF_WITH_INN, DEF_WITHOUT_INN, PORTED, cp1251, utf8

NOW = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
BRANDS = ops.brands(ops.shipped_brands())


@pytest.fixture
def gateway(store) -> Gateway:
    return Gateway(store, lambda: NOW)


async def _plan(gateway: Gateway) -> ops.Imported:
    sources = [("DEF-9xx.csv", cp1251(DEF_WITHOUT_INN)), ("DEF-new.csv", utf8(DEF_WITH_INN))]
    return await ops.import_plan(gateway, audit.CLI, sources, BRANDS)


async def test_the_plan_is_imported_and_loaded_with_its_ported_numbers(gateway):
    imported = await _plan(gateway)
    assert (imported.rows, imported.skipped) == (5, 2)
    assert [str(p) for p in imported.problems] == [
        "DEF-new.csv line 4: bad range bounds",
        "DEF-new.csv line 6: range ends before it starts",
    ]
    ported = await ops.import_ported(gateway, audit.CLI, PORTED.splitlines(), BRANDS)
    assert (ported.rows, ported.skipped) == (2, 1)
    plan = await load(gateway.store)
    assert plan.version == ported.version == imported.version + 1
    assert plan.counts() == (5, 2)
    owner = plan.owner("79161234567")
    assert owner is not None and (owner.operator, owner.home_operator) == ("MegaFon", "MTS")
    entries = await gateway.store.audit_entries(None, 5)
    assert [e.action for e in entries] == ["numbering.ported", "numbering.import"]


async def test_an_import_replaces_the_whole_plan(gateway):
    await _plan(gateway)
    await ops.import_plan(gateway, audit.CLI, [("ABC-4xx.csv", utf8(ABC))], BRANDS)
    plan = await load(gateway.store)
    assert plan.counts()[0] == 1
    assert plan.owner("74951234567").operator == "Rostelecom"  # type: ignore[union-attr]
    assert plan.owner("79161234567").operator == ""  # type: ignore[union-attr]  # outside now


async def test_a_strict_import_with_a_bad_line_changes_nothing(gateway):
    await _plan(gateway)
    await ops.import_ported(gateway, audit.CLI, PORTED.splitlines(), BRANDS)
    before = await gateway.store.numbering_version()
    with pytest.raises(InputError, match="line 4"):
        await ops.import_plan(
            gateway, audit.CLI, [("DEF.csv", utf8(DEF_WITH_INN))], BRANDS, strict=True
        )
    # The bad line is the last: every good row before it was already streamed to the store.
    lines = ["9030111111;MTS", "9030222222;MTS", "9030333333;?;", "bad;MTS"]
    with pytest.raises(InputError, match="line 4"):
        await ops.import_ported(gateway, audit.CLI, lines, BRANDS, strict=True)
    assert await gateway.store.numbering_version() == before
    plan = await load(gateway.store)
    assert plan.counts() == (5, 2)
    assert plan.owner("79030111111").operator == "Beeline"  # type: ignore[union-attr]


async def test_an_increment_adds_and_replaces_entries(gateway):
    await _plan(gateway)
    await ops.import_ported(gateway, audit.CLI, PORTED.splitlines(), BRANDS)
    lines = ["79161234567;MTS", "79030234567;Tele2"]  # a return home, and a new port
    await ops.import_ported(gateway, audit.CLI, lines, BRANDS, increment=True)
    plan = await load(gateway.store)
    assert plan.counts() == (5, 3)
    assert not plan.owner("79161234567").ported  # type: ignore[union-attr]
    assert plan.owner("79030234567").operator == "Tele2"  # type: ignore[union-attr]
    assert plan.owner("79087964781").operator == "Beeline"  # type: ignore[union-attr]


async def test_a_full_ported_load_replaces_the_list(gateway):
    await _plan(gateway)
    await ops.import_ported(gateway, audit.CLI, PORTED.splitlines(), BRANDS)
    await ops.import_ported(gateway, audit.CLI, ["9030234567;20"], BRANDS)
    plan = await load(gateway.store)
    assert plan.counts() == (5, 1)
    assert plan.owner("79030234567").operator == "Tele2"  # type: ignore[union-attr]
    assert not plan.owner("79161234567").ported  # type: ignore[union-attr]


async def test_lookup_reads_the_store_directly(gateway):
    assert await ops.lookup(gateway, "79161234567") == (None, 0)
    await _plan(gateway)
    await ops.import_ported(gateway, audit.CLI, PORTED.splitlines(), BRANDS)
    owner, version = await ops.lookup(gateway, "79161234567")
    assert version == 2 and owner is not None and owner.home_operator == "MTS"
    outside, _ = await ops.lookup(gateway, "79209999999")
    assert outside is not None and outside.operator == ""


async def test_routes_and_tariff_rows_may_name_an_operator(store):
    await store.save_route(Route(prefix="7", channel="sms", connectors=("a",)))
    await store.save_route(Route(prefix="7", channel="sms", connectors=("b",), operator="MTS"))
    assert [(r.connectors, r.operator) for r in await store.routes()] == [
        (("a",), ""),
        (("b",), "MTS"),
    ]
    assert await store.remove_route("7", "sms", "MTS")
    assert [r.operator for r in await store.routes()] == [""]
    rows = [
        Rate(prefix="7", channel="sms", price=450, country="RU", operator="Russia"),
        Rate(prefix="7", channel="sms", price=425, country="RU", operator="MegaFon"),
    ]
    await store.replace_tariff(5, "by operator", rows)
    assert sorted(r.price for r in await store.tariff_rates(5)) == [425, 450]
