"""Accounts, sender names and tariffs."""

from __future__ import annotations

from pathlib import Path

import click

from pilotgate import bootstrap, config
from pilotgate.domain import accounts, money, params, passwords, phones
from pilotgate.domain.accounts import AccountState
from pilotgate.domain.senders import SenderState
from pilotgate.errors import ApiError
from pilotgate.storage.base import AccountChanges, NewAccount
from pilotgate.storage.roles import Store

from .base import main, with_store


# accounts ------------------------------------------------------------------------------------
@main.group()
def account() -> None:
    """Customer accounts, keys and balances."""


@account.command("create")
@click.option("--email", required=True, help="Login e-mail.")
@click.option(
    "--password",
    required=True,
    help="Password for login+password and the cabinet (8 to 1024 characters).",
)
@click.option("--name", default="", help="Customer name.")
@click.option(
    "--phone", default="", help="Contact phone (its country is the home for balance=sms)."
)
@click.option("--balance", default="0", help="Opening credit in rubles, e.g. 1000.00.")
@click.option("--apikey", default=None, help="Use this 64-character key instead of a new one.")
@click.option("--any-sender", is_flag=True, help="May send from any sender name unregistered.")
@click.option("--tariff", type=int, default=None, help="Tariff id (default from settings).")
@click.option("--default-sender", default="", help="Sender used when a request names none.")
@with_store
async def account_create(
    settings: config.Settings,
    store: Store,
    email: str,
    password: str,
    name: str,
    phone: str,
    balance: str,
    apikey: str | None,
    any_sender: bool,
    tariff: int | None,
    default_sender: str,
) -> None:
    """Create an account; prints its id and API key."""
    problem = passwords.problem(password)
    if problem:
        raise click.BadParameter(problem, param_hint="--password")
    key = apikey or accounts.new_api_key()
    if not accounts.is_key_shaped(key):
        raise click.BadParameter("an API key is 64 letters and digits", param_hint="--apikey")
    try:
        opening = money.parse(balance)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--balance") from exc
    gateway = bootstrap.build_gateway(settings, store)
    created = await store.create_account(
        NewAccount(
            email=email,
            password_hash=gateway.hash_password(password),
            key_digest=accounts.key_digest(key),
            tariff_id=tariff or settings.default_tariff,
            name=name,
            phone=phones.clean(phone) if phone else "",
            default_sender=default_sender,
            any_sender=any_sender,
            callback_secret=bootstrap.new_callback_secret(),
        ),
        bootstrap.now(),
    )
    if opening:
        await store.credit(created.id, opening, "topup", "opening balance", bootstrap.now())
    click.echo(f"account {created.id}")
    click.echo(f"apikey {key}")


@account.command("topup")
@click.argument("account_id", type=int)
@click.argument("amount")
@with_store
async def account_topup(
    settings: config.Settings, store: Store, account_id: int, amount: str
) -> None:
    """Credit AMOUNT rubles (negative to debit) through the ledger."""
    try:
        kopecks = money.parse(amount)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="AMOUNT") from exc
    balance = await store.credit(account_id, kopecks, "topup", "operator top-up", bootstrap.now())
    click.echo(f"balance {money.format(balance)}")


@account.command("block")
@click.argument("account_id", type=int)
@click.option(
    "--reason",
    type=click.Choice(["spam", "balance", "untrusted"]),
    default="spam",
    help="Which block error the API answers (106, 105, 107).",
)
@with_store
async def account_block(
    settings: config.Settings, store: Store, account_id: int, reason: str
) -> None:
    """Block an account: its API calls get error 105/106/107."""
    await store.set_account_state(account_id, AccountState(f"blocked_{reason}"))
    click.echo(f"account {account_id} blocked ({reason})")


@account.command("unblock")
@click.argument("account_id", type=int)
@with_store
async def account_unblock(settings: config.Settings, store: Store, account_id: int) -> None:
    """Unblock an account."""
    await store.set_account_state(account_id, AccountState.ACTIVE)
    click.echo(f"account {account_id} active")


@account.command("list")
@with_store
async def account_list(settings: config.Settings, store: Store) -> None:
    """List accounts with balance and state."""
    for item in await store.accounts():
        click.echo(
            f"{item.id}\t{item.email}\t{money.format(item.balance)}\t{item.state.value}"
            f"\ttariff={item.tariff_id}\t{item.name}"
        )


@account.command("set")
@click.argument("account_id", type=int)
@click.option("--name", default=None, help="Customer name.")
@click.option("--phone", default=None, help="Contact phone.")
@click.option("--tariff", type=int, default=None, help="Tariff id.")
@click.option("--default-sender", default=None, help="Sender used when a request names none.")
@click.option(
    "--any-sender/--registered-senders",
    default=None,
    help="Allow any sender name, or only approved ones.",
)
@click.option(
    "--allow-ip",
    default=None,
    help="Comma list of addresses/networks allowed to call the API ('' = any).",
)
@click.option("--status-url", default=None, help="Default status callback URL ('' = none).")
@click.option(
    "--status-method",
    type=click.Choice(["get", "post"]),
    default=None,
    help="How status (and inbound) callbacks are sent.",
)
@click.option("--inbound-url", default=None, help="Where inbound SMS are pushed ('' = none).")
@with_store
async def account_set(
    settings: config.Settings,
    store: Store,
    account_id: int,
    name: str | None,
    phone: str | None,
    tariff: int | None,
    default_sender: str | None,
    any_sender: bool | None,
    allow_ip: str | None,
    status_url: str | None,
    status_method: str | None,
    inbound_url: str | None,
) -> None:
    """Change account settings; options not given stay as they are."""
    if allow_ip and params.bad_networks(allow_ip):
        raise click.BadParameter(
            f"not addresses or networks: {params.bad_networks(allow_ip)}", param_hint="--allow-ip"
        )
    for hint, url in (("--status-url", status_url), ("--inbound-url", inbound_url)):
        if url:
            await _check_callback_url(settings, url, hint)
    changed = await store.update_account(
        account_id,
        AccountChanges(
            name=name,
            phone=phones.clean(phone) if phone else phone,
            tariff_id=tariff,
            default_sender=default_sender,
            any_sender=any_sender,
            allow_ip=allow_ip,
            status_url=status_url,
            status_method=status_method,
            inbound_url=inbound_url,
        ),
    )
    click.echo(
        f"account {changed.id}: default_sender={changed.default_sender!r} "
        f"any_sender={int(changed.any_sender)} allow_ip={changed.allow_ip!r} "
        f"tariff={changed.tariff_id} status_url={changed.status_url!r} "
        f"status_method={changed.status_method} inbound_url={changed.inbound_url!r}"
    )


