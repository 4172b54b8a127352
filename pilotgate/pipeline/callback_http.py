"""Where callbacks may go and how one is sent: the address policy judging a callback URL,
and the HTTP client that makes each attempt, bounded in time, never following a redirect,
reading only small answers, and connecting only to addresses the policy allows."""

from __future__ import annotations

from urllib.parse import urlsplit

from pilotgate.connectors import outbound
from pilotgate.domain import addresses, callbacks

from .callback_client import CallbackClient

#: URLs whose static verdict is remembered at most.
_VERDICTS_KEPT = 1024


class AddressPolicy:
    """Decides whether a callback URL may be called. At send time `refusal` resolves the
    host to judge it; at each attempt the connection itself resolves once and goes only to
    addresses the policy allows (`connectors.outbound`), so no answer can change in between."""

    def __init__(self, allowed: str = "") -> None:
        self.outbound = outbound.OutboundPolicy.parse(allowed)
        # The verdict depends on the URL and this (fixed) policy only, and is asked before
        # every attempt: parsing the URL and its IP literal each time was 4 % of the gateway's
        # CPU end to end. Bounded: emptied when full (accounts' URLs are few).
        self._verdicts: dict[str, str | None] = {}

    def static_refusal(self, url: str) -> str | None:
        """Why the URL must not be called, judged without DNS: not http(s), no host, a host
        with no IDNA form, an IP literal the policy forbids. None when it may be tried."""
        try:
            return self._verdicts[url]
        except KeyError:
            pass
        if len(self._verdicts) >= _VERDICTS_KEPT:
            self._verdicts.clear()
        verdict = self._verdicts[url] = self._judge(url)
        return verdict

    def _judge(self, url: str) -> str | None:
        if any(ord(char) < 0x20 or ord(char) == 0x7F for char in url):
            # urlsplit drops line breaks and tabs before judging the host, but the request
            # line and Host header are written from the URL as it is: a header injected.
            return "a control character in the URL"
        try:
            parts = urlsplit(url)
            host, _ = parts.hostname, parts.port
        except ValueError:
            return "malformed URL"
        if parts.scheme not in ("http", "https") or not host:
            return "not an http(s) URL"
        try:
            addresses.ascii_host(host)
        except ValueError as exc:
            return str(exc)
        if addresses.literal(host) is not None:
            return self.outbound.refusal(host, [host])
        return None

    async def refusal(self, url: str) -> str | None:
        """Why the URL must not be called, or None. A host that does not resolve is not
        refused here (DNS can be down for a while); each attempt resolves it again."""
        why = self.static_refusal(url)
        if why is not None:
            return why
        parts = urlsplit(url)
        if parts.hostname is None or addresses.literal(parts.hostname) is not None:
            return None
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            await outbound.resolve(parts.hostname, port, self.outbound)
        except outbound.Refused as exc:
            return str(exc)
        except OSError:
            return None
        return None


class CallbackSender:
    """One client (and its kept connections) for all of a worker's attempts."""

    def __init__(self, policy: AddressPolicy, *, timeout: float, concurrency: int) -> None:
        self._timeout = timeout
        self._client = CallbackClient(policy.outbound, timeout=timeout, concurrency=concurrency)

    async def send(self, request: callbacks.HttpRequest) -> tuple[str | None, str | None]:
        """(None, None) when acknowledged (2xx), else (why, None) for a failed attempt or
        (None, why) when the policy refused the address. Only a small answer of known
        length is read (so the connection can be reused); any other is dropped unread, and
        once the status is in, a failure reading the rest changes nothing."""
        try:
            status = await self._client.status(request)
        except outbound.Refused as exc:  # an OSError: before the clause below
            return None, str(exc)
        except TimeoutError:
            return f"no answer within {self._timeout:g} s", None
        except (OSError, ValueError) as exc:
            return f"{type(exc).__name__}: {exc}"[:500], None
        return (None if 200 <= status < 300 else f"HTTP {status}"), None

    async def close(self) -> None:
        self._client.close()
