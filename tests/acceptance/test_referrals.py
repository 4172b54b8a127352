"""Referrals (contract §14): `r=<account id>` on any authenticated request records the
caller's referrer once (never self, never changed later); the referrer is credited its share
(10 % by default, rounded down to the kopeck) of what the referred account is charged."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from .support import MTS, MTS_PRICE, TELE2, TELE2_PRICE, Account, Api, Server


def test_r_links_the_referrer_and_charges_pay_it_a_share(
    gate: Server, api: Api, new_account: Callable[..., Account]
) -> None:
    referrer, referred = new_account(balance="0"), new_account()
    client = api.as_key(referred.key)
    plain = client.text(balance="rur")
    # The answer to a request with r= is exactly the answer without it.
    assert client.text(balance="rur", r=str(referrer.id)) == plain
    client.json(send="Hello", to=f"{TELE2},{MTS}")
    assert TELE2_PRICE + MTS_PRICE == Decimal("8.30")
    assert api.as_key(referrer.key).balance() == Decimal("0.83")  # 10 % of 8.30
    listed = gate.cli("referral", "list", str(referrer.id)).strip().split("\t")
    assert listed == [str(referred.id), referred.email, "10%", "0.83"]


def test_the_referrer_is_never_changed_later(
    gate: Server, api: Api, new_account: Callable[..., Account]
) -> None:
    first, second, referred = new_account(balance="0"), new_account(balance="0"), new_account()
    client = api.as_key(referred.key)
    client.json(check="all", r=str(first.id))
    client.json(send="Hi", to=TELE2, r=str(second.id))
    assert api.as_key(first.key).balance() == Decimal("0.39")
    assert api.as_key(second.key).balance() == Decimal("0.00")
    assert gate.cli("referral", "list", str(second.id)).strip() == ""


def test_self_unknown_and_malformed_referrers_are_ignored(
    gate: Server, api: Api, new_account: Callable[..., Account]
) -> None:
    account = new_account()
    client = api.as_key(account.key)
    expected = client.text()  # user info
    for value in (str(account.id), "999999999", "abc", "-1", "1e3", "9" * 30, "1,2"):
        assert client.text(r=value) == expected
    before = client.balance()
    client.json(send="Hi", to=TELE2, r="")
    assert client.balance() == before - TELE2_PRICE
    # Nothing was recorded, so a real referrer can still be named.
    later = new_account(balance="0")
    client.json(balance="rur", r=str(later.id))
    client.json(send="Hi", to=TELE2)
    assert api.as_key(later.key).balance() == Decimal("0.39")


def test_login_and_password_requests_record_it_too(
    api: Api, new_account: Callable[..., Account]
) -> None:
    referrer, referred = new_account(balance="0"), new_account()
    api.json(login=referred.email, password=referred.password, balance="rur", r=str(referrer.id))
    api.as_key(referred.key).json(send="Hi", to=MTS)
    assert api.as_key(referrer.key).balance() == Decimal("0.43")


def test_unauthenticated_requests_record_nothing(
    api: Api, new_account: Callable[..., Account]
) -> None:
    referrer, referred = new_account(balance="0"), new_account()
    answer = api.json(login=referred.email, password="wrong", r=str(referrer.id))
    assert answer["error"]["code"] == "400"
    api.as_key(referred.key).json(send="Hi", to=MTS)
    assert api.as_key(referrer.key).balance() == Decimal("0.00")


def test_api2_records_r_from_the_document_or_the_query(
    gate: Server, api: Api, new_account: Callable[..., Account]
) -> None:
    first, second = new_account(balance="0"), new_account(balance="0")
    by_document, by_query = new_account(), new_account()
    endpoint = gate.url + "/api2.php"
    plain = api.client.post(endpoint, json={"apikey": by_document.key, "balance": True}).json()
    answered = api.client.post(
        endpoint, json={"apikey": by_document.key, "balance": True, "r": str(first.id)}
    ).json()
    assert answered == plain  # r never changes the answer
    api.client.post(
        endpoint + f"?r={second.id}",
        json={"apikey": by_query.key, "send": [{"to": TELE2, "text": "Hi"}]},
    )
    api.as_key(by_document.key).json(send="Hi", to=TELE2)
    assert api.as_key(first.key).balance() == Decimal("0.39")  # 10 % of 3.95, rounded down
    assert api.as_key(second.key).balance() == Decimal("0.39")
