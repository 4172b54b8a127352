"""Each connector kind's settings schema (connectors/schemas/): good settings decode to
typed values with their defaults, bad ones are refused with one message naming the
connector and the setting; and every kind bootstrap knows has a schema and a builder."""

from __future__ import annotations

import dataclasses
import json

import pytest

from pilotgate import bootstrap, config
from pilotgate.connectors.schemas import (
    EmulatorSettings,
    HlrSettings,
    RelaySettings,
    SettingsSchema,
    SipSettings,
    SmppSettings,
)
from pilotgate.domain.sms_encoding import Concat
from pilotgate.errors import ConfigError
from pilotgate.storage.base import ConnectorInfo

SMPP = {"host": "h", "port": 2775, "system_id": "s", "password": "p"}
RELAY = {"url": "https://up.example/", "apikey": "k"}
SIP = {"host": "trunk.example"}


def test_good_settings_decode_to_typed_values_with_defaults():
    smpp = SmppSettings.decode("op", {**SMPP, "concat": "sar", "enquire_link": 5}, mps=7)
    assert (smpp.concat, smpp.enquire_link, smpp.window, smpp.mps) == (Concat.SAR, 5.0, 10, 7)
    relay = RelaySettings.decode("up", {**RELAY, "sender_map": {"A": "B"}})
    assert (relay.url, dict(relay.sender_map), relay.poll_interval) == (
        "https://up.example",
        {"A": "B"},
        2.0,
    )
    sip = SipSettings.decode("trunk", {**SIP, "transport": "tcp"}, max_seconds=30.0)
    assert (sip.transport, sip.port, sip.max_seconds) == ("tcp", 5060, 30.0)
    # The gateway's defaults (context) apply unless the settings say otherwise.
    assert EmulatorSettings.decode("e", {}, delay=0.5).delay == 0.5
    assert EmulatorSettings.decode("e", {"delay": 2}, delay=0.5).delay == 2.0
    hlr = HlrSettings.decode("home", {"unserved_suffixes": 0, "offline_suffixes": "8,9"})
    assert (hlr.unserved_suffixes, hlr.offline_suffixes, hlr.delay) == ("0", "8,9", 1.0)


@pytest.mark.parametrize(
    ("schema", "raw", "message"),
    [
        (SmppSettings, {**SMPP, "port": 0}, "connector x: setting 'port' must be 1-65535"),
        (SmppSettings, {**SMPP, "port": "2775"}, "connector x: setting 'port' must be an integer"),
        (SmppSettings, {"host": "h", "port": 1}, "connector x: setting 'system_id' is missing"),
        (SmppSettings, {**SMPP, "host": ""}, "connector x: setting 'host' is missing"),
        (SmppSettings, {**SMPP, "bind": "rx"}, "connector x: setting 'bind' must be one of trx"),
        (SmppSettings, {**SMPP, "concat": "x"}, "setting 'concat' must be one of udh, udh16"),
        (SmppSettings, {**SMPP, "dest_ton": 300}, "setting 'dest_ton' must be 0-255"),
        (SmppSettings, {**SMPP, "enquire_link": 0}, "setting 'enquire_link' must be positive"),
        (SmppSettings, {**SMPP, "mps": 5}, "connector x: unknown setting 'mps'"),
        (SmppSettings, {**SMPP, "gsm_packed": "yes"}, "'gsm_packed' must be true or false"),
        (RelaySettings, {"apikey": "k"}, "connector x: setting 'url' is missing"),
        (RelaySettings, {**RELAY, "url": "ftp://h"}, "setting 'url' must be an http(s) URL"),
        (RelaySettings, {**RELAY, "timeout": 0}, "setting 'timeout' must be positive"),
        (RelaySettings, {**RELAY, "sender_map": ["A"]}, "'sender_map' must be a table"),
        (RelaySettings, {**RELAY, "colour": "red"}, "connector x: unknown setting 'colour'"),
        (SipSettings, {}, "connector x: setting 'host' is missing"),
        (SipSettings, {**SIP, "transport": "sctp"}, "'transport' must be one of udp, tcp"),
        (SipSettings, {**SIP, "local_port": 70000}, "setting 'local_port' must be 0-65535"),
        (SipSettings, {**SIP, "max_calls": "many"}, "setting 'max_calls' must be an integer"),
        (SipSettings, {**SIP, "pool_numbers": ["1"]}, "unknown setting 'pool_numbers'"),
        (EmulatorSettings, {"delay": -1}, "connector x: setting 'delay' must be 0 or more"),
        (EmulatorSettings, {"fail_suffixes": "x"}, "setting 'fail_suffixes' must be digits"),
        (HlrSettings, {"offline_suffixes": "9a"}, "setting 'offline_suffixes' must be digits"),
        (HlrSettings, {"delay": "soon"}, "connector x: setting 'delay' must be a number"),
    ],
)
def test_bad_settings_are_refused_naming_the_setting(
    schema: type[SettingsSchema], raw: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        schema.decode("x", raw)
    assert message in str(refused.value)


@pytest.mark.parametrize(("text", "message"), [("{", "not JSON"), ("[1]", "a JSON object")])
def test_settings_json_must_be_an_object(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=f"connector x: settings .*{message}"):
        HlrSettings.from_json("x", text)


def test_text_settings_are_the_ones_declared_as_text():
    assert SipSettings.takes_text("caller_id") and SmppSettings.takes_text("password")
    assert not SmppSettings.takes_text("window") and not SipSettings.takes_text("nope")


def test_every_kind_has_a_schema_and_a_builder():
    assert set(bootstrap.KINDS) == {"emulator", "smpp", "hlr", "relay", "sip"}
    minimal = {"emulator": {}, "hlr": {}, "smpp": SMPP, "relay": RELAY, "sip": SIP}
    assert set(minimal) == set(bootstrap.KINDS)
    make = bootstrap.connector_factory(config.Settings())
    for kind, entry in bootstrap.KINDS.items():
        assert dataclasses.is_dataclass(entry.schema)
        info = ConnectorInfo(
            name=f"my-{kind}",
            kind=kind,
            settings=json.dumps(minimal[kind]),
            enabled=True,
            mps=0,
            handed=0,
            heartbeat=None,
        )
        made = make(info)
        assert made is not None and made.name == f"my-{kind}", kind


def test_a_connector_that_cannot_start_is_not_built_and_an_unknown_kind_is_refused():
    settings = config.Settings()
    info = ConnectorInfo(
        name="op", kind="smpp", settings="{}", enabled=True, mps=0, handed=0, heartbeat=None
    )
    assert bootstrap.connector_factory(settings)(info) is None
    with pytest.raises(ConfigError, match="connector z: unknown kind 'zz'"):
        bootstrap.decode_settings(settings, "zz", "z", "{}", 0)
