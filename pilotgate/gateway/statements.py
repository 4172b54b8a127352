"""What the customer cabinet reads about its own account: the ledger, inbound SMS,
referred accounts, the message history and its callback attempts, per-day statistics.

Each takes the logged-in `Account`, never a bare id, so a page can only ask about the
account it was opened for."""

from __future__ import annotations

from datetime import date

from pilotgate.domain.accounts import Account
from pilotgate.storage.base import InboundSms, Referral
from pilotgate.storage.dashboard import (
    CallbackAttempt,
    DayStat,
    HistoryPage,
    HistoryQuery,
    LedgerEntry,
)

from .core import GatewayCore


class AccountStatements(GatewayCore):
    async def ledger(
        self, account: Account, before_id: int | None, limit: int
    ) -> list[LedgerEntry]:
        """The account's ledger rows, newest first, one page below `before_id`."""
        return await self.store.ledger(account.id, before_id, limit)

    async def inbox(self, account: Account) -> list[InboundSms]:
        """Every inbound SMS of the account, newest first, without marking them fetched."""
        return await self.store.inbound(account.id)

    async def referred(self, account: Account) -> list[Referral]:
        return await self.store.referrals(account.id)

    async def history(
        self, account: Account, query: HistoryQuery, limit: int, window: int
    ) -> HistoryPage:
        return await self.store.history(account.id, query, limit, window)

    async def callback_attempts(self, account: Account, server_id: int) -> list[CallbackAttempt]:
        return await self.store.callback_attempts(account.id, server_id)

    async def daily_stats(self, account: Account, since: date, until: date) -> list[DayStat]:
        return await self.store.daily_stats(account.id, since, until)
