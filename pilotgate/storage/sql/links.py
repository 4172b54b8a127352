"""What long-lived links report back (refusals, inbound numbers) and which process owns each
link. Part receipts stay in each dialect (storage/*/links.py): they are the receipts' hot
path, applied set-wise in PostgreSQL and row by row in SQLite."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from pilotgate.errors import ConflictError

from ..base import Handover, LinkLease, Refusal
from .core import SqlCore
from .driver import Statements


def part_rows(handovers: Iterable[Handover]) -> list[tuple[str, str, int, int]]:
    """(connector, remote id, server id, part number) of every part of the messages whose
    outcome a receipt will tell (a hand-over with no outcome of its own)."""
    return [
        (h.connector, remote_id, h.server_id, part)
        for h in handovers
        if h.outcome_status is None
        for part, remote_id in enumerate(h.remote_ids or (h.remote_id,), start=1)
    ]


class SqlLinks(SqlCore):
    async def _to_sms(self, tx: Statements, server_id: int, now: datetime, owner: str) -> bool:
        """Inside `tx`: queue a VIBERSMS message `owner` claimed again as an SMS if it has a
        fallback plan its account can pay for (storage/*/hybrid.py); True if it was."""
        raise NotImplementedError

    async def refuse(self, owner: str, refusals: Sequence[Refusal], now: datetime) -> int:
        applied = 0
        async with self._sql.tx() as tx:
            for r in refusals:
                if not r.final:
                    applied += await tx.run(
                        "UPDATE messages SET lease_owner = NULL, lease_until = NULL, "
                        "handing = FALSE, due_at = %s "
                        "WHERE id = %s AND status = 0 AND lease_owner = %s",
                        (r.retry_at, r.server_id, owner),
                    )
                    continue
                if await self._to_sms(tx, r.server_id, now, owner):
                    applied += 1  # a VIBERSMS message refused by Viber: queued as an SMS
                    continue
                row = await tx.one(
                    "UPDATE messages SET status = -2, error = %s, modified = %s, "
                    "lease_owner = NULL, lease_until = NULL, handing = FALSE "
                    "WHERE id = %s AND status = 0 AND lease_owner = %s "
                    "RETURNING account_id, price",
                    (r.error, now, r.server_id, owner),
                )
                if row is None:
                    continue
                applied += 1
                if row[1]:  # an error is never charged (contract §6): the price goes back
                    await tx.run(
                        "UPDATE accounts SET balance = balance + %s WHERE id = %s",
                        (row[1], row[0]),
                    )
                    await tx.run(
                        "INSERT INTO ledger (account_id, amount, kind, ref, note, created) "
                        "VALUES (%s, %s, 'refund', %s, %s, %s)",
                        (row[0], row[1], r.server_id, f"error {r.error}", now),
                    )
        return applied

    async def pending_parts(self, connector: str, limit: int) -> list[str]:
        found = await self._sql.rows(
            "SELECT p.remote_id FROM message_parts p JOIN messages m ON m.id = p.server_id "
            "WHERE p.connector = %s AND p.status IS NULL AND m.status = 1 "
            "ORDER BY p.server_id, p.part LIMIT %s",
            (connector, limit),
        )
        return [row[0] for row in found]

    async def purge_early_receipts(self, before: datetime) -> int:
        return await self._sql.run("DELETE FROM early_receipts WHERE received < %s", (before,))

    # inbound numbers ---------------------------------------------------------------------------
    async def save_number(self, number: str, account_id: int, now: datetime) -> None:
        try:
            await self._sql.run(
                "INSERT INTO numbers VALUES (%s, %s, %s) ON CONFLICT (number) "
                "DO UPDATE SET account_id = excluded.account_id",
                (number, account_id, now),
            )
        except ConflictError as exc:  # the account does not exist (a key violation)
            raise ConflictError(f"no account {account_id}") from exc

    async def number_owner(self, number: str) -> int | None:
        row = await self._sql.one("SELECT account_id FROM numbers WHERE number = %s", (number,))
        return None if row is None else int(row[0])

    # link ownership ----------------------------------------------------------------------------
    async def hold_link(self, name: str, owner: str, now: datetime, until: datetime) -> bool:
        # Taken when free, renewed by its owner, taken over once the owner's lease ran out.
        taken = await self._sql.run(
            "INSERT INTO link_leases VALUES (%s, %s, %s) ON CONFLICT (name) DO UPDATE "
            "SET owner = excluded.owner, until = excluded.until "
            "WHERE link_leases.owner = excluded.owner OR link_leases.until < %s",
            (name, owner, until, now),
        )
        return taken > 0

    async def release_link(self, name: str, owner: str) -> None:
        await self._sql.run("DELETE FROM link_leases WHERE name = %s AND owner = %s", (name, owner))

    async def link_leases(self) -> list[LinkLease]:
        found = await self._sql.rows("SELECT name, owner, until FROM link_leases ORDER BY name")
        return [LinkLease(name=row[0], owner=row[1], until=self._sql.time(row[2])) for row in found]

    async def save_link_state(self, name: str, state: str) -> None:
        await self._sql.run("UPDATE connectors SET state = %s WHERE name = %s", (state, name))
