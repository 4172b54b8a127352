from __future__ import annotations

import random

import phonenumbers
import pytest

from pilotgate.domain import phones


@pytest.mark.parametrize(
    ("raw", "phone", "error", "country"),
    [
        ("79087964781", "79087964781", 0, "RU"),
        ("+7 (908) 796-47-81", "79087964781", 0, "RU"),
        ("89087964781", "79087964781", 0, "RU"),
        ("375291234567", "375291234567", 0, "BY"),
        ("7908796478", "7908796478", 215, ""),
        ("790879647812345", "790879647812345", 215, ""),
        ("abc", "abc", 111, ""),
        ("7908796478x", "7908796478x", 111, ""),
        ("٧٩٠٨٧٩٦٤٧٨١", "٧٩٠٨٧٩٦٤٧٨١", 111, ""),  # non-ASCII digits are not a phone
    ],
)
def test_check_normalises_and_classifies(raw, phone, error, country):
    checked = phones.check(raw)
    assert (checked.phone, checked.error, checked.country) == (phone, error, country)


def test_split_list_ignores_blanks_around_commas():
    assert phones.split_list(" 79087964781 , ,79161231212,") == ["79087964781", "79161231212"]


def _library_verdict(digits: str) -> tuple[str | None, bool]:
    """The region and validity as phonenumbers itself finds them (what phones.check did
    before it took its own faster path to the same answer)."""
    number = phones._number(digits)
    if number is None:
        return None, False
    region = phonenumbers.region_code_for_number(number)
    return region, region is not None and phonenumbers.is_valid_number_for_region(number, region)


def _sample_numbers() -> list[str]:
    """Every region's example number of every type, each with its last digit changed and
    with a digit more and less, plus seeded random digit strings behind every country code:
    valid, invalid and ambiguous (+1, +7, +44 …) numbers alike."""
    found: set[str] = set()
    for region in phonenumbers.SUPPORTED_REGIONS | {"001"}:
        for kind in phonenumbers.PhoneNumberType.values():
            example = (
                phonenumbers.example_number_for_type(region, kind) if region != "001" else None
            )
            if example is None:
                continue
            digits = phonenumbers.format_number(
                example, phonenumbers.PhoneNumberFormat.E164
            ).lstrip("+")
            found |= {
                digits,
                digits[:-1],
                digits + "5",
                digits[:-1] + str((int(digits[-1]) + 3) % 10),
            }
    for calling_code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
        example = phonenumbers.example_number_for_non_geo_entity(calling_code)
        if example is not None:
            found.add(phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)[1:])
    chance = random.Random(14)
    codes = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
    for _ in range(20_000):
        prefix = str(chance.choice([*codes, 1, 7, 7, 7, 44]))
        rest = "".join(chance.choice("0123456789") for _ in range(chance.randint(4, 13)))
        found.add(prefix + rest)
    return sorted(found)


def test_the_fast_validity_is_the_libraries():
    """phones.py finds region and validity with its own precompiled copy of phonenumbers'
    type patterns, tried in another order: the verdict must be the library's, number for
    number."""
    for digits in _sample_numbers():
        number = phones._number(digits)
        if number is None:
            continue
        region = phones._region(number)
        ours = region, region is not None and phones._valid_for_region(number, region)
        assert ours == _library_verdict(digits), digits
