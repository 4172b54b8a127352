"""What query_sm, cancel_sm and replace_sm share (cancels.py, replace.py): the request read
and the server_id its message_id names, and the gateway's errors turned into the
response's command_status. Written once so the three answer a body that does not read, an
id that cannot be ours and a failure the same way (docs/smpp.md "PilotGate as an SMSC")."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from pilotgate.domain import smpp_pdu as p, smpp_queries as q, smpp_rules as rules
from pilotgate.errors import ApiError, GatewayError

log = logging.getLogger(__name__)


class _Named(Protocol):
    @property
    def message_id(self) -> str: ...


_R = TypeVar("_R", bound=_Named)
_NAMES = {p.QUERY_SM: "query_sm", p.CANCEL_SM: "cancel_sm", p.REPLACE_SM: "replace_sm"}


@dataclass(frozen=True, slots=True)
class Asked(Generic[_R]):
    """A request read: its fields, and the server_id its message_id names (None: it named
    none, which only a cancel_sm by source and destination may do)."""

    request: _R
    server_id: int | None


def read(pdu: p.Pdu, reader: Callable[[bytes], _R], *, id_needed: bool = True) -> Asked[_R] | bytes:
    """`pdu`'s request, or the answer to send at once: generic_nack ESME_RINVCMDLEN for a
    body that does not read, ESME_RINVMSGID for a message_id that cannot be one of ours (or
    is empty where `id_needed`)."""
    try:
        request = reader(pdu.body)
    except ValueError:
        return p.pdu(p.GENERIC_NACK, pdu.sequence, status=rules.ESME_RINVCMDLEN)
    server_id = q.server_id(request.message_id)
    if server_id is None and (request.message_id or id_needed):
        return p.pdu(pdu.command_id | p.RESP, pdu.sequence, status=rules.ESME_RINVMSGID)
    return Asked(request, server_id)


async def answer(
    pdu: p.Pdu,
    account_id: int,
    work: Awaitable[bytes | int],
    statuses: Mapping[int, int] | None = None,
) -> bytes:
    """The response to `pdu`: with the body `work` gives, or with the command_status it
    gives (an int), or with the one of the gateway's error it raised (`statuses` first,
    then the send rules' table); ESME_RSYSERR, logged, for anything else the gateway
    failed at."""
    resp = pdu.command_id | p.RESP
    try:
        done = await work
    except ApiError as error:
        status = (statuses or {}).get(error.code) or rules.status_of(error.code)
        return p.pdu(resp, pdu.sequence, status=status)
    except GatewayError:
        what = _NAMES.get(pdu.command_id, hex(pdu.command_id))
        log.exception("SMPP %s of account %d failed", what, account_id)
        return p.pdu(resp, pdu.sequence, status=rules.ESME_RSYSERR)
    if isinstance(done, int):
        return p.pdu(resp, pdu.sequence, status=done)
    return p.pdu(resp, pdu.sequence, done)
