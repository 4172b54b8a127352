"""Number checks, the pure parts (issue 6, item 1): the HLR emulator's prefix table and
verdicts, the stored form and rendering of result fields, how an HLRVIP's HLR and PING answers
combine, and which HLRVIP drafts get a PING leg."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from pilotgate.connectors.base import Accepted
from pilotgate.connectors.hlr import prefix_table
from pilotgate.domain import checks, hlr
from pilotgate.domain.messages import Draft, Message, Status
from pilotgate.domain.routing import Route, RoutingTable
from pilotgate.domain.tariffs import Rate, Tariff
from pilotgate.errors import ConnectorError
from pilotgate.pipeline import hlrvip

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)

TABLE = hlr.PrefixTable.parse(
    "# prefix,mcc,mnc,country,network\n7,250,99,RU,Any\n7916,250,01,RU,MTS\n79161,250,02,RU,X\n"
)


@pytest.mark.parametrize(
    ("phone", "network"),
    [("79161234567", "X"), ("79169999999", "MTS"), ("79031234567", "Any"), ("380501", None)],
)
def test_the_longest_prefix_names_the_network(phone: str, network: str | None) -> None:
    found = TABLE.lookup(phone)
    assert (found.name if found else None) == network


@pytest.mark.parametrize(
    "text",
    ["7,250,01,RU", "x7,250,01,RU,MTS", "7,25,01,RU,MTS", "7,250,1,RU,MTS", "7,250,01,,MTS"],
)
def test_malformed_prefix_rows_are_refused_with_their_line(text: str) -> None:
    with pytest.raises(ValueError, match="line 2"):
        hlr.PrefixTable.parse("# header\n" + text)


@pytest.mark.parametrize(
    ("phone", "mcc", "mnc", "country", "network"),
    [
        ("79161234567", "250", "01", "RU", "MTS"),
        ("79251234567", "250", "02", "RU", "MegaFon"),
        ("79031234567", "250", "99", "RU", "Beeline"),
        ("79087964781", "250", "20", "RU", "Tele2"),
        ("77011234567", "401", "02", "KZ", "Kcell"),
        ("375291234567", "257", "01", "BY", "A1"),
        ("380671234567", "255", "03", "UA", "Kyivstar"),
        ("998901234567", "434", "04", "UZ", "Beeline"),
    ],
)
def test_the_shipped_table_knows_the_default_tariffs_networks(
    phone: str, mcc: str, mnc: str, country: str, network: str
) -> None:
    answer = hlr.answer(prefix_table(), phone, "hlr")
    assert answer.status == 2
    details = answer.details
    assert (details["mcc"], details["mnc"], details["cn"], details["net"]) == (
        mcc,
        mnc,
        country,
        network,
    )
    assert len(details["imsi"]) == 15 and details["imsi"].startswith(mcc + mnc)
    assert details["imsi"].isdigit() and details["msc"].isdigit()
    assert hlr.answer(prefix_table(), phone, "hlr") == answer  # stable per number


def test_unserved_numbers_and_offline_pings() -> None:
    table = prefix_table()
    unserved = hlr.answer(table, "79161234560", "hlr", unserved=("0",))
    assert (unserved.status, unserved.error, unserved.details.get("net")) == (-1, 602, "MTS")
    assert "imsi" not in unserved.details
    assert hlr.answer(table, "74951234567", "hlr").status == -1  # a landline
    assert hlr.answer(table, "12", "hlr") == hlr.HlrAnswer(status=-1, error=602)
    assert hlr.answer(table, "4915112345678", "hlr").details == {"cn": "DE"}  # not in table
    assert hlr.answer(table, "79161234569", "ping", offline=("9",)).status == -1
    assert hlr.answer(table, "79161234569", "ping", unserved=("9",)) == hlr.HlrAnswer(status=2)


def test_details_are_stored_as_json_and_unreadable_ones_are_none() -> None:
    stored = checks.encode({"net": "Кселл", "mcc": "401", "junk": "x", "imsi": ""})
    assert stored == '{"net":"Кселл","mcc":"401"}'
    assert checks.decode(stored) == {"net": "Кселл", "mcc": "401"}
    assert checks.encode({}) == ""
    for bad in ("", None, "{", "[1]", '"x"'):
        assert checks.decode(bad) == {}


def test_result_items_only_for_checks_and_only_once_final() -> None:
    details = {"net": "MTS", "rcn": "KZ", "rnet": "Kcell"}
    assert checks.result_items("sms", 2, details) == []
    items = dict(checks.result_items("hlr", 2, details))
    assert list(items) == [*checks.RESULT_FIELDS, "gscn", "gnet"]
    assert (items["net"], items["imsi"], items["gscn"], items["gnet"]) == ("MTS", "", "KZ", "Kcell")
    assert set(dict(checks.result_items("ping", 1, details)).values()) == {""}


HLR_SERVED = checks.CheckVerdict(status=2, details={"net": "MTS", "imsi": "250011234567890"})
HLR_UNSERVED = checks.CheckVerdict(status=-1, error=602, details={"net": "MTS"})


@pytest.mark.parametrize(
    ("hlr_verdict", "ping", "expected"),
    [
        # No PING: the HLR's verdict stands.
        (HLR_SERVED, None, HLR_SERVED),
        (HLR_UNSERVED, None, HLR_UNSERVED),
        # The PING wins both ways, and the HLR's fields stay.
        (
            HLR_UNSERVED,
            checks.CheckVerdict(status=2),
            checks.CheckVerdict(status=2, details={"net": "MTS"}),
        ),
        (
            HLR_SERVED,
            checks.CheckVerdict(status=-1, error=601),
            checks.CheckVerdict(status=-1, error=601, details=HLR_SERVED.details),
        ),
        # A PING whose verdict a receipt will tell later: the message waits for it.
        (
            HLR_SERVED,
            checks.CheckVerdict(status=None),
            checks.CheckVerdict(status=None, details=HLR_SERVED.details),
        ),
    ],
)
def test_hlrvip_combines_to_the_pings_verdict(
    hlr_verdict: checks.CheckVerdict,
    ping: checks.CheckVerdict | None,
    expected: checks.CheckVerdict,
) -> None:
    assert checks.combine(hlr_verdict, ping) == expected


def _draft(phone: str, sender: str = "HLRVIP", **changes: object) -> Draft:
    base = Draft(
        phone=phone, sender=sender, text=sender, parts=1, channel="hlr", price=25,
        status=Status.ACCEPTED, error=0, send_datetime=None, ttl=None, callback=None,
        callback_method=None, country="RU", operator="", test=False, route="home",
    )  # fmt: skip
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_only_hlrvip_to_flagged_destinations_gets_a_ping_leg() -> None:
    table = RoutingTable(
        [
            Route(prefix="", channel="all", connectors=("emulator",)),
            Route(prefix="7916", channel="hlr", connectors=("home",), hlr_unreliable=True),
            Route(prefix="7", channel="ping", connectors=("smsc", "emulator")),
        ]
    )
    tariff = Tariff(1, [Rate(prefix="7", channel="ping", price=35, country="RU", operator="")])
    drafts = [
        _draft("79161234567"),  # flagged: HLR + PING
        _draft("79161234568", sender="HLR"),  # a plain HLR never PINGs
        _draft("79031234567"),  # not flagged
        _draft("79161234569", error=111, price=0),  # failed drafts stay as they are
    ]
    planned = checks.plan(drafts, tariff, table)
    assert [(d.ping_route, d.price) for d in planned] == [
        ("smsc,emulator", 60),
        ("", 25),
        ("", 25),
        ("", 0),
    ]
    assert checks.plan(drafts, tariff, None) == drafts  # test=1, demo: the emulator alone
    no_ping_price = Tariff(1, [])
    assert checks.plan(drafts[:1], no_ping_price, table) == drafts[:1]


class _Pinger:
    """A PING connector that answers as told (or fails the whole batch)."""

    def __init__(self, name: str, status: Status | None = None, down: bool = False) -> None:
        self.name, self.status, self.down = name, status, down
        self.seen: list[Message] = []

    async def submit(self, messages: Sequence[Message], now: datetime) -> list[Accepted]:
        if self.down:
            raise ConnectorError("not bound")
        self.seen += messages
        return [
            Accepted(server_id=m.server_id, remote_id=f"p{m.server_id}", outcome_status=self.status)
            for m in messages
        ]


def _message(server_id: int, ping_route: str) -> Message:
    return Message(
        server_id=server_id, packet_id=server_id, account_id=1, phone="79161234567",
        sender="HLRVIP", sender_orig="", text="HLRVIP", parts=1, channel="hlr", price=60,
        status=Status.ACCEPTED, error=0, send_datetime=None, ttl=None, callback=None,
        callback_method=None, created=NOW, modified=NOW, country="RU", operator="",
        test=False, route="home", ping_route=ping_route,
    )  # fmt: skip


async def test_the_ping_leg_replaces_the_hlr_answer_and_names_its_connector() -> None:
    messages = [_message(1, "down,smsc"), _message(2, ""), _message(3, "nowhere")]
    hlr_answers = [
        Accepted(
            server_id=m.server_id,
            remote_id=f"h{m.server_id}",
            outcome_status=Status.UNDELIVERED,
            outcome_error=602,
            outcome_at=NOW,
            details={"net": "MTS"},
        )
        for m in messages
    ]
    smsc = _Pinger("smsc")  # an SMPP PING: its receipt tells the verdict later
    live = {"smsc": smsc, "down": _Pinger("down", down=True)}
    outcomes, via = await hlrvip.ping_leg(messages, hlr_answers, live, {"smsc"}, NOW)
    assert via == {1: "smsc"}
    assert [m.channel for m in smsc.seen] == ["ping"]
    first = outcomes[0]
    assert isinstance(first, Accepted)
    assert (first.remote_id, first.outcome_status, first.details) == ("p1", None, {"net": "MTS"})
    assert outcomes[1:] == hlr_answers[1:]  # no leg, or no usable PING connector
    # A PING connector that fails the batch leaves the HLR's answers standing.
    outcomes, via = await hlrvip.ping_leg(messages, hlr_answers, live, {"down"}, NOW)
    assert (outcomes, via) == (hlr_answers, {})
    online = {"smsc": _Pinger("smsc", status=Status.DELIVERED)}
    outcomes, _ = await hlrvip.ping_leg(messages[:1], hlr_answers[:1], online, {"smsc"}, NOW)
    assert isinstance(outcomes[0], Accepted)
    assert (outcomes[0].outcome_status, outcomes[0].outcome_error) == (Status.DELIVERED, 0)
