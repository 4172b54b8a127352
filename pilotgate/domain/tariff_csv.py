"""Tariff files: rows of `prefix,channel,price,country,operator` (a header row and `#`
comments are optional). Shared by `pilotgate tariff import` and the console's upload."""

from __future__ import annotations

import csv
import io

from pilotgate.errors import ConfigError

from . import money
from .channels import Channel
from .tariffs import Rate


def parse(text: str) -> list[Rate]:
    """The rates of a tariff file; ConfigError names the first bad line."""
    rates = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or row[0].strip().lower() == "prefix" or row[0].startswith("#"):
            continue
        try:
            prefix, channel, price = row[0].strip(), row[1].strip().lower(), row[2].strip()
            country = row[3].strip() if len(row) > 3 else ""
            operator = row[4].strip() if len(row) > 4 else ""
            rate = Rate(
                prefix=prefix.lstrip("+"),
                channel=Channel(channel).value,
                price=money.parse(price),
                country=country,
                operator=operator,
            )
        except (IndexError, ValueError) as exc:
            raise ConfigError(f"tariff line {number}: {exc}") from exc
        if not (rate.prefix.isascii() and rate.prefix.isdigit()) or rate.price < 0:
            raise ConfigError(f"tariff line {number}: bad prefix or price")
        rates.append(rate)
    return rates
