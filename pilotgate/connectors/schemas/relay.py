"""The settings of connector kind `relay`: another SMSPILOT-compatible API as the next hop."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from pilotgate.domain.channels import Channel
from pilotgate.domain.checks import RESULT_FIELDS

from .base import SettingsSchema, positive

_CHECK_CHANNELS = frozenset({Channel.HLR.value, Channel.PING.value})


@dataclass(frozen=True, slots=True, kw_only=True)
class RelaySettings(SettingsSchema):
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

    def problem(self) -> str:
        if not self.url.startswith(("http://", "https://")):
            return "setting 'url' must be an http(s) URL"
        return positive(
            self, "poll_interval", "timeout", "retry_after", "concurrency", "unhealthy_after"
        ) or _callback_problem(self)

    def finished(self) -> RelaySettings:
        return dataclasses.replace(
            self, url=self.url.rstrip("/"), callback_url=self.callback_url.rstrip("/")
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


def _callback_problem(settings: RelaySettings) -> str:
    """`callback_url` and `callback_token`, checked: the token is a path segment and a
    secret, so it must be URL-safe and long enough not to be guessed."""
    if not settings.callback_url:
        return ""
    if not settings.callback_url.startswith(("http://", "https://")):
        return "setting 'callback_url' must be an http(s) URL"
    token = settings.callback_token
    if len(token) < 16 or not re.fullmatch(r"[A-Za-z0-9_-]+", token):
        return "setting 'callback_token' must be 16+ URL-safe characters"
    return ""
