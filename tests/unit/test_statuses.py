from __future__ import annotations

import itertools

import pytest

from pilotgate.connectors.base import Accepted
from pilotgate.domain import codes
from pilotgate.domain.messages import (
    ALLOWED,
    ENDINGS,
    FINAL,
    INITIAL,
    IllegalMoveError,
    Status,
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
