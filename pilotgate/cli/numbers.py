"""`pilotgate number ...` and `pilotgate inbound add`: our service numbers, the 2WAY pool
and inbound SMS recorded by hand."""

from __future__ import annotations

import click

from pilotgate import config
from pilotgate.domain import audit
from pilotgate.gateway import Gateway
from pilotgate.operations import numbers as number_ops

from .base import main, with_gateway


@main.group()
def inbound() -> None:
    """Inbound SMS."""


@inbound.command("add")
@click.argument("account_id", type=int)
@click.option("--phone", required=True, help="Who sent it.")
@click.option("--num", required=True, help="Our service number it was sent to.")
@click.option("--text", required=True, help="The message text.")
@with_gateway
async def inbound_add(
    settings: config.Settings, gateway: Gateway, account_id: int, phone: str, num: str, text: str
) -> None:
    """Record an inbound SMS by hand (SMPP links record the real ones). A stop word puts
    the phone on the account's stop list, as for SMS that links receive."""
    item_id = await number_ops.record_inbound(
        gateway,
        audit.CLI,
        account_id,
        phone=phone,
        number=num,
        text=text,
        stop_words=settings.stop_words,
    )
    click.echo(f"inbound {item_id}")


@main.group()
def number() -> None:
    """Our service numbers: an inbound SMS sent to one goes to the account that has it."""


@number.command("add")
@click.argument("num")
@click.argument("account_id", type=int)
@with_gateway
async def number_add(
    settings: config.Settings, gateway: Gateway, num: str, account_id: int
) -> None:
    """Give number NUM to an account (moving it from another if it had it)."""
    clean = await number_ops.assign(gateway, audit.CLI, num, account_id)
    click.echo(f"number {clean} -> account {account_id}")


@number.group("pool")
def number_pool() -> None:
    """The service numbers two-way SMS (from=2WAY) are sent from; a reply to one within
    `two_way_hours` goes to the account whose 2WAY message it answers."""


@number_pool.command("add")
@click.argument("num")
@click.option("--prefix", default="", help="Serve only destinations starting with these digits.")
@click.option(
    "--connector",
    default="",
    help="The link that owns the number: messages from it leave through that link (when it "
    "is on their route) and their replies come in there. Default: any link of the route.",
)
@with_gateway
async def number_pool_add(
    settings: config.Settings, gateway: Gateway, num: str, prefix: str, connector: str
) -> None:
    """Put NUM in the pool (or change its prefix or link). The longest prefix matching a
    destination wins; a destination no prefix matches may get any number of the pool."""
    clean = await number_ops.pool_add(gateway, audit.CLI, num, prefix, connector)
    via = f" via {connector}" if connector else ""
    click.echo(f"pool number {clean} prefix {prefix or '*'}{via}")


@number_pool.command("remove")
@click.argument("num")
@with_gateway
async def number_pool_remove(settings: config.Settings, gateway: Gateway, num: str) -> None:
    """Take NUM out of the pool (replies to messages already sent from it are still linked)."""
    clean = await number_ops.pool_remove(gateway, audit.CLI, num)
    click.echo(f"pool number {clean} removed")


@number_pool.command("list")
@with_gateway
async def number_pool_list(settings: config.Settings, gateway: Gateway) -> None:
    """Print the pool: number, prefix (* = any destination), link (* = any of the route)."""
    for entry in await number_ops.pool(gateway):
        click.echo(f"{entry.number}\t{entry.prefix or '*'}\t{entry.connector or '*'}")
