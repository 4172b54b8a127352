"""What every use case shares: the policy, the request and result types, the caches of
tariffs and routes, and authentication (keys found by their SHA-256 digest, passwords checked
by `passwords.Passwords`: one lockout, one cost for unknown logins, a bounded pool)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from pilotgate.domain import (
    accounts,
    params,
    pumping as pumping_rules,
    routing,
    senders as sender_rules,
)
from pilotgate.domain.accounts import Account
from pilotgate.domain.messages import Draft
from pilotgate.domain.protections import Protections
from pilotgate.domain.rates import Lease, Rates
from pilotgate.domain.senders import SenderState
from pilotgate.domain.tariffs import Tariff
from pilotgate.errors import ApiError
from pilotgate.storage.roles import Store

from .fresh import Fresh
from .numbering import NumberingCache
from .passwords import PasswordOutcome, Passwords, who

#: Characters a voice text may have; longer ones are refused with 221 before a call is made.
VOICE_MAX_CHARS = 1000


@dataclass(frozen=True, slots=True, kw_only=True)
class GatewayPolicy:
    """The limits and defaults the use cases apply (from Settings, through bootstrap)."""

    max_recipients: int = 10_000
    max_parts: int = 10
    default_sender: str = "INFORM"
    home_prefix: str = "7"
    tariff_cache_seconds: float = 5.0
    default_validity_seconds: float = 86400.0
    #: Accounts whose messages always go to the emulator (the published demo key's).
    emulator_emails: frozenset[str] = frozenset()
    #: The connector test=1 messages and those accounts use.
    emulator_route: str = "emulator"
    #: Loop protection (243) window in seconds for accounts without their own; 0 = off.
    loop_window_seconds: int = 0
    #: The referrer's share of a referred account's spending, in percent (contract §14).
    referral_percent: int = 10
    #: Hours a reply is linked to the 2WAY message it answers (contract §13.5).
    two_way_hours: float = 72.0
    #: Longest speech of a voice call; a text surely longer to say is refused with 221.
    voice_max_seconds: float = 90.0
    #: Countries accounts without their own set may send to; None = Russia and the
    #: countries of `default_tariff` (contract §17.2).
    default_countries: frozenset[str] | None = None
    default_tariff: int = 1
    #: Messages per UTC day and month for accounts without their own caps; 0 = none.
    default_day_cap: int = 0
    default_month_cap: int = 0
    #: API requests and messages per second (leaving the queue: the workers' shaping) for
    #: accounts without their own rates; 0 = no limit.
    default_api_rps: int = 0
    default_mps: int = 0
    #: The SMS-pumping rules (domain/pumping.py); OFF holds nothing. The settings' defaults
    #: (`pumping = true`) give `pumping.DEFAULTS`, through bootstrap.
    pumping: pumping_rules.Rules = pumping_rules.OFF


#: Says why a callback URL may not be called, or None when it may (resolves the host).
CallbackCheck = Callable[[str], Awaitable[str | None]]


async def _allow_any(url: str) -> str | None:
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Credentials:
    apikey: str | None = None
    login: str | None = None
    password: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SendRequest:
    """One text to one or more recipients (API-1 `send`). Raw strings, `None` when absent."""

    text: str
    to: str | None
    sender: str | None = None
    send_datetime: str | None = None
    ttl: str | None = None
    callback: str | None = None
    callback_method: str | None = None
    test: bool = False
    cost_only: bool = False
    #: API-2: the item's own `id` as JSON text, stored so `check` can answer it back.
    client_id: str = ""
    #: SMPP: the receipt registered_delivery asks for (`Draft.smpp_receipt`).
    smpp_receipt: int = 0
    #: The API caller's address: the SMS-pumping rules count per address too ("" unknown).
    source: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class SendResult:
    """Accepted and failed items in request order, with their server_ids (0 for cost_only)."""

    items: list[tuple[int, Draft]]
    cost: int
    balance: int
    packet_id: int
    #: When the messages were stored (their `created`/`modified`); None for cost_only.
    created: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PacketResult:
    """One item per request of an API-2 packet, in order: `(server_id, draft)` when accepted
    (server_id 0 for cost_only), else the request's error code."""

    items: list[tuple[int, Draft] | int]
    cost: int
    balance: int
    packet_id: int
    created: datetime | None = None


