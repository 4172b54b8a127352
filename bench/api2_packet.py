"""API-2 packet benchmark: one POST of 10,000 different texts, and sustained messages per
second with packets of `--packet` items sent by `--concurrency` clients at once.

    .venv/bin/python bench/api2_packet.py                 # SQLite in a temporary folder
    .venv/bin/python bench/api2_packet.py --database postgresql://postgres@127.0.0.1/test
    .venv/bin/python bench/api2_packet.py --duration 20 --packet 100 --concurrency 8

Every message is a real send, committed before its answer. The load generator is Python on
the same cores, so the sustained figure is a lower bound. Afterwards the script checks that
the balance was debited for exactly the messages it counted as accepted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import httpx
from common import bench_account, start_server, throwaway_schema

PRICE = 395  # kopecks per one-part SMS to 7908… in the default tariff
CREDIT = 10_000_000


def packet(key: str, count: int, start: int) -> bytes:
    """`count` different texts to distinct Tele2 numbers, as a JSON body without headers."""
    items = [
        {
            "id": start + i,
            "to": f"7908{(start + i) % 10_000_000:07d}",
            "text": f"Order {start + i}: your code is {(start + i) * 7919 % 1_000_000:06d}",
        }
        for i in range(count)
    ]
    return json.dumps({"apikey": key, "send": items}).encode()


def accepted(response: httpx.Response) -> int:
    answer = response.json() if response.status_code == 200 else {}
    if "send" not in answer:
        raise SystemExit(f"packet refused: HTTP {response.status_code} {response.text[:300]}")
    return sum(1 for item in answer["send"] if item["status"] == 0)


def delivered(client: httpx.Client, url: str, key: str, server_id: str) -> None:
    """Wait until the pipeline has finished `server_id` (the last of a packet), so the next
    packet is timed on an idle gateway rather than against the delivery of this one."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        params = {"check": server_id, "apikey": key, "format": "json"}
        item = client.get(f"{url}/api.php", params=params).json()["check"][0]
        if item["status"] in ("2", "-1"):
            return
        time.sleep(0.2)  # a poll interval, not a synchronisation
    raise SystemExit(f"message {server_id} was not delivered within 120 s")


def big_packets(url: str, key: str, runs: int, count: int) -> list[float]:
    times = []
    with httpx.Client(timeout=120) as client:
        for run in range(runs):
            body = packet(key, count, 1_000_000 + run * count)
            started = time.perf_counter()
            answer = client.post(f"{url}/api2.php", content=body)
            times.append(time.perf_counter() - started)
            if accepted(answer) != count:
                raise SystemExit(f"only {accepted(answer)} of {count} accepted")
            delivered(client, url, key, answer.json()["send"][-1]["server_id"])
    return times


async def sustained(url: str, key: str, size: int, concurrency: int, duration: float) -> int:
    sent = 0
    deadline = time.perf_counter() + duration

    async def client_loop(n: int, client: httpx.AsyncClient) -> None:
        nonlocal sent
        start = 5_000_000 + n * 1_000_000
        while time.perf_counter() < deadline:
            answer = await client.post(f"{url}/api2.php", content=packet(key, size, start))
            sent += accepted(answer)
            start += size

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        await asyncio.gather(*(client_loop(n, client) for n in range(concurrency)))
    return sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", help="database URL (default: SQLite in a temp folder)")
    parser.add_argument("--runs", type=int, default=5, help="10,000-item packets to time")
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--packet", type=int, default=100, help="items per sustained packet")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--workers", type=int, default=1, help="pilotgate serve --workers N")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="pilotgate-bench-"))
    database, drop_schema = throwaway_schema(args.database)
    env = dict(
        os.environ,
        PILOTGATE_DATABASE_URL=database or f"sqlite:///{workdir}/bench.db",
        PILOTGATE_LOG_LEVEL="warning",
        # Its destinations are numbers in sequence: the SMS-pumping defence would (rightly)
        # hold them. Off, as `api1_send.py --no-pumping` and `smpp_e2e.py` do.
        PILOTGATE_PUMPING="0",
    )
    _, key = bench_account(env, CREDIT, sender="")
    proc, url = start_server(env, args.workers)
    backend = env["PILOTGATE_DATABASE_URL"].split(":")[0]
    try:
        big_packets(url, key, 1, 100)  # warm up: tariffs, routes, connections
        times = big_packets(url, key, args.runs, args.items)
        print(f"API-2, {backend}, {args.workers} worker(s), pipeline on")
        print("(each packet timed once the previous one is delivered)")
        print(
            f"one POST of {args.items:,} different texts: best {min(times) * 1000:.0f} ms, "
            f"median {statistics.median(times) * 1000:.0f} ms, worst {max(times) * 1000:.0f} ms "
            f"({args.runs} runs)"
        )
        started = time.perf_counter()
        count = asyncio.run(sustained(url, key, args.packet, args.concurrency, args.duration))
        elapsed = time.perf_counter() - started
        print(
            f"sustained: {count / elapsed:,.0f} messages/s "
            f"({count:,} in {elapsed:.1f} s; packets of {args.packet}, "
            f"{args.concurrency} clients)"
        )
        expected = 100 + args.runs * args.items + count
        balance = httpx.get(f"{url}/api.php", params={"balance": "rur", "apikey": key}).text
        spent = CREDIT * 100 - int(Decimal(balance) * 100)
        print(f"balance check: {spent // PRICE:,} messages charged, {expected:,} counted")
        if spent != expected * PRICE:
            raise SystemExit("the balance does not match the accepted messages")
    finally:
        proc.terminate()  # SIGTERM: works whatever the SIGINT disposition
        proc.wait(timeout=60)
        shutil.rmtree(workdir, ignore_errors=True)
        drop_schema()


if __name__ == "__main__":
    main()
