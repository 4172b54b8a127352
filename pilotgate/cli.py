"""The `pilotgate` command: the server and the operator's admin commands."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from pilotgate import __version__, bootstrap, config, logs, serving
from pilotgate.connectors.smpp import SmppSettings
from pilotgate.domain import accounts, money, params, phones, routing, stoplist
from pilotgate.domain.accounts import AccountState
from pilotgate.domain.channels import Channel
from pilotgate.domain.routing import ALL_CHANNELS
from pilotgate.domain.senders import SenderState
from pilotgate.errors import ApiError, ConfigError, GatewayError
from pilotgate.storage.base import AccountChanges, NewAccount, Store

T = TypeVar("T")


def _settings(ctx: click.Context) -> config.Settings:
    settings = ctx.obj
    assert isinstance(settings, config.Settings)
    return settings


def with_store(func: Callable[..., Awaitable[T]]) -> Callable[..., T]:
    """Run an async admin command with an opened, migrated store; report errors cleanly."""

    @click.pass_context
    @wraps(func)
    def wrapper(ctx: click.Context, *args: Any, **kwargs: Any) -> T:
        settings = _settings(ctx)

        async def main() -> T:
            store = await bootstrap.open_store(settings)
            try:
                return await func(settings, store, *args, **kwargs)
            finally:
                await store.close()

        try:
            return asyncio.run(main())
        except GatewayError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper


@click.group()
@click.version_option(__version__)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="TOML settings file (or $PILOTGATE_CONFIG).",
)
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """PilotGate: a self-hosted SMS gateway speaking the SMSPILOT.RU HTTP API."""
    try:
        ctx.obj = config.load(path=config_path)
    except GatewayError as exc:
        raise click.ClickException(str(exc)) from exc
    logs.configure(ctx.obj.log_level, ctx.obj.log_format)


def _serve(
    settings: config.Settings,
    banner: Callable[[str], list[str]],
    *,
    workers: int = 1,
    api: bool = True,
    pipeline: bool | None = None,
) -> None:
    try:
        serving.serve(settings, workers=workers, api=api, pipeline=pipeline, banner=banner)
    except GatewayError as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {settings.host}:{settings.port}: {exc}"
        ) from exc


@main.command()
@click.option("--host", help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default 8000; 0 picks a free one).")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Processes sharing the port, each running the API and the pipeline.",
)
@click.option("--no-pipeline", is_flag=True, help="Serve the API only (no delivery worker).")
@click.pass_context
def serve(
    ctx: click.Context, host: str | None, port: int | None, workers: int, no_pipeline: bool
) -> None:
    """Run the HTTP API and the delivery pipeline until SIGINT/SIGTERM."""
    settings = _settings(ctx)
    settings = config.replace(
        settings, host=host or settings.host, port=settings.port if port is None else port
    )
    _serve(settings, lambda url: [], workers=workers, pipeline=False if no_pipeline else None)


@main.command()
@click.option("--host", help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default 8000; 0 picks a free one).")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Processes sharing the port.",
)
@click.pass_context
def api(ctx: click.Context, host: str | None, port: int | None, workers: int) -> None:
    """Run only the HTTP API (the pipeline runs in `pilotgate worker` processes)."""
    settings = _settings(ctx)
    settings = config.replace(
        settings, host=host or settings.host, port=settings.port if port is None else port
    )
    _serve(settings, lambda url: [], workers=workers, pipeline=False)


@main.command()
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Pipeline processes (claims are safe between them on PostgreSQL).",
)
@click.pass_context
def worker(ctx: click.Context, workers: int) -> None:
    """Run only the delivery pipeline: outbox, scheduler, expiry and callbacks."""
    _serve(_settings(ctx), lambda url: [], workers=workers, api=False, pipeline=True)


@main.command()
@click.option("--host", help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default 8000; 0 picks a free one).")
@click.pass_context
def demo(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Create the demo account (published test key) if needed, print a curl line, serve."""
    settings = _settings(ctx)
    settings = config.replace(
        settings, host=host or settings.host, port=settings.port if port is None else port
    )

    async def prepare() -> None:
        store = await bootstrap.open_store(settings)
        try:
            await bootstrap.ensure_demo(bootstrap.build_gateway(settings, store), settings)
        finally:
            await store.close()

    asyncio.run(prepare())
    key = bootstrap.DEMO_KEY
    _serve(
        settings,
        lambda url: [
            f"Demo account: {bootstrap.DEMO_EMAIL} / {bootstrap.DEMO_PASSWORD}, API key {key}",
            "Try it:",
            f"  curl '{url}/api.php?send=Hello&to=79087964781&apikey={key}&format=json'",
            f"  curl '{url}/api.php?check=<server_id>&apikey={key}&format=json'",
        ],
    )


