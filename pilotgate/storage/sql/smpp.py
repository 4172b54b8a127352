"""The store's SMPP credentials (migration 0017_smpp): one system_id per account, with its
own limits; and the bind rows that count an account's binds across processes (migration
0019_smpp_limits)."""

from __future__ import annotations

from datetime import datetime

from pilotgate.errors import ConflictError, NotFoundError

from ..smpp import SmppCredentials
from .core import SqlCore
from .driver import Row

_SELECT = (
    "SELECT account_id, system_id, password_hash, changed, max_binds, mps FROM smpp_credentials "
)


class SqlSmpp(SqlCore):
    async def set_smpp_credentials(
        self, account_id: int, system_id: str, password_hash: str, now: datetime
    ) -> None:
        try:
            await self._sql.run(
                "INSERT INTO smpp_credentials (account_id, system_id, password_hash, changed) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT (account_id) DO UPDATE SET "
                "system_id = excluded.system_id, password_hash = excluded.password_hash, "
                "changed = excluded.changed",
                (account_id, system_id, password_hash, now),
            )
        except ConflictError as exc:  # the system_id is taken, or no such account
            raise ConflictError(f"system_id {system_id} is taken") from exc

    async def drop_smpp_credentials(self, account_id: int) -> None:
        await self._sql.run("DELETE FROM smpp_credentials WHERE account_id = %s", (account_id,))

    async def smpp_credentials(self, account_id: int) -> SmppCredentials | None:
        row = await self._sql.one(_SELECT + "WHERE account_id = %s", (account_id,))
        return None if row is None else self._credentials(row)

    async def smpp_login(self, system_id: str) -> SmppCredentials | None:
        row = await self._sql.one(_SELECT + "WHERE system_id = %s", (system_id,))
        return None if row is None else self._credentials(row)

    def _credentials(self, row: Row) -> SmppCredentials:
        return SmppCredentials(
            account_id=row[0],
            system_id=row[1],
            password_hash=row[2],
            changed=self._sql.time(row[3]),
            max_binds=row[4],
            mps=row[5],
        )

    async def set_smpp_limits(
        self, account_id: int, max_binds: int | None, mps: int | None
    ) -> None:
        if not await self._sql.run(
            "UPDATE smpp_credentials SET max_binds = %s, mps = %s WHERE account_id = %s",
            (max_binds, mps, account_id),
        ):
            raise NotFoundError(f"account {account_id} has no SMPP credentials")

    async def hold_smpp_bind(
        self, account_id: int, owner: str, limit: int, now: datetime, until: datetime
    ) -> int | None:
        sql = self._sql
        async with sql.tx() as tx:
            # The account's row lock (PostgreSQL; SQLite's BEGIN IMMEDIATE already holds
            # the one write lock) makes count-then-insert one step across processes.
            await tx.one(f"SELECT id FROM accounts WHERE id = %s{sql.for_update}", (account_id,))
            await tx.run(
                "DELETE FROM smpp_binds WHERE account_id = %s AND until < %s", (account_id, now)
            )
            row = await tx.one(
                "SELECT count(*) FROM smpp_binds WHERE account_id = %s", (account_id,)
            )
            if row is not None and row[0] >= limit:
                return None
            held = await tx.one(
                "INSERT INTO smpp_binds (account_id, owner, until) VALUES (%s, %s, %s) "
                "RETURNING id",
                (account_id, owner, until),
            )
        assert held is not None
        return int(held[0])

    async def renew_smpp_binds(self, owner: str, until: datetime) -> None:
        await self._sql.run("UPDATE smpp_binds SET until = %s WHERE owner = %s", (until, owner))

    async def release_smpp_bind(self, bind_id: int) -> None:
        await self._sql.run("DELETE FROM smpp_binds WHERE id = %s", (bind_id,))

    async def smpp_bind_owners(self, account_id: int, now: datetime) -> int:
        row = await self._sql.one(
            "SELECT count(DISTINCT owner) FROM smpp_binds WHERE account_id = %s AND until >= %s",
            (account_id, now),
        )
        return 0 if row is None else int(row[0])
