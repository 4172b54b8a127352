"""The fronts beside the HTTP API: the SMPP server for customers' systems and the web
cabinet and console."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from pilotgate.api.proxies import parse_networks
from pilotgate.api.smpp import DeliverySettings, SmppServer, SmppServerSettings, tls as smpp_tls
from pilotgate.api.smpp.limits import LimitSettings
from pilotgate.bootstrap.gateway import now
from pilotgate.config import Settings
from pilotgate.gateway import Gateway
from pilotgate.pipeline.links import LinkKeeper

if TYPE_CHECKING:
    from pilotgate.api.dashboard import DashboardApp


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
