"""Idempotent retries (domain/idempotency.py): the first answer of a keyed request, kept
and found again. The claim itself rides on the submit (`Sending.send(..., claim)`)."""

from __future__ import annotations

import asyncio

from pilotgate.domain import idempotency
from pilotgate.domain.accounts import Account
from pilotgate.domain.idempotency import Claim, KeptAnswer
from pilotgate.errors import ApiError

from .core import GatewayCore

#: How long a repeat waits for the first request's answer to be kept, and how often it looks.
#: The claim commits with the messages and the answer is kept right after, so this is the
#: time the first request takes to render its answer; only a process that died in between
#: leaves a claim without one (the repeat then gets IN_PROGRESS).
ANSWER_WAIT_SECONDS = 5.0
_LOOK_EVERY = 0.02


class Retries(GatewayCore):
    async def kept_answer(self, account: Account, claim: Claim) -> KeptAnswer | None:
        """The first answer to this key within the window, None when the key is free.
        Raises ApiError KEY_REUSED for another request's key."""
        kept = await self.store.kept_answer(
            account.id, claim.key, self.clock() - idempotency.WINDOW
        )
        if kept is not None and kept.fingerprint != claim.fingerprint:
            raise ApiError(idempotency.KEY_REUSED)
        return kept

    async def awaited_answer(self, account: Account, claim: Claim) -> KeptAnswer:
        """The first answer to a key another request claimed, once it is kept. Raises
        ApiError KEY_REUSED or IN_PROGRESS."""
        waited = 0.0
        while True:
            kept = await self.kept_answer(account, claim)
            if kept is not None and kept.answer is not None:
                return kept
            if waited >= ANSWER_WAIT_SECONDS:
                raise ApiError(idempotency.IN_PROGRESS)
            await asyncio.sleep(_LOOK_EVERY)
            waited += _LOOK_EVERY

    async def keep_answer(
        self, account: Account, claim: Claim, answer: bytes, content_type: str
    ) -> None:
        """Keep the answer of a request that claimed its key (nothing when it stored
        nothing: a failed or cost-only request is simply run again when repeated)."""
        await self.store.keep_answer(account.id, claim.key, claim.fingerprint, answer, content_type)
