"""The store's idempotency keys (migration 0016_abuse). A key is claimed by the submit that
stores its messages, in that submit's transaction (`CLAIM`, run by each dialect's group
commit); the answer is kept afterwards, when the API has rendered it."""

from __future__ import annotations

from datetime import datetime

from pilotgate.domain.idempotency import KeptAnswer

from .core import SqlCore

#: Claim (account_id, key) for a request (fingerprint, now); an expired claim (created before
#: the fourth argument) is taken over. Returns a row only when this statement claimed it: a
#: live claim of another transaction makes PostgreSQL wait for that one's end, then return
#: nothing, so of two racing repeats exactly one stores its messages.
CLAIM = (
    "INSERT INTO idempotency_keys (account_id, key, fingerprint, created) "
    "VALUES (%s, %s, %s, %s) ON CONFLICT (account_id, key) DO UPDATE "
    "SET fingerprint = excluded.fingerprint, created = excluded.created, answer = NULL, "
    "content_type = '' WHERE idempotency_keys.created < %s RETURNING 1"
)


class IdempotencyStore(SqlCore):
    """The answers of keyed submits (the claim itself is `MessageStore.submit`'s)."""

    async def kept_answer(self, account_id: int, key: str, since: datetime) -> KeptAnswer | None:
        """The key's claim made at or after `since`, with its answer once kept."""
        row = await self._sql.one(
            "SELECT fingerprint, answer, content_type FROM idempotency_keys "
            "WHERE account_id = %s AND key = %s AND created >= %s",
            (account_id, key, since),
        )
        if row is None:
            return None
        return KeptAnswer(
            fingerprint=row[0],
            answer=None if row[1] is None else bytes(row[1]),
            content_type=row[2],
        )

    async def keep_answer(
        self, account_id: int, key: str, fingerprint: str, answer: bytes, content_type: str
    ) -> bool:
        """Keep the first answer of the claim with this fingerprint; False when there is no
        such claim without an answer (the request stored nothing, or was answered)."""
        changed = await self._sql.run(
            "UPDATE idempotency_keys SET answer = %s, content_type = %s "
            "WHERE account_id = %s AND key = %s AND fingerprint = %s AND answer IS NULL",
            (answer, content_type, account_id, key, fingerprint),
        )
        return changed > 0

    async def purge_idempotency_keys(self, before: datetime, limit: int) -> int:
        """Forget at most `limit` keys claimed before `before`; how many went."""
        # In batches: a day's keys of a busy gateway are not one long delete.
        return await self._sql.run(
            "DELETE FROM idempotency_keys WHERE (account_id, key) IN "
            "(SELECT account_id, key FROM idempotency_keys WHERE created < %s LIMIT %s)",
            (before, limit),
        )
