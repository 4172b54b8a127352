"""Logging in and out, lockout, password change, language, cookie attributes."""

from __future__ import annotations

from tests.acceptance.support import DEMO_KEY

from .support import Web


def test_login_sets_a_hardened_session_cookie_and_logout_ends_it(site, web):
    account = site.create_account()
    web.get("/cabinet/login")
    answer = web.post("/cabinet/login", {"email": account.email, "password": account.password})
    assert answer.status_code == 303 and answer.headers["location"] == "/cabinet/"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http here; https adds Secure
    page = web.get("/cabinet/")
    assert page.status_code == 200 and account.email in page.text
    assert web.post("/cabinet/logout").status_code == 303
    assert web.get("/cabinet/").status_code == 303


def test_wrong_password_and_unknown_email_say_the_same(site, web):
    account = site.create_account()
    web.get("/cabinet/login")
    wrong = web.post("/cabinet/login", {"email": account.email, "password": "nope"})
    unknown = web.post("/cabinet/login", {"email": "nobody@example.com", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong e-mail or password." in wrong.text and "Wrong e-mail or password." in unknown.text


def test_five_failures_lock_the_account_out_from_that_address(site, web):
    account = site.create_account()
    web.get("/cabinet/login")
    for _ in range(5):
        assert (
            web.post("/cabinet/login", {"email": account.email, "password": "x"}).status_code == 401
        )
    locked = web.post("/cabinet/login", {"email": account.email, "password": account.password})
    assert locked.status_code == 429 and "Too many failed attempts" in locked.text
    # Another account from the same address is not affected.
    other = site.create_account()
    fine = web.post("/cabinet/login", {"email": other.email, "password": other.password})
    assert fine.status_code == 303


def test_changing_the_password_ends_other_sessions(site):
    account = site.create_account()
    first, second = Web(site.url), Web(site.url)
    try:
        first.login(account.email, account.password)
        second.login(account.email, account.password)
        first.get("/cabinet/password")
        short = first.post("/cabinet/password", {"current": account.password, "new": "short"})
        assert short.status_code == 400
        bad = first.post("/cabinet/password", {"current": "wrong", "new": "long-enough-1"})
        assert bad.status_code == 400 and "wrong" in bad.text
        done = first.post("/cabinet/password", {"current": account.password, "new": "new-pass-123"})
        assert done.status_code == 303
        assert first.get("/cabinet/").status_code == 200  # this session goes on
        assert second.get("/cabinet/").status_code == 303  # the other one has ended
        again = Web(site.url)
        assert again.login(account.email, "new-pass-123").status_code == 303
        old = Web(site.url)
        assert old.login(account.email, account.password).status_code == 401
        again.close()
        old.close()
    finally:
        first.close()
        second.close()


def test_a_blocked_account_cannot_log_in_and_is_logged_out(site, customer):
    account, client = customer()
    site.cli("account", "block", str(account.id))
    assert client.get("/cabinet/").status_code == 303
    fresh = Web(site.url)
    assert fresh.login(account.email, account.password).status_code == 403
    fresh.close()


def test_russian_and_english(web, customer):
    _, client = customer()
    assert "Отправка SMS" in client.get("/cabinet/send?lang=ru").text
    assert "Отправка SMS" in client.get("/cabinet/send").text  # remembered in the session
    assert "Send SMS" in client.get("/cabinet/send?lang=en").text
    assert "Личный кабинет" in web.get("/cabinet/login", headers={"accept-language": "ru-RU"}).text


def test_the_api_is_unchanged_beside_the_dashboard(site, web):
    answer = web.client.get("/api.php", params={"balance": "rur", "apikey": DEMO_KEY})
    assert answer.status_code == 200 and answer.headers["access-control-allow-origin"] == "*"
    assert web.get("/cabinet/nothing-here").status_code == 404
    assert web.client.put("/cabinet/login").status_code == 405
    static = web.client.get("/static/dashboard/htmx.min.js")
    assert static.status_code == 200 and static.headers["content-type"].startswith(
        "text/javascript"
    )
    assert web.client.get("/static/dashboard/../__init__.py").status_code == 404
