"""One outgoing call, sans-IO (h11 style): the INVITE client transaction and the dialog it
makes, as one state table. Messages in, events out; the link does the sending and the
clock (timers are its business: it calls `cancel()`, `hangup()` or `give_up()`).

    CALLING ──1xx──> PROCEEDING ──2xx──> ANSWERED ──hangup()──> ENDING ──BYE answered──> ENDED
       │                 │  └─cancel()─> CANCELLING ──487──> ENDED   (2xx: ACK + BYE ─> ENDING)
       └──────3xx-6xx────┴──────────────────────────────────> ENDED   (ACKed; 401/407: again)

Every move goes through `_move`, which refuses one the table does not allow. A final
response to the INVITE is ACKed, also when it comes again; a 2xx arriving after we gave
up is ACKed and hung up at once, so the trunk never keeps a call we forgot.
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass, field

from . import auth
from .call_events import Answered, Ended, Event, Party, Result, Ringing, Send
from .message import SipRequest, SipResponse, uri_of


class State(enum.StrEnum):
    CALLING = "calling"  #: INVITE sent, nothing heard yet
    PROCEEDING = "proceeding"  #: a provisional response (100, 180, 183) came
    CANCELLING = "cancelling"  #: CANCEL sent, waiting for the INVITE's final response
    ANSWERED = "answered"  #: 2xx came and was ACKed: media flows
    ENDING = "ending"  #: BYE sent
    ENDED = "ended"


ALLOWED: dict[State, frozenset[State]] = {
    State.CALLING: frozenset({State.CALLING, State.PROCEEDING, State.ANSWERED, State.ENDED}),
    State.PROCEEDING: frozenset(
        {State.CALLING, State.PROCEEDING, State.CANCELLING, State.ANSWERED, State.ENDED}
    ),
    State.CANCELLING: frozenset({State.ENDING, State.ENDED}),
    State.ANSWERED: frozenset({State.ENDING, State.ENDED}),
    State.ENDING: frozenset({State.ENDED}),
    State.ENDED: frozenset(),
}


class IllegalTransition(RuntimeError):
    """A move the state table does not allow: a bug in the caller, never the peer's doing."""


