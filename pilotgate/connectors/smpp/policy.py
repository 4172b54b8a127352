"""Pure decisions of an SMPP link: what a command_status means, how long to wait before
sending or reconnecting, and how a validity period is written. No I/O, no clock reads."""

from __future__ import annotations

import enum
from dataclasses import dataclass

ESME_ROK = 0x00
ESME_RINVMSGLEN = 0x01
ESME_RSYSERR = 0x08
ESME_RINVSRCADR = 0x0A
ESME_RINVDSTADR = 0x0B
ESME_RMSGQFUL = 0x14
ESME_RTHROTTLED = 0x58
ESME_RX_T_APPN = 0x64
ESME_RX_P_APPN = 0x65
ESME_RUNKNOWNERR = 0xFF

#: Statuses after which the same PDU may succeed later: bind status (0x04, the SMSC is
#: unbinding us), system error, submit failed (0x45), ESME_RX_T_APPN, unknown error.
TEMPORARY = frozenset({0x04, ESME_RSYSERR, 0x45, ESME_RX_T_APPN, ESME_RUNKNOWNERR})
#: Final errors with a catalogue code of their own; every other final error is 603.
FINAL_CODES = {ESME_RINVDSTADR: 111, ESME_RINVSRCADR: 115, ESME_RINVMSGLEN: 221}


class StatusVerdict(enum.Enum):
    OK = "ok"
    THROTTLED = "throttled"  #: pause the link, then send the same PDU again
    TEMPORARY = "temporary"  #: the message goes back to the queue
    FINAL = "final"  #: the message ends -2


def classify(command_status: int) -> tuple[StatusVerdict, int]:
    """What a submit_sm_resp (or generic_nack) status means, and the error code to report."""
    if command_status == ESME_ROK:
        return StatusVerdict.OK, 0
    if command_status in (ESME_RTHROTTLED, ESME_RMSGQFUL):
        return StatusVerdict.THROTTLED, 0
    if command_status in TEMPORARY:
        return StatusVerdict.TEMPORARY, 110
    return StatusVerdict.FINAL, FINAL_CODES.get(command_status, 603)


@dataclass(frozen=True, slots=True)
class Bucket:
    """A token bucket: `tokens` available at time `at` (seconds, any monotonic origin)."""

    tokens: float
    at: float


def take(bucket: Bucket, now: float, rate: float, burst: float) -> tuple[Bucket, float]:
    """Take one token. Returns the new bucket and how long to wait before sending (0 when a
    token was there). The token is taken either way, so waiters queue in order."""
    tokens = min(burst, bucket.tokens + (now - bucket.at) * rate) - 1.0
    wait = 0.0 if tokens >= 0 else -tokens / rate
    return Bucket(tokens, now), wait


def backoff(attempt: int, base: float, cap: float, jitter: float) -> float:
    """Delay before reconnect number `attempt` (0-based): exponential up to `cap`, scaled by
    `jitter` in [0.5, 1] so links cut at once do not all come back at once."""
    return min(cap, base * 2.0 ** min(attempt, 30)) * (0.5 + jitter / 2)


def relative_validity(minutes: int) -> str:
    """SMPP 3.4 §7.1.1 relative time `YYMMDDhhmmss000R`; days above 99 become months."""
    days, rest = divmod(max(0, minutes), 1440)
    months, days = divmod(days, 30) if days > 99 else (0, days)
    return f"00{min(months, 99):02d}{days:02d}{rest // 60:02d}{rest % 60:02d}00000R"
