"""The number admin's actions call the API's services, refuse what those refuse, and leave an audit trail."""
from __future__ import annotations

import pytest

from billing.models import LedgerEntry
from billing.services import balance_get
from orgs.models import AuditLog, Membership, ProviderConnection
from orgs.services import connection_create
from phones.models import Agent, PhoneNumber, PhoneRouting, Trunk
from phones.trunks.services import trunks_sync
from sandbox.models import SandboxAccount, SandboxNumber
from sandbox.trunking import sandbox_trunk_create
from tests.admin.conftest import act
from tests.conftest import make_user
from tests.verify.conftest import APP_SID, drift, second_number  # noqa: F401

pytestmark = pytest.mark.django_db


def test_release_asks_first_showing_each_refund(staff_client, active_number):
    page = act(staff_client, "release_numbers", [active_number])
    text = page.content.decode()
    assert "cannot be undone" in text and active_number.e164 in text
    refund = page.context["rows"][0]["refund"]
    assert refund.endswith(" USD") and refund != "0.00 USD"
    active_number.refresh_from_db()
    assert active_number.status == "active"  # nothing happens before confirming


def test_confirming_releases_refunds_and_records_it(staff_client, staff, active_number,
                                                     django_capture_on_commit_callbacks):
    preview = act(staff_client, "release_numbers", [active_number]).context["rows"][0]["refund"]
    with django_capture_on_commit_callbacks(execute=True):
        page = act(staff_client, "release_numbers", [active_number], confirm="yes")
    assert "Releasing 1 number(s)" in page.content.decode()
    active_number.refresh_from_db()
    assert active_number.status == "released"
    refund = LedgerEntry.objects.get(phone_number=active_number, kind="refund")
    assert f"{refund.amount // 100}.{refund.amount % 100:02d} USD" == preview
    assert not SandboxNumber.objects.filter(sid=active_number.provider_sid).exists()
    audit = AuditLog.objects.get(action="phone.release")
    assert (audit.actor, audit.target_id, audit.before, audit.after["status"]) == (
        staff, active_number.public_id, {"status": "active"}, "releasing")


def test_the_system_phone_is_refused_with_the_reason(staff_client, active_number, second_number,  # noqa: F811
                                                      django_capture_on_commit_callbacks):
    PhoneNumber.objects.filter(pk=active_number.pk).update(is_system=True)
    page = act(staff_client, "release_numbers", [active_number, second_number])
    text = page.content.decode()
    assert "Will not be released: This is the org&#x27;s system phone" in text
    assert "Yes, release 1 number" in text
    with django_capture_on_commit_callbacks() as queued:
        act(staff_client, "release_numbers", [active_number, second_number], confirm="yes")
    active_number.refresh_from_db()
    second_number.refresh_from_db()
    # Confirmed: the other number is releasing, its job queued for after the commit ...
    assert (active_number.status, second_number.status) == ("active", "releasing")
    assert queued
    for callback in queued:
        callback()
    active_number.refresh_from_db()
    second_number.refresh_from_db()
    # ... which releases it; the system phone is untouched.
    assert (active_number.status, second_number.status) == ("active", "released")


def test_move_to_an_org_on_the_same_provider_account(staff_client, active_number, sandbox, other_org):
    shared = connection_create(org=other_org, type_="sandbox-provider", name="Shared", credentials=sandbox.credentials)
    PhoneRouting.objects.create(phone_number=active_number, assignments={"assignments": [
        {"type": "user", "target": "alice", "ringOrder": 1, "timeout": 20}]})
    balance = balance_get(org=other_org).balance
    form = act(staff_client, "reassign_numbers", [active_number])
    assert list(form.context["form"].fields["org"].queryset) == [other_org]
    page = act(staff_client, "reassign_numbers", [active_number], confirm="yes", target="org", org=other_org.pk)
    assert f"Reassigned {active_number.e164}" in page.content.decode()
    active_number.refresh_from_db()
    assert (active_number.org, active_number.connection) == (other_org, shared)
    assert PhoneRouting.objects.get(phone_number=active_number).assignments == []
    assert balance_get(org=other_org).balance == balance  # billing moves at the next period
    assert SandboxNumber.objects.filter(sid=active_number.provider_sid).exists()
    audit = AuditLog.objects.get(action="phone.move_org")
    assert audit.before["org_id"] == sandbox.org_id and audit.after["org_id"] == other_org.pk


