"""`pilotgate db prune`: final messages and inbound messages older than the cut-off leave
(check answers 302 as for an id that never existed), scheduled ones stay, and the balance
and the cabinet's statement total are exactly what they were."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.postgres import fresh_schema

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


@pytest.mark.postgres
def test_on_postgresql_an_old_partition_leaves_whole(tmp_path: Path) -> None:
    """Once ids have moved on to the next partition, `db prune` drops the old one whole:
    its table is gone, check answers 302 for its ids, the balance is what it was."""
    with fresh_schema() as url, psycopg.connect(url, autocommit=True) as db:
        server = Server(
            tmp_path, "serve",
            settings={"PILOTGATE_DATABASE_URL": url, "PILOTGATE_EMULATOR_DELAY": "0.05"},
        )  # fmt: skip
        with running(server), httpx.Client(timeout=30) as client:
            account = server.create_account(balance="100.00")
            api = Api(client, server.url, account.key)
            sent = api.json(send="old news", to=f"{TELE2},{MTS}")["send"]
            assert {api.wait_status(item["server_id"])["status"] for item in sent} == {"2"}
            # The partitions holding them (the first id is the migration's old table's last).
            holding = [
                row[0]
                for row in db.execute(
                    "SELECT DISTINCT tableoid::regclass::text FROM messages WHERE id = ANY(%s)",
                    ([int(item["server_id"]) for item in sent],),
                )
            ]
            (end,) = db.execute(
                "SELECT max((regexp_match(pg_get_expr(relpartbound, oid), "
                "'TO \\(''(\\d+)''\\)'))[1]::bigint) FROM pg_class WHERE relname = ANY(%s)",
                (holding,),
            ).fetchone() or (None,)
            # As if a day of traffic had gone by: the partition's ids are all taken; a round
            # (here the CLI's, with nothing a day old to remove) makes the next partition.
            db.execute("SELECT setval('message_ids', %s)", (end - 1,))
            assert server.cli("db", "prune", "--days", "1").startswith(
                "removed (older than 1 days): 0 messages"
            )
            later = api.json(send="later news", to=f"{TELE2},{MTS}")["send"]
            assert {api.wait_status(item["server_id"])["status"] for item in later} == {"2"}
            balance = api.balance()

            removed = 0
            for _ in range(5):  # a drop waits 100 ms at most for a busy table, then next time
                said = server.cli("db", "prune", "--days", "0")
                removed += int(said.split(": ")[1].split(" messages")[0])
                gone = [
                    db.execute("SELECT to_regclass(%s)", (name,)).fetchone() for name in holding
                ]
                if gone == [(None,)] * len(holding):
                    break

            assert gone == [(None,)] * len(holding)  # the old partitions' tables are gone
            assert removed == 4
            for item in sent + later:
                assert api.json(check=item["server_id"]) == error_json(302)
            assert api.balance() == balance
