"""The emulator channel: an operator that lives inside the gateway (contract §13.6, §15).

It takes every message and decides its outcome from the number: a phone ending in one of
the configured digits is not delivered (-1, error 601), every other one is delivered (2).
A Viber message to a phone ending in one of the "no Viber" digits finds no Viber there (-1,
error 605), which sends a VIBERSMS message on as an SMS.
The outcome applies `delay` seconds after hand-over; the pipeline stores it with the
hand-over, so it survives a restart like any other queued state. Number checks (HLR, PING)
get the HLR emulator's answers (`connectors.hlr`), with the same digits unserved / offline.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from pilotgate.domain.channels import Channel
from pilotgate.domain.messages import Message, Status

from .base import Accepted
from .hlr import HlrAnswers


class EmulatorConnector:
    def __init__(
        self,
        *,
        name: str = "emulator",
        delay: float = 1.0,
        fail_suffixes: str = "0",
        no_viber_suffixes: str = "",
        journal: str = "",
    ) -> None:
        self.name = name
        self._delay = timedelta(seconds=delay)
        self._fail = tuple(fail_suffixes.replace(",", ""))
        self._no_viber = tuple(no_viber_suffixes.replace(",", ""))
        self.checks = HlrAnswers(delay=delay, unserved=fail_suffixes, offline=fail_suffixes)
        # What "the operator" received, a line "server_id unix-time" per message, appended
        # before the hand-over is acknowledged: tests read it to prove nothing was handed over
        # twice and that rate limits held.
        self._journal = journal

    def outcome(self, phone: str, channel: str = Channel.SMS) -> tuple[Status, int]:
        if channel == Channel.VIBER and self._no_viber and phone.endswith(self._no_viber):
            return Status.UNDELIVERED, 605
        if self._fail and phone.endswith(self._fail):
            return Status.UNDELIVERED, 601
        return Status.DELIVERED, 0

    async def submit(self, messages: Sequence[Message], now: datetime) -> list[Accepted]:
        if self._journal:
            # A small local append; flushed to the OS, so it survives a kill -9.
            with open(self._journal, "a", encoding="ascii") as journal:  # noqa: ASYNC230
                journal.write("".join(f"{m.server_id} {now.timestamp():.3f}\n" for m in messages))
        due = now + self._delay
        accepted = []
        for message in messages:
            if self.checks.handles(message):
                accepted.append(await self.checks.answer(message, now))
                continue
            status, error = self.outcome(message.phone, message.channel)
            accepted.append(
                Accepted(
                    server_id=message.server_id,
                    remote_id=f"emu-{message.server_id}",
                    outcome_status=status,
                    outcome_error=error,
                    outcome_at=due,
                )
            )
        return accepted
