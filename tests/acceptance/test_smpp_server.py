"""PilotGate as an SMSC, run as an operator runs it: two `pilotgate api` processes on one
database, one also listening over TLS; an account's bind ceiling set with the CLI holds
across both, and a client that trusts the certificate binds over TLS."""

from __future__ import annotations

import re
import ssl
import subprocess
from pathlib import Path

import pytest
import smpplib.client
import smpplib.consts as c
import smpplib.exceptions

from .support import Server, running

SMPP_LINE = re.compile(r"^SMPP (over TLS )?on [\d.]+:(\d+)$")


def _certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def _ports(server: Server, wanted: int) -> dict[str, int]:
    """The SMPP ports the server printed: "plain" and, when it listens over TLS, "tls"."""
    lines = server.printed(lambda seen: sum(bool(SMPP_LINE.match(s)) for s in seen) >= wanted)
    found = {}
    for line in lines:
        if match := SMPP_LINE.match(line):
            found["tls" if match.group(1) else "plain"] = int(match.group(2))
    return found


def _client(port: int, context: ssl.SSLContext | None = None) -> smpplib.client.Client:
    client = smpplib.client.Client(
        "127.0.0.1", port, timeout=10, allow_unknown_opt_params=True, ssl_context=context
    )
    client.connect()
    return client


def _bind(client: smpplib.client.Client) -> int:
    try:
        client.bind_transceiver(system_id="shop", password="s3cret12")
    except smpplib.exceptions.PDUError as refused:
        client.disconnect()
        return int(refused.args[1])
    return int(c.SMPP_ESME_ROK)


def test_the_bind_ceiling_holds_across_processes_and_tls_binds(
    tmp_path: Path, database: str
) -> None:
    cert, key = _certificate(tmp_path)
    shared = {"PILOTGATE_DATABASE_URL": database, "PILOTGATE_SMPP_LISTEN": "127.0.0.1:0"}
    tls = {
        "PILOTGATE_SMPP_TLS_LISTEN": "127.0.0.1:0",
        "PILOTGATE_SMPP_TLS_CERT": str(cert),
        "PILOTGATE_SMPP_TLS_KEY": str(key),
    }
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = Server(tmp_path / "a", "api", settings=shared | tls)
    with running(first):
        account = first.create_account()
        first.cli("account", "set", str(account.id), "--smpp-system-id", "shop",
                  "--smpp-password", "s3cret12")  # fmt: skip
        out = first.cli("account", "set", str(account.id), "--smpp-binds", "1")
        assert f"account {account.id}: smpp_binds=1 smpp_mps=default" in out
        second = Server(tmp_path / "b", "api", settings=shared)
        with running(second):
            ports, other = _ports(first, 2), _ports(second, 1)
            trusting = ssl.create_default_context(cafile=str(cert))
            trusting.check_hostname = False  # smpplib wraps without a server_hostname
            over_tls = _client(ports["tls"], trusting)
            assert _bind(over_tls) == c.SMPP_ESME_ROK
            # The account's one bind is held in the first process: the second refuses.
            assert _bind(_client(other["plain"])) == c.SMPP_ESME_RBINDFAIL
            assert _bind(_client(ports["plain"])) == c.SMPP_ESME_RBINDFAIL
            over_tls.unbind()
            over_tls.disconnect()
            again = _client(other["plain"])
            assert _bind(again) == c.SMPP_ESME_ROK
            again.unbind()
            again.disconnect()


@pytest.mark.parametrize("missing", ["PILOTGATE_SMPP_TLS_CERT", "PILOTGATE_SMPP_TLS_KEY"])
def test_tls_without_its_certificate_stops_serve(tmp_path: Path, missing: str) -> None:
    cert, key = _certificate(tmp_path)
    settings = {
        "PILOTGATE_SMPP_TLS_LISTEN": "127.0.0.1:0",
        "PILOTGATE_SMPP_TLS_CERT": str(cert),
        "PILOTGATE_SMPP_TLS_KEY": str(key),
    }
    del settings[missing]
    server = Server(tmp_path, "api", settings=settings)
    with pytest.raises(AssertionError, match="smpp_tls_cert and smpp_tls_key"):
        server.start(timeout=30)
