"""Staff see the purchases whose outcome is unknown and settle them now, with reconcile's service."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from billing.models import LedgerEntry
from billing.services import balance_get
from orgs.models import AuditLog
from phones.models import Job, PhoneNumber
from tests.conftest import make_user
from tests.phones.test_faults import clear_faults, ledger_sum, unknown_outcome_purchase

pytestmark = pytest.mark.django_db
JOBS = "/admin/phones/job/"


def statuses(numbers) -> set[str]:
    return set(PhoneNumber.objects.filter(pk__in=[n.pk for n in numbers]).values_list("status", flat=True))


def settle(client: Client, jobs):
    return client.post(JOBS, {"action": "settle_purchases", "_selected_action": [j.pk for j in jobs]}, follow=True)


@pytest.fixture
def unsettled(owner_api, on_commit, sandbox, funded, settings):
    """Two purchases with an unknown outcome: one went through at the provider, one did not."""
    bought = unknown_outcome_purchase(owner_api, on_commit, sandbox, settings, bought=True)
    clear_faults()
    lost = unknown_outcome_purchase(owner_api, on_commit, sandbox, settings, bought=False)
    return bought, lost


def test_the_unsettled_filter_lists_only_purchases_with_an_unknown_outcome(staff_client, active_number, unsettled):
    page = staff_client.get(JOBS, {"unsettled": "yes"})
    assert page.status_code == 200
    listed = {job.phone_number.e164 for job in page.context["cl"].result_list}
    assert listed == {number.e164 for number in unsettled}
    assert "outcome_unknown" in page.content.decode()
    assert "settle_purchases" in page.content.decode()


def test_settling_now_adopts_or_fails_each_and_records_it(staff_client, staff, unsettled):
    bought, lost = unsettled
    clear_faults()
    jobs = list(Job.objects.filter(kind="purchase"))
    page = settle(staff_client, jobs)
    text = page.content.decode()
    assert f"Adopted (active; the hold is the charge): {bought.e164}" in text
    assert f"Not bought (failed; the hold is reversed): {lost.e164}" in text
    bought.refresh_from_db()
    lost.refresh_from_db()
    assert (bought.status, lost.status) == ("active", "failed")
    assert LedgerEntry.objects.filter(kind="purchase_hold").count() == 2
    assert list(LedgerEntry.objects.filter(kind="purchase_hold_reversal").values_list("phone_number", flat=True)) == [
        lost.pk]
    org = bought.org
    assert balance_get(org=org).balance == ledger_sum(org) == 10_000 - 115
    audits = AuditLog.objects.filter(action="phone.purchase_settle")
    assert {(a.actor, a.target_id, a.after["outcome"]) for a in audits} == {
        (staff, bought.public_id, "adopted"), (staff, lost.public_id, "failed")}
    assert not staff_client.get(JOBS, {"unsettled": "yes"}).context["cl"].result_list

    again = settle(staff_client, jobs)  # nothing left to settle: nothing changes
    assert "Nothing to settle" in again.content.decode()
    assert LedgerEntry.objects.filter(kind="purchase_hold_reversal").count() == 1


def test_while_the_provider_still_fails_settling_leaves_them_pending(staff_client, unsettled):
    page = settle(staff_client, Job.objects.filter(kind="purchase"))
    assert "The provider is still failing; left pending" in page.content.decode()
    assert statuses(unsettled) == {"pending"}
    assert not LedgerEntry.objects.filter(kind="purchase_hold_reversal").exists()


def test_staff_who_may_not_change_numbers_cannot_settle(unsettled):
    viewer = make_user("viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_job"))
    client = Client()
    client.force_login(viewer)
    page = client.get(JOBS, {"unsettled": "yes"})
    assert page.status_code == 200
    assert "settle_purchases" not in page.content.decode()
    settle(client, Job.objects.filter(kind="purchase"))
    assert statuses(unsettled) == {"pending"}
    assert not AuditLog.objects.filter(action="phone.purchase_settle").exists()
