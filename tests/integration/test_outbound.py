"""connectors/outbound.py on loopback: the socket-level gate stops what no resolver sees (an
IP literal, a redirect's `Location`), and the resolver keeps the name for `Host:`."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
from aiohttp import web

from pilotgate.connectors import outbound, outbound_http

ALLOWED = "127.0.0.2"


@pytest.fixture
def trap() -> Iterator[socket.socket]:
    """A listener on forbidden 127.0.0.1 that never accepts."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    yield sock
    sock.close()


def _nothing_reached(sock: socket.socket) -> bool:
    try:
        sock.accept()[0].close()
    except BlockingIOError:
        return True
    return False


@pytest.fixture
async def site(trap: socket.socket) -> AsyncIterator[tuple[str, list[str]]]:
    """An allowed server on 127.0.0.2: `/host` echoes the Host header, `/away` redirects
    to the trap by IP literal."""
    hosts: list[str] = []
    port = trap.getsockname()[1]

    async def host(request: web.Request) -> web.Response:
        hosts.append(request.headers["Host"])
        return web.Response(text="ok")

    async def away(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"http://127.0.0.1:{port}/stolen")

    app = web.Application()
    app.router.add_get("/host", host)
    app.router.add_get("/away", away)
    runner = web.AppRunner(app)
    await runner.setup()
    tcp = web.TCPSite(runner, ALLOWED, port)
    await tcp.start()
    yield f"http://{ALLOWED}:{port}", hosts
    await runner.cleanup()


async def test_an_ip_literal_and_a_redirect_to_one_are_stopped_at_the_socket(
    trap: socket.socket, site: tuple[str, list[str]]
) -> None:
    base, _ = site
    port = trap.getsockname()[1]
    policy = outbound.OutboundPolicy.parse(f"{ALLOWED}/32")
    async with aiohttp.ClientSession(connector=outbound_http.connector(policy)) as session:
        for url in (f"http://127.0.0.1:{port}/direct", f"{base}/away"):
            with pytest.raises(aiohttp.ClientError) as caught:
                async with session.get(url) as response:
                    await response.read()
            assert outbound.refused(caught.value) is not None, caught.value
    assert _nothing_reached(trap)


async def test_a_name_keeps_its_host_header_and_is_refused_when_it_resolves_internally(
    site: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, hosts = site
    port = int(base.rsplit(":", 1)[1])
    real = socket.getaddrinfo

    def fake(host: str, *args: object, **kwargs: object) -> object:
        address = {"shop.test": ALLOWED, "inside.test": "127.0.0.1"}.get(host, host)
        return real(address, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    policy = outbound.OutboundPolicy.parse(f"{ALLOWED}/32")
    async with aiohttp.ClientSession(connector=outbound_http.connector(policy)) as session:
        async with session.get(f"http://shop.test:{port}/host") as response:
            assert response.status == 200
        with pytest.raises(aiohttp.ClientConnectorError) as caught:
            await session.get(f"http://inside.test:{port}/host")
    assert hosts == [f"shop.test:{port}"]
    refused = outbound.refused(caught.value)
    assert refused is not None and "inside.test resolves to a forbidden address" in str(refused)
