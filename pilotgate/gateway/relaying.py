"""An upstream gateway's status callbacks for our relay connectors (contract §13.6): the relay
gives each message it forwards the callback `/relay/NAME/TOKEN`; the upstream calls it with
the message's status, and a final one settles our message like a receipt would. Polling
`check` stays the fallback (connectors/relay.py).
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Mapping

from pilotgate.domain import upstream
from pilotgate.domain.receipts import Receipt
from pilotgate.pipeline import metrics

from .core import GatewayCore

log = logging.getLogger("pilotgate.relay")


class Relaying(GatewayCore):
    async def relay_report(self, name: str, token: str, fields: Mapping[str, str]) -> bool:
        """Record an upstream's status callback for relay connector `name`. False (nothing
        recorded) unless `name` is a relay connector whose callback token is `token`,
        compared in constant time. A status that is not final, or a report that makes no
        sense, is acknowledged and ignored: the upstream must not send it again forever."""
        expected = ""
        for info in await self.store.connectors():
            if info.name == name and info.kind == "relay":
                expected = _token(info.settings)
        if not expected or not hmac.compare_digest(expected.encode(), token.encode()):
            return False
        server_id = fields.get("server_id", "")
        try:
            outcome = upstream.final_outcome(
                upstream.to_int(fields.get("status")), upstream.to_int(fields.get("error"))
            )
        except ValueError:
            outcome = None
            log.warning("relay %s: a status callback that is not API-1: %s", name, dict(fields))
        if outcome is None or not (server_id.isascii() and server_id.isdigit()):
            return True
        receipt = Receipt(
            remote_id=server_id,
            status=outcome[0],
            error=outcome[1],
            details=upstream.result_details(fields),
        )
        matched = await self.store.record_receipts(name, [receipt], self.clock())
        metrics.RECEIPTS.labels(name, "matched" if matched else "early").inc()
        return True


def _token(settings: str) -> str:
    try:
        raw = json.loads(settings or "{}")
    except ValueError:
        return ""
    token = raw.get("callback_token", "") if isinstance(raw, dict) else ""
    return token if isinstance(token, str) and len(token) >= 16 else ""
