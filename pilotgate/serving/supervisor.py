"""`pilotgate serve`: the listening sockets bound before any worker starts, then one worker
in this process, or a supervisor forking N of them and starting again any that dies."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import socket
import time
from collections.abc import Callable, Coroutine, Iterable
from typing import Any, TypeVar

from pilotgate import bootstrap
from pilotgate.api.proxies import parse_networks
from pilotgate.api.smpp import tls as smpp_tls
from pilotgate.config import Settings
from pilotgate.domain.numbering import Numbering
from pilotgate.errors import ConfigError
from pilotgate.gateway.numbering import cis_ranges, load
from pilotgate.serving.worker import print_banner, run

log = logging.getLogger("pilotgate")

Banner = Callable[[str], Iterable[str]]
T = TypeVar("T")


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


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


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
    _supervise(settings, socks, roles(workers, api, with_pipeline), lines, plan)


def roles(workers: int, api: bool, pipeline: bool) -> list[tuple[bool, bool]]:
    """What each of `workers` forked workers runs, by index: (the API, the pipeline).

    `serve --workers N` runs the pipeline in one worker of its own and the API in the other
    N - 1, as `api --workers N-1` beside `worker` would: one pipeline, not N (N outboxes
    polled N times as often and claimed in smaller batches), and the API's group commits
    and gathered reads not split among more processes than serve it (docs/decisions.md
    "One pipeline in `serve --workers N`"). `worker --workers N`: N pipelines, no API.
    """
    if api and pipeline and workers > 1:
        return [(False, True)] + [(True, False)] * (workers - 1)
    return [(api, pipeline)] * workers


def _supervise(
    settings: Settings,
    socks: tuple[socket.socket | None, ...],
    jobs: list[tuple[bool, bool]],
    lines: list[str],
    plan: Numbering | None,
) -> None:
    """Fork a worker per entry of `jobs` (its API, its pipeline); start again any that dies,
    with its index and so its job (the pipeline's worker comes back with the pipeline)."""
    stopping = False
    gc.freeze()  # the collector must not write to the shared objects' headers in the workers

    def start(index: int) -> int:
        pid = os.fork()
        if pid == 0:  # the worker
            code = 0
            api, pipeline = jobs[index]
            try:
                _event_loop(
                    lambda: run(
                        settings,
                        socks[0] if api else None,
                        pipeline=pipeline,
                        metrics_sock=socks[1],
                        smpp_sock=socks[2] if api else None,
                        smpp_tls_sock=socks[3] if api else None,
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

    children = {start(index): index for index in range(len(jobs))}
    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    print_banner(lines)
    while children:
        pid, status = os.wait()
        index = children.pop(pid, None)
        if index is None:
            continue
        if not stopping:
            log.error("worker %d exited (status %d); starting it again", index, status)
            time.sleep(0.5)  # a worker that dies at once must not spin the supervisor
            children[start(index)] = index
