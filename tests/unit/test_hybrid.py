"""The hybrid Viber plan (domain/hybrid.py): stored and read back, and the ledger row the
fallback writes."""

from __future__ import annotations

import pytest

from pilotgate.domain import hybrid

PLAN = hybrid.Fallback(sender="МАГАЗИН", parts=2, price=790, route="smsc1,emulator")


def test_a_plan_reads_back_as_stored():
    assert hybrid.decode(hybrid.encode(PLAN)) == PLAN
    assert hybrid.encode(None) == "" and hybrid.decode("") is None


@pytest.mark.parametrize("stored", ["{", "[]", '{"sender": "X"}', '{"sender":"X","parts":"two",'
                                    '"price":1,"route":""}'])  # fmt: skip
def test_an_unreadable_plan_is_no_plan(stored):
    assert hybrid.decode(stored) is None


@pytest.mark.parametrize(
    ("viber", "sms", "entry"),
    [(190, 395, (-205, "send")), (500, 395, (105, "refund")), (395, 395, None)],
)
def test_the_difference_is_debited_or_credited(viber, sms, entry):
    plan = hybrid.Fallback(sender="S", parts=1, price=sms, route="")
    assert hybrid.ledger_entry(viber, plan) == entry
