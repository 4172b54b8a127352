"""Running PilotGate: one process, or a supervisor with N worker processes sharing one
listening socket (`pilotgate serve --workers N`).

Stop order (SIGINT or SIGTERM), in every worker:
  1. stop accepting API requests and finish the ones in flight (uvicorn drains them);
  2. stop claiming messages; the outbox finishes the batch in hand and gives back the
     leases it still holds;
  3. stop the links this process holds (SMPP: wait for the window of outstanding submits,
     take the last receipts, unbind) and give their leases back so another process binds;
  4. stop the callback worker: results already in are recorded, attempts in flight are
     abandoned and tried again later (their leases run out);
  5. send the `debug=` mails already queued (each bounded by the SMTP timeout);
  6. close the database, which everything above may still write to.
The supervisor forwards the signal to its workers and waits for them; a worker that dies
while the supervisor is not stopping is started again. It loads the numbering plan before it
forks them, so they share its pages (copy-on-write) instead of each loading its own copy.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import socket
import time
from collections.abc import Callable, Coroutine, Iterable, Iterator
from typing import Any, Literal, TypeVar

import uvicorn

from pilotgate import bootstrap, front
from pilotgate.api.app import App
from pilotgate.api.health import Health
from pilotgate.api.proxies import TrustedProxies, parse_networks
from pilotgate.api.scrape import MetricsApp
from pilotgate.api.smpp import tls as smpp_tls
from pilotgate.config import Settings
from pilotgate.domain.numbering import Numbering
from pilotgate.errors import ConfigError
from pilotgate.gateway import Gateway
from pilotgate.gateway.numbering import cis_ranges, load

log = logging.getLogger("pilotgate")

Banner = Callable[[str], Iterable[str]]
T = TypeVar("T")


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: `run` below decides the order of the stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound before any worker starts (so port 0 works with N)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(4096)
    sock.set_inheritable(True)
    return sock


def listen_on(address: str, setting: str = "metrics_listen") -> socket.socket:
    """The socket of a `HOST:PORT` setting (`metrics_listen`, `smpp_listen`); `[::1]:9108`
    for IPv6."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"{setting} must be HOST:PORT, not {address!r}")
    return listen(host.strip("[]"), int(port))


def _config(settings: Settings, app: Any, *, lifespan: Literal["on", "off"]) -> uvicorn.Config:
    """uvicorn, with our HTTP/1.1 protocol (pilotgate/front): time limits for heads and
    bodies, a connection cap under the open-files limit, long and non-ASCII request lines."""
    limits = front.Limits(
        header_timeout=settings.header_timeout,
        body_timeout=settings.body_timeout,
        max_connections=front.connection_budget(settings.max_connections),
        max_head_bytes=settings.max_head_bytes,
    )
    return uvicorn.Config(
        app,
        log_level=settings.log_level,
        access_log=False,
        http=front.protocol_class(limits),
        ws="none",
        lifespan=lifespan,
        loop="none",
        timeout_graceful_shutdown=int(settings.shutdown_timeout),
        proxy_headers=False,
        server_header=False,
        date_header=False,
    )


def _metrics_server(settings: Settings, gateway: Gateway, health: Health) -> _Server:
    scraper = MetricsApp(gateway, token=settings.metrics_token, health=health)
    return _Server(_config(settings, scraper, lifespan="off"))


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _announce(lines: Iterable[str]) -> None:
    for line in lines:
        print(line, flush=True)  # the CLI's startup banner, read by people and tests


