"""Webhook signatures: only the account a request names can sign it, over our public URL."""
from __future__ import annotations

import hashlib
import json
from urllib.parse import urlencode

import pytest
from django.test import Client
from twilio.request_validator import RequestValidator

from phones.models import Contact, Conversation, Message, OptOut
from tests.webhooks.conftest import CALLER, NUMBER, PUBLIC, Twilio, children, twiml


def nothing_written() -> bool:
    return not (Message.objects.exists() or Conversation.objects.exists() or Contact.objects.exists()
                or OptOut.objects.exists())


def test_it_accepts_a_signed_form_post(twilio, number):
    root = twiml(twilio.sms("hello"))
    assert root.tag == "Response"
    assert Message.objects.filter(direction="inbound", body="hello").count() == 1


@pytest.mark.parametrize("signed_url", [f"{PUBLIC}/connect/webhook/twilio/sms",
                                        "https://app.example.com:443/connect/webhook/twilio/sms"])
def test_it_accepts_the_public_url_with_or_without_the_default_port(twilio, number, signed_url):
    response = twilio.post("sms", {"MessageSid": "SM" + "2" * 32, "From": CALLER, "To": NUMBER, "Body": "hi"},
                           signed_url=signed_url)
    assert response.status_code == 200
    assert Message.objects.count() == 1


def test_it_accepts_a_signed_json_body(twilio, number):
    response = twilio.post_json("sms", {"MessageSid": "SM" + "3" * 32, "From": CALLER, "To": NUMBER, "Body": "json"})
    assert response.status_code == 200, response.content
    assert Message.objects.get().body == "json"


JSON_SMS = {"MessageSid": "SM" + "3" * 32, "From": CALLER, "To": NUMBER, "Body": "json"}


def test_it_rejects_an_altered_json_body(twilio, number):
    # Same account, same number, same URL (and its signature): only the text differs, so only the
    # body's SHA-256 can tell.
    tampered = json.dumps({"AccountSid": twilio.account_sid, **JSON_SMS, "Body": "STOP"})
    response = twilio.post_json("sms", JSON_SMS, tamper=tampered)
    assert response.status_code == 403
    assert nothing_written()


def json_post(twilio, path: str, raw: str):
    """A JSON body posted to `path` with a valid signature over the URL alone."""
    signature = RequestValidator(twilio.connection.credentials["authToken"]).compute_signature(f"{PUBLIC}{path}", {})
    return twilio.client.post(path, raw, content_type="application/json", HTTP_X_TWILIO_SIGNATURE=signature)


def test_a_json_body_without_body_sha256_is_refused(twilio, number):
    # A signature over the bare URL would otherwise vouch for any number of forged texts.
    for index, text in enumerate(["STOP", "hello"]):
        raw = json.dumps({"AccountSid": twilio.account_sid, **JSON_SMS, "MessageSid": f"SM{index:032d}",
                          "Body": text})
        assert json_post(twilio, "/connect/webhook/twilio/sms", raw).status_code == 403
    assert nothing_written()


def test_a_json_body_whose_sha256_is_not_the_urls_is_refused(twilio, number):
    raw = json.dumps({"AccountSid": twilio.account_sid, **JSON_SMS})
    other = hashlib.sha256(b"{}").hexdigest()
    response = json_post(twilio, f"/connect/webhook/twilio/sms?{urlencode({'bodySHA256': other})}", raw)
    assert response.status_code == 403
    assert nothing_written()


def test_a_form_post_with_body_sha256_is_checked_against_its_body(twilio, number):
    # bodySHA256 in the URL makes the body's hash what is signed, whatever its content type.
    form = urlencode({"AccountSid": twilio.account_sid, **JSON_SMS, "Body": "form"})
    other = hashlib.sha256(b"something else").hexdigest()
    path = f"/connect/webhook/twilio/sms?{urlencode({'bodySHA256': other})}"
    signature = RequestValidator(twilio.connection.credentials["authToken"]).compute_signature(f"{PUBLIC}{path}", {})
    response = twilio.client.post(path, form, content_type="application/x-www-form-urlencoded",
                                  HTTP_X_TWILIO_SIGNATURE=signature)
    assert response.status_code == 403
    assert nothing_written()


