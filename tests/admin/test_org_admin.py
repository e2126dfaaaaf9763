"""Orgs with members and balance, connections with masked secrets and a credentials test, the audit log."""
from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.services import ledger_topup
from orgs.models import AuditLog, Org, ProviderConnection

pytestmark = pytest.mark.django_db


def test_orgs_list_members_live_numbers_and_balance(staff_client, active_number, member):
    page = staff_client.get("/admin/telephony/org/").content.decode()
    assert "98.85 USD" in page  # 10,000 minus the number's first month
    assert "Top up" in page
    row = staff_client.get("/admin/telephony/org/").context["cl"].result_list[0]
    assert (row.member_count, row.live_count) == (2, 1)


def test_orgs_list_costs_the_same_queries_for_many_orgs(staff_client, org):
    with CaptureQueriesContext(connection) as few:
        staff_client.get("/admin/telephony/org/")
    for i in range(15):
        more = Org.objects.create(slug=f"org-{i}", name=f"Org {i}")
        ledger_topup(org=more, amount=100, reason="seed")
    with CaptureQueriesContext(connection) as many:
        staff_client.get("/admin/telephony/org/")
    assert len(many) == len(few)


def test_an_org_page_shows_its_members(staff_client, org, member):
    page = staff_client.get(f"/admin/telephony/org/{org.pk}/change/").content.decode()
    assert "bob" in page and "alice" in page


def test_connection_secrets_are_masked(staff_client, sandbox):
    page = staff_client.get(f"/admin/telephony/providerconnection/{sandbox.pk}/change/").content.decode()
    assert sandbox.credentials["authToken"] not in page
    assert "authToken: ********" in page


def test_test_credentials_reports_and_records_the_outcome(staff_client, staff, sandbox):
    data = {"action": "test_credentials", "_selected_action": [sandbox.pk]}
    page = staff_client.post("/admin/telephony/providerconnection/", data, follow=True).content.decode()
    assert f"credentials work (account {sandbox.account_id}" in page
    broken = ProviderConnection.objects.get(pk=sandbox.pk)
    broken.credentials = {**sandbox.credentials, "authToken": "0" * 32}
    broken.save()
    page = staff_client.post("/admin/telephony/providerconnection/", data, follow=True).content.decode()
    assert "the provider refused" in page
    results = list(AuditLog.objects.filter(action="connection.test_credentials").order_by("id")
                   .values_list("after__ok", flat=True))
    assert results == [True, False]
    assert "0" * 32 not in str(AuditLog.objects.values_list("after", flat=True))


def test_a_top_up_is_audited_once(staff_client, staff, org):
    data = {"org": org.pk, "amount": "25.00", "currency": "", "reason": "Wire #7", "key": "form-1"}
    staff_client.post("/admin/billing/orgbalance/top-up/", data)
    staff_client.post("/admin/billing/orgbalance/top-up/", data)
    [audit] = AuditLog.objects.filter(action="billing.topup")
    assert (audit.actor, audit.org, audit.before, audit.after["balance"], audit.note) == (
        staff, org, {"balance": 0}, 2500, "Wire #7")


def test_the_audit_log_is_visible_and_read_only(staff_client, staff, org):
    entry = AuditLog.objects.create(actor=staff, org=org, action="phone.release", target_type="phones.phonenumber",
                                    target_id="pn_x", target_repr="+14155550100")
    listing = staff_client.get("/admin/telephony/auditlog/").content.decode()
    assert "phone.release" in listing and "+14155550100" in listing
    assert staff_client.get("/admin/telephony/auditlog/add/").status_code == 403
    assert staff_client.post(f"/admin/telephony/auditlog/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditLog.objects.filter(pk=entry.pk).exists()
