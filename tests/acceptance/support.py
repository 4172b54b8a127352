"""What the acceptance suite drives: the real `pilotgate` CLI in a subprocess, spoken to over
real HTTP on 127.0.0.1, exactly as an operator and a client application would.

Nothing here imports the gateway: expectations come from docs/contract.md (copied below where the
exact strings matter), never from the code under test.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import httpx

DEMO_KEY = "XXXXXXXXXXXXYYYYYYYYYYYYZZZZZZZZXXXXXXXXXXXXYYYYYYYYYYYYZZZZZZZZ"
DEMO_EMAIL = "demo@pilotgate.local"
DEMO_PASSWORD = "demo-password"  # the published demo account
DEMO_CREDIT = Decimal("1000.00")

#: Tele2 3.95 / MTS 4.35 per part in the default tariff; numbers ending in 0 are not delivered
#: by the emulator (-1, error 601).
TELE2 = "79087964781"
TELE2_PRICE = Decimal("3.95")
MTS = "79161234567"
MTS_PRICE = Decimal("4.35")
UNDELIVERABLE = "79087964780"

BANNER = re.compile(r"^PilotGate listening on (http://127\.0\.0\.1:(\d+))$")
XML_DECL = '<?xml version="1.0" encoding="utf-8"?>\n'
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
MONEY_RE = re.compile(r"^-?\d+\.\d{2}$")

#: contract §16, copied: clients compare these strings.
CATALOGUE: dict[int, tuple[str, str]] = {
    11: ("Unknown INPUT format", "Неизвестный формат"),
    100: ("APIKEY is required", "Не указан API-ключ (параметр apikey)"),
    101: ("APIKEY is invalid", "Неправильный API-ключ (см. настройки API в личном кабинете)"),
    102: ("APIKEY not found", "Такой API-ключ не найден в системе"),
    105: ("User is blocked (balance)", "Пользователь блокирован из-за низкого баланса"),
    106: ("User is blocked (spam)", "Пользователь блокирован за спам/ошибки"),
    107: ("User is blocked (untrusted)", "Пользователь блокирован за недостоверные учетные данные"),
    108: ("Phone is required", "Не указан телефон"),
    111: ("Invalid phone", "Неправильный номер телефона"),
    112: ("No money", "Нет денег"),
    113: ("IP restriction", "Недопустимый IP"),
    115: ("Invalid sender", "Неправильный отправитель"),
    204: ("Sender (from) unregistered", "Отправитель (from) не зарегистрирован, либо отключен"),
    213: ("Unsupported operator", "Оператор не поддерживается"),
    215: ("Invalid phone length", "Неправильная длина номера телефона"),
    220: ("TEXT is required", "Введите текст сообщения"),
    221: ("TEXT too long", "Текст сообщения слишком длинный"),
    223: ("Spam protection", "Защита от спама"),
    240: ("Invalid SMS list", "Неправильный список SMS"),
    247: ("Filter", "Фильтр"),
    248: ("CyrLat filter", "Фильтр CyrLat"),
    250: ("Invalid SEND_DATETIME", "Неправильное время отправки send_datetime"),
    260: ("Invalid callback URL", "Неправильный адрес скрипта callback"),
    270: ("Invalid ttl", "Неправильное время жизни сообщения ttl"),
    275: ("Invalid list fields", "Неправильный список полей fields"),
    280: (
        "Idempotency key reused with another request",
        "Ключ идемпотентности уже использован с другим запросом",
    ),
    300: ("SMS server_id is required", "server_id не указан"),
    301: ("SMS server_id is invalid", "server_id неправильный"),
    302: ("SMS server_id not found", "SMS не найдена"),
    303: ("Invalid IDs list", "Ошибка запроса"),
    304: ("SERVER_PACKET_ID is invalid", "server_packet_id неправильный"),
    400: ("User not found", "Пользователь не найден"),
    401: ("Invalid login details", "Не введен логин или пароль"),
    500: (
        "Invalid -since- format YYYY-MM-DD HH:II:SS",
        "Неправильный формат параметра -since- YYYY-MM-DD HH:II:SS",
    ),
    601: ("Undeliverable", "Невозможно доставить"),
    640: ("Sender is required", "Введите имя отправителя"),
    641: ("Sender is invalid", "Неправильное имя отправителя"),
    642: ("Sender is added", "Уже добавленное имя отправителя"),
    643: ("Description is required", "Введите название проекта, сайт, примеры сообщений"),
    644: ("Callback is required (URL or email)", "Нужен callback (URL или email)"),
    645: ("Callback is invalid (URL or email)", "Неправильный callback (URL или email)"),
}

Params = Mapping[str, str] | str


@dataclass(frozen=True)
class Account:
    id: int
    key: str
    email: str
    password: str


class Api:
    """An HTTP client of `/api.php`. Every answer must be HTTP 200 with
    `Access-Control-Allow-Origin: *` (contract §1); anything else fails the test at once."""

    def __init__(self, client: httpx.Client, url: str, apikey: str | None = None) -> None:
        self.client = client
        self.url = url
        self.endpoint = url + "/api.php"
        self.apikey = apikey

    def as_key(self, apikey: str) -> Api:
        return Api(self.client, self.url, apikey)

    def _with_key(self, params: Mapping[str, str]) -> dict[str, str]:
        merged = {"apikey": self.apikey} if self.apikey else {}
        merged.update(params)
        return merged

    def call(
        self,
        params: Params = "",
        *,
        method: str = "GET",
        data: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        auth: bool = True,
    ) -> httpx.Response:
        """A request; `params` is a dict (utf-8 encoded, the key added) or a raw query
        string sent byte for byte (the key is then up to the caller)."""
        if isinstance(params, str):
            url = self.endpoint + ("?" + params if params else "")
            query: dict[str, str] | None = None
        else:
            url = self.endpoint
            query = self._with_key(params) if auth else dict(params)
        response = self.client.request(
            method, url, params=query, data=data, content=content, headers=headers
        )
        assert response.status_code == 200, (response.status_code, response.text)
        assert response.headers.get("access-control-allow-origin") == "*", response.headers
        return response

    def json(self, **params: str) -> Any:
        response = self.call({**params, "format": "json"})
        assert response.headers["content-type"] == "application/json; charset=utf-8"
        return response.json()

    def text(self, **params: str) -> str:
        response = self.call(params)
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        return response.text

    def xml(self, **params: str) -> str:
        response = self.call({**params, "format": "xml"})
        assert response.headers["content-type"] == "text/xml; charset=utf-8"
        return response.text

    def v(self, **params: str) -> str:
        response = self.call({**params, "format": "v"})
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        return response.text

    # conveniences a client application would write ----------------------------------------
    def balance(self) -> Decimal:
        return Decimal(self.text(balance="rur"))

    def newest_id(self) -> int | None:
        """server_id of the account's newest message (None when it has none)."""
        items = self.json(check="all", limit="1")["check"]
        return int(items[0]["server_id"]) if items else None

    def all_messages(self, page: int = 500, **params: str) -> list[dict[str, str]]:
        """Every message of the account, paged through check=all with limit/offset."""
        found: list[dict[str, str]] = []
        for offset in itertools.count(0, page):
            items = self.json(check="all", limit=str(page), offset=str(offset), **params)
            found += items["check"]
            if len(items["check"]) < page:
                return found
        raise AssertionError("unreachable")

    def wait_status(
        self, server_id: str, final: Iterable[str] = ("2", "-1", "-2"), timeout: float = 15.0
    ) -> dict[str, str]:
        """Poll `check` until the message reaches one of `final`; its fields=all item."""
        wanted = set(final)
        deadline = time.monotonic() + timeout
        while True:
            item = self.json(check=server_id, fields="all")["check"][0]
            if item["status"] in wanted:
                return dict(item)
            assert time.monotonic() < deadline, f"{server_id} stuck at {item}"
            time.sleep(0.05)  # a poll interval, not a synchronisation