# db ----------------------------------------------------------------------------------------
@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@with_store
async def db_upgrade(settings: config.Settings, store: Store) -> None:
    """Apply pending migrations (serve applies them too)."""
    click.echo(f"schema is up to date ({settings.database_url.split('@')[-1]})")


# accounts ------------------------------------------------------------------------------------
@main.group()
def account() -> None:
    """Customer accounts, keys and balances."""


@account.command("create")
@click.option("--email", required=True, help="Login e-mail.")
@click.option("--password", required=True, help="Password for login+password and the cabinet.")
@click.option("--name", default="", help="Customer name.")
@click.option(
    "--phone", default="", help="Contact phone (its country is the home for balance=sms)."
)
@click.option("--balance", default="0", help="Opening credit in rubles, e.g. 1000.00.")
@click.option("--apikey", default=None, help="Use this 64-character key instead of a new one.")
@click.option("--any-sender", is_flag=True, help="May send from any sender name unregistered.")
@click.option("--tariff", type=int, default=None, help="Tariff id (default from settings).")
@click.option("--default-sender", default="", help="Sender used when a request names none.")
@with_store
async def account_create(
    settings: config.Settings,
    store: Store,
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
    key = apikey or accounts.new_api_key()
    if not accounts.is_key_shaped(key):
        raise click.BadParameter("an API key is 64 letters and digits", param_hint="--apikey")
    try:
        opening = money.parse(balance)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--balance") from exc
    gateway = bootstrap.build_gateway(settings, store)
    created = await store.create_account(
        NewAccount(
            email=email,
            password_hash=gateway.hash_password(password),
            key_digest=accounts.key_digest(key),
            tariff_id=tariff or settings.default_tariff,
            name=name,
            phone=phones.clean(phone) if phone else "",
            default_sender=default_sender,
            any_sender=any_sender,
            callback_secret=bootstrap.new_callback_secret(),
        ),
        bootstrap.now(),
    )
    if opening:
        await store.credit(created.id, opening, "topup", "opening balance", bootstrap.now())
    click.echo(f"account {created.id}")
    click.echo(f"apikey {key}")


@account.command("topup")
@click.argument("account_id", type=int)
@click.argument("amount")
@with_store
async def account_topup(
    settings: config.Settings, store: Store, account_id: int, amount: str
) -> None:
    """Credit AMOUNT rubles (negative to debit) through the ledger."""
    try:
        kopecks = money.parse(amount)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="AMOUNT") from exc
    balance = await store.credit(account_id, kopecks, "topup", "operator top-up", bootstrap.now())
    click.echo(f"balance {money.format(balance)}")


@account.command("block")
@click.argument("account_id", type=int)
@click.option(
    "--reason",
    type=click.Choice(["spam", "balance", "untrusted"]),
    default="spam",
    help="Which block error the API answers (106, 105, 107).",
)
@with_store
async def account_block(
    settings: config.Settings, store: Store, account_id: int, reason: str
) -> None:
    """Block an account: its API calls get error 105/106/107."""
    await store.set_account_state(account_id, AccountState(f"blocked_{reason}"))
    click.echo(f"account {account_id} blocked ({reason})")


