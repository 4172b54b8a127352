"""Number checks (`send=HLR|PING|HLRVIP`, contract §13.1): their result fields, how they are
stored, and how the two answers of an HLRVIP combine. Pure; the pipeline and the API call it.

Result fields travel from a connector to storage as a flat `Mapping[str, str]` ("details")
and are stored as one JSON object per message. Check items and callbacks of HLR, HLRVIP and
PING messages carry all of them, empty until the check has a final answer; `rcn`/`rnet` also
go out as `gscn`/`gnet`, the names older clients read.

HLRVIP: an HLR, and for destinations whose HLR route is flagged `hlr_unreliable` also a PING.
The PING's verdict wins (status and error); the HLR's fields stay, since a PING has none
(see `combine`). Without a usable PING connector the HLR's verdict stands.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from . import routing
from .channels import Channel
from .messages import Draft
from .tariffs import Tariff

#: The senders (`send=`/`from=` values) of number checks.
HLRVIP = "HLRVIP"
#: Most numbers one check request may name (contract §13.1); more → 240.
MAX_NUMBERS = 500
#: Channels whose messages carry result fields.
CHECK_CHANNELS: frozenset[str] = frozenset({Channel.HLR.value, Channel.PING.value})
#: The result fields, in the order items show them (contract §13.1).
RESULT_FIELDS: tuple[str, ...] = ("imsi", "msc", "mcc", "mnc", "cn", "net", "rcn", "rnet")
#: Other names under which some fields are shown too.
ALIASES: dict[str, str] = {"gscn": "rcn", "gnet": "rnet"}
_FINAL = frozenset({2, -1})


def encode(details: Mapping[str, str]) -> str:
    """The stored form: a JSON object of the known result fields, '' when there are none."""
    known = {k: str(v) for k, v in details.items() if k in RESULT_FIELDS and v}
    return json.dumps(known, ensure_ascii=False, separators=(",", ":")) if known else ""


def decode(stored: str | None) -> dict[str, str]:
    """The stored form back; anything unreadable is no details (never an error on read)."""
    if not stored:
        return {}
    try:
        value = json.loads(stored)
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items() if k in RESULT_FIELDS}


def result_items(channel: str, status: int, details: Mapping[str, str]) -> list[tuple[str, str]]:
    """The result fields an item of this message carries: none for other channels; every
    field (empty until the status is final, so a check never shows half an answer) for
    HLR and PING messages, then the aliases."""
    if channel not in CHECK_CHANNELS:
        return []
    shown = details if status in _FINAL else {}
    items = [(name, shown.get(name, "")) for name in RESULT_FIELDS]
    return items + [(alias, shown.get(name, "")) for alias, name in ALIASES.items()]


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckVerdict:
    """One check's answer: `status` 2 or -1, or None when a receipt will tell it later."""

    status: int | None
    error: int = 0
    details: Mapping[str, str] = field(default_factory=dict)


def combine(hlr: CheckVerdict, ping: CheckVerdict | None) -> CheckVerdict:
    """The one answer of an HLRVIP. Without a PING (none was due, or no PING connector
    could take it) the HLR's verdict stands. With one, the PING's verdict wins, with the
    HLR's fields (a PING has none): a phone the PING reached is served whatever its home
    network said, and one it did not reach is unreachable even if the HLR still lists it."""
    if ping is None:
        return hlr
    error = 0 if ping.status == 2 else ping.error
    return CheckVerdict(status=ping.status, error=error, details={**hlr.details, **ping.details})


def plan(
    drafts: Sequence[Draft], tariff: Tariff, table: routing.RoutingTable | None
) -> list[Draft]:
    """HLRVIP drafts to a destination whose HLR route is flagged `hlr_unreliable` get the
    PING route's connectors (`ping_route`) and the tariff's `ping` price on top of the
    `hlr` one: they pay for both checks. Without a PING route or price, the HLR alone."""
    planned = []
    for draft in drafts:
        ping = _ping_leg(draft, tariff, table)
        if ping is not None:
            route, price = ping
            draft = dataclasses.replace(draft, ping_route=route, price=draft.price + price)
        planned.append(draft)
    return planned


def _ping_leg(
    draft: Draft, tariff: Tariff, table: routing.RoutingTable | None
) -> tuple[str, int] | None:
    if draft.error or draft.sender != HLRVIP or table is None:
        return None
    # The draft's operator is the numbering plan's (or a tariff label no route names).
    hlr = table.route(draft.phone, Channel.HLR, draft.operator)
    if hlr is None or not hlr.hlr_unreliable:
        return None
    ping = table.route(draft.phone, Channel.PING, draft.operator)
    rate = tariff.rate(draft.phone, Channel.PING, draft.operator)
    if ping is None or rate is None:
        return None
    return ",".join(ping.connectors), rate.price
