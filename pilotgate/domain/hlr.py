"""The HLR emulator's answers, from the numbering plan (contract §13.1), decided without I/O.

A prefix table (`pilotgate/data/hlr_prefixes.csv`: `prefix,mcc,mnc,country,network`) says
which mobile network owns a range; the longest prefix wins. A number that the numbering plan
(Google's, through `phonenumbers`) calls a valid mobile one is served:

    table = PrefixTable.parse(csv_text)
    answer(table, "79161234567", Channel.HLR, unserved=("0",))
    # Answer(status=2, error=0, details={"imsi": "25001…", "msc": "7916…", "mcc": "250",
    #        "mnc": "01", "cn": "RU", "net": "MTS"})

Where the numbering plan is imported (issue 17) its answer (`numbering.Owner`) replaces the
prefix table for Russian numbers: `mcc`, `mnc`, `net` are the operator serving the number
now, and for a ported number `rcn`/`rnet` name its home operator's country and network. A
number outside every range of the plan is not served.

Anything else (landlines, invalid numbers, numbers ending in an `unserved` suffix) is not
served: -1 with error 602 "Destination unreachable". A PING answers online (2) or offline
(-1, 602) by the same rule with its own `offline` suffixes, and reports no fields: a real
silent SMS tells nothing but whether the phone took it. `imsi` and `msc` are synthetic but
well-formed and stable per number (the tests compare them between calls).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

import phonenumbers
from phonenumbers import PhoneNumberType

from .channels import Channel
from .numbering import Owner
from .prefixes import Network as Network, PrefixTable as PrefixTable

#: The error a number that is not served (HLR) or offline (PING) ends with.
UNREACHABLE = 602
_MOBILE = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})


@dataclass(frozen=True, slots=True, kw_only=True)
class HlrAnswer:
    """What the home network (or the phone, for a PING) said about one number."""

    status: int  # 2 served / online, -1 not served / offline
    error: int = 0
    details: Mapping[str, str] = field(default_factory=dict)


def is_mobile(phone: str) -> bool:
    """Whether the numbering plan calls `phone` (international digits) a valid mobile."""
    try:
        number = phonenumbers.parse("+" + phone)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in _MOBILE


def _digits(phone: str, salt: str, count: int) -> str:
    """`count` decimal digits that depend only on the number (stable across calls)."""
    digest = hashlib.sha256(f"{salt}:{phone}".encode()).hexdigest()
    return str(int(digest, 16))[-count:].zfill(count)


def _served_details(phone: str, network: Network | None) -> dict[str, str]:
    if network is None:
        # A valid mobile in a range the table does not know: served, network unknown.
        region = phonenumbers.region_code_for_number(phonenumbers.parse("+" + phone))
        return {"cn": region or ""}
    # IMSI = MCC + MNC + MSIN, 15 digits; the MSC is an E.164 number in the owner's range.
    msin = _digits(phone, "imsi", 15 - len(network.mcc) - len(network.mnc))
    return {
        "imsi": network.mcc + network.mnc + msin,
        "msc": network.prefix + _digits(phone, "msc", max(11 - len(network.prefix), 4)),
        "mcc": network.mcc,
        "mnc": network.mnc,
        "cn": network.country,
        "net": network.name,
    }


def _planned(phone: str, owner: Owner) -> Network | None:
    """The plan's operator as a network row (None when the mapping knows no MNC for it)."""
    if not owner.mnc:
        return None
    return Network(
        prefix=phone[:4], mcc=owner.mcc, mnc=owner.mnc, country=owner.country, name=owner.operator
    )


def answer(
    table: PrefixTable,
    phone: str,
    channel: str,
    *,
    unserved: tuple[str, ...] = (),
    offline: tuple[str, ...] = (),
    owner: Owner | None = None,
) -> HlrAnswer:
    """The emulated verdict on `phone` for an HLR or PING check (see the module docstring);
    `owner` is the numbering plan's answer, when the plan covers the number."""
    outside = owner is not None and not owner.operator
    mobile = is_mobile(phone) and not outside
    if channel == Channel.PING:
        if mobile and not (offline and phone.endswith(offline)):
            return HlrAnswer(status=2)
        return HlrAnswer(status=-1, error=UNREACHABLE)
    if outside:
        return HlrAnswer(status=-1, error=UNREACHABLE)
    network = _planned(phone, owner) if owner is not None else table.lookup(phone)
    if mobile and not (unserved and phone.endswith(unserved)):
        details = _served_details(phone, network)
        if owner is not None:
            details["cn"], details["net"] = owner.country, owner.operator
            if owner.ported:
                details["rcn"], details["rnet"] = owner.country, owner.home_operator
        return HlrAnswer(status=2, details=details)
    # Not served: the home network still says which network the range belongs to.
    if network is None:
        return HlrAnswer(status=-1, error=UNREACHABLE)
    known = {"mcc": network.mcc, "mnc": network.mnc, "cn": network.country, "net": network.name}
    return HlrAnswer(status=-1, error=UNREACHABLE, details=known)
