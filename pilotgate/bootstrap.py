"""The composition root: Settings → Store, Connector, Gateway, Outbox, ASGI app, server.
The only module that names concrete adapters."""

from __future__ import annotations

import functools
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import urlsplit

from pilotgate.api.proxies import parse_networks
from pilotgate.api.smpp import DeliverySettings, SmppServer, SmppServerSettings, tls as smpp_tls
from pilotgate.api.smpp.limits import LimitSettings
from pilotgate.config import Settings
from pilotgate.connectors.base import Connector
from pilotgate.connectors.emulator import EmulatorConnector
from pilotgate.connectors.hlr import HlrConnector, PlanSource
from pilotgate.connectors.relay import RelayConnector
from pilotgate.connectors.schemas import (
    EmulatorSettings,
    HlrSettings,
    RelaySettings,
    SettingsSchema,
    SipSettings,
    SmppSettings,
)
from pilotgate.connectors.sip import SipConnector
from pilotgate.connectors.smpp import SmppConnector
from pilotgate.domain import (
    accounts,
    audit,
    callbacks,
    money,
    protections,
    pumping,
    stoplist,
    tariff_csv,
)
from pilotgate.domain.numbering import Numbering
from pilotgate.domain.routing import ALL_CHANNELS, Route
from pilotgate.domain.tariffs import Rate
from pilotgate.errors import ConfigError
from pilotgate.gateway import Gateway, GatewayPolicy, Passwords, PasswordSettings
from pilotgate.gateway.numbering import NumberingCache
from pilotgate.operations import connectors as connector_ops, routes as route_ops
from pilotgate.pipeline.callbacks import AddressPolicy, CallbackWorker
from pilotgate.pipeline.debugmail import DebugMailer, Relay
from pilotgate.pipeline.held_alerts import HeldAlerts
from pilotgate.pipeline.links import LinkKeeper
from pilotgate.pipeline.outbox import ConnectorFactory, ConnectorPool, Outbox
from pilotgate.storage.base import ConnectorInfo, NewAccount
from pilotgate.storage.roles import Store
from pilotgate.storage.sqlite import SqliteStore

if TYPE_CHECKING:
    from pilotgate.api.dashboard import DashboardApp

log = logging.getLogger("pilotgate")
S = TypeVar("S", bound=SettingsSchema)

#: The published test key of contract §15: its account's messages always go to the emulator.
DEMO_KEY = "XXXXXXXXXXXXYYYYYYYYYYYYZZZZZZZZXXXXXXXXXXXXYYYYYYYYYYYYZZZZZZZZ"
DEMO_EMAIL = "demo@pilotgate.local"
#: The built-in connector that test=1 and the demo account always use.
EMULATOR = "emulator"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - the published demo account, by design


def now() -> datetime:
    return datetime.now(UTC)


def new_callback_secret() -> str:
    """The key of an account's X-PilotGate-Signature (HMAC-SHA256)."""
    return secrets.token_hex(32)


async def open_store(settings: Settings) -> Store:
    """The store the database URL names, migrated to the latest schema."""
    url = settings.database_url
    store: Store
    if url.startswith("sqlite:///"):
        store = SqliteStore(url.removeprefix("sqlite:///"), synchronous=settings.sqlite_synchronous)
    elif url.startswith(("postgresql://", "postgres://")):
        from pilotgate.storage.postgres import PostgresStore

        store = await PostgresStore.open(url, prepare=settings.postgres_prepare)
    else:
        raise ConfigError(f"database_url must start with sqlite:/// or postgresql://: {url!r}")
    await store.upgrade()
    await ensure_defaults(store, settings)
    return store


def backup_database(settings: Settings, target: Path) -> int:
    """A consistent copy of the live database in `target` (`pilotgate db backup`); its size."""
    url = settings.database_url
    if url.startswith("sqlite:///"):
        from pilotgate.storage.sqlite import backup

        return backup.backup(url.removeprefix("sqlite:///"), target)
    if url.startswith(("postgresql://", "postgres://")):
        from pilotgate.storage.postgres import dump

        return dump.dump(url, target)
    raise ConfigError(f"database_url must start with sqlite:/// or postgresql://: {url!r}")


def restore_database(settings: Settings, source: Path) -> int:
    """The database of the settings made a copy of the backup `source` (`db restore`)."""
    url = settings.database_url
    if url.startswith("sqlite:///"):
        from pilotgate.storage.sqlite import backup

        return backup.restore(source, url.removeprefix("sqlite:///"))
    if url.startswith(("postgresql://", "postgres://")):
        from pilotgate.storage.postgres import dump

        return dump.restore(source, url)
    raise ConfigError(f"database_url must start with sqlite:/// or postgresql://: {url!r}")


