from __future__ import annotations

import itertools

import pytest

from pilotgate.domain import codes
from pilotgate.domain.messages import ALLOWED, FINAL, IllegalMoveError, Status, move

# (1, 0): a VIBERSMS message queued again as an SMS when its Viber attempt fails.
LEGAL = {(3, 0), (3, -1), (0, 1), (0, -2), (0, -1), (1, 2), (1, -1), (1, 0)}


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


def test_catalogue_has_exact_texts_clients_compare():
    assert codes.english(111) == "Invalid phone"
    assert codes.russian(111) == "Неправильный номер телефона"
    assert codes.english(214) == "Phone is dublicated"
    assert codes.english(999) == "System error"  # an unknown code never crashes rendering
