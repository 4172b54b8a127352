"""The second leg of an HLRVIP (contract §13.1): a PING after the HLR, for destinations whose
HLR route is flagged `hlr_unreliable` (the gateway then stored the PING route's connectors in
the message's `ping_route`).

The outbox hands the message to its HLR connector as usual; right after, in the same round
and before the hand-over is recorded, `ping_leg` gives the HLR-accepted ones, as PING
messages, to the first usable connector of their `ping_route`. The message is recorded as
handed to the PING connector, with the PING's remote ids (an SMPP PING's receipt settles
it), the PING's verdict and the HLR's result fields (`domain.checks.combine`). When no PING
connector is usable or it refuses, the HLR's verdict stands: a check is never held back
waiting for a second opinion. The PING leg takes no tokens of its connector's rate limit:
it rides on a hand-over that already took one.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime

from pilotgate.connectors.base import Accepted, Connector, Outcome
from pilotgate.domain import checks, routing
from pilotgate.domain.channels import Channel
from pilotgate.domain.messages import Message, Status
from pilotgate.errors import ConnectorError

log = logging.getLogger("pilotgate.outbox")


def _verdict(accepted: Accepted) -> checks.CheckVerdict:
    status = None if accepted.outcome_status is None else int(accepted.outcome_status)
    return checks.CheckVerdict(
        status=status, error=accepted.outcome_error, details=dict(accepted.details)
    )


def _merge(hlr: Accepted, ping: Accepted) -> Accepted:
    verdict = checks.combine(_verdict(hlr), _verdict(ping))
    return dataclasses.replace(
        ping,
        outcome_status=None if verdict.status is None else Status(verdict.status),
        outcome_error=verdict.error,
        details=verdict.details,
    )


async def ping_leg(
    messages: Sequence[Message],
    outcomes: Sequence[Outcome],
    live: Mapping[str, Connector],
    usable: set[str],
    now: datetime,
) -> tuple[list[Outcome], dict[int, str]]:
    """`outcomes` with each HLRVIP that also needs a PING replaced by the combined answer,
    and, for those, the connector the hand-over is to be recorded with (the PING's)."""
    wanting = {m.server_id: m for m in messages if m.ping_route}
    hlr_answers = {
        o.server_id: o for o in outcomes if isinstance(o, Accepted) and o.server_id in wanting
    }
    if not hlr_answers:
        return list(outcomes), {}
    groups: dict[str, list[Message]] = defaultdict(list)
    for server_id in hlr_answers:
        message = wanting[server_id]
        name = routing.choose(routing.parse_connectors(message.ping_route), usable)
        if name is None:
            log.info("server_id=%d: no PING connector usable, the HLR answer stands", server_id)
            continue
        groups[name].append(dataclasses.replace(message, channel=Channel.PING.value))
    combined: dict[int, Outcome] = {}
    via: dict[int, str] = {}
    for name, pings in groups.items():
        try:
            answers = await live[name].submit(pings, now)
        except ConnectorError as exc:
            log.warning("connector %s refused a PING batch, HLR answers stand: %s", name, exc)
            continue
        for answer in answers:
            if isinstance(answer, Accepted) and answer.server_id in hlr_answers:
                combined[answer.server_id] = _merge(hlr_answers[answer.server_id], answer)
                via[answer.server_id] = name
    return [combined.get(o.server_id, o) for o in outcomes], via
