"""Staff pages: the top-up form (bad input writes nothing), read-only ledger and usage, past-due list."""
from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from billing import services
from billing.models import LedgerEntry, OrgBalance
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

TOPUP_URL = "/admin/billing/orgbalance/top-up/"


@pytest.fixture
def staff_client(db) -> Client:
    client = Client()
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    return client


def post_topup(client: Client, org, **fields):
    data = {"org": org.pk, "amount": "25.00", "currency": "", "reason": "Wire #7", "key": "form-1", **fields}
    return client.post(TOPUP_URL, data, follow=True)


def test_staff_tops_up_through_the_form_and_is_told_the_new_balance(staff_client, org):
    form = staff_client.get(f"{TOPUP_URL}?org={org.pk}")
    assert form.status_code == 200
    assert form.context["form"].initial["org"] == str(org.pk)
    response = post_topup(staff_client, org)
    assert response.status_code == 200
    assert "Topped up alice-co by 25.00 USD; balance now 25.00 USD." in response.content.decode()
    entry = LedgerEntry.objects.get()
    assert (entry.kind, entry.amount, entry.created_by.username, entry.description) == (
        "topup", 2500, "root", "Top-up: Wire #7")
    assert OrgBalance.objects.get(org=org).balance == 2500


def test_submitting_the_same_form_twice_tops_up_once(staff_client, org):
    post_topup(staff_client, org)
    post_topup(staff_client, org)
    assert OrgBalance.objects.get(org=org).balance == 2500


@pytest.mark.parametrize("fields, field, message", [
    ({"amount": "-100"}, "amount", "Enter a positive amount"),
    ({"amount": "0"}, "amount", "Enter an amount greater than zero"),
    ({"amount": "0.00"}, "amount", "Enter an amount greater than zero"),
    ({"amount": "12.505"}, "amount", "Use at most 2 decimal places"),
    ({"amount": "ten"}, "amount", "Enter an amount such as 10.50"),
    ({"amount": "1e3"}, "amount", "Enter an amount such as 10.50"),
    ({"amount": "10000001"}, "amount", "Enter at most 10000000.00"),
    ({"currency": "EUR"}, "currency", "The org&#x27;s balance is in USD, not EUR"),
    ({"currency": "eur"}, "currency", "Unknown currency"),
    ({"reason": ""}, "reason", "This field is required"),
])
def test_bad_input_shows_the_error_and_writes_nothing(staff_client, org, fields, field, message):
    response = post_topup(staff_client, org, **fields)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert message in response.content.decode()
    assert not LedgerEntry.objects.exists()
    assert not OrgBalance.objects.filter(balance__gt=0).exists()


def test_a_non_staff_user_cannot_reach_the_top_up(org, alice):
    client = Client()
    client.force_login(alice)
    response = client.post(TOPUP_URL, {"org": org.pk, "amount": "100", "reason": "me", "key": "k"})
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    assert not LedgerEntry.objects.exists()


def test_staff_without_the_balance_permission_cannot_top_up(org):
    client = Client()
    client.force_login(make_user("viewer", is_staff=True))
    assert client.get(TOPUP_URL).status_code == 403
    assert client.post(TOPUP_URL, {"org": org.pk, "amount": "100", "reason": "x", "key": "k"}).status_code == 403
    assert not LedgerEntry.objects.exists()


def test_the_balance_list_links_to_the_top_up(staff_client, org):
    services.ledger_topup(org=org, amount=100, reason="x")
    page = staff_client.get("/admin/billing/orgbalance/").content.decode()
    assert f"{TOPUP_URL}?org={org.pk}" in page
    assert "Top up a balance" in page


def test_the_ledger_is_read_only_in_the_admin(staff_client, org):
    entry = services.ledger_topup(org=org, amount=100, reason="x")
    assert staff_client.get("/admin/billing/ledgerentry/").status_code == 200
    assert staff_client.get("/admin/billing/ledgerentry/add/").status_code == 403
    assert staff_client.post(f"/admin/billing/ledgerentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    change = staff_client.post(f"/admin/billing/ledgerentry/{entry.pk}/change/", {"amount": "999999"})
    assert change.status_code == 403
    assert LedgerEntry.objects.get(pk=entry.pk).amount == 100
    assert "delete_selected" not in staff_client.get("/admin/billing/ledgerentry/").content.decode()


def test_usage_records_are_read_only_in_the_admin(staff_client, org, number_factory):
    record = services.usage_record(org=org, phone_number=number_factory(org), kind="number_month", quantity=1,
                                   period=date(2025, 2, 15), key="u1")
    assert staff_client.get("/admin/billing/usagerecord/").status_code == 200
    assert staff_client.post(f"/admin/billing/usagerecord/{record.pk}/delete/", {"post": "yes"}).status_code == 403


def test_past_due_numbers_are_listed_for_staff_and_only_them(staff_client, org, number_factory):
    late = number_factory(org, status="past_due", next_billing_date=date(2025, 2, 15))
    fine = number_factory(org, status="active", next_billing_date=date(2025, 3, 15))
    page = staff_client.get("/admin/billing/pastduenumber/")
    assert page.status_code == 200
    html = page.content.decode()
    assert late.e164 in html
    assert fine.e164 not in html
    assert staff_client.post(f"/admin/billing/pastduenumber/{late.pk}/delete/", {"post": "yes"}).status_code == 403


def test_prices_are_editable_by_staff(staff_client):
    from billing.models import Price

    price = Price.objects.get(country="US", number_type="local")
    form = staff_client.get(f"/admin/billing/price/{price.pk}/change/").content.decode()
    assert f'value="{price.monthly_fee // 100}.{price.monthly_fee % 100:02d}"' in form  # shown in major units
    response = staff_client.post(f"/admin/billing/price/{price.pk}/change/", {
        "country": "US", "number_type": "local", "setup_fee": "0.50", "monthly_fee": "1.25", "currency": "USD"})
    assert response.status_code == 302
    price.refresh_from_db()
    assert (price.setup_fee, price.monthly_fee) == (50, 125)
