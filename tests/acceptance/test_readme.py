"""The README's examples work as written (issue 12, "what a new user stumbles on")."""

from __future__ import annotations

from pathlib import Path

from .readme import pilotgate_commands, section
from .support import Server


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
    assert "'max_calls' must be a int" in done.stderr
    # A digit-only password is a password, not a number.
    server.cli(
        "connector", "add", "smpp", "op", "--host", "127.0.0.1", "--port", "2775",
        "--system-id", "acme", "--set", "password=123456", "--set", "window=5",
    )  # fmt: skip
    assert "op\tsmpp\tenabled" in server.cli("connector", "list")
