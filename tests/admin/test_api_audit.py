"""Purchases, imports and releases made through the API are in the audit log, with who did them."""
from __future__ import annotations

import pytest

from orgs.models import AuditLog
from tests.phones.conftest import available, buy

pytestmark = pytest.mark.django_db


def test_an_api_purchase_and_release_are_audited_with_the_user(owner_api, alice, org, on_commit, sandbox, funded):
    response = buy(owner_api, on_commit, available(sandbox), friendlyName="Sales Line")
    assert response.status_code == 202
    number_id = response.json()["number"]["id"]
    [bought] = AuditLog.objects.filter(action="phone.purchase")
    assert (bought.actor, bought.org, bought.target_id, bought.note) == (alice, org, number_id, "via API")
    assert bought.after["job"] == response.json()["job"]["id"]

    on_commit(lambda: owner_api.delete(f"/phone/numbers/{number_id}"))
    on_commit(lambda: owner_api.delete(f"/phone/numbers/{number_id}"))  # again: the same release, recorded once
    [released] = AuditLog.objects.filter(action="phone.release")
    assert (released.actor, released.target_id, released.before) == (alice, number_id, {"status": "active"})


def test_a_replayed_purchase_is_audited_once(owner_api, on_commit, sandbox, funded):
    e164 = available(sandbox)
    for _ in range(2):
        on_commit(lambda: owner_api.post("/phone/numbers", {"phoneNumber": e164}, format="json",
                                         HTTP_IDEMPOTENCY_KEY="buy-once"))
    assert AuditLog.objects.filter(action="phone.purchase").count() == 1


def test_the_audit_changelist_filters_by_the_number(staff_client, owner_api, on_commit, sandbox, funded):
    response = buy(owner_api, on_commit, available(sandbox))
    number_id = response.json()["number"]["id"]
    page = staff_client.get(f"/admin/telephony/auditlog/?target_type=phones.phonenumber&target_id={number_id}")
    assert [e.action for e in page.context["cl"].result_list] == ["phone.purchase"]
