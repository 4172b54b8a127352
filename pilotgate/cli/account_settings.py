"""`account set`: an account's settings, SMPP credentials and limits, protections and rates,
each changed through its own use case (and audit entry), acting as "cli"."""

from __future__ import annotations

import click

from pilotgate import config
from pilotgate.domain import audit, protections as rules
from pilotgate.gateway import Gateway
from pilotgate.operations import accounts, protections, rates, smpp as operations_smpp
from pilotgate.storage.base import AccountChanges

from .accounts import account
from .base import with_gateway


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


def _or_default(value: int | None) -> str:
    return "default" if value is None else str(value)
