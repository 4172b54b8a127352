"""Who may use the dashboard: the users a login form names, the users a session names, and
the secret the sessions are signed with. Passwords themselves are checked by `Passwords`
(passwords.py); changing one is an audited use case (operations.passwords)."""

from __future__ import annotations

import secrets

from pilotgate.domain.accounts import Account
from pilotgate.storage.dashboard import Operator

from .core import GatewayCore


class Logins(GatewayCore):
    async def session_secret(self) -> str:
        """The key every process signs dashboard sessions with: the first process to ask
        stores a random one, the others read it (a session survives restarts and works on
        every worker)."""
        return await self.store.dashboard_secret(secrets.token_hex(32))

    async def customer_by_email(self, email: str) -> Account | None:
        """The account a cabinet login names (blocked ones too: the caller says so)."""
        return await self.store.account_by_email(email)

    async def operator_by_email(self, email: str) -> Operator | None:
        return await self.store.operator_by_email(email)

    async def customer(self, account_id: int) -> Account | None:
        """The account a cabinet session names, as it is now (password, state)."""
        return await self.store.account(account_id)

    async def operator(self, operator_id: int) -> Operator | None:
        """The operator a console session names, as it is now (password)."""
        return await self.store.operator(operator_id)
