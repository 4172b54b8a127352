"""The SIP connector's sans-IO parts: messages, digest, the call's state table, outcomes,
settings. Bytes in, events out; no sockets."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from pilotgate.connectors.schemas.sip import flash_caller
from pilotgate.connectors.sip import (
    SipSettings,
    auth,
    call as calls,
    call_events,
    media,
    outcomes,
)
from pilotgate.connectors.sip.call import ALLOWED, Call, State
from pilotgate.connectors.sip.call_events import Party, Result
from pilotgate.connectors.sip.message import ParseError, SipFramer, SipRequest, SipResponse, parse
from pilotgate.domain.messages import Status
from pilotgate.errors import ConfigError

INVITE = (
    b"INVITE sip:79087964781@trunk SIP/2.0\r\n"
    b"v: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1, SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK2\r\n"
    b"f: <sip:a@trunk>;tag=1\r\nt: <sip:79087964781@trunk>\r\ni: abc\r\n"
    b"CSeq: 1 INVITE\r\nSubject: a\r\n folded\r\nl: 4\r\n\r\nbodyEXTRA"
)


def test_parse_expands_compact_headers_and_splits_vias() -> None:
    message = parse(INVITE)
    assert isinstance(message, SipRequest)
    assert (message.method, message.uri, message.call_id) == (
        "INVITE",
        "sip:79087964781@trunk",
        "abc",
    )
    assert len(message.get_all("via")) == 2
    assert message.get("subject") == "a folded"
    assert message.body == b"body"
    assert message.cseq == (1, "INVITE")
    again = parse(message.encode())
    assert again.headers == message.headers and again.body == b"body"


@pytest.mark.parametrize(
    "garbage",
    [
        b"",
        b"\x00\xff\xfe garbage",
        b"HTTP/1.1 200 OK\r\n\r\n",
        b"SIP/2.0 200 OK\r\nCall-ID: x\r\n\r\n",  # no Via, CSeq...
        INVITE.replace(b"l: 4", b"l: 400"),
        INVITE.replace(b"CSeq: 1 INVITE", b"CSeq: one"),
        INVITE.replace(b"Subject: a", b"Bad Header a"),
        b"SIP/2.0 999 Nope\r\n\r\n",
    ],
)
def test_garbage_is_a_parse_error(garbage: bytes) -> None:
    with pytest.raises(ParseError):
        parse(garbage)


def test_framer_cuts_a_tcp_stream() -> None:
    framer = SipFramer()
    whole = parse(INVITE).encode()
    assert framer.feed(b"\r\n" + whole[:30]) == []
    assert framer.feed(whole[30:] + whole) == [whole, whole]


def test_digest_answers_the_rfc_2617_example() -> None:
    challenge = auth.parse_challenge(
        'Digest realm="testrealm@host.com", qop="auth,auth-int", '
        'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    )
    header = auth.authorization(
        challenge, method="GET", uri="/dir/index.html", username="Mufasa",
        password="Circle Of Life", cnonce="0a4f113b",
    )  # fmt: skip
    assert 'response="6629fae49393a05397450978507c4ef1"' in header
    assert 'opaque="5ccc069c403ebaf9f0171e9517f40e41"' in header and "nc=00000001" in header
    with pytest.raises(ValueError, match="digest"):
        auth.parse_challenge('Basic realm="x"')


PARTY = Party(caller="74950001234", callee="79087964781", domain="trunk", local="127.0.0.1:5062")


def _response(
    request: SipRequest, status: int, *, tag: str = "t1", body: bytes = b""
) -> SipResponse:
    response = SipResponse(status=status, reason="X")
    response.headers = [
        (n.lower(), v) for n, v in request.headers if n in ("Via", "From", "Call-ID", "CSeq")
    ]
    response.headers.append(("to", f"<sip:79087964781@trunk>;tag={tag}"))
    response.headers.append(("contact", "<sip:peer@127.0.0.1:5070>"))
    response.body = body
    return response


def _sent(events: list[call_events.Event]) -> list[str]:
    return [e.message.method if isinstance(e.message, SipRequest) else str(e.message.status)
            for e in events if isinstance(e, call_events.Send)]  # fmt: skip


def test_answered_call_acks_plays_and_hangs_up() -> None:
    call = Call(party=PARTY, sdp=b"v=0\r\n")
    invite = call.invite()
    assert call.receive(_response(invite, 100)) == []
    assert call.receive(_response(invite, 180)) == [call_events.Ringing()]
    events = call.receive(_response(invite, 200, body=b"sdp"))
    assert _sent(events) == ["ACK"] and call_events.Answered(b"sdp") in events
    assert _sent(call.receive(_response(invite, 200))) == ["ACK"]  # retransmitted 2xx
    bye = call.hangup()
    assert _sent(bye) == ["BYE"] and call.state is State.ENDING
    assert isinstance(bye[0], call_events.Send)
    bye_request = bye[0].message
    assert isinstance(bye_request, SipRequest) and bye_request.uri == "sip:peer@127.0.0.1:5070"
    assert call.outstanding is bye_request
    (ended,) = call.receive(_response(bye_request, 200))
    assert ended == call_events.Ended(Result(code=200, answered=True, rang=True))


def test_busy_is_acked_in_its_transaction() -> None:
    call = Call(party=PARTY, sdp=b"")
    invite = call.invite()
    events = call.receive(_response(invite, 486))
    assert isinstance(events[0], call_events.Send)
    ack = events[0].message
    assert isinstance(ack, SipRequest) and ack.method == "ACK"
    assert ack.get("Via") == invite.get("Via")  # same branch: part of the INVITE transaction
    assert events[1] == call_events.Ended(Result(code=486))
    assert _sent(call.receive(_response(invite, 486))) == ["ACK"]  # again when it comes again


def test_challenge_is_answered_once() -> None:
    party = dataclasses.replace(PARTY, username="u", password="p")
    call = Call(party=party, sdp=b"")
    invite = call.invite()
    challenge = _response(invite, 407)
    challenge.headers.append(("proxy-authenticate", 'Digest realm="r", nonce="n"'))
    events = call.receive(challenge)
    assert _sent(events) == ["ACK", "INVITE"]
    assert isinstance(events[1], call_events.Send)
    again = events[1].message
    assert isinstance(again, SipRequest) and again.cseq == (2, "INVITE")
    assert (again.get("Proxy-Authorization") or "").startswith('Digest username="u"')
    second = _response(again, 407)
    second.headers.append(("proxy-authenticate", 'Digest realm="r", nonce="m"'))
    assert call.receive(second)[-1] == call_events.Ended(Result(code=407))


def test_cancel_before_and_after_ringing_and_the_late_answer() -> None:
    call = Call(party=PARTY, sdp=b"")
    call.invite()
    assert call.cancel() == [call_events.Ended(Result(code=408, cancelled=True))]  # nothing heard
    late = call.receive(_response(call._invite, 200))  # type: ignore[arg-type]
    assert _sent(late) == ["ACK", "BYE"] and call.state is State.ENDED  # answered too late
    assert _sent(call.receive(_response(call._invite, 200))) == ["ACK"]  # type: ignore[arg-type]
    call = Call(party=PARTY, sdp=b"")
    invite = call.invite()
    call.receive(_response(invite, 183))
    (send,) = call.cancel()
    assert isinstance(send, call_events.Send) and send.message.method == "CANCEL"  # type: ignore[union-attr]
    assert send.message.get("Via") == invite.get("Via")
    # The phone answered as we cancelled: ACK it and hang up at once.
    assert _sent(call.receive(_response(invite, 200))) == ["ACK", "BYE"]
    assert call.state is State.ENDING


def test_peer_hangs_up_and_unknown_requests() -> None:
    call = Call(party=PARTY, sdp=b"")
    invite = call.invite()
    call.receive(_response(invite, 200))
    bye = SipRequest(method="BYE", uri="sip:x")
    bye.headers = [
        ("via", "SIP/2.0/UDP p"),
        ("from", "a"),
        ("to", "b"),
        ("call-id", call.call_id),
        ("cseq", "1 BYE"),
    ]
    events = call.receive(bye)
    assert _sent(events) == ["200"]
    assert events[1] == call_events.Ended(Result(code=200, answered=True, remote_hangup=True))
    info = SipRequest(method="INFO", uri="sip:x", headers=bye.headers)
    assert _sent(call.receive(info)) == ["501"]


@pytest.mark.parametrize("start", list(State))
@pytest.mark.parametrize("end", list(State))
def test_the_whole_state_table(start: State, end: State) -> None:
    call = Call(party=PARTY, sdp=b"")
    call.state = start
    if end in ALLOWED[start]:
        call._move(end)
        assert call.state is end
    else:
        with pytest.raises(calls.IllegalTransition):
            call._move(end)
    assert State.ENDED in ALLOWED[start] or start is State.ENDED  # every call can end


@pytest.mark.parametrize(
    ("result", "voice", "flash"),
    [
        (Result(code=200, answered=True), (Status.DELIVERED, 0), (Status.DELIVERED, 0)),
        (Result(code=486), (Status.UNDELIVERED, 601), (Status.UNDELIVERED, 601)),
        (Result(code=600), (Status.UNDELIVERED, 601), (Status.UNDELIVERED, 601)),
        (Result(code=603), (Status.UNDELIVERED, 603), (Status.UNDELIVERED, 603)),
        (Result(code=403), (Status.UNDELIVERED, 603), (Status.UNDELIVERED, 603)),
        (Result(code=404), (Status.UNDELIVERED, 602), (Status.UNDELIVERED, 602)),
        (Result(code=408), (Status.UNDELIVERED, 602), (Status.UNDELIVERED, 602)),
        (
            Result(code=487, rang=True, cancelled=True),
            (Status.UNDELIVERED, 601),
            (Status.DELIVERED, 0),
        ),
        (Result(code=408, cancelled=True), (Status.UNDELIVERED, 602), (Status.UNDELIVERED, 602)),
    ],
)
def test_outcomes(result: Result, voice: tuple[Status, int], flash: tuple[Status, int]) -> None:
    assert outcomes.voice(result) == voice
    assert outcomes.flash(result) == flash


def test_sdp_offer_and_answer() -> None:
    offer = media.offer("10.0.0.1", 20000, 7).decode()
    assert "m=audio 20000 RTP/AVP 0 8" in offer and "c=IN IP4 10.0.0.1" in offer
    answer = media.parse_answer(b"v=0\r\nc=IN IP4 10.0.0.9\r\nm=audio 4000 RTP/AVP 8 0\r\n")
    assert (answer.host, answer.port, answer.law) == ("10.0.0.9", 4000, "alaw")
    for bad in (
        b"v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 0 RTP/AVP 0\r\n",
        b"c=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 18\r\n",
        b"v=0",
    ):
        with pytest.raises(ValueError):
            media.parse_answer(bad)
    packets = list(media.packets(b"\x01" * 330, 0, ssrc=5, first_sequence=65535))
    assert len(packets) == 3 and all(len(p) == 172 for p in packets)
    assert packets[0][1] == 0x80 and packets[1][1] == 0  # marker on the first only
    assert media.payload_of(packets[2]) == (0, b"\x01" * 10 + b"\xff" * 150)


def test_settings_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="host"):
        SipSettings.from_json("t", "{}")
    bad_ones: list[dict[str, object]] = [
        {"transport": "sctp"}, {"port": 0}, {"max_calls": 0},
        {"rtp_port_min": 30000, "rtp_port_max": 20000}, {"answer_timeout": "x"}, {"nope": 1},
        {"caller_pool": str(tmp_path / "missing")},
    ]  # fmt: skip
    for bad in bad_ones:
        with pytest.raises(ConfigError):
            SipSettings.from_json("t", json.dumps({"host": "h", **bad}))
    pool = tmp_path / "pool.txt"
    pool.write_text("+74950001234\n74950005678\n")
    settings = SipSettings.from_json("t", json.dumps({"host": "h", "caller_pool": str(pool)}))
    assert flash_caller(settings, "5678") == "74950005678"
    assert flash_caller(settings, "9999") is None
    prefix = SipSettings.from_json(
        "t", json.dumps({"host": "h", "port": 5080, "caller_pool": "7495"})
    )
    assert flash_caller(prefix, "123456") == "7495123456"
    assert prefix.uri_domain == "h:5080"
    assert flash_caller(SipSettings.from_json("t", '{"host": "h"}'), "1234") is None
