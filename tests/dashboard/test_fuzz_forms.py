"""Property-based fuzzing of every dashboard form, cabinet and console, with a valid session
and CSRF token and without: whatever is sent, the answer is never a 5xx nor a dropped
connection, and it is a well-formed HTML page, an htmx fragment, the CSV export, or one of the
documented short answers (a redirect to a page of the site, 401 with HX-Redirect for htmx,
text/plain 404/405/413). The server log must hold no traceback at the end (`running`).

Seeded and bounded: 290 requests a store, about 35 s of requests for both stores on a loaded
machine (plus starting the servers). More examples for a local hunt:

    PILOTGATE_FUZZ_SCALE=20 .venv/bin/python -m pytest tests/dashboard/test_fuzz_forms.py -s
"""

from __future__ import annotations

import collections
import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, seed, settings, strategies as st

from tests.acceptance.support import Account, Server, running
from tests.postgres import fresh_schema

from . import html_check
from .support import OPERATOR_EMAIL, OPERATOR_PASSWORD, Web

SEED = 20261205
SCALE = int(os.environ.get("PILOTGATE_FUZZ_SCALE", "1"))
#: Requests sent and answers checked, by test: printed at the end (pytest -s).
TRIED: collections.Counter[str] = collections.Counter()

INTERESTING = [
    "", " ", "\x00", "%", "%00", "&", "=", "\r\n", "\ud7ff", "\U0001f600", "ё", "a" * 2000,
    "<script>alert(1)</script>", "' OR 1=1 --", "get", "post", "GET", "active", "blocked",
    "deleted", "pending", "approved", "rejected", "sms", "viber", "INFORM", "SHOP",
    "x@example.com", "2026-12-05", "2026-13-45", "2026-12-05T10:00", "2099-01-01T00:00:00",
    "1970-01-01", "0001-01-01", "9999-12-31T23:59:59",
]  # fmt: skip
NUMBERS = [
    "0", "1", "-1", "2", "-2", "3", "7", "30", "366", "9" * 18, "9" * 19, "1" * 40, "\u00b2",
    "\u0663", "\u0661\u0660", "-\u00b2", "1e400", "NaN", "inf", "1_000", "0x10", " 1 ",
    "1.005", "-0.00", "999999999999.99", "-999999999999.99", "1,5", "12.3.4", "+5", "٣.٣",
]  # fmt: skip
URLS = [
    "http://a..b/", "http://" + "a" * 64 + ".com/", "https://127.0.0.1/cb", "http://[::1]/",
    "http://example.com/cb?x=1", "javascript:alert(1)", "mailto:x@example.com", "http://",
    "http://[", "http://a:99999/", "http://xn--/", "http://ex ample.com/", "https://пример.рф/",
    "http://\u00b2.com/", "http://a.b:-1/", "http://" + "a." * 130 + "com/", "x@example.com",
    "http://10.0.0.1/", "http://localhost:8080/cb", "http://user:pw@example.com/",
]  # fmt: skip
PHONES = [
    "79161234567", "8 (916) 123-45-67", "+79161234567", "79161234567,79169876543",
    "79161234567\n79087964780", "7916123456" * 30, "\u0667" * 11, "\u00b2" * 11, "0", "+",
]  # fmt: skip
GENERAL = st.one_of(
    st.sampled_from(INTERESTING + NUMBERS + URLS + PHONES),
    st.text(max_size=30),
    st.from_regex(r"-?[0-9]{1,20}", fullmatch=True),
)
VALUES = {
    **dict.fromkeys(
        ["status_url", "inbound_url", "callback"],
        st.sampled_from(URLS) | st.sampled_from(URLS) | st.sampled_from(URLS) | GENERAL,
    ),
    **dict.fromkeys(
        ["loop_window", "days", "before", "tariff", "tariff_id", "amount", "balance", "status"],
        st.one_of(st.sampled_from(NUMBERS), GENERAL),
    ),
    **dict.fromkeys(["phones", "phone"], st.one_of(st.sampled_from(PHONES), GENERAL)),
    "allow_ip": st.one_of(
        st.sampled_from(["127.0.0.1", "10.0.0.0/8", "::1", "1.2.3.4/33", "a,b", "1.2.3.4, ::/0"]),
        GENERAL,
    ),
}
#: A field: mostly the form's own names, sometimes one it does not expect.
EXTRA = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12)
LANG = st.sampled_from(["", "en", "ru", "xx", "\u00b2"])


