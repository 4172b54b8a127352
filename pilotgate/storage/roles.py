"""The store's roles: what each part of the gateway needs from storage, in domain terms.

A caller depends on the role it uses (the pipeline's callback worker on `CallbackStore`, the
console on `OperatorStore`...); `Store` is all of them, what each database implements once
(storage/sql/ over a dialect's driver). Every method is one transaction; implementations
translate their driver's exceptions into `pilotgate.errors.StorageError` (and its
subclasses) at the driver, once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from pilotgate.domain.accounts import Account, AccountState
from pilotgate.domain.idempotency import KeptAnswer
from pilotgate.domain.limits import SubmitGuard
from pilotgate.domain.messages import Draft, Message
from pilotgate.domain.numbering import PlanRange
from pilotgate.domain.protections import Protections
from pilotgate.domain.rates import Rates
from pilotgate.domain.receipts import Receipt
from pilotgate.domain.replacements import Replacement
from pilotgate.domain.routing import Route
from pilotgate.domain.senders import SenderState
from pilotgate.domain.tariffs import Rate

from .audit import AuditStore
from .base import (
    AccountChanges,
    CallbackJob,
    CallbackResult,
    ConnectorInfo,
    Handover,
    HeldBatch,
    InboundSms,
    LinkLease,
    NewAccount,
    PoolNumber,
    Pruned,
    QueueStats,
    Referral,
    Refusal,
    Sender,
    Settled,
    StopEntry,
    Submitted,
    TariffInfo,
    TwoWayMatch,
)
from .dashboard import DashboardReads, OperatorStore
from .smpp import SmppDeliveryStore, SmppStore


class AccountStore(Protocol):
    """Accounts, their keys and money, sender names and tariffs."""

    async def create_account(self, new: NewAccount, now: datetime) -> Account:
        """Raises ConflictError when the e-mail or key is taken."""

    async def account(self, account_id: int) -> Account | None: ...

    async def account_by_key(self, digest: str) -> Account | None: ...

    async def account_by_email(self, email: str) -> Account | None: ...

    async def accounts(self) -> list[Account]: ...

    async def set_account_state(self, account_id: int, state: AccountState) -> None:
        """Raises NotFoundError for an unknown account."""

    async def update_account(self, account_id: int, changes: AccountChanges) -> Account:
        """Apply `changes`; raises NotFoundError for an unknown account."""

    async def add_api_key(self, account_id: int, digest: str, now: datetime) -> None:
        """Raises ConflictError when the key is taken."""

    async def credit(
        self, account_id: int, amount: int, kind: str, note: str, now: datetime
    ) -> int:
        """Write a ledger row of `amount` kopecks (negative debits) and return the new
        balance. Raises InsufficientFundsError if the balance would go below zero."""

    async def ledger_sum(self, account_id: int) -> int:
        """The sum of the account's ledger rows (equals its balance, always)."""

    async def add_sender(
        self,
        account_id: int,
        name: str,
        description: str,
        callback: str,
        state: SenderState,
        now: datetime,
    ) -> Sender:
        """Raises ConflictError when the account already has that name."""

    async def set_sender_state(self, sender_id: int, state: SenderState) -> Sender:
        """Raises NotFoundError for an unknown sender id."""

    async def senders(self, account_id: int) -> list[Sender]: ...

    async def replace_tariff(self, tariff_id: int, name: str, rates: Sequence[Rate]) -> None:
        """Create or replace the whole tariff with these rates."""

    async def tariff_rates(self, tariff_id: int) -> list[Rate]: ...

    async def tariffs(self) -> list[TariffInfo]: ...


