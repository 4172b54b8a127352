from __future__ import annotations

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
