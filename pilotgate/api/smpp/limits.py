"""Limits per account on PilotGate's SMSC side (docs/smpp.md "Limits"): concurrent binds
and messages per second, each the account's own or the operator's default.

- Binds are counted in the database (a row per bound session, `hold_smpp_bind`), so the
  ceiling holds across processes and nodes: a bind past it is refused ESME_RBINDFAIL.
  This process renews its rows every `lease / 3` seconds; the rows of a process that died
  stop counting when their lease runs out.
- The rate is a token bucket in this process, shared fairly between the processes that
  serve the account: each gets `mps / owners` (at least 1), `owners` being the processes
  holding live bind rows of the account, re-read with each renewal. A submit past it is
  answered ESME_RTHROTTLED at once: never dropped, never queued. Why not a bucket in the
  database: it would cost a write per submit_sm (docs/decisions.md "SMPP limits per
  account"); the price of the share is that a process whose binds are idle leaves its
  share unused.
- What the console shows of each session (docs/smpp.md "Seen"): the renewal also writes
  each session's window in use and its rate over the interval since the last renewal, in
  the one statement that renews the rows; sessions only count their sends in memory.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pilotgate.domain import routing
from pilotgate.errors import GatewayError
from pilotgate.gateway import Gateway

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class LimitSettings:
    #: Concurrent binds of one account across every process (0: no ceiling).
    max_binds: int = 10
    #: Messages per second of one account across every process (0: no ceiling).
    mps: int = 0
    #: Seconds a bind row lives unless renewed (a dead process's binds count this long).
    lease: float = 15.0


@dataclass(slots=True)
class _Rate:
    mps: int  # the account's whole rate; 0 none
    share: int = 0  # this process's part of it
    tokens: int = 0
    at: datetime | None = None
    binds: set[int] = field(default_factory=set)


#: A session's (requests in flight, sends accepted since its bind), read at each renewal.
Use = Callable[[], tuple[int, int]]


@dataclass(slots=True)
class _Seen:
    use: Use
    sent: int = 0  # sends accepted as of the last renewal
    at: float = 0.0  # the event loop's time then


class AccountLimits:
    """This process's bind rows and rate buckets, one for the SmppServer."""

    def __init__(self, gateway: Gateway, settings: LimitSettings) -> None:
        self._gateway, self._settings = gateway, settings
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._rates: dict[int, _Rate] = {}
        self._lease = timedelta(seconds=settings.lease)
        self._seen: dict[int, _Seen] = {}

    async def hold(
        self, account_id: int, bind_type: str = "", address: str = "", use: Use | None = None
    ) -> int | None:
        """A bind row for a session of the account, or None when it has its ceiling; `use`
        tells the renewal the session's window in use and sends so far."""
        max_binds, mps = await self._gateway.smpp_limits(account_id)
        limit = self._settings.max_binds if max_binds is None else max_binds
        bind_id = await self._gateway.hold_smpp_bind(
            account_id,
            self.owner,
            limit if limit > 0 else 2**31,
            self._lease,
            bind_type=bind_type,
            address=address,
        )
        if bind_id is None:
            return None
        if use is not None:
            self._seen[bind_id] = _Seen(use, 0, asyncio.get_running_loop().time())
        rate = self._rates.setdefault(account_id, _Rate(0))
        rate.mps = self._settings.mps if mps is None else mps
        rate.binds.add(bind_id)
        await self._share(account_id, rate)
        return bind_id

    async def release(self, account_id: int, bind_id: int) -> None:
        self._seen.pop(bind_id, None)
        rate = self._rates.get(account_id)
        if rate is not None:
            rate.binds.discard(bind_id)
            if not rate.binds:
                del self._rates[account_id]
        try:
            await self._gateway.release_smpp_bind(bind_id)
        except GatewayError:  # its lease runs out instead
            log.warning("SMPP bind row %d not released", bind_id)

    def admit(self, account_id: int, want: int = 1) -> bool:
        """Take `want` messages from the account's bucket here: all or none."""
        rate = self._rates.get(account_id)
        if rate is None or rate.mps <= 0:
            return True
        now = self._gateway.clock()
        want = min(want, rate.share)  # a submit_multi wider than a second's worth still goes
        granted, left = routing.grant(rate.tokens, rate.at, now, rate.share, want)
        if granted < want:
            return False
        rate.tokens, rate.at = left, now
        return True

    async def run(self) -> None:
        """Renew this process's bind rows and re-read each account's share, until cancelled."""
        while True:
            await asyncio.sleep(self._settings.lease / 3)
            try:
                await self._gateway.renew_smpp_binds(self.owner, self._lease, self.seen())
                for account_id, rate in list(self._rates.items()):
                    await self._share(account_id, rate)
            except GatewayError:  # the database is away: try again at the next tick
                log.warning("SMPP bind rows not renewed", exc_info=True)

    def seen(self) -> list[tuple[int, int, int]]:
        """(bind id, window in use, thousandths of msgs/s since the last call) per session."""
        now, rows = asyncio.get_running_loop().time(), []
        for bind_id, seen in self._seen.items():
            window, sent = seen.use()
            elapsed = now - seen.at
            rate = round((sent - seen.sent) * 1000 / elapsed) if elapsed > 0 else 0
            seen.sent, seen.at = sent, now
            rows.append((bind_id, window, rate))
        return rows

    def window_used(self) -> int:
        """Requests in flight across this process's sessions (for /metrics)."""
        return sum(seen.use()[0] for seen in self._seen.values())

    async def _share(self, account_id: int, rate: _Rate) -> None:
        owners = await self._gateway.smpp_bind_owners(account_id)
        rate.share = max(1, rate.mps // max(1, owners)) if rate.mps > 0 else 0
