"""SMPP behind nginx (deploy/nginx/pilotgate-smpp.conf, Debian's nginx with its stream
module): TLS ends in nginx, whose PROXY protocol header tells the gateway the customer's
address, so an account's IP allow-list holds through the proxy. The same header from an
address that is not a named proxy is not believed."""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import struct
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import smpplib.client
import smpplib.consts as c
import smpplib.exceptions
import smpplib.smpp

from .support import Server, running, stop_process

ROOT = Path(__file__).resolve().parents[2]
STREAM_MODULE = Path("/usr/lib/nginx/modules/ngx_stream_module.so")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def nginx_smpp(tmp_path: Path) -> Iterator[tuple[int, int, Path]]:
    """(nginx's TLS port, the gateway's plain SMPP port behind it, the certificate)."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not (os.path.exists(binary) and STREAM_MODULE.exists()):
        pytest.skip("nginx with its stream module is not installed (libnginx-mod-stream)")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    tls_port, smpp_port = _free_port(), _free_port()
    text = (ROOT / "deploy/nginx/pilotgate-smpp.conf").read_text(encoding="utf-8")
    for old, new in (
        ("server 127.0.0.1:2775;", f"server 127.0.0.1:{smpp_port};"),
        ("listen 3550 ssl;", f"listen 127.0.0.1:{tls_port} ssl;"),
        ("/etc/ssl/certs/pilotgate.pem", str(cert)),
        ("/etc/ssl/private/pilotgate.key", str(key)),
    ):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    (tmp_path / "smpp.conf").write_text(text, encoding="utf-8")
    (tmp_path / "nginx.conf").write_text(
        f"load_module {STREAM_MODULE};\n"
        + ("user root;\n" if os.geteuid() == 0 else "")
        + f"daemon off;\npid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        + f"events {{}}\ninclude {tmp_path}/smpp.conf;\n",
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [binary, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
         "-e", str(tmp_path / "error.log")],
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 15
        while True:  # ready when it accepts a connection
            try:
                socket.create_connection(("127.0.0.1", tls_port), timeout=1).close()
                break
            except OSError:
                log = (
                    (tmp_path / "error.log").read_text()
                    if (tmp_path / "error.log").exists()
                    else ""
                )
                assert process.poll() is None and time.monotonic() < deadline, log
                time.sleep(0.02)  # a poll interval, not a synchronisation
        yield tls_port, smpp_port, cert
    finally:
        stop_process(process)


def _bind_from(source: str, port: int, context: ssl.SSLContext) -> int:
    """bind_transceiver from `source` (a loopback address) through nginx: its status."""
    client = smpplib.client.Client(
        "127.0.0.1", port, timeout=10, allow_unknown_opt_params=True, ssl_context=context
    )
    client._socket = client._create_socket()
    client._socket.bind((source, 0))
    client.connect()
    try:
        client.bind_transceiver(system_id="proxied", password="s3cret12")
    except smpplib.exceptions.PDUError as refused:
        return int(refused.args[1])
    finally:
        client.disconnect()
    return int(c.SMPP_ESME_ROK)


def test_the_allow_list_sees_the_customer_through_nginx_and_not_a_forged_header(
    tmp_path: Path, nginx_smpp: tuple[int, int, Path]
) -> None:
    tls_port, smpp_port, cert = nginx_smpp
    server = Server(
        tmp_path, "api",
        settings={"PILOTGATE_SMPP_LISTEN": f"127.0.0.1:{smpp_port}",
                  "PILOTGATE_SMPP_PROXIES": "127.0.0.1"},
    )  # fmt: skip
    with running(server):
        account = server.create_account()
        server.cli("account", "set", str(account.id), "--smpp-system-id", "proxied",
                   "--smpp-password", "s3cret12", "--allow-ip", "127.0.0.2")  # fmt: skip
        trusting = ssl.create_default_context(cafile=str(cert))
        trusting.check_hostname = False  # smpplib wraps without a server_hostname
        # nginx connects from 127.0.0.1; the gateway judges the customer's own address.
        assert _bind_from("127.0.0.2", tls_port, trusting) == c.SMPP_ESME_ROK
        assert _bind_from("127.0.0.3", tls_port, trusting) != c.SMPP_ESME_ROK

        # A customer of its own, not a named proxy, writing the header nginx would write.
        bind = smpplib.smpp.make_pdu(
            "bind_transceiver", client=None, sequence=1, system_id="proxied",
            password="s3cret12", system_type="", interface_version=0x34,
            addr_ton=0, addr_npi=0, address_range="",
        ).generate()  # fmt: skip
        with socket.socket() as forger:
            forger.bind(("127.0.0.5", 0))
            forger.settimeout(10)
            forger.connect(("127.0.0.1", smpp_port))
            forger.sendall(b"PROXY TCP4 127.0.0.2 127.0.0.1 40000 2775\r\n" + bind)
            head = forger.recv(16)
        if len(head) == 16:
            _, command, status, _ = struct.unpack(">IIII", head)
            assert (command, status) != (0x80000009, 0)
    assert "Traceback" not in server.log
