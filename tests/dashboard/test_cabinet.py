"""The customer cabinet as a user sees it: sending through the API's rules, the counter,
history filters and pages, CSV, settings, sender names, the API key, statistics."""

from __future__ import annotations

import csv
import io
import re

import httpx

from tests.acceptance.support import MTS, TELE2, UNDELIVERABLE, Api

from .support import found


def _ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-id="(\d+)"', html)]


def test_the_counter_uses_the_domain_segmentation_and_the_tariff(customer):
    _, client = customer()
    client.get("/cabinet/send")
    headers = {"hx-request": "true", "x-csrf-token": client.token}
    one = client.client.post(
        "/cabinet/send/count", data={"text": "a" * 160, "phones": TELE2}, headers=headers
    )
    assert 'id="count-parts">1<' in one.text and 'id="count-price">3.95<' in one.text
    two = client.client.post(
        "/cabinet/send/count", data={"text": "a" * 161, "phones": TELE2}, headers=headers
    )
    assert 'id="count-parts">2<' in two.text and 'id="count-price">7.90<' in two.text
    ucs = client.client.post(
        "/cabinet/send/count", data={"text": "я" * 71, "phones": f"{TELE2}\n{MTS}"}, headers=headers
    )
    assert "UCS-2" in ucs.text and 'id="count-parts">2<' in ucs.text
    assert 'id="count-price">16.60<' in ucs.text  # 2 × 3.95 + 2 × 4.35
    bad = client.client.post(
        "/cabinet/send/count", data={"text": "hi", "phones": "123"}, headers=headers
    )
    assert "111" in bad.text or "215" in bad.text


def test_sending_from_the_form_is_an_api_send(site, customer):
    account, client = customer(balance="10.00")
    client.get("/cabinet/send")
    sent = client.post("/cabinet/send", {"phones": f"{TELE2}, {UNDELIVERABLE}", "text": "Hi"})
    assert sent.status_code == 200 and "Balance 2.10" in sent.text
    ids = [int(i) for i in re.findall(r"/cabinet/messages/(\d+)", sent.text)]
    with httpx.Client(timeout=30) as http:
        api = Api(http, site.url, account.key)
        final = api.wait_status(str(ids[1]), {"-1"})
        assert final["status"] == "-1"
        # The API sees the same messages.
        assert api.json(check=str(ids[0]))["check"][0]["phone"] == TELE2
    poor = client.post("/cabinet/send", {"phones": TELE2, "text": "x" * 300})
    assert poor.status_code == 400 and "112" in poor.text  # not enough money: nothing sent
    none = client.post("/cabinet/send", {"phones": TELE2, "text": ""})
    assert none.status_code == 400 and "220" in none.text
    scheduled = client.post(
        "/cabinet/send",
        {"phones": MTS, "text": "later", "schedule": "2099-01-01T10:00", "test": "1"},
    )
    assert scheduled.status_code == 400 and "250" in scheduled.text  # over a year ahead


def test_history_filters_pages_and_csv(customer):
    _, client = customer(balance="500.00")
    client.get("/cabinet/send")
    for i in range(60):
        phone = MTS if i % 3 == 0 else TELE2
        assert (
            client.post("/cabinet/send", {"phones": phone, "text": f"note {i}"}).status_code == 200
        )
    first = client.get("/cabinet/history")
    ids = _ids(first.text)
    assert len(ids) == 50 and ids == sorted(ids, reverse=True)
    later = found(r'href="([^"]+)" id="next-page"', first.text).group(1).replace("&amp;", "&")
    rest = _ids(client.get(later).text)
    assert len(rest) == 10 and max(rest) < min(ids)
    mts = _ids(client.get(f"/cabinet/history?phone={MTS}").text)
    assert len(mts) == 20
    assert len(_ids(client.get("/cabinet/history?q=note 5").text)) == 11  # 5, 50-59
    assert _ids(client.get("/cabinet/history?channel=viber").text) == []
    assert _ids(client.get("/cabinet/history?from=2000-01-01&to=2000-01-02").text) == []
    today = _ids(client.get("/cabinet/history?from=2020-01-01").text)
    assert len(today) == 50
    poll = client.get("/cabinet/history", headers={"hx-request": "true"})
    assert poll.status_code in (200, 286) and "<html" not in poll.text  # the table alone
    export = client.get(f"/cabinet/history.csv?phone={MTS}")
    rows = list(csv.reader(io.StringIO(export.text)))
    assert rows[0][:4] == ["server_id", "packet_id", "created", "phone"]
    assert len(rows) == 21 and {r[3] for r in rows[1:]} == {MTS}
    assert "attachment" in export.headers["content-disposition"]


