"""The store's SMPP credentials (migration 0017_smpp): one system_id per account."""

from __future__ import annotations

from datetime import datetime

from pilotgate.errors import ConflictError

from ..smpp import SmppCredentials
from .core import SqlCore
from .driver import Row

_SELECT = "SELECT account_id, system_id, password_hash, changed FROM smpp_credentials "


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
        )