def build_address_policy(settings: Settings) -> AddressPolicy:
    try:
        return AddressPolicy(settings.callback_allow_networks)
    except ValueError as exc:
        raise ConfigError(f"callback_allow_networks: {exc}") from exc


def build_callback_worker(settings: Settings, store: Store) -> CallbackWorker:
    return CallbackWorker(
        store,
        now,
        build_address_policy(settings),
        retry=callbacks.RetryPolicy(
            first=timedelta(seconds=settings.callback_retry_first),
            cap=timedelta(seconds=settings.callback_retry_cap),
            give_up_after=timedelta(seconds=settings.callback_give_up_after),
        ),
        timeout=settings.callback_timeout,
        concurrency=settings.callback_concurrency,
        poll_interval=settings.poll_interval,
    )


def _countries(raw: str) -> frozenset[str] | None:
    """The `default_countries` setting; "" = None (Russia and the default tariff's)."""
    if not raw.strip():
        return None
    try:
        return protections.parse_countries(raw)
    except ValueError as exc:
        raise ConfigError(f"setting 'default_countries': {exc}") from None


def _pumping(settings: Settings) -> pumping.Rules:
    """The SMS-pumping rules of the `pumping_*` settings (`pumping = false`: none)."""
    if not settings.pumping:
        return pumping.OFF
    try:
        price = money.parse(settings.pumping_premium_price)
    except ValueError as exc:
        raise ConfigError(f"setting 'pumping_premium_price': {exc}") from None
    if settings.pumping_window_seconds <= 0 or not 1 <= settings.pumping_range_digits <= 15:
        raise ConfigError("settings 'pumping_window_seconds' > 0, 'pumping_range_digits' 1-15")
    return pumping.Rules(
        window=settings.pumping_window_seconds,
        range_digits=settings.pumping_range_digits,
        range_limit=settings.pumping_range_limit,
        premium_price=price,
        premium_limit=settings.pumping_premium_limit,
        sequence_run=settings.pumping_sequence_run,
        new_country_limit=settings.pumping_new_country_limit,
        new_country_share=settings.pumping_new_country_share,
    )


def build_gateway(settings: Settings, store: Store, plan: Numbering | None = None) -> Gateway:
    """`plan`: a numbering plan loaded before this process was forked, to start from."""
    gateway = Gateway(
        store,
        now,
        GatewayPolicy(
            max_recipients=settings.max_recipients,
            max_parts=settings.max_parts,
            default_sender=settings.default_sender,
            home_prefix=settings.home_prefix,
            tariff_cache_seconds=settings.tariff_cache_seconds,
            default_validity_seconds=settings.default_validity_seconds,
            emulator_emails=frozenset({DEMO_EMAIL}),
            emulator_route=EMULATOR,
            loop_window_seconds=settings.loop_window_seconds,
            referral_percent=settings.referral_percent,
            two_way_hours=settings.two_way_hours,
            voice_max_seconds=settings.voice_max_seconds,
            default_countries=_countries(settings.default_countries),
            default_tariff=settings.default_tariff,
            default_day_cap=settings.default_day_cap,
            default_month_cap=settings.default_month_cap,
            default_api_rps=settings.default_api_rps,
            default_mps=settings.default_mps,
            pumping=_pumping(settings),
        ),
        build_address_policy(settings).refusal,
        Passwords(
            store,
            now,
            PasswordSettings(
                lockout_attempts=settings.dashboard_lockout_attempts,
                lockout_window=timedelta(minutes=settings.dashboard_lockout_minutes),
                threads=settings.password_check_threads,
                queue=settings.password_check_queue,
                remember=timedelta(seconds=settings.password_remember_seconds),
            ),
        ),
    )
    if plan is not None:
        gateway.numbering.adopt(plan)
    if settings.pumping_alert_url:
        if urlsplit(settings.pumping_alert_url).scheme not in ("http", "https"):
            raise ConfigError("setting 'pumping_alert_url' must be an http(s) URL")
        alerts = HeldAlerts(
            settings.pumping_alert_url, now, policy=build_address_policy(settings).outbound
        )
        gateway.held_alert = alerts.notice
    return gateway


def build_dashboard(settings: Settings, gateway: Gateway) -> DashboardApp:
    """The web cabinet and console, served by the same app as the API."""
    # Imported here: Jinja2 and the pages would slow every admin command's start.
    from pilotgate.api.dashboard import DashboardApp, DashboardSettings

    port = settings.smpp_listen.rpartition(":")[2]  # shown in the cabinet; '' when not listening
    return DashboardApp(
        gateway,
        DashboardSettings(
            max_form_bytes=settings.dashboard_max_form_bytes,
            max_upload_bytes=settings.dashboard_max_upload_bytes,
            session_lifetime=timedelta(hours=settings.dashboard_session_hours),
            default_sender=settings.default_sender,
            https=settings.dashboard_https,
            search_window=settings.dashboard_search_window,
            smpp_port=int(port)
            if (port := settings.smpp_listen.rpartition(":")[2]).isdigit()
            else 0,
        ),
        now,
    )


