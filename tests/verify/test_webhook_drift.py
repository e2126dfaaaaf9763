"""GET /phone/verify?phoneId=: each webhook's reason code, with expected and actual values."""
from __future__ import annotations

import pytest

from sandbox.messaging import sandbox_messaging_number_add, sandbox_messaging_service_create
from tests.verify.conftest import APP_SID, TRUNK_SID, at_provider, drift

pytestmark = pytest.mark.django_db
BASE = "http://127.0.0.1:8000/connect/webhook/twilio"


def verify_one(api, number, **query):
    return api.get("/phone/verify", {"phoneId": number.public_id, **query})


def checked(api, number) -> dict:
    response = verify_one(api, number)
    assert response.status_code == 200, response.json()
    [entry] = response.json()["numbers"]
    return entry


def test_a_number_as_we_set_it_is_ok(owner_api, active_number):
    entry = checked(owner_api, active_number)
    assert entry["result"] == "ok"
    assert entry["voice"] == {"status": "ok", "expected": {"url": f"{BASE}/voice", "method": "POST"},
                              "actual": {"url": f"{BASE}/voice", "method": "POST"}, "overriddenBy": None}
    assert entry["sms"]["status"] == entry["statusCallback"]["status"] == "ok"


def test_it_reports_a_url_edited_at_the_provider(owner_api, active_number):
    drift(active_number, VoiceUrl="https://old.example.com/voice")
    entry = checked(owner_api, active_number)
    assert entry["result"] == "drift"
    assert entry["voice"]["status"] == "url_mismatch"
    assert entry["voice"]["expected"]["url"] == f"{BASE}/voice"
    assert entry["voice"]["actual"]["url"] == "https://old.example.com/voice"
    assert entry["sms"]["status"] == "ok"


def test_it_reports_a_cleared_url_as_not_set(owner_api, active_number):
    drift(active_number, SmsUrl="")
    entry = checked(owner_api, active_number)
    assert entry["sms"]["status"] == "not_set" and entry["sms"]["actual"]["url"] == ""


def test_it_reports_the_wrong_http_method(owner_api, active_number):
    drift(active_number, StatusCallbackMethod="GET")
    entry = checked(owner_api, active_number)
    assert entry["statusCallback"]["status"] == "wrong_http_method"
    assert entry["statusCallback"]["actual"] == {"url": f"{BASE}/status", "method": "GET"}
    assert entry["statusCallback"]["expected"]["method"] == "POST"


def test_a_voice_application_overrides_the_voice_url_and_status_callback(owner_api, active_number):
    drift(active_number, VoiceApplicationSid=APP_SID)
    entry = checked(owner_api, active_number)
    assert entry["result"] == "overridden"
    assert entry["voice"]["status"] == entry["statusCallback"]["status"] == "overridden"
    assert entry["voice"]["overriddenBy"] == {"type": "application", "sid": APP_SID}
    assert entry["sms"]["status"] == "ok"


def test_a_trunk_overrides_voice_before_an_application(owner_api, active_number):
    drift(active_number, TrunkSid=TRUNK_SID, VoiceApplicationSid=APP_SID)
    assert checked(owner_api, active_number)["voice"]["overriddenBy"] == {"type": "trunk", "sid": TRUNK_SID}


def test_an_sms_application_overrides_the_sms_url(owner_api, active_number):
    drift(active_number, SmsApplicationSid=APP_SID)
    entry = checked(owner_api, active_number)
    assert entry["sms"]["status"] == "overridden"
    assert entry["sms"]["overriddenBy"] == {"type": "application", "sid": APP_SID}
    assert entry["voice"]["status"] == "ok"


def test_a_messaging_service_takes_the_sms_unless_it_defers_to_the_number(owner_api, active_number):
    number = at_provider(active_number)
    service = sandbox_messaging_service_create(account=number.account, friendly_name="Pool")
    sandbox_messaging_number_add(service=service, number=number)
    assert checked(owner_api, active_number)["sms"]["overriddenBy"] == {"type": "messaging_service",
                                                                        "sid": service.sid}
    service.use_inbound_webhook_on_number = True
    service.save()
    assert checked(owner_api, active_number)["sms"]["status"] == "ok"


def test_drift_and_an_override_together_count_as_drift(owner_api, active_number):
    drift(active_number, VoiceApplicationSid=APP_SID, SmsUrl="https://elsewhere.example.com/sms")
    entry = checked(owner_api, active_number)
    assert entry["result"] == "drift"
    assert (entry["voice"]["status"], entry["sms"]["status"]) == ("overridden", "url_mismatch")


def test_ivr_numbers_are_expected_on_the_ivr_url(owner_api, active_number):
    active_number.routing_mode = "ivr"
    active_number.save()
    entry = checked(owner_api, active_number)
    assert entry["voice"]["status"] == "url_mismatch"
    assert entry["voice"]["expected"]["url"] == f"{BASE}/ivr-menu"


def test_a_member_may_verify_but_not_repair(member_api, active_number):
    assert verify_one(member_api, active_number).status_code == 200
    response = verify_one(member_api, active_number, repair="true")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_another_orgs_number_is_not_found(outsider_api, active_number):
    assert verify_one(outsider_api, active_number).status_code == 404


def test_a_released_number_cannot_be_verified(owner_api, active_number):
    active_number.status = "released"
    active_number.save()
    response = verify_one(owner_api, active_number)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "number_not_verifiable"


def test_one_number_is_looked_up_not_listed(owner_api, active_number, second_number, provider_requests):
    checked(owner_api, active_number)
    inventory = [(m, url, q) for m, url, q in provider_requests if "IncomingPhoneNumbers" in url]
    assert len(inventory) == 1
    assert inventory[0][2].get("PhoneNumber") == active_number.e164


def test_without_a_connection_it_says_twilio_is_not_configured(owner_api, org):
    response = owner_api.get("/phone/verify")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "provider_not_configured"