async def _check_callback_url(settings: config.Settings, url: str, hint: str) -> None:
    try:
        params.callback_url(url)
    except ApiError:
        raise click.BadParameter("not an http(s) URL", param_hint=hint) from None
    refusal = await bootstrap.build_address_policy(settings).refusal(url)
    if refusal is not None:
        raise click.BadParameter(refusal, param_hint=hint)


@account.command("secret")
@click.argument("account_id", type=int)
@click.option("--rotate", is_flag=True, help="Replace it with a new one first.")
@with_store
async def account_secret(
    settings: config.Settings, store: Store, account_id: int, rotate: bool
) -> None:
    """Show the key of the account's X-PilotGate-Signature callback header."""
    if rotate:
        await store.update_account(
            account_id, AccountChanges(callback_secret=bootstrap.new_callback_secret())
        )
    found = await store.account(account_id)
    if found is None:
        raise click.ClickException(f"no account {account_id}")
    click.echo(f"callback_secret {found.callback_secret}")


@account.command("newkey")
@click.argument("account_id", type=int)
@with_store
async def account_newkey(settings: config.Settings, store: Store, account_id: int) -> None:
    """Issue an additional API key for an account."""
    key = accounts.new_api_key()
    await store.add_api_key(account_id, accounts.key_digest(key), bootstrap.now())
    click.echo(f"apikey {key}")


# senders -------------------------------------------------------------------------------------
@main.group()
def sender() -> None:
    """Sender names."""


@sender.command("add")
@click.argument("account_id", type=int)
@click.argument("name")
@click.option("--approve", is_flag=True, help="Approve at once.")
@click.option("--description", default="", help="Project, site, sample texts.")
@with_store
async def sender_add(
    settings: config.Settings,
    store: Store,
    account_id: int,
    name: str,
    approve: bool,
    description: str,
) -> None:
    """Add a sender name to an account."""
    state = SenderState.APPROVED if approve else SenderState.PENDING
    added = await store.add_sender(account_id, name, description, "", state, bootstrap.now())
    click.echo(f"sender {added.id} {added.name} {added.state.value}")


@sender.command("approve")
@click.argument("sender_id", type=int)
@with_store
async def sender_approve(settings: config.Settings, store: Store, sender_id: int) -> None:
    """Approve a pending sender name (its callback URL, if any, is told)."""
    changed = await store.set_sender_verdict(sender_id, SenderState.APPROVED, "", bootstrap.now())
    click.echo(f"sender {changed.id} {changed.name} {changed.state.value}")


@sender.command("reject")
@click.argument("sender_id", type=int)
@click.option("--reason", default="", help="Why; sent with the verdict's callback.")
@with_store
async def sender_reject(
    settings: config.Settings, store: Store, sender_id: int, reason: str
) -> None:
    """Reject a sender name (its callback URL, if any, is told)."""
    changed = await store.set_sender_verdict(
        sender_id, SenderState.REJECTED, reason, bootstrap.now()
    )
    click.echo(f"sender {changed.id} {changed.name} {changed.state.value}")


@sender.command("list")
@click.argument("account_id", type=int)
@with_store
async def sender_list(settings: config.Settings, store: Store, account_id: int) -> None:
    """List an account's sender names."""
    for item in await store.senders(account_id):
        click.echo(f"{item.id}\t{item.name}\t{item.state.value}\t{item.description}")


# tariffs -------------------------------------------------------------------------------------
@main.group()
def tariff() -> None:
    """Tariffs: prefix → price per part per channel."""


@tariff.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--id", "tariff_id", type=int, default=None, help="Tariff id (default 1).")
@click.option("--name", default=None, help="Tariff name (default: the file name).")
@with_store
async def tariff_import(
    settings: config.Settings, store: Store, file: Path, tariff_id: int | None, name: str | None
) -> None:
    """Replace a tariff with FILE.csv (prefix,channel,price,country,operator)."""
    # A tariff file is small; reading it blocks nothing else in this one-shot command.
    rates = bootstrap.parse_tariff_csv(file.read_text(encoding="utf-8"))  # noqa: ASYNC240
    target = tariff_id or settings.default_tariff
    await store.replace_tariff(target, name or file.stem, rates)
    click.echo(f"tariff {target}: {len(rates)} rates")


@tariff.command("show")
@click.option("--id", "tariff_id", type=int, default=None, help="Tariff id (default 1).")
@with_store
async def tariff_show(settings: config.Settings, store: Store, tariff_id: int | None) -> None:
    """Print a tariff's rates."""
    for rate in await store.tariff_rates(tariff_id or settings.default_tariff):
        click.echo(
            f"{rate.prefix}\t{rate.channel}\t{money.format(rate.price)}\t{rate.country}"
            f"\t{rate.operator}"
        )
