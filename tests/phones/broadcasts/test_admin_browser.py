"""The broadcasts admin in a real browser (Playwright and Debian's Chromium, as tests/admin/test_browser.py)."""
from __future__ import annotations

from datetime import time
from unittest import mock

import pytest

from billing.services import ledger_topup
from orgs.services import connection_create
from phones.broadcasts.models import Broadcast
from phones.broadcasts.services import broadcast_create
from sandbox.messaging import sandbox_messaging_service_create
from sandbox.models import SandboxAccount
from tests.admin.test_browser import chromium, page, prices, screenshot  # noqa: F401 (fixtures)
from tests.phones.broadcasts.conftest import run_all

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def broadcasts(org):
    conn = connection_create(org=org, type_="sandbox-provider", name="Sandbox", credentials={})
    service = sandbox_messaging_service_create(account=SandboxAccount.objects.get(sid=conn.account_id),
                                               friendly_name="Bulk")
    conn.public_config = {**conn.public_config, "messagingServiceSid": service.sid}
    conn.save(update_fields=["public_config"])
    ledger_topup(org=org, amount=10_000, reason="test funds")

    def make(name: str, phones: list[str]) -> Broadcast:
        return broadcast_create(org=org, name=name, body="Sale today", media_urls=[], numbers=[],
                                messaging_service=True, inline=[{"phone": p} for p in phones],
                                quiet_start=time(8), quiet_end=time(21))
    done = make("Done sale", ["+12125550123", "+13105550123", "+15005550004"])
    with mock.patch("phones.broadcasts.quiet_hours.is_open", return_value=True):
        run_all(done.public_id)
    running = make("Running sale", ["+12125550124"])
    return done, running


def test_staff_see_progress_drill_into_recipients_and_pause(page, live_server, broadcasts):  # noqa: F811
    done, running = broadcasts
    page.goto(f"{live_server.url}/admin/broadcasts/broadcast/")
    row = page.locator("tr", has_text="Done sale")
    assert "100%" in row.inner_text() and "completed" in row.inner_text()
    assert "0%" in page.locator("tr", has_text="Running sale").inner_text()
    screenshot(page, "broadcasts-list")

    row.locator("a", has_text="3 →").click()
    page.wait_for_selector("#result_list")
    recipients = page.locator("#result_list").inner_text()
    assert "+12125550123" in recipients and "21610" in recipients
    screenshot(page, "broadcast-recipients")

    page.goto(f"{live_server.url}/admin/broadcasts/broadcast/")
    page.check(f"input[name=_selected_action][value='{running.pk}']")
    page.select_option("select[name=action]", "pause_broadcasts")
    page.click("button[name=index]")
    page.wait_for_selector(".messagelist")
    assert "1 broadcast(s) paused" in page.locator(".messagelist").inner_text()
    running.refresh_from_db()
    assert running.status == "paused"
