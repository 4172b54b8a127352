"""The store's SMPP credentials (migration 0017_smpp): one system_id per account, with its
own limits; and the bind rows that count an account's binds across processes (migration
0019_smpp_limits)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pilotgate.errors import ConflictError, NotFoundError

from ..smpp import SmppBindSeen, SmppCredentials
from . import rows
from .core import SqlCore

_SEEN = (("i", "bigint"), ("w", "bigint"), ("m", "bigint"))
_CREDENTIALS = "account_id, system_id, password_hash, changed, max_binds, mps"
_SELECT = f"SELECT {_CREDENTIALS} FROM smpp_credentials "
_credentials = rows.reader(SmppCredentials, _CREDENTIALS)
_BINDS = "id, account_id, owner, bind_type, address, since, window_used, mps_milli"
#: Rows an older node wrote have no bind type or address.
_binds = rows.reader(
    SmppBindSeen, _BINDS, convert={"bind_type": rows.text_or_empty, "address": rows.text_or_empty}
)


class SmppStore(SqlCore):
    async def set_smpp_credentials(
        self, account_id: int, system_id: str, password_hash: str, now: datetime
    ) -> None:
        """Give the account this system_id and password hash (replacing any it had).
        Raises ConflictError when another account has the system_id or the account does not
        exist."""
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
        """The account can no longer bind (nothing happens when it could not)."""
        await self._sql.run("DELETE FROM smpp_credentials WHERE account_id = %s", (account_id,))

    async def smpp_credentials(self, account_id: int) -> SmppCredentials | None:
        row = await self._sql.one(_SELECT + "WHERE account_id = %s", (account_id,))
        return None if row is None else _credentials(row, self._sql.time)

    async def smpp_login(self, system_id: str) -> SmppCredentials | None:
        """The credentials a bind with `system_id` is checked against (exact match)."""
        row = await self._sql.one(_SELECT + "WHERE system_id = %s", (system_id,))
        return None if row is None else _credentials(row, self._sql.time)

    async def set_smpp_limits(
        self, account_id: int, max_binds: int | None, mps: int | None
    ) -> None:
        """The account's own bind and rate limits (None: the default). NotFoundError when it
        has no SMPP credentials."""
        if not await self._sql.run(
            "UPDATE smpp_credentials SET max_binds = %s, mps = %s WHERE account_id = %s",
            (max_binds, mps, account_id),
        ):
            raise NotFoundError(f"account {account_id} has no SMPP credentials")

    async def hold_smpp_bind(
        self,
        account_id: int,
        owner: str,
        limit: int,
        now: datetime,
        until: datetime,
        *,
        bind_type: str = "",
        address: str = "",
    ) -> int | None:
        """A bind row for `owner` until `until`, unless the account already has `limit` live
        ones (None then). Counted under the account's row lock: racing binds from several
        processes never pass the limit together. Rows past their `until` are removed. The
        row records the bind type, the client's address and `now` as its bind time."""
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
                "INSERT INTO smpp_binds (account_id, owner, until, bind_type, address, since) "
                "VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
                (account_id, owner, until, bind_type, address, now),
            )
        assert held is not None
        return int(held[0])

    async def renew_smpp_binds(
        self, owner: str, until: datetime, seen: Sequence[tuple[int, int, int]] = ()
    ) -> None:
        """Every bind row of `owner` lives on until `until`. With `seen` (bind id, window in
        use, thousandths of msgs/s), one statement renews those rows and records their use."""
        sql = self._sql
        if not seen:
            await sql.run("UPDATE smpp_binds SET until = %s WHERE owner = %s", (until, owner))
            return
        # One statement for all of this process's sessions, however many: the use seen
        # travels with the renewal that runs anyway, never a write per submit_sm.
        await sql.run(
            "UPDATE smpp_binds AS b SET until = %s, window_used = v.w, mps_milli = v.m FROM "
            + sql.table("v", _SEEN)
            + " WHERE b.id = v.i AND b.owner = %s",
            (until, *sql.table_args(seen), owner),
        )

    async def release_smpp_bind(self, bind_id: int) -> None:
        await self._sql.run("DELETE FROM smpp_binds WHERE id = %s", (bind_id,))

    async def smpp_bind_owners(self, account_id: int, now: datetime) -> int:
        """How many processes hold live binds of the account."""
        row = await self._sql.one(
            "SELECT count(DISTINCT owner) FROM smpp_binds WHERE account_id = %s AND until >= %s",
            (account_id, now),
        )
        return 0 if row is None else int(row[0])

    async def smpp_binds_live(self, now: datetime) -> list[SmppBindSeen]:
        """Every bind row still live at `now`, of every process, by account then bind time."""
        found = await self._sql.rows(
            f"SELECT {_BINDS} FROM smpp_binds WHERE until >= %s ORDER BY account_id, since, id",
            (now,),
        )
        return [_binds(row, self._sql.time) for row in found]
