"""The phone number admin: readable list, filters and search, one query per list page whatever its size."""
from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orgs.services import connection_create
from phones.models import Job, PhoneNumber
from tests.admin.conftest import CHANGELIST

pytestmark = pytest.mark.django_db


def make_numbers(org, connection_, count: int, start: int = 0) -> list[PhoneNumber]:
    return PhoneNumber.objects.bulk_create([
        PhoneNumber(public_id=f"pn_list{start + i}", org=org, connection=connection_, e164=f"+1415555{start + i:04d}",
                    country="US", status="active", monthly_fee=115, friendly_name=f"Line {start + i}")
        for i in range(count)])


def test_the_list_shows_formatted_numbers_badges_and_monthly_cost(staff_client, active_number):
    page = staff_client.get(CHANGELIST).content.decode()
    assert "+1 415" in page  # E.164 formatted for reading
    assert "Active</span>" in page
    assert "1.15 USD" in page
    assert "Sales Line" in page


def test_list_queries_do_not_grow_with_the_page(staff_client, org, sandbox):
    make_numbers(org, sandbox, 3)
    with CaptureQueriesContext(connection) as few:
        assert staff_client.get(CHANGELIST).status_code == 200
    make_numbers(org, sandbox, 40, start=3)
    with CaptureQueriesContext(connection) as many:
        assert staff_client.get(CHANGELIST).status_code == 200
    assert len(many) == len(few)


@pytest.mark.parametrize("query, shown", [
    ("status__exact=past_due", ["+14155550001"]), ("past_due=yes", ["+14155550001"]),
    ("is_system__exact=1", ["+14155550002"]), ("routing_mode__exact=ivr", ["+14155550000"]),
    ("provider=sandbox-provider", ["+14155550000", "+14155550001", "+14155550002"]), ("provider=twilio-provider", []),
    ("q=5550002", ["+14155550002"]), ("q=%22Line+1%22", ["+14155550001"]),
])
def test_filters_and_search(staff_client, org, sandbox, query, shown):
    numbers = make_numbers(org, sandbox, 3)
    PhoneNumber.objects.filter(pk=numbers[0].pk).update(routing_mode="ivr")
    PhoneNumber.objects.filter(pk=numbers[1].pk).update(status="past_due")
    PhoneNumber.objects.filter(pk=numbers[2].pk).update(is_system=True)
    response = staff_client.get(f"{CHANGELIST}?{query}")
    assert response.status_code == 200
    assert sorted(n.e164 for n in response.context["cl"].result_list) == shown


def test_the_org_filter(staff_client, org, sandbox, other_org):
    make_numbers(org, sandbox, 1)
    theirs = make_numbers(other_org, connection_create(org=other_org, type_="sandbox-provider", name="Theirs",
                                                       credentials={}), 1, start=10)
    response = staff_client.get(f"{CHANGELIST}?org__id__exact={other_org.pk}")
    assert list(response.context["cl"].result_list) == theirs


def test_numbers_cannot_be_added_or_deleted_as_rows(staff_client, active_number):
    assert staff_client.get(f"{CHANGELIST}add/").status_code == 403
    page = staff_client.get(CHANGELIST).content.decode()
    assert "delete_selected" not in page
    change = staff_client.get(f"{CHANGELIST}{active_number.pk}/change/").content.decode()
    assert active_number.public_id in change and "audit log" in change.lower()


def test_jobs_list_shows_progress(staff_client, active_number):
    Job.objects.filter(phone_number=active_number).update(progress=40, status="running")
    page = staff_client.get("/admin/phones/job/").content.decode()
    assert '<progress value="40" max="100"' in page and "running" in page
