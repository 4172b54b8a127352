"""HTML and script shown back are escaped everywhere; oversized forms and uploads are
refused with 413."""

from __future__ import annotations

from tests.acceptance.support import TELE2

from .support import found

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _clean(html: str) -> None:
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert" in html


def test_message_text_is_escaped_in_every_view(customer):
    _, client = customer()
    client.get("/cabinet/send")
    sent = client.post("/cabinet/send", {"phones": TELE2, "text": EVIL})
    assert sent.status_code == 200
    server_id = found(r"/cabinet/messages/(\d+)", sent.text).group(1)
    for path in (
        "/cabinet/",
        "/cabinet/history",
        f"/cabinet/messages/{server_id}",
        f"/cabinet/history?q={EVIL[:8]}",
    ):
        _clean(client.get(path).text)
    csv = client.get("/cabinet/history.csv")
    assert csv.headers["content-type"].startswith("text/csv")  # not rendered as HTML


def test_sender_description_and_names_are_escaped_for_customer_and_operator(
    site, customer, operator
):
    account, client = customer()
    client.get("/cabinet/senders")
    added = client.post(
        "/cabinet/senders", {"name": "EVILCO", "description": EVIL, "callback": account.email}
    )
    assert added.status_code == 303
    _clean(client.get("/cabinet/senders").text)
    _clean(operator.get("/console/senders").text)
    _clean(operator.get(f"/console/accounts/{account.id}").text)
    operator.get("/console/")
    named = operator.post(
        "/console/accounts",
        {"email": "evil-name@example.com", "password": "password-1", "name": EVIL},
    )
    assert named.status_code == 200
    _clean(operator.get("/console/").text)


def test_inbound_text_is_escaped(site, customer):
    account, client = customer()
    site.inbound(account, phone=TELE2, num="79990000000", text=EVIL)
    _clean(client.get("/cabinet/inbound").text)


def test_a_reflected_login_email_is_escaped(web):
    web.get("/cabinet/login")
    answer = web.post("/cabinet/login", {"email": '"><script>alert("x")</script>', "password": "x"})
    assert "<script>alert" not in answer.text


def test_oversized_forms_and_uploads_are_refused(customer, operator):
    _, client = customer()
    client.get("/cabinet/send")
    big = client.post("/cabinet/send", {"phones": TELE2, "text": "x" * 30_000})
    assert big.status_code == 413
    operator.get("/console/tariffs")
    upload = operator.client.post(
        "/console/tariffs/import",
        data={"csrf": operator.token, "tariff_id": "9"},
        files={"file": ("big.csv", b"7,sms,1.00\n" * 20_000, "text/csv")},
    )
    assert upload.status_code == 413
    assert "tariffs/9" not in operator.get("/console/tariffs").text
