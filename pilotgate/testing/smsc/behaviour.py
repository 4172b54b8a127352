"""How the simulated SMSC (server.py) behaves, settable at any time: happy (receipts after
`receipt_delay`), throttling / queue_full (every third submit_sm answered ESME_RTHROTTLED /
ESME_RMSGQFUL), no_resp (submit_sm never answered), generic_nack (every submit_sm nacked),
unbind_mid_window / drop_tcp (the third submit_sm of a connection is answered by an unbind /
a closed socket), receipts_early (the receipt goes before the submit_sm_resp),
receipts_duplicated, receipts_never, receipts_hex_ids (ids decimal in submit_sm_resp, hex in
receipts), undeliv, expired, mo_single / mo_multipart (an MO right after each bind), mo_reply
(each accepted submit_sm answered, after its receipt, by an MO "Reply" from its destination
to its source)."""

from __future__ import annotations

import enum

ESME_RINVCMDLEN, ESME_RINVBNDSTS, ESME_RMSGQFUL, ESME_RTHROTTLED = 0x02, 0x04, 0x14, 0x58
ESME_RX_T_APPN = 0x64


class Behaviour(enum.StrEnum):
    HAPPY = "happy"
    THROTTLING = "throttling"
    QUEUE_FULL = "queue_full"
    NO_RESP = "no_resp"
    GENERIC_NACK = "generic_nack"
    UNBIND_MID_WINDOW = "unbind_mid_window"
    DROP_TCP = "drop_tcp"
    RECEIPTS_EARLY = "receipts_early"
    RECEIPTS_DUPLICATED = "receipts_duplicated"
    RECEIPTS_NEVER = "receipts_never"
    RECEIPTS_HEX_IDS = "receipts_hex_ids"
    UNDELIV = "undeliv"
    EXPIRED = "expired"
    MO_SINGLE = "mo_single"
    MO_MULTIPART = "mo_multipart"
    MO_REPLY = "mo_reply"


#: The receipt's stat and message_state of the behaviours whose messages fail.
STATES = {Behaviour.UNDELIV: ("UNDELIV", 5), Behaviour.EXPIRED: ("EXPIRED", 3)}
