"""Sender names: registered for an account, approved or rejected, listed; acting as "cli"."""

from __future__ import annotations

import click

from pilotgate import config
from pilotgate.domain import audit
from pilotgate.gateway import Gateway
from pilotgate.operations import senders

from .base import main, with_gateway


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
