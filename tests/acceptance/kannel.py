"""Kannel (Debian's `kannel`: bearerbox and smsbox) as an ESME of PilotGate, for the
acceptance tests: its own configuration under a test's tmp directory, its own free loopback
ports, stopped with SIGTERM then SIGKILL. Its logs go into every failure message."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from .support import stop_process

#: Debian installs the boxes in /usr/sbin, which a user's PATH may lack.
SEARCH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin"])
BEARERBOX, SMSBOX = shutil.which("bearerbox", path=SEARCH), shutil.which("smsbox", path=SEARCH)
ADMIN_PASSWORD = "kannel-admin"
SENDSMS_USER, SENDSMS_PASSWORD = "tester", "testerpw"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def config(
    run: Path, smsc_port: int, system_id: str, password: str, sink: str, ports: dict[str, int]
) -> str:
    """bearerbox + smsbox, one SMPP transceiver to PilotGate.

    `msg-id-type = 0x00`: PilotGate's message ids are decimal both in submit_sm_resp and in a
    receipt (its `id:` and receipted_message_id), so Kannel is told to read both as decimal
    numbers; it stores the submit_sm_resp id and looks the receipt's id up by that.
    `max-pending-submits` is Kannel's window; a message answered ESME_RTHROTTLED is queued
    again by bearerbox a moment later. `reconnect-delay` is how soon a lost bind is
    tried again (the restart test)."""
    return f"""group = core
admin-port = {ports["admin"]}
admin-password = {ADMIN_PASSWORD}
status-password = {ADMIN_PASSWORD}
admin-allow-ip = "127.0.0.1"
smsbox-port = {ports["box"]}
box-allow-ip = "127.0.0.1"
log-file = "{run}/bearerbox.log"
log-level = 0
access-log = "{run}/access.log"
store-type = file
store-location = "{run}/store"
dlr-storage = internal
sms-resend-retry = -1
sms-resend-freq = 1

group = smsc
smsc = smpp
smsc-id = pilotgate
host = 127.0.0.1
port = {smsc_port}
transceiver-mode = true
smsc-username = "{system_id}"
smsc-password = "{password}"
system-type = ""
source-addr-ton = 1
source-addr-npi = 1
dest-addr-ton = 1
dest-addr-npi = 1
max-pending-submits = 10
msg-id-type = 0x00
enquire-link-interval = 30
reconnect-delay = 1
wait-ack = 10
wait-ack-expire = 0x02

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {ports["box"]}
sendsms-port = {ports["sendsms"]}
log-file = "{run}/smsbox.log"
log-level = 0
mo-recode = true

group = sendsms-user
username = {SENDSMS_USER}
password = {SENDSMS_PASSWORD}
max-messages = 10
concatenation = true
default-smsc = pilotgate

group = sms-service
keyword = default
get-url = "{sink}/mo?from=%p&to=%P&text=%b&coding=%c"
accept-x-kannel-headers = true
max-messages = 0
catch-all = true
"""


class Kannel:
    """bearerbox and smsbox bound to PilotGate's SMPP port; `sendsms` is its HTTP interface."""

    def __init__(self, run: Path, smsc_port: int, system_id: str, password: str, sink: str):
        self.run = run
        run.mkdir(parents=True, exist_ok=True)
        self.ports = {"admin": free_port(), "box": free_port(), "sendsms": free_port()}
        self.sink = sink
        self.conf = run / "kannel.conf"
        self.conf.write_text(config(run, smsc_port, system_id, password, sink, self.ports))
        self.processes: list[subprocess.Popen[bytes]] = []
        self.http = httpx.Client(timeout=10)

    def __enter__(self) -> Kannel:
        self._start(str(BEARERBOX))
        self.wait(lambda: self._answers(self.ports["admin"]), "bearerbox's admin port", 30)
        self._start(str(SMSBOX))
        self.wait(lambda: self._answers(self.ports["sendsms"]), "smsbox's sendsms port", 30)
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()
        # smsbox first: it flushes to bearerbox, which then unbinds from PilotGate.
        for process in reversed(self.processes):
            stop_process(process, 20, self.logs)

    def _start(self, box: str) -> None:
        out = (self.run / f"{Path(box).name}.out").open("wb")
        self.processes.append(
            subprocess.Popen(
                [box, str(self.conf)], stdout=out, stderr=out, stdin=subprocess.DEVNULL
            )
        )
        out.close()

    @staticmethod
    def _answers(port: int) -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port)) == 0

    def log(self, name: str) -> str:
        path = self.run / name
        return path.read_text(errors="replace") if path.exists() else ""

    def logs(self) -> str:
        shown = []
        try:
            shown.append(f"--- Kannel status.txt\n{self.status()}")
        except httpx.HTTPError as error:
            shown.append(f"--- Kannel status.txt: {error!r}")
        for name in ("bearerbox.log", "smsbox.log", "bearerbox.out", "smsbox.out"):
            path = self.run / name
            if path.exists():
                text = path.read_text(errors="replace").splitlines()
                shown.append(f"--- Kannel {name} (last 80 lines)\n" + "\n".join(text[-80:]))
        return "\n".join(shown)

    def wait(self, condition: Any, what: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            for process in self.processes:
                assert process.poll() is None, f"{process.args!r} ended\n{self.logs()}"
            assert time.monotonic() < deadline, f"Kannel: no {what} in {timeout} s\n{self.logs()}"
            time.sleep(0.1)  # a poll interval, not a synchronisation

    def status(self) -> str:
        answer = self.http.get(
            f"http://127.0.0.1:{self.ports['admin']}/status.txt",
            params={"password": ADMIN_PASSWORD},
        )
        return answer.text

    def link(self) -> str:
        """The state Kannel's status page shows for its SMPP link: online, connecting, …"""
        found = re.search(r"\[pilotgate\]\s+SMPP:\S*\s+\((\w+)", self.status())
        return found.group(1) if found else ""

    def wait_online(self, timeout: float = 30) -> None:
        self.wait(lambda: self.link() == "online", "online SMPP link", timeout)

    def sendsms(self, phone: str, text: str, *, ref: str, sender: str, coding: str = "0") -> None:
        """Through smsbox's sendsms, asking for delivery reports (dlr-mask 1|2) at the sink."""
        dlr_url = f"{self.sink}/dlr?ref={ref}&d=%d&id=%I"
        answer = self.http.get(
            f"http://127.0.0.1:{self.ports['sendsms']}/cgi-bin/sendsms",
            params={
                "username": SENDSMS_USER,
                "password": SENDSMS_PASSWORD,
                "from": sender,
                "to": phone,
                "text": text,
                "charset": "UTF-8",
                "coding": coding,
                "dlr-mask": "3",
                "dlr-url": dlr_url,
            },
        )
        assert answer.status_code == 202, (answer.status_code, answer.text, self.logs())
