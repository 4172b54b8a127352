"""Connector use cases: add (or reconfigure) a connector whose settings its kind's schema
accepts, enable or disable one. The schemas and the builders are bootstrap's (`KINDS`),
which this layer may not import: the caller hands over its decoder."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping

from pilotgate.storage.roles import LinkStore

#: (kind, name, settings JSON, mps) → the decoded settings; ConfigError names the setting
#: that is wrong, or the kind nobody knows (`bootstrap.decode_settings`).
Decoder = Callable[[str, str, str, int], object]


async def save(
    store: LinkStore,
    decode: Decoder,
    *,
    kind: str,
    name: str,
    options: Mapping[str, object],
    mps: int,
) -> dict[str, object]:
    """Check `options` against the kind's schema, then store them as given (defaults stay
    the schema's, so a later release's better default reaches old connectors). Returns what
    was stored: a relay with a callback URL and no token gets one."""
    stored = dict(options)
    if kind == "relay" and stored.get("callback_url") and not stored.get("callback_token"):
        stored["callback_token"] = await _relay_token(store, name)
    text = json.dumps(stored, default=str)
    decode(kind, name, text, mps)
    await store.save_connector(name, kind, text, mps)
    return stored


async def _relay_token(store: LinkStore, name: str) -> str:
    """The relay's callback token: the one it has (reconfiguring keeps the URL the upstream
    already calls), else a new random one."""
    for info in await store.connectors():
        if info.name == name and info.kind == "relay":
            token = json.loads(info.settings or "{}").get("callback_token")
            if isinstance(token, str) and token:
                return token
    return secrets.token_urlsafe(24)


async def set_enabled(store: LinkStore, name: str, enabled: bool) -> None:
    """Let a connector take messages, or stop handing it any (its routes fail over to the
    next one). Raises NotFoundError for an unknown connector."""
    await store.set_connector_enabled(name, enabled)
