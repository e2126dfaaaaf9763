"""Money reads in major units with its currency on every staff page, the top-up form takes major
units, the ledger filters by org and exports CSV, and search finds a number however it is written."""
from __future__ import annotations

import csv
import io

import pytest

from billing.models import LedgerEntry, OrgBalance
from billing.services import ledger_topup
from core.display import e164_from_search, major_units, minor_units
from phones.models import Message, PhoneNumber
from tests.admin.conftest import CHANGELIST
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("text, minor", [("10.50", 1050), ("10", 1000), ("0.01", 1), (".5", 50), ("1,000.25", 100025)])
def test_major_units_are_read_exactly(text, minor):
    assert minor_units(text) == minor
    assert major_units(minor) == f"{minor // 100}.{minor % 100:02d}"


@pytest.mark.parametrize("text", ["10.505", "-1", "0", "ten", "1e3", "", ".", "NaN", "10.5.0"])
def test_bad_amounts_are_refused(text):
    with pytest.raises(ValueError):
        minor_units(text, maximum=1_000_00)


def test_an_amount_over_the_maximum_is_refused():
    with pytest.raises(ValueError, match="at most 1000.00"):
        minor_units("1000.01", maximum=1_000_00)


@pytest.mark.parametrize("term", ["+1 415-517-5410", "(415) 517-5410", "4155175410", "+14155175410",
                                  "1 (415) 517 5410", "415.517.5410"])
def test_a_number_is_recognised_however_it_is_written(term):
    assert e164_from_search(term) == "+14155175410"


@pytest.mark.parametrize("term", ["alice-co", "5175410", "Sales Line", "pn_123", ""])
def test_other_search_terms_are_not_numbers(term):
    assert e164_from_search(term) is None


def test_every_money_list_shows_major_units_with_the_currency(staff_client, org, number_factory):
    ledger_topup(org=org, amount=9536, reason="seed")
    number_factory(org, status="past_due", monthly_fee=115)
    orgs = staff_client.get("/admin/telephony/org/").content.decode()
    balances = staff_client.get("/admin/billing/orgbalance/").content.decode()
    ledger = staff_client.get("/admin/billing/ledgerentry/").content.decode()
    past_due = staff_client.get("/admin/billing/pastduenumber/").content.decode()
    prices = staff_client.get("/admin/billing/price/").content.decode()
    assert "95.36 USD" in orgs and "95.36 USD" in balances and "95.36 USD" in ledger
    assert ">9536<" not in balances and ">9536<" not in ledger
    assert "1.15 USD" in past_due
    assert 'value="1.15"' in prices  # the editable price list is in major units too


def test_top_up_in_major_units_reaches_the_ledger_in_minor_units(staff_client, staff, org):
    response = staff_client.post("/admin/billing/orgbalance/top-up/", {
        "org": org.pk, "amount": "10.50", "currency": "", "reason": "Wire #9", "key": "k-1"}, follow=True)
    assert "Topped up alice-co by 10.50 USD; balance now 10.50 USD." in response.content.decode()
    entry = LedgerEntry.objects.get()
    assert (entry.amount, entry.balance_after, entry.kind) == (1050, 1050, "topup")
    assert OrgBalance.objects.get(org=org).balance == 1050


def test_the_top_up_form_says_the_amount_is_in_major_units(staff_client, org):
    page = staff_client.get(f"/admin/billing/orgbalance/top-up/?org={org.pk}").content.decode()
    assert "e.g. 10.50" in page and 'inputmode="decimal"' in page


def test_the_ledger_filters_by_org_and_exports_csv(staff_client, org, other_org):
    ledger_topup(org=org, amount=1050, reason="mine")
    ledger_topup(org=other_org, amount=700, reason="theirs")
    listing = staff_client.get(f"/admin/billing/ledgerentry/?org__id__exact={org.pk}")
    assert listing.status_code == 200
    assert [e.org_id for e in listing.context["cl"].result_list] == [org.pk]
    html = listing.content.decode()
    assert f"/admin/billing/ledgerentry/export.csv?org__id__exact={org.pk}" in html

    export = staff_client.get(f"/admin/billing/ledgerentry/export.csv?org__id__exact={org.pk}")
    assert export["Content-Type"] == "text/csv" and "attachment" in export["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert rows[0][:7] == ["created_at", "id", "org", "kind", "amount", "balance_after", "currency"]
    assert [r[2:7] for r in rows[1:]] == [["alice-co", "topup", "10.50", "10.50", "USD"]]


def test_the_ledger_csv_action_exports_the_selected_entries(staff_client, org):
    first = ledger_topup(org=org, amount=100, reason="one")
    ledger_topup(org=org, amount=200, reason="two")
    export = staff_client.post("/admin/billing/ledgerentry/", {"action": "export_csv", "index": 0,
                                                               "_selected_action": [first.pk]})
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert [r[1] for r in rows[1:]] == [first.public_id]


def test_the_csv_export_needs_the_ledger_view_permission(org):
    from django.test import Client

    client = Client()
    client.force_login(make_user("viewer", is_staff=True))
    assert client.get("/admin/billing/ledgerentry/export.csv").status_code == 403


@pytest.mark.parametrize("term", ["+1 415-517-5410", "(415) 517-5410", "4155175410"])
def test_search_finds_a_number_by_the_format_it_is_displayed_in(staff_client, org, number_factory, term):
    wanted = number_factory(org, e164="+14155175410")
    number_factory(org, e164="+14155175411")
    page = staff_client.get(CHANGELIST, {"q": term})
    assert [n.pk for n in page.context["cl"].result_list] == [wanted.pk]


def test_text_search_still_works(staff_client, org, number_factory):
    wanted = number_factory(org, e164="+14155175410", friendly_name="Front desk")
    number_factory(org, e164="+14155175411")
    assert [n.pk for n in staff_client.get(CHANGELIST, {"q": "front"}).context["cl"].result_list] == [wanted.pk]
    assert len(staff_client.get(CHANGELIST, {"q": "517541"}).context["cl"].result_list) == 2


def test_messages_are_found_by_either_party_however_written(staff_client, org, number_factory):
    from django.utils import timezone

    number = number_factory(org, e164="+14155175410")
    Message.objects.create(org=org, phone_number=number, direction="inbound", from_number="+12125550123",
                           to_number=number.e164, body="hi", created_at=timezone.now())
    page = staff_client.get("/admin/phones/message/", {"q": "(212) 555-0123"})
    assert len(page.context["cl"].result_list) == 1
    assert isinstance(number, PhoneNumber)