class MessageStore(Protocol):
    """Accepting messages and reading them back for their owner."""

    async def submit(
        self,
        account_id: int,
        drafts: Sequence[Draft],
        now: datetime,
        guard: SubmitGuard | None = None,
    ) -> Submitted:
        """Store the drafts and debit their total price in one transaction. The first
        server_id is the packet id. Raises InsufficientFundsError (nothing stored). With a
        `guard`, in the same transaction: its idempotency key is claimed (a key another
        submit claimed within `idempotency.WINDOW` raises KeyClaimedError) and its messages
        counted against its caps (passing one raises CapReachedError); nothing is stored
        when either refuses."""

    async def messages_by_id(self, account_id: int, ids: Sequence[int]) -> list[Message]:
        """The account's own messages among `ids` (others' ids are simply absent)."""

    async def find_messages(
        self,
        account_id: int,
        *,
        since: datetime | None = None,
        packet_id: int | None = None,
        limit: int = 1000,
        offset: int = 0,
    ) -> list[Message]:
        """The account's messages, newest first, optionally created after `since` or in one
        packet."""

    async def cancel_scheduled(self, account_id: int, server_id: int, now: datetime) -> bool:
        """The account's message `server_id`, if still scheduled (3), becomes -2/604 and its
        price goes back to the balance, in one transaction. False (nothing changed) when it
        is not the account's or no longer scheduled."""

    async def cancel_group(
        self,
        account_id: int,
        now: datetime,
        *,
        packet_id: int | None = None,
        phone: str = "",
        senders: Sequence[str] = (),
    ) -> list[int]:
        """The account's still-scheduled messages of packet `packet_id` (the message of that
        id included), or else those to `phone` from one of `senders`, become -2/604 with
        their prices refunded, all in one transaction. Their ids ([]: none was)."""

    async def replace_scheduled(
        self, account_id: int, server_id: int, price: int, change: Replacement, now: datetime
    ) -> bool:
        """The account's message `server_id`, if still scheduled at `price`, takes `change`
        and the balance pays or gets back the difference, in one transaction. False
        (nothing changed) when it is not, InsufficientFundsError when the balance cannot
        pay the difference (nothing changed)."""


class OutboxStore(Protocol):
    """The pipeline's queue: claims, hand-overs, outcomes, expiry, refusals and receipts."""

    async def release_scheduled(self, now: datetime) -> int:
        """Scheduled messages whose time has come become accepted (3 → 0)."""

    async def claim(
        self,
        owner: str,
        now: datetime,
        lease_until: datetime,
        limit: int,
        only: Sequence[str] | None = None,
        shaped: bool = False,
    ) -> list[Message]:
        """Lease up to `limit` due accepted messages to `owner` and mark them as being handed
        over; with `only`, just messages whose route names one of those connectors (a process
        that does not hold a link leaves its messages to the one that does); `shaped`: not of
        accounts whose send bucket is empty until later (`RateStore.take_send_tokens`).
        Two owners never get the same message. If `owner` dies before recording the
        hand-over (or releasing them), the messages stay in doubt and are never claimed
        again: at most one hand-over per message; `end_unknown_handovers` ends them."""

    async def record_handover(
        self, owner: str, handovers: Sequence[Handover], now: datetime
    ) -> int:
        """0 → 1 for messages `owner` still leases; returns how many moved."""

    async def apply_due_outcomes(self, now: datetime, limit: int) -> int:
        """Handed-over messages whose known outcome is due take their final status."""

    async def release_leases(self, owner: str, ids: Sequence[int] | None = None) -> int:
        """Give back every message `owner` holds and has not handed over (graceful stop, or a
        connector that refused the whole batch), or only those among `ids`: they can be
        claimed again at once."""

    async def expire(self, now: datetime, limit: int) -> int:
        """Messages past their `expires_at` without a final status become -1, error 600;
        not those being handed over (claimed, hand-over not yet recorded): their worker may
        be recording it, else `end_unknown_handovers` ends them."""

    async def end_unknown_handovers(self, lease_before: datetime, now: datetime, limit: int) -> int:
        """Messages in doubt whose lease ran out before `lease_before` (their worker died
        between claim and recorded hand-over) become -1, error 606 (codes.HANDOVER_UNKNOWN),
        still charged: the connector may have sent them. Returns how many."""

    async def refuse(self, owner: str, refusals: Sequence[Refusal], now: datetime) -> int:
        """Apply connectors' refusals of messages `owner` claimed; returns how many applied."""

    async def record_receipts(
        self, connector: str, receipts: Sequence[Receipt], now: datetime
    ) -> int:
        """Apply final part receipts; returns how many matched a part. A receipt for an id no
        hand-over names yet is kept and applied when one does (duplicates change nothing;
        an early receipt's `details` are not kept)."""

    async def pending_parts(self, connector: str, limit: int) -> list[str]:
        """Up to `limit` remote ids of parts `connector` took whose outcome is unknown, of
        messages still handed over (1), oldest message first."""

    async def purge_early_receipts(self, before: datetime) -> int:
        """Forget receipts received before `before` that never matched a message."""


