from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pilotgate.domain import receipts
from pilotgate.domain.messages import Status

STANDARD = (
    "id:0123456789 sub:001 dlvrd:001 submit date:2611221200 done date:2611221201 "
    "stat:DELIVRD err:000 text:Hello there"
)


def test_standard_text_receipt():
    parsed = receipts.parse(STANDARD, ())
    assert parsed is not None
    assert (parsed.remote_id, parsed.status, parsed.error) == ("123456789", Status.DELIVERED, 0)
    assert parsed.done_at == datetime(2026, 11, 22, 12, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("stat", "status", "error"),
    [
        ("DELIVRD", Status.DELIVERED, 0),
        ("EXPIRED", Status.UNDELIVERED, 600),
        ("UNDELIV", Status.UNDELIVERED, 601),
        ("UNKNOWN", Status.UNDELIVERED, 602),
        ("REJECTD", Status.UNDELIVERED, 603),
        ("DELETED", Status.UNDELIVERED, 604),
        ("ACCEPTD", None, 0),
        ("ENROUTE", None, 0),
        ("GARBAGE", None, 0),
    ],
)
def test_stat_mapping(stat, status, error):
    parsed = receipts.parse(f"id:1 stat:{stat} err:nul", ())
    assert parsed is not None and (parsed.status, parsed.error) == (status, error)
    assert parsed.network_error == ""


@pytest.mark.parametrize(
    "text",
    [
        "id:AB12 sub:1 dlvrd:1 submit date:261122120000 done date:261122120130 stat:DELIVRD "
        "err:0 Text:hi",
        "ID:AB12 Stat:DELIVRD",
        "id:ab12 stat:DELIVRD done date:garbage",
        "id:ab12  stat:DELIVERED",
    ],
)
def test_variants(text):
    parsed = receipts.parse(text, ())
    assert parsed is not None
    assert parsed.remote_id == "ab12" and parsed.status is Status.DELIVERED


def test_twelve_digit_dates():
    fields = receipts.fields_of("id:1 done date:261122120130 stat:DELIVRD Text:x y")
    assert receipts.parse_date(fields["done date"]) == datetime(2026, 11, 22, 12, 1, 30, tzinfo=UTC)
    assert fields["text"] == "x y"
    assert receipts.parse_date("2613991299") is None


def test_tlvs_win_over_text():
    tlvs = [(0x001E, b"1f\x00"), (0x0427, b"\x05"), (0x0423, b"\x03\x00\x07")]
    parsed = receipts.parse("id:999 stat:DELIVRD", tlvs, "hex")
    assert parsed is not None
    assert (parsed.remote_id, parsed.status, parsed.error) == ("31", Status.UNDELIVERED, 601)
    assert parsed.network_error == "030007"


def test_no_id_is_no_receipt():
    assert receipts.parse("stat:DELIVRD", ()) is None
    assert receipts.parse("", ()) is None


@pytest.mark.parametrize(
    ("resp", "resp_format", "receipt", "receipt_format"),
    [
        ("1A2B", "hex", "6699", "dec"),
        ("00001a2b", "hex", "1A2B", "hex"),
        ("ABC-01", "text", "abc-01", "text"),
        ("000123", "text", "123", "dec"),
        ("0", "text", "000", "text"),
        ("xyz", "hex", "XYZ", "text"),
    ],
)
def test_ids_compare_equal_after_normalising(resp, resp_format, receipt, receipt_format):
    assert receipts.normalise_id(resp, resp_format) == receipts.normalise_id(
        receipt, receipt_format
    )


def test_looks_like_receipt():
    assert receipts.looks_like_receipt(0x04, "")
    assert receipts.looks_like_receipt(0x00, "id:1 stat:DELIVRD")
    assert not receipts.looks_like_receipt(0x00, "hello")
    assert not receipts.looks_like_receipt(0x40, "\x05\x00\x03")
