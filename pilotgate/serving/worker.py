"""One worker process: the API, /metrics and SMPP listeners, the outbox, the links and the
callback worker, run until a signal and stopped in the order the package describes."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import socket
from collections.abc import Iterable, Iterator
from typing import Any, Literal

import uvicorn

from pilotgate import bootstrap, front
from pilotgate.api.app import App
from pilotgate.api.health import Health
from pilotgate.api.proxies import TrustedProxies, parse_networks
from pilotgate.api.scrape import MetricsApp
from pilotgate.config import Settings
from pilotgate.domain.numbering import Numbering
from pilotgate.gateway import Gateway

log = logging.getLogger("pilotgate")


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: `run` below decides the order of the stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


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


#: Tracked objects allocated (less those freed) before the cyclic collector runs; Python's
#: default is 700.
COLLECT_AFTER = 10_000


def quiet_collector() -> None:
    """Once started: what startup built moves out of the collector's sight, and its youngest
    generation is collected after 10,000 net allocations instead of 700.

    Why: under wrk the collector took 4 % of the serving process's CPU (gc.callbacks timed
    it, docs/performance.md). Fifty requests in flight hold more than 700 young objects, so
    a young collection ran every few requests, walked objects still in use and promoted
    them, and every older collection then walked startup's ~58,000 objects (the numbering
    plan, tariffs, modules) again. Frozen, those are never walked; at 10,000 the requests'
    own objects are mostly freed by reference counting before any collection (one ran in a
    10 s run). Cyclic garbage still goes: 10,000 net allocations bound what waits."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(COLLECT_AFTER, *gc.get_threshold()[1:])


def print_banner(lines: Iterable[str]) -> None:
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
            quiet_collector()
            print_banner(announce)
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
