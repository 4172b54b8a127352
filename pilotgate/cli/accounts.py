"""Accounts, sender names, tariffs and the audit trail: each command calls its use case in
pilotgate.operations (the console calls the same ones), acting as "cli"."""

from __future__ import annotations

from pathlib import Path

import click

from pilotgate import config
from pilotgate.domain import audit, money, protections as rules
from pilotgate.domain.accounts import AccountState
from pilotgate.gateway import Gateway
from pilotgate.operations import (
    accounts,
    audit as operations_audit,
    protections,
    rates,
    senders,
    smpp as operations_smpp,
    tariffs,
)
from pilotgate.storage.base import AccountChanges

from .base import main, with_gateway


# accounts ------------------------------------------------------------------------------------
@main.group()
def account() -> None:
    """Customer accounts, keys and balances."""


@account.command("create")
@click.option("--email", required=True, help="Login e-mail (kept trimmed and lower-case).")
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
@with_gateway
async def account_create(
    settings: config.Settings,
    gateway: Gateway,
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
    created = await accounts.create(
        gateway,
        audit.CLI,
        accounts.AccountRequest(
            email=email,
            password=password,
            tariff_id=tariff or settings.default_tariff,
            name=name,
            phone=phone,
            balance=balance,
            default_sender=default_sender,
            any_sender=any_sender,
            apikey=apikey,
        ),
    )
    click.echo(f"account {created.account.id}")
    click.echo(f"apikey {created.apikey}")


@account.command("topup")
@click.argument("account_id", type=int)
@click.argument("amount")
@click.option("--note", default="", help="What the customer reads in the ledger.")
@with_gateway
async def account_topup(
    settings: config.Settings, gateway: Gateway, account_id: int, amount: str, note: str
) -> None:
    """Credit AMOUNT rubles (negative to debit) through the ledger."""
    balance = await accounts.credit(gateway, audit.CLI, account_id, amount, note)
    click.echo(f"balance {money.format(balance)}")


@account.command("block")
@click.argument("account_id", type=int)
@click.option(
    "--reason",
    type=click.Choice(["spam", "balance", "untrusted"]),
    default="spam",
    help="Which block error the API answers (106, 105, 107).",
)
@with_gateway
async def account_block(
    settings: config.Settings, gateway: Gateway, account_id: int, reason: str
) -> None:
    """Block an account: its API calls get error 105/106/107."""
    await accounts.set_state(gateway, audit.CLI, account_id, AccountState(f"blocked_{reason}"))
    click.echo(f"account {account_id} blocked ({reason})")


@account.command("unblock")
@click.argument("account_id", type=int)
@with_gateway
async def account_unblock(settings: config.Settings, gateway: Gateway, account_id: int) -> None:
    """Unblock an account."""
    await accounts.set_state(gateway, audit.CLI, account_id, AccountState.ACTIVE)
    click.echo(f"account {account_id} active")


@account.command("list")
@with_gateway
async def account_list(settings: config.Settings, gateway: Gateway) -> None:
    """List accounts with balance and state."""
    for item in await accounts.listing(gateway):
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
@click.option(
    "--smpp-system-id", default=None, help="The system_id it binds with over SMPP ('' = none)."
)
@click.option("--smpp-password", default=None, help="Its SMPP password (6 to 8 characters).")
@click.option(
    "--smpp-binds", default=None, help="Its concurrent SMPP binds (0 = no ceiling, '' = default)."
)
@click.option(
    "--smpp-mps", default=None, help="Its SMPP messages per second (0 = none, '' = default)."
)
@click.option(
    "--countries",
    default=None,
    help="Countries it may send to: ISO codes, e.g. ru,kz ('*' = any, '' = the default set).",
)
@click.option(
    "--stop-words",
    default=None,
    help="Words or phrases its texts may not hold (error 247), comma-separated ('' = none).",
)
@click.option(
    "--cyrlat/--no-cyrlat",
    default=None,
    help="Refuse words mixing Cyrillic and Latin letters (error 248).",
)
@click.option("--day-cap", default=None, help="Messages per UTC day (error 223 past it; 0 = none).")
@click.option(
    "--month-cap", default=None, help="Messages per UTC month (error 223 past it; 0 = none)."
)
@click.option(
    "--api-rps",
    default=None,
    help="API requests per second (223, HTTP 429 past it; 0 = none; 'default').",
)
@click.option(
    "--mps", default=None, help="Messages per second leaving the queue (0 = none; 'default')."
)
@with_gateway
async def account_set(
    settings: config.Settings,
    gateway: Gateway,
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
    smpp_system_id: str | None,
    smpp_password: str | None,
    smpp_binds: str | None,
    smpp_mps: str | None,
    countries: str | None,
    stop_words: str | None,
    cyrlat: bool | None,
    day_cap: str | None,
    month_cap: str | None,
    api_rps: str | None,
    mps: str | None,
) -> None:
    """Change account settings; options not given stay as they are."""
    guard = protections.ProtectionChanges(
        countries=countries,
        stop_words=stop_words,
        cyrlat=cyrlat,
        day_cap=day_cap,
        month_cap=month_cap,
    )
    changes = AccountChanges(
        name=name,
        phone=phone,
        tariff_id=tariff,
        default_sender=default_sender,
        any_sender=any_sender,
        allow_ip=allow_ip,
        status_url=status_url,
        status_method=status_method,
        inbound_url=inbound_url,
    )
    # SMPP credentials and protections have their own use cases (and audit entries); the
    # account's own settings are changed only when some were given.
    if smpp_system_id is not None or smpp_password is not None:
        smpp = await operations_smpp.set_credentials(
            gateway, audit.CLI, account_id, smpp_system_id, smpp_password
        )
        click.echo(f"account {account_id}: smpp system_id={smpp.system_id if smpp else ''!r}")
    limits = smpp_binds is not None or smpp_mps is not None
    if limits:
        held = await operations_smpp.set_limits(
            gateway, audit.CLI, account_id, smpp_binds, smpp_mps
        )
        click.echo(
            f"account {account_id}: smpp_binds={_or_default(held.max_binds)} "
            f"smpp_mps={_or_default(held.mps)}"
        )
    if guard != protections.ProtectionChanges():
        shown = await protections.change(gateway, audit.CLI, account_id, guard)
        click.echo(_protections_line(account_id, shown))
    paced = rates.RateChanges(api_rps=api_rps, mps=mps)
    if paced != rates.RateChanges():
        view = await rates.change(gateway, audit.CLI, account_id, paced)
        click.echo(f"account {account_id}: api_rps={view.api_rps} mps={view.mps}")
    if changes == AccountChanges() and (
        smpp_system_id is not None
        or smpp_password is not None
        or limits
        or guard != protections.ProtectionChanges()
        or paced != rates.RateChanges()
    ):
        return
    changed = await accounts.change(gateway, audit.CLI, account_id, changes)
    click.echo(
        f"account {changed.id}: default_sender={changed.default_sender!r} "
        f"any_sender={int(changed.any_sender)} allow_ip={changed.allow_ip!r} "
        f"tariff={changed.tariff_id} status_url={changed.status_url!r} "
        f"status_method={changed.status_method} inbound_url={changed.inbound_url!r}"
    )


def _protections_line(account_id: int, shown: protections.ProtectionView) -> str:
    p = shown.protections
    where = rules.show_countries(shown.countries) + (" (default)" if shown.default else "")
    return (
        f"account {account_id}: countries={where} stop_words={len(p.stop_words)} "
        f"cyrlat={int(p.cyrlat)} day_cap={shown.caps.day} month_cap={shown.caps.month}"
    )


@account.command("secret")
@click.argument("account_id", type=int)
@click.option("--rotate", is_flag=True, help="Replace it with a new one first.")
@with_gateway
async def account_secret(
    settings: config.Settings, gateway: Gateway, account_id: int, rotate: bool
) -> None:
    """Show the key of the account's X-PilotGate-Signature callback header."""
    if rotate:
        await accounts.rotate_secret(gateway, audit.CLI, account_id)
    found = await accounts.find(gateway, account_id)
    if found is None:
        raise click.ClickException(f"no account {account_id}")
    click.echo(f"callback_secret {found.callback_secret}")


@account.command("newkey")
@click.argument("account_id", type=int)
@with_gateway
async def account_newkey(settings: config.Settings, gateway: Gateway, account_id: int) -> None:
    """Issue an additional API key for an account."""
    click.echo(f"apikey {await accounts.add_key(gateway, audit.CLI, account_id)}")


@main.command("audit")
@click.argument("account_id", type=int, required=False)
@click.option("--limit", type=int, default=50, help="How many entries, newest first.")
@with_gateway
async def account_audit(
    settings: config.Settings, gateway: Gateway, account_id: int | None, limit: int
) -> None:
    """Who changed what and when (UTC): of one account, or of everything."""
    for entry in await operations_audit.trail(gateway, account_id, limit):
        click.echo(
            f"{entry.at:%Y-%m-%d %H:%M:%S}\t{entry.actor}\t{entry.action}"
            f"\t{entry.account_id or ''}\t{entry.detail}"
        )


# senders -------------------------------------------------------------------------------------
@main.group()
def sender() -> None:
    """Sender names."""


@sender.command("add")
@click.argument("account_id", type=int)
@click.argument("name")
@click.option("--approve", is_flag=True, help="Approve at once.")
@click.option("--description", default="", help="Project, site, sample texts.")
@with_gateway
async def sender_add(
    settings: config.Settings,
    gateway: Gateway,
    account_id: int,
    name: str,
    approve: bool,
    description: str,
) -> None:
    """Add a sender name to an account."""
    added = await senders.add(
        gateway, audit.CLI, account_id, name, description=description, approve=approve
    )
    click.echo(f"sender {added.id} {added.name} {added.state.value}")


@sender.command("approve")
@click.argument("sender_id", type=int)
@with_gateway
async def sender_approve(settings: config.Settings, gateway: Gateway, sender_id: int) -> None:
    """Approve a pending sender name (its callback URL, if any, is told)."""
    changed = await senders.approve(gateway, audit.CLI, sender_id)
    click.echo(f"sender {changed.id} {changed.name} {changed.state.value}")


@sender.command("reject")
@click.argument("sender_id", type=int)
@click.option("--reason", default="", help="Why; sent with the verdict's callback.")
@with_gateway
async def sender_reject(
    settings: config.Settings, gateway: Gateway, sender_id: int, reason: str
) -> None:
    """Reject a sender name (its callback URL, if any, is told)."""
    changed = await senders.reject(gateway, audit.CLI, sender_id, reason)
    click.echo(f"sender {changed.id} {changed.name} {changed.state.value}")


@sender.command("list")
@click.argument("account_id", type=int)
@with_gateway
async def sender_list(settings: config.Settings, gateway: Gateway, account_id: int) -> None:
    """List an account's sender names."""
    for item in await senders.of_account(gateway, account_id):
        click.echo(f"{item.id}\t{item.name}\t{item.state.value}\t{item.description}")


# tariffs -------------------------------------------------------------------------------------
@main.group()
def tariff() -> None:
    """Tariffs: prefix → price per part per channel."""


@tariff.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--id", "tariff_id", type=int, default=None, help="Tariff id (default 1).")
@click.option("--name", default=None, help="Tariff name (default: the file name).")
@with_gateway
async def tariff_import(
    settings: config.Settings,
    gateway: Gateway,
    file: Path,
    tariff_id: int | None,
    name: str | None,
) -> None:
    """Replace a tariff with FILE.csv (prefix,channel,price,country,operator)."""
    # A tariff file is small; reading it blocks nothing else in this one-shot command.
    text = file.read_text(encoding="utf-8-sig")  # noqa: ASYNC240
    target = tariff_id or settings.default_tariff
    count = await tariffs.replace(gateway, audit.CLI, target, name or file.stem, text)
    click.echo(f"tariff {target}: {count} rates")


@tariff.command("show")
@click.option("--id", "tariff_id", type=int, default=None, help="Tariff id (default 1).")
@with_gateway
async def tariff_show(settings: config.Settings, gateway: Gateway, tariff_id: int | None) -> None:
    """Print a tariff's rates."""
    for rate in await tariffs.rates(gateway, tariff_id or settings.default_tariff):
        click.echo(
            f"{rate.prefix}\t{rate.channel}\t{money.format(rate.price)}\t{rate.country}"
            f"\t{rate.operator}"
        )


def _or_default(value: int | None) -> str:
    return "default" if value is None else str(value)
