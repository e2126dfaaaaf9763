"""Twilio's own API contract (the official 2010-04-01 OpenAPI spec in ../shared/twilio).

1. What TwilioProvider sends, through the real SDK over HTTP, is accepted by Prism
   serving the spec: no 422, no request violation reported in `sl-violations`.
2. What the sandbox emulator answers validates against the spec's response schemas
   and carries every field the spec declares.

Without the shared kit these tests skip, saying so; with REQUIRE_CONTRACT=1 (CI)
they fail instead.
"""
from __future__ import annotations

from functools import partial

import pytest

from providers.base import Regulatory, SearchCriteria, Webhooks
from providers.twilio.client import TwilioProvider
from tests.providers.prism import (
    ACCOUNT_SID,
    KIT,
    NUMBER_SID,
    CapturingSandboxClient,
    assert_accepted,
    load_spec,
    prism_serving,
    provider_against,
    spec_registry,
)
from tests.providers.prism import assert_matches_spec as _assert_matches_spec
from tests.sandbox.helpers import WEBHOOKS

pytestmark = pytest.mark.contract

SPEC_FILE = KIT / "twilio_api_v2010.json"
SPEC_URI = "urn:twilio:api:v2010"
assert_matches_spec = partial(_assert_matches_spec, uri=SPEC_URI)


@pytest.fixture(scope="session")
def spec() -> dict:
    return load_spec(SPEC_FILE)


@pytest.fixture(scope="session")
def prism(spec) -> str:
    with prism_serving(SPEC_FILE) as url:
        yield url


@pytest.fixture
def against_prism(prism, settings):
    with provider_against(prism, settings) as provider_and_http:
        yield provider_and_http


class TestRequestsAreValidTwilioRequests:
    def test_validate_credentials(self, against_prism):
        provider, http = against_prism
        provider.validate_credentials()
        assert assert_accepted(http)[0]["method"] == "GET"

    @pytest.mark.parametrize(("criteria", "resource"), [
        (SearchCriteria(area_code="415", sms_enabled=True, voice_enabled=True, mms_enabled=False, limit=20),
         "Local.json"),
        (SearchCriteria(region="CA", contains="+1415***55%", limit=5), "Local.json"),
        (SearchCriteria(number_type="tollFree", area_code="888", contains="FLOWERS"), "TollFree.json"),
        (SearchCriteria(country="GB", number_type="mobile", sms_enabled=True), "Mobile.json"),
    ])
    def test_search(self, against_prism, criteria, resource):
        provider, http = against_prism
        provider.search_available(criteria)
        call = assert_accepted(http)[0]
        assert call["url"].endswith(f"/AvailablePhoneNumbers/{criteria.country}/{resource}")

    def test_purchase_with_every_webhook(self, against_prism):
        provider, http = against_prism
        provider.purchase("+14155175410", WEBHOOKS, friendly_name="Sales line")
        data = assert_accepted(http)[0]["data"]
        assert {"PhoneNumber", "FriendlyName", "VoiceUrl", "VoiceMethod", "VoiceFallbackUrl", "SmsUrl", "SmsMethod",
                "StatusCallback", "StatusCallbackMethod"} <= set(data)

    def test_purchase_with_an_address_and_a_bundle(self, against_prism):
        provider, http = against_prism
        provider.purchase("+447400123456", WEBHOOKS, regulatory=Regulatory(address_sid="AD" + "1" * 32,
                                                                            bundle_sid="BU" + "2" * 32))
        data = assert_accepted(http)[0]["data"]
        assert (data["AddressSid"], data["BundleSid"]) == ("AD" + "1" * 32, "BU" + "2" * 32)

    def test_search_without_numbers_that_need_an_address(self, against_prism):
        provider, http = against_prism
        provider.search_available(SearchCriteria(country="GB", exclude_address_required=True))
        assert assert_accepted(http)[0]["params"]["ExcludeAllAddressRequired"] == "true"

    def test_address_country(self, against_prism):
        provider, http = against_prism
        provider.address_country("AD" + "0123456789abcdef" * 2)
        [call] = assert_accepted(http)
        assert call["method"] == "GET" and call["url"].endswith("/Addresses/AD" + "0123456789abcdef" * 2 + ".json")

    def test_purchase_with_only_a_voice_url(self, against_prism):
        provider, http = against_prism
        provider.purchase("+14155175410", Webhooks(voice_url="https://app.example.com/voice"))
        assert_accepted(http)

    def test_find_owned(self, against_prism):
        provider, http = against_prism
        provider.find_owned("+14155175410")
        assert assert_accepted(http)[0]["params"]["PhoneNumber"] == "+14155175410"

    def test_list_owned_first_and_next_page(self, against_prism):
        provider, http = against_prism
        provider.list_owned(page_size=1000)
        token = (f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/IncomingPhoneNumbers.json"
                 "?PageSize=2&Page=1&PageToken=PA12")
        provider.list_owned(token)
        assert_accepted(http, 2)

    @pytest.mark.parametrize("webhooks", [WEBHOOKS, Webhooks(sms_url="https://app.example.com/sms", sms_method="GET")])
    def test_configure_webhooks(self, against_prism, webhooks):
        provider, http = against_prism
        provider.configure_webhooks(NUMBER_SID, webhooks, friendly_name="Support")
        assert assert_accepted(http)[0]["method"] == "POST"

    def test_release(self, against_prism):
        provider, http = against_prism
        provider.release(NUMBER_SID)
        assert assert_accepted(http)[0]["status"] == 204

    @pytest.mark.parametrize("kwargs", [
        {"from_": "+14155175410", "status_callback": "https://app.example.com/status"},
        {"messaging_service_sid": "MG" + "0123456789abcdef" * 2,
         "media_urls": ["https://example.com/a.jpg", "https://example.com/b.jpg"]},
    ])
    def test_send_sms(self, against_prism, kwargs):
        provider, http = against_prism
        provider.send_sms(to="+14155550123", body="Hello", **kwargs)
        assert_accepted(http)

    def test_make_call(self, against_prism):
        provider, http = against_prism
        provider.make_call(to="+14155550123", from_="+14155175410", url="https://app.example.com/voice",
                           status_callback="https://app.example.com/status")
        assert_accepted(http)

    @pytest.mark.parametrize("status", ["paused", "in-progress"])
    def test_set_call_recording(self, against_prism, status):
        provider, http = against_prism
        provider.set_call_recording("CA" + "0123456789abcdef" * 2, status)
        [call] = assert_accepted(http)
        assert call["url"].endswith("/Recordings/Twilio.CURRENT.json") and call["data"] == {"Status": status}


    def test_delete_recording(self, against_prism):
        """DELETE Recordings/{Sid}.json (the media, .mp3/.wav, is not a path of the spec: its fetch is
        tested against the sandbox over HTTP, tests/sandbox/test_over_http.py)."""
        provider, http = against_prism
        provider.delete_recording("RE" + "0123456789abcdef" * 2)
        [call] = assert_accepted(http)
        assert call["method"] == "DELETE"
        assert call["url"].endswith(f"/Accounts/{ACCOUNT_SID}/Recordings/RE{'0123456789abcdef' * 2}.json")