@dataclass(frozen=True)
class Form:
    method: str
    path: str
    fields: tuple[str, ...]
    upload: bool = False


CABINET = [
    Form("POST", "/cabinet/send", ("phones", "text", "sender", "schedule", "test")),
    Form("POST", "/cabinet/send/count", ("phones", "text", "sender", "schedule")),
    Form("POST", "/cabinet/settings", (
        "status_url", "inbound_url", "allow_ip", "status_method", "loop_window",
        "default_sender", "rotate_secret",
    )),
    Form("POST", "/cabinet/senders", ("name", "description", "callback")),
    Form("POST", "/cabinet/key", ()),
    Form("POST", "/cabinet/password", ("current", "new")),
    Form("GET", "/cabinet/history", ("from", "to", "phone", "status", "sender", "channel", "q",
                                     "before")),
    Form("GET", "/cabinet/history.csv", ("from", "to", "phone", "status", "q", "before")),
    Form("GET", "/cabinet/stats", ("days",)),
    Form("GET", "/cabinet/balance", ("before",)),
    Form("GET", "/cabinet/messages/{id}", ()),
    Form("GET", "/cabinet/", ()),
]  # fmt: skip
CONSOLE = [
    Form("POST", "/console/accounts", ("email", "password", "balance", "tariff", "name")),
    Form("POST", "/console/accounts/{id}/topup", ("amount", "note")),
    Form("POST", "/console/accounts/{id}/state", ("state",)),
    Form("POST", "/console/accounts/{id}/tariff", ("tariff",)),
    Form("POST", "/console/senders/{id}/approve", ("reason",)),
    Form("POST", "/console/senders/{id}/reject", ("reason",)),
    Form("POST", "/console/connectors/{name}/enable", ()),
    Form("POST", "/console/connectors/{name}/disable", ()),
    Form("POST", "/console/stops", ("phones", "reason")),
    Form("POST", "/console/stops/remove", ("phone",)),
    Form("POST", "/console/tariffs/import", ("tariff_id", "name"), upload=True),
    Form("POST", "/console/password", ("current", "new")),
    Form("GET", "/console/senders", ("state",)),
    Form("GET", "/console/accounts/{id}", ()),
    Form("GET", "/console/tariffs/{id}", ()),
]
PUBLIC = [
    Form("POST", "/cabinet/login", ("email", "password")),
    Form("POST", "/console/login", ("email", "password")),
    Form("POST", "/cabinet/logout", ()),
    Form("POST", "/console/logout", ()),
    Form("GET", "/cabinet/login", ()),
]


@st.composite
def requests(draw: st.DrawFn, forms: list[Form], ids: list[int]) -> dict[str, Any]:
    """One request to one of `forms`: its fields (some left out, some extra), how the body
    is encoded, and which CSRF token goes with it."""
    form = draw(st.sampled_from(forms))
    path = form.path.replace(
        "{id}", str(draw(st.one_of(st.sampled_from(ids), st.integers(0, 10**18 - 1))))
    ).replace("{name}", draw(st.from_regex(r"[A-Za-z0-9_.-]{1,64}", fullmatch=True)))
    names = draw(st.lists(st.sampled_from(form.fields), unique=True)) if form.fields else []
    names += draw(st.lists(EXTRA, max_size=2))
    fields = {name: draw(VALUES.get(name, GENERAL)) for name in names}
    lang = draw(LANG)
    if lang:
        path += ("&" if "?" in path else "?") + f"lang={lang}"
    return {
        "form": form,
        "path": path,
        "fields": fields,
        # Mostly a valid token (or the htmx header): the other kinds stop at the CSRF check.
        "csrf": draw(st.sampled_from(["valid"] * 6 + ["header"] * 2 + ["none", "bad", "é"])),
        "body": draw(st.sampled_from(["form", "form", "multipart", "raw"])),
        "raw": draw(st.binary(max_size=200)),
        "csv": draw(st.one_of(st.binary(max_size=200), st.sampled_from(CSV_SAMPLES))),
        "htmx": draw(st.booleans()),
    }


