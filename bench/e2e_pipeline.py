"""End-to-end pipeline benchmark on one node: messages accepted through `/api.php`, handed to
the emulator connector, given their final status, and that final-status callback acknowledged
by a local HTTP receiver.

    .venv/bin/python bench/e2e_pipeline.py                    # SQLite in a temporary folder
    .venv/bin/python bench/e2e_pipeline.py --workers 2 --batch 100
    .venv/bin/python bench/e2e_pipeline.py --database postgresql://postgres@127.0.0.1/test
    .venv/bin/python bench/e2e_pipeline.py --relay      # through a relay to a second gateway

Figures: messages per second end to end (first send → last final callback acknowledged), the
send phase alone, and the tail (last send answered → last final callback). The receiver runs in
a process of its own (a bare asyncio Protocol, so it is never the bottleneck) and counts the
final callbacks (status 2 or -1) per server_id: duplicates, callbacks for unknown ids, finals
that came before their status-1 callback and missing finals are all reported. Every send
answer is checked for its server_ids, so errors cannot pass for throughput.

CPU of every process of the run is printed, in seconds and in milliseconds per message
accepted: the gateway (all its processes), the SMSC simulator, the receiver, this load
generator and, on PostgreSQL, the server's backends that serve the gateway (found by the
application_name this script puts in the database URL). On a machine whose cores every process
shares, the sum per message is what bounds the rate, and it does not depend on the load the
machine's other users put on it, which the wall-clock rate does.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qsl

import httpx
from common import bench_account, pilotgate, start_server, stop_server, throwaway_schema

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK"
BAD = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
FINAL = ("2", "-1")


def run_loop(main: Coroutine[Any, Any, Any]) -> Any:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        return asyncio.run(main)
    return uvloop.run(main)


# the receiver (a process of its own) ----------------------------------------------------------
@dataclass
class Tally:
    """What the receiver saw, by server_id; times are time.monotonic(), which is one clock for
    every process on Linux."""

    handed: set[int] = field(default_factory=set)
    finals: dict[int, int] = field(default_factory=dict)
    first_final_at: dict[int, float] = field(default_factory=dict)
    requests: int = 0
    out_of_order: int = 0
    other: int = 0

    def record(self, query: bytes, body: bytes) -> None:
        self.requests += 1
        params = dict(parse_qsl((body or query).decode("latin-1")))
        status = params.get("status", "")
        try:
            server_id = int(params.get("server_id", ""))
        except ValueError:
            self.other += 1
            return
        if status == "1":
            self.handed.add(server_id)
        elif status in FINAL:
            count = self.finals.get(server_id, 0)
            self.finals[server_id] = count + 1
            if not count:
                self.first_final_at[server_id] = time.monotonic()
                if server_id not in self.handed:
                    self.out_of_order += 1
        else:
            self.other += 1


class CallbackProtocol(asyncio.Protocol):
    """Just enough HTTP/1.1: request line, headers, a Content-Length body; keep-alive and
    pipelining; every request answered 200 "OK"."""

    def __init__(self, tally: Tally) -> None:
        self.tally = tally
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport; they behave as one.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        self.buffer += data
        answers = 0
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            lines = bytes(self.buffer[:end]).split(b"\r\n")
            length = 0
            try:
                target = lines[0].split(b" ")[1]
                for line in lines[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
            except (IndexError, ValueError):
                self.transport.write(OK * answers + BAD)
                self.transport.close()
                return
            total = end + 4 + length
            if len(self.buffer) < total:
                break
            body = bytes(self.buffer[end + 4 : total])
            del self.buffer[:total]
            self.tally.record(target.partition(b"?")[2], body)
            answers += 1
        if answers:
            self.transport.write(OK * answers)


async def receive(commands: Connection, replies: Connection) -> None:
    """Serve callbacks; answer "count" and "report" on `replies` until "stop" (or EOF).

    Two one-way pipes: the event loop makes the descriptor it watches non-blocking, and a
    large report written to a non-blocking pipe fails half-way."""
    loop = asyncio.get_running_loop()
    tally = Tally()
    server = await loop.create_server(lambda: CallbackProtocol(tally), "127.0.0.1", 0, backlog=1024)
    replies.send(server.sockets[0].getsockname()[1])
    stop = asyncio.Event()

    def command() -> None:
        try:
            what = commands.recv()
        except EOFError:  # the benchmark is gone
            what = "stop"
        if what == "count":
            replies.send(len(tally.finals))
        elif what == "report":
            replies.send(
                {
                    "finals": tally.finals,
                    "first_final_at": tally.first_final_at,
                    "requests": tally.requests,
                    "handed": len(tally.handed),
                    "out_of_order": tally.out_of_order,
                    "other": tally.other,
                }
            )
        else:
            stop.set()

    loop.add_reader(commands.fileno(), command)
    await stop.wait()
    loop.remove_reader(commands.fileno())
    server.close()
    await server.wait_closed()


def receiver_main(commands: Connection, replies: Connection) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the benchmark stops it, not Ctrl-C
    run_loop(receive(commands, replies))


# the gateway -----------------------------------------------------------------------------------
def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its living descendants (from /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    used: dict[int, float] = {}
    parent: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        parent[int(entry.name)] = int(fields[1])
        used[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    family = {pid}
    for _ in range(8):  # the gateway is a supervisor and its workers: two levels
        family |= {child for child, ppid in parent.items() if ppid in family}
    return sum(used.get(member, 0.0) for member in family)


def backend_cpu(database: str, application: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend whose application_name is `application` (the
    server runs on this machine: its processes are in /proc)."""
    import psycopg

    with psycopg.connect(database, autocommit=True) as admin:
        pids = [
            row[0]
            for row in admin.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (application,)
            )
        ]
    return {pid: cpu_seconds(pid) for pid in pids}


