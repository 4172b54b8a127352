"""query_sm and cancel_sm of a bound session: the gateway's `check` and `cancel_*`, the same
use cases as API-1's (docs/smpp.md "PilotGate as an SMSC").

The message_id is the server_id our submit_sm_resp (or submit_multi_resp) gave; it names a
message of the bound account only (another account's is as unknown as one that never
existed). With a message_id, source_addr and destination_addr are read but not compared:
within the account the id is enough, and clients differ in what they repeat there. A
cancel_sm by the id of a submit_multi cancels all its destinations' scheduled messages, a
query_sm by it answers for its first destination (docs/decisions.md "One id for a
submit_multi"). A cancel_sm without a message_id cancels every scheduled message of the
account from source_addr to destination_addr (SMPP 3.4 §4.9.1); service_type is not kept
with messages, so it is not compared.
"""

from __future__ import annotations

from pilotgate.domain import smpp_pdu as p, smpp_queries as q, smpp_rules as rules, smpp_time
from pilotgate.domain.messages import FINAL
from pilotgate.gateway import Gateway

from . import asking


async def query(gateway: Gateway, account_id: int, pdu: p.Pdu) -> bytes:
    """The query_sm_resp (or generic_nack for a body that does not read) of `pdu`."""
    asked = asking.read(pdu, q.query_request)
    if isinstance(asked, bytes):
        return asked

    async def work(server_id: int, message_id: str) -> bytes | int:
        account = await gateway.smpp_account(account_id)
        message = (await gateway.check(account, [server_id])).get(server_id)
        if message is None:
            return rules.ESME_RINVMSGID
        final = smpp_time.format_absolute(message.modified) if message.status in FINAL else ""
        state = q.message_state(message.status, message.error)
        return q.query_resp_body(message_id, final, state)

    assert asked.server_id is not None  # read() insists on one by default
    return await asking.answer(pdu, account_id, work(asked.server_id, asked.request.message_id))


async def cancel(gateway: Gateway, account_id: int, pdu: p.Pdu) -> bytes:
    """The cancel_sm_resp (or generic_nack for a body that does not read) of `pdu`."""
    asked = asking.read(pdu, q.cancel_request, id_needed=False)
    if isinstance(asked, bytes):
        return asked
    ref, server_id = asked.request, asked.server_id

    async def work() -> bytes:
        account = await gateway.smpp_account(account_id)
        if server_id is None:
            await gateway.cancel_to(account, ref.destination, ref.source)
        else:
            await gateway.cancel_submit(account, server_id)
        return b""

    return await asking.answer(pdu, account_id, work())
