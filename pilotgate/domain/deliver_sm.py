"""What PilotGate sends to a customer's receiving SMPP bind: a delivery receipt for a message
that reached its final status, or an inbound SMS, each as one deliver_sm (SMPP 3.4 §4.6.1,
receipts Appendix B). Pure: the caller gives the stored row and a sequence number.

- `receipt_wanted(registered_delivery)`: what §5.2.17's bits 0-1 ask for (stored with the
  message; the database's trigger writes a receipt only for the finals it wants).
- `STATES`: our final status (and error) → the receipt's `stat:` word and message_state.
- `encode(...)`: the whole deliver_sm PDU, receipts with esm_class 0x04, the standard text
  and the receipted_message_id / message_state (/ network_error_code) TLVs.
- `retry_after(attempts)`: the backoff after an error answer or no answer.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import datetime

from . import gsm7, smpp_pdu as p, sms_encoding as enc
from .text import Encoding, encoding_of

#: registered_delivery bits 0-1 (SMPP 3.4 §5.2.17): 0 no receipt, 1 on delivery success or
#: failure, 2 on failure only; 3 is reserved in 3.4 and "success only" in SMPP 5.0, which we
#: follow rather than refuse the submit_sm.
NONE, ANY, FAILURE, SUCCESS = 0, 1, 2, 3

ESM_RECEIPT = 0x04
TAG_RECEIPTED_ID, TAG_MESSAGE_STATE, TAG_NETWORK_ERROR = 0x001E, 0x0427, 0x0423
#: message_state values (SMPP 3.4 §5.2.28).
DELIVERED, EXPIRED, DELETED, UNDELIVERABLE, UNKNOWN, REJECTED = 2, 3, 4, 5, 7, 8
#: short_message holds at most 254 octets; a longer inbound SMS goes in message_payload.
SHORT_MAX = 254
#: network_error_code's network type: 3 = GSM (§5.3.2.31); the code is our error (601...).
_GSM_NETWORK = 3

#: A failed message's error → (stat, message_state); any other failure is UNDELIV.
_FAILED: dict[int, tuple[str, int]] = {
    600: ("EXPIRED", EXPIRED),
    601: ("UNDELIV", UNDELIVERABLE),
    602: ("UNKNOWN", UNKNOWN),
    603: ("REJECTD", REJECTED),
    604: ("DELETED", DELETED),
}


def receipt_wanted(registered_delivery: int) -> int:
    """The receipt a submit_sm asks for (bits 2-4, the SME acknowledgements and the
    intermediate notification, are not served)."""
    return registered_delivery & 0x03


def state_of(status: int, error: int) -> tuple[str, int]:
    """Our final status → the receipt's (stat, message_state): 2 → DELIVRD; -1 by its error
    (600 EXPIRED, 601 UNDELIV, 602 UNKNOWN, 603 REJECTD, 604 DELETED, else UNDELIV);
    -2 (never handed to an operator) → REJECTD."""
    if status == 2:
        return "DELIVRD", DELIVERED
    if status == -2:
        return "REJECTD", REJECTED
    return _FAILED.get(error, ("UNDELIV", UNDELIVERABLE))


@dataclass(frozen=True, slots=True, kw_only=True)
class Owed:
    """One deliver_sm owed to an account (a row of `smpp_deliveries`)."""

    id: int
    account_id: int
    kind: str  #: 'receipt' or 'inbound'
    ref: int  #: the message's server_id, or the inbound SMS's id
    source: str
    destination: str
    text: str
    status: int
    error: int
    submitted: datetime
    done: datetime
    attempts: int


def receipt_text(owed: Owed) -> str:
    """`id:… sub:001 dlvrd:001 submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:… err:…
    text:…` (Appendix B); the text's first 20 characters, non-ASCII ones as '?', so that
    every parser of this format reads it whatever alphabet it assumes."""
    stat, _ = state_of(owed.status, owed.error)
    delivered = "001" if owed.status == 2 else "000"
    text = "".join(c if " " <= c <= "~" else "?" for c in owed.text[:20])
    return (
        f"id:{owed.ref} sub:001 dlvrd:{delivered} "
        f"submit date:{owed.submitted:%y%m%d%H%M} done date:{owed.done:%y%m%d%H%M} "
        f"stat:{stat} err:{owed.error % 1000:03d} text:{text}"
    )


def encode(owed: Owed, sequence: int) -> bytes:
    """The deliver_sm PDU for `owed`."""
    if owed.kind == "receipt":
        _, state = state_of(owed.status, owed.error)
        tlvs = [
            (TAG_RECEIPTED_ID, p.cstring(str(owed.ref))),
            (TAG_MESSAGE_STATE, bytes([state])),
        ]
        if owed.error:
            tlvs.append((TAG_NETWORK_ERROR, struct.pack(">BH", _GSM_NETWORK, owed.error)))
        body = _body(owed, ESM_RECEIPT, 0x00, receipt_text(owed).encode("ascii"), tlvs)
    else:
        gsm = encoding_of(owed.text) is Encoding.GSM7
        coding = enc.GSM if gsm else enc.UCS2
        data = gsm7.gsm_encode(owed.text) if gsm else owed.text.encode("utf-16-be")
        payload = [(enc.TAG_PAYLOAD, data)] if len(data) > SHORT_MAX else []
        body = _body(owed, 0x00, coding, b"" if payload else data, payload)
    return p.pdu(p.DELIVER_SM, sequence, body)


def _body(
    owed: Owed, esm_class: int, coding: int, short: bytes, tlvs: list[tuple[int, bytes]]
) -> bytes:
    # The SMS comes from the phone (international, ISDN) to the sender or number it was
    # addressed to: alphanumeric senders as TON 5 NPI 0.
    alpha = not owed.destination.lstrip("+").isdigit()
    head = (
        p.cstring("")  # service_type
        + bytes([1, 1])
        + p.cstring(owed.source)
        + bytes([5, 0] if alpha else [1, 1])
        + p.cstring(owed.destination)
        # esm_class, protocol_id, priority_flag, schedule and validity (empty),
        # registered_delivery, replace_if_present, data_coding, sm_default_msg_id, sm_length
        + bytes([esm_class, 0, 0, 0, 0, 0, 0, coding, 0, len(short)])
    )
    return head + short + b"".join(struct.pack(">HH", t, len(v)) + v for t, v in tlvs)


def retry_after(attempts: int, *, base: float = 2.0, cap: float = 300.0) -> float:
    """Seconds before a deliver_sm answered with an error (or not at all) goes again:
    2, 4, 8… up to 5 minutes, so a client that refuses one is not flooded with it."""
    return float(min(cap, base * 2 ** min(attempts, 16)))