@account.command("unblock")
@click.argument("account_id", type=int)
@with_store
async def account_unblock(settings: config.Settings, store: Store, account_id: int) -> None:
    """Unblock an account."""
    await store.set_account_state(account_id, AccountState.ACTIVE)
    click.echo(f"account {account_id} active")


@account.command("list")
@with_store
async def account_list(settings: config.Settings, store: Store) -> None:
    """List accounts with balance and state."""
    for item in await store.accounts():
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
@with_store
async def account_set(
    settings: config.Settings,
    store: Store,
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
) -> None:
    """Change account settings; options not given stay as they are."""
    if allow_ip and params.bad_networks(allow_ip):
        raise click.BadParameter(
            f"not addresses or networks: {params.bad_networks(allow_ip)}", param_hint="--allow-ip"
        )
    for hint, url in (("--status-url", status_url), ("--inbound-url", inbound_url)):
        if url:
            await _check_callback_url(settings, url, hint)
    changed = await store.update_account(
        account_id,
        AccountChanges(
            name=name,
            phone=phones.clean(phone) if phone else phone,
            tariff_id=tariff,
            default_sender=default_sender,
            any_sender=any_sender,
            allow_ip=allow_ip,
            status_url=status_url,
            status_method=status_method,
            inbound_url=inbound_url,
        ),
    )
    click.echo(
        f"account {changed.id}: default_sender={changed.default_sender!r} "
        f"any_sender={int(changed.any_sender)} allow_ip={changed.allow_ip!r} "
        f"tariff={changed.tariff_id} status_url={changed.status_url!r} "
        f"status_method={changed.status_method} inbound_url={changed.inbound_url!r}"
    )


async def _check_callback_url(settings: config.Settings, url: str, hint: str) -> None:
    try:
        params.callback_url(url)
    except ApiError:
        raise click.BadParameter("not an http(s) URL", param_hint=hint) from None
    refusal = await bootstrap.build_address_policy(settings).refusal(url)
    if refusal is not None:
        raise click.BadParameter(refusal, param_hint=hint)


@account.command("secret")
@click.argument("account_id", type=int)
@click.option("--rotate", is_flag=True, help="Replace it with a new one first.")
@with_store
async def account_secret(
    settings: config.Settings, store: Store, account_id: int, rotate: bool
) -> None:
    """Show the key of the account's X-PilotGate-Signature callback header."""
    if rotate:
        await store.update_account(
            account_id, AccountChanges(callback_secret=bootstrap.new_callback_secret())
        )
    found = await store.account(account_id)
    if found is None:
        raise click.ClickException(f"no account {account_id}")
    click.echo(f"callback_secret {found.callback_secret}")


@account.command("newkey")
@click.argument("account_id", type=int)
@with_store
async def account_newkey(settings: config.Settings, store: Store, account_id: int) -> None:
    """Issue an additional API key for an account."""
    key = accounts.new_api_key()
    await store.add_api_key(account_id, accounts.key_digest(key), bootstrap.now())
    click.echo(f"apikey {key}")


# senders -------------------------------------------------------------------------------------
@main.group()
def sender() -> None:
    """Sender names."""


@sender.command("add")
@click.argument("account_id", type=int)
@click.argument("name")
@click.option("--approve", is_flag=True, help="Approve at once.")
@click.option("--description", default="", help="Project, site, sample texts.")
@with_store
async def sender_add(
    settings: config.Settings,
    store: Store,
    account_id: int,
    name: str,
    approve: bool,
    description: str,
) -> None:
    """Add a sender name to an account."""
    state = SenderState.APPROVED if approve else SenderState.PENDING
    added = await store.add_sender(account_id, name, description, "", state, bootstrap.now())
    click.echo(f"sender {added.id} {added.name} {added.state.value}")


