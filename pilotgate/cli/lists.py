"""Stop lists, loop protection and referrals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from pilotgate import config
from pilotgate.domain import audit, money
from pilotgate.gateway import Gateway
from pilotgate.operations import accounts, stops as stop_ops

from .base import main, with_gateway


# stop lists, loop protection, referrals ------------------------------------------------------
@main.group()
def stop() -> None:
    """Stop lists: sends to a listed phone get error 212 (per account, or global)."""


_stop_scope = [
    click.option("--account", "account_id", type=int, default=None, help="The account's list."),
    click.option("--global", "global_", is_flag=True, help="The list every account obeys."),
]


def _scope(account_id: int | None, global_: bool) -> int | None:
    if (account_id is None) == (not global_):
        raise click.UsageError("give exactly one of --account ID and --global")
    return account_id


def _stop_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(_stop_scope):
        func = option(func)
    return func


@stop.command("add")
@click.argument("phones_", metavar="PHONE...", nargs=-1, required=True)
@_stop_options
@click.option("--reason", default="operator", show_default=True, help="Why, for the list.")
@with_gateway
async def stop_add(
    settings: config.Settings,
    gateway: Gateway,
    phones_: tuple[str, ...],
    account_id: int | None,
    global_: bool,
    reason: str,
) -> None:
    """Put phones on a stop list."""
    scope = _scope(account_id, global_)
    added = await stop_ops.add(gateway, audit.CLI, scope, phones_, reason)
    click.echo(f"added {added} of {len(phones_)}")


@stop.command("remove")
@click.argument("phone")
@_stop_options
@with_gateway
async def stop_remove(
    settings: config.Settings, gateway: Gateway, phone: str, account_id: int | None, global_: bool
) -> None:
    """Take a phone off a stop list."""
    clean = await stop_ops.remove(gateway, audit.CLI, _scope(account_id, global_), phone)
    click.echo(f"removed {clean}")


@stop.command("list")
@_stop_options
@with_gateway
async def stop_list(
    settings: config.Settings, gateway: Gateway, account_id: int | None, global_: bool
) -> None:
    """The phones on a stop list, with why and since when."""
    for entry in await stop_ops.listing(gateway, _scope(account_id, global_)):
        click.echo(f"{entry.phone}\t{entry.created:%Y-%m-%d %H:%M:%S}\t{entry.reason}")


@main.group()
def loop() -> None:
    """Loop protection: the same text to the same phone within a window gets error 243."""


@loop.command("set")
@click.argument("account_id", type=int)
@click.argument("seconds")
@with_gateway
async def loop_set(
    settings: config.Settings, gateway: Gateway, account_id: int, seconds: str
) -> None:
    """Set an account's window: SECONDS (0 = off) or "default" (loop_window_seconds)."""
    if seconds == "default":
        window = None
    elif seconds.isascii() and seconds.isdigit() and int(seconds) <= 366 * 86400:
        window = int(seconds)
    else:
        raise click.BadParameter("whole seconds up to a year, or 'default'", param_hint="SECONDS")
    await accounts.set_loop_window(gateway, audit.CLI, account_id, window)
    shown = f"default ({settings.loop_window_seconds} s)" if window is None else f"{window} s"
    click.echo(f"account {account_id}: loop window {shown}")


@main.group()
def referral() -> None:
    """Referrals (r=): who brought whom, and the commission earned."""


@referral.command("list")
@click.argument("referrer_id", type=int)
@with_gateway
async def referral_list(settings: config.Settings, gateway: Gateway, referrer_id: int) -> None:
    """The accounts REFERRER_ID referred, their share and the commission so far."""
    for item in await accounts.referrals(gateway, referrer_id):
        click.echo(
            f"{item.account_id}\t{item.email}\t{item.percent}%\t{money.format(item.commission)}"
        )
