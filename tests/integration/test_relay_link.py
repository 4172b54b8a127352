"""The relay link against a misbehaving upstream on loopback (aiohttp.web): garbage, slow
answers and other accounts' ids never crash it; it goes unbound and binds again."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import pytest
from aiohttp import web

from pilotgate.connectors.base import Accepted, Rejected
from pilotgate.connectors.relay import RelayConnector, RelaySettings
from pilotgate.domain.messages import Message, Status

NOW = datetime(2026, 1, 1, tzinfo=UTC)


class Upstream:
    """`mode`: "ok" (answers API-1), "garbage", "slow" (answers after the client's timeout)."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.sent: list[dict[str, str]] = []
        self.ids = 500

    async def handle(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        if self.mode == "garbage":
            return web.Response(text="<html>oops</html>")
        if self.mode == "slow":
            await asyncio.sleep(1.0)
        if "send" in form:
            # As API-1: one item per phone; phones ending in 5 are on a stop list (212), and
            # more refusals than messages refuse the whole request with the first one's code.
            self.sent.append({k: str(v) for k, v in form.items()})
            items = []
            for phone in str(form["to"]).split(","):
                self.ids += 1
                if phone.endswith("5"):
                    items.append({"server_id": "0", "phone": phone, "status": "-2", "error": "212"})
                else:
                    items.append({"server_id": str(self.ids), "phone": phone, "status": "0"})
            refused = sum(item["status"] == "-2" for item in items)
            if refused > len(items) - refused:
                return web.json_response({"error": {"code": "212", "description": "x"}})
            return web.json_response({"send": items})
        if "check" in form:
            items = [{"server_id": i, "status": "2"} for i in str(form["check"]).split(",")]
            # Another account's id, never asked for: must be ignored.
            items.append({"server_id": "999", "status": "-1", "error": "601"})
            return web.json_response({"check": items})
        return web.json_response({"balance": "10.00"})


class Sink:
    """The pipeline's side: `waiting` plays the recorded hand-overs a poll asks about."""

    def __init__(self) -> None:
        self.got: list[tuple[str, Status]] = []
        self.waiting: list[str] = []

    async def receipts(self, connector, receipts):
        self.got += [(r.remote_id, r.status) for r in receipts]
        done = {r.remote_id for r in receipts}
        self.waiting = [i for i in self.waiting if i not in done]

    async def pending(self, connector, limit):
        return self.waiting[:limit]

    async def inbound(self, connector, messages):
        raise AssertionError("no inbound over the relay")


@pytest.fixture
async def upstream() -> AsyncIterator[tuple[Upstream, str]]:
    fake = Upstream()
    app = web.Application()
    app.router.add_post("/api.php", fake.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield fake, f"http://127.0.0.1:{port}"
    await runner.cleanup()


def _message(server_id: int, phone: str = "79087964781", text: str = "hi") -> Message:
    return Message(
        server_id=server_id, packet_id=server_id, account_id=1, phone=phone,
        sender="OURS", sender_orig="", text=text, parts=1, channel="sms", price=395,
        status=Status.ACCEPTED, error=0, send_datetime=None, ttl=None, callback=None,
        callback_method=None, created=NOW, modified=NOW, country="RU", operator="", test=False,
    )  # fmt: skip


async def _until(predicate: Callable[[], object], what: str) -> None:
    """Poll `predicate` for up to 5 s (`what` names it in the failure)."""
    try:
        async with asyncio.timeout(5):
            while not predicate():  # noqa: ASYNC110 - the link has no event to wait on
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


async def test_relay_survives_garbage_and_timeouts(upstream: tuple[Upstream, str]) -> None:
    fake, url = upstream
    settings: dict[str, object] = {"url": url, "apikey": "K", "sender_map": {"OURS": "THEIRS"}}
    settings |= {"poll_interval": 0.05, "timeout": 0.3}
    link = RelayConnector(RelaySettings.from_json("up", json.dumps(settings)))
    sink = Sink()
    await link.start(sink)
    try:
        await _until(lambda: link.state().bound, "bound")
        (outcome,) = await link.submit([_message(1)], NOW)
        assert outcome.remote_id == "501"  # type: ignore[union-attr]
        sink.waiting.append("501")
        assert (fake.sent[0]["from"], fake.sent[0]["apikey"], fake.sent[0]["to"]) == (
            "THEIRS",
            "K",
            "79087964781",
        )
        await _until(lambda: sink.got, "the receipt")
        assert sink.got == [("501", Status.DELIVERED)]  # 999 was not ours

        for mode in ("garbage", "slow"):
            fake.mode = mode
            await _until(lambda: not link.state().bound, f"unbound on {mode}")
            fake.mode = "ok"
            await _until(lambda: link.state().bound, f"bound again after {mode}")

        fake.mode = "garbage"
        (refused,) = await link.submit([_message(2)], NOW)
        assert (refused.final, refused.error) == (False, 110)  # type: ignore[union-attr]
        assert link.state().errors == 1
    finally:
        await link.stop()


async def test_messages_differing_in_their_phone_go_as_one_send(
    upstream: tuple[Upstream, str],
) -> None:
    fake, url = upstream
    settings = {"url": url, "apikey": "K", "poll_interval": 0.05}
    link = RelayConnector(RelaySettings.from_json("up", json.dumps(settings)))
    await link.start(Sink())
    try:
        await _until(lambda: link.state().bound, "bound")
        batch = [
            _message(1, "79087964781"),
            _message(2, "79087964782"),
            _message(3, "79087964785"),  # refused upstream: 212
            _message(4, "79087964781"),  # the same phone again: a request of its own
            _message(5, "79087964783", text="other"),
        ]
        outcomes = {o.server_id: o for o in await link.submit(batch, NOW)}
        assert sorted(fake.sent[i]["to"] for i in range(len(fake.sent))) == [
            "79087964781",
            "79087964781,79087964782,79087964785",
            "79087964783",
        ]
        assert {sid for sid, o in outcomes.items() if isinstance(o, Accepted)} == {1, 2, 4, 5}
        refused = outcomes[3]
        assert isinstance(refused, Rejected) and (refused.final, refused.error) == (True, 212)
        accepted = {o.remote_id for o in outcomes.values() if isinstance(o, Accepted)}
        assert len(accepted) == 4  # one upstream id each

        # Mostly refused: the upstream refuses the whole request, each is asked alone.
        fake.sent.clear()
        mostly = [
            _message(6, "79087964785"),
            _message(7, "79087964795"),
            _message(8, "79087964786"),
        ]
        outcomes = {o.server_id: o for o in await link.submit(mostly, NOW)}
        assert [o.final for o in outcomes.values() if isinstance(o, Rejected)] == [True, True]
        assert isinstance(outcomes[8], Accepted)
        assert len(fake.sent) == 4  # the group, then each of the three alone
    finally:
        await link.stop()
