"""End to end in headless Chromium (Debian's `chromium`, driven by Playwright): a customer
logs in, sends from the form, watches the message reach "delivered" in the history, exports
CSV and changes the callback URL; an operator approves a sender and tops up an account.
Screenshots of the main pages go to $PILOTGATE_SCREENSHOTS (else a temporary directory,
printed at the end of the run)."""

from __future__ import annotations

import csv
import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.acceptance.support import TELE2, Server

from .support import OPERATOR_EMAIL, OPERATOR_PASSWORD, Web

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
WAIT_MS = 20_000


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ.get("PILOTGATE_SCREENSHOTS") or tmp_path_factory.mktemp("screens"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        reason = f"no Chromium at {CHROMIUM} (scripts/install --dev installs Debian's)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=CHROMIUM,
            args=ARGS,
            headless=True,
            accept_downloads=True,
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(WAIT_MS)
        yield context
        context.close()


@pytest.fixture
def page(browser, site: Server) -> Iterator[object]:
    if site.url == "":  # pragma: no cover - the fixture always starts the server
        pytest.fail("no server")
    browser.clear_cookies()
    tab = browser.new_page()
    yield tab
    tab.close()


def _login(page, site: Server, area: str, email: str, password: str) -> None:
    page.goto(f"{site.url}/{area}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site.url}/{area}/")


@pytest.mark.parametrize("site", ["sqlite"], indirect=True)
def test_a_customer_sends_watches_delivery_exports_and_sets_the_callback(site, page, shots):
    account = site.create_account(balance="50.00")
    _login(page, site, "cabinet", account.email, account.password)
    page.screenshot(path=shots / "cabinet-overview.png", full_page=True)
    page.click("nav >> text=Send")
    page.fill("#phones", TELE2)
    page.fill("#text", "Hello from the browser <b>bold</b>")
    page.wait_for_selector("#count-price")  # the htmx counter priced it
    assert page.inner_text("#count-parts") == "1"
    assert page.inner_text("#count-price") == "3.95"
    page.screenshot(path=shots / "cabinet-send.png", full_page=True)
    page.click("#send-button")
    page.wait_for_selector("#sent")
    assert "46.05" in page.inner_text("#sent")
    server_id = page.inner_text("#sent table tr:nth-child(2) td:first-child")
    page.click("nav >> text=History")
    # The emulator delivers in a second; the history table refreshes itself (htmx).
    page.wait_for_selector(f'tr[data-id="{server_id}"] td[data-status="2"]')
    assert "Hello from the browser <b>bold</b>" in page.inner_text("#history-table")
    page.screenshot(path=shots / "cabinet-history.png", full_page=True)
    with page.expect_download() as download:
        page.click("#export")
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text("utf-8"))))
    assert rows[1][0] == server_id and rows[1][3] == TELE2 and rows[1][9] == "2"
    page.click(f'tr[data-id="{server_id}"] a')
    page.wait_for_selector("#message-status")
    assert page.inner_text("#message-status").startswith("2")
    page.screenshot(path=shots / "cabinet-message.png", full_page=True)
    page.goto(f"{site.url}/cabinet/stats")
    page.wait_for_selector("body[data-charts=drawn]")
    page.screenshot(path=shots / "cabinet-stats.png", full_page=True)
    page.click("nav >> text=Settings")
    page.fill("#status_url", "https://shop.example/sms-status")
    page.select_option("#status_method", "post")
    page.click("form[action='/cabinet/settings'] button[type=submit] >> nth=0")
    page.wait_for_selector("p.notice")
    assert page.input_value("#status_url") == "https://shop.example/sms-status"
    page.screenshot(path=shots / "cabinet-settings.png", full_page=True)
    out = site.cli("account", "set", str(account.id))
    assert "status_url='https://shop.example/sms-status'" in out and "status_method=post" in out
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto(f"{site.url}/cabinet/history?lang=ru")
    page.wait_for_selector("#history-table")
    assert "История" in page.inner_text("h1")
    page.screenshot(path=shots / "cabinet-history-phone-ru.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.mark.parametrize("site", ["sqlite"], indirect=True)
def test_an_operator_approves_a_sender_and_tops_up_an_account(site, page, shots):
    account = site.create_account(balance="1.00")
    customer = Web(site.url)
    customer.login(account.email, account.password)
    customer.get("/cabinet/senders")
    customer.post(
        "/cabinet/senders",
        {"name": "BROWSERCO", "description": "a shop", "callback": account.email},
    )
    customer.close()
    _login(page, site, "console", OPERATOR_EMAIL, OPERATOR_PASSWORD)
    page.screenshot(path=shots / "console-accounts.png", full_page=True)
    page.click("nav >> text=Sender approvals")
    row = page.locator("#senders tr", has_text="BROWSERCO")
    row.locator("button", has_text="Approve").click()
    page.wait_for_url("**/console/senders?saved=1")
    assert page.locator("#senders tr", has_text="BROWSERCO").count() == 0  # no longer pending
    page.goto(f"{site.url}/console/senders?state=approved")
    assert "BROWSERCO" in page.inner_text("#senders")
    page.screenshot(path=shots / "console-senders.png", full_page=True)
    page.goto(f"{site.url}/console/accounts/{account.id}")
    page.fill("input[name=amount]", "25.50")
    page.click("form[action$='/topup'] button")
    page.wait_for_selector("p.notice")
    assert page.inner_text("#balance").startswith("26.50")
    page.screenshot(path=shots / "console-account.png", full_page=True)
    for name in ("connectors", "queue", "tariffs", "stops"):
        page.goto(f"{site.url}/console/{name}")
        page.screenshot(path=shots / f"console-{name}.png", full_page=True)
    listed = site.cli("sender", "list", str(account.id))
    assert "BROWSERCO\tapproved" in listed
    print(f"\nscreenshots in {shots}")
