"""All numbers as a job: paged inventory, numbers gone at the provider (missing, never billed
again), numbers only at the provider (importable), the stored report, and beat's reconcile."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from billing.models import LedgerEntry
from billing.renewals import renewals_run
from orgs.models import AuditLog, Org
from orgs.services import connection_create
from phones.models import Job, PhoneNumber, VerifyReport
from phones.verify import services as verify
from phones.verify.tasks import reconcile_all
from providers.registry import provider_for
from sandbox.models import SandboxNumber
from sandbox.services import sandbox_fault_add
from tests.sandbox.helpers import WEBHOOKS
from tests.verify.conftest import available, drift

pytestmark = pytest.mark.django_db


def verify_all(api, on_commit, **query) -> dict:
    response = on_commit(lambda: api.get("/phone/verify", query))
    assert response.status_code == 202, response.json()
    job = api.get(f"/jobs/{response.json()['job']['id']}").json()
    assert job["status"] == "succeeded", job
    assert job["progress"] == 100
    report = api.get("/phone/verify/report", {"jobId": job["id"]})
    assert report.status_code == 200
    return {"job": job, **report.json()}


def by_id(report: dict) -> dict[str, dict]:
    return {entry["phoneId"]: entry for entry in report["numbers"]}


def test_all_numbers_run_as_a_job_with_a_stored_report(owner_api, on_commit, active_number, second_number):
    drift(second_number, VoiceUrl="https://old.example.com/voice")
    report = verify_all(owner_api, on_commit)
    assert report["job"]["kind"] == "verify"
    assert report["job"]["result"]["summary"]["checked"] == 2
    entries = by_id(report)
    assert entries[active_number.public_id]["result"] == "ok"
    assert entries[second_number.public_id]["result"] == "drift"
    assert report["summary"]["reasons"]["voice"] == {"ok": 1, "url_mismatch": 1}
    problems = owner_api.get("/phone/verify/report", {"problemsOnly": "true"}).json()
    assert [e["phoneId"] for e in problems["numbers"]] == [second_number.public_id]


def test_the_inventory_is_read_in_pages_not_number_by_number(owner_api, on_commit, active_number, second_number,
                                                            provider_requests, monkeypatch):
    monkeypatch.setattr(verify, "PAGE_SIZE", 1)
    verify_all(owner_api, on_commit)
    inventory = [q for m, url, q in provider_requests if "IncomingPhoneNumbers" in url]
    assert len(inventory) == 2  # two numbers, one a page: the second page has no next
    assert all("PhoneNumber" not in q for q in inventory)
    assert all(m == "GET" for m, _, _ in provider_requests)


def test_a_number_gone_at_the_provider_is_flagged_missing_and_never_billed_again(
        owner_api, on_commit, active_number, second_number):
    SandboxNumber.objects.filter(sid=active_number.provider_sid).delete()
    report = verify_all(owner_api, on_commit)
    entry = by_id(report)[active_number.public_id]
    assert entry["result"] == "missing" and entry["newlyMissing"] is True and entry["status"] == "missing"
    active_number.refresh_from_db()
    assert active_number.status == "missing" and active_number.missing_since is not None
    assert report["summary"]["newlyMissing"] == 1
    assert AuditLog.objects.filter(action="verify.flag_missing", org=active_number.org).exists()

    charges = LedgerEntry.objects.filter(phone_number=active_number).count()
    renewals_run(today=active_number.next_billing_date + timedelta(days=40))
    assert LedgerEntry.objects.filter(phone_number=active_number).count() == charges
    assert owner_api.get(f"/phone/numbers/{active_number.public_id}").json()["status"] == "missing"

    since = active_number.missing_since
    again = by_id(verify_all(owner_api, on_commit))[active_number.public_id]
    assert again["result"] == "missing" and "newlyMissing" not in again
    active_number.refresh_from_db()
    assert active_number.missing_since == since


def test_a_missing_number_back_at_the_provider_is_reported_not_revived(owner_api, on_commit, active_number):
    PhoneNumber.objects.filter(pk=active_number.pk).update(status="missing", missing_since=timezone.now())
    entry = by_id(verify_all(owner_api, on_commit))[active_number.public_id]
    assert entry["result"] == "reappeared"
    active_number.refresh_from_db()
    assert active_number.status == "missing"


def test_a_failed_inventory_read_flags_nothing(owner_api, on_commit, active_number, sandbox, settings):
    settings.JOB_MAX_RETRIES = 1
    sandbox_fault_add(account_sid=sandbox.account_id, resource="IncomingPhoneNumbers", method="GET", times=10)
    response = on_commit(lambda: owner_api.get("/phone/verify"))
    job = owner_api.get(f"/jobs/{response.json()['job']['id']}").json()
    assert job["status"] == "failed" and job["error"]["permanent"] is False
    active_number.refresh_from_db()
    assert active_number.status == "active"
    assert not VerifyReport.objects.exists()


def test_numbers_only_at_the_provider_are_importable(owner_api, on_commit, active_number, sandbox):
    provider = provider_for(sandbox)
    stray = provider.purchase(available(sandbox, "305"), WEBHOOKS)
    report = verify_all(owner_api, on_commit)
    assert report["importable"] == [{"phoneNumber": stray.e164, "sid": stray.sid, "friendlyName": stray.friendly_name,
                                     "capabilities": stray.capabilities.as_dict(),
                                     "connectionId": sandbox.public_id}]
    assert report["summary"]["importable"] == 1
    assert active_number.e164 not in [i["phoneNumber"] for i in report["importable"]]


def test_a_number_another_org_holds_through_the_same_account_is_not_importable(
        owner_api, on_commit, active_number, sandbox, other_org):
    shared = connection_create(org=other_org, type_="sandbox-provider", name="Shared",
                               credentials=sandbox.credentials)
    PhoneNumber.objects.filter(pk=active_number.pk).update(org=other_org, connection=shared)
    report = verify_all(owner_api, on_commit)
    assert report["importable"] == [] and report["numbers"] == []


def test_repair_as_a_job_fixes_every_drifted_number(admin_api, on_commit, active_number, second_number):
    drift(active_number, SmsMethod="GET")
    drift(second_number, StatusCallback="https://old.example.com/status")
    report = verify_all(admin_api, on_commit, repair="true")
    assert report["summary"]["repaired"] == 2 and report["summary"]["drifted"] == 0
    again = verify_all(admin_api, on_commit)
    assert again["summary"]["ok"] == 2


def test_beat_reconciles_every_connected_org_once(active_number, other_org, django_capture_on_commit_callbacks):
    Org.objects.create(slug="no-connection", name="Nothing connected")
    with django_capture_on_commit_callbacks(execute=True):
        assert reconcile_all() == 1
    job = Job.objects.get(kind="reconcile")
    assert job.org == active_number.org and job.status == "succeeded"
    assert VerifyReport.objects.get(job=job).summary["checked"] == 1
    Job.objects.filter(pk=job.pk).update(status="running")
    assert reconcile_all() == 0  # one is still under way


def test_the_report_endpoint_without_reports_is_a_404(member_api, sandbox):
    response = member_api.get("/phone/verify/report")
    assert response.status_code == 404 and response.json()["error"]["code"] == "no_report"


def test_another_orgs_job_report_is_not_found(owner_api, outsider_api, on_commit, active_number):
    job_id = on_commit(lambda: owner_api.get("/phone/verify")).json()["job"]["id"]
    assert outsider_api.get("/phone/verify/report", {"jobId": job_id}).status_code == 404


def test_the_command_shows_progress_and_prints_the_report(active_number, second_number, capsys):
    drift(second_number, VoiceUrl="https://old.example.com/voice")
    call_command("verify_numbers", "--org", active_number.org.slug)
    out = capsys.readouterr().out
    assert "100%" in out
    assert "checked 2" in out and "drifted 1" in out
    assert second_number.e164 in out and "url_mismatch" in out


def test_the_command_repairs_when_asked(active_number, org):
    drift(active_number, VoiceUrl="https://old.example.com/voice")
    call_command("verify_numbers", "--org", org.slug, "--repair")
    assert SandboxNumber.objects.get(sid=active_number.provider_sid).voice_url.endswith("/voice")
    assert not SandboxNumber.objects.get(sid=active_number.provider_sid).voice_url.startswith("https://old")
