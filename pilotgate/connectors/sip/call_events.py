"""What a call (call.py) is made with and tells its link: the parties, and the events its
state table yields (ringing, answered, a message to send, the end with its result)."""

from __future__ import annotations

from dataclasses import dataclass

from .message import SipRequest, SipResponse


@dataclass(frozen=True, slots=True)
class Ringing:
    """180 or 183: the phone rings (or plays early media)."""


@dataclass(frozen=True, slots=True)
class Answered:
    sdp: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class Result:
    code: int  #: the INVITE's final SIP status; 408 when none came in time
    answered: bool = False
    rang: bool = False
    cancelled: bool = False  #: we cancelled it (no answer in time, or a flash call)
    remote_hangup: bool = False


@dataclass(frozen=True, slots=True)
class Ended:
    result: Result


@dataclass(frozen=True, slots=True)
class Send:
    message: SipRequest | SipResponse


Event = Ringing | Answered | Ended | Send


@dataclass(frozen=True, slots=True, kw_only=True)
class Party:
    """Where the call goes and who it comes from."""

    caller: str  #: user part of From (a flash call's code lives in it)
    callee: str  #: the phone called
    domain: str  #: host[:port] of the trunk in the URIs
    local: str  #: our host:port for Via and Contact
    transport: str = "UDP"
    username: str = ""
    password: str = ""
