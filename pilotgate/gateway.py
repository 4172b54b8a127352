"""The use cases of PilotGate, shared by every API (API-1 today, API-2 and the dashboard
later): authenticate, send, check, balance, info, inbound, sender names.

Each raises `ApiError` with the catalogue code for an outcome the caller should see; the API
layer renders it. Nothing here knows about HTTP or SQL.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import argon2

from pilotgate.domain import (
    accounts,
    checks,
    params,
    phones,
    referrals,
    routing,
    senders as sender_rules,
    stoplist,
    text as texts,
)
from pilotgate.domain.accounts import Account
from pilotgate.domain.channels import CHECK_TEXTS, SPECIAL_SENDERS, VIBER_MAX_CHARS, Channel
from pilotgate.domain.messages import Draft, Message, Status
from pilotgate.domain.senders import SenderState
from pilotgate.domain.tariffs import Tariff
from pilotgate.errors import ApiError, ConflictError, InsufficientFundsError
from pilotgate.pipeline import metrics
from pilotgate.storage.base import Inbound, Sender, Store, Submitted

#: Characters a voice text may have; longer ones are refused with 221 before a call is made.
VOICE_MAX_CHARS = 1000


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
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
    #: The referrer's share of a referred account's spending, in percent (COMPAT §14).
    referral_percent: int = 10


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


class Gateway:
    def __init__(
        self,
        store: Store,
        clock: Callable[[], datetime],
        policy: Policy | None = None,
        callback_check: CallbackCheck = _allow_any,
    ) -> None:
        self.store = store
        self.clock = clock
        self.policy = policy or Policy()
        self.callback_check = callback_check
        self._hasher = argon2.PasswordHasher()
        self._tariffs: dict[int, tuple[Tariff, datetime]] = {}
        self._routing: tuple[routing.RoutingTable, datetime] | None = None

    # auth ------------------------------------------------------------------------------------
    def hash_password(self, password: str) -> str:
        return self._hasher.hash(password)

    async def authenticate(self, credentials: Credentials, client_ip: str) -> Account:
        """The account behind an apikey or login+password, or the matching error
        (100, 101, 102, 105-107, 113, 400, 401)."""
        account = await self._find_account(credentials)
        code = accounts.BLOCK_CODES.get(account.state)
        if code:
            raise ApiError(code)
        if not params.ip_allowed(client_ip, account.allow_ip):
            raise ApiError(113)
        return account

    async def _find_account(self, credentials: Credentials) -> Account:
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
        if account is None or not await asyncio.to_thread(self._verify, account, password):
            raise ApiError(400)
        return account

    def _verify(self, account: Account, password: str) -> bool:
        try:
            return bool(self._hasher.verify(account.password_hash, password))
        except argon2.exceptions.VerificationError:
            return False
        except argon2.exceptions.InvalidHashError:
            return False

    # send ------------------------------------------------------------------------------------
    async def send(self, account: Account, request: SendRequest) -> SendResult:
        """Validate, price, store and debit one API-1 send (COMPAT §5)."""
        now = self.clock()
        template = await self._template(account, request, now, _SenderNames(self.store, account))
        if not request.to:
            raise ApiError(108)
        raw = phones.split_list(request.to)
        if not raw:
            raise ApiError(108)
        if len(raw) > self.policy.max_recipients:
            raise ApiError(240, detail=f"more than {self.policy.max_recipients} recipients")
        if template.channel in checks.CHECK_CHANNELS and len(raw) > checks.MAX_NUMBERS:
            raise ApiError(240, detail=f"more than {checks.MAX_NUMBERS} numbers to check")
        tariff = await self.tariff(account.tariff_id)
        table = await self._table(account, request.test)
        drafts = checks.plan(  # HLRVIP: a PING leg where the HLR route is unreliable
            self._per_recipient(raw, template, tariff, table, self.policy.emulator_route),
            tariff,
            table,
        )
        drafts = await self._screen(account, drafts, now, within_request=False)
        failed = [draft for draft in drafts if draft.error]
        # The whole-request rule (COMPAT §5.4): more failures than successes fail it all.
        if failed and len(failed) > len(drafts) - len(failed):
            raise ApiError(failed[0].error, phone=failed[0].phone)
        # Checked last: it resolves the host, which no request that fails otherwise should wait
        # for. Where callbacks may go is the operator's rule (docs/decisions.md).
        if template.callback and await self.callback_check(template.callback) is not None:
            raise ApiError(260)
        drafts = self._default_callback(account, drafts)
        cost = sum(draft.price for draft in drafts)
        if request.cost_only:
            return SendResult(
                items=[(0, d) for d in drafts], cost=cost, balance=account.balance, packet_id=0
            )
        stored = await self._submit(account, drafts, now)
        return SendResult(
            items=list(zip(stored.server_ids, drafts, strict=True)),
            cost=cost,
            balance=stored.balance,
            packet_id=stored.server_ids[0],
            created=now,
        )

    async def send_packet(
        self, account: Account, requests: Sequence[SendRequest], *, cost_only: bool = False
    ) -> PacketResult:
        """Validate, price, store and debit an API-2 packet of different messages (COMPAT §12).

        Each request names one recipient and is judged alone, by the same rules as an API-1
        send: a failing one becomes its error code in `items`, never an exception. The valid
        ones are stored and debited in one transaction, all or none (112: none).
        """
        now = self.clock()
        names = _SenderNames(self.store, account)
        tariff = await self.tariff(account.tariff_id)
        table = await self._table(account, test=False)
        outcomes: list[Draft | int] = []
        for request in requests:
            try:
                template = await self._template(account, request, now, names)
                if not (request.to or "").strip():
                    raise ApiError(108)
                (draft,) = self._per_recipient(
                    [request.to or ""],
                    template,
                    tariff,
                    None if request.test else table,
                    self.policy.emulator_route,
                )
            except ApiError as exc:
                outcomes.append(exc.code)
            else:
                outcomes.append(draft.error or draft)
        screened = iter(
            await self._screen(account, [o for o in outcomes if isinstance(o, Draft)], now)
        )
        outcomes = [o if isinstance(o, int) else next(screened) for o in outcomes]
        outcomes = [o.error or o if isinstance(o, Draft) else o for o in outcomes]
        refused = await self._refused_origins(
            o.callback for o in outcomes if isinstance(o, Draft) and o.callback
        )
        if refused:
            outcomes = [
                260 if isinstance(o, Draft) and _origin(o.callback or "") in refused else o
                for o in outcomes
            ]
        valid = self._default_callback(account, [o for o in outcomes if isinstance(o, Draft)])
        cost = sum(draft.price for draft in valid)
        if cost_only or not valid:
            items = [(0, o) if isinstance(o, Draft) else o for o in outcomes]
            return PacketResult(items=items, cost=cost, balance=account.balance, packet_id=0)
        stored = await self._submit(account, valid, now)
        accepted = iter(zip(stored.server_ids, valid, strict=True))
        return PacketResult(
            items=[next(accepted) if isinstance(o, Draft) else o for o in outcomes],
            cost=cost,
            balance=stored.balance,
            packet_id=stored.server_ids[0],
            created=now,
        )

    async def _template(
        self, account: Account, request: SendRequest, now: datetime, names: _SenderNames
    ) -> Draft:
        """What one text decides whatever its recipients: channel, sender, parts, schedule,
        ttl and callback; errors in the order API-1 has always checked them."""
        channel, sender = await self._sender_and_channel(account, request, names)
        parts = self._parts(request.text, channel)
        when = params.send_datetime(request.send_datetime, now) if request.send_datetime else None
        ttl = params.ttl(request.ttl) if request.ttl else None
        callback = params.callback_url(request.callback) if request.callback else None
        method = params.callback_method(request.callback_method or "")
        validity = (
            timedelta(minutes=ttl)
            if ttl
            else timedelta(seconds=self.policy.default_validity_seconds)
        )
        return Draft(
            phone="",
            sender=sender,
            text=request.text,
            parts=parts,
            channel=channel,
            price=0,
            status=Status.SCHEDULED if when else Status.ACCEPTED,
            error=0,
            send_datetime=when,
            ttl=ttl,
            callback=callback,
            callback_method=method if callback else None,
            country="",
            operator="",
            test=request.test,
            expires_at=(when or now) + validity,
        )

    async def _screen(
        self, account: Account, drafts: list[Draft], now: datetime, *, within_request: bool = True
    ) -> list[Draft]:
        """Stop lists (212) and loop protection (243), per recipient (COMPAT §5.4): one query
        for the stop lists and, when the account's window is on, one for its recent texts,
        whatever the number of recipients."""
        phones_ = [d.phone for d in drafts if not d.error]
        if not phones_:
            return drafts
        stopped = await self.store.stopped(account.id, phones_)
        window = account.loop_window
        if window is None:
            window = self.policy.loop_window_seconds
        recent: set[tuple[str, str]] = set()
        if window > 0:
            since = now - timedelta(seconds=window)
            recent = await self.store.recent_texts(account.id, phones_, since)
        return stoplist.screen(
            drafts, stopped, recent, loop_protection=window > 0, within_request=within_request
        )

    async def link_referrer(self, account: Account, raw: str | None) -> bool:
        """Record the `r=` of a request as the account's referrer, once (COMPAT §14): never
        itself, never changed later; a value naming no account is ignored."""
        referrer = referrals.referrer_id(raw, account.id, account.referrer_id)
        if referrer is None:
            return False
        return await self.store.link_referrer(account.id, referrer, self.policy.referral_percent)

    async def _refused_origins(self, urls: Iterable[str]) -> set[str]:
        """The origins among `urls` that callbacks may not reach. Where a callback may go
        depends on its scheme, host and port only, and a packet's callback URLs usually
        differ in their query alone: each origin is resolved once, all of them at once."""
        origins = list({_origin(url) for url in urls})
        verdicts = await asyncio.gather(*(self.callback_check(o) for o in origins))
        return {origin for origin, why in zip(origins, verdicts, strict=True) if why is not None}

    async def _table(self, account: Account, test: bool) -> routing.RoutingTable | None:
        """The routing table, or None when everything goes to the emulator: test=1 and the
        demo account never leave the gateway."""
        if test or account.email in self.policy.emulator_emails:
            return None
        return await self.routing()

    @staticmethod
    def _default_callback(account: Account, drafts: list[Draft]) -> list[Draft]:
        """The account's default status URL, fixed into each message without its own when it
        is sent, so the database writes a callback job only for messages that have a URL."""
        if not account.status_url:
            return drafts
        return [
            d
            if d.callback
            else dataclasses.replace(
                d, callback=account.status_url, callback_method=account.status_method
            )
            for d in drafts
        ]

    async def _submit(self, account: Account, drafts: list[Draft], now: datetime) -> Submitted:
        try:
            stored = await self.store.submit(account.id, drafts, now)
        except InsufficientFundsError:
            raise ApiError(112) from None
        # Counted per kind, not per message: a label lookup per message of a 10,000-item
        # packet would cost more than the rest of its bookkeeping.
        kinds = collections.Counter((draft.channel, str(int(draft.status))) for draft in drafts)
        for (channel, status), count in kinds.items():
            metrics.MESSAGES_ACCEPTED.labels(channel, status).inc(count)
        return stored

    @staticmethod
    def _per_recipient(
        raw: Sequence[str],
        template: Draft,
        tariff: Tariff,
        table: routing.RoutingTable | None,
        emulator: str,
    ) -> list[Draft]:
        """One draft per distinct phone: routed and priced, or failed with its error (213 when
        no tariff row or no route serves it). Without a table, everything goes to `emulator`."""
        drafts: list[Draft] = []
        seen: set[str] = set()
        for item in raw:
            checked = phones.check(item)
            if checked.phone in seen:
                continue  # one message per distinct phone
            seen.add(checked.phone)
            error, price, operator, via = checked.error, 0, "", emulator
            if not error:
                rate = tariff.rate(checked.phone, template.channel)
                route = table.route(checked.phone, template.channel) if table else None
                if rate is None or (table is not None and route is None):
                    error = 213
                else:
                    price, operator = rate.price * template.parts, rate.operator
                    via = ",".join(route.connectors) if route else emulator
            drafts.append(
                dataclasses.replace(
                    template,
                    phone=checked.phone,
                    price=price,
                    status=Status.ERROR if error else template.status,
                    error=error,
                    country=checked.country,
                    operator=operator,
                    route="" if error else via,
                )
            )
        return drafts

    async def _sender_and_channel(
        self, account: Account, request: SendRequest, names: _SenderNames
    ) -> tuple[Channel, str]:
        check_channel = CHECK_TEXTS.get(request.text.strip().upper())
        if check_channel is not None:
            return check_channel, request.text.strip().upper()
        sender = request.sender or account.default_sender or self.policy.default_sender
        special = SPECIAL_SENDERS.get(sender.upper())
        if special is not None:
            return special, sender.upper()
        if not sender_rules.is_valid(sender):
            raise ApiError(115)
        if sender != self.policy.default_sender and not account.any_sender:
            if sender not in await names.approved():
                raise ApiError(204)
        return Channel.SMS, sender

    def _parts(self, text: str, channel: Channel) -> int:
        if not text:
            raise ApiError(220)
        if channel is Channel.SMS:
            # A quick bound first, so a 100 KB text is refused without being cut up.
            if len(text) > self.policy.max_parts * texts.GSM_MULTI:
                raise ApiError(221)
            parts = texts.count_parts(text)
            if parts > self.policy.max_parts:
                raise ApiError(221)
            return parts
        if channel is Channel.FLASHCALL:
            if not (text.isdigit() and text.isascii() and 4 <= len(text) <= 6):
                raise ApiError(221, detail="a flash call code is 4-6 digits")
        elif channel is Channel.VIBER and len(text) > VIBER_MAX_CHARS:
            raise ApiError(221)
        elif channel is Channel.VOICE and len(text) > VOICE_MAX_CHARS:
            raise ApiError(221)
        return 1

    async def routing(self) -> routing.RoutingTable:
        """The routing table, cached like tariffs (CLI changes show up within seconds)."""
        now = self.clock()
        if self._routing and now - self._routing[1] < timedelta(
            seconds=self.policy.tariff_cache_seconds
        ):
            return self._routing[0]
        table = routing.RoutingTable(await self.store.routes())
        self._routing = (table, now)
        return table

    async def tariff(self, tariff_id: int) -> Tariff:
        """The account's tariff, cached for a few seconds (CLI imports show up that fast)."""
        now = self.clock()
        cached = self._tariffs.get(tariff_id)
        if cached and now - cached[1] < timedelta(seconds=self.policy.tariff_cache_seconds):
            return cached[0]
        tariff = Tariff(tariff_id, await self.store.tariff_rates(tariff_id))
        self._tariffs[tariff_id] = (tariff, now)
        return tariff

    # check, balance, info -----------------------------------------------------------------------
    async def check(self, account: Account, ids: Sequence[int]) -> dict[int, Message]:
        """The caller's own messages among `ids`, by id (others' ids are absent)."""
        return {m.server_id: m for m in await self.store.messages_by_id(account.id, ids)}

    async def recent(
        self, account: Account, *, hours: int | None, limit: int, offset: int
    ) -> list[Message]:
        since = self.clock() - timedelta(hours=hours) if hours else None
        return await self.store.find_messages(account.id, since=since, limit=limit, offset=offset)

    async def packet(
        self, account: Account, packet_id: int, *, limit: int, offset: int
    ) -> list[Message]:
        return await self.store.find_messages(
            account.id, packet_id=packet_id, limit=limit, offset=offset
        )

    async def balance_sms(self, account: Account) -> int:
        """How many one-part SMS to the home country the balance buys."""
        tariff = await self.tariff(account.tariff_id)
        home = phones.clean(account.phone) if account.phone else self.policy.home_prefix
        rate = tariff.rate(home, Channel.SMS) or tariff.rate(self.policy.home_prefix, Channel.SMS)
        if rate is None or rate.price == 0:
            return 0
        return account.balance // rate.price

    async def approved_senders(self, account: Account) -> list[str]:
        return [
            s.name for s in await self.store.senders(account.id) if s.state is SenderState.APPROVED
        ]

    # inbound and senders -------------------------------------------------------------------------
    async def inbound(self, account: Account, value: str) -> list[Inbound]:
        """`all`, `new`, a `YYYY-MM-DD HH:MM:SS` time or a unix time; else 500."""
        value = value.strip().lower()
        if value == "all":
            return await self.store.inbound(account.id)
        if value == "new":
            return await self.store.inbound(account.id, only_new=True)
        since = params.parse_time(value)
        if since is None:
            raise ApiError(500)
        return await self.store.inbound(account.id, since=since)

    async def add_sender(
        self, account: Account, name: str, description: str, callback: str
    ) -> Sender:
        """A request for a sender name, to be approved by an operator (640-645)."""
        name, description, callback = name.strip(), description.strip(), callback.strip()
        if not name:
            raise ApiError(640)
        if not sender_rules.is_valid(name) or name.upper() in SPECIAL_SENDERS:
            raise ApiError(641)
        if any(s.name.lower() == name.lower() for s in await self.store.senders(account.id)):
            raise ApiError(642)
        if not description:
            raise ApiError(643)
        if not callback:
            raise ApiError(644)
        if not sender_rules.is_email(callback):
            try:
                params.callback_url(callback)
            except ApiError:
                raise ApiError(645) from None
        try:
            return await self.store.add_sender(
                account.id, name, description[:1000], callback, SenderState.PENDING, self.clock()
            )
        except ConflictError:
            raise ApiError(642) from None

    async def senders(self, account: Account) -> list[Sender]:
        return await self.store.senders(account.id)

    # monitoring ------------------------------------------------------------------------------
    async def metrics(self) -> bytes:
        """The Prometheus exposition: this process's counters and the queue from storage."""
        return metrics.exposition(await self.store.queue_stats(self.clock()))
