"""The rules an account's details are held to, whoever types them (CLI or console)."""

from __future__ import annotations

import pytest

from pilotgate.domain import audit, registration


def test_an_email_is_trimmed_and_lower_cased():
    assert registration.email("  Shop.Owner@Example.COM \t") == "shop.owner@example.com"


@pytest.mark.parametrize("raw", ["", "   ", "no-at-sign", "a@b", "two@@example.com", "a b@c.de"])
def test_what_is_not_an_email_is_refused(raw):
    with pytest.raises(ValueError, match="not an e-mail address"):
        registration.email(raw)


@pytest.mark.parametrize(
    ("raw", "ok"), [("7-chars", False), ("8-chars!", True), ("p" * 1025, False)]
)
def test_one_password_policy(raw, ok):
    if ok:
        assert registration.password(raw) == raw  # kept as typed, spaces and case included
    else:
        with pytest.raises(ValueError, match="characters"):
            registration.password(raw)


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("+7 (916) 123-45-67", "79161234567"),
        ("8 916 123 45 67", "79161234567"),
        ("  ", ""),
        ("", ""),
    ],
)
def test_a_contact_phone_is_kept_in_international_digits(raw, kept):
    assert registration.contact_phone(raw) == kept


@pytest.mark.parametrize("raw", ["call me", "+7 916", "١٢٣٤٥٦٧"])
def test_what_is_not_a_phone_is_refused(raw):
    with pytest.raises(ValueError, match="not a phone number"):
        registration.contact_phone(raw)


def test_a_default_sender_is_a_sender_name_or_empty():
    assert registration.default_sender(" PHARMACY ") == "PHARMACY"
    assert registration.default_sender("") == ""
    with pytest.raises(ValueError, match="not a sender name"):
        registration.default_sender("NAME WITH SPACES")


def test_an_opening_balance_is_money_and_never_negative():
    assert registration.opening_balance("1000.50") == 100_050
    assert registration.opening_balance("") == 0
    with pytest.raises(ValueError, match="not negative"):
        registration.opening_balance("-1")
    with pytest.raises(ValueError, match="not an amount"):
        registration.opening_balance("lots")


def test_a_name_is_trimmed_and_cut():
    assert registration.name("  Shop & Co ") == "Shop & Co"
    assert len(registration.name("x" * 500)) == registration.NAME_LENGTH


def test_the_actors_the_audit_names():
    assert audit.CLI == "cli"
    assert audit.operator("ops@example.com") == "operator:ops@example.com"
