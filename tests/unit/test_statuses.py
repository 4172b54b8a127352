from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, datetime

import pytest

from pilotgate.connectors.base import Accepted
from pilotgate.domain import codes
from pilotgate.domain.hybrid import Fallback
from pilotgate.domain.messages import (
    ALLOWED,
    ENDINGS,
    FINAL,
    INITIAL,
    Draft,
    IllegalMoveError,
    Status,
    Template,
    addressed,
    ending,
    move,
)
from tests.contract.test_store import draft

# (1, 0): a VIBERSMS message queued again as an SMS when its Viber attempt fails.
# (3, -2): a scheduled message cancelled by its owner (604).
# (4, 0) and (4, -2): a message held as suspected SMS pumping, released or rejected.
LEGAL = {
    (3, 0), (3, -1), (3, -2), (0, 1), (0, -2), (0, -1), (1, 2), (1, -1), (1, 0), (4, 0), (4, -2)
}  # fmt: skip


@pytest.mark.parametrize(("old", "new"), list(itertools.product(Status, Status)))
def test_the_whole_transition_table(old, new):
    if (old.value, new.value) in LEGAL:
        assert move(old, new) is new
    else:
        with pytest.raises(IllegalMoveError):
            move(old, new)


def test_final_statuses_never_change():
    for status in FINAL:
        assert ALLOWED[status] == frozenset()


def test_a_handed_over_message_ends_delivered_or_not_never_by_the_fallback_step():
    assert ENDINGS == {Status.DELIVERED, Status.UNDELIVERED}
    for status in Status:
        if status in ENDINGS:
            assert ending(status) is status
        else:
            with pytest.raises(IllegalMoveError):
                ending(status)


@pytest.mark.parametrize("status", [s for s in Status if s not in ENDINGS])
def test_a_connector_cannot_answer_an_outcome_the_table_forbids(status):
    # Storage applies it later as 1 -> outcome in SQL: -2 or 0 there would skip the table.
    with pytest.raises(IllegalMoveError):
        Accepted(server_id=1, remote_id="r", outcome_status=status)
    assert Accepted(server_id=1, remote_id="r").outcome_status is None


@pytest.mark.parametrize("status", list(Status))
def test_a_message_is_stored_only_as_queued_scheduled_or_refused(status):
    if status in INITIAL:
        assert draft(status=status).status is status
    else:
        with pytest.raises(IllegalMoveError):
            draft(status=status)


def test_catalogue_has_exact_texts_clients_compare():
    assert codes.english(111) == "Invalid phone"
    assert codes.russian(111) == "Неправильный номер телефона"
    assert codes.english(214) == "Phone is dublicated"
    assert codes.english(999) == "System error"  # an unknown code never crashes rendering


def test_an_addressed_draft_has_its_template_and_its_recipient():
    """`addressed` names every Draft field: each from the template (all non-default here,
    so one dropped would show) or the recipient's own; a field added to Draft fails this
    test until the copy names it."""
    names = [f.name for f in dataclasses.fields(Draft)]
    hint = "a new Draft field: set it in domain/messages.py addressed(), then list it here"
    assert names == [
        "phone", "sender", "text", "parts", "channel", "price", "status", "error",
        "send_datetime", "ttl", "callback", "callback_method", "country", "operator", "test",
        "sender_orig", "expires_at", "route", "ping_route", "fallback", "client_id",
        "smpp_receipt",
    ], hint  # fmt: skip
    when = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    later = datetime(2030, 1, 3, tzinfo=UTC)
    template = Template(
        sender="INFORM", text="Hello", parts=2, channel="VIBER", status=Status.SCHEDULED,
        send_datetime=when, ttl=60, callback="https://example.com/cb", callback_method="post",
        test=True, expires_at=later, fallback=Fallback(sender="S", parts=1, price=3, route="r"),
        client_id="42", smpp_receipt=2,
    )  # fmt: skip
    fallback = Fallback(sender="S", parts=1, price=5, route="r2")
    assert addressed(
        template, phone="79087964781", price=395, status=Status.ACCEPTED, error=0,
        country="RU", operator="Tele2", route="smsc1,smsc2", fallback=fallback,
    ) == Draft(
        phone="79087964781", sender="INFORM", text="Hello", parts=2, channel="VIBER", price=395,
        status=Status.ACCEPTED, error=0, send_datetime=when, ttl=60,
        callback="https://example.com/cb", callback_method="post", country="RU",
        operator="Tele2", test=True, sender_orig="", expires_at=later, route="smsc1,smsc2",
        ping_route="", fallback=fallback, client_id="42", smpp_receipt=2,
    )  # fmt: skip
