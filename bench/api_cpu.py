"""The gateway's own CPU per API call, in one process: the ASGI application called directly,
without uvicorn, sockets or a load generator, so that neither the kernel's work for the
connections nor a load generator's share of the cores is in the figure (on a shared machine
the steadiest figure for the Python of a send).

    .venv/bin/python bench/api_cpu.py                   # SQLite in a temporary folder
    .venv/bin/python bench/api_cpu.py --database postgresql://postgres@127.0.0.1/test
    .venv/bin/python bench/api_cpu.py --sends 20000 --concurrency 50 --packets 5

Two figures: CPU per API-1 single send (`--concurrency` sends in flight at once, as many
connections would have; the group commit batches them as in the server), and CPU and wall
time of one API-2 POST of 10,000 different texts (median of `--packets`). CPU is the whole
process's (`time.process_time`): the database driver's share in this process included,
PostgreSQL's own not. Pipeline off; the pumping rules for the single sends as
`PILOTGATE_PUMPING` says (on by default, as in `serve`), off for the packets.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from api2_packet import packet
from common import bench_account, throwaway_schema

Message = MutableMapping[str, Any]


async def _measure(key: str, sends: int, concurrency: int, packets: int) -> None:
    # Imported here: the environment names the database first.
    from pilotgate import bootstrap
    from pilotgate.api.app import App
    from pilotgate.api.proxies import TrustedProxies
    from pilotgate.config.loading import load

    settings = load()
    store = await bootstrap.open_store(settings)
    apps = []
    # The packet's numbers run in sequence, which the pumping rules hold (status 4): it is
    # sent through a gateway with them off, as bench/api2_packet.py is run.
    for environ in (os.environ, dict(os.environ, PILOTGATE_PUMPING="0")):
        gateway = bootstrap.build_gateway(load(environ), store, None)
        await gateway.numbering.fresh()
        apps.append(TrustedProxies(App(gateway, max_body_bytes=settings.max_body_bytes), ()))

    async def call(method: str, path: str, query: bytes, body: bytes = b"") -> bytes:
        scope: Message = {
            "type": "http",
            "method": method,
            "path": path,
            "query_string": query,
            "headers": [(b"host", b"bench"), (b"content-length", str(len(body)).encode())],
            "client": ("127.0.0.1", 40000),
            "scheme": "http",
            "extensions": {},
        }
        sent: list[Message] = []

        async def receive() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: Message) -> None:
            sent.append(message)

        await apps[path == "/api2.php"](scope, receive, send)
        return bytes(sent[-1]["body"])

    query = f"send=Hello+world&to=79087964781&apikey={key}&format=json".encode()
    left = sends

    async def connection() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            answer = await call("GET", "/api.php", query)
            if b'"status":"0"' not in answer:
                raise SystemExit(f"send failed: {answer[:300]!r}")

    for _ in range(200):  # warm: caches read, code paths taken once
        await call("GET", "/api.php", query)
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(
        f"API-1 single sends: {sends} at {concurrency} in flight: CPU {cpu / sends * 1e6:.0f} µs "
        f"per send ({sends / wall:.0f} sends/s in this process)"
    )
    cpus, walls = [], []
    for run in range(packets):
        body = packet(key, 10_000, 1_000_000 + run * 10_000)
        cpu, wall = time.process_time(), time.perf_counter()
        answer = await call("POST", "/api2.php", b"", body)
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
        if answer.count(b'"status":0,') != 10_000:
            raise SystemExit(f"packet not wholly accepted: {answer[:300]!r}")
    if packets:
        print(
            f"API-2 POST of 10,000 texts: CPU {statistics.median(cpus) * 1000:.0f} ms, "
            f"wall {statistics.median(walls) * 1000:.0f} ms (medians of {packets}; "
            f"CPU each: {', '.join(f'{c * 1000:.0f}' for c in cpus)})"
        )
    await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", help="database URL (default: SQLite in a temp folder)")
    parser.add_argument("--sends", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--packets", type=int, default=5)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="pilotgate-bench-"))
    database, drop_schema = throwaway_schema(args.database)
    os.environ.update(
        PILOTGATE_DATABASE_URL=database or f"sqlite:///{workdir}/bench.db",
        PILOTGATE_LOG_LEVEL="warning",
        PILOTGATE_PIPELINE="0",
    )
    _, key = bench_account(dict(os.environ), 10_000_000)
    try:
        import uvloop

        uvloop.run(_measure(key, args.sends, args.concurrency, args.packets))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        drop_schema()


if __name__ == "__main__":
    main()
