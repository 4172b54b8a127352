"""Password-guess flood: the gateway's memory and its API-key customers' send times while
many `login`+`password` guesses arrive at once (issue 12, item 5).

    .venv/bin/python bench/password_flood.py                       # 32 and 200 guesses
    .venv/bin/python bench/password_flood.py --guesses 32 200 500 --sends 30
    PILOTGATE_PASSWORD_CHECK_THREADS=2 .venv/bin/python bench/password_flood.py

Every guess names an e-mail of its own without an account (the worst case since the lockout:
none stops it, each costs a full argon2 verification), or with `--existing` the benchmark
account's e-mail with a wrong password (the worst case before the lockout). While a flood is
under way, one client sends real single messages with an API key, one after another until the
last guess is answered, and their times are reported next to the same sends without a flood.
Memory is the server's RSS (its children included) before and after, and the process's peak
(VmHWM). SQLite in a temporary folder.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from pathlib import Path

import httpx
from common import pilotgate, start_server

EMAIL = "bench@example.com"
PASSWORD = "bench-password"  # a throwaway account


def memory(pid: int) -> tuple[int, int]:
    """(RSS, peak RSS) in MiB of `pid` and its children."""
    rss = peak = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for each in pids:
        for line in Path(f"/proc/{each}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss += int(line.split()[1])
            elif line.startswith("VmHWM:"):
                peak += int(line.split()[1])
    return rss // 1024, peak // 1024


def timed_sends(url: str, key: str, count: int) -> list[float]:
    times = []
    with httpx.Client(timeout=600) as client:
        for n in range(count):
            started = time.perf_counter()
            answer = client.get(
                f"{url}/api.php",
                params={"send": f"Hi {n}", "to": "79087964781", "apikey": key, "format": "json"},
            )
            times.append(time.perf_counter() - started)
            if "send" not in answer.json():
                raise SystemExit(f"a send failed: {answer.text}")
    return times


async def guesses_at_once(url: str, guesses: int, existing: bool, started: Event) -> Counter[str]:
    limits = httpx.Limits(max_connections=guesses, max_keepalive_connections=guesses)
    async with httpx.AsyncClient(timeout=600, limits=limits) as client:

        async def guess(n: int) -> str:
            login = EMAIL if existing else f"guess-{n}@example.com"
            answer = await client.get(
                f"{url}/api.php",
                params={"login": login, "password": f"guess-{n}", "format": "json"},
            )
            return str(answer.json().get("error", {}).get("code", "ok"))

        attack = [asyncio.create_task(guess(n)) for n in range(guesses)]
        await asyncio.sleep(0)  # every task has begun its request
        started.set()
        return Counter(await asyncio.gather(*attack))


def attacker(
    url: str, guesses: int, existing: bool, started: Event, results: Queue[Counter[str]]
) -> None:
    """In a process of its own, so that the customer's times are not the attacker's."""
    results.put(asyncio.run(guesses_at_once(url, guesses, existing, started)))


def flood(
    url: str, key: str, guesses: int, sends: int, existing: bool = False
) -> tuple[Counter[str], list[float]]:
    started: Event = multiprocessing.Event()
    results: Queue[Counter[str]] = multiprocessing.Queue()
    attack = multiprocessing.Process(
        target=attacker, args=(url, guesses, existing, started, results)
    )
    attack.start()
    try:
        started.wait(60)
        times = timed_sends(url, key, sends)
        # Then on until the last guess is answered: every send overlaps the flood.
        while attack.is_alive() and results.empty():
            times += timed_sends(url, key, 10)
        answers = results.get(timeout=600)
    finally:
        attack.join(timeout=60)
        if attack.is_alive():
            attack.terminate()
    return answers, times


def refusal_times(url: str) -> tuple[float, float]:
    """Median ms of refusing a wrong password for the existing e-mail and for unknown ones
    (4 each, one at a time: below the lockout)."""
    existing: list[float] = []
    unknown: list[float] = []
    with httpx.Client(timeout=60) as client:
        for n in range(4):
            for times, login in ((existing, EMAIL), (unknown, f"timing-{n}@example.com")):
                started = time.perf_counter()
                client.get(f"{url}/api.php", params={"login": login, "password": f"x{n}"})
                times.append((time.perf_counter() - started) * 1000)
        # A success clears the existing e-mail's count for the floods that follow.
        client.get(f"{url}/api.php", params={"login": EMAIL, "password": PASSWORD})
    return statistics.median(existing), statistics.median(unknown)


def describe(times: list[float]) -> str:
    ms = sorted(t * 1000 for t in times)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    median = statistics.median(ms)
    return f"{len(ms)} sends, median {median:.0f} ms, p99 {p99:.0f} ms, max {ms[-1]:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--guesses", type=int, nargs="+", default=[32, 200])
    parser.add_argument("--sends", type=int, default=20, help="API-key sends at least, per flood")
    parser.add_argument("--existing", action="store_true", help="guess an existing account's")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="pilotgate-bench-"))
    env = dict(
        os.environ,
        PILOTGATE_DATABASE_URL=f"sqlite:///{workdir}/bench.db",
        PILOTGATE_LOG_LEVEL="warning",
    )
    key = pilotgate(
        env,
        "account",
        "create",
        "--email",
        EMAIL,
        "--password",
        PASSWORD,
        "--balance",
        "1000000",
        "--default-sender",
        "INFORM",
    ).split()[-1]
    proc, url = start_server(env, 1)
    try:
        quiet = flood(url, key, 1, args.sends)[1]  # also warms argon2 up once
        threads = os.environ.get("PILOTGATE_PASSWORD_CHECK_THREADS", "default")
        target = "one existing e-mail" if args.existing else "unknown e-mails"
        print(f"password check threads: {threads}; guesses at {target}")
        print(f"API-key sends, no flood: {describe(quiet)}")
        known, unknown = refusal_times(url)
        print(f"wrong password refused in {known:.0f} ms, unknown e-mail in {unknown:.0f} ms")
        for guesses in args.guesses:
            before, _ = memory(proc.pid)
            started = time.perf_counter()
            answers, times = flood(url, key, guesses, args.sends, args.existing)
            elapsed = time.perf_counter() - started
            after, peak = memory(proc.pid)
            codes = ", ".join(f"{code}×{n}" for code, n in sorted(answers.items()))
            print(
                f"{guesses} concurrent guesses: answered in {elapsed:.1f} s ({codes}); RSS "
                f"{before} → {after} MiB, peak {peak} MiB; API-key sends: {describe(times)}"
            )
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
