"""`/metrics`, the Prometheus exposition, and who may read it.

The exposition names accounts' traffic, queue depth and error rates: nothing a stranger on
the API port should read. So on the API port it is answered only with the bearer token of
the `metrics_token` setting (or, with `metrics_public`, to anyone: what `pilotgate demo`
does); otherwise it is served on a listener of its own (`metrics_listen`, e.g.
127.0.0.1:9108), which the operator keeps off the public network. See THREAT_MODEL.md.
"""

from __future__ import annotations

import hmac

from prometheus_client import CONTENT_TYPE_LATEST

from pilotgate.gateway import Gateway

from .asgi import Receive, Scope, Send
from .health import PATHS as PROBES, Health

_PLAIN = b"text/plain; charset=utf-8"


def _bearer(scope: Scope) -> bytes:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = bytes(value).partition(b" ")
            return token.strip() if scheme.lower() == b"bearer" else b""
    return b""


async def _plain(send: Send, status: int, text: bytes, *extra: tuple[bytes, bytes]) -> None:
    headers = [(b"content-type", _PLAIN), (b"content-length", str(len(text)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": text})


async def serve(gateway: Gateway, scope: Scope, send: Send, *, token: str, public: bool) -> None:
    """Answer a GET of /metrics: 200 with the exposition when allowed, else 401 (a token is
    set and was not given) or 404 (metrics are not served here)."""
    if token:
        # Compared in constant time, like the relay tokens.
        if not hmac.compare_digest(_bearer(scope), token.encode()):
            await _plain(send, 401, b"Unauthorized", (b"www-authenticate", b"Bearer"))
            return
    elif not public:
        await _plain(send, 404, b"Not Found (see metrics_listen and metrics_token)")
        return
    body = await gateway.metrics()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", CONTENT_TYPE_LATEST.encode("latin-1")),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class MetricsApp:
    """The ASGI app of the `metrics_listen` listener: /metrics, and the probes /healthz and
    /readyz (a `worker` has no other port to answer them on)."""

    def __init__(self, gateway: Gateway, *, token: str, health: Health | None = None) -> None:
        self.gateway = gateway
        self.token = token
        self.health = health

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        probe = scope["path"] in PROBES and self.health is not None
        if scope["path"] != "/metrics" and not probe:
            await _plain(send, 404, b"Not Found")
        elif scope["method"] not in ("GET", "HEAD"):
            await _plain(send, 405, b"Method Not Allowed")
        elif probe and self.health is not None:
            await self.health(scope, send)
        else:
            await serve(self.gateway, scope, send, token=self.token, public=True)
