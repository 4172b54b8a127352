"""The operator console: accounts, sender approvals (the verdict reaches the customer's
callback), tariffs, connectors, queue health and the global stop list."""

from __future__ import annotations

import re

import httpx

from tests.acceptance.support import DEMO_KEY, TELE2, Api
from tests.acceptance.test_crash import ReceiverThread

from .support import OPERATOR_EMAIL, found


def test_accounts_are_created_topped_up_blocked_and_moved_to_another_tariff(site, operator):
    operator.get("/console/")
    made = operator.post(
        "/console/accounts",
        {"email": "made@example.com", "password": "password-1", "balance": "5.00"},
    )
    account_id, email, key = found(
        r'id="created">(\d+) (\S+) ([A-Za-z0-9]{64})<', made.text
    ).groups()
    assert email == "made@example.com"
    dup = operator.post(
        "/console/accounts", {"email": "made@example.com", "password": "password-1"}
    )
    assert dup.status_code == 409
    no_tariff = operator.post(
        "/console/accounts",
        {"email": "nt@example.com", "password": "password-1", "tariff": "424242"},
    )
    assert no_tariff.status_code == 400 and "nt@example.com" not in operator.get("/console/").text
    with httpx.Client(timeout=30) as http:
        api = Api(http, site.url, key)
        assert api.json(balance="rur")["balance"] == "5.00"
        operator.get(f"/console/accounts/{account_id}")
        assert (
            operator.post(f"/console/accounts/{account_id}/topup", {"amount": "10.25"}).status_code
            == 303
        )
        assert api.json(balance="rur")["balance"] == "15.25"
        assert (
            operator.post(f"/console/accounts/{account_id}/topup", {"amount": "abc"}).status_code
            == 400
        )
        assert (
            operator.post(f"/console/accounts/{account_id}/topup", {"amount": "-100"}).status_code
            == 400
        )
        operator.post(f"/console/accounts/{account_id}/state", {"state": "blocked_spam"})
        assert api.json(balance="rur")["error"]["code"] == "106"
        operator.post(f"/console/accounts/{account_id}/state", {"state": "active"})
        assert api.json(balance="rur")["balance"] == "15.25"
    assert "15.25" in operator.get(f"/console/accounts/{account_id}").text
    assert operator.get("/console/accounts/999999").status_code == 404
    bad = operator.post(f"/console/accounts/{account_id}/tariff", {"tariff": "424242"})
    assert bad.status_code == 400


def test_tariff_import_changes_prices(site, operator):
    operator.get("/console/tariffs")
    bad = operator.client.post(
        "/console/tariffs/import",
        data={"csrf": operator.token},
        files={"file": ("t.csv", b"7,sms,abc\n", "text/csv")},
    )
    assert bad.status_code == 400 and "tariff line 1" in bad.text
    good = operator.client.post(
        "/console/tariffs/import",
        data={"csrf": operator.token, "tariff_id": "7", "name": "cheap"},
        files={
            "file": (
                "t.csv",
                b"prefix,channel,price,country,operator\n7,sms,1.10,RU,Any\n",
                "text/csv",
            )
        },
    )
    assert good.status_code == 303 and good.headers["location"] == "/console/tariffs/7"
    assert "1.10" in operator.get("/console/tariffs/7").text
    account = site.create_account()
    operator.get(f"/console/accounts/{account.id}")
    assert (
        operator.post(f"/console/accounts/{account.id}/tariff", {"tariff": "7"}).status_code == 303
    )
    with httpx.Client(timeout=30) as http:
        answer = Api(http, site.url, account.key).json(send="hi", to=TELE2, cost="1")
    assert answer["cost"] == "1.10"


def test_approving_and_rejecting_senders_notifies_the_customers_callback(site, customer, operator):
    account, client = customer()
    with ReceiverThread() as receiver:
        client.get("/cabinet/senders")
        for name in ("GOODCO", "BADCO"):
            assert (
                client.post(
                    "/cabinet/senders",
                    {"name": name, "description": "shop", "callback": receiver.url},
                ).status_code
                == 303
            )
        page = operator.get("/console/senders").text
        ids = {
            name: found(
                rf'data-sender="(\d+)"><td>\d+</td><td><a[^>]*>{account.id}</a>'
                rf"</td><td>{name}<",
                page,
            ).group(1)
            for name in ("GOODCO", "BADCO")
        }
        assert operator.post(f"/console/senders/{ids['GOODCO']}/approve").status_code == 303
        operator.post(f"/console/senders/{ids['BADCO']}/reject", {"reason": "looks like a bank"})
        calls = receiver.wait_for(count=2)
    verdicts = {c.params["name"]: c.params for c in calls}
    assert verdicts["GOODCO"]["state"] == "approved"
    assert verdicts["BADCO"]["state"] == "rejected"
    assert verdicts["BADCO"]["reason"] == "looks like a bank"
    assert all(c.signature_valid is not False for c in calls)
    senders = client.get("/cabinet/senders").text
    assert re.search(r"GOODCO</td><td>approved", senders) and re.search(
        r"BADCO</td><td>rejected", senders
    )
    with httpx.Client(timeout=30) as http:
        api = Api(http, site.url, account.key)
        assert api.json(send="hi", to=TELE2, **{"from": "GOODCO"})["send"][0]["status"] == "0"
        assert api.json(send="hi", to=TELE2, **{"from": "BADCO"})["error"]["code"] == "204"


