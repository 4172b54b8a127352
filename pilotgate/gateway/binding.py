"""SMPP binds: the account behind a system_id and password, checked by the one password
check (`passwords.Passwords`: its lockout, its cost for unknown logins, its bounded pool)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from pilotgate.domain.accounts import Account
from pilotgate.errors import ApiError
from pilotgate.storage.smpp import SmppBindSeen

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

    # Limits per account (api/smpp/limits.py; docs/smpp.md "Limits") ----------------------
    async def smpp_limits(self, account_id: int) -> tuple[int | None, int | None]:
        """The account's own (max_binds, mps); None where it has the default."""
        credentials = await self.store.smpp_credentials(account_id)
        return (credentials.max_binds, credentials.mps) if credentials else (None, None)

    async def hold_smpp_bind(
        self,
        account_id: int,
        owner: str,
        limit: int,
        lease: timedelta,
        *,
        bind_type: str = "",
        address: str = "",
    ) -> int | None:
        """A bind row of `owner` for `lease`, or None when the account holds `limit`."""
        now = self.clock()
        return await self.store.hold_smpp_bind(
            account_id, owner, limit, now, now + lease, bind_type=bind_type, address=address
        )

    async def renew_smpp_binds(
        self, owner: str, lease: timedelta, seen: Sequence[tuple[int, int, int]] = ()
    ) -> None:
        """Renew `owner`'s rows; `seen` (bind id, window in use, thousandths of msgs/s)."""
        await self.store.renew_smpp_binds(owner, self.clock() + lease, seen)

    async def smpp_binds_live(self) -> list[SmppBindSeen]:
        """Live binds of every process and node, for the console (docs/smpp.md "Seen")."""
        return await self.store.smpp_binds_live(self.clock())

    async def release_smpp_bind(self, bind_id: int) -> None:
        await self.store.release_smpp_bind(bind_id)

    async def smpp_bind_owners(self, account_id: int) -> int:
        """How many processes serve binds of the account now (at least 1 while bound)."""
        return await self.store.smpp_bind_owners(account_id, self.clock())
