"""The rules of PilotGate as an SMSC (docs/smpp.md "PilotGate as an SMSC"): what SMPP
credentials may be, and which `command_status` answers each refusal of the gateway.

SMPP 3.4 carries the system_id in at most 16 octets and the password in at most 9, both
NUL-terminated (§4.1.1): 15 and 8 characters. Both travel as plain ASCII in many clients,
so nothing else is accepted; a password of fewer than 6 characters is refused because the
lockout, not the length, is what keeps 8 characters from being guessed (docs/decisions.md).
"""

from __future__ import annotations

SYSTEM_ID_MAX = 15
PASSWORD_MIN, PASSWORD_MAX = 6, 8

# command_status values (SMPP 3.4 §5.1.3) the server answers.
ESME_ROK = 0x00
ESME_RINVMSGLEN = 0x01
ESME_RINVCMDLEN = 0x02
ESME_RINVCMDID = 0x03
ESME_RINVBNDSTS = 0x04
ESME_RALYBND = 0x05
ESME_RSYSERR = 0x08
ESME_RINVSRCADR = 0x0A
ESME_RINVDSTADR = 0x0B
ESME_RINVMSGID = 0x0C
ESME_RBINDFAIL = 0x0D
ESME_RINVPASWD = 0x0E
ESME_RCANCELFAIL = 0x11
ESME_RREPLACEFAIL = 0x13
ESME_RMSGQFUL = 0x14
ESME_RINVNUMDESTS = 0x33
ESME_RINVDLNAME = 0x34
ESME_RINVSCHED = 0x61
ESME_RINVEXPIRY = 0x62
ESME_RTHROTTLED = 0x58
ESME_RX_T_APPN = 0x64
ESME_RX_P_APPN = 0x65
ESME_RX_R_APPN = 0x66
ESME_RINVOPTPARSTREAM = 0xC0
ESME_RMISSINGOPTPARAM = 0xC3
ESME_RINVOPTPARAMVAL = 0xC4
ESME_RUNKNOWNERR = 0xFF

#: The gateway's error codes (contract §16) as the command_status of a submit_sm_resp.
#: Codes not here are ESME_RX_P_APPN ("rejected by the application, permanent").
STATUS_OF_ERROR: dict[int, int] = {
    105: ESME_RX_R_APPN,  # blocked: the balance
    106: ESME_RX_R_APPN,  # blocked: spam
    107: ESME_RX_R_APPN,  # blocked: untrusted
    108: ESME_RINVDSTADR,  # no recipient
    110: ESME_RMSGQFUL,  # too busy now: try again
    112: ESME_RX_R_APPN,  # not enough money
    115: ESME_RINVSRCADR,  # sender name malformed
    204: ESME_RINVSRCADR,  # sender name not approved
    111: ESME_RINVDSTADR,  # not a phone number
    215: ESME_RINVDSTADR,  # a number of impossible length
    212: ESME_RX_P_APPN,  # the phone is on a stop list
    213: ESME_RINVDSTADR,  # no tariff or route serves the phone
    220: ESME_RINVMSGLEN,  # empty text
    221: ESME_RINVMSGLEN,  # text too long
    243: ESME_RX_P_APPN,  # the same text to the same phone lately (loop protection)
    250: ESME_RINVSCHED,  # schedule_delivery_time in the past or over a year ahead
    270: ESME_RINVEXPIRY,  # validity_period not 1-1440 minutes ahead
    302: ESME_RINVMSGID,  # query_sm, cancel_sm: no such message of the account
    305: ESME_RCANCELFAIL,  # cancel_sm: the message is no longer scheduled
}


def status_of(code: int) -> int:
    """The command_status that answers the gateway's error `code`."""
    return STATUS_OF_ERROR.get(code, ESME_RX_P_APPN)


def system_id(raw: str) -> str:
    """1 to 15 printable ASCII characters, no spaces; kept as typed (SMPP compares exactly)."""
    value = raw.strip()
    if not value:
        raise ValueError("empty")
    if len(value) > SYSTEM_ID_MAX:
        raise ValueError(f"longer than {SYSTEM_ID_MAX} characters")
    if not _printable(value):
        raise ValueError("only ASCII letters, digits and punctuation")
    return value


def password(raw: str) -> str:
    if not PASSWORD_MIN <= len(raw) <= PASSWORD_MAX:
        raise ValueError(f"{PASSWORD_MIN} to {PASSWORD_MAX} characters (SMPP 3.4)")
    if not _printable(raw):
        raise ValueError("only ASCII letters, digits and punctuation")
    return raw


def _printable(value: str) -> bool:
    return value.isascii() and all("!" <= c <= "~" for c in value)


#: The largest per-account SMPP limit (binds or messages per second) an operator may set.
LIMIT_MAX = 100_000


def limit(raw: str) -> int | None:
    """An account's own SMPP limit: "" for the operator's default (None), else 0 (none) to
    LIMIT_MAX."""
    value = raw.strip()
    if not value:
        return None
    if not (value.isascii() and value.isdigit()) or int(value) > LIMIT_MAX:
        raise ValueError(f"a whole number from 0 to {LIMIT_MAX}, or '' for the default")
    return int(value)
