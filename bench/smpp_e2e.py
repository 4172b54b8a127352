"""SMPP server end to end: ESME binds (transceivers, one by default, `--binds N`; window 50
each) submit N messages with registered_delivery=1 and count the deliver_sm receipts that
come back (to any of the binds: each claims what its account is owed). Three figures:

- submit_sm/s: first submit_sm → last submit_sm_resp (PilotGate answers each only after
  its message is committed);
- end to end msgs/s: first submit_sm → last receipt, the message having gone out over an
  SMPP link to a simulator, which sent a receipt `--receipt-delay` seconds later, which came
  back to the gateway and then to this ESME as deliver_sm;
- the serving process's CPU seconds (user+system, /proc) from the first submit_sm to the
  last answer or receipt (PilotGate only), per 1,000 messages: the figure a loaded machine
  disturbs least; and this process's (the ESME's) beside it, to see
  whether the load generator, not the server, is what saturates a core.

`--accept-only` runs `pilotgate api` (no pipeline: nothing goes out, no receipts) and stops
after the last submit_sm_resp: the serving process's CPU is then the submit_sm path alone
(read, decode, dispatch, the group commit, the resp), the figure to compare changes by.

    .venv/bin/python bench/smpp_e2e.py                           # PilotGate, SQLite
    .venv/bin/python bench/smpp_e2e.py --database postgresql://postgres@127.0.0.1/test
    PEERS=... .venv/bin/python bench/smpp_e2e.py --jasmin       # Jasmin, same ESME

PilotGate: `pilotgate serve` with PILOTGATE_SMPP_LISTEN, a connector of kind smpp to
`pilotgate smsc-sim` (window 50), an account with SMPP credentials. Jasmin: its stack as the
peer's scripts start it ($PEERS/jasmin/start.sh: jasmind's SMPP server on 2775, user
bench/benchpwd made through jCli, one SMPP client connector to its smpp34 simulator, which
sends receipts 1 s after submit_sm_resp), stopped again with its stop.sh.

The ESME is a bare asyncio Protocol in this process (struct-packed PDUs, no library), so it
is never the bottleneck; every receipt is answered deliver_sm_resp 0 at once.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from common import pilotgate, start_server, stop_server, throwaway_schema

BIND_TRX, SUBMIT_SM, DELIVER_SM, UNBIND, ENQUIRE_LINK = 0x09, 0x04, 0x05, 0x06, 0x15
RESP = 0x80000000
HEADER = struct.Struct(">IIII")


def cstr(text: str) -> bytes:
    return text.encode("ascii") + b"\0"


def pdu(command: int, sequence: int, body: bytes = b"", status: int = 0) -> bytes:
    return HEADER.pack(16 + len(body), command, status, sequence) + body


def submit_body(source: str, phone: str, text: bytes) -> bytes:
    return (
        b"\0"  # service_type
        + bytes((5, 0))
        + cstr(source)
        + bytes((1, 1))
        + cstr(phone)
        + bytes((0, 0, 0))  # esm_class, protocol_id, priority_flag
        + b"\0\0"  # schedule_delivery_time, validity_period
        + bytes((1, 0, 0, 0, len(text)))  # registered_delivery=1, replace, dc 0, default, length
        + text
    )


def receipt_id(body: bytes) -> tuple[int, bytes]:
    """(esm_class, the id: field of the text) of a deliver_sm body."""
    at = body.index(b"\0") + 1  # service_type
    at = body.index(b"\0", at + 2) + 1  # source ton, npi, addr
    at = body.index(b"\0", at + 2) + 1  # dest ton, npi, addr
    esm_class = body[at]
    at += 3
    at = body.index(b"\0", at) + 1  # schedule_delivery_time
    at = body.index(b"\0", at) + 1  # validity_period
    length = body[at + 4]
    text = body[at + 5 : at + 5 + length]
    start = text.find(b"id:")
    return esm_class, text[start + 3 :].split(b" ", 1)[0] if start >= 0 else b""


@dataclass
class Run:
    count: int
    window: int
    accepted: set[bytes] = field(default_factory=set)
    refused: dict[int, int] = field(default_factory=dict)
    answered: int = 0
    receipts: set[bytes] = field(default_factory=set)
    other_deliveries: int = 0
    started: float = 0.0
    submits_done: float = 0.0
    last_receipt: float = 0.0
    binds: int = 1
    accept_only: bool = False
    text_length: int = 0  # of every submit_sm's text; 0: "bench N"
    #: The serving process (None: not ours to read) and its CPU seconds, and this process's
    #: (the ESME's), from the first submit_sm to the end of the run: binds and the start
    #: (a password hash, migrations) are not counted.
    server_pid: int | None = None
    server_cpu: float | None = None
    esme_cpu: float = 0.0
    #: Every submit_sm answered and every accepted one's receipt in (or a connection lost).
    complete: asyncio.Event = field(default_factory=asyncio.Event)


class Esme(asyncio.Protocol):
    def __init__(self, run: Run) -> None:
        self.run = run
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.credit = asyncio.Event()
        self.free = run.window
        self.bound: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.done = asyncio.Event()
        self.lost = asyncio.Event()
        self.early: list[bytes] = []  # receipts that came before their submit_sm_resp

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost.set()
        self.done.set()
        self.credit.set()
        self.run.complete.set()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while len(self.buffer) >= 16:
            length, command, status, sequence = HEADER.unpack_from(self.buffer)
            if len(self.buffer) < length:
                break
            body = bytes(self.buffer[16:length])
            del self.buffer[:length]
            self.dispatch(command, status, sequence, body)

    def dispatch(self, command: int, status: int, sequence: int, body: bytes) -> None:
        run, now = self.run, time.monotonic()
        if command == SUBMIT_SM | RESP:
            run.answered += 1
            if status:
                run.refused[status] = run.refused.get(status, 0) + 1
            else:
                run.accepted.add(body.rstrip(b"\0"))
            if run.answered == run.count:
                run.submits_done = now
                self.check_done()
            self.free += 1
            self.credit.set()
        elif command == DELIVER_SM:
            assert self.transport is not None
            self.transport.write(pdu(DELIVER_SM | RESP, sequence, b"\0"))
            esm_class, message_id = receipt_id(body)
            if esm_class & 0x04 and message_id:
                run.receipts.add(message_id)
                run.last_receipt = now
                self.check_done()
            else:
                run.other_deliveries += 1
        elif command == ENQUIRE_LINK:
            assert self.transport is not None
            self.transport.write(pdu(ENQUIRE_LINK | RESP, sequence))
        elif command == BIND_TRX | RESP and not self.bound.done():
            self.bound.set_result(status)
        elif command == UNBIND | RESP or command == UNBIND:
            self.done.set()

    def check_done(self) -> None:
        run = self.run
        if run.answered == run.count and run.accept_only:
            run.complete.set()
        elif run.answered == run.count and run.accepted and run.accepted <= run.receipts:
            run.complete.set()

    async def submit_all(self, source: str, numbers: range) -> None:
        assert self.transport is not None
        for n in numbers:
            while self.free <= 0:
                self.credit.clear()
                await self.credit.wait()
                if self.lost.is_set():
                    return
            self.free -= 1
            text = b"bench %d " % n
            if self.run.text_length > len(text):  # a realistic one-part text, GSM-7
                text = (text + b"Your code is 123456. " * 8)[: self.run.text_length]
            body = submit_body(source, f"7908{n:07d}", text)
            self.transport.write(pdu(SUBMIT_SM, n + 2, body))


async def bind(port: int, system_id: str, password: str, run: Run) -> Esme:
    loop = asyncio.get_running_loop()
    for _ in range(100):  # the listener may come up a moment after the HTTP banner
        try:
            _, esme = await loop.create_connection(lambda: Esme(run), "127.0.0.1", port)
            break
        except OSError:
            await asyncio.sleep(0.1)
    else:
        raise SystemExit(f"no SMPP listener on 127.0.0.1:{port}")
    assert esme.transport is not None
    body = cstr(system_id) + cstr(password) + b"\0" + bytes((0x34, 0, 0)) + b"\0"
    esme.transport.write(pdu(BIND_TRX, 1, body))
    status = await asyncio.wait_for(esme.bound, 30)
    if status:
        raise SystemExit(f"bind_transceiver refused: status 0x{status:08x}")
    return esme


async def unbind(esme: Esme) -> None:
    assert esme.transport is not None
    if not esme.lost.is_set():
        esme.done.clear()
        esme.transport.write(pdu(UNBIND, 0x7FFFFFFF))
        try:
            await asyncio.wait_for(esme.done.wait(), 10)
        except TimeoutError:
            pass
    esme.transport.close()


async def esme(
    port: int, system_id: str, password: str, args: argparse.Namespace, pid: int | None = None
) -> Run:
    """Bind `args.binds` times, submit `args.messages` spread over the binds, wait for every
    receipt (or the deadline), unbind."""
    run = Run(args.messages, args.window, binds=args.binds, accept_only=args.accept_only)
    run.server_pid, run.text_length = pid, args.text_length
    esmes = [await bind(port, system_id, password, run) for _ in range(args.binds)]
    server = cpu_seconds(run.server_pid) if run.server_pid else 0.0
    run.started, cpu = time.monotonic(), time.process_time()
    await asyncio.gather(
        *(
            esme.submit_all(args.source, range(i, run.count, args.binds))
            for i, esme in enumerate(esmes)
        )
    )
    until = time.monotonic() + args.deadline
    while not run.complete.is_set() and time.monotonic() < until:
        try:  # a progress line every 5 s while receipts come in
            await asyncio.wait_for(run.complete.wait(), min(5, until - time.monotonic()))
        except TimeoutError:
            print(f"  … {len(run.receipts)}/{len(run.accepted)} receipts", file=sys.stderr)
    run.esme_cpu = time.process_time() - cpu
    if run.server_pid:
        run.server_cpu = cpu_seconds(run.server_pid) - server
    await asyncio.gather(*(unbind(esme) for esme in esmes))
    return run


def report(what: str, run: Run) -> None:
    cpu = run.server_cpu
    submit_s = (run.submits_done or time.monotonic()) - run.started
    matched = len(run.accepted & run.receipts)
    e2e_s = (run.last_receipt or time.monotonic()) - run.started
    load = os.getloadavg()
    binds = "one transceiver bind" if run.binds == 1 else f"{run.binds} transceiver binds"
    print(f"{what}: {run.count} submit_sm, {binds}, window {run.window} each")
    print(
        f"  submit_sm accepted  {len(run.accepted)} in {submit_s:.2f} s: "
        f"{len(run.accepted) / submit_s:,.0f}/s   refused {run.refused or 0}"
    )
    print(
        f"  end to end          {matched} receipts in {e2e_s:.2f} s: {matched / e2e_s:,.0f} msgs/s"
        f"   (receipts for unknown ids {len(run.receipts - run.accepted)}, "
        f"other deliver_sm {run.other_deliveries}, missing {len(run.accepted - run.receipts)})"
    )
    if cpu is not None:
        print(
            f"  server CPU          {cpu:.2f} s: {cpu * 1000 / run.count:.3f} s per 1,000 messages"
        )
    client = run.esme_cpu
    print(f"  ESME CPU            {client:.2f} s: {client * 1000 / run.count:.3f} s per 1,000")
    print(f"  load average        {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of process `pid` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_esme(
    port: int, system_id: str, password: str, args: argparse.Namespace, pid: int | None = None
) -> Run:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        return asyncio.run(esme(port, system_id, password, args, pid))
    return uvloop.run(esme(port, system_id, password, args, pid))


def bench_pilotgate(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="pilotgate-smpp-e2e-"))
    database, drop_schema = throwaway_schema(args.database)
    port = free_port()
    env = dict(
        os.environ,
        PILOTGATE_DATABASE_URL=database or f"sqlite:///{workdir}/bench.db",
        PILOTGATE_LOG_LEVEL=os.environ.get("BENCH_LOG_LEVEL", "warning"),
        PILOTGATE_SMPP_LISTEN=f"127.0.0.1:{port}",
        # Every destination here is 7908NNNNNNN in sequence: the SMS-pumping defence would
        # (rightly) hold them all. Off, as `api1_send.py --no-pumping` does.
        PILOTGATE_PUMPING="0",
    )
    proc: subprocess.Popen[str] | None = None
    smsc: subprocess.Popen[str] | None = None
    try:
        smsc = subprocess.Popen(
            [
                *(sys.executable, "-m", "pilotgate", "smsc-sim", "--port", "0"),
                *("--receipt-delay", str(args.receipt_delay)),
            ],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert smsc.stdout is not None
        banner = smsc.stdout.readline()  # "SMSC simulator on 127.0.0.1:PORT, behaviour happy"
        pilotgate(
            env, "connector", "add", "smpp", "sim", "--host", "127.0.0.1",
            "--port", banner.split(":")[1].split(",")[0], "--system-id", "bench",
            "--password", "bench", "--window", str(args.link_window),
        )  # fmt: skip
        pilotgate(env, "route", "add", "*", "sms", "sim")
        created = pilotgate(
            env, "account", "create", "--email", f"smpp{os.getpid()}@example.com",
            "--password", "bench-password", "--balance", "10000000",
            "--default-sender", args.source,
        ).split()  # fmt: skip
        pilotgate(
            env, "account", "set", created[1], "--smpp-system-id", "bench",
            "--smpp-password", "bench123",
        )  # fmt: skip
        proc, _ = start_server(env, args.workers, "api" if args.accept_only else "serve")
        # One process (--workers 1) serves everything; with more, this is the supervisor's.
        run = run_esme(port, "bench", "bench123", args, proc.pid if args.workers == 1 else None)
        backend = env["PILOTGATE_DATABASE_URL"].split(":")[0]
        report(f"PilotGate ({backend}, {args.workers} process(es))", run)
    finally:
        if proc is not None:
            stop_server(proc)
        if smsc is not None:
            smsc.terminate()
            smsc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)
        drop_schema()


def bench_jasmin(args: argparse.Namespace) -> None:
    peers = os.environ.get("PEERS")
    if not peers:
        raise SystemExit("--jasmin needs PEERS, the folder holding jasmin/start.sh")
    scripts = Path(peers) / "jasmin"
    subprocess.run([str(scripts / "start.sh")], check=True, stdout=subprocess.DEVNULL)
    try:
        port = int(os.environ.get("SMPPS_PORT", "2775"))
        user = os.environ.get("BENCH_USER", "bench")
        run = run_esme(port, user, os.environ.get("BENCH_PASSWORD", "benchpwd"), args)
        report("Jasmin (its SMPP server, one SMPP client connector, its simulator)", run)
    finally:
        subprocess.run([str(scripts / "stop.sh")], check=False, stdout=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", help="database URL (default: SQLite in a temp folder)")
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--window", type=int, default=50, help="each bind's window")
    parser.add_argument("--binds", type=int, default=1, help="transceiver binds of the ESME")
    parser.add_argument("--link-window", type=int, default=50, help="PilotGate's SMPP link")
    parser.add_argument("--workers", type=int, default=1, help="pilotgate serve --workers N")
    parser.add_argument("--source", default="INFORM", help="source_addr of every submit_sm")
    parser.add_argument(
        "--receipt-delay", type=float, default=1.0,
        help="seconds from submit_sm_resp to the simulator's receipt (Jasmin's: 1 s)",
    )  # fmt: skip
    parser.add_argument(
        "--deadline", type=float, default=300, help="seconds to wait for receipts after sends"
    )
    parser.add_argument("--jasmin", action="store_true", help="Jasmin instead of PilotGate")
    parser.add_argument(
        "--text-length", type=int, default=0,
        help="characters of each text (at most 160: one part); default: \"bench N\"",
    )  # fmt: skip
    parser.add_argument(
        "--accept-only", action="store_true",
        help="`pilotgate api` (no pipeline): submit_sm accepted and the server's CPU for them",
    )  # fmt: skip
    args = parser.parse_args()
    if args.jasmin:
        bench_jasmin(args)
    else:
        bench_pilotgate(args)


if __name__ == "__main__":
    main()
