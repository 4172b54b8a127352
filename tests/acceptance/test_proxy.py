"""Behind a TLS proxy (issue 18, item 2): `trusted_proxies` decides whose X-Forwarded-For
and X-Real-IP are believed; nginx (Debian) with deploy/nginx/pilotgate.conf ends TLS in
front of `serve`, and the gateway sees the real client's address.

Loopback is all of 127.0.0.0/8 on Linux, so one machine has many "clients": a client binds
127.0.0.2 (or .3, .4) as its source address."""

from __future__ import annotations

import os
import re
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .support import TELE2, Account, Server, running, stop_process

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = "203.0.113.7"


def _client(source: str, **options: Any) -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(local_address=source, **options))


@pytest.fixture(scope="module")
def behind(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    settings = {"PILOTGATE_TRUSTED_PROXIES": "127.0.0.1, ::1"}
    with running(Server(tmp_path_factory.mktemp("proxied"), "serve", settings)) as server:
        yield server


def _balance(server: Server, account: Account, source: str, **headers: str) -> str:
    with _client(source) as client:
        answer = client.get(
            server.url + "/api.php",
            params={"balance": "rur", "apikey": account.key, "format": "json"},
            headers=headers,
        )
    assert answer.status_code == 200
    body = answer.json()
    return str(body["error"]["code"]) if "error" in body else "ok"


def test_forwarded_headers_are_believed_only_from_a_trusted_proxy(behind: Server) -> None:
    account = behind.create_account()
    behind.cli("account", "set", str(account.id), "--allow-ip", ALLOWED)
    # From an untrusted peer the headers are a lie the gateway ignores.
    assert _balance(behind, account, "127.0.0.2", **{"X-Forwarded-For": ALLOWED}) == "113"
    assert _balance(behind, account, "127.0.0.2", **{"X-Real-IP": ALLOWED}) == "113"
    # From the proxy, they name the client.
    assert _balance(behind, account, "127.0.0.1", **{"X-Forwarded-For": ALLOWED}) == "ok"
    assert _balance(behind, account, "127.0.0.1", **{"X-Real-IP": ALLOWED}) == "ok"
    assert _balance(behind, account, "127.0.0.1") == "113"  # the proxy itself is not allowed
    # The rightmost untrusted hop is the client: what it wrote to its left proves nothing,
    # trusted hops to its right are proxies.
    spoofed = f"{ALLOWED}, 198.51.100.1"
    assert _balance(behind, account, "127.0.0.1", **{"X-Forwarded-For": spoofed}) == "113"
    chain = f"198.51.100.1, {ALLOWED}, 127.0.0.1"
    assert _balance(behind, account, "127.0.0.1", **{"X-Forwarded-For": chain}) == "ok"


def test_login_lockout_counts_the_forwarded_client(behind: Server) -> None:
    account = behind.create_account()

    def login(password: str, client: str) -> str:
        with _client("127.0.0.1") as http:
            answer = http.get(
                behind.url + "/api.php",
                params={"balance": "rur", "login": account.email, "password": password},
                headers={"X-Forwarded-For": client},
            )
        return answer.text

    wrong = login("wrong-password", "198.51.100.1")
    for _ in range(4):
        assert login("wrong-password", "198.51.100.1") == wrong
    # That client is locked out, right password or not; another one behind the same proxy
    # is not.
    assert login(account.password, "198.51.100.1") == wrong
    assert login(account.password, "198.51.100.2") == "1000.00"


# nginx in front ------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _site(upstream: str, port: int, cert: Path, key: Path) -> str:
    """The shipped site file with this test's port, upstream and certificate."""
    text = (ROOT / "deploy/nginx/pilotgate.conf").read_text(encoding="utf-8")
    for old, new in (
        ("server 127.0.0.1:8000;", f"server {upstream};"),
        ("listen 443 ssl;", f"listen 127.0.0.1:{port} ssl;"),
        ("listen [::]:443 ssl;", ""),
        ("/etc/ssl/certs/pilotgate.pem", str(cert)),
        ("/etc/ssl/private/pilotgate.key", str(key)),
    ):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


@pytest.fixture(scope="module")
def nginx(behind: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """nginx ending TLS (a self-signed certificate made here) in front of `behind`: its
    https URL and the certificate to trust."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(binary):
        pytest.skip("nginx is not installed (Debian: apt-get install nginx)")
    work = tmp_path_factory.mktemp("nginx")
    cert, key = work / "cert.pem", work / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt"),
            *("ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost"),
            *("-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"),
        ],
        check=True,
        capture_output=True,
    )
    port = _free_port()
    (work / "site.conf").write_text(
        _site(behind.url.removeprefix("http://"), port, cert, key), encoding="utf-8"
    )
    (work / "nginx.conf").write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"daemon off;\npid {work}/nginx.pid;\nerror_log {work}/error.log;\n"
        + "events {}\nhttp {\n  access_log off;\n"
        + "".join(
            f"  {name}_temp_path {work}/{name};\n"
            for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        + f"  include {work}/site.conf;\n}}\n",
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [binary, "-p", str(work), "-c", str(work / "nginx.conf"), "-e", str(work / "error.log")],
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 15
        while True:  # ready when it accepts a connection
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                log = (work / "error.log").read_text() if (work / "error.log").exists() else ""
                assert process.poll() is None and time.monotonic() < deadline, log
                time.sleep(0.02)  # a poll interval, not a synchronisation
        yield f"https://127.0.0.1:{port}", cert
    finally:
        stop_process(process)


def test_nginx_ends_tls_and_the_gateway_sees_the_real_client(
    behind: Server, nginx: tuple[str, Path]
) -> None:
    url, cert = nginx
    account = behind.create_account()
    behind.cli("account", "set", str(account.id), "--allow-ip", "127.0.0.3")

    def send(source: str, **headers: str) -> dict[str, Any]:
        with _client(source, verify=ssl.create_default_context(cafile=cert)) as client:
            answer = client.get(
                url + "/api.php",
                params={"send": "via nginx", "to": TELE2, "apikey": account.key, "format": "json"},
                headers=headers,
            )
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    sent = send("127.0.0.3")
    assert sent["send"][0]["status"] == "0", sent
    # Another client, even one claiming to be the allowed one, is itself.
    assert send("127.0.0.4")["error"]["code"] == "113"
    spoofed = send("127.0.0.4", **{"X-Forwarded-For": "127.0.0.3", "X-Real-IP": "127.0.0.3"})
    assert spoofed["error"]["code"] == "113"
    # The probes pass through it too.
    with _client("127.0.0.3", verify=ssl.create_default_context(cafile=cert)) as client:
        assert client.get(url + "/healthz").json()["status"] == "alive"
        # nginx says the browser came over https: the cabinet's cookies are Secure.
        login = client.get(url + "/cabinet/login?lang=ru")
        assert "; secure" in login.headers["set-cookie"].lower()


# X-Forwarded-Proto ---------------------------------------------------------------------------
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def _cabinet_cookie(server: Server, account: Account) -> str:
    """A logged-in cabinet session's Cookie header, logged in over plain HTTP."""
    with _client("127.0.0.1") as client:
        page = client.get(server.url + "/cabinet/login")
        token = CSRF.search(page.text)
        assert token is not None, page.text
        answer = client.post(
            server.url + "/cabinet/login",
            data={"email": account.email, "password": account.password, "csrf": token[1]},
        )
        assert answer.status_code == 303, answer.text
        return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


def test_forwarded_proto_is_believed_only_from_a_trusted_proxy(behind: Server) -> None:
    account = behind.create_account()
    cookie = _cabinet_cookie(behind, account)
    host = behind.url.removeprefix("http://")

    def api_page(source: str, proto: str) -> str:
        with _client(source) as client:
            answer = client.get(
                behind.url + "/cabinet/api",
                headers={"Cookie": cookie, "X-Forwarded-Proto": proto},
            )
        assert answer.status_code == 200, answer.text
        return answer.text

    # The examples a customer copies name the scheme the browser used at the proxy...
    assert f"https://{host}/api.php?send=" in api_page("127.0.0.1", "https")
    assert f"http://{host}/api.php?send=" in api_page("127.0.0.1", "http")
    # ...and a client that writes the header itself is not believed.
    assert f"http://{host}/api.php?send=" in api_page("127.0.0.2", "https")

    def session_cookie(source: str, proto: str) -> str:
        with _client(source) as client:
            # A language switch starts a new session: the answer sets the cookie.
            answer = client.get(
                behind.url + "/cabinet/login?lang=ru", headers={"X-Forwarded-Proto": proto}
            )
        return answer.headers["set-cookie"].lower()

    assert "; secure" in session_cookie("127.0.0.1", "https")
    assert "; secure" not in session_cookie("127.0.0.1", "http")
    assert "; secure" not in session_cookie("127.0.0.2", "https")