def _origin(url: str) -> str:
    """`scheme://user@host:port/` of a URL that `params.callback_url` accepted."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


class _SenderNames:
    """The account's approved sender names, read at most once per request: a packet of
    10,000 items from one registered name must not read them 10,000 times."""

    def __init__(self, store: Store, account: Account) -> None:
        self._store, self._account = store, account
        self._names: frozenset[str] | None = None

    async def approved(self) -> frozenset[str]:
        if self._names is None:
            senders = await self._store.senders(self._account.id)
            self._names = frozenset(s.name for s in senders if s.state is SenderState.APPROVED)
        return self._names


class GatewayCore:
    """What every use case shares: the store, the policy, caches, authentication."""

    def __init__(
        self,
        store: Store,
        clock: Callable[[], datetime],
        policy: GatewayPolicy | None = None,
        callback_check: CallbackCheck = _allow_any,
        passwords: Passwords | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.policy = policy or GatewayPolicy()
        self.callback_check = callback_check
        #: Every password check (API and dashboard) goes through this one object.
        self.passwords = passwords or Passwords(store, clock)
        ttl = self.policy.tariff_cache_seconds
        self._tariffs: Fresh[int, Tariff] = Fresh(self.now, ttl)
        self._routing: Fresh[None, routing.RoutingTable] = Fresh(self.now, ttl)
        #: The numbering plan's snapshot, reloaded when an import changes it (issue 17).
        self.numbering = NumberingCache(store, clock, self.policy.tariff_cache_seconds)
        #: Each account's protections as last read, and when (gateway/protecting.py).
        self._protections: Fresh[int, Protections] = Fresh(self.now, ttl)
        #: Each account's rates as last read, and the API tokens this process holds
        #: (gateway/rates.py).
        self._rates: Fresh[int, Rates] = Fresh(self.now, ttl)
        self._leases: dict[int, Lease] = {}
        self._leasing: dict[int, asyncio.Lock] = {}

    def now(self) -> datetime:
        """The gateway's clock, read through `self.clock` each time (tests replace it)."""
        return self.clock()

    # auth ------------------------------------------------------------------------------------
    def hash_password(self, password: str) -> str:
        return self.passwords.hash(password)

    async def authenticate(self, credentials: Credentials, client_ip: str) -> Account:
        """The account behind an apikey or login+password, or the matching error
        (100, 101, 102, 105-107, 110 when too many password checks wait, 113, 400, 401)."""
        return self.admitted(await self._find_account(credentials, client_ip), client_ip)

    @staticmethod
    def admitted(account: Account, client_ip: str | None = None) -> Account:
        """`account` if it may act now: not blocked (105-107) and, when `client_ip` is given,
        calling from its allow-list (113). The one rule for every way an account gets in."""
        code = accounts.BLOCK_CODES.get(account.state)
        if code:
            raise ApiError(code)
        if client_ip is not None and not params.ip_allowed(client_ip, account.allow_ip):
            raise ApiError(113)
        return account

    async def _find_account(self, credentials: Credentials, client_ip: str) -> Account:
        if credentials.apikey:
            if not accounts.is_key_shaped(credentials.apikey):
                raise ApiError(101)
            # The key is looked up by its SHA-256 digest: timing can at most reveal digest
            # prefixes, which say nothing usable about any key (no compare of raw keys).
            digest = accounts.key_digest(credentials.apikey)
            account = await self.store.account_by_key(digest)
            if account is None:
                raise ApiError(102)
            return account
        if credentials.login is None and credentials.password is None:
            raise ApiError(100)
        login, password = credentials.login or "", credentials.password or ""
        if not password or not sender_rules.is_email(login):
            raise ApiError(401)
        account = await self.store.account_by_email(login)
        outcome = await self.passwords.check(
            who("c", login, client_ip), account.password_hash if account else None, password
        )
        if outcome is PasswordOutcome.BUSY:
            # Too many password checks queued: nothing was checked, so not "wrong password"
            # but "try again", as for any other momentary failure.
            raise ApiError(110)
        # A lockout answers like a wrong password: the right one does not get through, and
        # the answer does not tell a guesser that this login exists.
        if outcome is not PasswordOutcome.RIGHT or account is None:
            raise ApiError(400)
        return account

    # send ------------------------------------------------------------------------------------
    async def routing(self) -> routing.RoutingTable:
        """The routing table, cached like tariffs (CLI changes show up within seconds)."""

        async def read() -> routing.RoutingTable:
            return routing.RoutingTable(await self.store.routes())

        return await self._routing.get(None, read)

    async def tariff(self, tariff_id: int) -> Tariff:
        """The account's tariff, cached for a few seconds (CLI imports show up that fast)."""

        async def read() -> Tariff:
            return Tariff(tariff_id, await self.store.tariff_rates(tariff_id))

        return await self._tariffs.get(tariff_id, read)

    # check, balance, info -----------------------------------------------------------------------
