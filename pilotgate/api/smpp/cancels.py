"""query_sm and cancel_sm of a bound session: the gateway's `check` and `cancel`, the same
use cases as API-1's (docs/smpp.md "PilotGate as an SMSC").

The message_id is the server_id our submit_sm_resp gave; it names a message of the bound
account only (another account's is as unknown as one that never existed). source_addr and
destination_addr are read but not compared: within the account the id is enough, and
clients differ in what they repeat there. A cancel_sm without a message_id (SMPP's "every
message from this source to this destination") is not served: ESME_RCANCELFAIL.
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
    if not ref.message_id:
        return p.pdu(resp, pdu.sequence, status=rules.ESME_RCANCELFAIL)
    server_id = q.server_id(ref.message_id)
    if server_id is None:
        return p.pdu(resp, pdu.sequence, status=rules.ESME_RINVMSGID)
    try:
        account = await gateway.smpp_account(account_id)
        await gateway.cancel(account, server_id)
    except ApiError as error:
        return p.pdu(resp, pdu.sequence, status=rules.status_of(error.code))
    except GatewayError:
        log.exception("SMPP cancel_sm of account %d failed", account_id)
        return p.pdu(resp, pdu.sequence, status=rules.ESME_RSYSERR)
    return p.pdu(resp, pdu.sequence)
