"""Connectors, routes, our numbers and inbound SMS."""

from __future__ import annotations

import json
import secrets
import typing

import click

from pilotgate import bootstrap, config
from pilotgate.connectors.relay import RelaySettings
from pilotgate.connectors.sip import SipSettings
from pilotgate.connectors.smpp import SmppSettings
from pilotgate.domain import phones, routing, stoplist
from pilotgate.domain.channels import Channel
from pilotgate.domain.routing import ALL_CHANNELS
from pilotgate.errors import ConfigError
from pilotgate.storage.roles import Store

from .base import main, with_store


# connectors and routes ---------------------------------------------------------------------
@main.group()
def connector() -> None:
    """Connectors: the links messages leave through."""


@connector.command("add")
@click.argument("kind", type=click.Choice(["emulator", "smpp", "hlr", "relay", "sip"]))
@click.argument("name")
@click.option(
    "--mps",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="Messages per second for all processes together (0 = no limit).",
)
@click.option("--delay", type=float, default=None, help="emulator, hlr: seconds to the outcome.")
@click.option("--fail-suffixes", default="", help="emulator: final digits not delivered.")
@click.option("--host", default=None, help="smpp: the SMSC's host; sip: the trunk's.")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="smpp, sip: its port.")
@click.option("--system-id", default=None, help="smpp: the bind's system_id.")
@click.option("--password", default=None, help="smpp: the bind's password; sip: digest's.")
@click.option("--system-type", default=None, help="smpp: the bind's system_type.")
@click.option(
    "--window", type=click.IntRange(1, 1000), default=None, help="smpp: submits in flight."
)
@click.option("--bind", "bind_mode", type=click.Choice(["trx", "tx+rx"]), default=None)
@click.option(
    "--concat",
    type=click.Choice(["udh", "udh16", "sar", "payload"]),
    default=None,
    help="smpp: how long messages are split (UDH 8/16-bit reference, SAR TLVs, one payload).",
)
@click.option("--gsm-packed/--gsm-unpacked", default=None, help="smpp: pack GSM 7-bit text.")
@click.option("--url", default=None, help="relay: the upstream API's base URL.")
@click.option("--key", "upstream_key", default=None, help="relay: the upstream's API key.")
@click.option(
    "--callback-url",
    default=None,
    help="relay: this gateway's base URL as the upstream reaches it; the upstream then calls "
    "back with every final status (else statuses are polled).",
)
@click.option(
    "--transport", type=click.Choice(["udp", "tcp"]), default=None, help="sip: transport."
)
@click.option("--username", default=None, help="sip: digest user name (when the trunk asks).")
@click.option(
    "--caller-pool",
    default=None,
    help="sip: flash call caller numbers: digits the code is appended to, or a file of numbers.",
)
@click.option("--max-calls", type=click.IntRange(1), default=None, help="sip: calls at once.")
@click.option(
    "--set",
    "extra",
    multiple=True,
    metavar="KEY=VALUE",
    help="Any other setting of the kind (repeatable), e.g. --set enquire_link=30.",
)
@with_store
async def connector_add(
    settings: config.Settings,
    store: Store,
    kind: str,
    name: str,
    mps: int,
    delay: float | None,
    fail_suffixes: str,
    host: str | None,
    port: int | None,
    system_id: str | None,
    password: str | None,
    system_type: str | None,
    window: int | None,
    bind_mode: str | None,
    concat: str | None,
    gsm_packed: bool | None,
    url: str | None,
    upstream_key: str | None,
    callback_url: str | None,
    transport: str | None,
    username: str | None,
    caller_pool: str | None,
    max_calls: int | None,
    extra: tuple[str, ...],
) -> None:
    """Add (or reconfigure) a connector: `emulator` (built in), `smpp` (a bind to an
    operator's SMSC; one process holds it, another takes over if that one dies) or `hlr` (an
    HLR/PING emulator: --set unserved_suffixes=0 --set offline_suffixes=9) or `relay` (another
    SMSPILOT-compatible API: --url, --key, --set poll_interval=2 --set timeout=10) or `sip`
    (a SIP trunk for voice and flash calls: --host, --port, --caller-pool; docs/sip.md)."""
    options: dict[str, object] = {}
    if kind in ("emulator", "hlr"):
        if kind == "emulator":
            options["fail_suffixes"] = fail_suffixes
        if delay is not None:
            options["delay"] = delay
    elif kind == "relay":
        pairs = (("url", url), ("apikey", upstream_key), ("callback_url", callback_url))
        options.update({key: v for key, v in pairs if v})
    elif kind == "sip":
        options.update(
            _sip_options(
                host=host,
                port=port,
                transport=transport,
                username=username,
                password=password,
                caller_pool=caller_pool,
                max_calls=max_calls,
            )
        )
    else:
        if not (host and port and system_id):
            raise click.UsageError("smpp needs --host, --port and --system-id")
        given = {
            "host": host,
            "port": port,
            "system_id": system_id,
            "password": password,
            "system_type": system_type,
            "window": window,
            "bind": bind_mode,
            "concat": concat,
            "gsm_packed": gsm_packed,
        }
        options.update({key: value for key, value in given.items() if value is not None})
    for item in extra:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.UsageError(f"--set wants KEY=VALUE, not {item!r}")
        options[key.strip()] = _setting_value(kind, key.strip(), value.strip())
    if kind == "relay" and options.get("callback_url") and not options.get("callback_token"):
        options["callback_token"] = await _relay_token(store, name)
    _check_link(settings, kind, name, options, mps)
    await store.save_connector(name, kind, json.dumps(options), mps)
    click.echo(f"connector {name} ({kind}) mps={mps or 'unlimited'}")


