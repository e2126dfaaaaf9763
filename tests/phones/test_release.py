from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.utils import timezone

from billing.models import LedgerEntry
from billing.services import balance_get
from phones.models import Message, PhoneNumber
from providers.base import ProviderError
from providers.twilio.client import TwilioProvider
from sandbox.models import SandboxNumber
from tests.phones.conftest import available, buy

pytestmark = pytest.mark.django_db


def release(api, on_commit, number):
    return on_commit(lambda: api.delete(f"/phone/numbers/{number.public_id}"))


class Clock:
    """django.utils.timezone.now, frozen and moved by the test (models' auto_now and
    timezone.localdate read it too): the refund depends on the day, so the day is fixed."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock():
    frozen = Clock(datetime(2026, 1, 10, 12, 0, tzinfo=UTC))
    with mock.patch("django.utils.timezone.now", frozen):
        yield frozen


@pytest.fixture
def bought(owner_api, on_commit, sandbox, funded, clock) -> PhoneNumber:
    """A number bought on the clock's day (10 January 2026): $1.15 a month, no setup fee."""
    response = buy(owner_api, on_commit, available(sandbox))
    assert response.status_code == 202, response.json()
    number = PhoneNumber.objects.get(public_id=response.json()["number"]["id"])
    assert number.status == "active" and number.monthly_fee == 115
    assert balance_get(org=number.org).balance == 10_000 - 115
    return number


def test_it_releases_refunds_the_unused_month_and_keeps_the_record(owner_api, on_commit, bought, clock):
    Message.objects.create(org=bought.org, phone_number=bought, direction="inbound",
                           from_number="+15550001111", to_number=bought.e164, body="hi",
                           created_at=timezone.now())
    clock.now += timedelta(days=10)  # released on 20 January
    response = release(owner_api, on_commit, bought)
    assert response.status_code == 202
    job = owner_api.get(f"/jobs/{response.json()['job']['id']}").json()
    assert job["status"] == "succeeded"
    # Period 10 Jan – 10 Feb: 31 days; the 20th is used, 21 Jan – 9 Feb (20 days) are not.
    assert job["result"]["finalBilling"]["proratedRefund"] == 115 * 20 // 31 == 74
    assert balance_get(org=bought.org).balance == 10_000 - 115 + 74
    assert not SandboxNumber.objects.filter(sid=bought.provider_sid).exists()
    number = owner_api.get(f"/phone/numbers/{bought.public_id}").json()
    assert number["status"] == "released" and number["releasedAt"]
    assert owner_api.get("/phone/numbers").json()["numbers"] == []
    assert [n["id"] for n in owner_api.get("/phone/numbers?includeReleased=true").json()["numbers"]] == [
        bought.public_id]
    messages = owner_api.get(f"/phone/numbers/{bought.public_id}/messages").json()
    assert [m["body"] for m in messages["data"]] == ["hi"]


@pytest.mark.parametrize("days_later, refund", [
    (0, 115 * 30 // 31),   # the day it was bought: that day is used, 30 of 31 are not → 111
    (1, 115 * 29 // 31),   # → 107
    (20, 115 * 10 // 31),  # later in the month refunds less → 37
    (30, 0),               # the period's last day: nothing left
])
def test_the_refund_is_the_unused_days_of_the_period(owner_api, on_commit, bought, clock, days_later, refund):
    clock.now += timedelta(days=days_later)
    job = release(owner_api, on_commit, bought).json()["job"]
    result = owner_api.get(f"/jobs/{job['id']}").json()["result"]
    assert result["finalBilling"]["proratedRefund"] == refund
    assert balance_get(org=bought.org).balance == 10_000 - 115 + refund
    assert LedgerEntry.objects.filter(kind="refund").count() == (1 if refund else 0)


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