async def run(
    settings: Settings,
    sock: socket.socket | None,
    *,
    pipeline: bool,
    announce: Iterable[str] = (),
    metrics_sock: socket.socket | None = None,
    smpp_sock: socket.socket | None = None,
    smpp_tls_sock: socket.socket | None = None,
    plan: Numbering | None = None,
) -> None:
    """One worker: the API on `sock` (if any), /metrics on `metrics_sock` (if any), SMPP
    binds on `smpp_sock` and inside TLS on `smpp_tls_sock` (if any) and the outbox (if
    `pipeline`), until a signal. `plan`: the numbering plan the supervisor loaded before
    forking."""
    store = await bootstrap.open_store(settings)
    gateway = bootstrap.build_gateway(settings, store, plan)
    outbox = bootstrap.build_outbox(settings, store, gateway.numbering.fresh) if pipeline else None
    keeper = bootstrap.build_link_keeper(settings, store, outbox) if outbox else None
    notifier = bootstrap.build_callback_worker(settings, store) if pipeline else None
    mailer = bootstrap.build_debug_mailer(settings)
    role = "serve" if sock and pipeline else "api" if sock else "worker"
    health = Health(store, bootstrap.now, keeper, role)
    app = App(
        gateway,
        max_body_bytes=settings.max_body_bytes,
        debug_mail=mailer,
        dashboard=bootstrap.build_dashboard(settings, gateway),
        metrics_token=settings.metrics_token,
        metrics_public=settings.metrics_public,
        health=health,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    front_app = TrustedProxies(app, parse_networks(settings.trusted_proxies))
    listeners = [(_Server(_config(settings, front_app, lifespan="on")), sock)] if sock else []
    listeners += (
        [(_metrics_server(settings, gateway, health), metrics_sock)] if metrics_sock else []
    )
    smpp = bootstrap.build_smpp_server(settings, gateway, keeper)
    try:
        async with asyncio.TaskGroup() as tasks:
            if outbox is not None:
                outbox_done = tasks.create_task(outbox.run())
            if keeper is not None:
                tasks.create_task(keeper.run())
            if notifier is not None:
                tasks.create_task(notifier.run())
            for server, listening in listeners:
                serving = tasks.create_task(server.serve(sockets=[listening]))
                # uvicorn has no started event, only a flag; startup takes milliseconds.
                while not server.started and not serving.done():  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
            await smpp.start(smpp_sock, smpp_tls_sock)
            _announce(announce)
            await stop.wait()
            app.stopping = health.stopping = True  # 1.
            for server, _ in listeners:
                server.should_exit = True
            await smpp.stop()
            if outbox is not None:  # 2.
                outbox.stop()
                await outbox_done
            if keeper is not None:  # 3.
                keeper.stop()
            if notifier is not None:  # 4.
                notifier.stop()
    finally:
        if mailer is not None:  # 5.
            # Bounded by the relay's timeout per mail; a debug copy is not worth more.
            await mailer.drain()
        await store.close()  # 6.


def _event_loop(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency; asyncio still works
        return asyncio.run(main())
    else:
        return uvloop.run(main())


def serve(
    settings: Settings,
    *,
    workers: int = 1,
    api: bool = True,
    pipeline: bool | None = None,
    banner: Banner = lambda url: (),
) -> None:
    """Run the gateway in the foreground until SIGINT/SIGTERM.

    Prints "PilotGate listening on <url>" once the API accepts connections (the url of the
    bound socket, so port 0 works), followed by `banner(url)`.
    """
    with_pipeline = settings.pipeline if pipeline is None else pipeline
    parse_networks(settings.trusted_proxies)  # a malformed setting stops us before forking

    # Migrations run once here, before any worker opens the database; the numbering plan
    # too, for workers to share (docs/decisions.md "The numbering plan").
    async def migrate() -> Numbering | None:
        store = await bootstrap.open_store(settings)
        try:
            return await load(store, cis_ranges()) if workers > 1 else None
        finally:
            await store.close()

    plan = _event_loop(migrate)
    sock = listen(settings.host, settings.port) if api else None
    # A worker has no API port: its probes and metrics are on this listener.
    metrics_sock = listen_on(settings.metrics_listen) if settings.metrics_listen else None
    smpp_sock = (
        listen_on(settings.smpp_listen, "smpp_listen") if api and settings.smpp_listen else None
    )
    smpp_tls_sock = None
    if api and settings.smpp_tls_listen:
        # A wrong certificate path stops us here, before forking, not in every worker.
        smpp_tls.server_context(settings.smpp_tls_cert, settings.smpp_tls_key)
        smpp_tls_sock = listen_on(settings.smpp_tls_listen, "smpp_tls_listen")
    lines = (
        [f"PilotGate listening on {url_of(sock)}", *banner(url_of(sock))]
        if sock
        else ["PilotGate worker running"]
    )
    if metrics_sock is not None:
        lines.append(f"Metrics on {url_of(metrics_sock)}/metrics")
    if smpp_sock is not None:
        host, port = smpp_sock.getsockname()[:2]
        lines.append(f"SMPP on {host}:{port}")
    if smpp_tls_sock is not None:
        host, port = smpp_tls_sock.getsockname()[:2]
        lines.append(f"SMPP over TLS on {host}:{port}")
    socks = (sock, metrics_sock, smpp_sock, smpp_tls_sock)
    if workers <= 1:
        _event_loop(
            lambda: run(
                settings,
                sock,
                pipeline=with_pipeline,
                announce=lines,
                metrics_sock=metrics_sock,
                smpp_sock=smpp_sock,
                smpp_tls_sock=smpp_tls_sock,
            )
        )
        return
    _supervise(settings, socks, workers, with_pipeline, lines, plan)


def _supervise(
    settings: Settings,
    socks: tuple[socket.socket | None, ...],
    workers: int,
    pipeline: bool,
    lines: list[str],
    plan: Numbering | None,
) -> None:
    stopping = False
    gc.freeze()  # the collector must not write to the shared objects' headers in the workers

    def start(index: int) -> int:
        pid = os.fork()
        if pid == 0:  # the worker
            code = 0
            try:
                _event_loop(
                    lambda: run(
                        settings,
                        socks[0],
                        pipeline=pipeline,
                        metrics_sock=socks[1],
                        smpp_sock=socks[2],
                        smpp_tls_sock=socks[3],
                        plan=plan,
                    )
                )
            except BaseException:  # a worker must report and exit, never return to the loop
                log.exception("worker %d failed", index)
                code = 1
            os._exit(code)
        return pid

    def forward(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    children = {start(index): index for index in range(workers)}
    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    _announce(lines)
    while children:
        pid, status = os.wait()
        index = children.pop(pid, None)
        if index is None:
            continue
        if not stopping:
            log.error("worker %d exited (status %d); starting it again", index, status)
            time.sleep(0.5)  # a worker that dies at once must not spin the supervisor
            children[start(index)] = index
