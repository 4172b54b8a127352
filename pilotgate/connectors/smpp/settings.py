"""The settings of one SMPP link, read from the connector row's JSON `settings`."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import Any

from pilotgate.domain.receipts import IdFormat
from pilotgate.domain.sms_encoding import Concat
from pilotgate.errors import ConfigError


@dataclass(frozen=True, slots=True, kw_only=True)
class SmppSettings:
    """One link to one SMSC. Example `settings` JSON (only host, port, system_id and
    password are required)::

        {"host": "smsc.example.net", "port": 2775, "system_id": "acme", "password": "s3cret",
         "bind": "trx", "window": 10, "concat": "udh", "resp_id": "hex", "receipt_id": "dec"}
    """

    name: str
    host: str
    port: int
    system_id: str
    password: str
    system_type: str = ""
    bind: str = "trx"  #: "trx" (one bind_transceiver) or "tx+rx" (a transmitter + receiver pair)
    window: int = 10  #: submit_sm awaiting their response at once
    mps: int = 0  #: messages (PDUs) per second on this link; 0 = no limit
    concat: Concat = Concat.UDH
    gsm_packed: bool = False  #: pack GSM-7 septets (some SMSCs want it, most do not)
    source_ton_alpha: int = 5
    source_npi_alpha: int = 0
    source_ton_numeric: int = 1
    source_npi_numeric: int = 1
    dest_ton: int = 1
    dest_npi: int = 1
    resp_id: IdFormat = IdFormat.TEXT  #: how submit_sm_resp message_id is written
    receipt_id: IdFormat = IdFormat.TEXT  #: how receipts write it (TLV or `id:`)
    enquire_link: float = 30.0  #: seconds between keep-alives
    reconnect_base: float = 1.0  #: first reconnect delay; doubles up to reconnect_cap
    reconnect_cap: float = 60.0
    response_timeout: float = 10.0  #: a request without its response by then failed
    throttle_pause: float = 1.0  #: how long ESME_RTHROTTLED / ESME_RMSGQFUL pause the link
    throttle_retries: int = 30  #: then the message goes back to the queue
    validity: int = 1440  #: minutes, for messages without ttl; 0 leaves it to the SMSC
    drain_timeout: float = 10.0  #: how long stop() waits for outstanding responses
    connect_timeout: float = 10.0

    @classmethod
    def from_json(cls, name: str, settings: str, mps: int) -> SmppSettings:
        """Build from the connector row; ConfigError names the key that is wrong."""
        try:
            raw: Any = json.loads(settings or "{}")
        except ValueError as error:
            raise ConfigError(f"connector {name}: settings are not JSON: {error}") from error
        if not isinstance(raw, dict):
            raise ConfigError(f"connector {name}: settings must be a JSON object")
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {"name": name, "mps": mps}
        for key, value in raw.items():
            if key not in known or key == "name":
                raise ConfigError(f"connector {name}: unknown setting {key!r}")
            values[key] = value
        for key in ("host", "port", "system_id", "password"):
            if key not in values:
                raise ConfigError(f"connector {name}: setting {key!r} is missing")
        try:
            values["concat"] = Concat(values.get("concat", Concat.UDH))
            values["resp_id"] = IdFormat(values.get("resp_id", IdFormat.TEXT))
            values["receipt_id"] = IdFormat(values.get("receipt_id", IdFormat.TEXT))
            made = cls(**values)
        except (TypeError, ValueError) as error:
            raise ConfigError(f"connector {name}: {error}") from error
        made.check()
        return made

    def check(self) -> None:
        for key, kind in (("port", int), ("window", int), ("mps", int)):
            if not isinstance(getattr(self, key), kind) or isinstance(getattr(self, key), bool):
                raise ConfigError(f"connector {self.name}: {key!r} must be an integer")
        if self.bind not in ("trx", "tx+rx"):
            raise ConfigError(f"connector {self.name}: 'bind' must be 'trx' or 'tx+rx'")
        if self.window < 1:
            raise ConfigError(f"connector {self.name}: 'window' must be at least 1")
