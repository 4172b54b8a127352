"""Who may see what: a customer only ever sees the own account's data and never the console,
whatever URL it guesses; every form refuses a missing or wrong CSRF token."""

from __future__ import annotations

import re

import pytest

from pilotgate.api.dashboard import _router
from tests.acceptance.support import TELE2

from .support import found

ROUTES = _router().routes


def _path(pattern: str, id_: str = "1") -> str:
    path = pattern.strip("^$")
    path = re.sub(r"\(\?P<id>[^)]*\)", id_, path)
    return re.sub(r"\(\?P<name>[^)]*\)", "emulator", path).replace("\\", "")


def _gets(access: str) -> list[str]:
    return [_path(r.pattern.pattern) for r in ROUTES if r.access == access and r.method == "GET"]


def test_anonymous_visitors_are_sent_to_the_login_pages(web):
    for path in _gets("customer"):
        answer = web.get(path)
        assert answer.status_code == 303 and answer.headers["location"] == "/cabinet/login", path
    for path in _gets("operator"):
        answer = web.get(path)
        assert answer.status_code == 303 and answer.headers["location"] == "/console/login", path


def test_a_customer_never_reaches_the_console(customer):
    _, client = customer()
    for path in _gets("operator"):
        answer = client.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["location"] == "/console/login", path
    client.get("/cabinet/")
    answer = client.post("/console/accounts/1/topup", {"amount": "1000"})
    assert answer.status_code == 303 and answer.headers["location"] == "/console/login"


def test_an_operator_session_is_not_a_customer_session(operator):
    answer = operator.get("/cabinet/history")
    assert answer.status_code == 303 and answer.headers["location"] == "/cabinet/login"


def test_a_customer_never_sees_another_customers_messages(customer):
    _alice, alice_web = customer()
    _bob, bob_web = customer()
    alice_web.get("/cabinet/send")
    sent = alice_web.post("/cabinet/send", {"phones": TELE2, "text": "alice-secret-text"})
    assert sent.status_code == 200, sent.text
    server_id = found(r"/cabinet/messages/(\d+)", sent.text).group(1)
    assert "alice-secret-text" in alice_web.get(f"/cabinet/messages/{server_id}").text
    # Bob guesses the URL, the history, the export, filters and pages.
    detail = bob_web.get(f"/cabinet/messages/{server_id}")
    assert detail.status_code == 404 and "alice-secret-text" not in detail.text
    for path in (
        "/cabinet/history",
        f"/cabinet/history?before={int(server_id) + 1}",
        "/cabinet/history?q=alice-secret",
        f"/cabinet/history?phone={TELE2}",
        "/cabinet/history.csv",
        "/cabinet/",
        "/cabinet/stats",
    ):
        assert "alice-secret-text" not in bob_web.get(path).text, path
    assert "alice-secret" not in bob_web.get("/cabinet/history.csv?q=alice").text


def test_a_forged_or_foreign_cookie_is_no_session(web, customer):
    _, client = customer()
    cookie = client.client.cookies.get("pilotgate_session")
    payload, mac = cookie.split(".")
    web.client.cookies.set("pilotgate_session", payload + "." + mac[::-1])
    answer = web.get("/cabinet/")
    assert answer.status_code == 303


@pytest.mark.parametrize("token", ["", "wrong-token"])
def test_every_form_refuses_a_missing_or_wrong_csrf_token(site, web, customer, operator, token):
    account, client = customer()
    for route in ROUTES:
        if route.method != "POST":
            continue
        path = _path(route.pattern.pattern, str(account.id))
        who = {"public": web, "customer": client, "operator": operator}[route.access]
        who.get("/cabinet/login" if route.access == "public" else "/cabinet/")
        answer = who.post(
            path,
            {
                "amount": "500",
                "email": account.email,
                "password": account.password,
                "state": "blocked_spam",
            },
            csrf=token,
        )
        assert answer.status_code == 403, (path, answer.status_code)
    # Nothing happened: the customer is still logged in, active, and has the same balance.
    page = client.get("/cabinet/balance")
    assert page.status_code == 200 and 'id="balance">100.00<' in page.text
