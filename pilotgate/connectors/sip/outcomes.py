"""What a call's end means for the message (contract §13.2, §13.3), as pure decisions.

voice, answered (played, or hung up by the phone while playing)  →  2
flash call that rang (180/183), or was answered before we could cancel  →  2
busy (486, 600), no answer in time (we cancelled), other failures  →  -1, 601 Undeliverable
unknown or unavailable number (404, 410, 480, 484, 604), no response
                                                       →  -1, 602 Destination unreachable
declined or forbidden (603, 403)  →  -1, 603 Rejected
"""

from __future__ import annotations

from pilotgate.domain.messages import Status

from .call_events import Result

UNREACHABLE = frozenset({404, 408, 410, 480, 484, 502, 503, 504, 604})
REJECTED = frozenset({401, 403, 407, 603})


def failure_error(code: int) -> int:
    """The error of a call that did not reach its goal, from its final SIP status."""
    if code in UNREACHABLE:
        return 602
    if code in REJECTED:
        return 603
    return 601


def voice(result: Result) -> tuple[Status, int]:
    if result.answered:
        return Status.DELIVERED, 0
    if result.cancelled and result.code in (408, 487):
        # We stopped it: it rang (no answer) or never got an answer at all.
        return Status.UNDELIVERED, 601 if result.rang else 602
    return Status.UNDELIVERED, failure_error(result.code)


def flash(result: Result) -> tuple[Status, int]:
    if result.rang or result.answered:
        return Status.DELIVERED, 0
    if result.cancelled:
        return Status.UNDELIVERED, 602
    return Status.UNDELIVERED, failure_error(result.code)
