"""SMPP credentials on every backend: set by the operator's use case, checked at bind by the
gateway with the one password check (its lockout shared with the API and the cabinet)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pilotgate.domain import audit
from pilotgate.domain.accounts import AccountState
from pilotgate.errors import ApiError, InputError
from pilotgate.gateway import Credentials, Gateway
from pilotgate.operations import accounts, smpp
from pilotgate.storage.base import AccountChanges

from .test_store import _RATES, NOW


@pytest.fixture
async def gateway(store) -> Gateway:
    await store.replace_tariff(1, "default", _RATES)
    ticks = iter(NOW + timedelta(seconds=n) for n in range(10_000))
    return Gateway(store, lambda: next(ticks))


async def _account(gateway: Gateway, email: str = "shop@example.com") -> int:
    request = accounts.AccountRequest(email=email, password="password-1", tariff_id=1)
    return (await accounts.create(gateway, audit.CLI, request)).account.id


async def test_a_bind_finds_the_account_by_system_id_and_password(gateway):
    account_id = await _account(gateway)
    await smpp.set_credentials(gateway, audit.CLI, account_id, "shop", "secret12")
    found = await gateway.authenticate_smpp("shop", "secret12", "10.0.0.1")
    assert found.id == account_id
    stored = await smpp.credentials(gateway, account_id)
    assert stored is not None and "secret12" not in stored.password_hash
    for system_id, password in (("shop", "wrong123"), ("nobody", "secret12"), ("", "")):
        with pytest.raises(ApiError) as refused:
            await gateway.authenticate_smpp(system_id, password, "10.0.0.1")
        assert refused.value.code == 400
    trail = [(e.action, e.detail) for e in await gateway.store.audit_entries(account_id, 5)]
    assert ("account.smpp", "system_id='shop' password changed") in trail


async def test_the_system_id_is_renamed_kept_unique_and_removed(gateway):
    first, second = await _account(gateway), await _account(gateway, "other@example.com")
    await smpp.set_credentials(gateway, audit.CLI, first, "shop", "secret12")
    await smpp.set_credentials(gateway, audit.CLI, first, "shop2", None)  # the password stays
    assert (await gateway.authenticate_smpp("shop2", "secret12", "10.0.0.1")).id == first
    with pytest.raises(InputError) as taken:
        await smpp.set_credentials(gateway, audit.CLI, second, "shop2", "another1")
    assert taken.value.field == "smpp_system_id"
    await smpp.set_credentials(gateway, audit.CLI, first, "", None)
    assert await smpp.credentials(gateway, first) is None
    with pytest.raises(ApiError):
        await gateway.authenticate_smpp("shop2", "secret12", "10.0.0.1")


@pytest.mark.parametrize(
    ("system_id", "password", "field"),
    [
        ("a" * 16, "secret12", "smpp_system_id"),
        ("has space", "secret12", "smpp_system_id"),
        ("shop", "short", "smpp_password"),
        ("shop", "ninechars", "smpp_password"),
        ("shop", "пароль12", "smpp_password"),
        ("shop", None, "smpp_password"),  # a first system_id needs a password
    ],
)
async def test_credentials_breaking_the_rules_are_refused(gateway, system_id, password, field):
    account_id = await _account(gateway)
    with pytest.raises(InputError) as refused:
        await smpp.set_credentials(gateway, audit.CLI, account_id, system_id, password)
    assert refused.value.field == field


async def test_binds_share_the_lockout_and_honour_blocks_and_the_allow_list(gateway):
    account_id = await _account(gateway)
    await smpp.set_credentials(gateway, audit.CLI, account_id, "shop", "secret12")
    for _ in range(gateway.passwords.settings.lockout_attempts):
        with pytest.raises(ApiError):
            await gateway.authenticate_smpp("shop", "guess123", "10.0.0.9")
    # Locked out: the right password fails too, over SMPP and over the API alike.
    with pytest.raises(ApiError):
        await gateway.authenticate_smpp("shop", "secret12", "10.0.0.9")
    with pytest.raises(ApiError) as api:
        await gateway.authenticate(
            Credentials(login="shop@example.com", password="password-1"), "10.0.0.9"
        )
    assert api.value.code == 400
    await accounts.change(gateway, audit.CLI, account_id, AccountChanges(allow_ip="192.0.2.0/24"))
    with pytest.raises(ApiError) as elsewhere:
        await gateway.authenticate_smpp("shop", "secret12", "10.0.0.1")
    assert elsewhere.value.code == 113
    assert (await gateway.authenticate_smpp("shop", "secret12", "192.0.2.7")).id == account_id
    await accounts.set_state(gateway, audit.CLI, account_id, AccountState.BLOCKED_SPAM)
    with pytest.raises(ApiError) as blocked:
        await gateway.authenticate_smpp("shop", "secret12", "192.0.2.7")
    assert blocked.value.code == 106
