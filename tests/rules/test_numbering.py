"""The numbering plan in a send (issue 17): the operator it names picks the tariff row and the
route, ported numbers included; the answer's `country` and `operator` are the plan's; a
number outside every range is 111 (contract §2); the HLR emulator answers from the plan."""

from __future__ import annotations

from pilotgate.connectors.hlr import HlrAnswers, HlrConnector
from pilotgate.domain import audit
from pilotgate.domain.routing import Route
from pilotgate.domain.tariffs import Rate
from pilotgate.gateway.numbering import cis_ranges, load
from pilotgate.operations import numbering as ops
from tests.numbering_samples import DEF_WITH_INN, DEF_WITHOUT_INN, PORTED, cp1251, utf8

from .support import Rig

BRANDS = ops.brands(ops.shipped_brands())
#: MTS's range, ported to MegaFon (PORTED).
PORTED_TO_MEGAFON = "79161234567"
MTS = "79161234568"


async def _import(rig: Rig) -> None:
    sources = [("DEF-9xx.csv", cp1251(DEF_WITHOUT_INN)), ("DEF-new.csv", utf8(DEF_WITH_INN))]
    await ops.import_plan(rig.gateway, audit.CLI, sources, BRANDS)
    await ops.import_ported(rig.gateway, audit.CLI, PORTED.splitlines(), BRANDS)


async def test_a_ported_number_goes_to_its_new_operators_link_at_its_price(rig: Rig) -> None:
    tariff = await rig.store.tariff_rates(1)
    megafon = Rate(prefix="7", channel="sms", price=425, country="RU", operator="MegaFon")
    await rig.store.replace_tariff(1, "default", [*tariff, megafon])
    await rig.store.save_connector("megafon", "emulator", "{}", 0)
    await rig.store.save_route(
        Route(prefix="7", channel="sms", connectors=("megafon",), operator="MegaFon")
    )
    before = await rig.send("Hello", f"{PORTED_TO_MEGAFON},{MTS}")
    assert [(d.operator, d.price, d.route) for _, d in before.items] == [
        ("MTS", 435, "emulator"),  # no plan yet: the prefix rows of 7916
        ("MTS", 435, "emulator"),
    ]
    await _import(rig)
    after = await rig.send("Hello", f"{PORTED_TO_MEGAFON},{MTS}")
    assert [(d.country, d.operator, d.price, d.route) for _, d in after.items] == [
        ("RU", "MegaFon", 425, "megafon"),
        ("RU", "MTS", 435, "emulator"),
    ]


async def test_a_number_outside_every_range_is_111(rig: Rig) -> None:
    await _import(rig)
    assert await rig.refused("Hello", "79209999999") == 111
    # Other countries keep the prefix rows.
    assert (await rig.send("Hello", "380501234567")).cost == 590


async def test_the_hlr_emulator_answers_from_the_plan(rig: Rig) -> None:
    await _import(rig)
    checks = HlrAnswers(delay=1.0)
    checks.plan = rig.gateway.numbering.fresh
    rig.connectors["emulator"] = HlrConnector("emulator", checks)
    result = await rig.send("HLR", f"{PORTED_TO_MEGAFON},{MTS}")
    await rig.rounds(3)
    ported, home = [(await rig.message(server_id)).details for server_id, _ in result.items]
    assert (ported["mcc"], ported["mnc"], ported["cn"], ported["net"]) == (
        "250",
        "02",
        "RU",
        "MegaFon",
    )
    assert (ported["rcn"], ported["rnet"]) == ("RU", "MTS")
    assert (home["mnc"], home["net"], home.get("rnet", "")) == ("01", "MTS", "")


async def test_a_new_import_reaches_a_running_gateway(rig: Rig) -> None:
    await _import(rig)
    assert (await rig.send("Hello", PORTED_TO_MEGAFON)).items[0][1].operator == "MegaFon"
    await ops.import_ported(rig.gateway, audit.CLI, ["9161234567;MTS"], BRANDS)
    # The send that notices the new version still uses the old snapshot; the next one the new.
    assert (await rig.send("Hello", PORTED_TO_MEGAFON)).items[0][1].operator == "MegaFon"
    assert (await rig.gateway.numbering.settled()).counts() == (5, 1)
    assert (await rig.send("Hello", PORTED_TO_MEGAFON)).items[0][1].operator == "MTS"


async def test_cis_numbers_get_their_operator_from_the_shipped_ranges(rig: Rig) -> None:
    tariff = await rig.store.tariff_rates(1)
    kcell = Rate(prefix="77", channel="sms", price=500, country="KZ", operator="Kcell")
    await rig.store.replace_tariff(1, "default", [*tariff, kcell])
    result = await rig.send("Hello", "77011234567,998901234567,375291234567,77001234567")
    assert [(d.country, d.operator, d.price) for _, d in result.items] == [
        ("KZ", "Kcell", 500),  # the tariff's Kcell row
        ("UZ", "Beeline UZ", 840),  # no row names it: the country's prefix row
        ("BY", "A1", 780),
        ("KZ", "Altel", 620),
    ]
    # A range the shipped file does not name keeps the prefix-level answer, as before.
    unknown = await rig.send("Hello", "77641234567,998331234567,375171234567")
    assert [(d.country, d.operator) for _, d in unknown.items] == [
        ("KZ", "Kazakhstan"),
        ("UZ", "Uzbekistan"),
        ("BY", "Belarus"),
    ]


async def test_a_worker_starts_from_the_plan_its_supervisor_loaded(rig: Rig) -> None:
    # `serve --workers N` loads the plan before forking: the workers share its pages only
    # if they keep that snapshot instead of loading their own.
    await _import(rig)
    before_fork = await load(rig.store, cis_ranges())
    rig.gateway.numbering.adopt(before_fork)
    assert (await rig.send("Hello", PORTED_TO_MEGAFON)).items[0][1].operator == "MegaFon"
    assert await rig.gateway.numbering.settled() is before_fork
