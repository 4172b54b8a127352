"""SMPP over TLS (`smpp_tls_listen`): an ESME that trusts our certificate binds and sends as
on the plain port; a client speaking plain SMPP to the TLS port never gets a session."""

from __future__ import annotations

import asyncio
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import smpplib.exceptions

from pilotgate.api.smpp import SmppServer, SmppServerSettings
from pilotgate.api.smpp.tls import server_context
from pilotgate.domain import smpp_pdu as p, smpp_rules as rules
from pilotgate.errors import ConfigError

from .conftest import Esme, Smsc

TELE2 = "79087964781"


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made by the openssl command line."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
async def tls_port(smsc: Smsc, tmp_path: Path) -> AsyncIterator[tuple[int, Path]]:
    cert, key = _self_signed(tmp_path)
    server = SmppServer(smsc.gateway, SmppServerSettings(), server_context(str(cert), str(key)))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    await server.start(None, sock)
    try:
        yield sock.getsockname()[1], cert
    finally:
        await server.stop()


async def test_a_client_over_tls_binds_and_sends(smsc, tls_port):
    port, cert = tls_port
    trusting = ssl.create_default_context(cafile=str(cert))
    trusting.check_hostname = False  # smpplib wraps its socket without a server_hostname
    esme = Esme(port, ssl_context=trusting)
    await esme.bind()
    status, message_id = await esme.submit(
        source_addr="INFORM", destination_addr=TELE2, short_message=b"Over TLS"
    )
    assert status == rules.ESME_ROK
    [message] = await smsc.gateway.store.messages_by_id(smsc.account_id, [int(message_id)])
    assert (message.phone, message.text) == (TELE2, "Over TLS")
    await esme.close()


async def test_a_plain_client_on_the_tls_port_gets_no_session(tls_port):
    port, _ = tls_port
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    bind = p.pdu(p.BIND_TRANSCEIVER, 1, b"shop\x00s3cret12\x00\x00\x34\x00\x00\x00")
    writer.write(bind)
    # Our bind is not a TLS ClientHello: the handshake fails and the connection closes with
    # no bind_resp (at most a TLS alert, never an SMPP PDU).
    answer = await reader.read()
    assert answer[:1] in (b"", b"\x15")  # nothing, or a TLS alert record
    writer.close()


async def test_a_client_that_does_not_trust_the_certificate_is_refused(tls_port):
    port, _ = tls_port
    strange = ssl.create_default_context()
    strange.check_hostname = False
    esme = Esme(port, ssl_context=strange)
    # smpplib reports the failed verification as its ConnectionError.
    with pytest.raises(smpplib.exceptions.ConnectionError):
        await esme.bind()
    esme.client._socket.close()  # smpplib keeps the socket of a failed connect


def test_missing_or_unreadable_certificates_are_named_at_start(tmp_path):
    with pytest.raises(ConfigError, match="smpp_tls_cert and smpp_tls_key"):
        server_context("", "")
    with pytest.raises(ConfigError, match="cannot be loaded"):
        server_context(str(tmp_path / "none.pem"), str(tmp_path / "none.key"))
