"""Compare SMPP libraries for the connector: submit throughput over loopback and codec speed.

Usage: .venv/bin/python bench/smpp_libs.py [COUNT]

The SMSC side of the throughput runs is smpp34's Rust server in the same process (it answers
every submit_sm at once), so the figures compare the clients, not the servers.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import sys
import time

import smpp34

COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 5000


async def _serve(server: smpp34.Server, received: list[int]) -> None:
    n = 0
    while True:
        event = await server.next()
        if isinstance(event, smpp34.SubmitSmEvent):
            n += 1
            received.append(n)
            event.accept(message_id=f"{n:x}")


async def smpp34_client(port: int, window: int) -> float:
    client = smpp34.Client(
        host="127.0.0.1",
        port=port,
        system_id="bench",
        password="pw",
        bind_type="TRX",
        window_size=window,
    )
    smsc = await client.connect()
    gate = asyncio.Semaphore(window)

    async def one(i: int) -> None:
        async with gate:
            resp = await smsc.submit_sm(
                destination_addr="79990000000",
                short_message=b"hello %d" % i,
                source_addr="TEST",
                source_addr_ton=5,
                registered_delivery=1,
            )
            assert resp.is_success

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(COUNT)))
    elapsed = time.perf_counter() - started
    await smsc.unbind()
    await client.stop()
    return COUNT / elapsed


async def aiosmpplib_client(port: int) -> float:
    import aiosmpplib
    from aiosmpplib.hook import AbstractHook

    done = asyncio.Event()
    counted = [0]

    class Hook(AbstractHook):  # type: ignore[misc]  # aiosmpplib has no type information
        async def sending(self, smpp_message, pdu, client_id):  # type: ignore[no-untyped-def]
            pass

        async def received(self, smpp_message, pdu, client_id):  # type: ignore[no-untyped-def]
            if isinstance(smpp_message, aiosmpplib.SubmitSmResp):
                counted[0] += 1
                if counted[0] == COUNT:
                    done.set()

        async def send_error(self, smpp_message, error, client_id):  # type: ignore[no-untyped-def]
            pass

    esme = aiosmpplib.ESME(
        smsc_host="127.0.0.1",
        smsc_port=port,
        system_id="bench",
        password="pw",
        hook=Hook(),
        log_level=logging.ERROR,
        broker=None,
    )
    task = asyncio.create_task(esme.start())
    for i in range(COUNT):
        await esme.broker.enqueue(
            aiosmpplib.SubmitSm(
                short_message=f"hello {i}",
                source=aiosmpplib.PhoneNumber("TEST"),
                destination=aiosmpplib.PhoneNumber("79990000000"),
                log_id=str(i),
            )
        )
    started = time.perf_counter()
    await asyncio.wait_for(done.wait(), 120)
    elapsed = time.perf_counter() - started
    await esme.stop()
    task.cancel()
    return COUNT / elapsed


def codec_figures() -> dict[str, float]:
    import smpplib.command

    figures = {}
    n = 20000
    pdu = smpp34.SubmitSm(
        "TEST",
        "79990000000",
        b"\x05\x00\x03\x01\x02\x01" + b"x" * 140,
        esm_class=0x40,
        registered_delivery=1,
        sequence_number=7,
    )
    wire = pdu.encode()
    t = time.perf_counter()
    for _ in range(n):
        smpp34.SubmitSm(
            "TEST", "79990000000", b"x" * 140, registered_delivery=1, sequence_number=7
        ).encode()
    figures["smpp34 submit_sm encode /s"] = n / (time.perf_counter() - t)
    t = time.perf_counter()
    for _ in range(n):
        smpp34.decode(wire)
    figures["smpp34 submit_sm decode /s"] = n / (time.perf_counter() - t)
    t = time.perf_counter()
    for _ in range(n):
        smpplib.command.SubmitSM(
            "submit_sm",
            sequence=7,
            source_addr="TEST",
            destination_addr="79990000000",
            short_message=b"x" * 140,
            registered_delivery=1,
        ).generate()
    figures["smpplib submit_sm encode /s"] = n / (time.perf_counter() - t)
    return figures


async def ours(port: int, window: int) -> float:
    """Our link (asyncio session + smpp34 codec), whole messages through submit()."""
    from datetime import UTC, datetime

    from pilotgate.connectors.smpp import SmppConnector, SmppSettings
    from pilotgate.domain.messages import Message, Status

    now = datetime.now(UTC)

    class NoEvents:
        async def receipts(self, connector: str, receipts: object) -> None:
            pass

        async def inbound(self, connector: str, messages: object) -> None:
            pass

        async def pending(self, connector: str, limit: int) -> list[str]:
            return []

    link = SmppConnector(
        SmppSettings(
            name="b", host="127.0.0.1", port=port, system_id="b", password="p", window=window
        )
    )
    await link.start(NoEvents())
    await link.wait_bound()
    messages = [
        Message(
            server_id=i,
            packet_id=i,
            account_id=1,
            phone="79990000000",
            sender="TEST",
            sender_orig="",
            text=f"hello {i}",
            parts=1,
            channel="sms",
            price=0,
            status=Status.ACCEPTED,
            error=0,
            send_datetime=None,
            ttl=None,
            callback=None,
            callback_method=None,
            created=now,
            modified=now,
            country="",
            operator="",
            test=False,
        )
        for i in range(COUNT)
    ]
    started = time.perf_counter()
    await asyncio.gather(*(link.submit(messages[i : i + 200], now) for i in range(0, COUNT, 200)))
    elapsed = time.perf_counter() - started
    await link.stop()
    return COUNT / elapsed


async def probes() -> None:
    """What smpp34's own client does where the issue asks for control (see docs/smpp.md)."""
    from pilotgate.testing.smsc import SmscSimulator

    for behaviour in ("happy", "generic_nack", "no_resp"):
        async with SmscSimulator(behaviour) as sim:
            client = smpp34.Client(
                host="127.0.0.1", port=sim.port, system_id="a", password="b", bind_type="TRX"
            )
            smsc = await client.connect()
            started = time.perf_counter()
            try:
                resp = await asyncio.wait_for(
                    smsc.submit_sm("7999", b"hi", source_addr="X", registered_delivery=1), 8
                )
                result = f"command_status 0x{resp.command_status:x}"
            except (smpp34.SmppError, TimeoutError) as error:
                result = f"raises {type(error).__name__} {error}"
            result += f" after {time.perf_counter() - started:.1f}s"
            if behaviour == "happy":
                await sim.wait_for("deliver_answers", 1, 5)
                result += "; the receipt's deliver_sm_resp went out before the app read it"
            print(f"smpp34 client vs {behaviour}: {result}")
            await client.stop()


async def main() -> None:
    received: list[int] = []
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = smpp34.Server(host="127.0.0.1", port=port, system_id="SIM")
    await server.start()
    serving = asyncio.create_task(_serve(server, received))
    for window in (10, 50):
        rate = await smpp34_client(port, window)
        print(f"smpp34 client, window {window}: {rate:,.0f} submit_sm/s")
    for window in (10, 50):
        rate = await ours(port, window)
        print(f"pilotgate link (asyncio + smpp34 codec), window {window}: {rate:,.0f} submit_sm/s")
    try:
        rate = await aiosmpplib_client(port)
        print(f"aiosmpplib ESME (no window, one in flight per send): {rate:,.0f} submit_sm/s")
    except Exception as error:  # noqa: BLE001  # a bench reports, it does not stop
        print(f"aiosmpplib ESME failed: {error!r}")
    serving.cancel()
    await server.stop()
    for name, value in codec_figures().items():
        print(f"{name}: {value:,.0f}")
    await probes()


if __name__ == "__main__":
    asyncio.run(main())