def _check_link(
    settings: config.Settings, kind: str, name: str, options: dict[str, object], mps: int
) -> None:
    """Refuse a link that could not start, naming the setting that is wrong."""
    try:
        if kind == "smpp":
            SmppSettings.from_json(name, json.dumps(options), mps)
        elif kind == "relay":
            RelaySettings.from_json(name, json.dumps(options))
        elif kind == "sip":
            bootstrap.sip_settings(settings, name, json.dumps(options))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def _sip_options(**given: object) -> dict[str, object]:
    if not given.get("host"):
        raise click.UsageError("sip needs --host")
    return {key: value for key, value in given.items() if value is not None}


async def _relay_token(store: Store, name: str) -> str:
    """The relay's callback token: the one it has (reconfiguring keeps the URL the upstream
    already calls), else a new random one."""
    for info in await store.connectors():
        if info.name == name and info.kind == "relay":
            token = json.loads(info.settings or "{}").get("callback_token")
            if isinstance(token, str) and token:
                return token
    return secrets.token_urlsafe(24)


#: kind → the class whose fields declare its settings' types.
_SCHEMAS: dict[str, type] = {"smpp": SmppSettings, "relay": RelaySettings, "sip": SipSettings}
#: Text settings of the kinds without a settings class (hlr.py, bootstrap's emulator).
_TEXT_SETTINGS = {
    "hlr": {"unserved_suffixes", "offline_suffixes"},
    "emulator": {"fail_suffixes", "no_viber_suffixes"},
}


def _setting_value(kind: str, key: str, text: str) -> object:
    """A `--set` value of the type the setting declares: a text setting keeps the digits it
    was given (`caller_id=74951230000` is a phone number, not an integer; `password=123456`
    a password), the others are JSON when they parse (numbers, true/false, objects), else
    the string, which the settings check then refuses with the setting's name."""
    schema = _SCHEMAS.get(kind)
    declared = typing.get_type_hints(schema).get(key) if schema else None
    if declared is str or key in _TEXT_SETTINGS.get(kind, ()):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


@connector.command("list")
@with_store
async def connector_list(settings: config.Settings, store: Store) -> None:
    """Connectors with their state: enabled, limit, messages handed over, last hand-over;
    for links also who holds them, bound or not, window use and counters."""
    now = bootstrap.now()
    leases = {lease.name: lease for lease in await store.link_leases()}
    for item in await store.connectors():
        seen = f"{(now - item.heartbeat).total_seconds():.0f}s ago" if item.heartbeat else "never"
        line = (
            f"{item.name}\t{item.kind}\t{'enabled' if item.enabled else 'disabled'}"
            f"\tmps={item.mps or 'unlimited'}\thanded={item.handed}\tlast={seen}"
        )
        lease = leases.get(item.name)
        if item.state and lease is not None and lease.until > now:
            state = json.loads(item.state)
            line += "\t" + " ".join(
                f"{key}={state[key]}"
                for key in (
                    "bound",
                    "window",
                    "per_second",
                    "submitted",
                    "receipts",
                    "errors",
                    "owner",
                )
                if key in state
            )
        elif item.kind not in ("emulator", "hlr"):
            line += "\tnot held by any process"
        click.echo(line)


@connector.command("enable")
@click.argument("name")
@with_store
async def connector_enable(settings: config.Settings, store: Store, name: str) -> None:
    """Let a connector take messages again."""
    await store.set_connector_enabled(name, True)
    click.echo(f"connector {name} enabled")


@connector.command("disable")
@click.argument("name")
@with_store
async def connector_disable(settings: config.Settings, store: Store, name: str) -> None:
    """Stop handing messages to a connector; its routes fail over to the next one."""
    await store.set_connector_enabled(name, False)
    click.echo(f"connector {name} disabled")


@main.group()
def route() -> None:
    """The routing table: prefix and channel → connectors in order."""


def _prefix(value: str) -> str:
    prefix = "" if value in ("*", "") else value.lstrip("+")
    if prefix and not prefix.isdigit():
        raise click.BadParameter("digits, or * for every number", param_hint="PREFIX")
    return prefix