def process_cpu(
    processes: dict[str, int], database: str | None, application: str
) -> dict[str, dict[int, float]]:
    """CPU seconds so far of each named process (with its descendants) and of each of the
    gateway's PostgreSQL backends (a backend that is new since has used all of its own)."""
    found = {name: {pid: cpu_seconds(pid)} for name, pid in processes.items()}
    if database:
        found["PostgreSQL backends"] = backend_cpu(database, application)
    return found


# the load generator ----------------------------------------------------------------------------
@dataclass
class Sent:
    server_ids: set[int] = field(default_factory=set)
    requests: int = 0
    rejected: int = 0  # recipients answered without a server_id / status 0
    failed: int = 0  # requests answered with an error, or not at all
    repeated_ids: int = 0
    first_error: str = ""
    started: float = 0.0
    finished: float = 0.0


def batches(messages: int, batch: int) -> Iterator[str]:
    for start in range(0, messages, batch):
        yield ",".join(f"7908{n:07d}" for n in range(start, min(start + batch, messages)))


def quiet_sniffio() -> None:
    """httpcore runs `import sniffio` on every request (twice) to learn the async library.
    The dev extras pin sniffio, so this is a no-op there; where it is missing, each attempt
    searches sys.path and fails (~20 % of an httpx client's CPU). A None entry in sys.modules
    makes the import fail at once, and httpcore then assumes asyncio, which is what runs here."""
    sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]


