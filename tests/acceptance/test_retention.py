"""`pilotgate db prune`: final messages and inbound messages older than the cut-off leave
(check answers 302 as for an id that never existed), scheduled ones stay, and the balance
and the cabinet's statement total are exactly what they were."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from .support import MTS, TELE2, Api, Server, error_json, running


def test_prune_removes_old_final_history_and_keeps_balances(tmp_path: Path, database: str) -> None:
    server = Server(
        tmp_path, "serve",
        settings={"PILOTGATE_DATABASE_URL": database, "PILOTGATE_EMULATOR_DELAY": "0.05"},
    )  # fmt: skip
    with running(server), httpx.Client(timeout=30) as client:
        account = server.create_account(balance="100.00")
        api = Api(client, server.url, account.key)
        sent = api.json(send="old news", to=f"{TELE2},{MTS}")["send"]
        done = [api.wait_status(item["server_id"]) for item in sent]
        assert {item["status"] for item in done} == {"2"}
        later = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
        scheduled = api.json(send="tomorrow", to=TELE2, send_datetime=later)["send"][0]
        server.inbound(account, phone=TELE2, num="INFORM", text="an old reply")
        balance = api.balance()

        removed = server.cli("db", "prune", "--days", "0")
        # The ledger's top-up and both debits (the scheduled message's too: it was paid
        # for) become one carried row.
        assert removed == (
            "removed (older than 0 days): 2 messages, 1 inbound messages, "
            "3 ledger entries into carried rows\n"
        )

        for item in sent:
            assert api.json(check=item["server_id"]) == error_json(302)
        assert api.json(check=scheduled["server_id"])["check"][0]["status"] == "3"
        assert api.json(inbound="all") == {"inbound": []}
        assert api.balance() == balance
        refused = server.run_cli("db", "prune")
        assert refused.returncode != 0 and "PILOTGATE_RETENTION_DAYS" in refused.stderr
