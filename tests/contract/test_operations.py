"""The operator's use cases (pilotgate.operations) on every backend: one set of rules for
what the CLI and the console enter, and an audit entry for every change."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pilotgate.domain import audit
from pilotgate.domain.accounts import AccountState
from pilotgate.domain.senders import SenderState
from pilotgate.errors import ConflictError, InputError
from pilotgate.gateway import Gateway
from pilotgate.operations import accounts, audit as trail, senders, tariffs
from pilotgate.storage.base import AccountChanges

from .test_store import _RATES, NOW

OPERATOR = audit.operator("ops@example.com")


@pytest.fixture
async def gateway(store) -> Gateway:
    await store.replace_tariff(1, "default", _RATES)
    ticks = iter(NOW + timedelta(seconds=n) for n in range(10_000))
    return Gateway(store, lambda: next(ticks))


def request(**changes) -> accounts.AccountRequest:
    values = {"email": " Shop@Example.COM ", "password": "password-1", "tariff_id": 1}
    return accounts.AccountRequest(**{**values, **changes})


async def test_an_account_is_created_by_the_shared_rules(gateway):
    created = await accounts.create(
        gateway,
        audit.CLI,
        request(phone="+7 (916) 123-45-67", balance="12.50", default_sender="PHARMACY"),
    )
    account = created.account
    assert (account.email, account.phone, account.default_sender, account.balance) == (
        "shop@example.com",
        "79161234567",
        "PHARMACY",
        1250,
    )
    assert len(created.apikey) == 64 and account.callback_secret
    with pytest.raises(ConflictError):  # the same address in other letters
        await accounts.create(gateway, audit.CLI, request(email="SHOP@example.com"))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"password": "short"}, "password"),
        ({"phone": "call me"}, "phone"),
        ({"balance": "-5"}, "balance"),
        ({"tariff_id": 424242}, "tariff"),
        ({"default_sender": "A B"}, "default_sender"),
        ({"apikey": "short"}, "apikey"),
    ],
)
async def test_input_breaking_a_rule_creates_nothing(gateway, changes, field):
    with pytest.raises(InputError) as caught:
        await accounts.create(gateway, audit.CLI, request(**changes))
    assert caught.value.field == field
    assert await accounts.listing(gateway) == []
    assert await trail.trail(gateway) == []


async def test_every_change_is_in_the_audit_trail_with_who_and_when(gateway, store):
    account = (await accounts.create(gateway, audit.CLI, request(balance="1.00"))).account
    await accounts.credit(gateway, OPERATOR, account.id, "10.25", " refund for March ")
    await accounts.set_state(gateway, OPERATOR, account.id, AccountState.BLOCKED_SPAM)
    await accounts.set_state(gateway, audit.CLI, account.id, AccountState.ACTIVE)
    await accounts.change(gateway, OPERATOR, account.id, AccountChanges(phone="8 916 000 00 00"))
    await accounts.add_key(gateway, audit.CLI, account.id)
    await accounts.rotate_secret(gateway, audit.CLI, account.id)
    name = await senders.add(gateway, audit.CLI, account.id, "SHOP")
    await senders.reject(gateway, OPERATOR, name.id, "looks like a bank")
    await tariffs.replace(gateway, OPERATOR, 2, "cheap", "7,sms,1.10,RU,Any\n")

    entries = await trail.trail(gateway, account.id)
    assert [(e.actor, e.action, e.detail) for e in reversed(entries)] == [
        ("cli", "account.create", "shop@example.com tariff=1 balance=1.00"),
        (OPERATOR, "account.credit", "10.25 refund for March"),
        (OPERATOR, "account.state", "blocked_spam"),
        ("cli", "account.state", "active"),
        (OPERATOR, "account.change", "phone='79160000000'"),
        ("cli", "account.key", "added"),
        ("cli", "account.secret", "rotated"),
        ("cli", "sender.add", "SHOP pending"),
        (OPERATOR, "sender.rejected", "SHOP rejected: looks like a bank"),
    ]
    assert all(e.at.utcoffset() == timedelta(0) and e.at >= NOW for e in entries)
    assert entries[0].at > entries[-1].at  # newest first
    everything = await trail.trail(gateway)
    assert everything[0].action == "tariff.replace" and everything[0].account_id is None
    assert [e.id for e in await trail.trail(gateway, account.id, limit=2)] == [
        e.id for e in entries[:2]
    ]
    # The ledger keeps the note the customer reads.
    assert (await store.ledger(account.id, None, 1))[0].note == "refund for March"


async def test_a_refused_change_is_not_audited(gateway):
    account = (await accounts.create(gateway, audit.CLI, request())).account
    for bad in (
        AccountChanges(tariff_id=424242),
        AccountChanges(status_url="ftp://example.com/"),
        AccountChanges(allow_ip="not-a-network"),
    ):
        with pytest.raises(InputError):
            await accounts.change(gateway, OPERATOR, account.id, bad)
    with pytest.raises(InputError):
        await accounts.credit(gateway, OPERATOR, account.id, "abc")
    with pytest.raises(InputError):
        await senders.add(gateway, OPERATOR, account.id, "no spaces allowed")
    with pytest.raises(InputError, match="tariff line 1"):
        await tariffs.replace(gateway, OPERATOR, 1, "x", "7,sms,abc\n")
    assert [e.action for e in await trail.trail(gateway)] == ["account.create"]
    assert (await senders.listing(gateway, SenderState.PENDING)) == []
