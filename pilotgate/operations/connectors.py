"""Connector use cases: add (or reconfigure) a connector whose settings its kind's schema
accepts, enable or disable one, and what the console shows of them. The schemas and the
builders are bootstrap's (`KINDS`), which this layer may not import: the caller hands over
its decoder."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping

from pilotgate.gateway import Gateway
from pilotgate.storage.base import ConnectorInfo, LinkLease

from . import audit

#: (kind, name, settings JSON, mps) → the decoded settings; ConfigError names the setting
#: that is wrong, or the kind nobody knows (`bootstrap.decode_settings`).
Decoder = Callable[[str, str, str, int], object]


async def save(
    gateway: Gateway,
    actor: str,
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
    existing = {info.name: info for info in await gateway.store.connectors()}.get(name)
    stored = dict(options)
    if kind == "relay" and stored.get("callback_url") and not stored.get("callback_token"):
        stored["callback_token"] = _relay_token(existing)
    text = json.dumps(stored, default=str)
    decode(kind, name, text, mps)
    await gateway.store.save_connector(name, kind, text, mps)
    # The config file's tables are written over the database at every start: only a real
    # change is worth an entry. The detail names the settings, never their values (passwords).
    if existing is None or (existing.kind, existing.settings, existing.mps) != (kind, text, mps):
        keys = ",".join(sorted(stored)) or "-"
        detail = f"{name} {kind} mps={mps or 'unlimited'} settings: {keys}"
        await audit.record(gateway, actor, "connector.save", None, detail)
    return stored


def _relay_token(existing: ConnectorInfo | None) -> str:
    """The relay's callback token: the one it has (reconfiguring keeps the URL the upstream
    already calls), else a new random one."""
    if existing is not None and existing.kind == "relay":
        token = json.loads(existing.settings or "{}").get("callback_token")
        if isinstance(token, str) and token:
            return token
    return secrets.token_urlsafe(24)


async def set_enabled(gateway: Gateway, actor: str, name: str, enabled: bool) -> None:
    """Let a connector take messages, or stop handing it any (its routes fail over to the
    next one). Raises NotFoundError for an unknown connector."""
    await gateway.store.set_connector_enabled(name, enabled)
    action = "connector.enable" if enabled else "connector.disable"
    await audit.record(gateway, actor, action, None, name)


# queries -------------------------------------------------------------------------------------
async def listing(gateway: Gateway) -> list[ConnectorInfo]:
    return await gateway.store.connectors()


async def leases(gateway: Gateway) -> dict[str, LinkLease]:
    """Who holds each long-lived link, by connector name (a lease may have run out)."""
    return {lease.name: lease for lease in await gateway.store.link_leases()}
