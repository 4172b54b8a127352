"""Every error API-1 can answer, in every format and language, with the catalogue's exact
strings (contract §4, §16), always as HTTP 200."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from .support import (
    DEMO_EMAIL,
    DEMO_KEY,
    DEMO_PASSWORD,
    TELE2,
    Account,
    Api,
    Server,
    assert_error,
)


@dataclass(frozen=True)
class Keys:
    """API keys of accounts in the states some errors need."""

    blocked: dict[str, str]
    poor: str
    #: The e-mail of an account whose wrong-password cases run: each case asks 7 times, and
    #: 5 failures lock a login out (the demo account must stay usable for other tests).
    guessed: str


@pytest.fixture(scope="module")
def keys(gate: Server, new_account: Callable[..., Account]) -> Keys:
    blocked = {}
    for reason in ("balance", "spam", "untrusted"):
        account = new_account(balance="100.00")
        gate.cli("account", "block", str(account.id), "--reason", reason)
        blocked[reason] = account.key
    return Keys(blocked=blocked, poor=new_account(balance="1.00").key, guessed=new_account().email)


def _stamp(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).strftime("%Y-%m-%d %H:%M:%S")


def send(**extra: str) -> Callable[[Keys], dict[str, str]]:
    return lambda keys: {"apikey": DEMO_KEY, "send": "Hello", "to": TELE2, **extra}


def demo(**extra: str) -> Callable[[Keys], dict[str, str]]:
    return lambda keys: {"apikey": DEMO_KEY, **extra}


def recipients(count: int) -> str:
    return ",".join(f"7908{n:07d}" for n in range(count))


# (code, request) — a request is a function of the fixture `keys`, giving parameters
CASES: dict[str, tuple[int, Callable[[Keys], dict[str, str]]]] = {
    "no credentials": (100, lambda keys: {"send": "Hello", "to": TELE2}),
    "no credentials, info": (100, lambda keys: {}),
    "empty apikey": (100, lambda keys: {"apikey": "", "balance": "rur"}),
    "short apikey": (101, lambda keys: {"apikey": "abc"}),
    "apikey with a symbol": (101, lambda keys: {"apikey": DEMO_KEY[:-1] + "!"}),
    "apikey too long": (101, lambda keys: {"apikey": DEMO_KEY + "X"}),
    "unknown apikey": (102, lambda keys: {"apikey": "A1" * 32}),
    "blocked for balance": (105, lambda keys: {"apikey": keys.blocked["balance"]}),
    "blocked for spam": (
        106,
        lambda keys: {"apikey": keys.blocked["spam"], "send": "x", "to": TELE2},
    ),
    "blocked as untrusted": (
        107,
        lambda keys: {"apikey": keys.blocked["untrusted"], "check": "all"},
    ),
    "no to": (108, demo(send="Hello")),
    "empty to": (108, send(to="")),
    "to of commas": (108, send(to=" , ,")),
    "letters": (111, send(to="abc")),
    "not a number": (111, send(to="99999999999")),
    "digits and a letter": (111, send(to="7908796478x")),
    "no money": (112, lambda keys: {"apikey": keys.poor, "send": "Hello", "to": TELE2}),
    "sender too short": (115, send(**{"from": "AB"})),
    "sender too long": (115, send(**{"from": "TOOLONGNAME12"})),
    "sender with a space": (115, send(**{"from": "MY SHOP"})),
    "sender alias invalid": (115, send(sender="a!b")),
    "sender unregistered": (204, send(**{"from": "NOTMINE"})),
    "no tariff row": (213, send(to="12025550143")),
    "too short": (215, send(to="7908796478")),
    "too long": (215, send(to="790879647811")),
    "three digits": (215, send(to="123")),
    "empty text": (220, send(send="")),
    "11 GSM parts": (221, send(send="a" * (153 * 10 + 1))),
    "11 UCS-2 parts": (221, send(send="я" * (67 * 10 + 1))),
    "past": (250, send(send_datetime="2020-01-01 00:00:00")),
    "past unix": (250, send(send_datetime="1000000000")),
    "minutes ago": (250, lambda keys: send(send_datetime=_stamp(-timedelta(minutes=5)))(keys)),
    "unparseable": (250, send(send_datetime="tomorrow")),
    "month 13": (250, send(send_datetime="2027-13-01 00:00:00")),
    "no time": (250, send(send_datetime="2027-01-01")),
    "over a year": (250, lambda keys: send(send_datetime=_stamp(timedelta(days=400)))(keys)),
    "ftp callback": (260, send(callback="ftp://example.com/status")),
    "callback not a url": (260, send(callback="not a url")),
    "callback without host": (260, send(callback="http://")),
    "callback method": (260, send(callback="https://example.com/s", callback_method="put")),
    "ttl 0": (270, send(ttl="0")),
    "ttl 1441": (270, send(ttl="1441")),
    "ttl abc": (270, send(ttl="abc")),
    "ttl negative": (270, send(ttl="-5")),
    "ttl fraction": (270, send(ttl="1.5")),
    "unknown field on send": (275, send(fields="server_id,colour")),
    "unknown field on check": (275, demo(check="all", fields="bogus")),
    "empty check": (300, demo(check="")),
    "check abc": (301, demo(check="abc")),
    "check negative": (301, demo(check="-1")),
    "unknown id": (302, demo(check="999999999")),
    "list with a word": (303, demo(check="10000,abc")),
    "1001 ids": (303, demo(check=",".join(str(10000 + n) for n in range(1001)))),
    "packet without id": (304, demo(check="packet")),
    "packet id abc": (304, demo(check="packet", id="abc")),
    "unknown packet": (304, demo(check="packet", id="999999999")),
    "wrong password": (400, lambda keys: {"login": keys.guessed, "password": "wrong"}),
    "unknown login": (400, lambda keys: {"login": "nobody@example.com", "password": "x"}),
    "login without password": (401, lambda keys: {"login": DEMO_EMAIL}),
    "password without login": (401, lambda keys: {"password": DEMO_PASSWORD}),
    "login not an e-mail": (401, lambda keys: {"login": "demo", "password": DEMO_PASSWORD}),
    "inbound garbage": (500, demo(inbound="yesterday")),
    "inbound bad date": (500, demo(inbound="2024-13-01 00:00:00")),
    "unknown charset": (11, send(charset="no-such-charset")),
    "non-text codec": (11, send(charset="base64")),
}


@pytest.mark.parametrize("case", CASES)
def test_error(case: str, keys: Keys, api: Api) -> None:
    code, request = CASES[case]
    assert_error(api, request(keys), code)


def test_bytes_that_are_not_utf8(api: Api) -> None:
    assert_error(api, f"apikey={DEMO_KEY}&send=%FF%FEhello&to={TELE2}", 11)
    assert_error(api, f"apikey={DEMO_KEY}&send=%D0&to={TELE2}&charset=utf-8", 11)


def test_bytes_that_are_not_in_the_named_charset(api: Api) -> None:
    # 0x98 is not a character in windows-1251
    assert_error(
        api,
        f"apikey={DEMO_KEY}&send=%98&to={TELE2}&charset=windows-1251",
        11,
        charset="windows-1251",
    )


def test_a_100_kb_text_is_too_long(api: Api) -> None:
    assert_error(
        api, {"apikey": DEMO_KEY}, 221, method="POST", data={"send": "x" * 100_000, "to": TELE2}
    )


def test_more_than_10000_recipients(api: Api) -> None:
    assert_error(
        api,
        {"apikey": DEMO_KEY},
        240,
        method="POST",
        data={"send": "Hello", "to": recipients(10_001)},
    )


def test_ip_restriction(gate: Server, api: Api, new_account: Callable[..., Account]) -> None:
    account = new_account(balance="10.00")
    params = {"apikey": account.key, "balance": "rur"}
    gate.cli("account", "set", str(account.id), "--allow-ip", "10.0.0.0/8, 192.168.1.7")
    assert_error(api, params, 113)
    # The allow-list admits the caller once loopback is on it, and empties to "anyone".
    gate.cli("account", "set", str(account.id), "--allow-ip", "10.0.0.0/8,127.0.0.1")
    assert api.call(params).text == "10.00"
    gate.cli("account", "set", str(account.id), "--allow-ip", "")
    assert api.call(params).text == "10.00"
