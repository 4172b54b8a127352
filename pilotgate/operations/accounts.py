"""Accounts: create, credit, block and unblock, change settings, API keys and the callback
secret; and the lists the console shows. Every change is recorded in the audit trail."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import TypeVar

from pilotgate.domain import accounts, money, params, registration
from pilotgate.domain.accounts import Account, AccountState
from pilotgate.domain.audit import AuditEntry
from pilotgate.errors import ApiError, InputError
from pilotgate.gateway import Gateway
from pilotgate.storage.base import AccountChanges, NewAccount, Referral, Sender, TariffInfo
from pilotgate.storage.dashboard import LedgerEntry

from . import audit, tariffs

T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountRequest:
    """A new account as the operator typed it; `create` applies the rules."""

    email: str
    password: str
    tariff_id: int
    name: str = ""
    phone: str = ""
    balance: str = "0"  # opening credit in rubles, "1000.00"
    default_sender: str = ""  # "" = the gateway's default sender
    any_sender: bool = False
    apikey: str | None = None  # None = a new random key


@dataclass(frozen=True, slots=True)
class CreatedAccount:
    account: Account
    apikey: str  # shown once: the database keeps only its digest


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountOverview:
    """What the console's account page shows."""

    account: Account
    tariffs: list[TariffInfo]
    ledger: list[LedgerEntry]
    senders: list[Sender]
    audit: list[AuditEntry]


def checked(field: str, rule: Callable[[str], T], raw: str) -> T:
    """`rule(raw)`, its ValueError turned into the InputError that names `field`."""
    try:
        return rule(raw)
    except ValueError as exc:
        raise InputError(field, str(exc)) from None


async def create(gateway: Gateway, actor: str, request: AccountRequest) -> CreatedAccount:
    """Raises InputError for input breaking a rule, ConflictError for a taken e-mail/key."""
    email = checked("email", registration.email, request.email)
    password = checked("password", registration.password, request.password)
    phone = checked("phone", registration.contact_phone, request.phone)
    sender = checked("default_sender", registration.default_sender, request.default_sender)
    opening = checked("balance", registration.opening_balance, request.balance)
    key = request.apikey or accounts.new_api_key()
    if not accounts.is_key_shaped(key):
        raise InputError("apikey", "an API key is 64 letters and digits")
    await tariffs.require(gateway, request.tariff_id)
    created = await gateway.store.create_account(
        NewAccount(
            email=email,
            password_hash=await gateway.passwords.hash_async(password),
            key_digest=accounts.key_digest(key),
            tariff_id=request.tariff_id,
            name=registration.name(request.name),
            phone=phone,
            default_sender=sender,
            any_sender=request.any_sender,
            callback_secret=secrets.token_hex(32),  # the HMAC key of X-PilotGate-Signature
        ),
        gateway.clock(),
    )
    if opening:
        balance = await gateway.store.credit(
            created.id, opening, "topup", "opening balance", gateway.clock()
        )
        created = replace(created, balance=balance)
    await audit.record(
        gateway,
        actor,
        "account.create",
        created.id,
        f"{email} tariff={request.tariff_id} balance={money.format(opening)}",
    )
    return CreatedAccount(created, key)


async def credit(gateway: Gateway, actor: str, account_id: int, amount: str, note: str = "") -> int:
    """Credit `amount` rubles (negative debits) with a note the customer sees in the ledger;
    returns the new balance. Raises InputError, InsufficientFundsError, NotFoundError."""
    kopecks = checked("amount", money.parse, amount)
    if kopecks == 0:
        raise InputError("amount", "zero")
    text = note.strip()[:200] or "operator top-up"
    balance = await gateway.store.credit(account_id, kopecks, "topup", text, gateway.clock())
    await audit.record(
        gateway, actor, "account.credit", account_id, f"{money.format(kopecks)} {text}"
    )
    return balance


def state(raw: str) -> AccountState:
    """ "active", "blocked_spam", … as an AccountState (InputError for anything else)."""
    if raw not in {s.value for s in AccountState}:
        raise InputError("state", f"unknown state {raw!r}")
    return AccountState(raw)