def test_a_text_search_past_its_window_offers_to_search_older_messages(customer):
    _, client = customer(balance="500.00")
    client.get("/cabinet/send")
    assert client.post("/cabinet/send", {"phones": MTS, "text": "needle"}).status_code == 200
    hay = ",".join(f"791612{i:05d}" for i in range(60))  # the site's window is 60 messages
    assert client.post("/cabinet/send", {"phones": hay, "text": "hay"}).status_code == 200
    (needle,) = _ids(client.get("/cabinet/history?phone=" + MTS).text)
    first = client.get("/cabinet/history?q=needle")
    assert _ids(first.text) == [] and 'id="next-page"' not in first.text
    older = re.search(r'href="([^"]+)" id="search-older"', first.text)
    assert older and "Searched back to message #" in first.text
    found = client.get(older.group(1).replace("&amp;", "&"))
    assert _ids(found.text) == [needle] and 'id="search-older"' not in found.text
    russian = client.get("/cabinet/history?q=needle&lang=ru").text
    assert "Искать в более старых сообщениях" in russian
    export = client.get("/cabinet/history.csv?q=needle")  # the export walks every window
    assert [r[0] for r in csv.reader(io.StringIO(export.text))][1:] == [str(needle)]


def test_settings_are_validated_and_saved(site, customer):
    account, client = customer()
    client.get("/cabinet/settings")
    bad = client.post("/cabinet/settings", {"status_url": "ftp://x", "status_method": "get"})
    assert bad.status_code == 400 and "260" in bad.text
    bad_ip = client.post("/cabinet/settings", {"allow_ip": "not-an-ip", "status_method": "get"})
    assert bad_ip.status_code == 400
    unapproved = client.post(
        "/cabinet/settings", {"status_method": "get", "default_sender": "NOTMINE"}
    )
    assert unapproved.status_code == 400 and "204" in unapproved.text
    good = client.post(
        "/cabinet/settings",
        {
            "status_url": "http://127.0.0.1:9/status",
            "status_method": "post",
            "inbound_url": "",
            "allow_ip": "127.0.0.1",
            "loop_window": "60",
            "default_sender": "",
        },
    )
    assert good.status_code == 303
    out = site.cli("account", "set", str(account.id))
    assert "status_url='http://127.0.0.1:9/status'" in out and "status_method=post" in out
    assert "allow_ip='127.0.0.1'" in out
    page = client.get("/cabinet/settings")
    secret = found(r'id="callback-secret">([0-9a-f]+)<', page.text).group(1)
    client.post("/cabinet/settings", {"rotate_secret": "1"})
    assert secret not in client.get("/cabinet/settings").text


def test_regenerating_the_key_replaces_the_old_one(site, customer):
    account, client = customer()
    client.get("/cabinet/key")
    page = client.post("/cabinet/key")
    new_key = found(r'id="new-key">([A-Za-z0-9]{64})<', page.text).group(1)
    assert f"{site.url}/api.php?send=Hello&amp;to=79087964781&amp;apikey={new_key}" in page.text
    assert new_key not in client.get("/cabinet/key").text  # shown once
    with httpx.Client(timeout=30) as http:
        assert Api(http, site.url, new_key).json(balance="rur")["balance"] == "100.00"
        assert Api(http, site.url, account.key).json(balance="rur")["error"]["code"] == "102"


def test_sender_names_are_requested_and_their_state_shown(customer):
    account, client = customer()
    client.get("/cabinet/senders")
    assert (
        client.post(
            "/cabinet/senders",
            {"name": "SHOP", "description": "shop.example", "callback": account.email},
        ).status_code
        == 303
    )
    again = client.post(
        "/cabinet/senders", {"name": "SHOP", "description": "x", "callback": account.email}
    )
    assert again.status_code == 400 and "642" in again.text
    assert (
        "SHOP" in client.get("/cabinet/senders").text
        and "pending" in client.get("/cabinet/senders").text
    )


def test_statistics_count_messages_by_status_and_operator(site, customer):
    account, client = customer()
    client.get("/cabinet/send")
    sent = client.post("/cabinet/send", {"phones": f"{TELE2},{MTS},{UNDELIVERABLE}", "text": "s"})
    ids = [int(i) for i in re.findall(r"/cabinet/messages/(\d+)", sent.text)]
    with httpx.Client(timeout=30) as http:
        api = Api(http, site.url, account.key)
        for server_id in ids:
            api.wait_status(str(server_id), {"2", "-1"})
    page = client.get("/cabinet/stats?days=7").text
    assert 'id="total-count" style="font-size:1.5rem">3<' in page
    assert "12.25 ₽" in page  # 3.95 + 4.35 + 3.95
    assert "66.7 %" in page  # two of three delivered
    assert "MTS" in page and "Tele2" in page
    assert '"labels"' in page and "chart.umd.min.js" in page


def test_balance_ledger_inbound_referrals_and_api_pages(site, customer):
    account, client = customer()
    site.inbound(account, phone=TELE2, num="79990000000", text="hello inbound")
    assert "hello inbound" in client.get("/cabinet/inbound").text
    balance = client.get("/cabinet/balance").text
    assert 'id="balance">100.00<' in balance and "opening balance" in balance
    assert f"r={account.id}" in client.get("/cabinet/referrals").text
    api = client.get("/cabinet/api").text
    assert f"{site.url}/api.php?send=" in api and "$KEY" in api