@dataclass(slots=True)
class Call:
    party: Party
    sdp: bytes
    call_id: str = field(default_factory=lambda: secrets.token_hex(12))
    state: State = State.CALLING
    #: The last request that still waits for a response (the link retransmits it on UDP).
    outstanding: SipRequest | None = None
    _tag: str = field(default_factory=lambda: secrets.token_hex(6))
    _cseq: int = 1
    _invite: SipRequest | None = None
    _remote_to: str = ""
    _target: str = ""
    _routes: list[str] = field(default_factory=list)
    _authorized: bool = False
    _ack: SipRequest | None = None
    _rang: bool = False
    _answered: bool = False
    _result: Result | None = None
    _extra: list[tuple[str, str]] = field(default_factory=list)  #: credentials, once asked

    # -- what we do -------------------------------------------------------------------------

    def invite(self) -> SipRequest:
        """The first INVITE (and the one sent again with credentials after 401/407)."""
        p = self.party
        request = self._request("INVITE", f"sip:{p.callee}@{p.domain}", self._cseq)
        request.headers += [
            ("To", f"<sip:{p.callee}@{p.domain}>"),
            ("Contact", f"<sip:{p.caller}@{p.local}{self._transport_param()}>"),
            ("Content-Type", "application/sdp"),
        ]
        request.body = self.sdp
        self._invite = self.outstanding = request
        return request

    def cancel(self) -> list[Event]:
        """Stop ringing: CANCEL once a provisional response came (RFC 3261 §9.1); before
        one, the call is given up (a late 2xx is then ACKed and hung up)."""
        if self.state is State.PROCEEDING and self._invite is not None:
            cancel = SipRequest(method="CANCEL", uri=self._invite.uri)
            cancel.headers = [
                (n, v) for n, v in self._invite.headers if n in ("Via", "From", "To", "Call-ID")
            ]
            cancel.headers += [("CSeq", f"{self._cseq} CANCEL"), ("Max-Forwards", "70")]
            self._move(State.CANCELLING)
            self.outstanding = cancel
            return [Send(cancel)]
        if self.state in (State.CALLING, State.PROCEEDING):
            return self._end(Result(code=408, rang=self._rang, cancelled=True))
        return []

    def hangup(self) -> list[Event]:
        """BYE an answered call (the media is done)."""
        if self.state is not State.ANSWERED:
            return []
        return [self._bye()]

    def give_up(self) -> list[Event]:
        """No answer to what we sent, in time: end the call as it stands."""
        if self.state is State.ENDED:
            return []
        if self.state is State.ANSWERED:
            return [*self.hangup(), *self._end(self._settled(200))]
        if self.state in (State.ENDING, State.CANCELLING):
            return self._end(self._settled(487 if self.state is State.CANCELLING else 200))
        return self._end(Result(code=408, rang=self._rang))

    # -- what comes in ----------------------------------------------------------------------

    def receive(self, message: SipRequest | SipResponse) -> list[Event]:
        if isinstance(message, SipRequest):
            return self._request_in(message)
        number, method = message.cseq
        if method == "INVITE" and number == self._cseq:
            return self._invite_response(message)
        if method in ("BYE", "CANCEL") and message.status >= 200:
            if self.outstanding is not None and self.outstanding.method == method:
                self.outstanding = None
            if method == "BYE" and self.state is State.ENDING:
                return self._end(self._settled(200))
        return []

    def _invite_response(self, response: SipResponse) -> list[Event]:
        if self.outstanding is self._invite:
            self.outstanding = None
        status = response.status
        if status < 200:
            if status in (180, 181, 182, 183) and not self._rang:
                self._rang = True
                if self.state is not State.CANCELLING:
                    self._move(State.PROCEEDING)
                return [Ringing()]
            if self.state is State.CALLING:
                self._move(State.PROCEEDING)
            return []
        if status < 300:
            return self._success(response)
        if self.state is State.ENDED:
            return [Send(self._non2xx_ack(response))] if self._invite else []
        events: list[Event] = [Send(self._non2xx_ack(response))]
        if status in (401, 407) and self._retry_with_credentials(response):
            return [*events, Send(self.invite())]
        cancelled = self.state is State.CANCELLING
        return [*events, *self._end(Result(code=status, rang=self._rang, cancelled=cancelled))]

    def _success(self, response: SipResponse) -> list[Event]:
        if self._ack is not None:  # a retransmitted 2xx: ACK it again
            return [Send(self._ack)]
        self._remote_to = response.get("to") or ""
        self._target = uri_of(response.get("contact") or "") or self._invite_uri()
        self._routes = list(reversed(response.get_all("record-route")))
        self._ack = self._in_dialog("ACK", self._cseq)
        self._answered = True
        if self.state is State.ENDED or self.state is State.CANCELLING:
            # Answered after we stopped wanting it: ACK and hang up at once.
            was_ended = self.state is State.ENDED
            events: list[Event] = [Send(self._ack)]
            if was_ended:
                bye = self._in_dialog("BYE", self._cseq + 1)
                return [*events, Send(bye)]
            return [*events, self._bye()]
        self._move(State.ANSWERED)
        return [Send(self._ack), Answered(response.body)]

    def _request_in(self, request: SipRequest) -> list[Event]:
        if request.method == "ACK":
            return []
        reply = SipResponse(status=200 if request.method in ("BYE", "OPTIONS") else 501)
        reply.reason = "OK" if reply.status == 200 else "Not Implemented"
        reply.headers = [
            (n, v) for n, v in request.headers if n in ("via", "from", "to", "call-id", "cseq")
        ]
        events: list[Event] = [Send(reply)]
        if request.method == "BYE" and self.state in (State.ANSWERED, State.ENDING):
            result = Result(code=200, answered=True, rang=self._rang, remote_hangup=True)
            events += self._end(result)
        return events

    # -- helpers ----------------------------------------------------------------------------

    def _move(self, new: State) -> None:
        if new not in ALLOWED[self.state]:
            raise IllegalTransition(f"call {self.call_id}: {self.state} -> {new}")
        self.state = new

    def _end(self, result: Result) -> list[Event]:
        self._move(State.ENDED)
        self._result = result
        self.outstanding = None
        return [Ended(result)]

    def _settled(self, code: int) -> Result:
        cancelled = code == 487 or (self._result is not None and self._result.cancelled)
        return Result(
            code=200 if self._answered else code,
            answered=self._answered,
            rang=self._rang,
            cancelled=cancelled or not self._answered,
        )

    def _bye(self) -> Send:
        self._cseq += 1
        bye = self._in_dialog("BYE", self._cseq)
        self._move(State.ENDING)
        self.outstanding = bye
        return Send(bye)

    def _retry_with_credentials(self, response: SipResponse) -> bool:
        p = self.party
        header = "www-authenticate" if response.status == 401 else "proxy-authenticate"
        challenge_text = response.get(header)
        if self.state not in (State.CALLING, State.PROCEEDING):
            return False
        if self._authorized or not p.username or challenge_text is None:
            return False
        try:
            challenge = auth.parse_challenge(challenge_text)
        except ValueError:
            return False
        self._authorized = True
        self._cseq += 1
        self._move(State.CALLING)
        credentials = auth.authorization(
            challenge,
            method="INVITE",
            uri=self._invite_uri(),
            username=p.username,
            password=p.password,
        )
        name = "Authorization" if response.status == 401 else "Proxy-Authorization"
        self._extra = [(name, credentials)]
        return True

    def _invite_uri(self) -> str:
        return f"sip:{self.party.callee}@{self.party.domain}"

    def _transport_param(self) -> str:
        return ";transport=tcp" if self.party.transport == "TCP" else ""

    def _via(self) -> str:
        branch = "z9hG4bK" + secrets.token_hex(8)
        return f"SIP/2.0/{self.party.transport} {self.party.local};branch={branch};rport"

    def _request(self, method: str, uri: str, cseq: int) -> SipRequest:
        p = self.party
        request = SipRequest(method=method, uri=uri)
        request.headers = [
            ("Via", self._via()),
            ("Max-Forwards", "70"),
            ("From", f"<sip:{p.caller}@{p.domain}>;tag={self._tag}"),
            ("Call-ID", self.call_id),
            ("CSeq", f"{cseq} {method}"),
            ("User-Agent", "PilotGate"),
            *self._extra,
        ]
        return request

    def _in_dialog(self, method: str, cseq: int) -> SipRequest:
        request = self._request(method, self._target, cseq)
        request.headers = [(n, v) for n, v in request.headers if not n.endswith("Authorization")]
        request.headers.append(("To", self._remote_to))
        request.headers += [("Route", route) for route in self._routes]
        return request

    def _non2xx_ack(self, response: SipResponse) -> SipRequest:
        """ACK of a 3xx-6xx: part of the INVITE transaction (same branch, §17.1.1.3)."""
        assert self._invite is not None
        ack = SipRequest(method="ACK", uri=self._invite.uri)
        ack.headers = [
            *((n, v) for n, v in self._invite.headers if n in ("Via", "From", "Call-ID")),
            ("To", response.get("to") or ""),
            ("CSeq", f"{self._cseq} ACK"),
            ("Max-Forwards", "70"),
        ]
        return ack
