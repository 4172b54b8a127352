"""Pure parts of the HTTP relay: upstream error mapping, answer parsing, ttl, settings."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from pilotgate.connectors import relay
from pilotgate.domain import upstream
from pilotgate.domain.messages import Message, Status
from pilotgate.errors import ConfigError

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("code", "final", "error"),
    [
        (111, True, 111),
        (115, True, 115),
        (204, True, 204),
        (213, True, 213),
        (221, True, 221),
        (212, True, 212),
        (112, False, 110),  # no money upstream: wait (and fail over), never lose the message
        (110, False, 110),
        (102, False, 110),  # our key is wrong: the operator fixes it
        (999, False, 110),  # unknown: ttl bounds the waiting
    ],
)
def test_classify(code, final, error):
    assert relay.classify(code) == (final, error)


def _send(*items: object, **extra: object) -> str:
    return json.dumps({"send": list(items), "balance": "1.00", **extra})


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (_send({"server_id": "10000", "phone": "7", "price": "1.00", "status": "0"}), "10000"),
        (_send({"server_id": "10001", "status": "3"}), "10001"),
        (_send({"server_id": "0", "status": "-2", "error": "213"}), 213),
        ('{"error":{"code":"111","description":"Invalid phone"}}', 111),
        ('{"error":{"code":"112","description":"No money"}}', 112),
    ],
)
def test_parse_send(body, expected):
    assert relay.parse_send(body) == expected


@pytest.mark.parametrize(
    "body",
    [
        "<html>502 Bad Gateway</html>",
        "[]",
        '{"send": []}',
        _send({"server_id": "1", "status": "0"}, {"server_id": "2", "status": "0"}),
        _send({"server_id": "abc", "status": "0"}),
        _send({"status": "0"}),
        '{"error": {"code": "x"}}',
        "",
    ],
)
def test_parse_send_garbage_raises_value_error(body):
    with pytest.raises((ValueError, TypeError, AttributeError)):
        relay.parse_send(body)


def test_parse_check_reports_final_statuses_of_our_ids_only():
    body = json.dumps(
        {
            "check": [
                {"server_id": "1", "status": "2", "error": "0"},
                {"server_id": "2", "status": "-1", "error": "601"},
                {"server_id": "3", "status": "1", "error": "0"},  # not final yet
                {"server_id": "4", "status": "-2", "error": "302"},  # unknown upstream
                {"server_id": "99", "status": "2"},  # not asked for: someone else's
                {"server_id": "5", "status": "-1"},  # no error given
                "junk",
            ]
        }
    )
    receipts = relay.parse_check(body, ["1", "2", "3", "4", "5"])
    assert [(r.remote_id, r.status, r.error) for r in receipts] == [
        ("1", Status.DELIVERED, 0),
        ("2", Status.UNDELIVERED, 601),
        ("4", Status.UNDELIVERED, 302),
        ("5", Status.UNDELIVERED, 601),
    ]


def test_parse_check_single_unknown_id_is_answered_as_an_error():
    body = '{"error":{"code":"302","description":"SMS server_id not found"}}'
    (receipt,) = relay.parse_check(body, ["7"])
    assert (receipt.remote_id, receipt.status, receipt.error) == ("7", Status.UNDELIVERED, 603)


@pytest.mark.parametrize(
    "body", ["nonsense", "{}", '{"check": "x"}', '{"error":{"code":"102"}}', "[1]"]
)
def test_parse_check_garbage_raises_value_error(body):
    with pytest.raises(ValueError):
        relay.parse_check(body, ["1", "2"])


def _message(
    ttl: int | None, created: datetime = NOW, send_datetime: datetime | None = None
) -> Message:
    return Message(
        server_id=1, packet_id=1, account_id=1, phone="79087964781", sender="INFORM",
        sender_orig="", text="hi", parts=1, channel="sms", price=395, status=Status.ACCEPTED,
        error=0, send_datetime=send_datetime, ttl=ttl, callback=None, callback_method=None,
        created=created, modified=created, country="RU", operator="", test=False,
    )  # fmt: skip


def test_remaining_ttl():
    assert relay.remaining_ttl(_message(None), NOW) is None
    assert relay.remaining_ttl(_message(60), NOW + timedelta(minutes=15)) == 45
    assert relay.remaining_ttl(_message(60), NOW + timedelta(minutes=90)) == 1
    later = NOW + timedelta(hours=1)
    assert relay.remaining_ttl(_message(10, send_datetime=later), NOW) == 70


def test_settings():
    made = relay.RelaySettings.from_json(
        "up", '{"url": "http://h:1/", "apikey": "k", "sender_map": {"A": "B"}, "timeout": 3}'
    )
    assert (made.url, made.apikey, dict(made.sender_map), made.timeout) == (
        "http://h:1",
        "k",
        {"A": "B"},
        3.0,
    )


@pytest.mark.parametrize(
    "settings",
    [
        "nope",
        "[]",
        '{"apikey": "k"}',
        '{"url": "http://h"}',
        '{"url": "ftp://h", "apikey": "k"}',
        '{"url": "http://h", "apikey": "k", "sender_map": ["A"]}',
        '{"url": "http://h", "apikey": "k", "timeout": "soon"}',
        '{"url": "http://h", "apikey": "k", "timeout": 0}',
        '{"url": "http://h", "apikey": "k", "colour": "red"}',
    ],
)
def test_bad_settings_name_the_problem(settings):
    with pytest.raises(ConfigError, match="connector up"):
        relay.RelaySettings.from_json("up", settings)


TOKEN = "tok_0123456789abcdef"


def test_callback_settings_give_each_message_our_callback():
    made = relay.RelaySettings.from_json(
        "up",
        json.dumps(
            {"url": "http://h", "apikey": "k", "callback_url": "https://gw.example/",
             "callback_token": TOKEN}
        ),
    )  # fmt: skip
    assert made.callback_for("sms") == f"https://gw.example/relay/up/{TOKEN}"
    assert made.callback_for("hlr") == (
        f"https://gw.example/relay/up/{TOKEN}?fields=imsi,msc,mcc,mnc,cn,net,rcn,rnet"
    )
    plain = relay.RelaySettings.from_json("up", '{"url": "http://h", "apikey": "k"}')
    assert plain.callback_for("sms") == ""


@pytest.mark.parametrize(
    "extra",
    [
        {"callback_url": "gw.example"},
        {"callback_url": "https://gw.example"},  # no token: anybody could report statuses
        {"callback_url": "https://gw.example", "callback_token": "short"},
        {"callback_url": "https://gw.example", "callback_token": "../../../../etc/passwd"},
        {"callback_url": 5, "callback_token": TOKEN},
    ],
)
def test_bad_callback_settings_are_refused(extra):
    with pytest.raises(ConfigError, match="callback"):
        relay.RelaySettings.from_json("up", json.dumps({"url": "http://h", "apikey": "k"} | extra))


@pytest.mark.parametrize(
    ("channel", "sender", "sender_orig", "text", "expected"),
    [
        ("sms", "SHOP", "", "hi", {"send": "hi", "from": "SHOP2"}),
        ("sms", "INFORM", "", "hi", {"send": "hi", "from": "INFORM"}),
        ("sms", "79000000001", "2WAY", "hi", {"send": "hi", "from": "2WAY"}),
        ("sms", "INFORM", "VIBERSMS", "hi", {"send": "hi", "from": "INFORM"}),  # fallen back
        ("viber", "VIBERSMS", "", "hi", {"send": "hi", "from": "VIBER"}),  # we fall back
        ("viber", "VIBER", "", "hi", {"send": "hi", "from": "VIBER"}),
        ("voice", "GOLOSM", "", "hi", {"send": "hi", "from": "GOLOSM"}),
        ("flashcall", "FLASHCALL", "", "1234", {"send": "1234", "from": "FLASHCALL"}),
        ("hlr", "HLRVIP", "", "any text", {"send": "HLRVIP"}),
        ("ping", "PING", "", "PING", {"send": "PING"}),
    ],
)
def test_every_channel_is_asked_of_the_upstream_as_the_same_channel(
    channel, sender, sender_orig, text, expected
):
    params = upstream.send_params(
        channel=channel, sender=sender, sender_orig=sender_orig, text=text,
        sender_map={"SHOP": "SHOP2"},
    )  # fmt: skip
    assert params == expected


def test_a_final_upstream_item_carries_check_results():
    item = {"server_id": "77", "status": "2", "error": "0", "mcc": "250", "net": "MTS", "rcn": ""}
    receipt = relay.receipt_of(item)
    assert receipt is not None
    assert (receipt.remote_id, receipt.status, dict(receipt.details)) == (
        "77",
        Status.DELIVERED,
        {"mcc": "250", "net": "MTS"},
    )
    assert relay.receipt_of({"server_id": "77", "status": "1"}) is None
    with pytest.raises(ValueError):
        relay.receipt_of({"server_id": "77", "status": {"x": 1}})


def test_parse_send_many_maps_our_phones_only():
    body = _send(
        {"server_id": "11", "phone": "79000000001", "status": "0"},
        {"server_id": "0", "phone": "79000000002", "status": "-2", "error": "212"},
        {"server_id": "13", "phone": "79999999999", "status": "0"},  # not asked: ignored
        {"server_id": "abc", "phone": "79000000003", "status": "0"},  # garbage id: absent
    )
    phones = ["79000000001", "79000000002", "79000000003"]
    assert relay.parse_send_many(body, phones) == {"79000000001": "11", "79000000002": 212}
    assert relay.parse_send_many('{"error":{"code":"112"}}', phones) == 112
    with pytest.raises(ValueError):
        relay.parse_send_many('{"send": "x"}', phones)
