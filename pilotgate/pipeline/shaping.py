"""Messages per second leaving the queue, per account (contract §17.5): shaping, not
refusal. After a claim, each claimed message of an account with a rate needs a token from
the account's bucket in the database (one transaction for the whole batch); the ones that
get none go back to the queue as they were (same due time, same order), and the account is
left out of claims until its bucket holds its next share (`send_next`, domain/rates.py).
So every worker together hands over at most the account's rate, and an account's burst
never fills a claim ahead of other accounts' messages for longer than one round."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from pilotgate.domain import rates as rules
from pilotgate.domain.messages import Message
from pilotgate.storage.roles import RateStore

from . import metrics

#: How long the accounts' own rates are kept before they are read again.
RATES_KEPT = timedelta(seconds=5)


class Shaper:
    """The accounts' messages per second for one outbox worker."""

    def __init__(self, store: RateStore, clock: Callable[[], datetime], default_mps: int) -> None:
        self._store = store
        self._clock = clock
        self._default = default_mps
        self._own: dict[int, int] = {}
        self._read_at: datetime | None = None

    async def refresh(self, now: datetime) -> bool:
        """Read the accounts' own rates when they are old; whether any account is shaped
        (then claims skip paused accounts; else they cost nothing extra)."""
        if self._read_at is None or now - self._read_at >= RATES_KEPT:
            self._own = await self._store.own_send_rates()
            self._read_at = now
        return self._default > 0 or any(mps > 0 for mps in self._own.values())

    def mps(self, account_id: int) -> int:
        return rules.effective(self._own.get(account_id), self._default)

    async def shape(self, claimed: Sequence[Message]) -> tuple[list[Message], list[int]]:
        """The claimed messages that may go now (in claim order), and the server_ids of the
        ones that wait."""
        counts = Counter(m.account_id for m in claimed)
        wants = {
            account: (count, self.mps(account))
            for account, count in counts.items()
            if self.mps(account) > 0
        }
        if not wants:
            return list(claimed), []
        granted = await self._store.take_send_tokens(wants, self._clock())
        going: list[Message] = []
        waiting: list[int] = []
        for message in claimed:
            left = granted.get(message.account_id)
            if left is None:
                going.append(message)
            elif left > 0:
                granted[message.account_id] = left - 1
                going.append(message)
            else:
                waiting.append(message.server_id)
        metrics.SHAPED.inc(len(waiting))
        return going, waiting
