"""Every password check of the gateway, in one place: API-1 and API-2 `login`+`password`, the
cabinet's and the console's login form, and the current password of the change-password forms.

- One lockout. After `lockout_attempts` failures for one login from one address within
  `lockout_window`, that address is refused for that login, right password or not, until the
  window has passed; a success clears the count. Failures are rows in the database
  (`login_failures`), so every process of the gateway and every way in share one count: a
  customer's guesses through API-1, API-2, the cabinet and SMPP binds add up.
- The same time for unknown logins. A login without an account is verified against a dummy
  hash made with the same argon2 parameters, so refusing it costs what refusing a wrong
  password costs and the time of an answer does not tell which e-mails have accounts.
- A bounded cost. One verification takes 64 MiB and 0.1-0.2 s of CPU (argon2-cffi's defaults).
  It runs in a pool of its own of `threads` threads, never on the event loop nor in the
  default executor the rest of the process shares; at most `queue` more checks wait for the
  pool, and any beyond are refused at once (BUSY). A flood of guesses thus holds at most
  `threads` × 64 MiB and does not delay requests that authenticate with an API key.
- Right passwords are remembered for a while. A client that sends `login`+`password` with
  every request (the API allows it) would otherwise pay a verification per send and be held
  to a few sends a second by the pool. A keyed digest of (stored hash, password) that verified
  is kept for `remember` in a bounded table; a password change makes a new stored hash, so
  the entry no longer matches. A wrong password never matches an entry, and the lockout is
  asked before the table, so a guess during a lockout is refused as before.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import secrets
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

import argon2

from pilotgate.storage.roles import OperatorStore

#: What unknown logins are verified against: a hash of a random password nobody kept, made with
#: argon2-cffi's default parameters (replaced on first use if the hasher's parameters differ).
DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$4znsxnvmOFIogWA0hYveHA"
    "$E+rXAk+boFJOo7VZzxRZNr+GURDVPmB8wjC8lWpn+jE"
)


class PasswordOutcome(enum.Enum):
    RIGHT = "right"
    WRONG = "wrong"  # a wrong password, or no such login
    LOCKED = "locked"  # too many failures lately: not checked at all
    BUSY = "busy"  # too many checks waiting: not checked at all, not counted as a failure


@dataclass(frozen=True, slots=True, kw_only=True)
class PasswordSettings:
    lockout_attempts: int = 5
    lockout_window: timedelta = timedelta(minutes=15)
    #: Verifications that run at once (each holds `hash_memory_kib` while it runs).
    threads: int = 1
    #: argon2id's parameters for new hashes (argon2-cffi's defaults).
    hash_memory_kib: int = 65536
    hash_passes: int = 3
    hash_lanes: int = 4
    #: Checks that may wait for a thread; more are refused with BUSY.
    queue: int = 32
    #: How long a password that verified is taken as right without a new verification.
    remember: timedelta = timedelta(minutes=5)
    #: At most this many remembered (login, password) pairs per process; the oldest go first.
    remember_entries: int = 10_000


def who(kind: str, login: str, client_ip: str) -> str:
    """The lockout's key: kind 'c' for a customer (API-1, API-2 and cabinet alike: one count),
    'o' for a console operator. E-mails are compared without case, as logins are."""
    return f"{kind}:{login.strip().lower()[:320]}|{client_ip}"


class Passwords:
    """Hashes new passwords and checks given ones (see the module's docstring)."""

    def __init__(
        self,
        store: OperatorStore,
        clock: Callable[[], datetime],
        settings: PasswordSettings | None = None,
    ) -> None:
        self._store, self._clock = store, clock
        self.settings = settings or PasswordSettings()
        self._hasher = argon2.PasswordHasher(
            time_cost=self.settings.hash_passes,
            memory_cost=self.settings.hash_memory_kib,
            parallelism=self.settings.hash_lanes,
        )
        threads = max(1, self.settings.threads)
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="pilotgate-argon2")
        self._slots = asyncio.Semaphore(threads)
        self._pending = 0  # checks holding or waiting for a slot
        self._limit = threads + max(0, self.settings.queue)
        # The same cost as a real hash needs the same parameters; a new dummy is made on
        # first use, not here, when they differ: every CLI command builds a gateway.
        self._dummy: str | None = (
            None if self._hasher.check_needs_rehash(DUMMY_HASH) else DUMMY_HASH
        )
        # Keyed by a per-process secret: the table never holds anything a password could be
        # recovered from offline, even in a core dump.
        self._secret = secrets.token_bytes(32)
        self._remembered: OrderedDict[bytes, datetime] = OrderedDict()

    def hash(self, password: str) -> str:
        """The argon2 hash to store for a new password (blocking: for the CLI)."""
        return self._hasher.hash(password)

    async def hash_async(self, password: str) -> str:
        """The same, off the event loop, in the bounded pool."""
        async with self._slots:
            return await asyncio.get_running_loop().run_in_executor(
                self._pool, self._hasher.hash, password
            )

    async def check(self, key: str, stored: str | None, password: str) -> PasswordOutcome:
        """Whether `password` matches the `stored` hash (None: no such login) for the login
        and address `key` (see `who`), counting failures towards its lockout."""
        failures = await self._failures(key)
        if failures >= self.settings.lockout_attempts:
            return PasswordOutcome.LOCKED
        token = self._token(stored, password)
        if token is not None and self._recalled(token):
            if failures:
                await self._store.clear_login_failures(key)
            return PasswordOutcome.RIGHT
        if self._pending >= self._limit:
            return PasswordOutcome.BUSY
        self._pending += 1
        try:
            async with self._slots:
                # Asked again: failures recorded while this check waited count too, so a
                # burst of guesses gets at most `threads` more verifications than allowed.
                if await self._failures(key) >= self.settings.lockout_attempts:
                    return PasswordOutcome.LOCKED
                right = await asyncio.get_running_loop().run_in_executor(
                    self._pool, self._verify, stored, password
                )
                if not right:
                    await self._store.record_login_failure(key, self._clock())
                    return PasswordOutcome.WRONG
        finally:
            self._pending -= 1
        if token is not None:
            self._remember(token)
        await self._store.clear_login_failures(key)
        return PasswordOutcome.RIGHT

    async def _failures(self, key: str) -> int:
        since = self._clock() - self.settings.lockout_window
        return await self._store.login_failures(key, since)

    def _token(self, stored: str | None, password: str) -> bytes | None:
        if stored is None or self.settings.remember <= timedelta(0):
            return None
        material = stored.encode() + b"\0" + password.encode("utf-8", "surrogatepass")
        return hashlib.blake2b(material, key=self._secret, digest_size=32).digest()

    def _recalled(self, token: bytes) -> bool:
        until = self._remembered.get(token)
        if until is None:
            return False
        if until <= self._clock():
            del self._remembered[token]
            return False
        return True

    def _remember(self, token: bytes) -> None:
        self._remembered[token] = self._clock() + self.settings.remember
        self._remembered.move_to_end(token)
        while len(self._remembered) > max(0, self.settings.remember_entries):
            self._remembered.popitem(last=False)

    def _verify(self, stored: str | None, password: str) -> bool:
        """Runs in the pool. An unknown login costs one verification like any other."""
        if stored is None:
            if self._dummy is None:
                self._dummy = self._hasher.hash(secrets.token_urlsafe(32))
            self.verify_hash(self._dummy, password)
            return False
        return self.verify_hash(stored, password)

    def verify_hash(self, stored: str, password: str) -> bool:
        """One argon2 verification (a seam: tests count the calls)."""
        try:
            return bool(self._hasher.verify(stored, password))
        except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
            return False
