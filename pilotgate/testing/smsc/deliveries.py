"""What the simulated SMSC sends its ESMEs: each accepted submit_sm's answer and receipt
(kept until acknowledged, and sent again to the next receiver that binds), and MOs."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from datetime import UTC, datetime

from . import codec
from .behaviour import STATES, Behaviour


class Peer:
    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.receives = False  # bound as receiver or transceiver
        self.submits = 0
        self.unbinding = False  # we sent unbind: submit_sm get ESME_RINVBNDSTS from now on

    def send(self, data: bytes) -> None:
        if not self.writer.is_closing():
            self.writer.write(data)


class Deliveries:
    """The sending side of SmscSimulator (server.py), which owns the state below."""

    behaviour: Behaviour
    receipt_delay: float
    received: list[codec.SubmitSm]
    submits: list[codec.SubmitSm]
    _peers: list[Peer]
    _ids: itertools.count[int]
    _sequence: itertools.count[int]
    _waiting: dict[int, asyncio.Future[int]]
    _unacked: dict[int, tuple[codec.SubmitSm, str]]
    _tasks: set[asyncio.Task[None]]

    async def inject_mo(
        self,
        source: str,
        destination: str,
        short_message: bytes,
        *,
        esm_class: int = 0,
        data_coding: int = 0,
        tlvs: dict[int, bytes] | None = None,
        within: float = 10.0,
    ) -> int:
        """Send one deliver_sm to a receiving peer; returns its deliver_sm_resp status."""
        peer = next(p for p in self._peers if p.receives)
        sequence = next(self._sequence)
        answered: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiting[sequence] = answered
        peer.send(
            codec.deliver_sm(
                sequence,
                source=source,
                destination=destination,
                short_message=short_message,
                esm_class=esm_class,
                data_coding=data_coding,
                tlvs=tlvs,
            )
        )
        async with asyncio.timeout(within):
            return await answered

    def _accept(self, peer: Peer, submit: codec.SubmitSm) -> None:
        number = next(self._ids)
        hex_ids = self.behaviour is Behaviour.RECEIPTS_HEX_IDS
        message_id = f"{number:06d}" if hex_ids else f"m{number}"
        accepted = dataclasses.replace(submit, message_id=message_id)
        self.received.append(accepted)
        self.submits.append(accepted)
        resp = codec.pdu(codec.SUBMIT_SM | codec.RESP, submit.sequence, codec.cstring(message_id))
        if self.behaviour is Behaviour.RECEIPTS_NEVER or not submit.registered_delivery & 1:
            peer.send(resp)
            return
        receipt_id = f"{number:X}" if hex_ids else message_id
        if self.behaviour is Behaviour.RECEIPTS_EARLY:
            self._send_receipt(submit, receipt_id)
            peer.send(resp)
            return
        peer.send(resp)
        self._spawn(self._receipt_later(submit, receipt_id))

    async def _receipt_later(self, submit: codec.SubmitSm, receipt_id: str) -> None:
        if self.receipt_delay:
            await asyncio.sleep(self.receipt_delay)
        self._send_receipt(submit, receipt_id)
        if self.behaviour is Behaviour.RECEIPTS_DUPLICATED:
            self._send_receipt(submit, receipt_id)
        if self.behaviour is Behaviour.MO_REPLY:
            await self.inject_mo(submit.destination, submit.source, b"Reply")

    def _send_receipt(
        self, submit: codec.SubmitSm, receipt_id: str, to: Peer | None = None
    ) -> None:
        stat, state = STATES.get(self.behaviour, ("DELIVRD", 2))
        stamp = datetime.now(UTC).strftime("%y%m%d%H%M")
        text = (
            f"id:{receipt_id} sub:001 dlvrd:{'001' if state == 2 else '000'} "
            f"submit date:{stamp} done date:{stamp} stat:{stat} err:000 text:"
        )
        # The failure cases carry TLVs too, so both receipt forms are exercised.
        tlvs = {0x001E: codec.cstring(receipt_id), 0x0427: bytes([state])}
        sequence = next(self._sequence)
        self._unacked[sequence] = (submit, receipt_id)
        peers = [to] if to else [p for p in self._peers if p.receives and not p.unbinding]
        if peers:
            peers[0].send(
                codec.deliver_sm(
                    sequence,
                    source=submit.destination,
                    destination=submit.source,
                    short_message=text.encode("ascii"),
                    esm_class=0x04,
                    tlvs=tlvs if state != 2 else None,
                )
            )

    async def _bind_mo(self, peer: Peer) -> None:
        if self.behaviour is Behaviour.MO_SINGLE:
            await self.inject_mo("79990000001", "1000", "Привет".encode("utf-16-be"), data_coding=8)
            return
        parts = [b"Hello, ", b"long ", b"world"]
        for seq, part in enumerate(parts, start=1):
            udh = bytes([5, 0, 3, 0x42, len(parts), seq])
            await self.inject_mo("79990000001", "1000", udh + part, esm_class=0x40)

    def _spawn(self, coroutine: object) -> None:
        task = asyncio.ensure_future(coroutine)  # type: ignore[call-overload]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
