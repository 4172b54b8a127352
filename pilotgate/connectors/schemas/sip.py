"""The settings of connector kind `sip`: a SIP trunk for voice and flash calls (docs/sip.md)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pilotgate.errors import ConfigError

from .base import SettingsSchema, port_problem, positive


@dataclass(frozen=True, slots=True, kw_only=True)
class SipSettings(SettingsSchema):
    """Example `settings` JSON (only host is required)::

    {"host": "sip.trunk.example", "port": 5060, "transport": "udp",
     "username": "acme", "password": "…", "caller_pool": "7495000", "max_calls": 10}
    """

    FIXED = frozenset({"name", "pool_numbers"})

    name: str
    host: str
    port: int = 5060
    transport: Literal["udp", "tcp"] = "udp"
    username: str = ""  #: digest credentials, used when the trunk asks (401/407)
    password: str = ""
    domain: str = ""  #: host part of the URIs; default host[:port]
    caller_id: str = "pilotgate"  #: From user of voice calls
    #: Flash calls: digits (caller = these + the code) or a file of numbers, one a line (a
    #: number ending with the code is used).
    caller_pool: str = ""
    max_calls: int = 4  #: calls at once; more wait in the queue
    answer_timeout: float = 30.0  #: seconds a voice call may ring before it is cancelled
    invite_timeout: float = 8.0  #: seconds without any response before the call is given up
    flash_timeout: float = 5.0  #: seconds a flash call waits for ringing before cancelling
    local_host: str = ""  #: our address in Via/Contact/SDP; default the one towards host
    local_port: int = 0  #: our SIP port (0 = any free one)
    rtp_port_min: int = 20000
    rtp_port_max: int = 20999
    register: bool = False  #: REGISTER with the trunk (and take calls only once registered)
    register_expires: int = 300
    max_seconds: float = 90.0  #: longest speech; longer texts end -2 with 221
    cache_dir: str = "./data/speech"  #: rendered speech, one file per text and voice
    tts_program: str = "espeak-ng"
    retry_after: float = 1.0  #: seconds before a message refused for lack of lines is retried
    pool_numbers: tuple[str, ...] = ()  #: read from caller_pool when it names a file

    def problem(self) -> str:
        ports = port_problem(self, "port") or port_problem(self, "local_port", allow_zero=True)
        if ports:
            return ports
        if not 1024 <= self.rtp_port_min <= self.rtp_port_max < 65536:
            return "settings 'rtp_port_min'..'rtp_port_max' must be a range within 1024-65535"
        if self.max_calls < 1:
            return "setting 'max_calls' must be at least 1"
        if self.register_expires < 60:
            return "setting 'register_expires' must be at least 60"
        return positive(
            self, "answer_timeout", "invite_timeout", "flash_timeout", "max_seconds", "retry_after"
        )

    def finished(self) -> SipSettings:
        if self.caller_pool and not self.caller_pool.isdigit():
            return _with_pool_file(self)
        return self

    @property
    def uri_domain(self) -> str:
        if self.domain:
            return self.domain
        return self.host if self.port == 5060 else f"{self.host}:{self.port}"


def _with_pool_file(settings: SipSettings) -> SipSettings:
    path = Path(settings.caller_pool)
    try:
        lines = path.read_text(encoding="utf-8").split()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"connector {settings.name}: setting 'caller_pool': {exc}") from exc
    numbers = tuple(line.lstrip("+") for line in lines if not line.startswith("#"))
    if not numbers or not all(n.isdigit() for n in numbers):
        raise ConfigError(
            f"connector {settings.name}: setting 'caller_pool': {path} must list numbers, "
            "one a line"
        )
    return dataclasses.replace(settings, pool_numbers=numbers)


def flash_caller(settings: SipSettings, code: str) -> str | None:
    """The caller number of a flash call showing `code`: the pool's prefix followed by the
    code, or the first pool number ending with it; None when the pool cannot show it."""
    if settings.pool_numbers:
        return next((n for n in settings.pool_numbers if n.endswith(code)), None)
    if settings.caller_pool:
        return settings.caller_pool + code
    return None
