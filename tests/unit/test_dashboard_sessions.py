"""Signed session cookies and CSRF tokens (pilotgate/api/dashboard/sessions.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from pilotgate.api.dashboard import i18n
from pilotgate.api.dashboard.sessions import Signer, fingerprint

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_session_survives_the_round_trip_and_nothing_else_does():
    signer = Signer("s" * 64, timedelta(hours=1))
    session = signer.new(NOW, kind="c", user_id=7, fp=fingerprint("s", "hash"), lang="ru")
    cookie = signer.dump(session)
    assert signer.load(cookie, NOW) == session
    assert signer.load(cookie, NOW + timedelta(hours=2)) is None  # expired
    assert Signer("t" * 64, timedelta(hours=1)).load(cookie, NOW) is None  # other secret
    payload, mac = cookie.split(".")
    forged = signer.dump(replace(session, user_id=8)).split(".")[0] + "." + mac
    assert signer.load(forged, NOW) is None
    for junk in ("", ".", "abc", "a.b.c", payload, "!!!." + mac):
        assert signer.load(junk, NOW) is None


def test_csrf_tokens_belong_to_one_session():
    signer = Signer("s" * 64, timedelta(hours=1))
    one, two = signer.new(NOW), signer.new(NOW)
    assert signer.csrf_ok(one, signer.csrf(one))
    assert not signer.csrf_ok(two, signer.csrf(one))
    assert not signer.csrf_ok(one, "")


def test_the_password_fingerprint_changes_with_the_password():
    assert fingerprint("k", "hash1") != fingerprint("k", "hash2")
    assert fingerprint("k", "hash1") == fingerprint("k", "hash1")


def test_the_language_comes_from_the_query_then_the_session_then_the_browser():
    assert i18n.choose("ru", "en", "en-US") == "ru"
    assert i18n.choose("", "ru", "en-US") == "ru"
    assert i18n.choose("xx", "", "ru-RU,ru;q=0.9") == "ru"
    assert i18n.choose("", "", "de") == "en"
    assert i18n.translate("Log in", "ru") == "Войти"
    assert i18n.translate("Not in the catalogue", "ru") == "Not in the catalogue"
