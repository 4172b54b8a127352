"""The gateway's password checks (issue 12, item 5) on a real SQLite store, with argon2 seen
through a seam: an unknown login costs a verification like a wrong password, at most
`threads` verifications run at once, checks past the queue are refused at once, and an API
key still authenticates while a flood of guesses waits. The lockout lives in the database."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pilotgate import bootstrap, config
from pilotgate.domain import accounts
from pilotgate.errors import ApiError
from pilotgate.gateway import Credentials, Gateway, PasswordOutcome, Passwords, PasswordSettings
from pilotgate.gateway.passwords import DUMMY_HASH, who
from pilotgate.storage.base import NewAccount
from pilotgate.storage.roles import Store
from pilotgate.storage.sqlite import SqliteStore

PASSWORD = "right-password"
#: Generous bound for a thread to get going on a loaded machine; never reached when all is well.
WAIT = 60.0


class Counting(Passwords):
    """Records the hashes argon2 was asked to verify against."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.verified: list[str] = []

    def verify_hash(self, stored: str, password: str) -> bool:
        self.verified.append(stored)
        return super().verify_hash(stored, password)


class Gated(Passwords):
    """Verifications wait for `release`; records how many ran at once."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.release = threading.Event()
        self.entered = threading.Semaphore(0)
        self._lock = threading.Lock()
        self.running = self.most = 0

    def verify_hash(self, stored: str, password: str) -> bool:
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
        self.entered.release()
        try:
            self.release.wait(WAIT)
            return False
        finally:
            with self._lock:
                self.running -= 1


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = SqliteStore(str(tmp_path / "p.db"))
    await opened.upgrade()
    await bootstrap.ensure_defaults(opened, config.Settings())
    yield opened
    await opened.close()


async def new_account(store: Store, passwords: Passwords) -> tuple[str, str]:
    """A customer's e-mail and API key."""
    key = accounts.new_api_key()
    email = f"user-{key[:8].lower()}@example.com"
    await store.create_account(
        NewAccount(
            email=email,
            password_hash=passwords.hash(PASSWORD),
            key_digest=accounts.key_digest(key),
            tariff_id=config.Settings().default_tariff,
        ),
        now(),
    )
    return email, key


async def refused(gateway: Gateway, login: str, password: str) -> int:
    with pytest.raises(ApiError) as caught:
        await gateway.authenticate(Credentials(login=login, password=password), "10.0.0.1")
    return caught.value.code


async def test_an_unknown_login_costs_one_verification_like_a_wrong_password(
    store: Store,
) -> None:
    passwords = Counting(store, now)
    gateway = Gateway(store, now, passwords=passwords)
    email, _ = await new_account(store, passwords)
    account = await store.account_by_email(email)
    assert account is not None

    assert await refused(gateway, email, "wrong") == 400
    assert passwords.verified == [account.password_hash]
    assert await refused(gateway, "nobody@example.com", "wrong") == 400
    assert passwords.verified == [account.password_hash, DUMMY_HASH]
    # The cabinet's and console's logins hand an unknown e-mail over as None: the same cost.
    outcome = await passwords.check(who("o", "nobody@example.com", "10.0.0.1"), None, "x")
    assert outcome is PasswordOutcome.WRONG and passwords.verified[-1] == DUMMY_HASH
    # The dummy hash is made with the hasher's own parameters, so it costs the same.
    assert not passwords._hasher.check_needs_rehash(DUMMY_HASH)


async def test_a_locked_login_is_refused_without_a_verification(store: Store) -> None:
    passwords = Counting(store, now, PasswordSettings(lockout_attempts=3))
    gateway = Gateway(store, now, passwords=passwords)
    email, _ = await new_account(store, passwords)
    for _ in range(3):
        assert await refused(gateway, email, "wrong") == 400
    assert len(passwords.verified) == 3
    assert await refused(gateway, email, PASSWORD) == 400
    assert len(passwords.verified) == 3
    # From another address the account is not locked.
    found = await gateway.authenticate(Credentials(login=email, password=PASSWORD), "10.0.0.2")
    assert found.email == email


