"""Accounts: created, credited, blocked, listed, their keys and callback secret, and the
audit trail. Each command calls its use case in pilotgate.operations (the console calls the
same ones), acting as "cli"; `account set` is in account_settings.py."""

from __future__ import annotations

import click

from pilotgate import config
from pilotgate.domain import audit, money
from pilotgate.domain.accounts import AccountState
from pilotgate.gateway import Gateway
from pilotgate.operations import accounts, audit as operations_audit

from .base import main, with_gateway


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