@sender.command("approve")
@click.argument("sender_id", type=int)
@with_store
async def sender_approve(settings: config.Settings, store: Store, sender_id: int) -> None:
    """Approve a pending sender name."""
    changed = await store.set_sender_state(sender_id, SenderState.APPROVED)
    click.echo(f"sender {changed.id} {changed.name} {changed.state.value}")


@sender.command("reject")
@click.argument("sender_id", type=int)
@with_store
async def sender_reject(settings: config.Settings, store: Store, sender_id: int) -> None:
    """Reject a sender name."""
    changed = await store.set_sender_state(sender_id, SenderState.REJECTED)
    click.echo(f"sender {changed.id} {changed.name} {changed.state.value}")


@sender.command("list")
@click.argument("account_id", type=int)
@with_store
async def sender_list(settings: config.Settings, store: Store, account_id: int) -> None:
    """List an account's sender names."""
    for item in await store.senders(account_id):
        click.echo(f"{item.id}\t{item.name}\t{item.state.value}\t{item.description}")


# tariffs -------------------------------------------------------------------------------------
@main.group()
def tariff() -> None:
    """Tariffs: prefix → price per part per channel."""


@tariff.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--id", "tariff_id", type=int, default=None, help="Tariff id (default 1).")
@click.option("--name", default=None, help="Tariff name (default: the file name).")
@with_store
async def tariff_import(
    settings: config.Settings, store: Store, file: Path, tariff_id: int | None, name: str | None
) -> None:
    """Replace a tariff with FILE.csv (prefix,channel,price,country,operator)."""
    # A tariff file is small; reading it blocks nothing else in this one-shot command.
    rates = bootstrap.parse_tariff_csv(file.read_text(encoding="utf-8"))  # noqa: ASYNC240
    target = tariff_id or settings.default_tariff
    await store.replace_tariff(target, name or file.stem, rates)
    click.echo(f"tariff {target}: {len(rates)} rates")


@tariff.command("show")
@click.option("--id", "tariff_id", type=int, default=None, help="Tariff id (default 1).")
@with_store
async def tariff_show(settings: config.Settings, store: Store, tariff_id: int | None) -> None:
    """Print a tariff's rates."""
    for rate in await store.tariff_rates(tariff_id or settings.default_tariff):
        click.echo(
            f"{rate.prefix}\t{rate.channel}\t{money.format(rate.price)}\t{rate.country}"
            f"\t{rate.operator}"
        )


# connectors and routes ---------------------------------------------------------------------
@main.group()
def connector() -> None:
    """Connectors: the links messages leave through."""


@connector.command("add")
@click.argument("kind", type=click.Choice(["emulator", "smpp", "hlr"]))
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
@click.option("--host", default=None, help="smpp: the SMSC's host.")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="smpp: its port.")
@click.option("--system-id", default=None, help="smpp: the bind's system_id.")
@click.option("--password", default=None, help="smpp: the bind's password.")
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
    extra: tuple[str, ...],
) -> None:
    """Add (or reconfigure) a connector: `emulator` (built in), `smpp` (a bind to an
    operator's SMSC; one process holds it, another takes over if that one dies) or `hlr` (an
    HLR/PING emulator: --set unserved_suffixes=0 --set offline_suffixes=9)."""
    options: dict[str, object] = {}
    if kind in ("emulator", "hlr"):
        if kind == "emulator":
            options["fail_suffixes"] = fail_suffixes
        if delay is not None:
            options["delay"] = delay
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
        options[key.strip()] = _setting_value(value.strip())
    if kind == "smpp":
        try:  # refuse a link that could not start, naming the setting that is wrong
            SmppSettings.from_json(name, json.dumps(options), mps)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from exc
    await store.save_connector(name, kind, json.dumps(options), mps)
    click.echo(f"connector {name} ({kind}) mps={mps or 'unlimited'}")


