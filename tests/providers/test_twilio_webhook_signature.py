"""TwilioProvider.validate_webhook: Twilio's signature over the public URL, checked with the auth token."""
from __future__ import annotations

import hashlib
import json

import pytest
from django.test import RequestFactory
from twilio.request_validator import RequestValidator

from providers.twilio.client import TwilioProvider

ACCOUNT_SID = "AC" + "a" * 32
TOKEN = "0123456789abcdef0123456789abcdef"
URL = "https://app.example.com/connect/webhook/twilio/sms?conn=abc"
PARAMS = {"AccountSid": ACCOUNT_SID, "From": "+14155550123", "To": "+14155175410", "Body": "STOP"}


def provider(**credentials) -> TwilioProvider:
    return TwilioProvider(account_sid=ACCOUNT_SID, **(credentials or {"auth_token": TOKEN}))


def form_request(signature: str, params: dict = PARAMS):
    return RequestFactory().post("/connect/webhook/twilio/sms?conn=abc", params,
                                 HTTP_X_TWILIO_SIGNATURE=signature)


def test_it_accepts_a_signed_form_post():
    signature = RequestValidator(TOKEN).compute_signature(URL, PARAMS)
    assert provider().validate_webhook(form_request(signature), URL)


@pytest.mark.parametrize("signed_url", [
    "https://app.example.com:443/connect/webhook/twilio/sms?conn=abc",
    URL,
])
def test_it_accepts_a_signature_made_with_or_without_the_default_port(signed_url):
    signature = RequestValidator(TOKEN).compute_signature(signed_url, PARAMS)
    assert provider().validate_webhook(form_request(signature), URL)


@pytest.mark.parametrize("tamper", [
    lambda: (RequestValidator("f" * 32).compute_signature(URL, PARAMS), PARAMS, URL),  # another account's token
    lambda: (RequestValidator(TOKEN).compute_signature(URL, PARAMS), {**PARAMS, "Body": "START"}, URL),
    lambda: (RequestValidator(TOKEN).compute_signature(URL, PARAMS), PARAMS, URL.replace("https", "http")),
    lambda: (RequestValidator(TOKEN).compute_signature(URL, PARAMS), PARAMS, URL.split("?")[0]),
    lambda: ("", PARAMS, URL),
])
def test_it_rejects_forged_or_altered_requests(tamper):
    signature, params, url = tamper()
    assert not provider().validate_webhook(form_request(signature, params), url)


def test_it_checks_a_json_body_against_body_sha256():
    body = json.dumps({"event": "call.completed", "CallSid": "CA" + "1" * 32})
    url = f"https://app.example.com/connect/webhook/twilio/status?bodySHA256={hashlib.sha256(body.encode()).hexdigest()}"
    signature = RequestValidator(TOKEN).compute_signature(url, {})
    request = RequestFactory().post("/connect/webhook/twilio/status", body, content_type="application/json",
                                    HTTP_X_TWILIO_SIGNATURE=signature)
    assert provider().validate_webhook(request, url)
    altered = RequestFactory().post("/connect/webhook/twilio/status", body.replace("completed", "failed"),
                                    content_type="application/json", HTTP_X_TWILIO_SIGNATURE=signature)
    assert not provider().validate_webhook(altered, url)


def test_it_signs_a_get_webhook_over_the_url_alone():
    url = "https://app.example.com/connect/webhook/twilio/voice?CallSid=CA1&From=%2B14155550123"
    signature = RequestValidator(TOKEN).compute_signature(url, {})
    request = RequestFactory().get("/connect/webhook/twilio/voice?CallSid=CA1&From=%2B14155550123",
                                   HTTP_X_TWILIO_SIGNATURE=signature)
    assert provider().validate_webhook(request, url)


def test_without_an_auth_token_nothing_validates():
    signature = RequestValidator(TOKEN).compute_signature(URL, PARAMS)
    key_only = provider(api_key_sid="SK" + "b" * 32, api_key_secret="secret")
    assert not key_only.validate_webhook(form_request(signature), URL)
