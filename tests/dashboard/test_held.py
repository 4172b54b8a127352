"""The console's Held page (contract §17.5): the operator sees each account's held batch and
releases (charged, sent) or rejects (-2, 223, nothing charged) it with a button."""

from __future__ import annotations

import httpx

from tests.acceptance.support import Api
from tests.acceptance.test_pumping import BLOCK


def test_the_held_page_releases_and_rejects_batches(site, operator):
    sending, attacked = site.create_account(), site.create_account()
    with httpx.Client(timeout=30) as http:
        clients = {a.id: Api(http, site.url, a.key) for a in (sending, attacked)}
        for client in clients.values():
            for phone in BLOCK:
                client.json(send="Code", to=phone)
        page = operator.get("/console/held")
        for account_id in clients:
            row = f'<a href="/console/accounts/{account_id}">{account_id}</a></td><td>2</td>'
            assert row in page.text
        assert "7.90" in page.text  # what releasing one batch charges

        assert operator.post(f"/console/held/{sending.id}/release").status_code == 303
        assert str(clients[sending.id].balance()) == "952.60"  # twelve sent
        assert operator.post(f"/console/held/{attacked.id}/reject").status_code == 303
        assert str(clients[attacked.id].balance()) == "960.50"  # ten sent, two rejected
        statuses = {m["status"] for m in clients[attacked.id].all_messages()}
        assert "-2" in statuses and "4" not in statuses
    page = operator.get("/console/held")
    assert f'href="/console/accounts/{sending.id}"' not in page.text
    assert f'href="/console/accounts/{attacked.id}"' not in page.text
    assert "held.release" in site.cli("audit", str(sending.id))
