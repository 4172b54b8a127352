"""Idempotent retries on the wire (contract §17): the key a request names, in the
`Idempotency-Key` header or the `idempotency_key` parameter (API-1) or field (API-2), and
the rule that a repeat gets the first answer, byte for byte. A request without a key costs
nothing here: no statement, no lookup."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from pilotgate.domain import idempotency
from pilotgate.domain.accounts import Account
from pilotgate.domain.idempotency import Claim
from pilotgate.errors import KeyClaimedError
from pilotgate.gateway import Gateway

from .asgi import Scope
from .render import HttpAnswer

#: Runs the request, claiming the key with its messages when it stores any.
Runner = Callable[[Claim | None], Awaitable[HttpAnswer]]


def header_key(scope: Scope) -> str | None:
    """The `Idempotency-Key` header, None when absent or empty."""
    for name, value in scope.get("headers", []):
        if name == b"idempotency-key":
            key = bytes(value).decode("latin-1").strip()
            return key or None
    return None


def claim_of(key: str | None, fingerprint: Callable[[], str]) -> Claim | None:
    key = (key or "").strip()
    if not key:
        return None
    return Claim(key=idempotency.key_digest(key), fingerprint=fingerprint())


async def once(gateway: Gateway, account: Account, claim: Claim | None, run: Runner) -> HttpAnswer:
    """`run`'s answer, or the answer the first request with this key got. An error answer
    is not kept (the request stored nothing), so its repeat runs again."""
    if claim is None:
        return await run(None)
    kept = await gateway.kept_answer(account, claim)
    if kept is None:
        try:
            answer = await run(claim)
        except KeyClaimedError:
            # A racing repeat committed first: this one stored nothing; answer as it did.
            kept = await gateway.awaited_answer(account, claim)
        else:
            await gateway.keep_answer(account, claim, answer.body, answer.content_type)
            return answer
    elif kept.answer is None:
        kept = await gateway.awaited_answer(account, claim)
    assert kept.answer is not None
    return HttpAnswer(kept.answer, kept.content_type)
