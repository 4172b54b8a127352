"""The composition root: Settings → Store, Connector, Gateway, Outbox, ASGI app, server.
The only package that names concrete adapters. Its modules build one part each; callers
use the names handed on here (`bootstrap.open_store`, `bootstrap.KINDS`, ...)."""

from __future__ import annotations

from pilotgate.bootstrap.connectors import (
    KINDS,
    ConnectorKind,
    connector_decoder,
    connector_factory,
    decode_settings,
)
from pilotgate.bootstrap.database import (
    apply_config_routing,
    backup_database,
    default_rates,
    ensure_defaults,
    ensure_demo,
    new_callback_secret,
    open_store,
    parse_tariff_csv,
    restore_database,
)
from pilotgate.bootstrap.gateway import (
    DEMO_EMAIL,
    DEMO_KEY,
    DEMO_PASSWORD,
    EMULATOR,
    build_address_policy,
    build_gateway,
    now,
)
from pilotgate.bootstrap.servers import build_dashboard, build_smpp_server
from pilotgate.bootstrap.workers import (
    build_callback_worker,
    build_debug_mailer,
    build_link_keeper,
    build_outbox,
)

__all__ = [
    "DEMO_EMAIL",
    "DEMO_KEY",
    "DEMO_PASSWORD",
    "EMULATOR",
    "KINDS",
    "ConnectorKind",
    "apply_config_routing",
    "backup_database",
    "build_address_policy",
    "build_callback_worker",
    "build_dashboard",
    "build_debug_mailer",
    "build_gateway",
    "build_link_keeper",
    "build_outbox",
    "build_smpp_server",
    "connector_decoder",
    "connector_factory",
    "decode_settings",
    "default_rates",
    "ensure_defaults",
    "ensure_demo",
    "new_callback_secret",
    "now",
    "open_store",
    "parse_tariff_csv",
    "restore_database",
]
