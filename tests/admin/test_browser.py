"""The staff admin in a real browser: Playwright driving Debian's Chromium against live_server.

Skipped, saying why, when /usr/bin/chromium (apt-get install -y chromium) or the playwright
package is missing, unless REQUIRE_BROWSER=1 (CI), where that is a failure. Each test saves a
screenshot under artifacts/screenshots/.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
from pathlib import Path

import pytest

from billing.models import Price
from orgs.models import AuditLog
from orgs.services import connection_create
from phones.models import PhoneNumber
from sandbox.models import SandboxNumber
from tests.conftest import PASSWORD, make_user
from tests.verify.conftest import drift, second_number  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@pytest.fixture(autouse=True)
def prices(transactional_db) -> None:
    """live_server needs real commits, so each test ends with a flush that also empties the price
    table its migration seeded: put the seed back."""
    seed = importlib.import_module("billing.migrations.0002_seed_prices")
    for country, number_type, setup_fee, monthly_fee in seed.DEFAULT_PRICES:
        Price.objects.get_or_create(country=country, number_type=number_type,
                                    defaults={"setup_fee": setup_fee, "monthly_fee": monthly_fee, "currency": "USD"})


def _unavailable() -> str:
    if not os.path.exists(CHROMIUM):
        return f"{CHROMIUM} is missing: apt-get install -y chromium"
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is missing: make install"
    return ""


@pytest.fixture(scope="module")
def chromium():
    reason = _unavailable()
    if reason:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # around it are still plain synchronous ones.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE")
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(chromium, live_server, request):
    make_user("staffer", is_staff=True, is_superuser=True)
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    tab.goto(f"{live_server.url}/admin/login/")
    tab.fill("#id_username", "staffer")
    tab.fill("#id_password", PASSWORD)
    tab.click("input[type=submit]")
    tab.wait_for_selector("#site-name")
    yield tab
    context.close()


def screenshot(tab, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def run_action(tab, live_server, action: str, numbers: list[PhoneNumber]) -> None:
    tab.goto(f"{live_server.url}/admin/phones/phonenumber/")
    for number in numbers:
        tab.check(f"input[name=_selected_action][value='{number.pk}']")
    tab.select_option("select[name=action]", action)
    tab.click("button[name=index]")


def test_staff_release_a_number_through_the_confirmation_page(page, live_server, active_number,
                                                              second_number):  # noqa: F811
    PhoneNumber.objects.filter(pk=active_number.pk).update(is_system=True)
    run_action(page, live_server, "release_numbers", [active_number, second_number])

    page.wait_for_selector("#release-table")
    system_row = page.locator(f"tr[data-number='{active_number.e164}']")
    assert "Will not be released: This is the org's system phone" in system_row.inner_text()
    refund = page.locator(f"tr[data-number='{second_number.e164}'] td").nth(4).inner_text()
    assert refund.endswith("USD") and refund != "0.00 USD"
    screenshot(page, "release-confirmation")
    page.click("input[value='Yes, release 1 number']")

    page.wait_for_selector(".messagelist")
    messages = page.locator(".messagelist").inner_text()
    assert "Releasing 1 number(s)" in messages
    assert f"{active_number.e164} was not released" in messages
    screenshot(page, "release-done")
    second_number.refresh_from_db()
    active_number.refresh_from_db()
    assert second_number.status == "released" and active_number.status == "active"
    assert not SandboxNumber.objects.filter(sid=second_number.provider_sid).exists()
    assert AuditLog.objects.filter(action="phone.release", target_id=second_number.public_id).exists()


def test_staff_reassign_a_number_to_another_org_through_the_form(page, live_server, active_number, sandbox,
                                                                 other_org):
    shared = connection_create(org=other_org, type_="sandbox-provider", name="Shared account",
                               credentials=sandbox.credentials)
    run_action(page, live_server, "reassign_numbers", [active_number])

    page.wait_for_selector("input[name=target][value=org]")
    page.check("input[name=target][value=org]")
    page.select_option("select[name=org]", str(other_org.pk))
    screenshot(page, "reassign-form")
    page.click("input[value=Reassign]")

    page.wait_for_selector(".messagelist")
    assert f"Reassigned {active_number.e164}" in page.locator(".messagelist").inner_text()
    screenshot(page, "reassign-done")
    active_number.refresh_from_db()
    assert (active_number.org_id, active_number.connection_id) == (other_org.pk, shared.pk)
    assert AuditLog.objects.filter(action="phone.move_org", target_id=active_number.public_id).exists()


def test_staff_verify_numbers_read_the_report_and_repair(page, live_server, active_number, second_number):  # noqa: F811
    drift(second_number, VoiceUrl="https://old.example.com/voice")
    run_action(page, live_server, "verify_numbers", [active_number, second_number])

    page.wait_for_selector(".verify-table")
    drifted = page.locator(f"tr[data-number='{second_number.e164}']").inner_text()
    assert "drift" in drifted and "url_mismatch" in drifted and "https://old.example.com/voice" in drifted
    assert "ok" in page.locator(f"tr[data-number='{active_number.e164}']").inner_text()
    screenshot(page, "verify-report")
    page.click("input[value='Repair drifted webhooks']")

    page.wait_for_selector(".verify-table")
    assert "repaired" in page.locator(f"tr[data-number='{second_number.e164}']").inner_text()
    screenshot(page, "verify-repaired")
    voice_url = SandboxNumber.objects.get(sid=second_number.provider_sid).voice_url
    assert voice_url.endswith("/connect/webhook/twilio/voice") and not voice_url.startswith("https://old")


def test_staff_read_the_dashboard_on_the_index(page, live_server, active_number, second_number, org):  # noqa: F811
    from django.utils import timezone

    from phones.models import Call, Message

    for i in range(5):
        Message.objects.create(org=org, phone_number=active_number, direction="inbound", from_number="+12125550123",
                               to_number=active_number.e164, body=f"hi {i}", created_at=timezone.now())
    Call.objects.create(org=org, phone_number=active_number, direction="inbound", from_number="+12125550123",
                        to_number=active_number.e164, provider_sid="CA-dash", status="completed", duration=125)
    PhoneNumber.objects.filter(pk=second_number.pk).update(status="past_due")
    page.goto(f"{live_server.url}/admin/")
    page.wait_for_selector("#dashboard")
    assert page.locator("#chart-statuses .hbar").count() == 2  # active and past due
    assert page.locator("#chart-sms .bar").count() == 30
    assert "Inbound: 5" in page.locator("#dash-sms .legend").inner_text()
    assert "Past-due numbers (1)" in page.locator("#dash-attention-past-due").inner_text()
    assert second_number.e164[-4:] in page.locator("#dash-attention-past-due").inner_text()
    mrr = page.locator("#card-mrr").inner_text()
    assert "USD" in mrr and "2 billed numbers" in mrr
    assert page.evaluate("document.documentElement.scrollWidth") <= 1400
    screenshot(page, "dashboard")
    page.click("#link-simulate")
    page.wait_for_selector("#site-name")
    assert "Simulate an inbound SMS or call" in page.content()
    assert Message.objects.count() == 5 and PhoneNumber.objects.filter(status="past_due").count() == 1


def test_staff_read_a_numbers_page_and_follow_its_links(page, live_server, active_number):
    from phones.models import Message, PhoneRouting

    PhoneRouting.objects.update_or_create(phone_number=active_number, defaults={"sms_rules": [
        {"type": "auto-reply", "match": {"keywords": ["hours"], "mode": "contains"},
         "params": {"template": "Open 9-5"}}]})
    Message.objects.create(org=active_number.org, phone_number=active_number, direction="inbound",
                           from_number="+12125550123", to_number=active_number.e164, body="hours?",
                           created_at=active_number.created_at)
    page.goto(f"{live_server.url}/admin/phones/phonenumber/")
    page.fill("#searchbar", active_number.e164[2:])  # typed as the list shows it, without +1
    page.press("#searchbar", "Enter")
    page.wait_for_selector("#result_list")
    # The list fits the window: neither the page nor the results table scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 1400
    assert page.evaluate("(() => { const r = document.querySelector('.results'); "
                         "return r.scrollWidth <= r.clientWidth; })()")
    screenshot(page, "numbers-list")
    page.click("#result_list a:has-text('+1')")
    page.wait_for_selector(".related-links")
    body = page.locator("#content-main").inner_text()
    assert "Voice URL" in body and "/connect/webhook/twilio/voice" in body and "Auto reply" in body
    assert page.locator("input[name=_save]").count() == 0
    assert page.locator("#do-release_numbers").is_visible() and page.locator("#do-verify_numbers").is_visible()
    screenshot(page, "number-page")
    page.click(".related-links a:has-text('Messages')")
    page.wait_for_selector("#result_list")
    assert "hours?" in page.locator("#result_list").inner_text()
    page.go_back()
    page.click("#do-verify_numbers")
    page.wait_for_selector(".verify-table")
    assert "ok" in page.locator(f"tr[data-number='{active_number.e164}']").inner_text()
    assert AuditLog.objects.filter(action="phone.verify").exists()


def test_staff_top_up_in_major_units(page, live_server, org):
    from billing.models import LedgerEntry, OrgBalance

    page.goto(f"{live_server.url}/admin/billing/orgbalance/top-up/?org={org.pk}")
    page.fill("#id_amount", "10.505")
    page.fill("#id_reason", "Wire 2026-11-30")
    page.click("input[value='Top up']")
    page.wait_for_selector(".errorlist")
    assert "at most 2 decimal places" in page.locator(".errorlist").inner_text()
    assert not LedgerEntry.objects.exists()
    page.fill("#id_amount", "10.50")
    screenshot(page, "top-up-form")
    page.click("input[value='Top up']")
    page.wait_for_selector(".messagelist")
    assert "Topped up alice-co by 10.50 USD; balance now 10.50 USD." in page.locator(".messagelist").inner_text()
    assert "10.50 USD" in page.locator("#result_list").inner_text()
    screenshot(page, "top-up-done")
    assert OrgBalance.objects.get(org=org).balance == 1050
    assert LedgerEntry.objects.get().amount == 1050