def build_smpp_server(
    settings: Settings, gateway: Gateway, keeper: LinkKeeper | None = None
) -> SmppServer:
    """The SMSC side for customers' systems (`smpp_listen`, `smpp_tls_listen`). With the
    process's `keeper`, receipts its links record wake the receiving binds at once."""
    tls = (
        smpp_tls.server_context(settings.smpp_tls_cert, settings.smpp_tls_key)
        if settings.smpp_tls_listen
        else None
    )
    server = SmppServer(
        gateway,
        SmppServerSettings(
            max_pdu=settings.smpp_max_pdu_bytes,
            enquire_seconds=settings.smpp_enquire_seconds,
            dead_seconds=settings.smpp_dead_seconds,
            bind_seconds=settings.smpp_bind_seconds,
            window=settings.smpp_window,
            limits=LimitSettings(
                max_binds=settings.smpp_max_binds,
                mps=settings.smpp_mps,
                lease=settings.smpp_bind_lease,
            ),
            deliveries=DeliverySettings(
                poll=settings.smpp_receipt_poll,
                validity_hours=settings.smpp_receipt_validity,
                window=settings.smpp_receipt_window,
            ),
            proxies=parse_networks(settings.smpp_proxies),
        ),
        tls,
    )
    if keeper is not None:
        keeper.on_finals = server.deliveries_due
    return server


def build_debug_mailer(settings: Settings) -> DebugMailer | None:
    """The sender of `debug=` mails, or None when no SMTP relay is configured."""
    if not settings.smtp_host:
        return None
    relay = Relay(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_from,
        timeout=settings.smtp_timeout,
    )
    return DebugMailer(
        relay,
        now,
        per_hour=settings.debug_mail_per_hour,
        policy=build_address_policy(settings).outbound,
    )


@dataclass(frozen=True, slots=True)
class ConnectorKind(Generic[S]):
    """A connector kind: the schema of its settings and the builder of its connector."""

    schema: type[S]
    build: Callable[[S, Settings], Connector]


def _emulator(options: EmulatorSettings, settings: Settings) -> Connector:
    if options.name == EMULATOR:  # the built-in one: behaviour from the gateway's settings
        options = replace(
            options,
            delay=settings.emulator_delay,
            fail_suffixes=settings.emulator_fail_suffixes,
            no_viber_suffixes=settings.emulator_no_viber_suffixes,
        )
    return EmulatorConnector(
        name=options.name,
        delay=options.delay,
        fail_suffixes=options.fail_suffixes,
        no_viber_suffixes=options.no_viber_suffixes,
        journal=settings.emulator_journal,
    )


def _relay(options: RelaySettings, settings: Settings) -> Connector:
    return RelayConnector(options, build_address_policy(settings).outbound)


#: kind → (settings schema, builder), uvicorn's HTTP_PROTOCOLS style: a new kind is one entry.
#: The order is the one `connector add` offers them in.
KINDS: dict[str, ConnectorKind[Any]] = {
    "emulator": ConnectorKind(EmulatorSettings, _emulator),
    "smpp": ConnectorKind(SmppSettings, lambda options, _: SmppConnector(options)),
    "hlr": ConnectorKind(HlrSettings, lambda options, _: HlrConnector.from_settings(options)),
    "relay": ConnectorKind(RelaySettings, _relay),
    "sip": ConnectorKind(SipSettings, lambda options, _: SipConnector(options)),
}


def decode_settings(settings: Settings, kind: str, name: str, options: str, mps: int) -> object:
    """A connector's settings JSON through its kind's schema; the gateway's own settings
    give the defaults some kinds share (emulator_delay, voice_max_seconds, speech_cache_dir).
    ConfigError names the setting that is wrong."""
    found = KINDS.get(kind)
    if found is None:
        raise ConfigError(f"connector {name}: unknown kind {kind!r} (one of {', '.join(KINDS)})")
    return found.schema.from_json(
        name,
        options,
        mps=mps,
        delay=settings.emulator_delay,
        max_seconds=settings.voice_max_seconds,
        cache_dir=settings.speech_cache_dir,
    )


def connector_decoder(settings: Settings) -> Callable[[str, str, str, int], object]:
    """`decode_settings` with these settings, for the operations (operations.connectors)."""
    return functools.partial(decode_settings, settings)