async def send_all(url: str, key: str, messages: int, batch: int, concurrency: int) -> Sent:
    """Send every message; `sent.started`/`sent.finished` bracket the requests only."""
    sent = Sent()
    work = batches(messages, batch)  # one iterator shared by every sender task
    # A client (one connection) per task: httpcore's pool scans every connection for each
    # request, which made one shared 64-connection client cost ~10 ms of CPU per request.
    # Built before the clock starts, sharing one SSL context (never used: plain http).
    tls = ssl.create_default_context()
    clients = [
        httpx.AsyncClient(
            base_url=url, limits=httpx.Limits(max_connections=1), timeout=120, verify=tls
        )
        for _ in range(concurrency)
    ]

    async def sender(client: httpx.AsyncClient) -> None:
        for phones in work:
            sent.requests += 1
            form = {"send": "Hello world", "to": phones, "apikey": key, "format": "json"}
            try:
                answer = (await client.post("/api.php", data=form)).json()
            except (httpx.HTTPError, ValueError) as exc:
                sent.failed += 1
                sent.first_error = sent.first_error or f"{type(exc).__name__}: {exc}"
                continue
            items = answer.get("send") if isinstance(answer, dict) else None
            if not isinstance(items, list):
                sent.failed += 1
                sent.first_error = sent.first_error or str(answer)[:300]
                continue
            for item in items:
                if item.get("server_id") and item.get("status") == "0":
                    server_id = int(item["server_id"])
                    sent.repeated_ids += server_id in sent.server_ids
                    sent.server_ids.add(server_id)
                else:
                    sent.rejected += 1
                    sent.first_error = sent.first_error or str(item)[:300]

    try:
        sent.started = time.monotonic()
        await asyncio.gather(*(sender(client) for client in clients))
        sent.finished = time.monotonic()
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    return sent


def ask(commands: Connection, replies: Connection, what: str) -> Any:
    commands.send(what)
    if not replies.poll(30):
        raise SystemExit(f"the receiver did not answer {what!r}")
    return replies.recv()


def wait_for_finals(
    commands: Connection, replies: Connection, expected: int, deadline: float
) -> int:
    """Poll the receiver until `expected` distinct final callbacks arrived or the deadline."""
    seen = 0
    shown = time.monotonic()
    while time.monotonic() < deadline:
        seen = ask(commands, replies, "count")
        if seen >= expected:
            break
        if time.monotonic() - shown >= 5:
            print(f"  … {seen}/{expected} final callbacks", file=sys.stderr, flush=True)
            shown = time.monotonic()
        time.sleep(0.02)
    return seen


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f} msg/s" if seconds > 0 else "-"


def report(
    args: argparse.Namespace,
    backend: str,
    sent: Sent,
    got: dict[str, Any],
    times: tuple[float, float, float],
    cpu: dict[str, float],
) -> int:
    started, send_done, waited_until = times
    accepted = sent.server_ids
    finals: dict[int, int] = got["finals"]
    arrived: dict[int, float] = got["first_final_at"]
    missing = sorted(accepted - arrived.keys())
    unknown = len(arrived.keys() - accepted)
    duplicates = sum(count - 1 for count in finals.values())
    last_final = max((arrived[i] for i in accepted & arrived.keys()), default=send_done)
    send_s = send_done - started
    e2e_s = (last_final if not missing else waited_until) - started
    channel = "emulator delay"
    if args.smpp:
        channel = f"SMPP link (window {args.window}) to smsc-sim, receipts after"
    elif args.relay:
        channel = f"relay ({args.relay_concurrency} at once) to a second gateway, its emulator"
    print(
        f"e2e pipeline: {backend}, {args.workers} worker(s), batch {args.batch}, "
        f"{args.concurrency} concurrent requests, {channel} {args.emulator_delay:g} s, "
        f"callbacks by {args.method.upper()}"
    )
    print(
        f"  messages accepted   {len(accepted)} of {args.messages} "
        f"({sent.requests} requests, {sent.failed} failed, {sent.rejected} recipients rejected, "
        f"{sent.repeated_ids} server_ids answered twice)"
    )
    if sent.first_error:
        print(f"  first error         {sent.first_error}")
    print(f"  send phase          {send_s:8.2f} s   {rate(len(accepted), send_s)}")
    print(
        f"  end to end          {e2e_s:8.2f} s   {rate(len(accepted) - len(missing), e2e_s)}"
        + ("   (deadline reached)" if missing else "")
    )
    print(f"  tail after sends    {max(last_final - send_done, 0):8.2f} s")
    print(
        f"  callbacks received  {got['requests']} ({got['handed']} distinct status 1, "
        f"{len(finals)} distinct final, {got['other']} other)"
    )
    print(f"  duplicate finals    {duplicates}")
    print(f"  finals before status 1 callback   {got['out_of_order']}")
    print(f"  finals for unknown ids            {unknown}")
    print(f"  missing finals      {len(missing)}" + (f"  e.g. {missing[:10]}" if missing else ""))
    wall = (last_final if not missing else waited_until) - started
    print(
        "  CPU seconds         "
        + ", ".join(f"{name} {secs:.1f} ({secs / wall:.0%})" for name, secs in cpu.items())
        + "   (% of one core over the end-to-end time)"
    )
    each = max(len(accepted), 1) / 1000
    print(
        "  CPU ms per message  "
        + ", ".join(f"{name} {secs / each:.3f}" for name, secs in cpu.items())
        + f", all {sum(cpu.values()) / each:.3f}   (load average {os.getloadavg()[0]:.1f})"
    )
    return 1 if missing or duplicates or unknown or not accepted else 0


