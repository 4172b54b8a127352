"""SMPP binds: the account behind a system_id and password, checked by the one password
check (`passwords.Passwords`: its lockout, its cost for unknown logins, its bounded pool)."""

from __future__ import annotations

from pilotgate.domain.accounts import Account
from pilotgate.errors import ApiError

from .core import GatewayCore
from .passwords import PasswordOutcome, who


class Binding(GatewayCore):
    async def authenticate_smpp(self, system_id: str, password: str, client_ip: str) -> Account:
        """The account a bind names, or ApiError: 400 (unknown system_id, wrong password or
        locked out: one answer, as for login+password), 110 (too many checks waiting),
        105-107 (blocked), 113 (the address is not in the account's allow-list)."""
        credentials = await self.store.smpp_login(system_id) if system_id else None
        account = await self.store.account(credentials.account_id) if credentials else None
        # A customer's guesses add up whichever way they come (API, cabinet, SMPP): the
        # lockout's key is the account's e-mail when the system_id is known.
        key = who("c", account.email, client_ip) if account else who("s", system_id, client_ip)
        outcome = await self.passwords.check(
            key, credentials.password_hash if credentials and account else None, password
        )
        if outcome is PasswordOutcome.BUSY:
            raise ApiError(110)
        if outcome is not PasswordOutcome.RIGHT or account is None:
            raise ApiError(400)
        return self.admitted(account, client_ip)

    async def smpp_account(self, account_id: int) -> Account:
        """The bound account as it is now, for each submit_sm: blocked since the bind is
        105-107, as it would be for the API (a deleted account is 400)."""
        account = await self.store.account(account_id)
        if account is None:
            raise ApiError(400)
        return self.admitted(account)
