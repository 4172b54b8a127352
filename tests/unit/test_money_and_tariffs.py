from __future__ import annotations

import pytest

from pilotgate.domain import money
from pilotgate.domain.tariffs import Rate, Tariff


@pytest.mark.parametrize(
    ("text", "kopecks"), [("1.31", 131), ("5", 500), ("0.5", 50), ("-2.05", -205), ("1,20", 120)]
)
def test_parse(text, kopecks):
    assert money.parse(text) == kopecks


@pytest.mark.parametrize("text", ["", "1.234", "abc", "1e3", "1.2.3"])
def test_parse_refuses_what_is_not_exact_money(text):
    with pytest.raises(ValueError):
        money.parse(text)


@pytest.mark.parametrize(
    ("kopecks", "text"), [(131, "1.31"), (0, "0.00"), (-5, "-0.05"), (100000, "1000.00")]
)
def test_format(kopecks, text):
    assert money.format(kopecks) == text


def _rate(tariff: Tariff, phone: str, channel: str) -> Rate:
    rate = tariff.rate(phone, channel)
    assert rate is not None, (phone, channel)
    return rate


def test_longest_prefix_wins_per_channel():
    tariff = Tariff(
        1,
        [
            Rate(prefix="7", channel="sms", price=450, country="RU", operator="Russia"),
            Rate(prefix="7908", channel="sms", price=395, country="RU", operator="Tele2"),
            Rate(prefix="77", channel="sms", price=620, country="KZ", operator="Kazakhstan"),
            Rate(prefix="7", channel="hlr", price=25, country="RU", operator="Russia"),
        ],
    )
    assert _rate(tariff, "79087964781", "sms").operator == "Tele2"
    assert _rate(tariff, "79161231212", "sms").price == 450
    assert _rate(tariff, "77011234567", "sms").country == "KZ"
    assert _rate(tariff, "79087964781", "hlr").price == 25
    assert tariff.rate("79087964781", "viber") is None
    assert tariff.rate("12025550143", "sms") is None
