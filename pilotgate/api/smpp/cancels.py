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

import logging

from pilotgate.domain import smpp_pdu as p, smpp_queries as q, smpp_rules as rules, smpp_time
from pilotgate.domain.messages import FINAL
from pilotgate.errors import ApiError, GatewayError
from pilotgate.gateway import Gateway

log = logging.getLogger(__name__)


async def query(gateway: Gateway, account_id: int, pdu: p.Pdu) -> bytes:
    """The query_sm_resp (or generic_nack for a body that does not read) of `pdu`."""
    try:
        ref = q.query_request(pdu.body)
    except ValueError:
        return p.pdu(p.GENERIC_NACK, pdu.sequence, status=rules.ESME_RINVCMDLEN)
    resp = p.QUERY_SM | p.RESP
    server_id = q.server_id(ref.message_id)
    if server_id is None:
        return p.pdu(resp, pdu.sequence, status=rules.ESME_RINVMSGID)
    try:
        account = await gateway.smpp_account(account_id)
        found = await gateway.check(account, [server_id])
    except ApiError as error:
        return p.pdu(resp, pdu.sequence, status=rules.status_of(error.code))
    except GatewayError:
        log.exception("SMPP query_sm of account %d failed", account_id)
        return p.pdu(resp, pdu.sequence, status=rules.ESME_RSYSERR)
    message = found.get(server_id)
    if message is None:
        return p.pdu(resp, pdu.sequence, status=rules.ESME_RINVMSGID)
    final = smpp_time.format_absolute(message.modified) if message.status in FINAL else ""
    state = q.message_state(message.status, message.error)
    return p.pdu(resp, pdu.sequence, q.query_resp_body(ref.message_id, final, state))


async def cancel(gateway: Gateway, account_id: int, pdu: p.Pdu) -> bytes:
    """The cancel_sm_resp (or generic_nack for a body that does not read) of `pdu`."""
    try:
        ref = q.cancel_request(pdu.body)
    except ValueError:
        return p.pdu(p.GENERIC_NACK, pdu.sequence, status=rules.ESME_RINVCMDLEN)
    resp = p.CANCEL_SM | p.RESP
    server_id = q.server_id(ref.message_id) if ref.message_id else None
    if ref.message_id and server_id is None:
        return p.pdu(resp, pdu.sequence, status=rules.ESME_RINVMSGID)
    try:
        account = await gateway.smpp_account(account_id)
        if server_id is None:
            await gateway.cancel_to(account, ref.destination, ref.source)
        else:
            await gateway.cancel_submit(account, server_id)
    except ApiError as error:
        return p.pdu(resp, pdu.sequence, status=rules.status_of(error.code))
    except GatewayError:
        log.exception("SMPP cancel_sm of account %d failed", account_id)
        return p.pdu(resp, pdu.sequence, status=rules.ESME_RSYSERR)
    return p.pdu(resp, pdu.sequence)