def test_an_unsigned_body_of_another_type_is_refused(twilio, number):
    path = "/connect/webhook/twilio/sms"
    signature = RequestValidator(twilio.connection.credentials["authToken"]).compute_signature(
        f"{PUBLIC}{path}", {})
    response = twilio.client.post(path, f"AccountSid={twilio.account_sid}&Body=x", content_type="text/plain",
                                  HTTP_X_TWILIO_SIGNATURE=signature)
    assert response.status_code == 403
    assert nothing_written()


@pytest.mark.parametrize("raw", ['{"a":' * 5000, "[" * 5000, '{"Body": "\u0000"}', "[]", "not json", "\"x\""])
def test_an_unusable_json_body_is_400_and_writes_nothing(twilio, number, raw):
    response = json_post(twilio, "/connect/webhook/twilio/sms", raw)
    assert response.status_code == 400
    assert nothing_written()


PARAMS = {"MessageSid": "SM" + "4" * 32, "From": CALLER, "To": NUMBER, "Body": "hello"}


@pytest.mark.parametrize("case", ["changed", "extra", "http", "missing", "host"])
def test_it_rejects_forged_signatures_and_writes_nothing(twilio, number, case):
    signed = {"AccountSid": twilio.account_sid, **PARAMS}
    if case == "changed":
        response = twilio.post("sms", PARAMS, sent_params={**signed, "Body": "STOP"})
    elif case == "extra":
        response = twilio.post("sms", PARAMS, sent_params={**signed, "Unsigned": "1"})
    elif case == "http":
        response = twilio.post("sms", PARAMS, signed_url="http://app.example.com/connect/webhook/twilio/sms")
    elif case == "host":
        # Signed for the Host header the request came with: we only trust PUBLIC_BASE_URL.
        response = twilio.post("sms", PARAMS, signed_url="https://testserver/connect/webhook/twilio/sms")
    else:
        response = twilio.client.post("/connect/webhook/twilio/sms", signed)
    assert response.status_code == 403
    assert nothing_written()


def test_it_rejects_another_orgs_signature(twilio, number, other_connection):
    # Charlie's account signs a request naming Alice's account.
    response = twilio.post("sms", PARAMS, token=other_connection.credentials["authToken"])
    assert response.status_code == 403
    assert nothing_written()


def test_another_account_cannot_reach_alices_number(number, other_connection):
    # Correctly signed by Charlie's account, addressed to Alice's number: not his number.
    root = twiml(Twilio(other_connection).sms("hello"))
    assert children(root) == []
    assert nothing_written()


def test_an_unknown_account_is_refused(twilio, number):
    response = twilio.client.post("/connect/webhook/twilio/sms", {**PARAMS, "AccountSid": "AC" + "f" * 32},
                                  HTTP_X_TWILIO_SIGNATURE="x")
    assert response.status_code == 403


def test_a_call_to_an_unknown_number_gets_polite_twiml(twilio, number):
    root = twiml(twilio.call(to="+14155550999"))
    assert [tag for tag, _, _ in children(root)] == ["Say", "Hangup"]
    assert "not in service" in root.find("Say").text


def test_webhooks_need_no_jwt_and_no_csrf(twilio, number):
    twilio.client = Client(enforce_csrf_checks=True)
    assert twilio.sms("hello").status_code == 200


def test_the_provider_is_built_once_per_version_of_its_connection(twilio, number, sandbox):
    from unittest import mock

    from providers import registry
    from webhooks import security

    security._providers.clear()
    with mock.patch("webhooks.security.provider_for", wraps=registry.provider_for) as build:
        assert twilio.call().status_code == 200
        assert twilio.call(call_sid="CA" + "2" * 32).status_code == 200
        assert build.call_count == 1
        sandbox.name = "Renamed"
        sandbox.save()  # a new updated_at: credentials or config may have changed
        assert twilio.call(call_sid="CA" + "3" * 32).status_code == 200
        assert build.call_count == 2


def test_a_text_is_threaded_only_after_its_webhook_commits(twilio, number, django_capture_on_commit_callbacks):
    from phones.models import Conversation, Message

    with django_capture_on_commit_callbacks() as after_commit:
        assert twilio.sms("hello", commit=False).status_code == 200
    message = Message.objects.get()
    assert message.conversation is None and not Conversation.objects.exists()
    for callback in after_commit:
        callback()
    message.refresh_from_db()
    assert message.conversation == Conversation.objects.get()
