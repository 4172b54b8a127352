"""Each account's rates as the API reads them (domain/rates.py): cached like its
protections, and the API requests per second enforced with tokens this process takes from
the account's bucket in the database a slice at a time, so a request costs a database write
only once per slice, and a refused flood none until the bucket has grown a slice back."""

from __future__ import annotations

import asyncio

from pilotgate.domain import rates as rules
from pilotgate.domain.accounts import Account
from pilotgate.domain.rates import Rates
from pilotgate.errors import TooFastError

from .core import GatewayCore


class Pacing(GatewayCore):
    async def rates(self, account_id: int) -> Rates:
        """The account's own rates, read at most once per `tariff_cache_seconds`."""
        return await self._rates.get(account_id, lambda: self.store.rates(account_id))

    def forget_rates(self, account_id: int) -> None:
        """Read the account's rates afresh on its next request (this process changed
        them), and drop the tokens held for the old rate."""
        self._rates.forget(account_id)
        self._leases.pop(account_id, None)

    def api_rps(self, rates: Rates) -> int:
        return rules.effective(rates.api_rps, self.policy.default_api_rps)

    async def pace(self, account: Account) -> None:
        """Let one API request of `account` through, or raise TooFastError (223, HTTP 429)
        when it is past its requests per second, in every process together."""
        rps = self.api_rps(await self.rates(account.id))
        if rps <= 0 or self._spent(account.id):
            return
        # One request at a time asks the database for the account's next slice; the ones
        # that queue meanwhile spend it (each asking for its own would throw away the
        # slices the others took when each replaced the lease).
        async with self._leasing.setdefault(account.id, asyncio.Lock()):
            if self._spent(account.id):
                return
            now = self.clock()
            granted, left = await self.store.take_api_tokens(
                account.id, rules.slice_of(rps), rps, now
            )
            self._leases[account.id] = rules.lease(granted, left, rps, now)
            if not self._spent(account.id):
                raise TooFastError(rules.TOO_FAST, rules.RETRY_AFTER)

    def _spent(self, account_id: int) -> bool:
        """Spend one of the tokens held for the account; False when there is none. Raises
        TooFastError while a refusal from the database still stands."""
        held = self._leases.get(account_id)
        if held is None:
            return False
        now = self.clock()
        spent = held.spend(now)
        if spent is not None:
            self._leases[account_id] = spent
            return True
        if not held.ask_again(now):
            raise TooFastError(rules.TOO_FAST, rules.RETRY_AFTER)
        return False