async def test_the_lockout_holds_across_processes(store: Store, tmp_path: Path) -> None:
    """Two gateways on one database (two processes of one installation) share the count."""
    other_store = SqliteStore(str(tmp_path / "p.db"))
    try:
        first = Gateway(store, now, passwords=Passwords(store, now))
        second = Gateway(other_store, now, passwords=Passwords(other_store, now))
        email, _ = await new_account(store, first.passwords)
        for _ in range(5):
            assert await refused(first, email, "wrong") == 400
        assert await refused(second, email, PASSWORD) == 400
    finally:
        await other_store.close()


async def test_a_flood_of_guesses_is_bounded_and_api_keys_still_get_in(store: Store) -> None:
    threads, queue, flood = 2, 5, 40
    settings = PasswordSettings(lockout_attempts=1000, threads=threads, queue=queue)
    passwords = Gated(store, now, settings)
    gateway = Gateway(store, now, passwords=passwords)
    email, key = await new_account(store, passwords)
    busy = flood - threads - queue
    results: list[int] = []
    all_busy = asyncio.Event()

    async def guess(n: int) -> None:
        results.append(await refused(gateway, email, f"guess-{n}"))
        if results.count(110) == busy:
            all_busy.set()

    tasks = [asyncio.create_task(guess(n)) for n in range(flood)]
    try:
        for _ in range(threads):
            assert await asyncio.to_thread(passwords.entered.acquire, timeout=WAIT)
        await asyncio.wait_for(all_busy.wait(), WAIT)
        # `threads` verifications run, `queue` checks wait, the rest were refused at once
        # with 110 ("try again") and nothing else is pending.
        assert passwords.running == threads and results == [110] * busy
        # An API key does not wait behind the queued password checks.
        account = await asyncio.wait_for(
            gateway.authenticate(Credentials(apikey=key), "10.0.0.1"), WAIT
        )
        assert account.email == email
        assert len(results) == busy
    finally:
        passwords.release.set()
        await asyncio.gather(*tasks)
    assert sorted(results) == [110] * busy + [400] * (threads + queue)
    assert passwords.most == threads


async def test_a_right_password_is_remembered_a_wrong_one_never(store: Store) -> None:
    # A client sending login+password with every request pays argon2 once per `remember`,
    # not per send; guesses and a changed password are verified (and counted) as before.
    passwords = Counting(store, now, PasswordSettings(lockout_attempts=3))
    stored = passwords.hash(PASSWORD)
    key = who("c", "client@example.com", "10.0.0.3")

    assert await passwords.check(key, stored, PASSWORD) is PasswordOutcome.RIGHT
    assert await passwords.check(key, stored, PASSWORD) is PasswordOutcome.RIGHT
    assert len(passwords.verified) == 1

    assert await passwords.check(key, stored, "wrong") is PasswordOutcome.WRONG
    assert len(passwords.verified) == 2

    changed = passwords.hash(PASSWORD)  # the same password set again: a new salt, a new hash
    assert await passwords.check(key, changed, PASSWORD) is PasswordOutcome.RIGHT
    assert len(passwords.verified) == 3


async def test_a_remembered_password_does_not_pass_a_lockout(store: Store) -> None:
    passwords = Counting(store, now, PasswordSettings(lockout_attempts=2))
    stored = passwords.hash(PASSWORD)
    key = who("c", "client@example.com", "10.0.0.4")
    assert await passwords.check(key, stored, PASSWORD) is PasswordOutcome.RIGHT
    for _ in range(2):
        assert await passwords.check(key, stored, "guess") is PasswordOutcome.WRONG

    assert await passwords.check(key, stored, PASSWORD) is PasswordOutcome.LOCKED


async def test_remembering_can_be_turned_off(store: Store) -> None:
    passwords = Counting(store, now, PasswordSettings(remember=timedelta(0)))
    stored = passwords.hash(PASSWORD)
    key = who("c", "client@example.com", "10.0.0.5")
    for _ in range(2):
        assert await passwords.check(key, stored, PASSWORD) is PasswordOutcome.RIGHT
    assert len(passwords.verified) == 2