def _setting_value(text: str) -> object:
    """`--set` values: JSON when they parse (numbers, true/false), else the string."""
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
@with_store
async def stop_add(
    settings: config.Settings,
    store: Store,
    phones_: tuple[str, ...],
    account_id: int | None,
    global_: bool,
    reason: str,
) -> None:
    """Put phones on a stop list."""
    scope = _scope(account_id, global_)
    if scope is not None and await store.account(scope) is None:
        raise click.ClickException(f"no account {scope}")
    cleaned = [phones.clean(p) for p in phones_]
    added = await store.add_stops(scope, cleaned, reason, bootstrap.now())
    click.echo(f"added {added} of {len(cleaned)}")


@stop.command("remove")
@click.argument("phone")
@_stop_options
@with_store
async def stop_remove(
    settings: config.Settings, store: Store, phone: str, account_id: int | None, global_: bool
) -> None:
    """Take a phone off a stop list."""
    if not await store.remove_stop(_scope(account_id, global_), phones.clean(phone)):
        raise click.ClickException(f"{phones.clean(phone)} is not on that list")
    click.echo(f"removed {phones.clean(phone)}")


@stop.command("list")
@_stop_options
@with_store
async def stop_list(
    settings: config.Settings, store: Store, account_id: int | None, global_: bool
) -> None:
    """The phones on a stop list, with why and since when."""
    for entry in await store.stop_entries(_scope(account_id, global_)):
        click.echo(f"{entry.phone}\t{entry.created:%Y-%m-%d %H:%M:%S}\t{entry.reason}")


@main.group()
def loop() -> None:
    """Loop protection: the same text to the same phone within a window gets error 243."""


@loop.command("set")
@click.argument("account_id", type=int)
@click.argument("seconds")
@with_store
async def loop_set(settings: config.Settings, store: Store, account_id: int, seconds: str) -> None:
    """Set an account's window: SECONDS (0 = off) or "default" (loop_window_seconds)."""
    if seconds == "default":
        window = None
    elif seconds.isascii() and seconds.isdigit() and int(seconds) <= 366 * 86400:
        window = int(seconds)
    else:
        raise click.BadParameter("whole seconds up to a year, or 'default'", param_hint="SECONDS")
    await store.set_loop_window(account_id, window)
    shown = f"default ({settings.loop_window_seconds} s)" if window is None else f"{window} s"
    click.echo(f"account {account_id}: loop window {shown}")


@main.group()
def referral() -> None:
    """Referrals (r=): who brought whom, and the commission earned."""


@referral.command("list")
@click.argument("referrer_id", type=int)
@with_store
async def referral_list(settings: config.Settings, store: Store, referrer_id: int) -> None:
    """The accounts REFERRER_ID referred, their share and the commission so far."""
    for item in await store.referrals(referrer_id):
        click.echo(
            f"{item.account_id}\t{item.email}\t{item.percent}%\t{money.format(item.commission)}"
        )


@main.command("smsc-sim")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=2775, show_default=True, help="0 picks a free one.")
@click.option("--behaviour", default="happy", show_default=True, help="happy, throttling, …")
@click.option("--receipt-delay", type=float, default=1.0, show_default=True, help="Seconds.")
def smsc_sim(host: str, port: int, behaviour: str, receipt_delay: float) -> None:
    """Run the SMSC simulator the tests use (behaviours: pilotgate/testing/smsc/server.py)."""
    # Imported here: only this command needs the test doubles.
    from pilotgate.testing.smsc import Behaviour, SmscSimulator

    try:
        chosen = Behaviour(behaviour)
    except ValueError:
        names = ", ".join(b.value for b in Behaviour)
        raise click.BadParameter(f"{behaviour!r} is not one of {names}") from None

    async def run() -> None:
        simulator = SmscSimulator(chosen, host=host, port=port, receipt_delay=receipt_delay)
        async with simulator:
            click.echo(f"SMSC simulator on {host}:{simulator.port}, behaviour {chosen}")
            await asyncio.Event().wait()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass  # Ctrl-C is how it stops


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
