"""API-1 send benchmark: durable single sends per second at 64 connections, and one POST with
10,000 recipients.

    .venv/bin/python bench/api1_send.py                 # SQLite in a temporary folder
    .venv/bin/python bench/api1_send.py --database postgresql://postgres@127.0.0.1/test
    .venv/bin/python bench/api1_send.py --duration 20 --connections 64 --no-pipeline
    .venv/bin/python bench/api1_send.py --no-pumping      # the SMS-pumping rules off
    .venv/bin/python bench/api1_send.py --no-pipeline --duration 2 --posts 10   # the POST

Needs `wrk` (Debian: apt-get install wrk) as the load generator: it is written in C, so it
leaves the CPU to the gateway. Every request is a real send: the message is committed before
its answer. The script checks afterwards that the number of stored messages equals what wrk
counted, so errors cannot pass for throughput.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import httpx
from common import bench_account, start_server, throwaway_schema

ROOT = Path(__file__).resolve().parents[1]


def stored_messages(url: str, key: str) -> int:
    """How many messages the account holds, from the balance it was debited."""
    balance = httpx.get(f"{url}/api.php", params={"balance": "rur", "apikey": key}).text
    spent = 1_000_000_00 - int(Decimal(balance) * 100)
    return spent // 395  # 3.95 per message to 7908… in the default tariff


def wrk(url: str, key: str, connections: int, duration: int) -> dict[str, str]:
    target = f"{url}/api.php?send=Hello+world&to=79087964781&apikey={key}&format=json"
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", target],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    figures = {"raw": out}
    for name, pattern in (
        ("rps", r"Requests/sec:\s+([\d.]+)"),
        ("requests", r"(\d+) requests in"),
        ("p50", r"^\s+50%\s+(\S+)"),
        ("p99", r"^\s+99%\s+(\S+)"),
    ):
        match = re.search(pattern, out, re.MULTILINE)
        figures[name] = match.group(1) if match else "?"
    return figures


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of the server process and its descendants so far: on a
    shared machine a steadier figure of what the gateway costs than requests per second
    (it leaves out PostgreSQL's own CPU)."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    used: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        used[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    tree, grown = {pid}, True
    while grown:
        more = {child for child, parent in parents.items() if parent in tree} - tree
        tree |= more
        grown = bool(more)
    return sum(used.get(p, 0.0) for p in tree)


def bulk_post(url: str, key: str, count: int) -> tuple[float, int]:
    phones = ",".join(f"79{(100_000_000 + i * 7919) % 1_000_000_000:09d}" for i in range(count))
    with httpx.Client(timeout=60) as client:
        started = time.perf_counter()
        answer = client.post(
            f"{url}/api.php",
            data={"send": "Bulk hello", "to": phones, "apikey": key, "format": "json"},
        )
        elapsed = time.perf_counter() - started
    body = answer.json()
    if "send" not in body:
        raise SystemExit(f"bulk send failed: {body}")
    accepted = sum(1 for item in body["send"] if item["status"] == "0")
    return elapsed, accepted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", help="database URL (default: SQLite in a temp folder)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--workers", type=int, default=1, help="pilotgate serve --workers N")
    parser.add_argument(
        "--no-pipeline",
        action="store_true",
        help="measure the API alone (no delivery worker in the process)",
    )
    parser.add_argument(
        "--no-pumping",
        action="store_true",
        help="the SMS-pumping rules off (PILOTGATE_PUMPING=0), to compare with the defaults",
    )
    parser.add_argument(
        "--no-bulk", action="store_true", help="skip the POST with 10,000 recipients"
    )
    parser.add_argument(
        "--posts",
        type=int,
        default=1,
        help="POSTs of 10,000 recipients, one after the other (median time, mean server CPU:"
        " one POST's figures swing with a shared machine's load and the garbage collector)",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    workdir = Path(tempfile.mkdtemp(prefix="pilotgate-bench-"))
    database, drop_schema = throwaway_schema(args.database)
    env = dict(
        os.environ,
        PILOTGATE_DATABASE_URL=database or f"sqlite:///{workdir}/bench.db",
        PILOTGATE_LOG_LEVEL="warning",
        PILOTGATE_PIPELINE="0" if args.no_pipeline else "1",
        PILOTGATE_PUMPING="0" if args.no_pumping else "1",
    )
    _, key = bench_account(env, 1_000_000)
    proc, url = start_server(env, args.workers)
    try:
        httpx.get(f"{url}/api.php", params={"apikey": key}).raise_for_status()
        cpu_before = cpu_seconds(proc.pid)
        figures = wrk(url, key, args.connections, args.duration)
        cpu = cpu_seconds(proc.pid) - cpu_before
        stored = stored_messages(url, key)
        backend = env["PILOTGATE_DATABASE_URL"].split(":")[0]
        pipeline = "off" if args.no_pipeline else "on"
        print(
            f"single sends, {args.connections} connections, {args.duration} s, "
            f"{args.workers} worker(s), pipeline {pipeline}, {backend}, "
            f"pumping rules {'off' if args.no_pumping else 'on'}"
        )
        print(f"  requests/s {figures['rps']}   p50 {figures['p50']}   p99 {figures['p99']}")
        print(f"  wrk counted {figures['requests']} requests; messages stored {stored}")
        per_request = cpu / max(1, int(figures["requests"])) * 1e6
        print(
            f"  server CPU {per_request:.0f} µs per request; load average {os.getloadavg()[0]:.1f}"
        )
        if args.no_bulk:
            return
        times, accepted = [], 0
        before = cpu_seconds(proc.pid)
        for _ in range(max(1, args.posts)):
            elapsed, accepted = bulk_post(url, key, 10_000)
            times.append(elapsed)
        bulk_cpu = (cpu_seconds(proc.pid) - before) / len(times)
        print(
            f"one POST with 10,000 recipients: {statistics.median(times) * 1000:.0f} ms"
            f"{f' (median of {len(times)})' if len(times) > 1 else ''}, {accepted} accepted"
        )
        print(f"  server CPU for the POST {bulk_cpu * 1000:.0f} ms")
    finally:
        proc.terminate()  # SIGTERM: works whatever the SIGINT disposition
        proc.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)
        drop_schema()


if __name__ == "__main__":
    main()
