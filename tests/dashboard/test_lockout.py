"""One lockout for every way a password is checked (issue 12, item 4): API-1 and API-2
`login`+`password` and the cabinet share one count of failures per e-mail and address, and
while it is full the right password gets nowhere. One password policy (8 to 1024 characters)
for `account create`, `operator add`, the console's new-account form and password changes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.acceptance.api2_client import Api2, error as error2
from tests.acceptance.support import Account, Api, Server, error_json

from .support import Web

#: Failures before the lockout (the default `dashboard_lockout_attempts`).
ATTEMPTS = 5


@pytest.fixture
def http() -> Any:
    with httpx.Client(timeout=30.0) as client:
        yield client


@pytest.fixture
def api1(site: Server, http: httpx.Client) -> Api:
    return Api(http, site.url)


@pytest.fixture
def api2(site: Server, http: httpx.Client) -> Api2:
    return Api2(http, site.url, None)


def balance1(api1: Api, email: str, password: str) -> Any:
    return api1.json(login=email, password=password, balance="rur")


def balance2(api2: Api2, email: str, password: str) -> Any:
    return api2({"login": email, "password": password, "balance": True})


def cabinet(site: Server, email: str, password: str) -> int:
    web = Web(site.url)
    try:
        web.get("/cabinet/login")
        return web.post("/cabinet/login", {"email": email, "password": password}).status_code
    finally:
        web.close()


def assert_locked_everywhere(site: Server, api1: Api, api2: Api2, account: Account) -> None:
    """The right password is refused by API-1, API-2 (as a wrong one is: 400) and the cabinet."""
    assert balance1(api1, account.email, account.password) == error_json(400)
    assert balance2(api2, account.email, account.password) == error2(400)
    assert cabinet(site, account.email, account.password) == 429


def test_api1_guesses_lock_out_api2_and_the_cabinet(site: Server, api1: Api, api2: Api2) -> None:
    account = site.create_account()
    assert "balance" in balance1(api1, account.email, account.password)
    for _ in range(ATTEMPTS):
        assert balance1(api1, account.email, "guess") == error_json(400)
    assert_locked_everywhere(site, api1, api2, account)
    # Other accounts from the same address are not affected, nor the locked one's API key.
    other = site.create_account()
    assert "balance" in balance1(api1, other.email, other.password)
    assert "balance" in api1.as_key(account.key).json(balance="rur")


def test_api2_guesses_count_with_api1_and_any_case_of_the_email(
    site: Server, api1: Api, api2: Api2
) -> None:
    account = site.create_account()
    for n in range(ATTEMPTS):
        guess = {"login": account.email.upper(), "password": f"guess-{n}", "balance": True}
        if n % 2:
            assert balance1(api1, account.email.upper(), f"guess-{n}") == error_json(400)
        else:
            assert api2(guess) == error2(400)
    assert_locked_everywhere(site, api1, api2, account)


def test_cabinet_failures_lock_the_api(site: Server, api1: Api, api2: Api2) -> None:
    account = site.create_account()
    for _ in range(ATTEMPTS):
        assert cabinet(site, account.email, "guess") == 401
    assert_locked_everywhere(site, api1, api2, account)


def test_the_password_change_form_counts_towards_the_lockout(
    site: Server, customer: Callable[..., tuple[Account, Web]], api1: Api
) -> None:
    account, web = customer()
    web.get("/cabinet/password")
    for _ in range(ATTEMPTS):
        wrong = web.post("/cabinet/password", {"current": "guess", "new": "new-password-1"})
        assert wrong.status_code == 400
    right = web.post("/cabinet/password", {"current": account.password, "new": "new-password-1"})
    assert right.status_code == 429 and "Too many failed attempts" in right.text
    assert balance1(api1, account.email, account.password) == error_json(400)


def test_unknown_logins_are_locked_out_like_known_ones(site: Server, api1: Api) -> None:
    # The same answers for an e-mail without an account: a lockout tells no one it exists.
    for _ in range(ATTEMPTS + 2):
        assert balance1(api1, "nobody-here@example.com", "guess") == error_json(400)


# one password policy ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("password", "ok"), [("secret", False), ("7-chars", False), ("8-chars!", True)]
)
def test_account_create_and_operator_add_share_one_policy(
    site: Server, password: str, ok: bool
) -> None:
    email = f"policy-{len(password)}-{ok}@example.com"
    created = site.run_cli("account", "create", "--email", email, "--password", password)
    operator = site.run_cli("operator", "add", "op-" + email, "--password", password)
    for done in (created, operator):
        assert (done.returncode == 0) is ok, (done.stdout, done.stderr)
        if not ok:
            assert "at least 8 characters" in done.stderr
    too_long = site.run_cli("account", "create", "--email", "x" + email, "--password", "p" * 1025)
    assert too_long.returncode != 0 and "at most 1024 characters" in too_long.stderr


def test_dashboard_forms_apply_the_same_policy(
    customer: Callable[..., tuple[Account, Web]], operator: Web
) -> None:
    account, web = customer()
    web.get("/cabinet/password")
    for new in ("7-chars", "p" * 1025):
        answer = web.post("/cabinet/password", {"current": account.password, "new": new})
        assert answer.status_code == 400 and "8 to 1024 characters" in answer.text
    operator.get("/console/accounts")
    refused = operator.post(
        "/console/accounts", {"email": "short-pw@example.com", "password": "7-chars"}
    )
    assert refused.status_code == 400
