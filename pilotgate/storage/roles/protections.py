"""The roles of the protections: idempotency keys, per-account protections, rates, held
messages and retention."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from pilotgate.domain.idempotency import KeptAnswer
from pilotgate.domain.protections import Protections
from pilotgate.domain.rates import Rates

from ..base import (
    HeldBatch,
    Pruned,
    Settled,
)


class IdempotencyStore(Protocol):
    """The answers of keyed submits (the claim itself is `MessageStore.submit`'s)."""

    async def kept_answer(self, account_id: int, key: str, since: datetime) -> KeptAnswer | None:
        """The key's claim made at or after `since`, with its answer once kept."""

    async def keep_answer(
        self, account_id: int, key: str, fingerprint: str, answer: bytes, content_type: str
    ) -> bool:
        """Keep the first answer of the claim with this fingerprint; False when there is no
        such claim without an answer (the request stored nothing, or was answered)."""

    async def purge_idempotency_keys(self, before: datetime, limit: int) -> int:
        """Forget at most `limit` keys claimed before `before`; how many went."""


class ProtectionStore(Protocol):
    """What each account may send: countries, stop words, the CyrLat filter, caps."""

    async def protections(self, account_id: int) -> Protections:
        """The account's settings; the defaults when it has none of its own."""

    async def set_protections(self, account_id: int, protections: Protections) -> None:
        """Replace the account's settings. Raises ConflictError for an unknown account."""

    async def usage(self, account_id: int, period: str, start: datetime) -> int:
        """Messages a capped account sent in the period (`limits.DAY`, `MONTH`) from
        `start`."""

    async def purge_usage(self, before: datetime, limit: int) -> int:
        """Forget at most `limit` counts of periods that started before `before`."""


class RetentionStore(Protocol):
    """Removing history older than the operator's retention (storage/sql/retention.py)."""

    async def prune(self, before: datetime, limit: int) -> Pruned:
        """One batch: at most `limit` final messages, inbound messages and ledger entries
        created before `before` leave (the ledger's into its carried row), each kind in its
        own short transaction. Falsy when nothing was left to remove."""

    async def rotate_partitions(
        self, now: datetime, before: datetime | None, span: int | None = None
    ) -> Pruned:
        """PostgreSQL: make the partition after the current one (of `span` ids, else about
        a day's), and, when `before` is given, drop whole the partitions whose every row is
        older and final (storage/postgres/partitions.py); what left. SQLite: nothing."""


class RateStore(Protocol):
    """Each account's rates (domain/rates.py) and the token buckets that hold them across
    processes."""

    async def rates(self, account_id: int) -> Rates:
        """The account's own rates; the defaults (None) when it has none."""

    async def set_rates(self, account_id: int, rates: Rates) -> None:
        """Replace the account's rates. Raises ConflictError for an unknown account."""

    async def own_send_rates(self) -> dict[int, int]:
        """account id → messages per second, for accounts with their own (0 = no limit)."""

    async def take_api_tokens(
        self, account_id: int, want: int, rps: int, now: datetime
    ) -> tuple[int, int]:
        """Take up to `want` tokens from the account's API bucket (refilled at `rps`):
        how many it gave, and the thousandths of a token left in it."""

    async def take_send_tokens(
        self, wants: Mapping[int, tuple[int, int]], now: datetime
    ) -> dict[int, int]:
        """account id → (messages wanted, its mps) to how many may go now, in one
        transaction; an account given fewer is left out of `claim(shaped=True)` until its
        bucket holds its next share."""


class HeldStore(Protocol):
    """Messages held as suspected SMS pumping (status 4, domain/pumping.py)."""

    async def held_batches(self) -> list[HeldBatch]:
        """Every account's held messages, one batch an account, in account order."""

    async def held_count(self) -> int: ...

    async def release_held(self, account_id: int, message_id: int | None, now: datetime) -> Settled:
        """Charge and queue (0) the account's held messages (or the one `message_id`), all
        in one transaction; their validity starts again. Raises InsufficientFundsError
        (nothing changes) when the balance does not cover them."""

    async def reject_held(
        self, account_id: int, message_id: int | None, error: int, now: datetime
    ) -> Settled:
        """End the account's held messages (or the one) as -2 with `error`, price 0: they
        never were charged, so nothing is refunded and the balance is as before the send."""

    async def purge_velocity(self, before: datetime, limit: int) -> int:
        """Forget at most `limit` velocity counters (and as many remembered numbers) of
        windows that started before `before`; how many rows went."""