CSV_SAMPLES = [
    b"7,sms,1.00\n", b"prefix,channel,price\n7916,sms,2.50,RU,MTS\n", b"\xef\xbb\xbf7,sms,1\n",
    "\u0667,sms,1.00\n".encode(), b"7,fax,1.00\n", b"7,sms,-1\n", b"7,sms,1e400\n", b"\xff\xfe",
]  # fmt: skip


def send(web: Web, request: dict[str, Any]) -> httpx.Response:
    form: Form = request["form"]
    headers = {"hx-request": "true"} if request["htmx"] else {}
    if form.method == "GET":
        return web.client.get(request["path"], params=request["fields"], headers=headers)
    fields = dict(request["fields"])
    mode = request["csrf"]
    if mode == "valid":
        fields["csrf"] = web.token
    elif mode == "header":
        headers["x-csrf-token"] = web.token
    elif mode != "none":
        fields["csrf"] = mode
    if form.upload or request["body"] == "multipart":
        files = {"file": ("rates.csv", request["csv"], "text/csv")} if form.upload else None
        files = files or {"_": ("", b"", "application/octet-stream")}
        return web.client.post(request["path"], data=fields, files=files, headers=headers)
    if request["body"] == "raw":
        headers["content-type"] = "application/x-www-form-urlencoded"
        return web.client.post(request["path"], content=request["raw"], headers=headers)
    return web.client.post(request["path"], data=fields, headers=headers)


def well_formed(answer: httpx.Response, request: dict[str, Any]) -> None:
    """The properties every answer has, whatever was asked."""
    status, kind = answer.status_code, answer.headers.get("content-type", "")
    context = f"{request['form'].method} {request['path']} {request['fields']!r}"
    assert status < 500, f"{status} for {context}:\n{answer.text[:2000]}"
    if status in (301, 302, 303, 307, 308):
        assert answer.headers["location"].startswith("/"), context
        return
    # htmx is told where to log in with an empty 401; a wrong password is a 401 page.
    if status == 401 and not answer.content:
        assert answer.headers.get("hx-redirect", "").startswith("/"), context
        return
    if kind.startswith("text/plain"):
        assert status in (404, 405, 413), f"{status} text/plain for {context}"
        return
    if kind.startswith("text/csv"):
        assert status == 200 and answer.text.startswith("server_id,"), context
        return
    assert kind == "text/html; charset=utf-8", f"{kind!r} for {context}"
    # The counter is always a fragment; history is one when htmx asks for its rows.
    path = request["path"]
    fragment = status in (200, 286) and (
        path.startswith("/cabinet/send/count")
        or (request["htmx"] and path.startswith("/cabinet/history"))
    )
    try:
        html_check.check(answer.text, fragment=fragment)
    except html_check.MalformedError as exc:
        raise AssertionError(f"{exc} in {status} for {context}:\n{answer.text[:3000]}") from None