@route.command("add")
@click.argument("prefix")
@click.argument("channel", type=click.Choice([*(c.value for c in Channel), ALL_CHANNELS]))
@click.argument("connectors")
@click.option(
    "--hlr-unreliable",
    is_flag=True,
    help="HLR answers for these numbers are unreliable: HLRVIP checks also send a PING.",
)
@with_store
async def route_add(
    settings: config.Settings,
    store: Store,
    prefix: str,
    channel: str,
    connectors: str,
    hlr_unreliable: bool,
) -> None:
    """Route PREFIX (* = every number) on CHANNEL to CONNECTORS (comma list, first healthy
    wins). Replaces the route of that prefix and channel."""
    names = routing.parse_connectors(connectors)
    known = {c.name for c in await store.connectors()}
    unknown = [name for name in names if name not in known]
    if not names or unknown:
        raise click.BadParameter(f"unknown connectors: {unknown}", param_hint="CONNECTORS")
    await store.save_route(
        routing.Route(
            prefix=_prefix(prefix),
            channel=channel,
            connectors=names,
            hlr_unreliable=hlr_unreliable,
        )
    )
    flag = " (hlr unreliable)" if hlr_unreliable else ""
    click.echo(f"route {prefix or '*'} {channel} -> {','.join(names)}{flag}")
    if names != (bootstrap.EMULATOR,) and await store.account_by_email(bootstrap.DEMO_EMAIL):
        # The published demo key must never reach an operator, so the gateway routes every
        # message of the demo account to the emulator: trying a new link with it "works"
        # and proves nothing. Said here, where the new user is looking.
        click.echo(
            f"warning: the demo account ({bootstrap.DEMO_EMAIL}) always uses the emulator and "
            "never this route; send with an account of your own (`pilotgate account create`)",
            err=True,
        )


@route.command("list")
@with_store
async def route_list(settings: config.Settings, store: Store) -> None:
    """The routing table."""
    for item in await store.routes():
        flag = "\thlr-unreliable" if item.hlr_unreliable else ""
        click.echo(f"{item.prefix or '*'}\t{item.channel}\t{','.join(item.connectors)}{flag}")


@route.command("remove")
@click.argument("prefix")
@click.argument("channel")
@with_store
async def route_remove(settings: config.Settings, store: Store, prefix: str, channel: str) -> None:
    """Remove a route; numbers it served then get error 213 unless a shorter one serves."""
    if not await store.remove_route(_prefix(prefix), channel):
        raise click.ClickException(f"no route {prefix} {channel}")
    click.echo(f"route {prefix} {channel} removed")


# inbound -------------------------------------------------------------------------------------
@main.group()
def inbound() -> None:
    """Inbound SMS."""


@inbound.command("add")
@click.argument("account_id", type=int)
@click.option("--phone", required=True, help="Who sent it.")
@click.option("--num", required=True, help="Our service number it was sent to.")
@click.option("--text", required=True, help="The message text.")
@with_store
async def inbound_add(
    settings: config.Settings, store: Store, account_id: int, phone: str, num: str, text: str
) -> None:
    """Record an inbound SMS by hand (SMPP links record the real ones). A stop word puts
    the phone on the account's stop list, as for SMS that links receive."""
    stop = stoplist.is_stop_word(text, stoplist.parse_words(settings.stop_words))
    item_id = await store.add_inbound(
        account_id, phones.clean(phone), phones.clean(num), text, bootstrap.now(), stop=stop
    )
    click.echo(f"inbound {item_id}")


@main.group()
def number() -> None:
    """Our service numbers: an inbound SMS sent to one goes to the account that has it."""


@number.command("add")
@click.argument("num")
@click.argument("account_id", type=int)
@with_store
async def number_add(settings: config.Settings, store: Store, num: str, account_id: int) -> None:
    """Give number NUM to an account (moving it from another if it had it)."""
    if await store.account(account_id) is None:
        raise click.ClickException(f"no account {account_id}")
    await store.save_number(phones.clean(num), account_id, bootstrap.now())
    click.echo(f"number {phones.clean(num)} -> account {account_id}")


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
@with_store
async def number_pool_add(
    settings: config.Settings, store: Store, num: str, prefix: str, connector: str
) -> None:
    """Put NUM in the pool (or change its prefix or link). The longest prefix matching a
    destination wins; a destination no prefix matches may get any number of the pool."""
    if prefix and not prefix.isdigit():
        raise click.BadParameter("digits only", param_hint="--prefix")
    if connector and connector not in {c.name for c in await store.connectors()}:
        raise click.BadParameter(f"no connector {connector!r}", param_hint="--connector")
    await store.save_pool_number(phones.clean(num), prefix, connector)
    via = f" via {connector}" if connector else ""
    click.echo(f"pool number {phones.clean(num)} prefix {prefix or '*'}{via}")


@number_pool.command("remove")
@click.argument("num")
@with_store
async def number_pool_remove(settings: config.Settings, store: Store, num: str) -> None:
    """Take NUM out of the pool (replies to messages already sent from it are still linked)."""
    if not await store.remove_pool_number(phones.clean(num)):
        raise click.ClickException(f"{phones.clean(num)} is not in the pool")
    click.echo(f"pool number {phones.clean(num)} removed")


@number_pool.command("list")
@with_store
async def number_pool_list(settings: config.Settings, store: Store) -> None:
    """Print the pool: number, prefix (* = any destination), link (* = any of the route)."""
    for entry in await store.pool_numbers():
        click.echo(f"{entry.number}\t{entry.prefix or '*'}\t{entry.connector or '*'}")
