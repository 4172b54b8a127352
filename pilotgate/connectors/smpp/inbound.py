"""deliver_sm from the SMSC: receipts and MO messages, reported to the pipeline before they
are acknowledged.

The reader hands every deliver_sm over at once; one worker takes them in arrival order, in
batches of what has piled up, calls `events.receipts` / `events.inbound` (which store durably
before returning) and only then answers deliver_sm_resp. If the pipeline fails, the answer is
a temporary error and the SMSC sends the PDU again later: nothing acknowledged is lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from pilotgate.domain import receipts as dlr, sms_encoding as enc
from pilotgate.domain.receipts import Receipt

from ..base import Events, MobileOriginated
from ..schemas.smpp import SmppSettings
from . import policy, wire
from .session import SmppSession

log = logging.getLogger(__name__)
BATCH = 256


class DeliverSmHandler:
    def __init__(
        self,
        settings: SmppSettings,
        *,
        clock: Callable[[], datetime],
        problem: Callable[[str, str], None],
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._problem = problem
        self._queue: asyncio.Queue[tuple[SmppSession, wire.Pdu]] = asyncio.Queue()
        self._parts = enc.Reassembler()
        self._task: asyncio.Task[None] | None = None
        self.receipts = 0
        self.mo = 0

    def start(self, name: str, events: Events) -> None:
        self._task = asyncio.create_task(self._work(name, events), name=f"smpp-in-{name}")

    async def stop(self) -> None:
        if self._task is not None:
            # Unanswered deliver_sm are sent again by the SMSC after the next bind.
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def deliver(self, session: SmppSession, pdu: wire.Pdu) -> None:
        self._queue.put_nowait((session, pdu))

    async def _work(self, name: str, events: Events) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            await self._handle(name, events, batch)

    def _read(
        self,
        pdu: wire.Pdu,
        receipts: list[Receipt],
        inbound: list[MobileOriginated],
        completed: list[tuple[str, str, enc.Fragment]],
    ) -> int:
        """Sort one deliver_sm into `receipts` or `inbound`; returns the status to answer."""
        try:
            deliver = wire.deliver_sm(pdu.raw)
        except ValueError as error:
            self._problem("deliver_sm", f"malformed deliver_sm ({error}); refused for good")
            return policy.ESME_RX_P_APPN
        text = deliver.short_message.decode("latin-1")
        if dlr.looks_like_receipt(deliver.esm_class, text):
            parsed = dlr.parse(text, deliver.tlvs, self._settings.receipt_id)
            if parsed is None:
                self._problem("receipt", f"receipt without a message id: {text[:80]!r}")
            elif parsed.status is not None:
                receipts.append(
                    Receipt(
                        remote_id=parsed.remote_id,
                        status=parsed.status,
                        error=parsed.error,
                        done_at=parsed.done_at,
                    )
                )
            # ACCEPTD / ENROUTE and unknown states are not a verdict: acknowledged, not reported.
            return policy.ESME_ROK
        fragment = enc.parse_mo(
            deliver.short_message,
            deliver.data_coding,
            deliver.esm_class,
            deliver.tlvs,
            packed=self._settings.gsm_packed,
        )
        if fragment.lossy:
            self._problem("mo", "an MO with an invalid header or undecodable bytes")
        now = self._clock()
        phone = deliver.source.lstrip("+")
        whole = self._parts.add(phone, deliver.destination, fragment, now.timestamp())
        if whole is not None:
            completed.append((phone, deliver.destination, fragment))
            inbound.append(
                MobileOriginated(phone=phone, number=deliver.destination, text=whole, received=now)
            )
        stale = self._parts.expire(now.timestamp())
        if stale:
            self._problem("mo-parts", "a long MO missed parts; delivered what arrived")
        inbound.extend(
            MobileOriginated(phone=p, number=n, text=t, received=now) for p, n, t in stale
        )
        return policy.ESME_ROK

    async def _handle(
        self, name: str, events: Events, batch: list[tuple[SmppSession, wire.Pdu]]
    ) -> None:
        receipts: list[Receipt] = []
        inbound: list[MobileOriginated] = []
        completed: list[tuple[str, str, enc.Fragment]] = []
        answers = [self._read(pdu, receipts, inbound, completed) for _, pdu in batch]
        try:
            if receipts:
                await events.receipts(name, receipts)
            if inbound:
                await events.inbound(name, inbound)
        except Exception:  # any pipeline failure: the SMSC sends the PDUs again later
            log.exception("SMPP link %s: storing %d deliver_sm failed", name, len(batch))
            answers = [policy.ESME_RX_T_APPN if a == policy.ESME_ROK else a for a in answers]
        else:
            self.receipts += len(receipts)
            self.mo += len(inbound)
            for phone, number, fragment in completed:
                self._parts.finish(phone, number, fragment)
        for (session, pdu), status in zip(batch, answers, strict=True):
            session.send(wire.pdu(wire.DELIVER_SM | wire.RESP, pdu.sequence, b"\x00", status))
