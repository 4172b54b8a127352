"""Several nodes on one PostgreSQL (issue 14, "Beyond one machine", item 1): 1, 2 and 4
`pilotgate api` processes plus 2 `pilotgate worker` processes, each its own OS process on
its own port as separate machines would be, under load from one wrk per API node (the
client is the load balancer), while nodes are killed with SIGKILL and started again.

For each configuration: messages answered (server_ids wrk saw in the answers), lost
(answered, not stored or never final), handed to the emulator twice, final statuses without
a callback, callbacks repeated (at least once allows them: a killed worker's unrecorded
acknowledgements), and requests per second summed over the API nodes.

    .venv/bin/python bench/nodes.py [--apis 1,2,4] [--duration 20] [--connections 32]
        [--database postgresql://postgres@127.0.0.1/test] [--no-kills] [--pgbouncer]

Each configuration runs on a schema of its own (dropped at the end). With --pgbouncer the
nodes reach PostgreSQL through a private PgBouncer in transaction pooling mode (20 server
sessions). Lease and hand-over-unknown times are 2 s so that what a kill leaves in doubt
ends (-1, 606) within the run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from subprocess import Popen
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import pilotgate, throwaway_schema

from pilotgate.testing.receiver import CallbackReceiver
from tests.pgbouncer import free_port, pgbouncer

#: Each answer's server_id goes to a file of the wrk thread's own (line-buffered, so a
#: stopped wrk leaves every line it saw).
LUA = """
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("number", counter)
end
function init(args)
  out = io.open(args[1] .. "-" .. number, "w")
  out:setvbuf("line")
end
function response(status, headers, body)
  for id in string.gmatch(body, '"server_id":%s*"(%d+)"') do out:write(id, "\\n") end