@dataclass
class Server:
    """`python -m pilotgate <command> --port 0` on its own SQLite database."""

    workdir: Path
    command: str = "demo"
    settings: Mapping[str, str] = field(default_factory=dict)
    port: int = 0  #: 0 picks a free one; a fixed port lets a test restart the same server
    #: More arguments of the command, e.g. ("--workers", "2").
    args: tuple[str, ...] = ()
    #: Run in the child before the gateway starts (e.g. lowering its open-files limit).
    preexec: Callable[[], None] | None = None
    url: str = ""
    banner: list[str] = field(default_factory=list)
    _process: subprocess.Popen[str] | None = None
    _stderr: IO[str] | None = None
    _reader: threading.Thread | None = None
    #: Notified for every line the server prints (and when its output ends).
    _printed: threading.Condition = field(default_factory=threading.Condition)

    def printed(self, wanted: Callable[[list[str]], bool], timeout: float = 10.0) -> list[str]:
        """The lines printed so far, once `wanted` holds of them (or the output ended, or
        `timeout` passed): the banner's later lines reach the reader after its first one."""
        with self._printed:
            self._printed.wait_for(
                lambda: wanted(self.banner) or self._reader is None or not self._reader.is_alive(),
                timeout,
            )
            return list(self.banner)

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PILOTGATE_")}
        env.update(
            {
                "PILOTGATE_DATABASE_URL": f"sqlite:///{self.workdir / 'pg.db'}",
                "PILOTGATE_EMULATOR_DELAY": "0.2",
                # The suite's synthetic traffic (thousands of sequential numbers of one
                # block) is what the SMS-pumping defence holds: off here, turned on by the
                # tests of that defence (test_pumping.py).
                "PILOTGATE_PUMPING": "0",
                # The cheapest password hash the settings allow (OWASP's smallest set), not
                # the default's 64 MiB and 3 passes: the suite makes and checks thousands of
                # passwords. What the tests assert does not depend on the hash's cost.
                "PILOTGATE_PASSWORD_HASH_MEMORY_KIB": "19456",
                "PILOTGATE_PASSWORD_HASH_PASSES": "2",
                "PILOTGATE_PASSWORD_HASH_LANES": "1",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.settings)
        return env

    @property
    def log(self) -> str:
        path = self.workdir / "server.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def start(self, timeout: float = 30.0) -> None:
        self._stderr = (self.workdir / "server.log").open("w", encoding="utf-8")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "pilotgate", self.command, "--port", str(self.port), *self.args],
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=self.env,
            text=True,
            encoding="utf-8",
            cwd=self.workdir,
            preexec_fn=self.preexec,
        )
        ready = threading.Event()
        process = self._process

        def read_stdout() -> None:
            assert process.stdout is not None
            for line in process.stdout:  # keeps draining after the banner
                with self._printed:
                    self.banner.append(line.rstrip("\n"))
                    self._printed.notify_all()
                match = BANNER.match(self.banner[-1])
                if match and not self.url:
                    assert match.group(2) != "0"
                    self.url = match.group(1)
                    ready.set()
            ready.set()  # stdout closed: the process has ended
            with self._printed:
                self._printed.notify_all()

        self._reader = threading.Thread(target=read_stdout, daemon=True)
        self._reader.start()
        ready.wait(timeout)
        if not self.url:
            self._process.kill()
            self._close()
            raise AssertionError(f"server did not start:\n{self.banner}\n{self.log}")

    def _close(self) -> None:
        """After the process has ended: wait for it, finish reading stdout, close files."""
        assert self._process is not None
        self._process.wait()
        if self._reader is not None:
            self._reader.join(5)
        if self._process.stdout is not None:
            self._process.stdout.close()
        if self._stderr is not None:
            self._stderr.close()

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM, as a service manager would (then SIGKILL); the exit code."""
        assert self._process is not None
        try:
            return stop_process(self._process, timeout, lambda: self.log)
        finally:
            self._close()

    # the operator's admin commands, against the same database ------------------------------
    def cli(self, *args: str) -> str:
        done = self.run_cli(*args)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done.stdout

    def run_cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """A CLI command whose failure the test expects to inspect."""
        return subprocess.run(
            [sys.executable, "-m", "pilotgate", *args],
            env=self.env,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=60,
            cwd=self.workdir,
            check=False,
        )

    def create_account(self, *, balance: str = "1000.00", extra: Iterable[str] = ()) -> Account:
        email = f"user-{uuid.uuid4().hex[:12]}@example.com"
        password = f"pw-{email}"
        out = self.cli(
            "account",
            "create",
            "--email",
            email,
            "--password",
            password,
            "--balance",
            balance,
            *extra,
        )
        match = re.search(r"^account (\d+)\napikey ([A-Za-z0-9]{64})$", out.strip(), re.M)
        assert match, out
        return Account(int(match.group(1)), match.group(2), email, password)

    def inbound(self, account: Account | int, *, phone: str, num: str, text: str) -> int:
        account_id = account if isinstance(account, int) else account.id
        out = self.cli(
            "inbound", "add", str(account_id), "--phone", phone, "--num", num, "--text", text
        )
        match = re.fullmatch(r"inbound (\d+)", out.strip())
        assert match, out
        return int(match.group(1))


def stop_process(
    process: subprocess.Popen[Any], timeout: float = 20.0, log: Callable[[], str] = str
) -> int:
    """Stop what a test started: SIGTERM, then SIGKILL if it is still there after `timeout`
    (a failure). Never SIGINT: a suite started from a script in the background has SIGINT
    ignored, and so has everything it starts. The exit code."""
    if process.poll() is None:
        process.terminate()
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise AssertionError(
            f"{process.args!r} ignored SIGTERM for {timeout} s:\n{log()}"
        ) from None


@contextlib.contextmanager
def running(server: Server) -> Any:
    """Start `server`; on exit stop it with SIGTERM and require a clean exit (code 0) and a
    log without a single traceback."""
    server.start()
    try:
        yield server
    finally:
        code = server.stop()
        assert code == 0, f"exit code {code}\n{server.log}"
        # an unexpected exception is answered as error 110 and logged: none may have happened
        assert "Traceback" not in server.log, server.log


def error_json(code: int) -> dict[str, Any]:
    en, ru = CATALOGUE[code]
    return {"error": {"code": str(code), "description": en, "description_ru": ru}}


def error_xml(code: int) -> str:
    en, ru = CATALOGUE[code]
    return (
        f"{XML_DECL}<error><code>{code}</code><description>{en}</description>"
        f"<description_ru>{ru}</description_ru></error>"
    )


def error_text(code: int, lang: str = "en") -> str:
    en, ru = CATALOGUE[code]
    return f"ERROR={code}: {ru if lang == 'ru' else en.upper()}"


def assert_error(
    api: Api,
    params: Params,
    code: int,
    *,
    method: str = "GET",
    data: Any = None,
    charset: str = "utf-8",
) -> None:
    """`params` gives error `code` in every format and language, with the catalogue's exact
    strings (contract §4, §16), in `charset`."""
    en, ru = CATALOGUE[code]

    def ask(**extra: str) -> httpx.Response:
        if isinstance(params, str):
            query = "&".join([params, *(f"{k}={v}" for k, v in extra.items())]).lstrip("&")
            return api.call(query, method=method, data=data)
        return api.call({**params, **extra}, method=method, data=data)

    def body(answer: httpx.Response, content_type: str) -> str:
        assert answer.headers["content-type"] == f"{content_type}; charset={charset}"
        return answer.content.decode(charset)

    answer = ask(format="json")
    assert json.loads(body(answer, "application/json")) == error_json(code), answer.text
    xml = error_xml(code)
    if charset != "utf-8":
        xml = xml.replace('encoding="utf-8"', f'encoding="{charset}"')
    assert body(ask(format="xml"), "text/xml") == xml
    for extra in ({}, {"format": "text"}):
        assert body(ask(**extra), "text/plain") == error_text(code)
    assert body(ask(lang="ru"), "text/plain") == error_text(code, "ru")
    assert body(ask(format="v"), "text/plain") == en
    assert body(ask(format="v", lang="ru"), "text/plain") == ru


def money(value: str) -> Decimal:
    assert MONEY_RE.match(value), value
    return Decimal(value)


def send_load(
    url: str,
    key: str,
    answered: list[str],
    stop: threading.Event,
    *,
    through_outage: bool = False,
) -> None:
    """Single sends to distinct numbers until told to stop; only sends actually answered are
    counted. A failed answer (a server or worker killed under this connection) ends the load,
    unless `through_outage`: then a send refused or timed out while the gateway cannot answer
    is simply tried again with the next number."""
    with httpx.Client(timeout=5) as client:
        for n in range(1_000_000):
            if stop.is_set():
                return
            try:
                body = client.get(
                    url + "/api.php",
                    params={"send": f"load {n}", "to": f"7908{n:07d}", "apikey": key,
                            "format": "json"},
                ).json()  # fmt: skip
            except (httpx.HTTPError, ValueError):
                if not through_outage:
                    return
                time.sleep(0.05)  # pacing while the gateway cannot answer, not a synchronisation
                continue
            if "send" in body:
                answered.extend(item["server_id"] for item in body["send"])
            elif not through_outage:
                return


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)  # a poll interval, not a synchronisation
