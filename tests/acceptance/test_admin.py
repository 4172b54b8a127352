"""The operator's tariff and schema commands, seen through what a customer is charged."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from .support import Account, Api, Server


def test_db_upgrade_is_idempotent(gate: Server) -> None:
    assert "schema is up to date" in gate.cli("db", "upgrade")
    assert "schema is up to date" in gate.cli("db", "upgrade")


def test_imported_tariff_prices_by_longest_prefix(
    gate: Server, api: Api, new_account: Callable[..., Account], tmp_path: Path
) -> None:
    prices = tmp_path / "prices.csv"
    prices.write_text(
        "prefix,channel,price,country,operator\n"
        "7,sms,5.00,RU,Russia\n"
        "7908,sms,2.10,RU,Tele2\n"
        "790879,sms,1.05,RU,Tele2 promo\n"
        "7,hlr,0.20,RU,Russia\n",
        encoding="utf-8",
    )
    assert gate.cli("tariff", "import", str(prices), "--id", "42", "--name", "promo").strip() == (
        "tariff 42: 4 rates"
    )
    shown = gate.cli("tariff", "show", "--id", "42").splitlines()
    assert "790879\tsms\t1.05\tRU\tTele2 promo" in shown
    account = new_account(balance="100.00", extra=["--tariff", "42"])
    client = api.as_key(account.key)
    answer = client.json(
        send="Hello", to="79087964781,79081234567,79161231212", fields="phone,price,operator"
    )
    prices_by_phone = {item["phone"]: (item["price"], item["operator"]) for item in answer["send"]}
    assert prices_by_phone == {
        "79087964781": ("1.05", "Tele2 promo"),
        "79081234567": ("2.10", "Tele2"),
        "79161231212": ("5.00", "Russia"),
    }
    assert Decimal(answer["balance"]) == Decimal("100.00") - Decimal("8.15")
    assert client.json(send="HLR", to="79087964781")["cost"] == "0.20"
    # A long Cyrillic text is 2 parts of 67: twice the per-part price.
    assert client.json(send="я" * 100, to="79087964781", cost="1") == {"cost": "2.10"}
    # No viber row in this tariff: the destination is unsupported for that channel.
    assert client.json(send="Hi", to="79087964781", **{"from": "VIBER"})["error"]["code"] == "213"


def test_a_malformed_tariff_file_is_refused_with_its_line(gate: Server, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("7,sms,1.234,RU,Russia\n", encoding="utf-8")
    done = gate.run_cli("tariff", "import", str(bad), "--id", "43")
    assert done.returncode != 0
    assert "tariff line 1" in done.stderr


def test_routes_from_the_config_file_are_applied(tmp_path: Path) -> None:
    conf = tmp_path / "pilotgate.toml"
    conf.write_text(
        '[[connector]]\nname = "backup"\nkind = "emulator"\nmps = 50\n'
        '[[route]]\nprefix = "7916"\nchannel = "sms"\nconnectors = ["emulator", "backup"]\n',
        encoding="utf-8",
    )
    server = Server(tmp_path, "serve", settings={"PILOTGATE_CONFIG": str(conf)})
    routes = server.cli("route", "list").splitlines()
    assert "7916\tsms\temulator,backup" in routes
    assert "*\tall\temulator" in routes
    assert "backup\temulator\tenabled\tmps=50" in server.cli("connector", "list")
