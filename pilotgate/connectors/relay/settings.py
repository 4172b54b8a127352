"""The relay connector's settings (the connector row's JSON), checked once when it is built."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pilotgate.domain.channels import Channel
from pilotgate.domain.checks import RESULT_FIELDS
from pilotgate.errors import ConfigError

_CHECK_CHANNELS = frozenset({Channel.HLR.value, Channel.PING.value})


@dataclass(frozen=True, slots=True, kw_only=True)
class RelaySettings:
    """Example `settings` JSON (url and apikey required)::

    {"url": "https://smspilot.ru", "apikey": "…", "sender_map": {"SHOP": "SHOP2"},
     "poll_interval": 2, "timeout": 10,
     "callback_url": "https://gw.example.com", "callback_token": "…"}

    `callback_url` is this gateway's own base URL as the upstream reaches it; with it, the
    upstream calls `callback_url/relay/NAME/callback_token` with each final status.
    """

    name: str
    url: str
    apikey: str
    sender_map: Mapping[str, str] = field(default_factory=dict)
    poll_interval: float = 2.0  #: seconds between `check` rounds
    timeout: float = 10.0  #: seconds for one upstream request
    concurrency: int = 8  #: `send` requests at once
    unhealthy_after: int = 2  #: failed requests in a row that make the link unbound
    retry_after: float = 5.0  #: seconds before a temporarily refused message is tried again
    callback_url: str = ""  #: our base URL for the upstream's status callbacks ("" = poll only)
    callback_token: str = ""  #: the secret path segment those callbacks must carry
    #: Fetch the upstream account's inbound SMS (`inbound=new`) every round: replies to the
    #: 2WAY messages we relayed, linked by the upstream, and SMS to numbers we own there.
    fetch_inbound: bool = False

    @classmethod
    def from_json(cls, name: str, settings: str) -> RelaySettings:
        """Build from the connector row; ConfigError names what is wrong."""
        try:
            raw: Any = json.loads(settings or "{}")
        except ValueError as exc:
            raise ConfigError(f"connector {name}: settings are not JSON: {exc}") from exc
        if not isinstance(raw, dict):
            raise ConfigError(f"connector {name}: settings must be a JSON object")
        for key in ("url", "apikey"):
            if not isinstance(raw.get(key), str) or not raw[key]:
                raise ConfigError(f"connector {name}: setting {key!r} is missing")
        if not raw["url"].startswith(("http://", "https://")):
            raise ConfigError(f"connector {name}: 'url' must be an http(s) URL")
        sender_map = raw.get("sender_map", {})
        if not isinstance(sender_map, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in sender_map.items()
        ):
            raise ConfigError(f"connector {name}: 'sender_map' must map names to names")
        numbers: dict[str, type[float] | type[int]] = {
            "poll_interval": float,
            "timeout": float,
            "retry_after": float,
            "concurrency": int,
            "unhealthy_after": int,
        }
        callback, token = _callback_settings(name, raw)
        fetch_inbound = raw.get("fetch_inbound", False)
        if not isinstance(fetch_inbound, bool):
            raise ConfigError(f"connector {name}: 'fetch_inbound' is true or false")
        unknown = set(raw) - {"url", "apikey", "sender_map", "callback_url", "callback_token"}
        unknown -= {"fetch_inbound", *numbers}
        if unknown:
            raise ConfigError(f"connector {name}: unknown setting {sorted(unknown)[0]!r}")
        try:
            values: dict[str, Any] = {k: t(raw[k]) for k, t in numbers.items() if k in raw}
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"connector {name}: {exc}") from exc
        if any(value <= 0 for value in values.values()):
            raise ConfigError(f"connector {name}: numbers must be positive")
        return cls(
            name=name,
            url=raw["url"].rstrip("/"),
            apikey=raw["apikey"],
            sender_map=dict(sender_map),
            callback_url=callback.rstrip("/"),
            callback_token=token,
            fetch_inbound=fetch_inbound,
            **values,
        )

    def callback_for(self, channel: str) -> str:
        """The callback URL the upstream calls with the final status of a message of
        `channel` ('' without `callback_url`); number checks ask for their result fields."""
        if not self.callback_url:
            return ""
        url = f"{self.callback_url}/relay/{self.name}/{self.callback_token}"
        if channel in _CHECK_CHANNELS:
            url += "?fields=" + ",".join(RESULT_FIELDS)
        return url


def _callback_settings(name: str, raw: Mapping[str, Any]) -> tuple[str, str]:
    """`callback_url` and `callback_token`, checked: the token is a path segment and a
    secret, so it must be URL-safe and long enough not to be guessed."""
    callback, token = raw.get("callback_url", ""), raw.get("callback_token", "")
    if not isinstance(callback, str) or not isinstance(token, str):
        raise ConfigError(f"connector {name}: 'callback_url', 'callback_token' are strings")
    if not callback:
        return "", ""
    if not callback.startswith(("http://", "https://")):
        raise ConfigError(f"connector {name}: 'callback_url' must be an http(s) URL")
    if len(token) < 16 or not re.fullmatch(r"[A-Za-z0-9_-]+", token):
        raise ConfigError(f"connector {name}: 'callback_token' must be 16+ URL-safe characters")
    return callback, token