def connector_factory(settings: Settings, plan: PlanSource | None = None) -> ConnectorFactory:
    """The connector a row configures, or None when it cannot run here. The pool calls it
    only when the row's kind, settings or rate changed, so settings are decoded once per
    change, not every outbox round. `plan`: the numbering plan the HLR emulators answer
    from (the built-in emulator answers checks too)."""

    def make(info: ConnectorInfo) -> Connector | None:
        if info.kind not in KINDS:
            return None  # kinds of later issues
        try:
            options = decode_settings(settings, info.kind, info.name, info.settings, info.mps)
        except ConfigError as exc:
            # One misconfigured link must not stop the others (nor the API); it stays
            # unusable, its routes fail over, and `connector list` shows it unheld.
            log.error("%s", exc)
            return None
        made = KINDS[info.kind].build(options, settings)
        if plan is not None and isinstance(made, HlrConnector | EmulatorConnector):
            made.checks.plan = plan
        return made

    return make


def build_outbox(settings: Settings, store: Store, plan: PlanSource | None = None) -> Outbox:
    """`plan`: the process's numbering plan (the gateway's, so a process holds one copy)."""
    if plan is None:
        plan = NumberingCache(store, now, settings.tariff_cache_seconds).fresh
    return Outbox(
        store,
        ConnectorPool(connector_factory(settings, plan)),
        now,
        batch=settings.claim_batch,
        lease_seconds=settings.lease_seconds,
        poll_interval=settings.poll_interval,
        unknown_after=settings.handover_unknown_after,
        retention_days=settings.retention_days,
        default_mps=settings.default_mps,
    )


def build_link_keeper(settings: Settings, store: Store, outbox: Outbox) -> LinkKeeper:
    """The holder of this process's long-lived links; it shares the outbox's connectors."""
    return LinkKeeper(
        store,
        outbox.pool,
        now,
        outbox.owner,
        lease_seconds=settings.link_lease_seconds,
        stop_words=stoplist.parse_words(settings.stop_words),
        two_way_hours=settings.two_way_hours,
    )


def parse_tariff_csv(text: str) -> list[Rate]:
    """Rows of `prefix,channel,price,country,operator` (a header row is optional)."""
    return tariff_csv.parse(text)


def default_rates() -> list[Rate]:
    text = resources.files("pilotgate.data").joinpath("default_tariff.csv").read_text("utf-8")
    return parse_tariff_csv(text)


async def ensure_defaults(store: Store, settings: Settings) -> None:
    """A fresh database gets the default tariff, the built-in emulator connector and one
    route sending every number on every channel to it."""
    if not any(t.id == settings.default_tariff for t in await store.tariffs()):
        await store.replace_tariff(settings.default_tariff, "default", default_rates())
    if not any(c.name == EMULATOR for c in await store.connectors()):
        await store.save_connector(EMULATOR, "emulator", "{}", 0)
        if not await store.routes():
            await store.save_route(Route(prefix="", channel=ALL_CHANNELS, connectors=(EMULATOR,)))
    await apply_config_routing(store, settings)


async def apply_config_routing(store: Store, settings: Settings) -> None:
    """The config file's [[connector]] and [[route]] tables, written over the database's;
    a connector that could not start stops the gateway, naming the setting."""
    if not settings.connectors and not settings.routes:
        return
    gateway, decode = build_gateway(settings, store), connector_decoder(settings)
    for spec in settings.connectors:
        await connector_ops.save(
            gateway,
            audit.CONFIG,
            decode,
            kind=spec.kind,
            name=spec.name,
            options=dict(spec.options),
            mps=spec.mps,
        )
    for route in settings.routes:
        await route_ops.add(
            gateway,
            audit.CONFIG,
            route.prefix,
            route.channel,
            route.connectors,
            hlr_unreliable=route.hlr_unreliable,
            operator=route.operator,
        )


async def ensure_demo(gateway: Gateway, settings: Settings) -> int:
    """The demo account with the published key and 1000.00 of credit, once."""
    existing = await gateway.store.account_by_key(accounts.key_digest(DEMO_KEY))
    if existing is not None:
        return existing.id
    account = await gateway.store.create_account(
        NewAccount(
            email=DEMO_EMAIL,
            password_hash=gateway.hash_password(DEMO_PASSWORD),
            key_digest=accounts.key_digest(DEMO_KEY),
            tariff_id=settings.default_tariff,
            name="Demo",
            default_sender=settings.default_sender,
            callback_secret=new_callback_secret(),
        ),
        now(),
    )
    await gateway.store.credit(account.id, 100_000, "topup", "demo credit", now())
    return account.id