class LinkStore(Protocol):
    """Connectors, routes, our numbers and the leases on links."""

    async def save_connector(
        self, name: str, kind: str, settings: str, mps: int, enabled: bool = True
    ) -> None:
        """Create or replace a connector's configuration (its counters are kept)."""

    async def connectors(self) -> list[ConnectorInfo]: ...

    async def set_connector_enabled(self, name: str, enabled: bool) -> None:
        """Raises NotFoundError for an unknown connector."""

    async def take_tokens(self, name: str, want: int, now: datetime) -> int:
        """How many of `want` messages the connector may take now under its messages-per-
        second limit, taken atomically for all processes."""

    async def count_handover(self, name: str, count: int, now: datetime) -> None:
        """Add to the connector's hand-over counter and heartbeat."""

    async def routes(self) -> list[Route]: ...

    async def save_route(self, route: Route) -> None:
        """Create or replace the route of (prefix, channel)."""

    async def remove_route(self, prefix: str, channel: str, operator: str = "") -> bool: ...

    async def save_number(self, number: str, account_id: int, now: datetime) -> None:
        """Give our number `number` (inbound destination) to an account."""

    async def number_owner(self, number: str) -> int | None: ...

    async def hold_link(self, name: str, owner: str, now: datetime, until: datetime) -> bool:
        """Take or renew the lease on link `name`; False while another owner's lease runs."""

    async def release_link(self, name: str, owner: str) -> None: ...

    async def link_leases(self) -> list[LinkLease]: ...

    async def save_link_state(self, name: str, state: str) -> None:
        """Record what the link's owner sees (JSON), for `connector list`."""


