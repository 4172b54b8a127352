"""The callback receiver double behaves as the gateway's delivery tests rely on."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import httpx
import pytest

from pilotgate.testing.receiver import BIG_BODY_SIZE, CallbackReceiver

SECRET = "s3cret"
SIGNATURE = "X-PilotGate-Signature"


def sign(message: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


@pytest.fixture
async def receiver() -> AsyncIterator[CallbackReceiver]:
    async with CallbackReceiver(secret=SECRET, trickle_interval=0.01) as receiver:
        yield receiver


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    # trust_env=False: a proxy from the environment must not stand between test and receiver.
    async with httpx.AsyncClient(trust_env=False, timeout=5) as client:
        yield client


async def test_get_params_are_parsed_from_the_query_string(receiver, client):
    query = urlencode({"server_id": "10001", "status": "-1", "error_ru": "Абонент недоступен"})
    url = receiver.url_for("/sms-status.php", query=f"fields=all&{query}")

    response = await client.get(url)

    assert response.status_code == 200
    assert response.text == "OK"
    [call] = receiver.requests
    assert call.method == "GET"
    assert call.path == "/sms-status.php"
    assert call.query == f"fields=all&{query}"
    assert call.params == {
        "fields": "all",
        "server_id": "10001",
        "status": "-1",
        "error_ru": "Абонент недоступен",
    }
    assert call.headers["host"] == f"127.0.0.1:{receiver.port}"
    assert call.answered == 200
    assert receiver.acknowledged == [call]


async def test_post_params_are_parsed_from_the_form_body(receiver, client):
    form = {"server_id": "10001", "phone": "79001234567", "error_ru": "Не доставлено"}

    response = await client.post(receiver.url_for("/cb", query="fields=all"), data=form)

    assert response.status_code == 200
    [call] = receiver.requests
    assert call.method == "POST"
    assert (call.path, call.query) == ("/cb", "fields=all")
    assert call.params == form
    assert call.body == urlencode(form).encode()
    assert call.headers["content-type"] == "application/x-www-form-urlencoded"


async def test_a_body_that_is_not_a_form_gives_no_params(receiver, client):
    await client.post(receiver.url, json={"status": "2"})

    [call] = receiver.requests
    assert call.params == {}
    assert call.body == b'{"status":"2"}'


async def test_userinfo_of_the_url_arrives_as_basic_auth(receiver, client):
    await client.get(receiver.url_for("/cb", user="user@example", password="p:ss/w0rd"))
    await client.get(receiver.url_for("/cb"))

    with_auth, without = receiver.requests
    assert with_auth.basic_auth == ("user@example", "p:ss/w0rd")
    assert without.basic_auth is None


async def test_signature_of_a_post_covers_the_raw_body(receiver, client):
    body = urlencode({"server_id": "1", "status": "2"}).encode()
    form = {"content-type": "application/x-www-form-urlencoded"}

    await client.post(receiver.url, content=body, headers={**form, SIGNATURE: sign(body)})
    await client.post(receiver.url, content=body, headers={**form, SIGNATURE: sign(b"other")})
    await client.post(receiver.url, content=body, headers=form)
    await client.post(receiver.url, content=body, headers={**form, SIGNATURE: "подпись".encode()})

    assert [call.signature_valid for call in receiver.requests] == [True, False, False, False]


async def test_signature_of_a_get_covers_the_query_exactly_as_sent(receiver, client):
    url = httpx.URL(receiver.url_for("/cb", query="server_id=1&error_ru=%D0%9E%D0%BA"))

    await client.get(url, headers={SIGNATURE: sign(url.query)})
    # Same parameters, another order: another raw query, so not valid.
    await client.get(url, headers={SIGNATURE: sign(b"error_ru=%D0%9E%D0%BA&server_id=1")})

    good, reordered = receiver.requests
    assert good.signature_valid is True
    assert reordered.signature_valid is False


async def test_without_a_secret_the_signature_is_not_judged(client):
    async with CallbackReceiver() as receiver:
        await client.get(receiver.url, headers={SIGNATURE: "anything"})

    [call] = receiver.requests
    assert call.signature_valid is None


async def test_fail_next_answers_500_then_the_behaviour_resumes(receiver, client):
    receiver.fail_next(2)

    statuses = [(await client.get(receiver.url)).status_code for _ in range(3)]

    assert statuses == [500, 500, 200]
    assert [call.answered for call in receiver.requests] == [500, 500, 200]
    assert receiver.acknowledged == receiver.requests[2:]


async def test_error_answers_500_every_time(receiver, client):
    receiver.behave("error")

    statuses = [(await client.get(receiver.url)).status_code for _ in range(3)]

    assert statuses == [500, 500, 500]
    assert len(receiver.requests) == 3
    assert receiver.acknowledged == []


async def test_hang_records_the_request_and_never_answers(receiver, client):
    receiver.behave("hang")

    with pytest.raises(httpx.ReadTimeout):
        await client.get(receiver.url_for("/cb", query="status=2"), timeout=0.2)

    [call] = await receiver.wait_for_requests(1)
    assert call.params == {"status": "2"}
    assert call.answered is None
    assert receiver.acknowledged == []


async def test_big_streams_until_the_client_stops_reading(receiver, client):
    receiver.behave("big")
    received = 0

    async with client.stream("GET", receiver.url) as response:
        assert response.headers["content-length"] == str(BIG_BODY_SIZE)
        async for chunk in response.aiter_raw():
            received += len(chunk)
            if received > 1_000_000:
                break

    assert received > 1_000_000
    assert received < BIG_BODY_SIZE
    assert receiver.requests[0].answered == 200


async def test_never_close_trickles_a_body_without_length(receiver, client):
    receiver.behave("never_close")
    received = b""

    async with client.stream("GET", receiver.url) as response:
        assert response.status_code == 200
        assert "content-length" not in response.headers
        assert "transfer-encoding" not in response.headers
        async for chunk in response.aiter_raw():
            received += chunk
            if len(received) >= 3:
                break
        assert not response.is_closed

    assert received.startswith(b"...")


async def test_redirect_answers_302_with_the_location(receiver, client):
    target = "http://169.254.169.254/latest/meta-data"
    receiver.behave("redirect", location=target)

    response = await client.get(receiver.url)

    assert response.status_code == 302
    assert response.headers["location"] == target
    assert receiver.requests[0].answered == 302
    assert receiver.acknowledged == []


def test_redirect_needs_a_location():
    with pytest.raises(ValueError, match="location"):
        CallbackReceiver().behave("redirect")


async def test_down_refuses_connections_until_ok_on_the_same_port(receiver, client):
    url = receiver.url
    await client.get(url)

    receiver.behave("down")
    with pytest.raises(httpx.ConnectError):
        await client.get(url)

    receiver.behave("ok")
    response = await client.get(url)

    assert response.status_code == 200
    assert receiver.url == url
    assert [call.answered for call in receiver.requests] == [200, 200]


async def test_down_drops_open_connections(receiver, client):
    receiver.behave("hang")
    hanging = asyncio.create_task(client.get(receiver.url))
    await receiver.wait_for_requests(1)

    receiver.behave("down")

    with pytest.raises(httpx.RemoteProtocolError):
        await hanging


async def test_wait_for_returns_once_enough_are_acknowledged(receiver, client):
    waiting = asyncio.create_task(receiver.wait_for(count=2, timeout=5))
    receiver.fail_next(1)

    for _ in range(3):
        await client.get(receiver.url)

    acknowledged = await waiting
    assert len(acknowledged) == 2
    assert all(call.answered == 200 for call in acknowledged)


async def test_wait_for_raises_timeout_error(receiver, client):
    receiver.behave("error")
    await client.get(receiver.url)

    with pytest.raises(TimeoutError, match="1 acknowledged"):
        await receiver.wait_for(count=1, timeout=0.05)


async def test_concurrent_requests_are_all_recorded(receiver, client):
    responses = await asyncio.gather(
        *(client.get(receiver.url, params={"n": str(n)}) for n in range(20))
    )

    assert {response.status_code for response in responses} == {200}
    assert sorted(int(call.params["n"]) for call in receiver.requests) == list(range(20))
    assert len(receiver.acknowledged) == 20


async def test_a_hanging_connection_does_not_block_others(receiver, client):
    receiver.behave("hang")
    hanging = asyncio.create_task(client.get(receiver.url))
    await receiver.wait_for_requests(1)

    receiver.behave("ok")
    response = await client.get(receiver.url)

    assert response.status_code == 200
    assert not hanging.done()
    hanging.cancel()
    with pytest.raises(asyncio.CancelledError):
        await hanging


async def test_keep_alive_serves_several_requests_on_one_connection(receiver, client):
    first = await client.get(receiver.url)
    second = await client.post(receiver.url, data={"a": "1"})

    def local_address(response: httpx.Response) -> object:
        return response.extensions["network_stream"].get_extra_info("client_addr")

    assert local_address(first) == local_address(second)
    assert [call.answered for call in receiver.requests] == [200, 200]


async def test_a_malformed_request_gets_400_and_the_connection_closes(receiver, client):
    reader, writer = await asyncio.open_connection("127.0.0.1", receiver.port)
    writer.write(b"NOT HTTP AT ALL\r\n\r\n")
    answer = await reader.read()  # returns only once the receiver closed the connection
    writer.close()
    await writer.wait_closed()

    assert answer.startswith(b"HTTP/1.1 400 ")
    assert receiver.requests == []
    assert (await client.get(receiver.url)).status_code == 200


async def test_closing_cancels_hanging_and_trickling_connections(client):
    tasks_before = asyncio.all_tasks()
    async with CallbackReceiver(trickle_interval=0.01) as receiver:
        receiver.behave("hang")
        hanging = asyncio.create_task(client.get(receiver.url))
        await receiver.wait_for_requests(1)
        receiver.behave("never_close")
        async with client.stream("GET", receiver.url) as trickling:
            body = trickling.aiter_raw()
            await anext(body)
            async with asyncio.timeout(2):
                await receiver.aclose()
                # A body delimited by the connection closing just ends.
                async for _ in body:
                    pass
    with pytest.raises(httpx.RemoteProtocolError):
        await hanging

    assert asyncio.all_tasks() == tasks_before
