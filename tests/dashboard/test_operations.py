"""The CLI and the console create and change accounts through the same use cases: the same
input gives the same account or the same refusal, and both leave an audit entry naming who
made the change (`pilotgate audit`, and the console's account page)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import pytest

from tests.acceptance.support import Account, Server

from .support import OPERATOR_EMAIL, Web


def by_cli(site: Server, email: str, password: str, phone: str) -> tuple[int | None, str]:
    """(account id or None, the refusal) of `pilotgate account create`."""
    done = site.run_cli(
        "account", "create", "--email", email, "--password", password, "--phone", phone
    )
    found = re.search(r"^account (\d+)$", done.stdout, re.M)
    return (int(found.group(1)) if found else None), done.stderr


def by_console(operator: Web, email: str, password: str, phone: str) -> tuple[int | None, str]:
    operator.get("/console/")
    made = operator.post(
        "/console/accounts", {"email": email, "password": password, "phone": phone}
    )
    found = re.search(r'id="created">(\d+) ', made.text)
    return (int(found.group(1)) if found else None), made.text


def listed(site: Server, account_id: int) -> list[str]:
    """The account's line of `pilotgate account list`, without its id."""
    for line in site.cli("account", "list").splitlines():
        fields = line.split("\t")
        if fields[0] == str(account_id):
            return fields[1:]
    raise AssertionError(f"account {account_id} not listed")


def test_the_same_input_makes_the_same_account(site: Server, operator: Web) -> None:
    tag = uuid.uuid4().hex[:8]
    made = {
        "cli": by_cli(site, f"  Mixed.cli.{tag}@Example.COM ", "password-1", "+7 (916) 123-45-67"),
        "web": by_console(
            operator, f"  Mixed.web.{tag}@Example.COM ", "password-1", "+7 (916) 123-45-67"
        ),
    }
    cli_id, web_id = made["cli"][0], made["web"][0]
    assert cli_id is not None and web_id is not None, made
    assert listed(site, cli_id)[0] == f"mixed.cli.{tag}@example.com"
    assert listed(site, web_id)[0] == f"mixed.web.{tag}@example.com"
    assert listed(site, cli_id)[1:] == listed(site, web_id)[1:]  # balance, state, tariff


@pytest.mark.parametrize(
    ("password", "phone", "problem"),
    [
        ("7-chars", "", "at least 8 characters"),
        ("password-1", "call me", "not a phone number"),
    ],
)
def test_the_same_input_is_refused_for_the_same_reason(
    site: Server, operator: Web, password: str, phone: str, problem: str
) -> None:
    tag = uuid.uuid4().hex[:8]
    cli_id, cli_says = by_cli(site, f"cli-{tag}@example.com", password, phone)
    web_id, web_says = by_console(operator, f"web-{tag}@example.com", password, phone)
    assert cli_id is None and web_id is None
    assert problem in cli_says and problem in web_says
    assert f"-{tag}@" not in site.cli("account", "list")


def test_every_change_names_who_made_it(site: Server, operator: Web) -> None:
    account = site.create_account(balance="0")
    site.cli("account", "topup", str(account.id), "5.00", "--note", "welcome")
    operator.get(f"/console/accounts/{account.id}")
    assert (
        operator.post(
            f"/console/accounts/{account.id}/topup", {"amount": "2.50", "note": "goodwill"}
        ).status_code
        == 303
    )
    operator.post(f"/console/accounts/{account.id}/state", {"state": "blocked_spam"})
    trail = site.cli("audit", str(account.id)).splitlines()
    assert [line.split("\t")[1:3] for line in trail] == [
        [f"operator:{OPERATOR_EMAIL}", "account.state"],
        [f"operator:{OPERATOR_EMAIL}", "account.credit"],
        ["cli", "account.credit"],
        ["cli", "account.create"],
    ]
    assert trail[1].endswith("2.50 goodwill") and trail[2].endswith("5.00 welcome")
    page = operator.get(f"/console/accounts/{account.id}").text
    audit = page[page.index('id="audit"') :]
    assert f"operator:{OPERATOR_EMAIL}" in audit and "blocked_spam" in audit
    assert "5.00 welcome" in audit


def test_a_customer_replacing_their_key_is_in_the_audit(
    site: Server, customer: Callable[..., tuple[Account, Web]]
) -> None:
    account, web = customer()
    web.get("/cabinet/key")
    assert web.post("/cabinet/key").status_code == 200
    web.get("/cabinet/settings")
    web.post("/cabinet/settings", {"rotate_secret": "1"})
    trail = [line.split("\t")[1:] for line in site.cli("audit", str(account.id)).splitlines()]
    assert trail[:2] == [
        [f"customer:{account.email}", "account.secret", str(account.id), "rotated"],
        [f"customer:{account.email}", "account.key", str(account.id), "replaced"],
    ]


def test_a_customer_changing_settings_and_password_is_in_the_audit(
    site: Server, customer: Callable[..., tuple[Account, Web]]
) -> None:
    account, web = customer()
    web.get("/cabinet/settings")
    saved = web.post("/cabinet/settings", {"allow_ip": "10.0.0.0/8", "loop_window": "60"})
    assert saved.status_code == 303
    web.get("/cabinet/password")
    done = web.post("/cabinet/password", {"current": account.password, "new": "new-pass-123"})
    assert done.status_code == 303
    trail = [line.split("\t")[1:3] for line in site.cli("audit", str(account.id)).splitlines()]
    actor = f"customer:{account.email}"
    assert trail[:3] == [
        [actor, "account.password"],
        [actor, "account.loop_window"],
        [actor, "account.change"],
    ]


def test_operator_add_is_audited_without_the_password(site: Server) -> None:
    email = f"  Op.{uuid.uuid4().hex[:8]}@Example.COM "
    clean = email.strip().lower()
    first = site.run_cli("operator", "add", email, "--password", "first-password")
    again = site.run_cli("operator", "add", clean, "--password", "second-pass")
    assert first.returncode == 0 and again.returncode == 0, (first.stderr, again.stderr)
    operator_id = first.stdout.split()[1]
    assert (
        again.stdout.strip() == f"operator {operator_id} {email.strip().lower()}: password changed"
    )
    trail = [line.split("\t")[1:] for line in site.cli("audit", "--limit", "2").splitlines()]
    assert trail == [
        ["cli", "operator.password", "", f"operator {operator_id}"],
        ["cli", "operator.add", "", f"operator {operator_id} {clean}"],
    ]
    assert "first-password" not in str(trail) and "second-pass" not in str(trail)
    refused = site.run_cli("operator", "add", "not-an-address", "--password", "first-password")
    assert refused.returncode != 0 and "EMAIL" in refused.stderr