async def set_state(gateway: Gateway, actor: str, account_id: int, wanted: AccountState) -> None:
    """Block (the API answers 105/106/107) or unblock. Raises NotFoundError."""
    await gateway.store.set_account_state(account_id, wanted)
    await audit.record(gateway, actor, "account.state", account_id, wanted.value)


async def change(gateway: Gateway, actor: str, account_id: int, changes: AccountChanges) -> Account:
    """Apply the settings given (None leaves one as it is), each held to its rule; callback
    URLs must be http(s) and pass the gateway's address policy. Raises NotFoundError."""
    if changes.phone is not None:
        changes = replace(
            changes, phone=checked("phone", registration.contact_phone, changes.phone)
        )
    if changes.default_sender is not None:
        sender = checked("default_sender", registration.default_sender, changes.default_sender)
        changes = replace(changes, default_sender=sender)
    if changes.name is not None:
        changes = replace(changes, name=registration.name(changes.name))
    if changes.allow_ip and params.bad_networks(changes.allow_ip):
        bad = params.bad_networks(changes.allow_ip)
        raise InputError("allow_ip", f"not addresses or networks: {bad}")
    for field, url in (("status_url", changes.status_url), ("inbound_url", changes.inbound_url)):
        if url:
            await _check_callback_url(gateway, field, url)
    if changes.tariff_id is not None:
        await tariffs.require(gateway, changes.tariff_id)
    changed = await gateway.store.update_account(account_id, changes)
    told = [
        f"{f.name}={getattr(changes, f.name)!r}"
        for f in fields(changes)
        if getattr(changes, f.name) is not None and f.name != "callback_secret"
    ]
    await audit.record(gateway, actor, "account.change", account_id, " ".join(told))
    return changed


async def _check_callback_url(gateway: Gateway, field: str, url: str) -> None:
    try:
        params.callback_url(url)
    except ApiError:
        raise InputError(field, "not an http(s) URL") from None
    refusal = await gateway.callback_check(url)
    if refusal is not None:
        raise InputError(field, refusal)


async def rotate_secret(gateway: Gateway, actor: str, account_id: int) -> str:
    """A new key for the account's X-PilotGate-Signature header; the old one stops working."""
    secret = secrets.token_hex(32)
    await gateway.store.update_account(account_id, AccountChanges(callback_secret=secret))
    await audit.record(gateway, actor, "account.secret", account_id, "rotated")
    return secret


async def add_key(gateway: Gateway, actor: str, account_id: int) -> str:
    """One more API key for the account (the others keep working); shown once."""
    key = accounts.new_api_key()
    await gateway.store.add_api_key(account_id, accounts.key_digest(key), gateway.clock())
    await audit.record(gateway, actor, "account.key", account_id, "added")
    return key


async def replace_key(gateway: Gateway, actor: str, account_id: int) -> str:
    """A new API key that is the account's only one: every older key stops working."""
    key = accounts.new_api_key()
    await gateway.store.replace_api_keys(account_id, accounts.key_digest(key), gateway.clock())
    await audit.record(gateway, actor, "account.key", account_id, "replaced")
    return key


# queries -------------------------------------------------------------------------------------
async def listing(gateway: Gateway) -> list[Account]:
    return await gateway.store.accounts()


async def find(gateway: Gateway, account_id: int) -> Account | None:
    return await gateway.store.account(account_id)


async def overview(gateway: Gateway, account_id: int) -> AccountOverview | None:
    store = gateway.store
    found = await store.account(account_id)
    if found is None:
        return None
    return AccountOverview(
        account=found,
        tariffs=await store.tariffs(),
        ledger=await store.ledger(found.id, None, 20),
        senders=await store.senders(found.id),
        audit=await audit.trail(gateway, found.id, 20),
    )


async def set_loop_window(
    gateway: Gateway, actor: str, account_id: int, seconds: int | None
) -> None:
    """Set the account's loop protection window (243): seconds, 0 = off, None = the
    gateway's default."""
    await gateway.store.set_loop_window(account_id, seconds)
    shown = "default" if seconds is None else f"{seconds}s"
    await audit.record(gateway, actor, "account.loop_window", account_id, shown)


async def referrals(gateway: Gateway, referrer_id: int) -> list[Referral]:
    """The accounts `referrer_id` brought (r=), their share and the commission so far."""
    return await gateway.store.referrals(referrer_id)
