"""Numbers typed into the dashboard are ASCII digits. '²' passes str.isdigit() and made
int() raise (HTTP 500 on five pages); '٣' (Arabic-Indic three) passes int() too and was taken
for a number. Both are now treated like any other text that is not a number."""

from __future__ import annotations

import re

SUPERSCRIPT_TWO = "\u00b2"
ARABIC_THREE = "\u0663"

CABINET_PAGES = [
    f"/cabinet/stats?days={SUPERSCRIPT_TWO}",
    f"/cabinet/balance?before={SUPERSCRIPT_TWO}",
    f"/cabinet/history?before={SUPERSCRIPT_TWO}",
    f"/cabinet/history?status={SUPERSCRIPT_TWO}",
    f"/cabinet/history?status=-{SUPERSCRIPT_TWO}",
    f"/cabinet/history?phone={SUPERSCRIPT_TWO}{SUPERSCRIPT_TWO}",
]


def test_cabinet_pages_answer_unicode_digits_as_if_absent(customer):
    _, client = customer()
    for path in CABINET_PAGES:
        page = client.get(path)
        assert page.status_code == 200, (path, page.text)
        assert "<html" in page.text and "Internal error" not in page.text


def test_the_csv_export_ignores_a_unicode_digit_filter(customer):
    _, client = customer()
    export = client.get(f"/cabinet/history.csv?status={SUPERSCRIPT_TWO}&before={ARABIC_THREE}")
    assert export.status_code == 200
    assert export.text.startswith("server_id,")


def test_statistics_for_arabic_indic_days_show_the_default_thirty(customer):
    _, client = customer()
    page = client.get(f"/cabinet/stats?days={ARABIC_THREE}")
    assert page.status_code == 200
    assert re.search(r"<option selected>30</option>", page.text)


def test_a_unicode_loop_window_is_refused_with_the_form_shown_again(customer):
    _, client = customer()
    client.get("/cabinet/settings")
    for loop in (SUPERSCRIPT_TWO, ARABIC_THREE * 2):
        answer = client.post("/cabinet/settings", {"loop_window": loop})
        assert answer.status_code == 400
        assert 'class="error"' in answer.text


def test_console_forms_refuse_unicode_digits(site, operator, customer):
    account, _ = customer()
    operator.get("/console/")
    made = operator.post(
        "/console/accounts",
        {"email": "digits@example.com", "password": "password-1", "tariff": ARABIC_THREE},
    )
    assert made.status_code == 400
    operator.get(f"/console/accounts/{account.id}")
    moved = operator.post(f"/console/accounts/{account.id}/tariff", {"tariff": SUPERSCRIPT_TWO})
    assert moved.status_code == 400 and 'class="error"' in moved.text
    # An amount in Arabic-Indic digits is no amount: nothing is credited.
    topped = operator.post(f"/console/accounts/{account.id}/topup", {"amount": "\u0661\u0660"})
    assert topped.status_code == 400
    operator.get("/console/tariffs")
    upload = operator.client.post(
        "/console/tariffs/import",
        data={"csrf": operator.token, "tariff_id": SUPERSCRIPT_TWO},
        files={"file": ("t.csv", b"7,sms,1.00\n", "text/csv")},
    )
    assert upload.status_code == 400
    prefix = operator.client.post(
        "/console/tariffs/import",
        data={"csrf": operator.token, "tariff_id": "77"},
        files={"file": ("t.csv", "\u0667,sms,1.00\n".encode(), "text/csv")},
    )
    assert prefix.status_code == 400 and "tariffs/77" not in operator.get("/console/tariffs").text
    operator.get("/console/stops")
    stopped = operator.post("/console/stops", {"phones": SUPERSCRIPT_TWO * 11})
    assert stopped.status_code == 400
    assert SUPERSCRIPT_TWO not in operator.get("/console/stops").text


def test_a_sender_number_in_arabic_indic_digits_is_not_a_sender_name(customer):
    account, client = customer()
    client.get("/cabinet/senders")
    added = client.post(
        "/cabinet/senders",
        {"name": "\u0667" * 11, "description": "digits", "callback": account.email},
    )
    assert added.status_code == 400
    assert "641" in added.text