end
"""


class Node:
    """One `pilotgate api --port P` or `pilotgate worker`, restartable on the same port."""

    def __init__(self, role: str, env: dict[str, str], log: Path) -> None:
        self.role, self.env, self.log = role, env, log
        self.port = free_port() if role == "api" else 0
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        args = ["--port", str(self.port)] if self.role == "api" else []
        with self.log.open("a") as errors:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "pilotgate", self.role, *args],
                env=self.env,
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
            )
        assert self.proc.stdout is not None
        banner = self.proc.stdout.readline()
        if not banner.startswith(("PilotGate listening on", "PilotGate worker running")):
            raise SystemExit(f"{self.role} did not start: {banner!r}\n{self.log.read_text()}")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()
        self._close()

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()  # SIGTERM, then SIGKILL
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._close()

    def _close(self) -> None:
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()


@contextlib.contextmanager
def receiver() -> Iterator[tuple[CallbackReceiver, str]]:
    """A CallbackReceiver on its own event loop in a thread."""
    ready, box = threading.Event(), dict[str, Any]()

    async def main() -> None:
        stop = asyncio.Event()
        async with CallbackReceiver() as got:
            box.update(got=got, stop=stop, loop=asyncio.get_running_loop())
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield box["got"], box["got"].url_for("/status")
    finally:
        box["loop"].call_soon_threadsafe(box["stop"].set)
        thread.join(10)


def chaos(
    apis: list[Node], workers: list[Node], duration: float, done: threading.Event
) -> list[str]:
    """Kill nodes with SIGKILL, each started again 2 s later (in the background: a start
    takes seconds on a busy machine and must not hold up the next kill): an API node at a
    quarter of the run, a worker at 40 %, the other worker at 55 %."""
    plan = [(duration / 4, apis[0]), (duration * 0.4, workers[0]), (duration * 0.55, workers[1])]
    started, events, restarts = time.monotonic(), [], []
    for at, node in plan:
        if done.wait(max(0.0, at - (time.monotonic() - started))):
            break
        node.kill()
        events.append(f"{time.monotonic() - started:.1f}s kill -9 {node.role}")
        restart = threading.Timer(2.0, node.start)
        restart.start()
        restarts.append(restart)
    for restart in restarts:
        restart.join()
    return events


def wrk(apis: list[Node], key: str, args: argparse.Namespace, prefix: Path) -> list[Popen[str]]:
    """One wrk per API node, the connections shared out; each writes the server_ids it was
    answered to files named `prefix`-N."""
    script = prefix.with_name("ids.lua")
    script.write_text(LUA)
    per_node = max(1, args.connections // len(apis))
    return [
        subprocess.Popen(
            ["wrk", "-t1", f"-c{per_node}", f"-d{args.duration}s", "-s", str(script),
             f"http://127.0.0.1:{api.port}/api.php?send=Hello+nodes&to=79087964781"
             f"&apikey={key}&format=json", "--", f"{prefix}-{i}"],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i, api in enumerate(apis)
    ]  # fmt: skip


def settled(direct: str, got: CallbackReceiver) -> tuple[dict[str, tuple[int, int]], Counter[str]]:
    """Once every message is final (what the kills left in doubt ends -1/606 after the short
    leases) and called back, or 2 minutes passed: id → (status, error) of every stored
    message, and the final-status callbacks acknowledged per id."""
    deadline = time.monotonic() + 120
    with psycopg.connect(direct, autocommit=True) as db:
        while True:
            rows = db.execute("SELECT id, status, error FROM messages").fetchall()
            stored = {str(i): (int(s), int(e)) for i, s, e in rows}
            reported = Counter(
                c.params["server_id"] for c in got.acknowledged
                if c.params.get("status") in ("2", "-1", "-2")
            )  # fmt: skip
            done = all(s in (2, -1, -2) for s, _ in stored.values()) and set(reported) >= set(
                stored
            )
            if done or time.monotonic() > deadline:
                return stored, reported
            time.sleep(0.5)  # a poll interval


def run(n_apis: int, args: argparse.Namespace, workdir: Path) -> dict[str, object]:
    direct, drop = throwaway_schema(args.database)
    assert direct is not None
    journal = workdir / f"journal-{n_apis}"
    try:
        with contextlib.ExitStack() as stack:
            url = direct
            if args.pgbouncer:
                url = stack.enter_context(pgbouncer(direct, workdir, pool_size=20)).url
            got, status_url = stack.enter_context(receiver())
            env = dict(
                os.environ,
                PILOTGATE_DATABASE_URL=url,
                PILOTGATE_POSTGRES_PREPARE="false" if args.pgbouncer else "true",
                PILOTGATE_LOG_LEVEL="warning",
                PILOTGATE_EMULATOR_JOURNAL=str(journal),
                PILOTGATE_EMULATOR_DELAY="0.2",
                PILOTGATE_EMULATOR_FAIL_SUFFIXES="",
                PILOTGATE_CALLBACK_ALLOW_NETWORKS="127.0.0.0/8",
                PILOTGATE_LEASE_SECONDS="2",
                PILOTGATE_HANDOVER_UNKNOWN_AFTER="2",
                PILOTGATE_CALLBACK_TIMEOUT="2",
                PILOTGATE_CALLBACK_RETRY_FIRST="0.3",
                PILOTGATE_CALLBACK_RETRY_CAP="1",
            )
            pilotgate(env, "db", "upgrade")
            out = pilotgate(env, "account", "create", "--email", f"nodes{n_apis}@example.com",
                            "--password", "bench-password", "--balance", "10000000",
                            "--default-sender", "INFORM")  # fmt: skip
            account, key = re.findall(r"^account (\d+)\napikey (\w+)", out, re.M)[0]
            pilotgate(env, "account", "set", account, "--status-url", status_url)
            apis = [Node("api", env, workdir / f"api-{n_apis}-{i}.log") for i in range(n_apis)]
            workers = [Node("worker", env, workdir / f"worker-{n_apis}-{i}.log") for i in range(2)]
            for node in apis + workers:
                node.start()
                stack.callback(node.stop)
            loads = wrk(apis, key, args, workdir / f"ids-{n_apis}")
            done, events = threading.Event(), []
            killer = threading.Thread(
                target=lambda: events.extend(chaos(apis, workers, args.duration, done))
            )
            if not args.no_kills:
                killer.start()
            outputs = [load.communicate()[0] for load in loads]
            done.set()
            if killer.is_alive():
                killer.join()
            rates = [re.search(r"Requests/sec:\s+([\d.]+)", o) for o in outputs]
            answered = {
                line
                for path in workdir.glob(f"ids-{n_apis}-*")
                for line in path.read_text().split()
            }
            stored, reported = settled(direct, got)
            handed = Counter(line.split()[0] for line in journal.read_text().splitlines())
            return {
                "apis": n_apis,
                "req/s": round(sum(float(m.group(1)) for m in rates if m)),
                "answered": len(answered),
                # stored - answered: requests in flight when wrk stopped or a node was killed
                "stored": len(stored),
                "lost": len(answered - {i for i, (s, _) in stored.items() if s in (2, -1, -2)}),
                "doubled": sum(1 for times in handed.values() if times > 1),
                "ended 606": sum(1 for state in stored.values() if state == (-1, 606)),
                "callbacks missing": len(set(stored) - set(reported)),
                "callbacks repeated": sum(times - 1 for times in reported.values()),
                "kills": "; ".join(events) or "none",
            }
    finally:
        drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default="postgresql://postgres@127.0.0.1/test")
    parser.add_argument("--apis", default="1,2,4")
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--connections", type=int, default=32, help="over all API nodes")
    parser.add_argument("--no-kills", action="store_true")
    parser.add_argument("--pgbouncer", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    workdir = Path(tempfile.mkdtemp(prefix="pilotgate-nodes-"))
    try:
        for n in (int(x) for x in args.apis.split(",")):
            print(run(n, args, workdir), flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
