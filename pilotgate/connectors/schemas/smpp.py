"""The settings of connector kind `smpp`: one link to one SMSC (docs/smpp.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pilotgate.domain.receipts import IdFormat
from pilotgate.domain.sms_encoding import Concat

from .base import SettingsSchema, port_problem, positive


@dataclass(frozen=True, slots=True, kw_only=True)
class SmppSettings(SettingsSchema):
    """One link to one SMSC. Example `settings` JSON (only host, port, system_id and
    password are required)::

        {"host": "smsc.example.net", "port": 2775, "system_id": "acme", "password": "s3cret",
         "bind": "trx", "window": 10, "concat": "udh", "resp_id": "hex", "receipt_id": "dec"}
    """

    FIXED = frozenset({"name", "mps"})
    MAY_BE_EMPTY = frozenset({"password"})

    name: str
    host: str
    port: int
    system_id: str
    password: str
    system_type: str = ""
    #: "trx" (one bind_transceiver) or "tx+rx" (a transmitter + receiver pair)
    bind: Literal["trx", "tx+rx"] = "trx"
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

    def problem(self) -> str:
        return (
            port_problem(self, "port")
            or ("" if self.window >= 1 else "setting 'window' must be at least 1")
            or ("" if self.mps >= 0 else "mps must be 0 (no limit) or more")
            or _byte_problem(self)
            or positive(self, *_SECONDS)
            or ("" if self.validity >= 0 else "setting 'validity' must be 0 or more")
            or (
                "" if self.throttle_retries >= 0 else "setting 'throttle_retries' must be 0 or more"
            )
        )


#: Timing settings, all in seconds and above zero.
_SECONDS = (
    "enquire_link", "reconnect_base", "reconnect_cap", "response_timeout", "throttle_pause",
    "drain_timeout", "connect_timeout",
)  # fmt: skip
_BYTES = (
    "source_ton_alpha", "source_npi_alpha", "source_ton_numeric", "source_npi_numeric",
    "dest_ton", "dest_npi",
)  # fmt: skip


def _at_least_zero(settings: SmppSettings, *keys: str) -> str:
    for key in keys:
        if getattr(settings, key) < 0:
            return f"setting {key!r} must be 0 or more"
    return ""


def _byte_problem(settings: SmppSettings) -> str:
    for key in _BYTES:
        if not 0 <= getattr(settings, key) <= 255:
            return f"setting {key!r} must be 0-255"
    return ""
