"""A SIP trunk connector's settings (the connector row's JSON), checked once at start."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from pilotgate.errors import ConfigError

#: Setting → type; every one optional except host.
_TYPES: dict[str, type] = {
    "host": str, "port": int, "transport": str, "username": str, "password": str,
    "domain": str, "caller_id": str, "caller_pool": str, "max_calls": int,
    "answer_timeout": float, "invite_timeout": float, "flash_timeout": float,
    "local_host": str, "local_port": int, "rtp_port_min": int, "rtp_port_max": int,
    "register": bool, "register_expires": int, "max_seconds": float, "cache_dir": str,
    "tts_program": str, "retry_after": float,
}  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class SipSettings:
    """Example `settings` JSON (only host is required)::

    {"host": "sip.trunk.example", "port": 5060, "transport": "udp",
     "username": "acme", "password": "…", "caller_pool": "7495000", "max_calls": 10}
    """

    name: str
    host: str
    port: int = 5060
    transport: str = "udp"  #: "udp" or "tcp"
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

    @classmethod
    def from_json(cls, name: str, settings: str, **defaults: Any) -> SipSettings:
        """Build from the connector row (`defaults` from the gateway's own settings, e.g.
        max_seconds and cache_dir); ConfigError names what is wrong."""
        try:
            raw: Any = json.loads(settings or "{}")
        except ValueError as exc:
            raise ConfigError(f"connector {name}: settings are not JSON: {exc}") from exc
        if not isinstance(raw, dict):
            raise ConfigError(f"connector {name}: settings must be a JSON object")
        unknown = set(raw) - set(_TYPES)
        if unknown:
            raise ConfigError(f"connector {name}: unknown setting {sorted(unknown)[0]!r}")
        values: dict[str, Any] = {k: v for k, v in defaults.items() if k in _TYPES}
        for key, value in raw.items():
            kind = _TYPES[key]
            if isinstance(value, str) and kind is not str:
                value = _from_text(value, kind)  # a config file's [[connector]] values
            if kind is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise ConfigError(f"connector {name}: {key!r} must be a {kind.__name__}")
            values[key] = value
        if not values.get("host"):
            raise ConfigError(f"connector {name}: setting 'host' is missing")
        made = cls(name=name, **values)
        made._check()
        if made.caller_pool and not made.caller_pool.isdigit():
            return _with_pool_file(made)
        return made

    def _check(self) -> None:
        problem = ""
        if self.transport not in ("udp", "tcp"):
            problem = "'transport' must be udp or tcp"
        elif not 0 < self.port < 65536 or not 0 <= self.local_port < 65536:
            problem = "ports must be 1-65535"
        elif not 1024 <= self.rtp_port_min <= self.rtp_port_max < 65536:
            problem = "'rtp_port_min'..'rtp_port_max' must be a range within 1024-65535"
        elif self.max_calls < 1 or self.register_expires < 60:
            problem = "'max_calls' must be at least 1 and 'register_expires' 60"
        elif min(self.answer_timeout, self.invite_timeout, self.flash_timeout) <= 0:
            problem = "timeouts must be positive"
        elif self.max_seconds <= 0 or self.retry_after <= 0:
            problem = "'max_seconds' and 'retry_after' must be positive"
        if problem:
            raise ConfigError(f"connector {self.name}: {problem}")

    @property
    def uri_domain(self) -> str:
        if self.domain:
            return self.domain
        return self.host if self.port == 5060 else f"{self.host}:{self.port}"


def _from_text(text: str, kind: type) -> object:
    """ "5060" → 5060, "true" → True; a value that does not convert stays text (refused)."""
    try:
        if kind is bool:
            return {"true": True, "false": False}.get(text.strip().lower(), text)
        return kind(text)
    except ValueError:
        return text


def _with_pool_file(settings: SipSettings) -> SipSettings:
    path = Path(settings.caller_pool)
    try:
        lines = path.read_text(encoding="utf-8").split()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"connector {settings.name}: caller_pool: {exc}") from exc
    numbers = tuple(line.lstrip("+") for line in lines if not line.startswith("#"))
    if not numbers or not all(n.isdigit() for n in numbers):
        raise ConfigError(
            f"connector {settings.name}: caller_pool {path} must list numbers, one a line"
        )
    return SipSettings(
        **{f.name: getattr(settings, f.name) for f in fields(settings) if f.name != "pool_numbers"},
        pool_numbers=numbers,
    )


def flash_caller(settings: SipSettings, code: str) -> str | None:
    """The caller number of a flash call showing `code`: the pool's prefix followed by the
    code, or the first pool number ending with it; None when the pool cannot show it."""
    if settings.pool_numbers:
        return next((n for n in settings.pool_numbers if n.endswith(code)), None)
    if settings.caller_pool:
        return settings.caller_pool + code
    return None
