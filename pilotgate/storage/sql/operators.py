"""Console users and what they change for customers: operators, the passwords and keys
they reset, sender verdicts, the login lockout and the session secret (migration
0011_dashboard)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from pilotgate.domain.senders import SenderState
from pilotgate.errors import ConflictError, NotFoundError

from ..base import Sender
from ..dashboard import Operator, SenderVerdict
from . import rows
from .core import SqlCore

_OPERATOR_COLUMNS = rows.columns(Operator)
_operator = rows.reader(Operator, _OPERATOR_COLUMNS)
_SELECT_OPERATOR = f"SELECT {_OPERATOR_COLUMNS} FROM operators WHERE "
_VERDICT = "id, account_id, name, state, reason"
_verdict = rows.reader(SenderVerdict, _VERDICT, renamed={"id": "sender_id"})


class OperatorStore(SqlCore):
    """Console users, the passwords and keys they reset, sender verdicts, login lockout and
    the session secret."""

    async def add_operator(self, email: str, password_hash: str, now: datetime) -> Operator:
        """Raises ConflictError when the e-mail is taken."""
        try:
            row = await self._sql.one(
                "INSERT INTO operators (email, password_hash, created) VALUES (%s, %s, %s) "
                f"RETURNING {_OPERATOR_COLUMNS}",
                (email, password_hash, now),
            )
        except ConflictError as exc:
            raise ConflictError(f"operator {email} exists") from exc
        assert row is not None
        return _operator(row, self._sql.time)

    async def operator(self, operator_id: int) -> Operator | None:
        return await self._one(_operator, _SELECT_OPERATOR + "id = %s", (operator_id,))

    async def operator_by_email(self, email: str) -> Operator | None:
        return await self._one(_operator, _SELECT_OPERATOR + "email = %s", (email,))

    async def set_operator_password(self, operator_id: int, password_hash: str) -> None:
        await self._sql.run(
            "UPDATE operators SET password_hash = %s WHERE id = %s", (password_hash, operator_id)
        )

    async def set_account_password(self, account_id: int, password_hash: str) -> None:
        """Raises NotFoundError for an unknown account."""
        await self._set_account("password_hash", password_hash, account_id)

    async def replace_api_keys(self, account_id: int, digest: str, now: datetime) -> None:
        """The account's only key becomes `digest`: every older key stops working."""
        async with self._sql.tx() as tx:
            await tx.run("DELETE FROM api_keys WHERE account_id = %s", (account_id,))
            await tx.run("INSERT INTO api_keys VALUES (%s, %s, %s)", (digest, account_id, now))

    # sender names ----------------------------------------------------------------------------
    async def all_senders(self, state: SenderState | None) -> list[Sender]:
        """Every account's sender names (in `state`), oldest first."""
        select = f"SELECT {rows.SENDER_COLUMNS} FROM senders "
        if state is None:
            return await self._all(rows.sender, select + "ORDER BY id")
        return await self._all(rows.sender, select + "WHERE state = %s ORDER BY id", (state.value,))

    async def set_sender_verdict(
        self, sender_id: int, state: SenderState, reason: str, now: datetime
    ) -> Sender:
        """Approve or reject a name with a reason; when its callback is an http(s) URL a
        callback job of kind 'sender' reports the verdict, in the same transaction.
        Raises NotFoundError for an unknown sender id."""
        async with self._sql.tx() as tx:
            row = await tx.one(
                "UPDATE senders SET state = %s, reason = %s WHERE id = %s "
                f"RETURNING {rows.SENDER_COLUMNS}",
                (state.value, reason, sender_id),
            )
            if row is None:
                raise NotFoundError(f"no sender {sender_id}")
            sender = rows.sender(row, self._sql.time)
            if sender.callback.lower().startswith(("http://", "https://")):
                await tx.run(
                    "INSERT INTO callbacks (kind, account_id, ref, url, method, created, due_at) "
                    "SELECT 'sender', id, %s, %s, status_method, %s, %s FROM accounts "
                    "WHERE id = %s",
                    (sender.id, sender.callback, now, now, sender.account_id),
                )
        return sender

    async def sender_verdicts(self, ids: Sequence[int]) -> list[SenderVerdict]:
        """The verdicts of these sender ids (for the callback worker)."""
        return await self._by_ids(_verdict, f"{_VERDICT} FROM senders WHERE", ids)

    # lockout and the session secret ----------------------------------------------------------
    async def login_failures(self, who: str, since: datetime) -> int:
        """Failed logins recorded for `who` (e.g. 'c:email|ip') at or after `since`."""
        row = await self._sql.one(
            "SELECT count(*) FROM login_failures WHERE who = %s AND at >= %s", (who, since)
        )
        assert row is not None
        return int(row[0])

    async def record_login_failure(self, who: str, now: datetime) -> None:
        async with self._sql.tx() as tx:
            await tx.run("INSERT INTO login_failures VALUES (%s, %s)", (who, now))
            # Old rows mean nothing any more: keep the table as small as the window.
            await tx.run("DELETE FROM login_failures WHERE at < %s", (now - timedelta(days=1),))

    async def clear_login_failures(self, who: str) -> None:
        await self._sql.run("DELETE FROM login_failures WHERE who = %s", (who,))

    async def dashboard_secret(self, candidate: str) -> str:
        """The secret that signs session cookies: `candidate` stored on first use, so every
        process of the gateway signs with the same one."""
        # The first process to ask stores its candidate; every later one reads that one.
        async with self._sql.tx() as tx:
            await tx.run(
                "INSERT INTO dashboard_secret VALUES (1, %s) ON CONFLICT (id) DO NOTHING",
                (candidate,),
            )
            row = await tx.one("SELECT secret FROM dashboard_secret")
        assert row is not None
        return str(row[0])
