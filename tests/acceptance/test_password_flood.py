"""A flood of `login`+`password` guesses against a real gateway (issue 12, item 5): the
process's memory does not grow with the flood (32 concurrent guesses grew it from 73 to 418 MB:
argon2 takes 64 MiB per verification), and a customer's API-key send is answered while the
guesses are still waiting for their turn."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .support import TELE2, Account, Server, running

#: One argon2 verification's memory (argon2-cffi's default parameters), in KiB.
ARGON2_KIB = 64 * 1024


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A gateway of its own (its peak memory is this module's), with the default settings:
    one verification at a time, 32 waiting."""
    server = Server(tmp_path_factory.mktemp("flood"), "demo")
    with running(server):
        yield server


def peak_kib(server: Server) -> int:
    """The server process's peak resident memory (VmHWM)."""
    assert server._process is not None
    status = Path(f"/proc/{server._process.pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1])


async def guess(client: httpx.AsyncClient, url: str, login: str, n: int) -> str:
    params = {"login": login, "password": f"guess-{n}", "format": "json"}
    answer = await client.get(f"{url}/api.php", params=params)
    return str(answer.json()["error"]["code"])


async def guesses(url: str, logins: list[str]) -> list[str]:
    async with httpx.AsyncClient(timeout=300, limits=httpx.Limits(max_connections=None)) as client:
        return await asyncio.gather(
            *(guess(client, url, login, n) for n, login in enumerate(logins))
        )


def test_memory_stays_bounded_under_a_flood_of_guesses(gateway: Server) -> None:
    account = gateway.create_account()
    # Half at an existing account (before the lockout each cost a verification), half at
    # e-mails without one (now each costs a verification, for the same time as a wrong one).
    logins = [account.email] * 32 + [f"nobody-{n}@example.com" for n in range(32)]
    httpx.get(f"{gateway.url}/api.php", params={"login": account.email, "password": "x"})
    before = peak_kib(gateway)  # argon2 has run once: its first 64 MiB are in the peak
    answers = asyncio.run(guesses(gateway.url, logins))
    assert set(answers) <= {"400", "110"} and answers.count("400") >= 5
    grown = peak_kib(gateway) - before
    # Verifications run one at a time: the peak may grow by a verification or two (the
    # allocator need not reuse the same pages), never by one per concurrent guess.
    assert grown < 3 * ARGON2_KIB, f"peak grew by {grown // 1024} MiB"


def test_an_api_key_send_is_answered_while_guesses_wait(gateway: Server) -> None:
    customer: Account = gateway.create_account()

    async def flood_and_send() -> tuple[str, list[str], bool]:
        limits = httpx.Limits(max_connections=None)
        async with httpx.AsyncClient(timeout=300, limits=limits) as client:
            # More guesses than may wait (1 running + 32 waiting): the first answered is one
            # refused at once because the queue is full, so the send goes in behind a full
            # queue of verifications (seconds of work at one at a time).
            flood = [
                asyncio.create_task(guess(client, gateway.url, f"flood-{n}@example.com", n))
                for n in range(60)
            ]
            done, _ = await asyncio.wait(flood, return_when=asyncio.FIRST_COMPLETED)
            first = done.pop().result()
            send = await client.get(
                f"{gateway.url}/api.php",
                params={"apikey": customer.key, "send": "Hello", "to": TELE2, "format": "json"},
            )
            assert send.json()["send"][0]["status"] == "0", send.text
            answered_first = not all(task.done() for task in flood)
            return first, await asyncio.gather(*flood), answered_first

    first, answers, answered_first = asyncio.run(flood_and_send())
    assert first == "110"  # too many password checks at once: "try again"
    assert answered_first  # the send did not wait for the queued verifications
    assert sorted(set(answers)) == ["110", "400"]
