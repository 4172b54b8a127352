"""Slow clients against a gateway with few open files (issue 12, item 2): N connections that
never finish their request line, held open, while M balance requests (API-1, a new connection
each) are timed. With --reopen every connection the gateway drops is opened again at once: a
flood of new connections rather than a slowloris.

    .venv/bin/python bench/slowloris.py                      # 1,100 slow, 99 balance, 1,024 files
    .venv/bin/python bench/slowloris.py --slow 2000 --requests 300 --open-files 1024 --reopen

The gateway is `pilotgate demo` on SQLite in a temporary folder, started with its open-files
limit (soft and hard) lowered as `ulimit -n` would. Prints how many balance requests were
answered correctly and their latency.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import httpx
from common import stop_server

DEMO_KEY = "XXXXXXXXXXXXYYYYYYYYYYYYZZZZZZZZXXXXXXXXXXXXYYYYYYYYYYYYZZZZZZZZ"


def start_demo(workdir: str, open_files: int) -> tuple[subprocess.Popen[str], str]:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))

    env = {k: v for k, v in os.environ.items() if not k.startswith("PILOTGATE_")}
    env["PILOTGATE_DATABASE_URL"] = f"sqlite:///{workdir}/bench.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "pilotgate", "demo", "--port", "0"],
        env=env,
        cwd=workdir,
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=limit,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("PilotGate listening on "):
            return proc, line.split()[-1]
    raise SystemExit("the gateway did not start")


async def slow_client(
    host: str, port: int, counts: dict[str, int], stop: asyncio.Event, *, reopen: bool
) -> None:
    """Half a request line, then silence; again whenever the gateway closes it if `reopen`."""
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            await asyncio.sleep(0.1)  # the gateway's backlog is full: try again
            continue
        counts["opened"] += 1
        writer.write(b"GET /api.php?balance=rur&apikey=")
        with contextlib.suppress(OSError):
            await reader.read()  # until the gateway closes it
        counts["dropped"] += 1
        if not reopen:
            await stop.wait()
        writer.close()


async def attack(url: str, slow: int, requests: int, *, reopen: bool) -> None:
    host, port = url.removeprefix("http://").split(":")
    stop, counts = asyncio.Event(), {"opened": 0, "dropped": 0}
    clients = [
        asyncio.create_task(slow_client(host, int(port), counts, stop, reopen=reopen))
        for _ in range(slow)
    ]
    while counts["opened"] < slow:  # noqa: ASYNC110 - a benchmark's progress poll
        await asyncio.sleep(0.05)
    print(f"{slow} slow connections opened, {counts['dropped']} of them dropped by the gateway")
    latencies: list[float] = []
    failed = 0
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=5.0, limits=limits) as client:
        for _ in range(requests):
            started = time.perf_counter()
            try:
                answer = await client.get(
                    url + "/api.php", params={"balance": "rur", "apikey": DEMO_KEY}
                )
                ok = answer.status_code == 200 and answer.text == "1000.00"
            except httpx.HTTPError:
                ok = False
            if ok:
                latencies.append(time.perf_counter() - started)
            else:
                failed += 1
    stop.set()
    for task in clients:
        task.cancel()
    await asyncio.gather(*clients, return_exceptions=True)
    print(f"slow connections opened in all: {counts['opened']}, dropped: {counts['dropped']}")
    print(f"balance answered correctly: {len(latencies)} of {requests}, failed: {failed}")
    if latencies:
        print(
            f"latency: median {statistics.median(latencies) * 1000:.1f} ms, "
            f"max {max(latencies) * 1000:.1f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slow", type=int, default=1100)
    parser.add_argument("--requests", type=int, default=99)
    parser.add_argument("--open-files", type=int, default=1024)
    parser.add_argument("--reopen", action="store_true", help="reconnect dropped ones at once")
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, args.slow + 1024), hard))
    with tempfile.TemporaryDirectory() as workdir:
        proc, url = start_demo(workdir, args.open_files)
        try:
            asyncio.run(attack(url, args.slow, args.requests, reopen=args.reopen))
        finally:
            stop_server(proc)


if __name__ == "__main__":
    main()
