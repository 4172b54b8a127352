"""One call driven to its end, for SipConnector (link.py): the INVITE and its
retransmissions, the deadlines for a first response, an answer and the speech, the audio at
20 ms a packet, and the CANCEL or BYE that clears it."""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any

from pilotgate.domain import audio

from ..schemas.sip import SipSettings
from . import media
from .call import Call, State
from .call_events import Answered, Ended, Event, Result, Ringing, Send
from .message import SipRequest, SipResponse
from .transport import RtpSocket, SipTransport

log = logging.getLogger("pilotgate.connectors.sip.link")

#: RFC 3261 timers: first retransmission after T1, doubling up to T2 (UDP only).
T1, T2 = 0.5, 4.0
#: Seconds we wait for the answer to a CANCEL or BYE before giving the call up.
CLEAR_TIMEOUT = 8 * T1
_RINGING = (State.CALLING, State.PROCEEDING)


class Conversation:
    """The calls' side of the SIP connector: what its calls send and how each is driven."""

    name: str
    settings: SipSettings
    _transport: SipTransport | None
    #: The messages of each call in flight, by Call-ID.
    _calls: dict[str, asyncio.Queue[SipRequest | SipResponse]]

    async def _converse(  # noqa: C901 - the call's whole event loop, read in one place
        self, call: Call, voice: bool, pcm: bytes, rtp: RtpSocket
    ) -> Result:
        """Drive the call to its end: deadlines for a first response (`invite_timeout`),
        for an answer (`answer_timeout`, a flash call's `flash_timeout` from the start), for
        the speech, and for the answers to CANCEL and BYE."""
        s = self.settings
        loop = asyncio.get_running_loop()
        self._send(call.invite())
        now = loop.time()
        deadline = now + (s.invite_timeout if voice else min(s.invite_timeout, s.flash_timeout))
        playing: asyncio.Task[None] | None = None
        failed = False  # answered, but no audio could be sent (bad or refused SDP)
        try:
            while True:
                before = call.state
                if playing is not None and playing.done():
                    if not playing.cancelled() and playing.exception() is not None:
                        log.error("sip %s: call %s: audio failed", self.name, call.call_id)
                        failed = True
                    playing, events = None, call.hangup()
                    deadline = loop.time() + CLEAR_TIMEOUT
                elif (message := await self._next(call, deadline, playing)) is None:
                    if playing is not None and playing.done():
                        continue  # the speech is over: hang up (at the top of the loop)
                    events = call.cancel() if before in _RINGING else call.give_up()
                    deadline = loop.time() + CLEAR_TIMEOUT
                else:
                    events = call.receive(message)
                if voice and before is State.CALLING and call.state is State.PROCEEDING:
                    deadline = loop.time() + s.answer_timeout
                for event in events:
                    if isinstance(event, Send):
                        self._send(event.message)
                    elif isinstance(event, Ended):
                        result = event.result
                        if failed:
                            result = Result(code=488, rang=result.rang)
                        return result
                    elif isinstance(event, Ringing) and not voice:
                        self._send_all(call.cancel())  # it rang: that was the flash call
                        deadline = loop.time() + CLEAR_TIMEOUT
                    elif isinstance(event, Answered):
                        answer = None
                        if voice:
                            answer = self._media(call, event.sdp)
                        if answer is None:  # flash call answered, or no usable audio
                            failed = voice
                            self._send_all(call.hangup())
                            deadline = loop.time() + CLEAR_TIMEOUT
                        else:
                            playing = asyncio.create_task(self._play(answer, pcm, rtp))
                            deadline = loop.time() + audio.seconds(pcm) + s.invite_timeout
        finally:
            if playing is not None:
                playing.cancel()
                await asyncio.gather(playing, return_exceptions=True)

    def _media(self, call: Call, sdp: bytes) -> media.SdpAnswer | None:
        try:
            return media.parse_answer(sdp)
        except ValueError as exc:
            log.warning("sip %s: call %s: %s; hanging up", self.name, call.call_id, exc)
            return None

    async def _play(self, answer: media.SdpAnswer, pcm: bytes, rtp: RtpSocket) -> None:
        """Stream the speech at 20 ms a packet, paced by the event loop's clock."""
        loop = asyncio.get_running_loop()
        payload = audio.encode(pcm, answer.law)
        start = loop.time()
        to = (answer.host, answer.port)
        first = secrets.randbelow(2**16)
        ssrc = secrets.randbelow(2**32)
        for index, packet in enumerate(media.packets(payload, answer.payload_type, ssrc, first)):
            delay = start + index * media.PACKET_SECONDS - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            rtp.send(packet, to)

    async def _next(
        self, call: Call, deadline: float, playing: asyncio.Task[None] | None
    ) -> SipRequest | SipResponse | None:
        """The next message of the call, retransmitting what waits for an answer (UDP);
        None when the deadline passes, or the audio ends, first."""
        queue = self._calls[call.call_id]
        loop = asyncio.get_running_loop()
        interval = T1
        while (left := deadline - loop.time()) > 0:
            retransmit = self.settings.transport == "udp" and call.outstanding is not None
            getting = asyncio.ensure_future(queue.get())
            waiting: set[asyncio.Future[Any]] = {getting} if playing is None else {getting, playing}
            done, _ = await asyncio.wait(
                waiting,
                timeout=min(left, interval) if retransmit else left,
                return_when=asyncio.FIRST_COMPLETED,
            )
            if getting in done:
                return getting.result()
            getting.cancel()  # nothing was taken: it did not complete
            if playing is not None and playing in done:
                return None
            if retransmit and call.outstanding is not None and loop.time() < deadline:
                self._send(call.outstanding)
                interval = min(interval * 2, T2)
        return None

    def _send(self, message: SipRequest | SipResponse) -> None:
        if self._transport is None or not self._transport.send(message.encode()):
            log.debug("sip %s: could not send %s", self.name, type(message).__name__)

    def _send_all(self, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, Send):
                self._send(event.message)
