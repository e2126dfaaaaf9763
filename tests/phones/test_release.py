from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from billing.models import LedgerEntry
from billing.services import balance_get
from phones.models import Message, PhoneNumber
from providers.base import ProviderError
from providers.twilio.client import TwilioProvider
from sandbox.models import SandboxNumber

pytestmark = pytest.mark.django_db


def release(api, on_commit, number):
    return on_commit(lambda: api.delete(f"/phone/numbers/{number.public_id}"))


def test_it_releases_refunds_the_unused_month_and_keeps_the_record(owner_api, on_commit, active_number):
    Message.objects.create(org=active_number.org, phone_number=active_number, direction="inbound",
                           from_number="+15550001111", to_number=active_number.e164, body="hi",
                           created_at=timezone.now())
    response = release(owner_api, on_commit, active_number)
    assert response.status_code == 202
    job = owner_api.get(f"/jobs/{response.json()['job']['id']}").json()
    assert job["status"] == "succeeded"
    refund = job["result"]["finalBilling"]["proratedRefund"]
    assert 0 < refund <= 115
    assert balance_get(org=active_number.org).balance == 10_000 - 115 + refund
    assert not SandboxNumber.objects.filter(sid=active_number.provider_sid).exists()
    number = owner_api.get(f"/phone/numbers/{active_number.public_id}").json()
    assert number["status"] == "released" and number["releasedAt"]
    assert owner_api.get("/phone/numbers").json()["numbers"] == []
    assert [n["id"] for n in owner_api.get("/phone/numbers?includeReleased=true").json()["numbers"]] == [
        active_number.public_id]
    messages = owner_api.get(f"/phone/numbers/{active_number.public_id}/messages").json()
    assert [m["body"] for m in messages["data"]] == ["hi"]


def test_a_release_later_in_the_month_refunds_less(owner_api, on_commit, active_number):
    PhoneNumber.objects.filter(pk=active_number.pk).update(purchased_at=timezone.now() - timedelta(days=20))
    job = release(owner_api, on_commit, active_number).json()["job"]
    refund = owner_api.get(f"/jobs/{job['id']}").json()["result"]["finalBilling"]["proratedRefund"]
    assert refund < 115 * 15 // 28


def test_a_second_delete_while_releasing_gets_the_same_job_and_one_refund(owner_api, active_number,
                                                                          django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as pending:
        first = owner_api.delete(f"/phone/numbers/{active_number.public_id}")
        second = owner_api.delete(f"/phone/numbers/{active_number.public_id}")
    assert first.json()["job"]["id"] == second.json()["job"]["id"]
    for callback in pending:
        callback()
    assert LedgerEntry.objects.filter(kind="refund").count() == 1
    third = owner_api.delete(f"/phone/numbers/{active_number.public_id}")
    assert third.status_code == 409


def test_the_system_phone_cannot_be_released(owner_api, on_commit, active_number):
    owner_api.post("/phone/system", {"phoneId": active_number.public_id}, format="json")
    response = release(owner_api, on_commit, active_number)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "system_phone"
    active_number.refresh_from_db()
    assert active_number.status == "active"
    assert SandboxNumber.objects.filter(sid=active_number.provider_sid).exists()


def test_a_provider_refusal_leaves_the_number_active_and_unrefunded(owner_api, on_commit, active_number):
    refusal = ProviderError("Number is under a regulatory hold", code=21450, permanent=True, provider="twilio")
    with mock.patch.object(TwilioProvider, "release", autospec=True, side_effect=refusal):
        response = release(owner_api, on_commit, active_number)
    job = owner_api.get(f"/jobs/{response.json()['job']['id']}").json()
    assert job["status"] == "failed"
    assert job["error"]["code"] == 21450
    active_number.refresh_from_db()
    assert active_number.status == "active"
    assert not LedgerEntry.objects.filter(kind="refund").exists()


def test_members_cannot_release(member_api, active_number):
    assert member_api.delete(f"/phone/numbers/{active_number.public_id}").status_code == 403
    active_number.refresh_from_db()
    assert active_number.status == "active"


def test_the_outsider_gets_404_on_every_number_endpoint(outsider_api, active_number):
    base = f"/phone/numbers/{active_number.public_id}"
    assert outsider_api.get(base).status_code == 404
    assert outsider_api.put(base, {"purpose": "x"}, format="json").status_code == 404
    assert outsider_api.delete(base).status_code == 404
    assert outsider_api.get(f"{base}/messages").status_code == 404
    assert outsider_api.post(f"{base}/routing", {"mode": "voice"}, format="json").status_code == 404
    assert outsider_api.post("/phone/system", {"phoneId": active_number.public_id},
                             format="json").status_code == 404
    job = active_number.jobs.get()
    assert outsider_api.get(f"/jobs/{job.public_id}").status_code == 404
    active_number.refresh_from_db()
    assert active_number.status == "active" and active_number.purpose == ""