def test_connectors_queue_and_the_global_stop_list(site, operator):
    page = operator.get("/console/connectors").text
    assert 'data-connector="emulator"' in page and "<td>yes</td>" in page
    assert "Shutting" not in operator.get("/console/queue").text
    assert "callbacks pending" in operator.get("/console/queue").text
    assert '<div style="font-size:1.5rem" id="smpp-waiting">0</div>' in (
        operator.get("/console/queue").text
    )
    operator.get("/console/stops")
    assert (
        operator.post(
            "/console/stops", {"phones": "79161110000", "reason": "complaint"}
        ).status_code
        == 303
    )
    assert "complaint" in operator.get("/console/stops").text
    with httpx.Client(timeout=30) as http:
        demo = Api(http, site.url, DEMO_KEY)
        assert demo.json(send="hi", to="79161110000")["error"]["code"] == "212"
        operator.get("/console/stops")
        operator.post("/console/stops/remove", {"phone": "79161110000"})
        assert demo.json(send="hi", to="79161110000")["send"][0]["status"] == "0"
    assert operator.post("/console/stops", {"phones": "abc"}).status_code == 400
    assert operator.post("/console/connectors/nosuch/disable").status_code == 404
    trail = [line.split("\t")[1:] for line in site.cli("audit", "--limit", "2").splitlines()]
    assert trail == [
        [f"operator:{OPERATOR_EMAIL}", "stop.remove", "", "global: 79161110000"],
        [
            f"operator:{OPERATOR_EMAIL}",
            "stop.add",
            "",
            "global: 1 of 1 (complaint): 79161110000",
        ],
    ]


def test_the_console_sets_what_an_account_may_send_and_the_cabinet_shows_it(
    site, customer, operator
):
    account, cabinet = customer()
    assert re.search(r'id="countries">[A-Z,]*\bKZ\b', cabinet.get("/cabinet/settings").text)
    page = f"/console/accounts/{account.id}"
    assert 'id="protections"' in operator.get(page).text
    bad = operator.post(f"{page}/protections", {"countries": "ru,russia"})
    assert bad.status_code == 400 and "RUSSIA" in bad.text
    saved = operator.post(
        f"{page}/protections", {"countries": "ru", "stop_words": "casino", "cyrlat": "1"}
    )
    assert saved.status_code == 303
    assert 'id="countries">RU<' in cabinet.get("/cabinet/settings").text
    with httpx.Client(timeout=30) as http:
        api = Api(http, site.url, account.key)
        assert api.json(send="Hi", to="77011234567")["error"]["code"] == "213"
        assert api.json(send="casino", to=TELE2)["error"]["code"] == "247"
        assert api.json(send="Hi", to=TELE2)["send"][0]["status"] == "0"


def test_the_console_sets_an_account_s_rates_and_the_cabinet_shows_them(site, customer, operator):
    account, cabinet = customer()
    assert 'id="api-rps"' not in cabinet.get("/cabinet/settings").text  # no limit yet
    page = f"/console/accounts/{account.id}"
    assert 'id="rates"' in operator.get(page).text
    bad = operator.post(f"{page}/rates", {"api_rps": "fast", "mps": ""})
    assert bad.status_code == 400 and "rate per second" in bad.text
    assert operator.post(f"{page}/rates", {"api_rps": "1", "mps": "5"}).status_code == 303
    settings = cabinet.get("/cabinet/settings").text
    assert re.search(r'id="api-rps">[^<]*: 1<', settings)
    assert re.search(r'id="mps">[^<]*: 5<', settings)
    # The console's own process applies the change at once: past one a second, 429.
    with httpx.Client(timeout=30) as http:
        answers = [
            http.get(
                site.url + "/api.php", params={"balance": "rur", "apikey": account.key}
            ).status_code
            for _ in range(5)
        ]
    assert answers[0] == 200 and 429 in answers
    assert site.cli("audit", "--limit", "1").split("\t")[2:] == [
        "account.rates",
        str(account.id),
        "api_rps=1 mps=5\n",
    ]


def test_the_console_sets_an_accounts_smpp_limits(site, customer, operator):
    account, _ = customer()
    page = f"/console/accounts/{account.id}"
    assert 'id="smpp-limits"' not in operator.get(page).text  # no SMPP credentials yet
    saved = operator.post(f"{page}/smpp", {"system_id": "limited", "password": "s3cret12"})
    assert saved.status_code == 303
    assert 'id="smpp-limits"' in operator.get(page).text
    bad = operator.post(f"{page}/smpp-limits", {"max_binds": "many", "mps": ""})
    assert bad.status_code == 400 and "whole number" in bad.text
    saved = operator.post(f"{page}/smpp-limits", {"max_binds": "3", "mps": "25"})
    assert saved.status_code == 303
    shown = operator.get(page).text
    assert 'name="max_binds" type="text" inputmode="numeric" value="3"' in shown
    assert 'name="mps" type="text" inputmode="numeric" value="25"' in shown
    assert "account.smpp_limits" in shown  # the audit trail on the page