FUZZ = settings(
    deadline=None,
    database=None,  # no .hypothesis folder: every run is the seeded one
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@dataclass
class Site:
    server: Server
    customer: Account
    victim: Account
    cabinet: Web
    console: Web
    anonymous: Web


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def fuzzed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    """A server of its own: the fuzz blocks accounts, disables connectors and replaces
    tariffs, which the other dashboard tests must not see."""
    with contextlib.ExitStack() as stack:
        settings_ = {"PILOTGATE_DASHBOARD_MAX_FORM_BYTES": "20000"}
        if request.param == "postgres":
            settings_["PILOTGATE_DATABASE_URL"] = stack.enter_context(fresh_schema())
        server = Server(tmp_path_factory.mktemp("fuzz"), "demo", settings=settings_)
        server = stack.enter_context(running(server))
        server.cli("operator", "add", OPERATOR_EMAIL, "--password", OPERATOR_PASSWORD)
        customer, victim = server.create_account(), server.create_account()
        cabinet, console, anonymous = Web(server.url), Web(server.url), Web(server.url)
        for web in (cabinet, console, anonymous):
            stack.callback(web.close)
        assert cabinet.login(customer.email, customer.password).status_code == 303
        assert console.login(OPERATOR_EMAIL, OPERATOR_PASSWORD, "console").status_code == 303
        anonymous.get("/cabinet/login")  # a token of an anonymous session
        yield Site(server, customer, victim, cabinet, console, anonymous)
        print(f"\ndashboard fuzz ({request.param}): {dict(TRIED)}")


def _run(web: Web, request: dict[str, Any], name: str) -> None:
    answer = send(web, request)
    TRIED[f"{name} {answer.status_code}"] += 1
    well_formed(answer, request)


@seed(SEED)
@settings(FUZZ, max_examples=120 * SCALE)
@given(data=st.data())
def test_cabinet_forms(fuzzed: Site, data: st.DataObject) -> None:
    request = data.draw(requests(CABINET, [fuzzed.customer.id, 1, 10_000]))
    _run(fuzzed.cabinet, request, "cabinet")


@seed(SEED)
@settings(FUZZ, max_examples=120 * SCALE)
@given(data=st.data())
def test_console_forms(fuzzed: Site, data: st.DataObject) -> None:
    # Never the fuzzing customer's own account: blocked, it would end the cabinet's session.
    ids = [fuzzed.victim.id, 1, 0, 10**18 - 1]
    request = data.draw(requests(CONSOLE, ids).filter(lambda r: _spares(r, fuzzed)))
    _run(fuzzed.console, request, "console")


def _spares(request: dict[str, Any], site: Site) -> bool:
    return f"/accounts/{site.customer.id}/" not in request["path"]


@seed(SEED)
@settings(FUZZ, max_examples=50 * SCALE)
@given(data=st.data())
def test_every_form_without_a_session(fuzzed: Site, data: st.DataObject) -> None:
    """Cabinet and console forms answer a visitor without a session with the way to the
    login page; the login forms themselves take any input."""
    request = data.draw(requests([*PUBLIC, *CABINET, *CONSOLE], [fuzzed.victim.id, 1]))
    _run(fuzzed.anonymous, request, "anonymous")
    if request["path"].startswith(("/cabinet/logout", "/console/logout")):
        fuzzed.anonymous.get("/cabinet/login")  # the new session's token


def test_a_csrf_token_with_non_ascii_characters_is_an_expired_form_not_a_crash(customer):
    """Found by the fuzz above: hmac.compare_digest raised TypeError."""
    _, client = customer()
    client.get("/cabinet/send")
    answer = client.post("/cabinet/send", {"phones": "79161234567", "text": "x"}, csrf="é")
    assert answer.status_code == 403
    assert "<html" in answer.text


def test_a_callback_host_idna_rejects_is_error_260_not_a_crash(customer):
    """Found by the fuzz above: the cabinet's status-URL form answered 500 for `a..b`."""
    _, client = customer()
    client.get("/cabinet/settings")
    for url in ("http://a..b/", "http://" + "a" * 64 + ".com/cb"):
        answer = client.post("/cabinet/settings", {"status_url": url})
        assert answer.status_code == 400 and "260" in answer.text, url
    client.get("/cabinet/senders")
    added = client.post(
        "/cabinet/senders", {"name": "IDNACO", "description": "d", "callback": "http://a..b/"}
    )
    assert added.status_code == 400 and "645" in added.text  # the add_sender code


def test_a_nul_in_a_history_filter_is_removed_not_a_crash(customer):
    """Found by the fuzz above on PostgreSQL, which refuses NUL in text parameters."""
    _, client = customer()
    for query in ("q=%00", "sender=%00x", "channel=s%00ms", "phone=%00"):
        page = client.get(f"/cabinet/history?{query}")
        assert page.status_code == 200, query
        export = client.get(f"/cabinet/history.csv?{query}")
        assert export.status_code == 200 and export.text.startswith("server_id,")
