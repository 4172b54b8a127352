"""The store's accounts, their keys and money, sender names and tariffs."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime

from pilotgate.domain.accounts import Account, AccountState
from pilotgate.domain.senders import SenderState
from pilotgate.domain.tariffs import Rate
from pilotgate.errors import InsufficientFundsError, NotFoundError

from ..base import AccountChanges, NewAccount, Sender, TariffInfo
from . import rows
from .core import SqlCore
from .gathered import Gatherer
from .money import CREDIT, LEDGER

_SELECT_ACCOUNT = f"SELECT {rows.ACCOUNT_COLUMNS} FROM accounts "
#: The fields of `NewAccount` that are columns of accounts (the key goes to api_keys).
_NEW_ACCOUNT = rows.columns(NewAccount, without={"key_digest"})
#: The fields of `AccountChanges`, each a column that None leaves as it is.
_CHANGEABLE = rows.columns(AccountChanges)
ADD_KEY = "INSERT INTO api_keys (digest, account_id, created) VALUES (%s, %s, %s)"
_RATE = "prefix, channel, price, country, operator"
_rate = rows.reader(Rate, _RATE)
_tariff = rows.reader(TariffInfo, "id, name, rates")


class AccountStore(SqlCore):
    """Accounts, their keys and money, sender names and tariffs."""

    # accounts and money ----------------------------------------------------------------------
    async def create_account(self, new: NewAccount, now: datetime) -> Account:
        """Raises ConflictError when the e-mail or key is taken."""
        async with self._sql.tx() as tx:
            row = await tx.one(
                f"INSERT INTO accounts ({_NEW_ACCOUNT}, created) "
                f"VALUES ({rows.marks(_NEW_ACCOUNT)}, %s) RETURNING {rows.ACCOUNT_COLUMNS}",
                (*rows.values(new, _NEW_ACCOUNT), now),
            )
            assert row is not None
            await tx.run(ADD_KEY, (new.key_digest, row[0], now))
        return rows.account(row, self._sql.time)

    async def account(self, account_id: int) -> Account | None:
        return await self._one(rows.account, _SELECT_ACCOUNT + "WHERE id = %s", (account_id,))

    async def account_by_key(self, digest: str) -> Account | None:
        # Every API call asks this: concurrent calls share one statement (sql/gathered.py).
        return await self._key_owners.ask(digest)

    @functools.cached_property
    def _key_owners(self) -> Gatherer[str, Account | None]:
        return Gatherer(self._accounts_by_keys)

    async def _accounts_by_keys(self, digests: Sequence[str]) -> list[Account | None]:
        wanted = list(dict.fromkeys(digests))
        found = await self._sql.rows(
            f"SELECT owners.digest, {rows.ACCOUNT_COLUMNS} FROM accounts JOIN "
            f"(SELECT digest, account_id AS owner FROM api_keys WHERE digest {self._sql.text_in})"
            " owners ON owners.owner = accounts.id",
            (self._sql.texts(wanted),),
        )
        by_digest = {row[0]: rows.account(row[1:], self._sql.time) for row in found}
        return [by_digest.get(digest) for digest in digests]

    async def account_by_email(self, email: str) -> Account | None:
        # Case-insensitive (ASCII, in both databases); the unique constraint itself is
        # case-sensitive, hence the deterministic ORDER BY.
        return await self._one(
            rows.account,
            _SELECT_ACCOUNT + "WHERE lower(email) = lower(%s) ORDER BY id LIMIT 1",
            (email,),
        )

    async def accounts(self) -> list[Account]:
        return await self._all(rows.account, _SELECT_ACCOUNT + "ORDER BY id")

    async def set_account_state(self, account_id: int, state: AccountState) -> None:
        """Raises NotFoundError for an unknown account."""
        await self._set_account("state", state.value, account_id)

    async def update_account(self, account_id: int, changes: AccountChanges) -> Account:
        """Apply `changes`; raises NotFoundError for an unknown account."""
        kept = ", ".join(f"{name} = COALESCE(%s, {name})" for name in rows.names(_CHANGEABLE))
        account = await self._one(
            rows.account,
            f"UPDATE accounts SET {kept} WHERE id = %s RETURNING {rows.ACCOUNT_COLUMNS}",
            (*rows.values(changes, _CHANGEABLE), account_id),
        )
        if account is None:
            raise NotFoundError(f"no account {account_id}")
        return account

    async def add_api_key(self, account_id: int, digest: str, now: datetime) -> None:
        """Raises ConflictError when the key is taken."""
        await self._sql.run(ADD_KEY, (digest, account_id, now))

    async def credit(
        self, account_id: int, amount: int, kind: str, note: str, now: datetime
    ) -> int:
        """Write a ledger row of `amount` kopecks (negative debits) and return the new
        balance. Raises InsufficientFundsError if the balance would go below zero."""
        async with self._sql.tx() as tx:
            row = await tx.one(CREDIT, (amount, account_id, amount))
            if row is None:
                if await tx.one("SELECT 1 FROM accounts WHERE id = %s", (account_id,)):
                    raise InsufficientFundsError(f"account {account_id}")
                raise NotFoundError(f"no account {account_id}")
            await tx.run(LEDGER, (account_id, amount, kind, None, note, now))
        return int(row[0])

    async def ledger_sum(self, account_id: int) -> int:
        """The sum of the account's ledger rows (equals its balance, always)."""
        row = await self._sql.one(
            "SELECT COALESCE(SUM(amount), 0) FROM ledger WHERE account_id = %s", (account_id,)
        )
        assert row is not None
        return int(row[0])  # PostgreSQL's SUM(bigint) is numeric: int() keeps it exact

    # senders -----------------------------------------------------------------------------------
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
        row = await self._sql.one(
            "INSERT INTO senders (account_id, name, state, description, callback, created) "
            f"VALUES (%s, %s, %s, %s, %s, %s) RETURNING {rows.SENDER_COLUMNS}",
            (account_id, name, state.value, description, callback, now),
        )
        assert row is not None
        return rows.sender(row, self._sql.time)

    async def senders(self, account_id: int) -> list[Sender]:
        return await self._all(
            rows.sender,
            f"SELECT {rows.SENDER_COLUMNS} FROM senders WHERE account_id = %s ORDER BY id",
            (account_id,),
        )

    # tariffs -----------------------------------------------------------------------------------
    async def replace_tariff(self, tariff_id: int, name: str, rates: Sequence[Rate]) -> None:
        """Create or replace the whole tariff with these rates."""
        async with self._sql.tx() as tx:
            await tx.run(
                "INSERT INTO tariffs (id, name) VALUES (%s, %s) "
                "ON CONFLICT (id) DO UPDATE SET name = excluded.name",
                (tariff_id, name),
            )
            await tx.run("DELETE FROM tariff_rates WHERE tariff_id = %s", (tariff_id,))
            await tx.many(
                f"INSERT INTO tariff_rates (tariff_id, {_RATE}) VALUES (%s, {rows.marks(_RATE)})",
                [(tariff_id, *rows.values(rate, _RATE)) for rate in rates],
            )

    async def tariff_rates(self, tariff_id: int) -> list[Rate]:
        return await self._all(
            _rate,
            f"SELECT {_RATE} FROM tariff_rates WHERE tariff_id = %s "
            f"ORDER BY prefix {self._sql.bytewise}, channel {self._sql.bytewise}",
            (tariff_id,),
        )

    async def tariffs(self) -> list[TariffInfo]:
        return await self._all(
            _tariff,
            "SELECT t.id, t.name, COUNT(r.prefix) FROM tariffs t LEFT JOIN tariff_rates r "
            "ON r.tariff_id = t.id GROUP BY t.id, t.name ORDER BY t.id",
        )
