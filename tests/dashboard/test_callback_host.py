"""The cabinet's status and inbound URL form with a host that has no IDNA form (issue 12,
item 6): the form's error 260, never a 500."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("field", ["status_url", "inbound_url"])
@pytest.mark.parametrize("url", ["http://a..b/status", "http://" + "x" * 64 + ".example.com/"])
def test_a_callback_host_idna_refuses_is_the_forms_error_260(site, customer, field, url):
    account, client = customer()
    client.get("/cabinet/settings")
    answer = client.post("/cabinet/settings", {field: url, "status_method": "get"})
    assert answer.status_code == 400, answer.text
    assert "260" in answer.text
    assert f"{field}=''" in site.cli("account", "set", str(account.id))  # nothing saved
