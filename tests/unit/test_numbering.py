"""The numbering plan without I/O: the regulator's files, the brand mapping, the lookup of a
number's operator (ported numbers included), and tariff rows and routes that name one."""

from __future__ import annotations

import pytest

from pilotgate.domain import numbering_files as files
from pilotgate.domain.numbering import OUTSIDE, Numbering, PlanRange
from pilotgate.domain.routing import Route, RoutingTable
from pilotgate.domain.tariffs import Rate, Tariff
from pilotgate.operations.numbering import shipped_brands
from tests.numbering_samples import (
    DEF_WITH_INN,
    DEF_WITHOUT_INN,
    PORTED,
    cp1251,
    utf8,
)

BRANDS = files.Brands.parse(shipped_brands())


def _plan(
    text: str = DEF_WITHOUT_INN + DEF_WITH_INN.split("\n", 1)[1],
) -> files.Parsed[PlanRange]:
    return files.plan_rows(text, BRANDS)


@pytest.mark.parametrize("encode", [utf8, cp1251], ids=["utf-8", "windows-1251"])
def test_both_encodings_read_the_same(encode: object) -> None:
    assert callable(encode)
    text = files.decode(encode(DEF_WITHOUT_INN))
    assert text == DEF_WITHOUT_INN
    ranges = files.plan_rows(text, BRANDS).rows
    assert [(r.low, r.high, r.operator, r.mnc) for r in ranges] == [
        (79160000000, 79169999999, "MTS", "01"),
        (79200000000, 79204999999, "MegaFon", "02"),
    ]


def test_a_header_with_inn_maps_by_inn_and_unknown_operators_keep_their_legal_name() -> None:
    parsed = files.plan_rows(DEF_WITH_INN, BRANDS)
    assert [(r.operator, r.inn) for r in parsed.rows] == [
        ("Tele2", "7743895280"),
        ('ООО "Новый Оператор"', "1650000000"),
        ("Beeline", "7713076301"),
    ]
    assert parsed.rows[0].region == "Ростовская обл."


def test_malformed_lines_are_reported_with_their_line_numbers() -> None:
    problems = files.plan_rows(DEF_WITH_INN, BRANDS).problems
    assert [p.line for p in problems] == [4, 6]
    assert "range ends before it starts" in str(problems[1])


def test_a_file_without_the_registry_header_is_refused_whole() -> None:
    parsed = files.plan_rows("916;0000000;9999999;1;MTS;Moscow\n", BRANDS)
    assert parsed.rows == [] and parsed.problems[0].line == 1


def test_a_lookup_names_operator_region_and_codes() -> None:
    plan = Numbering.build(1, _plan().rows)
    owner = plan.owner("79161234567")
    assert owner is not None
    assert (owner.country, owner.operator, owner.mcc, owner.mnc) == ("RU", "MTS", "250", "01")
    assert owner.region == "г. Москва и Московская область"
    assert owner.found_in == "range 79160000000-79169999999" and not owner.ported


def test_a_ported_number_answers_its_new_operator_and_its_home() -> None:
    ports = sorted(
        p for p in files.ported_rows(PORTED.splitlines(), BRANDS) if isinstance(p, tuple)
    )
    plan = Numbering.build(1, _plan().rows, ports)
    owner = plan.owner("79161234567")
    assert owner is not None and owner.ported
    assert (owner.operator, owner.mnc) == ("MegaFon", "02")
    assert (owner.home_operator, owner.home_mnc) == ("MTS", "01")
    beeline = plan.owner("79087964781")
    assert beeline is not None and (beeline.operator, beeline.home_operator) == ("Beeline", "Tele2")
    neighbour = plan.owner("79161234568")
    assert neighbour is not None and neighbour.operator == "MTS" and not neighbour.ported


def test_outside_every_range_and_other_countries() -> None:
    plan = Numbering.build(1, _plan().rows)
    assert plan.owner("79209999999") is OUTSIDE  # 920 ends at 4999999
    assert plan.owner("380501234567") is None  # not the Russian plan: prefix rows decide
    assert plan.owner("77012345678") is None  # +7 7xx is Kazakhstan
    assert Numbering.empty().owner("79161234567") is None  # no plan imported: as before


def test_ported_file_columns_and_bad_lines() -> None:
    rows = list(
        files.ported_rows(
            ["x,9161234567,,MTS", "y,123,,02"], BRANDS, files.columns("number=2,operator=4")
        )
    )
    assert rows[0] == (79161234567, "MTS", "01")
    assert isinstance(rows[1], files.Problem) and rows[1].line == 2
    bad = [
        p.line
        for p in files.ported_rows(PORTED.splitlines(), BRANDS)
        if isinstance(p, files.Problem)
    ]
    assert bad == [4]
    with pytest.raises(ValueError, match="--columns"):
        files.columns("phone=1")


def test_a_tariff_row_naming_the_operator_wins_over_a_longer_prefix() -> None:
    tariff = Tariff(
        1,
        [
            Rate(prefix="7", channel="sms", price=450, country="RU", operator="Russia"),
            Rate(prefix="7", channel="sms", price=425, country="RU", operator="MegaFon"),
            Rate(prefix="7916", channel="sms", price=435, country="RU", operator="MTS"),
        ],
    )
    assert tariff.rate("79161234567", "sms", "MegaFon").price == 425  # type: ignore[union-attr]
    assert tariff.rate("79161234567", "sms", "MTS").price == 435  # type: ignore[union-attr]
    assert tariff.rate("79161234567", "sms").price == 435  # type: ignore[union-attr]
    # No row of the operator: the longest prefix, and of several there the dearest.
    assert tariff.rate("79031234567", "sms", "Beeline").price == 450  # type: ignore[union-attr]


def test_a_route_naming_the_operator_wins() -> None:
    table = RoutingTable(
        [
            Route(prefix="", channel="all", connectors=("emulator",)),
            Route(prefix="7916", channel="sms", connectors=("mts",)),
            Route(prefix="7", channel="sms", connectors=("megafon",), operator="MegaFon"),
        ]
    )
    assert table.route("79161234567", "sms", "MegaFon").connectors == ("megafon",)  # type: ignore[union-attr]
    assert table.route("79161234567", "sms", "MTS").connectors == ("mts",)  # type: ignore[union-attr]
    assert table.route("79161234567", "hlr", "MegaFon").connectors == ("emulator",)  # type: ignore[union-attr]
