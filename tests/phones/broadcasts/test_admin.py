"""The staff's broadcasts pages: progress, pause/cancel through the services, drill-down, CSV export."""
from __future__ import annotations

import csv
import io
from unittest import mock

import pytest
from django.urls import reverse

from phones.broadcasts.models import Broadcast
from sandbox.models import SandboxMessage
from tests.conftest import make_user
from tests.phones.broadcasts.conftest import run_all

NY, LA = "+12125550123", "+13105550123"


@pytest.fixture
def staff_client(client):
    client.force_login(make_user("staff", is_staff=True, is_superuser=True))
    return client


def test_the_list_shows_progress_and_links_to_the_recipients(create, staff_client):
    created = create([NY, LA]).json()
    with mock.patch("phones.broadcasts.quiet_hours.is_open", return_value=True):
        run_all(created["id"])
    page = staff_client.get(reverse("admin:broadcasts_broadcast_changelist"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "100%" in html and "Spring sale" in html
    broadcast = Broadcast.objects.get()
    drill = staff_client.get(reverse("admin:broadcasts_broadcastrecipient_changelist"),
                             {"broadcast__id__exact": broadcast.pk})
    assert drill.status_code == 200
    assert "+12125550123" in drill.content.decode()


def test_pause_and_cancel_actions_call_the_services(create, staff_client):
    create([NY, LA])
    broadcast = Broadcast.objects.get()
    url = reverse("admin:broadcasts_broadcast_changelist")
    staff_client.post(url, {"action": "pause_broadcasts", "_selected_action": [broadcast.pk]})
    broadcast.refresh_from_db()
    assert broadcast.status == "paused"
    staff_client.post(url, {"action": "cancel_broadcasts", "_selected_action": [broadcast.pk]})
    broadcast.refresh_from_db()
    assert (broadcast.status, broadcast.settled_cost) == ("canceled", 0)
    assert not SandboxMessage.objects.exists()


def test_the_results_export_as_csv(create, staff_client):
    created = create([NY, LA, "+15005550004"]).json()
    with mock.patch("phones.broadcasts.quiet_hours.is_open", return_value=True):
        run_all(created["id"])
    broadcast = Broadcast.objects.get()
    response = staff_client.post(reverse("admin:broadcasts_broadcast_changelist"),
                                 {"action": "export_results", "_selected_action": [broadcast.pk]})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["phone"], r["status"], r["error_code"]) for r in rows] == [
        (NY, "sent", ""), (LA, "sent", ""), ("+15005550004", "failed", "21610")]
