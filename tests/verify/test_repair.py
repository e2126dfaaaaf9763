"""repair=true re-points drifted webhooks and does nothing else: no purchase, no release, no money."""
from __future__ import annotations

import pytest

from billing.models import LedgerEntry
from orgs.models import AuditLog
from phones.models import PhoneNumber
from sandbox.services import sandbox_fault_add
from tests.verify.conftest import APP_SID, at_provider, drift

pytestmark = pytest.mark.django_db


def repair(api, number):
    return api.get("/phone/verify", {"phoneId": number.public_id, "repair": "true"})


def test_repair_changes_only_the_urls(admin_api, org_admin, active_number, provider_requests):
    drift(active_number, VoiceUrl="https://old.example.com/voice", SmsUrl="", StatusCallbackMethod="GET")
    before = at_provider(active_number)
    ledger = list(LedgerEntry.objects.values_list("pk", flat=True))
    record = PhoneNumber.objects.values().get(pk=active_number.pk)

    response = repair(admin_api, active_number)

    assert response.status_code == 200, response.json()
    [entry] = response.json()["numbers"]
    assert entry["repaired"] is True and entry["result"] == "ok"
    assert {entry[name]["status"] for name in ("voice", "sms", "statusCallback")} == {"ok"}
    after = at_provider(active_number)
    assert after.voice_url.endswith("/connect/webhook/twilio/voice") and after.sms_url.endswith("/sms")
    assert after.status_callback_method == "POST"
    assert (after.sid, after.phone_number, after.friendly_name) == (before.sid, before.phone_number,
                                                                    before.friendly_name)
    assert list(LedgerEntry.objects.values_list("pk", flat=True)) == ledger
    writes = [(m, url) for m, url, _ in provider_requests if m != "GET"]
    assert writes == [("POST", f"https://api.twilio.com/2010-04-01/Accounts/{after.account.sid}"
                               f"/IncomingPhoneNumbers/{after.sid}.json")]
    now = PhoneNumber.objects.values().get(pk=active_number.pk)
    changed = {k for k in record if record[k] != now[k]}
    assert changed <= {"webhooks", "updated_at"}
    audit = AuditLog.objects.get(action="verify.repair")
    assert audit.actor == org_admin
    assert audit.before["numbers"][0]["voice"]["url"] == "https://old.example.com/voice"


def test_an_override_is_reported_not_repaired(admin_api, active_number, provider_requests):
    drift(active_number, VoiceApplicationSid=APP_SID)
    [entry] = repair(admin_api, active_number).json()["numbers"]
    assert entry["result"] == "overridden" and entry["repaired"] is False
    assert at_provider(active_number).voice_application_sid == APP_SID
    assert provider_requests, "the spy saw no request: the check below would pass vacuously"
    assert all(m == "GET" for m, _, _ in provider_requests)


def test_a_number_that_is_ok_is_left_alone(admin_api, active_number, provider_requests):
    [entry] = repair(admin_api, active_number).json()["numbers"]
    assert entry["repaired"] is False
    assert provider_requests, "the spy saw no request: the check below would pass vacuously"
    assert all(m == "GET" for m, _, _ in provider_requests)
    assert not AuditLog.objects.filter(action="verify.repair").exists()


def test_a_refused_repair_is_reported_and_changes_nothing(admin_api, active_number, sandbox):
    drift(active_number, VoiceUrl="https://old.example.com/voice")
    sandbox_fault_add(account_sid=sandbox.account_id, resource="IncomingPhoneNumbers", method="POST")
    [entry] = repair(admin_api, active_number).json()["numbers"]
    assert entry["repaired"] is False and entry["result"] == "drift"
    assert entry["repairError"]["permanent"] is False
    assert at_provider(active_number).voice_url == "https://old.example.com/voice"


def test_a_missing_number_is_not_bought_back(admin_api, active_number, provider_requests):
    at_provider(active_number).delete()
    [entry] = repair(admin_api, active_number).json()["numbers"]
    assert entry["result"] == "missing"
    assert provider_requests, "the spy saw no request: the check below would pass vacuously"
    assert all(m == "GET" for m, _, _ in provider_requests)
    assert not LedgerEntry.objects.filter(phone_number=active_number, kind__in=["refund"]).exists()
