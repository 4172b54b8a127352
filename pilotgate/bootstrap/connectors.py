"""The connector kinds (`KINDS`, the registry from kind to settings schema and builder) and
the factory the outbox's pool makes each configured connector with."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from pilotgate.bootstrap.gateway import EMULATOR, build_address_policy, log
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
from pilotgate.errors import ConfigError
from pilotgate.pipeline.connector_pool import ConnectorFactory
from pilotgate.storage.base import ConnectorInfo

S = TypeVar("S", bound=SettingsSchema)


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
