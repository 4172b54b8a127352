"""Debug mail (contract §14): `debug=<e-mail>` mails a copy of the request (secrets masked)
and of the answer through the configured SMTP relay — here a real SMTP server on loopback.
The API answer never changes; hostile addresses are ignored; each account has a limit."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.smtp import Mail, SmtpSink

from .support import TELE2, Account, Api, Server, running

FROM = "gate@pilotgate.test"
PER_HOUR = 3


@pytest.fixture(scope="module")
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture(scope="module")
def mailing(sink: SmtpSink, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    settings = {
        "PILOTGATE_SMTP_HOST": "127.0.0.1",
        "PILOTGATE_SMTP_PORT": str(sink.port),
        "PILOTGATE_SMTP_FROM": FROM,
        "PILOTGATE_DEBUG_MAIL_PER_HOUR": str(PER_HOUR),
    }
    server = Server(tmp_path_factory.mktemp("mail"), "demo", settings=settings)
    with running(server):
        yield server


@pytest.fixture
def client(mailing: Server, http: httpx.Client) -> Api:
    return Api(http, mailing.url, mailing.create_account().key)


def address() -> str:
    return f"dev-{uuid.uuid4().hex[:8]}@example.com"


def marker(server: Server, http: httpx.Client, sink: SmtpSink) -> list[Mail]:
    """Mail a marker from a fresh account and wait for it: mails go out one at a time in
    the order they were queued, so every mail queued before it has arrived by then.
    Returns the mails that came before the marker."""
    to = address()
    Api(http, server.url, server.create_account().key).text(balance="rur", debug=to)
    before: list[Mail] = []
    while True:
        mail = sink.next()
        if mail.rcpt_tos == [to]:
            return before
        before.append(mail)


def test_a_send_is_mailed_with_its_answer_and_the_key_masked(client: Api, sink: SmtpSink) -> None:
    to = address()
    response = client.call({"send": "Hello debug", "to": TELE2, "format": "json", "debug": to})
    assert response.json()["send"][0]["status"] == "0"  # answered as always
    mail = sink.next()
    assert mail.rcpt_tos == [to] and mail.mail_from == FROM
    assert mail.message["To"] == to and mail.message["From"] == FROM
    assert "/api.php" in mail.message["Subject"]
    assert "send = Hello debug" in mail.body and f"debug = {to}" in mail.body
    assert response.text in mail.body  # the answer exactly as the client got it
    assert "apikey = ********" in mail.body
    assert client.apikey is not None and client.apikey not in mail.message.as_string()


def test_the_answer_is_the_same_with_and_without_debug(
    mailing: Server, http: httpx.Client, client: Api, sink: SmtpSink
) -> None:
    for fmt in ("text", "json", "xml", "v"):  # the fourth is over the limit: same answer
        plain = client.call({"balance": "rur", "format": fmt})
        debugged = client.call({"balance": "rur", "format": fmt, "debug": address()})
        assert debugged.content == plain.content
        assert debugged.headers["content-type"] == plain.headers["content-type"]
    assert len(marker(mailing, http, sink)) == PER_HOUR


def test_a_password_is_masked(mailing: Server, http: httpx.Client, sink: SmtpSink) -> None:
    account: Account = mailing.create_account()
    api = Api(http, mailing.url)
    api.json(login=account.email, password=account.password, debug=address())
    mail = sink.next()
    assert "password = ********" in mail.body
    assert account.password not in mail.message.as_string()
    assert f"login = {account.email}" in mail.body


@pytest.mark.parametrize(
    "hostile",
    [
        "dev@example.com\r\nBcc: victim@example.org",
        "dev@example.com\nSubject: spam",
        "dev@example.com,victim@example.org",
        "dev@example.com;victim@example.org",
        "Dev <dev@example.com>",
        "dev@example.com victim@example.org",
        "not an address",
        "dev@localhost",
        "x" * 300 + "@example.com",
    ],
)
def test_hostile_addresses_are_ignored_and_the_answer_unchanged(
    mailing: Server, http: httpx.Client, client: Api, sink: SmtpSink, hostile: str
) -> None:
    plain = client.call({"balance": "rur", "format": "json"})
    answered = client.call({"balance": "rur", "format": "json", "debug": hostile})
    assert answered.content == plain.content
    assert marker(mailing, http, sink) == []


def test_each_account_has_a_limit(
    mailing: Server, http: httpx.Client, client: Api, sink: SmtpSink
) -> None:
    for n in range(PER_HOUR + 2):
        assert client.text(balance="rur", debug=f"limit-{n}@example.com") == "1000.00"
    got = marker(mailing, http, sink)
    assert sorted(m.rcpt_tos[0] for m in got) == [f"limit-{n}@example.com" for n in range(PER_HOUR)]


def test_failed_authentication_mails_nothing(
    mailing: Server, http: httpx.Client, sink: SmtpSink
) -> None:
    api = Api(http, mailing.url)
    assert api.json(apikey="Z" * 64, debug=address())["error"]["code"] == "102"
    assert api.json(debug=address())["error"]["code"] == "100"
    assert marker(mailing, http, sink) == []


def test_a_dead_relay_neither_slows_nor_fails_the_api(tmp_path: Path, http: httpx.Client) -> None:
    with socket.socket() as closed:  # a port nobody listens on once this block ends
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings = {"PILOTGATE_SMTP_HOST": "127.0.0.1", "PILOTGATE_SMTP_PORT": str(port)}
    with running(Server(tmp_path, "demo", settings=settings)) as server:
        client = Api(http, server.url, server.create_account().key)
        started = time.monotonic()
        for _ in range(5):
            assert client.text(balance="rur", debug=address()) == "1000.00"
        assert time.monotonic() - started < 5
        answer = client.json(send="Still sent", to=TELE2, debug=address())
        assert answer["send"][0]["status"] == "0"


def test_api2_mails_the_document_with_the_key_masked(
    mailing: Server, http: httpx.Client, sink: SmtpSink
) -> None:
    account = mailing.create_account()
    to = address()
    document = {"apikey": account.key, "debug": to, "send": [{"to": TELE2, "text": "Hi 2"}]}
    answer = http.post(mailing.url + "/api2.php", json=document)
    assert answer.json()["send"][0]["status"] == 0
    mail = sink.next()
    assert mail.rcpt_tos == [to] and "/api2.php" in mail.message["Subject"]
    assert "Hi 2" in mail.body and answer.text in mail.body
    assert "apikey = ********" in mail.body and account.key not in mail.message.as_string()
