"""Recipient numbers (contract §2 "Phones").

International format without "+" is the canonical form. We also accept a leading "+",
spaces, dashes, parentheses and a Russian 11-digit number written with a leading 8.
Validation uses Google's numbering plan (the `phonenumbers` library): not a number → 111,
impossible length → 215.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import (
    COUNTRY_CODE_TO_REGION_CODE,
    REGION_CODE_FOR_NON_GEO_ENTITY,
    NumberParseException,
    PhoneMetadata,
    PhoneNumberDesc,
    PhoneNumberType,
    ValidationResult,
    country_code_for_valid_region,
    national_significant_number,
)

_PUNCTUATION = str.maketrans("", "", " -()\t.")
_LENGTH_ERRORS = frozenset(
    {
        ValidationResult.TOO_SHORT,
        ValidationResult.TOO_LONG,
        ValidationResult.INVALID_LENGTH,
    }
)


@dataclass(frozen=True, slots=True)
class Checked:
    """The verdict on one raw recipient: a canonical number, or an error code."""

    raw: str
    phone: str  # canonical digits, or the cleaned raw input when invalid
    error: int  # 0, 111 or 215
    country: str  # ISO 3166 alpha-2, "" when unknown


def split_list(raw: str) -> list[str]:
    """The comma-separated `to` list, with blanks around commas and empty items dropped."""
    return [item.strip() for item in raw.split(",") if item.strip()]


def clean(raw: str) -> str:
    """Strip the punctuation people write numbers with; map 8XXXXXXXXXX to 7XXXXXXXXXX."""
    digits = raw.strip().translate(_PUNCTUATION)
    if digits.startswith("+"):
        digits = digits[1:]
    elif len(digits) == 11 and digits.startswith("8"):
        digits = "7" + digits[1:]
    return digits


def _number(digits: str) -> phonenumbers.PhoneNumber | None:
    """Digits in international form → PhoneNumber. Building it from the country code table
    takes half the time of `phonenumbers.parse`, which matters for 10,000-recipient sends;
    national numbers with a leading zero (Italy) still go through the full parser."""
    for length in (1, 2, 3):
        code = int(digits[:length])
        if code in COUNTRY_CODE_TO_REGION_CODE:
            rest = digits[length:]
            if rest and not rest.startswith("0") and len(rest) <= 17:
                return phonenumbers.PhoneNumber(country_code=code, national_number=int(rest))
            break
    try:
        return phonenumbers.parse("+" + digits)
    except NumberParseException:
        return None


@functools.lru_cache(maxsize=200_000)
def check(raw: str) -> Checked:
    """Validate one recipient (cached: bulk sends repeat the same audiences)."""
    digits = clean(raw)
    if not digits.isdigit() or not digits.isascii():
        return Checked(raw, digits, 111, "")
    number = _number(digits)
    if number is None:
        return Checked(raw, digits, 111, "")
    # is_valid_number would look the region up again; once is enough.
    region = _region(number)
    if region and _valid_for_region(number, region):
        return Checked(raw, digits, 0, region)
    # Judged against mobile lengths: SMS go to mobiles, and the generic plan of some
    # countries (Russia's among them) admits lengths no mobile number has.
    if (
        phonenumbers.is_possible_number_for_type_with_reason(number, PhoneNumberType.MOBILE)
        in _LENGTH_ERRORS
    ):
        return Checked(raw, digits, 215, "")
    return Checked(raw, digits, 111, "")


# phonenumbers answers "is it valid" by finding the number's type: ten regular expressions
# tried in a fixed order (premium rate, toll free, … fixed line) before the one a recipient
# almost always matches, mobile, each compiled pattern looked up again in re's cache. A
# number is valid when its type is anything but UNKNOWN, so the same patterns are tried
# here, precompiled, mobile first, stopping at the first that matches: the same verdict
# (tests/unit/test_phones.py holds it to the library's) at a third of the cost, which was
# a sixth of a 10,000-item API-2 packet (docs/performance.md).
_Desc = tuple[frozenset[int], re.Pattern[str]] | None
#: By id() of the library's metadata objects, which live as long as the process.
_KINDS: dict[int, tuple[PhoneMetadata, _Desc, tuple[_Desc, ...]]] = {}
_LEADING: dict[str, re.Pattern[str]] = {}


def _desc(desc: PhoneNumberDesc | None) -> _Desc:
    if desc is None or not desc.national_number_pattern:
        return None  # phonenumbers: never matches
    return frozenset(desc.possible_length), re.compile(desc.national_number_pattern)


def _matches(nsn: str, desc: _Desc) -> bool:
    if desc is None:
        return False
    lengths, pattern = desc
    if lengths and len(nsn) not in lengths:
        return False
    return pattern.fullmatch(nsn) is not None


def _typed(nsn: str, metadata: PhoneMetadata) -> bool:
    """phonenumberutil._number_type_helper(nsn, metadata) != UNKNOWN."""
    found = _KINDS.get(id(metadata))
    if found is None or found[0] is not metadata:
        # The helper counts mobile only when its pattern differs from fixed line's.
        mobile = () if metadata.same_mobile_and_fixed_line_pattern else (metadata.mobile,)
        kinds = (*mobile, metadata.fixed_line, metadata.premium_rate, metadata.toll_free)
        kinds += (metadata.shared_cost, metadata.voip, metadata.personal_number)
        kinds += (metadata.pager, metadata.uan, metadata.voicemail)
        found = (metadata, _desc(metadata.general_desc), tuple(_desc(k) for k in kinds))
        _KINDS[id(metadata)] = found
    _, general, kinds = found
    return _matches(nsn, general) and any(_matches(nsn, kind) for kind in kinds)


def _region(number: phonenumbers.PhoneNumber) -> str | None:
    """phonenumbers.region_code_for_number, with `_typed` for the type helper."""
    code = number.country_code
    regions = None if code is None else COUNTRY_CODE_TO_REGION_CODE.get(code)
    if regions is None:
        return None
    if len(regions) == 1:
        return regions[0]
    nsn = national_significant_number(number)
    for region in regions:
        metadata = PhoneMetadata.metadata_for_region(region.upper(), None)
        if metadata is None:
            continue
        if metadata.leading_digits is not None:
            leading = _LEADING.get(metadata.leading_digits)
            if leading is None:
                leading = _LEADING[metadata.leading_digits] = re.compile(metadata.leading_digits)
            if leading.match(nsn):
                return region
        elif _typed(nsn, metadata):
            return region
    return None


def _valid_for_region(number: phonenumbers.PhoneNumber, region: str) -> bool:
    """phonenumbers.is_valid_number_for_region, with `_typed` for the type helper."""
    code = number.country_code
    if code is None:
        return False  # never so here: `_region` found no region without a code
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(code, region.upper())
    if metadata is None or (
        region != REGION_CODE_FOR_NON_GEO_ENTITY and code != country_code_for_valid_region(region)
    ):
        return False
    return _typed(national_significant_number(number), metadata)
