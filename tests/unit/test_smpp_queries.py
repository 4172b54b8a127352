"""query_sm / cancel_sm rules (domain/smpp_queries.py): every status of ours has the
message_state a customer's system reads, and the bodies read as SMPP 3.4 lays them out."""

from __future__ import annotations

import pytest

from pilotgate.domain import smpp_pdu as p, smpp_queries as q
from pilotgate.domain.messages import ALLOWED, Status
from pilotgate.domain.replacements import repriced


@pytest.mark.parametrize(
    ("status", "error", "state"),
    [
        (Status.SCHEDULED, 0, q.ENROUTE),
        (Status.ACCEPTED, 0, q.ENROUTE),
        (Status.HANDED_OVER, 0, q.ENROUTE),
        (Status.DELIVERED, 0, q.DELIVERED),
        (Status.UNDELIVERED, 600, q.EXPIRED),
        (Status.UNDELIVERED, 601, q.UNDELIVERABLE),
        (Status.UNDELIVERED, 603, q.REJECTED),
        (Status.UNDELIVERED, 606, q.UNKNOWN),
        (Status.ERROR, 604, q.DELETED),
        (Status.ERROR, 213, q.REJECTED),
    ],
)
def test_each_status_has_its_message_state(status, error, state):
    assert q.message_state(status, error) == state


def test_a_cancel_is_a_move_the_status_table_allows():
    assert Status.ERROR in ALLOWED[Status.SCHEDULED]


def test_bodies_read_as_laid_out():
    query = p.cstring("10042") + b"\x05\x00" + p.cstring("INFORM")
    assert q.query_request(query) == q.MessageRef("10042", "INFORM")
    cancel = p.cstring("") + p.cstring("7") + b"\x05\x00" + p.cstring("A") + b"\x01\x01"
    assert q.cancel_request(cancel + p.cstring("7900")) == q.MessageRef("7", "A", "7900")
    for broken in (b"", p.cstring("1"), p.cstring("1") + b"\x05"):
        with pytest.raises(ValueError, match=r"ends early|NUL"):
            q.query_request(broken)
    with pytest.raises(ValueError, match=r"ends early|NUL"):
        q.cancel_request(cancel)  # no destination


@pytest.mark.parametrize(
    ("raw", "server_id"),
    [("10042", 10042), ("", None), ("12a", None), ("١٢", None), ("9" * 19, None)],
)
def test_only_our_decimal_ids_name_a_message(raw, server_id):
    assert q.server_id(raw) == server_id


def test_a_replace_sm_reads_as_laid_out():
    head = p.cstring("42") + b"\x05\x00" + p.cstring("INFORM")
    body = head + p.cstring("") + p.cstring("000000010000000R") + b"\x01\x00\x05Hello"
    assert q.replace_request(body) == q.ReplaceRequest(
        "42", "INFORM", "", "000000010000000R", 1, b"Hello"
    )
    for broken in (head, head + b"\x00\x00\x01\x00", head + b"\x00\x00\x01\x00\x06Hello"):
        with pytest.raises(ValueError, match=r"ends early|NUL"):
            q.replace_request(broken)


@pytest.mark.parametrize(
    ("price", "parts", "new_parts", "new_price"),
    [(395, 1, 2, 790), (790, 2, 1, 395), (0, 1, 3, 0), (1185, 3, 3, 1185), (100, 0, 2, 100)],
)
def test_a_replacement_keeps_the_rate_per_part(price, parts, new_parts, new_price):
    assert repriced(price, parts, new_parts) == new_price