class CallbackStore(Protocol):
    """Callback jobs (the database writes them with the change they report) and what they
    report."""

    async def claim_callbacks(
        self, owner: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[CallbackJob]:
        """Lease due callback jobs. A job waits while an earlier job of the same message (or
        inbound SMS) is still pending, so one message's callbacks go out in status order."""

    async def finish_callbacks(
        self, owner: str, results: Sequence[CallbackResult], now: datetime
    ) -> int:
        """Record delivery attempts of jobs `owner` leases; returns how many were recorded."""

    async def messages_by_ids(self, ids: Sequence[int]) -> list[Message]:
        """Messages by server_id, whatever their account (for the pipeline only)."""

    async def inbound_by_ids(self, ids: Sequence[int]) -> list[InboundSms]:
        """Inbound SMS by id, whatever their account (for the pipeline only)."""

    async def callback_backlog(self, now: datetime) -> tuple[int, int]:
        """(pending jobs, pending jobs already due)."""

    async def queue_stats(self, now: datetime) -> QueueStats:
        """Queue depth by status, the oldest due message's age and the callback backlog
        (cheap: every count runs on a partial index)."""


class ListStore(Protocol):
    """Stop lists, loop protection and referrals."""

    async def add_stops(
        self, account_id: int | None, phones: Sequence[str], reason: str, now: datetime
    ) -> int:
        """Put phones on the account's stop list (None: the global one); returns how many
        were not there yet."""

    async def remove_stop(self, account_id: int | None, phone: str) -> bool: ...

    async def stop_entries(self, account_id: int | None) -> list[StopEntry]: ...

    async def stopped(self, account_id: int, phones: Sequence[str]) -> set[str]:
        """Those of `phones` on the account's or the global stop list (one query)."""

    async def recent_texts(
        self, account_id: int, phones: Sequence[str], since: datetime
    ) -> set[tuple[str, str]]:
        """(phone, text) of the account's messages to `phones` created at or after `since`,
        failed ones (-2) excepted (one query)."""

    async def set_loop_window(self, account_id: int, seconds: int | None) -> None:
        """The account's loop window; None = the gateway's default. NotFoundError if none."""

    async def link_referrer(self, account_id: int, referrer_id: int, percent: int) -> bool:
        """Record `referrer_id` as the account's referrer with its share, unless the account
        has one already, the referrer does not exist, or it would close a cycle."""

    async def referrals(self, referrer_id: int) -> list[Referral]: ...


class TwoWayStore(Protocol):
    """The 2WAY number pool, replies matched to messages, and inbound SMS."""

    async def save_pool_number(self, number: str, prefix: str, connector: str = "") -> None:
        """Put `number` in the 2WAY pool for destinations under `prefix`, carried by
        `connector` ('' = any), or change those."""

    async def remove_pool_number(self, number: str) -> bool: ...

    async def pool_numbers(self) -> list[PoolNumber]:
        """The whole pool, by number."""

    async def two_way_open(
        self, phones: Sequence[str], since: datetime
    ) -> dict[tuple[str, str], datetime]:
        """(phone, pool number) → the newest 2WAY message's `created`, of any account, from
        that number to one of `phones` created at or after `since` (refused ones excepted)."""

    async def part_match(self, connector: str, remote_id: str) -> TwoWayMatch | None:
        """The message whose part `connector` took as `remote_id` (a relay's upstream names
        it in a reply to a two-way SMS); None if no hand-over names it."""

    async def two_way_match(self, number: str, phone: str, since: datetime) -> TwoWayMatch | None:
        """The newest 2WAY message from `number` to `phone` created at or after `since`, of
        any account, refused ones (-2) excepted; None if there is none."""

    async def add_inbound(
        self,
        account_id: int,
        phone: str,
        num: str,
        text: str,
        now: datetime,
        server_id: int | None = None,
        *,
        stop: bool = False,
    ) -> int:
        """Store an inbound SMS; with `stop`, its phone joins the account's stop list in the
        same transaction (the sender replied with a stop word)."""

    async def inbound(
        self, account_id: int, *, since: datetime | None = None, only_new: bool = False
    ) -> list[InboundSms]:
        """Newest first. `only_new` returns the ones not fetched yet and marks them."""


class SchemaStore(Protocol):
    """What the readiness probe reads (`/readyz`)."""

    async def pending_migrations(self) -> list[str]:
        """Names of this release's migrations the database has not recorded, in order;
        raises StorageError when the database cannot be reached."""


class NumberingStore(Protocol):
    """The numbering plan and the ported numbers (issue 17): replaced whole, versioned."""

    async def numbering_version(self) -> int:
        """Bumped by every import: a process whose snapshot is older reloads it."""

    async def replace_plan(self, ranges: Sequence[PlanRange], now: datetime) -> int:
        """Replace every range in one transaction; returns the new version."""

    async def replace_ported(
        self, ports: Iterable[tuple[int, str, str]], now: datetime, *, increment: bool
    ) -> int:
        """`(number, operator, mnc)` rows: replace the whole list in one transaction, or
        (`increment`) add them, replacing the entries of the numbers already listed. Returns
        the new version."""

    async def plan_ranges(self) -> list[PlanRange]: ...

    async def ported_after(self, after: int, limit: int) -> list[tuple[int, str, str]]:
        """Up to `limit` ported numbers above `after`, in number order."""

    async def plan_range_at(self, number: int) -> PlanRange | None:
        """The range holding `number` (a plan number as an int), if any."""

    async def ported_number(self, number: int) -> tuple[int, str, str] | None: ...


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


class Store(
    AccountStore,
    HeldStore,
    IdempotencyStore,
    ProtectionStore,
    RateStore,
    MessageStore,
    OutboxStore,
    LinkStore,
    CallbackStore,
    ListStore,
    TwoWayStore,
    OperatorStore,
    DashboardReads,
    AuditStore,
    SmppStore,
    SmppDeliveryStore,
    SchemaStore,
    NumberingStore,
    RetentionStore,
    Protocol,
):
    """Persistence for PilotGate: every role. One implementation, two drivers."""

    async def upgrade(self) -> list[str]:
        """Apply the migrations not yet applied; return their names."""

    async def close(self) -> None: ...
