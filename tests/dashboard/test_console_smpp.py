"""The console's SMPP page (docs/smpp.md "Seen"), with `pilotgate serve` listening for SMPP
as an operator runs it: a customer's live bind shows with its type, its address, the node
serving it and the receipts waiting for its account, and is gone once it unbinds; /metrics
counts its sends and shows the windows in use."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import pytest
import smpplib.client
import smpplib.exceptions

from tests.acceptance.support import Server, running
from tests.postgres import fresh_schema

from . import html_check
from .support import OPERATOR_EMAIL, OPERATOR_PASSWORD, Web, found

#: /metrics open on the API port, as on a demo: the test reads it without a token.
SETTINGS = {"PILOTGATE_SMPP_LISTEN": "127.0.0.1:0", "PILOTGATE_METRICS_PUBLIC": "true"}
SMPP_LINE = re.compile(r"^SMPP on [\d.]+:(\d+)$")


def _smpp_port(server: Server) -> int:
    lines = server.printed(lambda seen: any(SMPP_LINE.match(s) for s in seen))
    return next(int(m.group(1)) for s in lines if (m := SMPP_LINE.match(s)))


def _metric(web: Web, name: str) -> float:
    for line in web.get("/metrics").text.split("\n"):
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError(f"{name} is not on /metrics")


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_a_live_bind_shows_on_the_console_until_it_unbinds(tmp_path: Path, backend: str) -> None:
    with contextlib.ExitStack() as stack:
        settings = dict(SETTINGS)
        if backend == "postgres":
            settings["PILOTGATE_DATABASE_URL"] = stack.enter_context(fresh_schema())
        server = stack.enter_context(running(Server(tmp_path, "serve", settings=settings)))
        server.cli("operator", "add", OPERATOR_EMAIL, "--password", OPERATOR_PASSWORD)
        account = server.create_account()
        server.cli("account", "set", str(account.id), "--smpp-system-id", "shop",
                   "--smpp-password", "s3cret12")  # fmt: skip
        web = Web(server.url)
        assert web.login(OPERATOR_EMAIL, OPERATOR_PASSWORD, "console").status_code == 303
        empty = web.get("/console/smpp")
        assert empty.status_code == 200
        assert "No live binds." in empty.text
        html_check.check(empty.text)
        assert 'href="/console/smpp"' in empty.text  # in the console's navigation
        assert _metric(web, "pilotgate_smpp_window_used") == 0

        client = smpplib.client.Client(
            "127.0.0.1", _smpp_port(server), timeout=10, allow_unknown_opt_params=True
        )
        client.connect()
        try:
            client.bind_transceiver(system_id="shop", password="s3cret12")
            sent = _metric(web, "pilotgate_smpp_sends_total")
            client.send_message(
                source_addr="PilotGate", destination_addr="79000000001", short_message=b"hi"
            )
            # Its submit_sm_resp: ESME_RINVSRCADR (the sender is not approved), a send taken
            # and answered all the same.
            with pytest.raises(smpplib.exceptions.PDUError, match="Invalid Source Address"):
                client.read_once()
            assert _metric(web, "pilotgate_smpp_sends_total") == sent + 1

            page = web.get("/console/smpp").text
            html_check.check(page)
            row = found(r'<tr data-bind="\d+">(.*?)</tr>', page).group(1)
            cells = re.findall(r"<td>(.*?)</td>", row)
            assert cells[0] == f'<a href="/console/accounts/{account.id}">{account.id}</a>'
            assert cells[1:3] == ["transceiver", "127.0.0.1"]
            assert cells[3]  # the node (host:pid:…) serving it
            assert cells[4]  # since when
            assert cells[7].isdigit()  # receipts waiting for the account

            client.unbind()  # the row is released before the unbind_resp
        finally:
            client.disconnect()
        after = web.get("/console/smpp").text
        assert 'data-bind="' not in after
        assert "No live binds." in after
        russian = web.get("/console/smpp", params={"lang": "ru"}).text
        assert "Нет активных сессий." in russian
        web.close()
