"""`pilotgate connector ...`: the links messages leave through. The settings of each kind
are its schema's (connectors/schemas/); the flags below are shortcuts for the common ones
and `--set KEY=VALUE` reaches the rest."""

from __future__ import annotations

import json

import click

from pilotgate import bootstrap, config
from pilotgate.domain import audit
from pilotgate.gateway import Gateway
from pilotgate.operations import connectors as connector_ops

from .base import main, with_gateway

#: kind → the flags of `connector add` it takes (each flag's destination is the setting's
#: name); a flag given to another kind is ignored, as before the schemas.
_FLAGS = {
    "emulator": ("delay", "fail_suffixes"),
    "smpp": (
        "host", "port", "system_id", "password", "system_type", "window", "bind", "concat",
        "gsm_packed",
    ),
    "hlr": ("delay",),
    "relay": ("url", "apikey", "callback_url"),
    "sip": ("host", "port", "transport", "username", "password", "caller_pool", "max_calls"),
}  # fmt: skip


@main.group()
def connector() -> None:
    """Connectors: the links messages leave through."""


@connector.command("add")
@click.argument("kind", type=click.Choice(list(bootstrap.KINDS)))
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
@click.option("--bind", type=click.Choice(["trx", "tx+rx"]), default=None)
@click.option(
    "--concat",
    type=click.Choice(["udh", "udh16", "sar", "payload"]),
    default=None,
    help="smpp: how long messages are split (UDH 8/16-bit reference, SAR TLVs, one payload).",
)
@click.option("--gsm-packed/--gsm-unpacked", default=None, help="smpp: pack GSM 7-bit text.")
@click.option("--url", default=None, help="relay: the upstream API's base URL.")
@click.option("--key", "apikey", default=None, help="relay: the upstream's API key.")
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
@with_gateway
async def connector_add(
    settings: config.Settings,
    gateway: Gateway,
    kind: str,
    name: str,
    mps: int,
    extra: tuple[str, ...],
    **flags: object,
) -> None:
    """Add (or reconfigure) a connector: `emulator` (built in), `smpp` (a bind to an
    operator's SMSC; one process holds it, another takes over if that one dies) or `hlr` (an
    HLR/PING emulator: --set unserved_suffixes=0 --set offline_suffixes=9) or `relay` (another
    SMSPILOT-compatible API: --url, --key, --set poll_interval=2 --set timeout=10) or `sip`
    (a SIP trunk for voice and flash calls: --host, --port, --caller-pool; docs/sip.md).
    Every setting is checked against the kind's schema before it is stored."""
    options = {key: flags[key] for key in _FLAGS[kind] if flags[key] is not None}
    for item in extra:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.UsageError(f"--set wants KEY=VALUE, not {item!r}")
        options[key.strip()] = _setting_value(kind, key.strip(), value.strip())
    await connector_ops.save(
        gateway,
        audit.CLI,
        bootstrap.connector_decoder(settings),
        kind=kind,
        name=name,
        options=options,
        mps=mps,
    )
    click.echo(f"connector {name} ({kind}) mps={mps or 'unlimited'}")


def _setting_value(kind: str, key: str, text: str) -> object:
    """A `--set` value of the type the setting declares: a text setting keeps the digits it
    was given (`caller_id=74951230000` is a phone number, not an integer; `password=123456`
    a password), the others are JSON when they parse (numbers, true/false, objects), else
    the string, which the schema then refuses with the setting's name."""
    if bootstrap.KINDS[kind].schema.takes_text(key):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


@connector.command("list")
@with_gateway
async def connector_list(settings: config.Settings, gateway: Gateway) -> None:
    """Connectors with their state: enabled, limit, messages handed over, last hand-over;
    for links also who holds them, bound or not, window use and counters."""
    now = bootstrap.now()
    leases = await connector_ops.leases(gateway)
    for item in await connector_ops.listing(gateway):
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
@with_gateway
async def connector_enable(settings: config.Settings, gateway: Gateway, name: str) -> None:
    """Let a connector take messages again."""
    await connector_ops.set_enabled(gateway, audit.CLI, name, True)
    click.echo(f"connector {name} enabled")


@connector.command("disable")
@click.argument("name")
@with_gateway
async def connector_disable(settings: config.Settings, gateway: Gateway, name: str) -> None:
    """Stop handing messages to a connector; its routes fail over to the next one."""
    await connector_ops.set_enabled(gateway, audit.CLI, name, False)
    click.echo(f"connector {name} disabled")
