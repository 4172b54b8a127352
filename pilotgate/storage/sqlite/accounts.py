"""SqliteStore: accounts, their keys and money, sender names and tariffs."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from pilotgate.domain.accounts import Account, AccountState
from pilotgate.domain.senders import SenderState
from pilotgate.domain.tariffs import Rate
from pilotgate.errors import ConflictError, InsufficientFundsError, NotFoundError

from ..base import (
    AccountChanges,
    NewAccount,
    Sender,
    TariffInfo,
)
from .core import (
    _ACCOUNT_COLUMNS,
    SqliteCore,
    _account,
    _sender,
    _us,
)


class SqliteAccounts(SqliteCore):
    # accounts and money ----------------------------------------------------------------------
    async def create_account(self, new: NewAccount, now: datetime) -> Account:
        try:
            with self._tx() as db:
                cursor = db.execute(
                    "INSERT INTO accounts (email, password_hash, name, phone, tariff_id, "
                    "default_sender, any_sender, allow_ip, created, callback_secret) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (
                        new.email,
                        new.password_hash,
                        new.name,
                        new.phone,
                        new.tariff_id,
                        new.default_sender,
                        int(new.any_sender),
                        new.allow_ip,
                        _us(now),
                        new.callback_secret,
                    ),
                )
                account_id = cursor.lastrowid
                db.execute(
                    "INSERT INTO api_keys VALUES (?, ?, ?)", (new.key_digest, account_id, _us(now))
                )
        except sqlite3.IntegrityError as exc:
            raise ConflictError(str(exc)) from exc
        account = await self.account(int(account_id or 0))
        assert account is not None
        return account

    async def account(self, account_id: int) -> Account | None:
        rows = self._read(f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE id = ?", (account_id,))
        return _account(rows[0]) if rows else None

    async def account_by_key(self, digest: str) -> Account | None:
        rows = self._read(
            f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE id = "
            "(SELECT account_id FROM api_keys WHERE digest = ?)",
            (digest,),
        )
        return _account(rows[0]) if rows else None

    async def account_by_email(self, email: str) -> Account | None:
        rows = self._read(
            f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE email = ? COLLATE NOCASE", (email,)
        )
        return _account(rows[0]) if rows else None

    async def accounts(self) -> list[Account]:
        return [
            _account(row)
            for row in self._read(f"SELECT {_ACCOUNT_COLUMNS} FROM accounts ORDER BY id")
        ]

    async def set_account_state(self, account_id: int, state: AccountState) -> None:
        with self._tx() as db:
            if (
                db.execute(
                    "UPDATE accounts SET state = ? WHERE id = ?", (state.value, account_id)
                ).rowcount
                == 0
            ):
                raise NotFoundError(f"no account {account_id}")

    async def update_account(self, account_id: int, changes: AccountChanges) -> Account:
        c = changes
        any_sender = None if c.any_sender is None else int(c.any_sender)
        with self._tx() as db:
            moved = db.execute(
                "UPDATE accounts SET name = COALESCE(?, name), phone = COALESCE(?, phone), "
                "tariff_id = COALESCE(?, tariff_id), "
                "default_sender = COALESCE(?, default_sender), "
                "any_sender = COALESCE(?, any_sender), allow_ip = COALESCE(?, allow_ip), "
                "status_url = COALESCE(?, status_url), "
                "status_method = COALESCE(?, status_method), "
                "inbound_url = COALESCE(?, inbound_url), "
                "callback_secret = COALESCE(?, callback_secret) WHERE id = ?",
                (
                    c.name,
                    c.phone,
                    c.tariff_id,
                    c.default_sender,
                    any_sender,
                    c.allow_ip,
                    c.status_url,
                    c.status_method,
                    c.inbound_url,
                    c.callback_secret,
                    account_id,
                ),
            ).rowcount
        account = await self.account(account_id)
        if moved == 0 or account is None:
            raise NotFoundError(f"no account {account_id}")
        return account

    async def add_api_key(self, account_id: int, digest: str, now: datetime) -> None:
        try:
            with self._tx() as db:
                db.execute("INSERT INTO api_keys VALUES (?, ?, ?)", (digest, account_id, _us(now)))
        except sqlite3.IntegrityError as exc:
            raise ConflictError(str(exc)) from exc

    async def credit(
        self, account_id: int, amount: int, kind: str, note: str, now: datetime
    ) -> int:
        with self._tx() as db:
            row = db.execute(
                "UPDATE accounts SET balance = balance + ? WHERE id = ? AND balance + ? >= 0 "
                "RETURNING balance",
                (amount, account_id, amount),
            ).fetchone()
            if row is None:
                if db.execute("SELECT 1 FROM accounts WHERE id = ?", (account_id,)).fetchone():
                    raise InsufficientFundsError(f"account {account_id}")
                raise NotFoundError(f"no account {account_id}")
            db.execute(
                "INSERT INTO ledger (account_id, amount, kind, note, created) VALUES (?,?,?,?,?)",
                (account_id, amount, kind, note, _us(now)),
            )
            return int(row[0])

    async def ledger_sum(self, account_id: int) -> int:
        return int(
            self._read(
                "SELECT COALESCE(SUM(amount), 0) FROM ledger WHERE account_id = ?", (account_id,)
            )[0][0]
        )

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
        try:
            with self._tx() as db:
                row = db.execute(
                    "INSERT INTO senders (account_id, name, state, description, callback, "
                    "created) VALUES (?,?,?,?,?,?) RETURNING id, account_id, name, state, "
                    "description, callback, created",
                    (account_id, name, state.value, description, callback, _us(now)),
                ).fetchone()
        except sqlite3.IntegrityError as exc:
            raise ConflictError(str(exc)) from exc
        return _sender(row)

    async def set_sender_state(self, sender_id: int, state: SenderState) -> Sender:
        with self._tx() as db:
            row = db.execute(
                "UPDATE senders SET state = ? WHERE id = ? RETURNING id, account_id, name, "
                "state, description, callback, created",
                (state.value, sender_id),
            ).fetchone()
        if row is None:
            raise NotFoundError(f"no sender {sender_id}")
        return _sender(row)

    async def senders(self, account_id: int) -> list[Sender]:
        return [
            _sender(row)
            for row in self._read(
                "SELECT id, account_id, name, state, description, callback, created FROM senders "
                "WHERE account_id = ? ORDER BY id",
                (account_id,),
            )
        ]

    # tariffs -----------------------------------------------------------------------------------
    async def replace_tariff(self, tariff_id: int, name: str, rates: Sequence[Rate]) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO tariffs (id, name) VALUES (?, ?) "
                "ON CONFLICT (id) DO UPDATE SET name = excluded.name",
                (tariff_id, name),
            )
            db.execute("DELETE FROM tariff_rates WHERE tariff_id = ?", (tariff_id,))
            db.executemany(
                "INSERT INTO tariff_rates VALUES (?,?,?,?,?,?)",
                [(tariff_id, r.prefix, r.channel, r.price, r.country, r.operator) for r in rates],
            )

    async def tariff_rates(self, tariff_id: int) -> list[Rate]:
        return [
            Rate(prefix=row[0], channel=row[1], price=row[2], country=row[3], operator=row[4])
            for row in self._read(
                "SELECT prefix, channel, price, country, operator FROM tariff_rates "
                "WHERE tariff_id = ? ORDER BY prefix, channel",
                (tariff_id,),
            )
        ]

    async def tariffs(self) -> list[TariffInfo]:
        return [
            TariffInfo(id=row[0], name=row[1], rates=row[2])
            for row in self._read(
                "SELECT t.id, t.name, COUNT(r.prefix) FROM tariffs t LEFT JOIN tariff_rates r "
                "ON r.tariff_id = t.id GROUP BY t.id, t.name ORDER BY t.id"
            )
        ]
