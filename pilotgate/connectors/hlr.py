"""The `hlr` connector kind: an HLR (and PING) emulator that answers from the numbering plan
(contract §13.1, §13.6). The verdicts are `domain.hlr`'s; this module gives them the shape of a
hand-over: every message is taken, with its final status, error and result fields known at
once and applied `delay` seconds later, like the emulator's outcomes.

Settings (`pilotgate connector add hlr NAME --set key=value`, or a `[[connector]]` table):
`schemas.HlrSettings` (delay, unserved_suffixes, offline_suffixes).

A message of another channel is refused for good (error 213): an HLR cannot carry an SMS.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from importlib import resources

from pilotgate.domain import hlr
from pilotgate.domain.channels import Channel
from pilotgate.domain.messages import Message, Status
from pilotgate.domain.numbering import Numbering

from .base import Accepted, Outcome, Rejected
from .schemas import HlrSettings

_CHECKS = frozenset({Channel.HLR.value, Channel.PING.value})
#: The process's numbering plan snapshot, fresh (bootstrap hands the outbox's one in).
PlanSource = Callable[[], Awaitable[Numbering]]


@functools.cache
def prefix_table() -> hlr.PrefixTable:
    """The shipped prefix table, read once per process."""
    text = resources.files("pilotgate.data").joinpath("hlr_prefixes.csv").read_text("utf-8")
    return hlr.PrefixTable.parse(text)


def _suffixes(value: object) -> tuple[str, ...]:
    return tuple(str(value or "").replace(",", "").replace(" ", ""))


class HlrAnswers:
    """The emulated answers to HLR and PING checks; shared by the `hlr` kind and the
    built-in emulator (which answers checks too, so the demo and `test=1` can run them)."""

    def __init__(self, *, delay: float = 1.0, unserved: str = "", offline: str = "") -> None:
        self._delay = timedelta(seconds=delay)
        self._unserved = _suffixes(unserved)
        self._offline = _suffixes(offline)
        #: Where the numbering plan comes from; None: the prefix table alone.
        self.plan: PlanSource | None = None

    @staticmethod
    def handles(message: Message) -> bool:
        return message.channel in _CHECKS

    async def answer(self, message: Message, now: datetime) -> Accepted:
        plan = await self.plan() if self.plan is not None else None
        verdict = hlr.answer(
            prefix_table(),
            message.phone,
            message.channel,
            unserved=self._unserved,
            offline=self._offline,
            owner=plan.owner(message.phone) if plan is not None else None,
        )
        return Accepted(
            server_id=message.server_id,
            remote_id=f"hlr-{message.server_id}",
            outcome_status=Status(verdict.status),
            outcome_error=verdict.error,
            outcome_at=now + self._delay,
            details=verdict.details,
        )


class HlrConnector:
    """Connector kind `hlr` (emulated): answers number checks, refuses anything else."""

    def __init__(self, name: str, answers: HlrAnswers) -> None:
        self.name = name
        self.checks = answers

    @classmethod
    def from_settings(cls, settings: HlrSettings) -> HlrConnector:
        answers = HlrAnswers(
            delay=settings.delay,
            unserved=settings.unserved_suffixes,
            offline=settings.offline_suffixes,
        )
        return cls(settings.name, answers)

    async def submit(self, messages: Sequence[Message], now: datetime) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for message in messages:
            if self.checks.handles(message):
                outcomes.append(await self.checks.answer(message, now))
            else:
                outcomes.append(
                    Rejected(
                        server_id=message.server_id,
                        error=213,
                        final=True,
                        reason=f"an hlr connector cannot carry {message.channel}",
                    )
                )
        return outcomes
