"""An upstream SMSPILOT-compatible gateway (another PilotGate, or smspilot.ru) in our terms:
how a message of ours is asked of it, and what its statuses mean for our message. The relay
connector uses these when it sends and polls `check`; the gateway when the upstream's status
callback arrives. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping

from .channels import Channel
from .checks import RESULT_FIELDS
from .messages import Status
from .two_way import TWO_WAY

#: `from=` values that pick an upstream channel, by our channel (SMS is the sender itself).
_CHANNEL_SENDERS = {Channel.VIBER.value: "VIBER", Channel.FLASHCALL.value: "FLASHCALL"}
_CHECK_CHANNELS = frozenset({Channel.HLR.value, Channel.PING.value})


def send_params(
    *, channel: str, sender: str, sender_orig: str, text: str, sender_map: Mapping[str, str]
) -> dict[str, str]:
    """The API-1 `send` parameters (text and sender) that ask the upstream for the same
    message on the same channel.

    - number checks: `send=HLR|HLRVIP|PING` (our sender names the kind of check), no `from`;
    - Viber: `from=VIBER`, also for our VIBERSMS messages: we do the SMS fallback ourselves,
      so the upstream must not send (and charge) an SMS of its own;
    - voice: `from=GOLOS|GOLOSM` as stored; flash calls `from=FLASHCALL`;
    - two-way SMS: `from=2WAY`, so the upstream sends from a number of its own pool;
    - SMS: our sender, renamed by `sender_map` (the upstream's registered names).
    """
    if channel in _CHECK_CHANNELS:
        return {"send": sender}
    if channel in _CHANNEL_SENDERS:
        return {"send": text, "from": _CHANNEL_SENDERS[channel]}
    if channel == Channel.VOICE.value:
        return {"send": text, "from": sender}
    if sender_orig == TWO_WAY:
        return {"send": text, "from": TWO_WAY}
    return {"send": text, "from": sender_map.get(sender, sender)}


def final_outcome(status: int, error: int) -> tuple[Status, int] | None:
    """Our message's final status and error for the upstream's `status`/`error`, or None
    while the upstream's is not final. An upstream -2 (it never sent the message, e.g. an id
    it does not know) is our -1: we did hand the message over, and it was not delivered."""
    if status == Status.DELIVERED:
        return Status.DELIVERED, 0
    if status == Status.UNDELIVERED:
        return Status.UNDELIVERED, error or 601
    if status == Status.ERROR:
        return Status.UNDELIVERED, error or 603
    return None


def result_details(item: Mapping[str, object]) -> dict[str, str]:
    """The number check result fields an upstream item (check answer or callback) carries."""
    return {name: str(item[name]) for name in RESULT_FIELDS if item.get(name) not in (None, "")}


def to_int(value: object, default: int = 0) -> int:
    """An upstream's number (JSON strings, as API-1 sends them); `default` when it is none.
    Raises ValueError for garbage, which callers treat as a garbage answer."""
    if value is None or value == "":
        return default
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"not a number: {value!r}")
    return int(value)
