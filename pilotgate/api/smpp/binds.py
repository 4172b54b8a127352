"""Who may bind: the credentials through the gateway's one password check (with its
lockout and allow-list), then a place among the account's binds counted across processes
(limits.py). The session only applies the outcome."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from pilotgate.domain import smpp_rules as rules
from pilotgate.errors import ApiError, GatewayError
from pilotgate.gateway import Gateway
from pilotgate.pipeline import metrics

from .codec import BindRequest
from .limits import AccountLimits

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Admitted:
    account_id: int
    #: The bind's row among the account's binds, given back when the session ends.
    bind_id: int


async def admit(
    gateway: Gateway,
    limits: AccountLimits,
    request: BindRequest,
    *,
    bind_type: str,
    address: str,
    use: Callable[[], tuple[int, int]],
) -> Admitted | int:
    """The bind admitted, or the command_status of its bind_resp refusing it."""
    try:
        account = await gateway.authenticate_smpp(request.system_id, request.password, address)
    except ApiError as error:
        wrong = error.code == 400
        log.info("SMPP %s: bind as %r refused (%d)", address, request.system_id, error.code)
        metrics.SMPP_BIND_REFUSALS.labels("password" if wrong else "account").inc()
        return rules.ESME_RINVPASWD if wrong else rules.ESME_RBINDFAIL
    try:
        bind_id = await limits.hold(account.id, bind_type, address, use)
    except GatewayError:  # the database failed: the bind cannot be counted
        log.exception("SMPP %s: the bind of account %d not counted", address, account.id)
        bind_id, refusal = None, rules.ESME_RSYSERR
    else:
        refusal = rules.ESME_RBINDFAIL
    if bind_id is None:
        log.info("SMPP %s: bind of account %d refused (binds)", address, account.id)
        metrics.SMPP_BIND_REFUSALS.labels("binds").inc()
        return refusal
    return Admitted(account.id, bind_id)
