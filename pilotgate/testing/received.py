"""What the callback receiver (receiver.py) saw: each request as a `ReceivedCallback` (its
form parameters, Basic credentials and signature checked), what it answered, and waiting
until enough requests came or were acknowledged."""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import hashlib
import hmac
import time
from collections.abc import Callable
from urllib.parse import unquote_to_bytes

import h11

SIGNATURE_HEADER = "x-pilotgate-signature"
_FORM = "application/x-www-form-urlencoded"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ReceivedCallback:
    """One request as the receiver saw it."""

    method: str
    #: The request target before `?`, as sent (not percent-decoded).
    path: str
    #: The raw query string (after `?`), exactly as sent, decoded latin-1.
    query: str
    body: bytes
    #: Lower-case names; for a repeated header the last value wins.
    headers: dict[str, str]
    #: From the query string for GET, from a form-urlencoded body otherwise (empty when the
    #: body has another content type); utf-8, last value wins.
    params: dict[str, str]
    basic_auth: tuple[str, str] | None
    #: None when the receiver has no secret.
    signature_valid: bool | None
    #: The status the receiver answered with; None when it never answered.
    answered: int | None
    #: time.monotonic() when the whole request had been read.
    received_at: float


class CallbackLog:
    """The requests a receiver recorded, in arrival order, and the ones it acknowledged."""

    def __init__(self, secret: str | bytes | None) -> None:
        self._secret = secret.encode() if isinstance(secret, str) else secret
        self._requests: list[ReceivedCallback] = []
        self._acknowledged: list[ReceivedCallback] = []
        self._waiters: list[tuple[Callable[[], bool], asyncio.Future[None]]] = []

    # -- observation ----------------------------------------------------------------------------

    @property
    def requests(self) -> list[ReceivedCallback]:
        """Every request received, in arrival order, whatever it was answered."""
        return list(self._requests)

    @property
    def acknowledged(self) -> list[ReceivedCallback]:
        """The requests answered with a 2xx, in the order they were answered."""
        return list(self._acknowledged)

    async def wait_for(
        self,
        count: int = 1,
        # A deadline argument rather than asyncio.timeout() around the call, so that the error
        # can say what was still missing.
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[ReceivedCallback]:
        """Wait until at least `count` requests were acknowledged; return the acknowledged ones.

        Raises TimeoutError after `timeout` seconds.
        """
        await self._wait_until(
            lambda: len(self._acknowledged) >= count, timeout, f"{count} acknowledged"
        )
        return self.acknowledged

    async def wait_for_requests(
        self,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - as wait_for
    ) -> list[ReceivedCallback]:
        """Wait until at least `count` requests arrived, however answered (or not); return all.

        Raises TimeoutError after `timeout` seconds.
        """
        await self._wait_until(lambda: len(self._requests) >= count, timeout, f"{count} received")
        return self.requests

    async def wait_until(
        self,
        ready: Callable[[list[ReceivedCallback]], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 - as wait_for
        goal: str = "the condition",
    ) -> list[ReceivedCallback]:
        """Wait until `ready(acknowledged)` holds; return the acknowledged ones. For tests
        that must not count an at-least-once duplicate as a different callback.

        Raises TimeoutError after `timeout` seconds.
        """
        await self._wait_until(lambda: ready(self._acknowledged), timeout, goal)
        return self.acknowledged

    async def _wait_until(self, ready: Callable[[], bool], seconds: float, goal: str) -> None:
        if ready():
            return
        waiter = (ready, asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(seconds):
                await waiter[1]
        except TimeoutError:
            answers = [request.answered for request in self._requests]
            raise TimeoutError(
                f"wanted {goal} within {seconds}s; received {len(answers)}, answered {answers}"
            ) from None
        finally:
            self._waiters.remove(waiter)

    def _wake(self) -> None:
        for ready, future in self._waiters:
            if not future.done() and ready():
                future.set_result(None)

    # -- listening ------------------------------------------------------------------------------

    def _record(self, request: h11.Request, body: bytes) -> int:
        method = request.method.decode("ascii")
        raw_path, _, raw_query = request.target.partition(b"?")
        headers = {
            name.decode("latin-1"): value.decode("latin-1") for name, value in request.headers
        }
        if method == "GET":
            params = _parse_form(raw_query)
        elif headers.get("content-type", "").split(";")[0].strip().lower() == _FORM:
            params = _parse_form(body)
        else:
            params = {}
        self._requests.append(
            ReceivedCallback(
                method=method,
                path=raw_path.decode("latin-1"),
                query=raw_query.decode("latin-1"),
                body=body,
                headers=headers,
                params=params,
                basic_auth=_basic_auth(headers.get("authorization")),
                signature_valid=self._signature_valid(
                    headers.get(SIGNATURE_HEADER), raw_query if method == "GET" else body
                ),
                answered=None,
                received_at=time.monotonic(),
            )
        )
        self._wake()
        return len(self._requests) - 1

    def _answered(self, index: int, status: int) -> None:
        record = dataclasses.replace(self._requests[index], answered=status)
        self._requests[index] = record
        if 200 <= status < 300:
            self._acknowledged.append(record)
        self._wake()

    def _signature_valid(self, given: str | None, signed: bytes) -> bool | None:
        if self._secret is None:
            return None
        if given is None:
            return False
        expected = hmac.new(self._secret, signed, hashlib.sha256).hexdigest()
        # Bytes, because compare_digest refuses non-ASCII str and the header may hold anything.
        return hmac.compare_digest(expected.encode("ascii"), given.encode("latin-1"))


def _parse_form(raw: bytes) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in raw.split(b"&"):
        if pair:
            name, _, value = pair.partition(b"=")
            params[_unquote_plus(name)] = _unquote_plus(value)
    return params


def _unquote_plus(raw: bytes) -> str:
    # urllib's parse_qsl insists on ASCII input when given bytes; a receiver must not choke on
    # whatever a buggy sender puts on the wire.
    return unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8", errors="replace")


def _basic_auth(header: str | None) -> tuple[str, str] | None:
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    user, colon, password = decoded.decode("utf-8", errors="replace").partition(":")
    return (user, password) if colon else None