@pytest.fixture(scope="session")
def registry(spec):
    return spec_registry(SPEC_URI, spec)


class TestEmulatorAnswersAsTheSpecSays:
    ACCOUNTS = "/2010-04-01/Accounts/{Sid}.json"
    AVAILABLE = "/2010-04-01/Accounts/{AccountSid}/AvailablePhoneNumbers/{CountryCode}/%s.json"
    NUMBERS = "/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json"
    NUMBER = "/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{Sid}.json"
    MESSAGES = "/2010-04-01/Accounts/{AccountSid}/Messages.json"
    CALLS = "/2010-04-01/Accounts/{AccountSid}/Calls.json"
    CALL_RECORDING = "/2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}/Recordings/{Sid}.json"

    @pytest.fixture
    def emulated(self, account):
        http = CapturingSandboxClient()
        return TwilioProvider(account_sid=account.sid, auth_token=account.auth_token, http_client=http), http

    def last(self, http) -> dict:
        return http.bodies[-1][2]

    def test_account(self, spec, registry, emulated):
        provider, http = emulated
        provider.validate_credentials()
        assert_matches_spec(spec, registry, self.last(http), self.ACCOUNTS, "get", 200)

    @pytest.mark.parametrize(("country", "number_type", "resource"), [
        ("US", "local", "Local"), ("CA", "local", "Local"), ("GB", "local", "Local"),
        ("US", "tollFree", "TollFree"), ("GB", "tollFree", "TollFree"), ("GB", "mobile", "Mobile"),
    ])
    def test_available_numbers(self, spec, registry, emulated, country, number_type, resource):
        provider, http = emulated
        provider.search_available(SearchCriteria(country=country, number_type=number_type, limit=5))
        assert_matches_spec(spec, registry, self.last(http), self.AVAILABLE % resource, "get", 200,
                            list_key="available_phone_numbers")

    def test_incoming_numbers_create_list_fetch_update(self, spec, registry, emulated):
        provider, http = emulated
        offers = provider.search_available(SearchCriteria(area_code="415", limit=3))
        for offer in offers:
            provider.purchase(offer.e164, WEBHOOKS)
        assert_matches_spec(spec, registry, self.last(http), self.NUMBERS, "post", 201)
        page = provider.list_owned(page_size=2)
        assert_matches_spec(spec, registry, self.last(http), self.NUMBERS, "get", 200,
                            list_key="incoming_phone_numbers")
        provider.list_owned(page.next_page)
        assert_matches_spec(spec, registry, self.last(http), self.NUMBERS, "get", 200,
                            list_key="incoming_phone_numbers")
        sid = page.numbers[0].sid
        provider.client.api.v2010.account.incoming_phone_numbers(sid).fetch()
        assert_matches_spec(spec, registry, self.last(http), self.NUMBER, "get", 200)
        provider.client.api.v2010.account.incoming_phone_numbers(sid).update(
            voice_application_sid="AP" + "1" * 32, trunk_sid="TK" + "2" * 32)
        assert_matches_spec(spec, registry, self.last(http), self.NUMBER, "post", 200)
        provider.release(sid)
        assert http.bodies[-1][:2] == ("DELETE", 204)

    def test_addresses_create_list_fetch(self, spec, registry, emulated):
        provider, http = emulated
        addresses = provider.client.api.v2010.account.addresses
        created = addresses.create(customer_name="Acme Ltd", street="1 High St", city="London", region="London",
                                   postal_code="EC1A 1AA", iso_country="GB", friendly_name="Head office")
        assert_matches_spec(spec, registry, self.last(http), "/2010-04-01/Accounts/{AccountSid}/Addresses.json",
                            "post", 201)
        addresses.page(iso_country="GB")
        assert_matches_spec(spec, registry, self.last(http), "/2010-04-01/Accounts/{AccountSid}/Addresses.json",
                            "get", 200, list_key="addresses")
        assert provider.address_country(created.sid) == "GB"
        assert_matches_spec(spec, registry, self.last(http),
                            "/2010-04-01/Accounts/{AccountSid}/Addresses/{Sid}.json", "get", 200)

    def test_messages_create_and_list(self, spec, registry, emulated):
        provider, http = emulated
        provider.send_sms(to="+14155550123", from_="+15005550006", body="Hello")
        assert_matches_spec(spec, registry, self.last(http), self.MESSAGES, "post", 201)
        provider.send_sms(to="+14155550123", messaging_service_sid="MG" + "3" * 32, body="Hi",
                          media_urls=["https://example.com/a.jpg"])
        assert_matches_spec(spec, registry, self.last(http), self.MESSAGES, "post", 201)
        provider.client.api.v2010.account.messages.page(page_size=1)
        assert_matches_spec(spec, registry, self.last(http), self.MESSAGES, "get", 200, list_key="messages")

    def test_calls_create(self, spec, registry, emulated):
        provider, http = emulated
        provider.make_call(to="+14155550123", from_="+15005550006", url="https://app.example.com/voice")
        assert_matches_spec(spec, registry, self.last(http), self.CALLS, "post", 201)

    def test_call_recording_update(self, spec, registry, emulated, account):
        from sandbox.models import SandboxCall
        from sandbox.services import sandbox_call_recording_start

        provider, http = emulated
        call = SandboxCall.objects.create(sid="CA" + "5" * 32, account=account, to="+14155550123",
                                          from_number="+15005550006", url="https://app.example.com/voice")
        sandbox_call_recording_start(call=call)
        provider.set_call_recording(call.sid, "paused")
        assert self.last(http)["status"] == "paused"
        assert_matches_spec(spec, registry, self.last(http), self.CALL_RECORDING, "post", 200)

    def test_error_bodies(self, spec, emulated):
        """The spec declares no 4xx/5xx bodies for these paths; the emulator answers Twilio's documented
        error shape ({code, message, more_info, status}) with the matching HTTP status."""
        declared = {status for op in spec["paths"][self.NUMBERS].values() if isinstance(op, dict)
                    for status in op.get("responses", {})}
        assert not {s for s in declared if s.startswith(("4", "5"))}
        provider, http = emulated
        with pytest.raises(Exception):
            provider.purchase("+15005550000", WEBHOOKS)
        method, status, body = http.bodies[-1]
        assert (method, status) == ("POST", 400)
        assert body == {"code": 21422, "message": body["message"], "status": 400,
                        "more_info": "https://www.twilio.com/docs/errors/21422"}
