"""The rate share of api/smpp/limits.py, on a gateway stub with a clock that moves only when
told: each process takes `mps / processes` of an account's rate, all or nothing per send."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pilotgate.api.smpp.limits import AccountLimits, LimitSettings


class _Gateway:
    def __init__(self, owners: int, own: tuple[int | None, int | None]) -> None:
        self.owners, self.own, self.now = owners, own, datetime(2026, 1, 1, tzinfo=UTC)
        self.held = 0

    def clock(self) -> datetime:
        return self.now

    async def smpp_limits(self, account_id: int) -> tuple[int | None, int | None]:
        return self.own

    async def hold_smpp_bind(self, *args: Any, **kwargs: Any) -> int:
        self.held += 1
        return self.held

    async def smpp_bind_owners(self, account_id: int) -> int:
        return self.owners

    async def release_smpp_bind(self, bind_id: int) -> None:
        return None


async def _limits(owners: int, own: tuple[int | None, int | None], mps: int = 0):
    gateway = _Gateway(owners, own)
    limits = AccountLimits(gateway, LimitSettings(mps=mps))  # type: ignore[arg-type]
    assert await limits.hold(7) is not None
    return gateway, limits


async def test_two_processes_each_take_half_the_accounts_rate():
    gateway, limits = await _limits(owners=2, own=(None, 10))
    assert [limits.admit(7) for _ in range(6)] == [True] * 5 + [False]
    gateway.now += timedelta(milliseconds=200)  # one more token at 5/s
    assert [limits.admit(7), limits.admit(7)] == [True, False]


async def test_the_default_rate_applies_and_none_means_no_limit():
    _, limited = await _limits(owners=1, own=(None, None), mps=3)
    assert [limited.admit(7) for _ in range(4)] == [True, True, True, False]
    _, free = await _limits(owners=1, own=(None, 0), mps=3)  # the account's own 0: none
    assert all(free.admit(7) for _ in range(1000))
    assert free.admit(8)  # an account not bound here is not this process's to limit


async def test_a_share_is_at_least_one_and_a_wide_submit_multi_still_goes():
    _, limits = await _limits(owners=5, own=(None, 2))
    assert [limits.admit(7), limits.admit(7)] == [True, False]
    _, wide = await _limits(owners=1, own=(None, 3))
    assert wide.admit(7, want=50)  # capped at a second's worth: all of it now
    assert not wide.admit(7)


async def test_the_renewal_reads_each_sessions_window_and_rate_from_memory():
    gateway = _Gateway(owners=1, own=(None, None))
    limits = AccountLimits(gateway, LimitSettings())  # type: ignore[arg-type]
    use = {"window": 0, "sent": 0}
    bind_id = await limits.hold(7, "transmitter", "127.0.0.1", lambda: (use["window"], use["sent"]))
    assert bind_id is not None
    use.update(window=4, sent=30)
    ((seen_id, window, rate),) = limits.seen()
    assert (seen_id, window) == (bind_id, 4) and rate > 0
    assert limits.window_used() == 4
    use.update(window=0)  # nothing sent since: the rate falls to 0
    assert [row[1:] for row in limits.seen()] == [(0, 0)]
    await limits.release(7, bind_id)
    assert limits.seen() == [] and limits.window_used() == 0
