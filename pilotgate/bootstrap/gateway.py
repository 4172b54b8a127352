"""The gateway built from the settings: its policy, its password checker, its held alerts;
the clock and the built-in names every other builder shares."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from pilotgate.config import Settings
from pilotgate.domain import money, protections, pumping
from pilotgate.domain.numbering import Numbering
from pilotgate.errors import ConfigError
from pilotgate.gateway import Gateway, GatewayPolicy, Passwords, PasswordSettings
from pilotgate.pipeline.callback_http import AddressPolicy
from pilotgate.pipeline.held_alerts import HeldAlerts
from pilotgate.storage.roles import Store

log = logging.getLogger("pilotgate")

#: The published test key of contract §15: its account's messages always go to the emulator.
DEMO_KEY = "XXXXXXXXXXXXYYYYYYYYYYYYZZZZZZZZXXXXXXXXXXXXYYYYYYYYYYYYZZZZZZZZ"
DEMO_EMAIL = "demo@pilotgate.local"
#: The built-in connector that test=1 and the demo account always use.
EMULATOR = "emulator"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - the published demo account, by design


def now() -> datetime:
    return datetime.now(UTC)


def build_address_policy(settings: Settings) -> AddressPolicy:
    try:
        return AddressPolicy(settings.callback_allow_networks)
    except ValueError as exc:
        raise ConfigError(f"callback_allow_networks: {exc}") from exc


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


#: The cheapest argon2id a setting may ask for: OWASP's smallest recommended parameters.
HASH_FLOOR = {
    "password_hash_memory_kib": 19456,
    "password_hash_passes": 2,
    "password_hash_lanes": 1,
}


def _check_hash_cost(settings: Settings) -> None:
    for name, floor in HASH_FLOOR.items():
        if getattr(settings, name) < floor:
            raise ConfigError(f"setting {name!r} must be at least {floor}")


def build_gateway(settings: Settings, store: Store, plan: Numbering | None = None) -> Gateway:
    """`plan`: a numbering plan loaded before this process was forked, to start from."""
    _check_hash_cost(settings)
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
                hash_memory_kib=settings.password_hash_memory_kib,
                hash_passes=settings.password_hash_passes,
                hash_lanes=settings.password_hash_lanes,
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
