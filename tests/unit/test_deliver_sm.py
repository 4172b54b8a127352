"""The deliver_sm PilotGate sends to customers' receiving binds, read back by an independent
codec (smpp34's) and by our own link's receipt parser: what registered_delivery asks for,
our statuses as stat/message_state, the receipt's text and TLVs, inbound texts, backoff."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import smpp34

from pilotgate.domain import deliver_sm, receipts
from pilotgate.domain.deliver_sm import Owed
from pilotgate.domain.messages import Status

SUBMITTED = datetime(2026, 12, 6, 1, 2, 3, tzinfo=UTC)
DONE = datetime(2026, 12, 6, 1, 4, 5, tzinfo=UTC)


def _owed(**changes) -> Owed:
    fields: dict[str, Any] = {
        "id": 1,
        "account_id": 7,
        "kind": "receipt",
        "ref": 10042,
        "source": "79087964781",
        "destination": "INFORM",
        "text": "Ваш код 4711, hello world again",
        "status": 2,
        "error": 0,
        "submitted": SUBMITTED,
        "done": DONE,
        "attempts": 0,
    }
    fields.update(changes)
    return Owed(**fields)


@pytest.mark.parametrize(
    ("registered_delivery", "wanted"),
    [(0x00, 0), (0x01, 1), (0x02, 2), (0x03, 3), (0x11, 1), (0x1E, 2), (0x04, 0)],
)
def test_only_bits_0_and_1_choose_the_receipt(registered_delivery, wanted):
    assert deliver_sm.receipt_wanted(registered_delivery) == wanted


@pytest.mark.parametrize(
    ("status", "error", "stat", "state", "ours"),
    [
        (2, 0, "DELIVRD", 2, Status.DELIVERED),
        (-1, 600, "EXPIRED", 3, Status.UNDELIVERED),
        (-1, 601, "UNDELIV", 5, Status.UNDELIVERED),
        (-1, 602, "UNKNOWN", 7, Status.UNDELIVERED),
        (-1, 603, "REJECTD", 8, Status.UNDELIVERED),
        (-1, 604, "DELETED", 4, Status.UNDELIVERED),
        (-1, 605, "UNDELIV", 5, Status.UNDELIVERED),
        (-2, 213, "REJECTD", 8, Status.UNDELIVERED),
    ],
)
def test_a_receipt_reads_back_as_what_we_recorded(status, error, stat, state, ours):
    raw = deliver_sm.encode(_owed(status=status, error=error), 9)
    decoded = smpp34.decode(raw)
    assert isinstance(decoded, smpp34.DeliverSm)
    assert decoded.sequence_number == 9
    assert (decoded.esm_class, decoded.data_coding) == (0x04, 0)
    assert (decoded.source_addr, decoded.destination_addr) == ("79087964781", "INFORM")
    assert (decoded.dest_addr_ton, decoded.dest_addr_npi) == (5, 0)
    text = decoded.short_message.decode("ascii")
    delivered = "001" if status == 2 else "000"
    assert text == (
        f"id:10042 sub:001 dlvrd:{delivered} submit date:2612060102 done date:2612060104 "
        f"stat:{stat} err:{error:03d} text:??? ??? 4711, hello "
    )
    tlvs = {tlv.tag: tlv.value for tlv in decoded.tlvs}
    assert tlvs[0x001E] == b"10042\x00"
    assert tlvs[0x0427] == bytes([state])
    assert (0x0423 in tlvs) == (error != 0)
    # Our own link, reading it as an operator's receipt, finds the same message and end.
    parsed = receipts.parse(text, [(t.tag, t.value) for t in decoded.tlvs])
    assert parsed is not None
    assert (parsed.remote_id, parsed.stat, parsed.status) == ("10042", stat, ours)


def _decoded(owed: Owed, sequence: int) -> smpp34.DeliverSm:
    decoded = smpp34.decode(deliver_sm.encode(owed, sequence))
    assert isinstance(decoded, smpp34.DeliverSm)
    return decoded


def test_inbound_texts_choose_their_alphabet_and_a_long_one_its_payload():
    gsm = _decoded(_owed(kind="inbound", text="Yes @ 5€"), 1)
    assert (gsm.esm_class, gsm.data_coding, gsm.tlvs) == (0, 0, [])
    assert gsm.short_message == b"Yes \x00 5\x1be"
    assert (gsm.source_addr, gsm.dest_addr_ton) == ("79087964781", 5)
    ucs2 = _decoded(_owed(kind="inbound", destination="79990000001"), 2)
    assert ucs2.data_coding == 8 and ucs2.dest_addr_ton == 1
    assert ucs2.short_message.decode("utf-16-be") == "Ваш код 4711, hello world again"
    long = "Очень длинный ответ " * 10  # 200 characters, 400 octets
    payload = _decoded(_owed(kind="inbound", text=long), 3)
    assert payload.short_message == b""
    [tlv] = payload.tlvs
    assert (tlv.tag, tlv.value.decode("utf-16-be")) == (0x0424, long)


def test_a_refused_deliver_sm_waits_longer_each_time_up_to_five_minutes():
    assert [deliver_sm.retry_after(n) for n in range(4)] == [2.0, 4.0, 8.0, 16.0]
    assert deliver_sm.retry_after(50) == 300.0
