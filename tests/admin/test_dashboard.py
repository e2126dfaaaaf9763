"""The admin index is a dashboard: figures aggregated in SQL (a fixed number of queries however
much data there is), charts as inline SVG, and what needs staff's attention."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from billing.services import ledger_topup
from phones.models import Call, Job, Message
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def seed(org, other_org, number_factory, n: int) -> None:
    for i in range(n):
        number = number_factory(org, monthly_fee=115)
        Message.objects.create(org=org, phone_number=number, direction="inbound", from_number="+12125550123",
                               to_number=number.e164, body="hi", segments=2, created_at=timezone.now())
        Call.objects.create(org=org, phone_number=number, direction="outbound", from_number=number.e164,
                            to_number="+12125550123", provider_sid=f"CA{n}-{i}", status="completed", duration=90)
    number_factory(other_org, status="past_due", monthly_fee=500, next_billing_date=date.today() - timedelta(days=3))
    pending = number_factory(org, status="pending")
    Job.objects.create(org=org, kind="purchase", status="failed", phone_number=pending, finished_at=timezone.now())


def test_the_index_shows_the_dashboard(staff_client, org, other_org, number_factory):
    ledger_topup(org=org, amount=100, reason="a little")  # below a month of its numbers' fees: low
    seed(org, other_org, number_factory, 3)
    page = staff_client.get("/admin/")
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count("<svg") >= 4 and "<script" not in html.split('id="dashboard"')[1].split("content-related")[0]
    assert 'id="chart-statuses"' in html and 'data-status="Active"' in html
    assert 'id="chart-sms"' in html and "Inbound: <strong>6</strong>" in html  # 3 texts × 2 segments
    assert 'id="chart-calls"' in html and "Outbound: <strong>3</strong>" in html
    assert "Call minutes, last 30 days<strong>5</strong>" in html  # 3 × 90 s in a day: 270 s, rounded up
    # MRR: the 3 active numbers (1.15) and the past-due one (5.00); pending numbers are not billed yet.
    assert "8.45 USD" in html
    assert "Past-due numbers (1)" in html and "Unsettled purchases (1)" in html
    assert "Low balances (1)" in html and "1.00 USD" in html and "3.45 USD" in html
    assert "/sandbox/simulate" in html and "/admin/phones/job/?unsettled=yes" in html


def test_the_dashboard_costs_the_same_queries_however_much_data(staff_client, org, other_org, number_factory,
                                                                django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    seed(org, other_org, number_factory, 1)
    with CaptureQueriesContext(connection) as few:
        staff_client.get("/admin/")
    seed(org, other_org, number_factory, 12)
    with CaptureQueriesContext(connection) as many:
        staff_client.get("/admin/")
    assert len(many) == len(few) <= 25


def test_staff_without_number_permissions_see_no_figures(org):
    client = Client()
    client.force_login(make_user("viewer", is_staff=True))
    html = client.get("/admin/").content.decode()
    assert 'id="dashboard"' not in html
