"""data_sm and submit_multi of a bound session, sent through the same `Submitter` as
submit_sm, so through the same rules (docs/smpp.md "PilotGate as an SMSC").

- data_sm is a submit_sm whose text comes in message_payload (or SAR parts of it), with
  qos_time_to_live as its validity; data_sm_resp carries the server_id.
- submit_multi sends to each destination by the rules a submit_sm to it would meet, each
  its own message and price, all as ONE packet (stored and debited together) named by its
  first message's server_id: submit_multi_resp carries that id, and the refused
  destinations in unsuccess_sme, each with the command_status a submit_sm to it would have
  had. When none is accepted the response is the first refusal's command_status alone, as
  a submit_sm's would be. Distribution lists are not kept: such a destination is refused
  ESME_RINVDLNAME. What the one id names afterwards (cancel_sm, query_sm, receipts):
  docs/decisions.md "One id for a submit_multi".
"""

from __future__ import annotations

from pilotgate.domain import smpp_bodies as b, smpp_pdu as p, smpp_rules as rules

from .codec import Submission
from .submits import Submitter


def destinations(pdu: p.Pdu) -> int:
    """How many messages `pdu` asks to send, for the rate limit: a submit_multi's
    destinations, else one (a body that does not read is one: it will be refused)."""
    if pdu.command_id != p.SUBMIT_MULTI:
        return 1
    try:
        return max(1, len(b.submit_multi(pdu.body).destinations))
    except ValueError:
        return 1


def submission(body: b.Body, destination: b.Destination) -> Submission:
    """What a submit_sm to `destination` with the fields of `body` would be."""
    return Submission(
        source=body.source,
        destination=destination.address,
        esm_class=body.esm_class,
        data_coding=body.data_coding,
        registered_delivery=body.registered_delivery,
        schedule=body.schedule,
        validity=body.validity,
        short_message=body.short_message,
        tlvs=body.tlvs,
    )


async def data(submitter: Submitter, pdu: p.Pdu) -> bytes:
    """The data_sm_resp (or generic_nack for a body that does not read) of `pdu`."""
    try:
        body = b.data_sm(pdu.body)
    except ValueError:
        return p.pdu(p.GENERIC_NACK, pdu.sequence, status=rules.ESME_RINVCMDLEN)
    status, message_id = await submitter.submit(submission(body, body.destinations[0]))
    answer = p.cstring(message_id) if status == rules.ESME_ROK else b""
    return p.pdu(p.DATA_SM | p.RESP, pdu.sequence, answer, status)


async def multi(submitter: Submitter, pdu: p.Pdu) -> bytes:
    """The submit_multi_resp (or generic_nack for a body that does not read) of `pdu`."""
    try:
        body = b.submit_multi(pdu.body)
    except ValueError:
        return p.pdu(p.GENERIC_NACK, pdu.sequence, status=rules.ESME_RINVCMDLEN)
    resp = p.SUBMIT_MULTI | p.RESP
    if not body.destinations:
        return p.pdu(resp, pdu.sequence, status=rules.ESME_RINVNUMDESTS)

    sme = [where for where in body.destinations if not where.listed]
    statuses: dict[int, int] = {}  # destination index -> status; absent: accepted
    group = ""
    if sme:
        _, group, outcomes = await submitter.submit_multi(
            submission(body, sme[0]), [where.address for where in sme]
        )
        indexes = [i for i, where in enumerate(body.destinations) if not where.listed]
        statuses = dict(zip(indexes, outcomes, strict=True))
    refused = [
        (where, statuses.get(i, rules.ESME_RINVDLNAME))
        for i, where in enumerate(body.destinations)
        if statuses.get(i, rules.ESME_RINVDLNAME) != rules.ESME_ROK
    ]
    if not group:
        return p.pdu(resp, pdu.sequence, status=refused[0][1])
    return p.pdu(resp, pdu.sequence, b.multi_resp_body(group, refused))