def start_smsc(env: dict[str, str], args: argparse.Namespace) -> subprocess.Popen[str]:
    """`pilotgate smsc-sim` on a free port, and a connector + route to it for every number."""
    smsc = subprocess.Popen(
        [
            *(sys.executable, "-m", "pilotgate", "smsc-sim", "--port", "0"),
            *("--receipt-delay", str(args.emulator_delay)),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert smsc.stdout is not None
    banner = smsc.stdout.readline()  # "SMSC simulator on 127.0.0.1:PORT, behaviour happy"
    port = banner.split(":")[1].split(",")[0]
    pilotgate(
        env, "connector", "add", "smpp", "sim", "--host", "127.0.0.1", "--port", port,
        "--system-id", "bench", "--password", "bench", "--window", str(args.window),
    )  # fmt: skip
    pilotgate(env, "route", "add", "*", "sms", "sim")
    return smsc


def start_upstream(
    env: dict[str, str], workdir: Path, args: argparse.Namespace
) -> tuple[subprocess.Popen[str], str, str]:
    """A second gateway (its own SQLite database, its emulator) as the relay's upstream, and
    an account on it; returns (process, url, key)."""
    up_env = dict(env, PILOTGATE_DATABASE_URL=f"sqlite:///{workdir}/upstream.db")
    created = pilotgate(
        up_env, "account", "create", "--email", "relay@example.com", "--password", "relay-pw",
        "--balance", "10000000", "--default-sender", "INFORM",
    ).split()  # fmt: skip
    proc, url = start_server(up_env, 1)
    return proc, url, created[-1]


def add_relay(
    env: dict[str, str], ours: str, upstream: str, key: str, args: argparse.Namespace
) -> None:
    """Our relay connector to the upstream, statuses by its callbacks to `ours`."""
    pilotgate(
        env, "connector", "add", "relay", "up", "--url", upstream, "--key", key,
        "--callback-url", ours, "--set", f"concurrency={args.relay_concurrency}",
    )  # fmt: skip
    pilotgate(env, "route", "add", "*", "sms", "up")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", help="database URL (default: SQLite in a temp folder)")
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=1, help="pilotgate serve --workers N")
    parser.add_argument("--batch", type=int, default=1, help="recipients per send request")
    parser.add_argument("--concurrency", type=int, default=64, help="concurrent API requests")
    parser.add_argument("--emulator-delay", type=float, default=0.2, help="seconds to status 2")
    parser.add_argument("--method", choices=["get", "post"], default="post")
    parser.add_argument(
        "--smpp",
        action="store_true",
        help="deliver through an SMPP link to `pilotgate smsc-sim` (receipts after the delay)",
    )
    parser.add_argument("--window", type=int, default=10, help="SMPP window (with --smpp)")
    parser.add_argument(
        "--relay",
        action="store_true",
        help="deliver through a relay connector to a second `pilotgate serve` (its emulator)",
    )
    parser.add_argument(
        "--relay-concurrency", type=int, default=32, help="relay sends at once (with --relay)"
    )
    parser.add_argument(
        "--deadline", type=float, default=120, help="seconds to wait for finals after sends"
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="pilotgate-e2e-"))
    database, drop_schema = throwaway_schema(args.database)
    application = f"pilotgate_bench_{os.getpid()}"
    if database:  # names the gateway's backends, so their CPU can be counted
        database = f"{database}&application_name={application}"
    env = dict(
        os.environ,
        PILOTGATE_DATABASE_URL=database or f"sqlite:///{workdir}/bench.db",
        PILOTGATE_LOG_LEVEL="warning",
        PILOTGATE_CALLBACK_ALLOW_NETWORKS="127.0.0.0/8",
        PILOTGATE_EMULATOR_DELAY=str(args.emulator_delay),
        PILOTGATE_EMULATOR_FAIL_SUFFIXES="",
        # Its destinations are numbers in sequence: the SMS-pumping defence would (rightly)
        # hold them. Off, as `api1_send.py --no-pumping` and `smpp_e2e.py` do.
        PILOTGATE_PUMPING="0",
    )
    backend = env["PILOTGATE_DATABASE_URL"].split(":")[0]
    context = multiprocessing.get_context("spawn")
    their_commands, commands = context.Pipe(duplex=False)
    replies, their_replies = context.Pipe(duplex=False)
    receiver = context.Process(
        target=receiver_main, args=(their_commands, their_replies), daemon=True
    )
    receiver.start()
    proc: subprocess.Popen[str] | None = None
    smsc: subprocess.Popen[str] | None = None
    upstream: subprocess.Popen[str] | None = None
    status = 1
    try:
        if not replies.poll(30):
            raise SystemExit("the receiver did not start")
        port = replies.recv()
        if args.smpp:
            smsc = start_smsc(env, args)
        account_id, key = bench_account(env, 10_000_000, name="e2e")
        pilotgate(
            env,
            "account",
            "set",
            account_id,
            "--status-url",
            f"http://127.0.0.1:{port}/status",
            "--status-method",
            args.method,
        )
        proc, url = start_server(env, args.workers)
        if args.relay:
            upstream, upstream_url, upstream_key = start_upstream(env, workdir, args)
            add_relay(env, url, upstream_url, upstream_key, args)
            time.sleep(2)  # bench set-up: let a link keeper round bind the relay
        httpx.get(f"{url}/api.php", params={"apikey": key}).raise_for_status()
        assert receiver.pid is not None
        processes = {"gateway": proc.pid, "receiver": receiver.pid}
        if smsc is not None:
            processes["SMSC simulator"] = smsc.pid
        cpu_before = process_cpu(processes, database, application)
        load_before = time.process_time()

        quiet_sniffio()
        sent = run_loop(send_all(url, key, args.messages, args.batch, args.concurrency))
        started, send_done = sent.started, sent.finished
        load_cpu = time.process_time() - load_before

        wait_for_finals(commands, replies, len(sent.server_ids), send_done + args.deadline)
        waited_until = time.monotonic()
        cpu = {
            name: sum(secs - cpu_before[name].get(pid, 0.0) for pid, secs in now.items())
            for name, now in process_cpu(processes, database, application).items()
        }
        cpu["load generator"] = load_cpu
        if upstream is not None:
            cpu["upstream gateway"] = cpu_seconds(upstream.pid)
        got = ask(commands, replies, "report")
        status = report(args, backend, sent, got, (started, send_done, waited_until), cpu)
    finally:
        if proc is not None:
            stop_server(proc)
        if upstream is not None:
            stop_server(upstream)
        if smsc is not None:
            smsc.terminate()
            smsc.wait(10)
        if receiver.is_alive():
            commands.send("stop")
            receiver.join(10)
            if receiver.is_alive():
                receiver.terminate()
                receiver.join(5)
        shutil.rmtree(workdir, ignore_errors=True)
        drop_schema()
    sys.exit(status)


if __name__ == "__main__":
    main()
