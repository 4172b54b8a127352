"""The README's examples work as written (issue 12, "what a new user stumbles on")."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from .readme import curl_urls, pilotgate_commands, section
from .support import Server, running
from .test_smpp import _wait, simulator_command


def test_the_sip_trunk_example_runs_as_written(tmp_path: Path) -> None:
    server = Server(tmp_path)
    commands = pilotgate_commands(section("Voice calls and flash calls through a SIP trunk"))
    assert [c[:2] for c in commands] == [["connector", "add"], ["route", "add"], ["route", "add"]]
    for args in commands:
        server.cli(*args)
    # `--set` values take the type the setting declares: the caller id stays digits, as text.
    routes = set(server.cli("route", "list").splitlines())
    assert {"7\tvoice\ttrunk", "7\tflashcall\ttrunk"} <= routes


def test_set_refuses_a_value_of_the_wrong_type_by_name(tmp_path: Path) -> None:
    server = Server(tmp_path)
    done = server.run_cli(
        "connector", "add", "sip", "trunk", "--host", "sip.example", "--set", "max_calls=many"
    )
    assert done.returncode != 0
    assert "connector trunk: setting 'max_calls' must be an integer" in done.stderr
    # A digit-only password is a password, not a number.
    server.cli(
        "connector", "add", "smpp", "op", "--host", "127.0.0.1", "--port", "2775",
        "--system-id", "acme", "--set", "password=123456", "--set", "window=5",
    )  # fmt: skip
    assert "op\tsmpp\tenabled" in server.cli("connector", "list")


def test_the_first_real_account_walkthrough_works_as_written(tmp_path: Path) -> None:
    text = section("First real account")
    commands = pilotgate_commands(text)
    assert [c[0] for c in commands] == ["smsc-sim", "account", "connector", "route", "connector"]
    sim_args, create, add_link, add_route, list_links = commands
    with simulator_command([*sim_args[:-1], "0"]) as port, running(Server(tmp_path)) as gate:
        account = re.search(r"^apikey (\w{64})$", gate.cli(*create), re.M)
        assert account, "account create printed no key"
        key = account.group(1)
        gate.cli(*[str(port) if arg == "2775" else arg for arg in add_link])
        gate.cli(*add_route)
        _wait(lambda: "bound=True" in gate.cli(*list_links), 20, "the link to bind")
        send_url, check_url = (
            url.replace("http://127.0.0.1:8000", gate.url).replace("$KEY", key)
            for url in curl_urls(text)
        )
        with httpx.Client(timeout=30) as http:
            (sent,) = http.get(send_url).json()["send"]
            assert sent["status"] == "0"
            check_url = check_url.replace("check=10000", f"check={sent['server_id']}")
            _wait(
                lambda: http.get(check_url).json()["check"][0]["status"] == "2",
                20,
                "the receipt",
            )
        # The link's counters reach the database on its next report, not with the status.
        _wait(lambda: "submitted=1 receipts=1" in gate.cli(*list_links), 20, "the link's counters")


def test_route_add_warns_that_the_demo_account_never_uses_it(tmp_path: Path) -> None:
    with running(Server(tmp_path)) as gate:  # the demo: it has the demo account
        gate.cli("connector", "add", "emulator", "backup")
        done = gate.run_cli("route", "add", "7", "sms", "backup")
        assert done.returncode == 0
        assert done.stdout == "route 7 sms -> backup\n"
        assert done.stderr == (
            "warning: the demo account (demo@pilotgate.local) always uses the emulator and "
            "never this route; send with an account of your own (`pilotgate account create`)\n"
        )
        # A route to the emulator alone changes nothing for it: no warning.
        assert gate.run_cli("route", "add", "7916", "sms", "emulator").stderr == ""
    # Without the demo account there is nobody to warn about.
    plain = Server(tmp_path / "plain")
    plain.workdir.mkdir()
    plain.cli("connector", "add", "emulator", "backup")
    assert plain.run_cli("route", "add", "7", "sms", "backup").stderr == ""
