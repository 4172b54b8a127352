"""Registration with the trunk (RFC 3261 §10), for trunks that want to know where we are:
REGISTER every `register_expires` × 0.8 seconds, answering a digest challenge; the link
takes calls only while registered.
"""

from __future__ import annotations

import asyncio
import logging
import secrets

from ..schemas.sip import SipSettings
from . import auth
from .message import SipRequest, SipResponse
from .transport import SipTransport

log = logging.getLogger(__name__)

#: Seconds between attempts while the trunk refuses or does not answer.
RETRY = 30.0
#: Seconds a REGISTER waits for its answer; UDP retransmissions after T1, doubling to T2.
WAIT, T1, T2 = 8.0, 0.5, 4.0


class Registrar:
    def __init__(
        self,
        settings: SipSettings,
        local: str,
        transport: SipTransport,
        routes: dict[str, asyncio.Queue[SipRequest | SipResponse]],
    ) -> None:
        self._s, self._local, self._transport, self._routes = settings, local, transport, routes
        self._call_id = secrets.token_hex(12)
        self._tag = secrets.token_hex(6)
        self._cseq = 0
        self._task: asyncio.Task[None] | None = None
        self.registered = False

    def start(self) -> None:
        self._routes[self._call_id] = asyncio.Queue()
        self._task = asyncio.create_task(self._run(), name=f"sip-register-{self._s.name}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._routes.pop(self._call_id, None)
        self.registered = False

    def request(self, credentials: tuple[str, str] | None = None) -> SipRequest:
        s = self._s
        self._cseq += 1
        user = s.username or s.caller_id
        request = SipRequest(method="REGISTER", uri=f"sip:{s.uri_domain}")
        transport = s.transport.upper()
        branch = "z9hG4bK" + secrets.token_hex(8)
        request.headers = [
            ("Via", f"SIP/2.0/{transport} {self._local};branch={branch};rport"),
            ("Max-Forwards", "70"),
            ("From", f"<sip:{user}@{s.uri_domain}>;tag={self._tag}"),
            ("To", f"<sip:{user}@{s.uri_domain}>"),
            ("Call-ID", self._call_id),
            ("CSeq", f"{self._cseq} REGISTER"),
            ("Contact", f"<sip:{user}@{self._local}>"),
            ("Expires", str(s.register_expires)),
            ("User-Agent", "PilotGate"),
        ]
        if credentials is not None:
            request.headers.append(credentials)
        return request

    async def register_once(self) -> bool:
        """One REGISTER (twice when challenged); True when the trunk said 2xx."""
        request = self.request()
        for _ in range(2):
            response = await self._exchange(request)
            if response is None:
                return False
            if 200 <= response.status < 300:
                return True
            header = {401: "www-authenticate", 407: "proxy-authenticate"}.get(response.status)
            challenge_text = response.get(header) if header else None
            if challenge_text is None or not self._s.username:
                break
            try:
                challenge = auth.parse_challenge(challenge_text)
            except ValueError:
                break
            name = "Authorization" if response.status == 401 else "Proxy-Authorization"
            value = auth.authorization(
                challenge,
                method="REGISTER",
                uri=f"sip:{self._s.uri_domain}",
                username=self._s.username,
                password=self._s.password,
            )
            request = self.request((name, value))
        return False

    async def _exchange(self, request: SipRequest) -> SipResponse | None:
        """Send `request` (again every T1, doubling, over UDP) until its final response
        comes or WAIT seconds pass."""
        queue = self._routes[self._call_id]
        loop = asyncio.get_running_loop()
        deadline, interval = loop.time() + WAIT, T1
        self._transport.send(request.encode())
        while (left := deadline - loop.time()) > 0:
            try:
                async with asyncio.timeout(min(left, interval)):
                    message = await queue.get()
            except TimeoutError:
                if self._s.transport == "udp":
                    self._transport.send(request.encode())
                    interval = min(interval * 2, T2)
                continue
            if isinstance(message, SipResponse) and message.status >= 200:
                if message.cseq == (self._cseq, "REGISTER"):
                    return message
        return None

    async def _run(self) -> None:
        while True:
            ok = await self.register_once()
            if ok != self.registered:
                log.info("sip %s: %s", self._s.name, "registered" if ok else "not registered")
            self.registered = ok
            await asyncio.sleep(self._s.register_expires * 0.8 if ok else RETRY)
