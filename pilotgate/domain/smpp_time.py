"""SMPP 3.4 times (§7.1.1): `schedule_delivery_time` and `validity_period` as a customer's
system writes them, read into UTC datetimes.

    "YYMMDDhhmmsstnnp": absolute, p "+" or "-" and nn quarter hours from UTC;
    "YYMMDDhhmmss000R": relative to now, a duration of years, months, days, hours, minutes
                        and seconds (a year is taken as 365 days and a month as 30: the
                        protocol says no more, and SMSCs commonly count so).
An empty string is "not given".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def parse(value: str, now: datetime) -> datetime | None:
    """The moment `value` names (None for ""); ValueError when it is malformed."""
    if value == "":
        return None
    if len(value) != 16 or not value[:15].isdigit() or not value.isascii():
        raise ValueError(f"not an SMPP time: {value!r}")
    yy, mo, dd, hh, mi, ss = (int(value[i : i + 2]) for i in range(0, 12, 2))
    kind = value[15]
    if kind == "R":
        return now + timedelta(days=yy * 365 + mo * 30 + dd, hours=hh, minutes=mi, seconds=ss)
    if kind not in "+-":
        raise ValueError(f"not an SMPP time: {value!r}")
    tenths, quarters = int(value[12]), int(value[13:15])
    if quarters > 48:
        raise ValueError(f"UTC offset out of range: {value!r}")
    local = datetime(2000 + yy, mo, dd, hh, mi, ss, tenths * 100_000, tzinfo=UTC)
    offset = timedelta(minutes=15 * quarters)
    return local - offset if kind == "+" else local + offset


def format_absolute(moment: datetime) -> str:
    """`moment` as an absolute SMPP time in UTC ("…000+")."""
    at = moment.astimezone(UTC)
    return at.strftime("%y%m%d%H%M%S") + f"{at.microsecond // 100_000}00+"
