"""`pilotgate route ...`: the routing table, prefix and channel → connectors in order."""

from __future__ import annotations

import click

from pilotgate import bootstrap, config
from pilotgate.domain import audit, routing
from pilotgate.gateway import Gateway
from pilotgate.operations import routes as route_ops

from .base import main, with_gateway


@main.group()
def route() -> None:
    """The routing table: prefix and channel → connectors in order."""


@route.command("add")
@click.argument("prefix")
@click.argument("channel", type=click.Choice(route_ops.CHANNELS))
@click.argument("connectors")
@click.option(
    "--hlr-unreliable",
    is_flag=True,
    help="HLR answers for these numbers are unreliable: HLRVIP checks also send a PING.",
)
@click.option(
    "--operator",
    default="",
    help="Only for the numbers this operator serves (by the numbering plan, ported ones too).",
)
@with_gateway
async def route_add(
    settings: config.Settings,
    gateway: Gateway,
    prefix: str,
    channel: str,
    connectors: str,
    hlr_unreliable: bool,
    operator: str,
) -> None:
    """Route PREFIX (* = every number) on CHANNEL to CONNECTORS (comma list, first healthy
    wins). Replaces the route of that prefix, channel and operator."""
    names = routing.parse_connectors(connectors)
    await route_ops.add(
        gateway, audit.CLI, prefix, channel, names, hlr_unreliable=hlr_unreliable, operator=operator
    )
    flag = " (hlr unreliable)" if hlr_unreliable else ""
    only = f" for {operator}" if operator else ""
    click.echo(f"route {prefix or '*'} {channel}{only} -> {','.join(names)}{flag}")
    if names != (bootstrap.EMULATOR,) and await gateway.customer_by_email(bootstrap.DEMO_EMAIL):
        # The published demo key must never reach an operator, so the gateway routes every
        # message of the demo account to the emulator: trying a new link with it "works"
        # and proves nothing. Said here, where the new user is looking.
        click.echo(
            f"warning: the demo account ({bootstrap.DEMO_EMAIL}) always uses the emulator and "
            "never this route; send with an account of your own (`pilotgate account create`)",
            err=True,
        )


@route.command("list")
@with_gateway
async def route_list(settings: config.Settings, gateway: Gateway) -> None:
    """The routing table."""
    for item in await route_ops.listing(gateway):
        flag = "\thlr-unreliable" if item.hlr_unreliable else ""
        only = f"\toperator={item.operator}" if item.operator else ""
        click.echo(f"{item.prefix or '*'}\t{item.channel}\t{','.join(item.connectors)}{flag}{only}")


@route.command("remove")
@click.argument("prefix")
@click.argument("channel")
@click.option("--operator", default="", help="The operator the route names, if any.")
@with_gateway
async def route_remove(
    settings: config.Settings, gateway: Gateway, prefix: str, channel: str, operator: str
) -> None:
    """Remove a route; numbers it served then get error 213 unless a shorter one serves."""
    await route_ops.remove(gateway, audit.CLI, prefix, channel, operator)
    click.echo(f"route {prefix} {channel} removed")
