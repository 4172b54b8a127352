"""The background workers a serving process runs beside its fronts: the outbox, the holder
of long-lived links, the callback sender and the debug mailer."""

from __future__ import annotations

from datetime import timedelta

from pilotgate.bootstrap.connectors import connector_factory
from pilotgate.bootstrap.gateway import build_address_policy, now
from pilotgate.config import Settings
from pilotgate.connectors.hlr import PlanSource
from pilotgate.domain import callbacks, stoplist
from pilotgate.gateway.numbering import NumberingCache
from pilotgate.pipeline.callbacks import CallbackWorker
from pilotgate.pipeline.connector_pool import ConnectorPool
from pilotgate.pipeline.debugmail import DebugMailer, Relay
from pilotgate.pipeline.links import LinkKeeper
from pilotgate.pipeline.outbox import Outbox
from pilotgate.storage.roles import Store


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