def test_an_org_on_another_provider_account_cannot_take_it(staff_client, active_number, other_org):
    connection_create(org=other_org, type_="sandbox-provider", name="Own account", credentials={})
    form = act(staff_client, "reassign_numbers", [active_number])
    assert list(form.context["form"].fields["org"].queryset) == []
    assert "No other org is connected to this provider account" in form.content.decode()
    page = act(staff_client, "reassign_numbers", [active_number], confirm="yes", target="org", org=other_org.pk)
    assert page.context["form"].errors["org"]
    active_number.refresh_from_db()
    assert active_number.org_id != other_org.pk
    assert not AuditLog.objects.filter(action="phone.move_org").exists()


def test_reassign_within_the_org_to_a_member_an_agent_or_a_trunk(staff_client, active_number, org):
    Membership.objects.create(user=make_user("dana"), org=org, role="member")
    act(staff_client, "reassign_numbers", [active_number], confirm="yes", target="user", user="dana")
    routing = PhoneRouting.objects.get(phone_number=active_number)
    assert [a["target"] for a in routing.assignments["assignments"]] == ["dana"]
    ai = ProviderConnection.objects.create(org=org, type="sandbox-ai", name="AI")
    agent = Agent.objects.create(org=org, name="Ada", connection=ai)
    act(staff_client, "reassign_numbers", [active_number], confirm="yes", target="agent", agent=agent.pk)
    trunk = sandbox_trunk_create(account=SandboxAccount.objects.get(sid=active_number.connection.account_id),
                                 friendly_name="Trunk 2")
    trunks_sync(org=org)
    act(staff_client, "reassign_numbers", [active_number], confirm="yes", target="trunk",
        trunk=Trunk.objects.get(provider_sid=trunk.sid).pk)
    active_number.refresh_from_db()
    assert (active_number.agent, active_number.trunk.provider_sid) == (agent, trunk.sid)
    assert SandboxNumber.objects.get(sid=active_number.provider_sid).trunk_sid == trunk.sid
    # (after the purchase through the API that made the number)
    assert list(AuditLog.objects.order_by("id").values_list("action", flat=True)) == [
        "phone.purchase", "phone.assign_user", "phone.assign_agent", "phone.assign_trunk"]


def test_verify_shows_the_report_and_can_repair(staff_client, active_number, second_number):  # noqa: F811
    drift(second_number, VoiceUrl="https://old.example.com/voice")
    drift(active_number, VoiceApplicationSid=APP_SID)
    page = act(staff_client, "verify_numbers", [active_number, second_number])
    text = page.content.decode()
    assert "url_mismatch" in text and "by application" in text and "https://old.example.com/voice" in text
    assert "Repair drifted webhooks" in text
    repaired = act(staff_client, "verify_numbers", [active_number, second_number], repair="yes")
    assert repaired.context["reports"][0].summary["repaired"] == 1
    assert SandboxNumber.objects.get(sid=second_number.provider_sid).voice_url.endswith("/connect/webhook/twilio/voice")
    assert AuditLog.objects.filter(action="phone.verify").count() == 2
    report_page = staff_client.get(f"/admin/phones/verifyreport/{repaired.context['reports'][0].pk}/change/")
    assert "repaired" in report_page.content.decode()


def test_set_as_system_phone(staff_client, active_number, second_number):  # noqa: F811
    act(staff_client, "make_system_phone", [active_number])
    page = act(staff_client, "make_system_phone", [second_number])
    assert "is now the system phone" in page.content.decode()
    assert list(PhoneNumber.objects.filter(is_system=True)) == [second_number]
    audit = AuditLog.objects.filter(action="phone.set_system").latest("id")
    assert audit.before == {"systemPhone": active_number.public_id}
    assert audit.after == {"systemPhone": second_number.public_id}


def test_two_numbers_cannot_both_be_the_system_phone(staff_client, active_number, second_number):  # noqa: F811
    page = act(staff_client, "make_system_phone", [active_number, second_number])
    assert "exactly one" in page.content.decode()
    assert not PhoneNumber.objects.filter(is_system=True).exists()
