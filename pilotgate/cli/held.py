"""`pilotgate held`: messages held as suspected SMS pumping, and the operator's word on them
(pilotgate.operations.held, acting as "cli")."""

from __future__ import annotations

import click

from pilotgate import config
from pilotgate.domain import audit, money
from pilotgate.gateway import Gateway
from pilotgate.operations import held as held_ops

from .base import main, with_gateway


@main.group()
def held() -> None:
    """Messages held as suspected SMS pumping (status 4): release or reject them."""


@held.command("list")
@with_gateway
async def held_list(settings: config.Settings, gateway: Gateway) -> None:
    """One line per account with held messages: how many, what releasing them charges,
    when, and the lowest and highest number."""
    found = await held_ops.batches(gateway)
    if not found:
        click.echo("no held messages")
    for b in found:
        click.echo(
            f"account={b.account_id} messages={b.messages} price={money.format(b.price)} "
            f"first={b.first:%Y-%m-%d %H:%M:%S} last={b.last:%Y-%m-%d %H:%M:%S} "
            f"numbers={b.lowest}..{b.highest}"
        )


_message = click.option(
    "--message", "message_id", type=int, default=None, help="Only this held message (server_id)."
)


@held.command("release")
@click.argument("account_id", type=int)
@_message
@with_gateway
async def held_release(
    settings: config.Settings, gateway: Gateway, account_id: int, message_id: int | None
) -> None:
    """Send the account's held messages, charging them now."""
    settled = await held_ops.release(gateway, audit.CLI, account_id, message_id)
    click.echo(f"released {settled.messages} charged {money.format(settled.amount)}")


@held.command("reject")
@click.argument("account_id", type=int)
@_message
@with_gateway
async def held_reject(
    settings: config.Settings, gateway: Gateway, account_id: int, message_id: int | None
) -> None:
    """End the account's held messages as -2 with error 223 (never charged)."""
    settled = await held_ops.reject(gateway, audit.CLI, account_id, message_id)
    click.echo(f"rejected {settled.messages}")
