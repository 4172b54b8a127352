"""The connector interface. A connector takes a batch of claimed messages and says, for
each, that it took it (with its own id for it) and, when it already knows, the final outcome
and when it applies. Connectors never touch storage: the pipeline records what they say."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from pilotgate.domain.messages import Message, Status


@dataclass(frozen=True, slots=True, kw_only=True)
class Accepted:
    server_id: int
    remote_id: str
    outcome_status: Status | None = None  # None: a receipt will tell later
    outcome_error: int = 0
    outcome_at: datetime | None = None


class Connector(Protocol):
    name: str

    async def submit(self, messages: Sequence[Message], now: datetime) -> list[Accepted]:
        """Hand `messages` over. Raises ConnectorError when none could be taken."""
