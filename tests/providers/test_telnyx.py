"""TelnyxProvider against Telnyx's documented request and response bodies, at the HTTP boundary
(`httpx.MockTransport` answering with the recorded fixtures; everything above runs for real)."""
from __future__ import annotations

import base64
import time
from types import SimpleNamespace

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from providers.base import ProviderError, SearchCriteria, Webhooks
from providers.telnyx.client import TelnyxProvider
from tests.providers.test_plivo import FakeApi, fixture

API_KEY = "KEY0196A3B1C2D3E4F5_abcdefghijklmnopqrstuv"
APP_ID = "1293384261075731499"
PROFILE_ID = "40017f1e-5c2a-4b7e-9c7e-3f1b2f6f0a11"
NUMBER_ID = "1293384261075731499"
V2 = "/v2/"
HOOKS = Webhooks(voice_url="https://app.example.com/connect/webhook/telnyx/voice",
                 sms_url="https://app.example.com/connect/webhook/telnyx/sms",
                 status_callback="https://app.example.com/connect/webhook/telnyx/status")
SIGNING_KEY = Ed25519PrivateKey.generate()
PUBLIC_KEY = base64.b64encode(SIGNING_KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def telnyx_api() -> FakeApi:
    """An account with the TeXML application and messaging profile, owning +14155550142."""
    return (FakeApi()
            .on("GET", f"{V2}balance", (200, fixture("telnyx", "balance")))
            .on("GET", f"{V2}texml_applications/{APP_ID}", (200, fixture("telnyx", "texml_application")))
            .on("PATCH", f"{V2}texml_applications/{APP_ID}", (200, fixture("telnyx", "texml_application")))
            .on("GET", f"{V2}messaging_profiles/{PROFILE_ID}", (200, fixture("telnyx", "messaging_profile")))
            .on("PATCH", f"{V2}messaging_profiles/{PROFILE_ID}", (200, fixture("telnyx", "messaging_profile")))
            .on("GET", f"{V2}phone_numbers", (200, fixture("telnyx", "phone_numbers_page1")))
            .on("PATCH", f"{V2}phone_numbers/{NUMBER_ID}", (200, fixture("telnyx", "phone_number")))
            .on("PATCH", f"{V2}phone_numbers/{NUMBER_ID}/messaging",
                (200, fixture("telnyx", "phone_number_messaging"))))


class Clock:
    """Time that passes only when the provider sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def provider_for(api: FakeApi, clock: Clock | None = None, **config: str) -> TelnyxProvider:
    clock = clock or Clock()
    options = {"connection_id": APP_ID, "messaging_profile_id": PROFILE_ID, "webhook_public_key": PUBLIC_KEY,
               **config}
    return TelnyxProvider(api_key=API_KEY, transport=httpx.MockTransport(api), sleep=clock.sleep,
                          clock=lambda: clock.now, **options)


class TestCredentials:
    def test_it_checks_the_key_the_application_and_the_profile(self):
        api = telnyx_api()
        account = provider_for(api).validate_credentials()
        assert (account.account_id, account.friendly_name) == (APP_ID, "call-router")
        assert api.requests[0].headers["authorization"] == f"Bearer {API_KEY}"
        assert [r.url.path for r in api.requests] == [f"{V2}balance", f"{V2}texml_applications/{APP_ID}",
                                                      f"{V2}messaging_profiles/{PROFILE_ID}"]

    def test_a_bad_key_is_a_permanent_error_with_telnyxs_reason(self):
        api = FakeApi().on("GET", f"{V2}balance", (401, fixture("telnyx", "error_401")))
        with pytest.raises(ProviderError) as caught:
            provider_for(api).validate_credentials()
        assert caught.value.permanent and caught.value.code == "10009"
        assert "invalid or has been revoked" in caught.value.message

    def test_an_application_the_account_does_not_have_is_a_permanent_error(self):
        api = telnyx_api()
        api.routes[("GET", f"{V2}texml_applications/{APP_ID}")] = [(404, fixture("telnyx", "error_404"))]
        with pytest.raises(ProviderError) as caught:
            provider_for(api).validate_credentials()
        assert caught.value.permanent and "connectionId" in caught.value.message


class TestSearchAndOwnership:
    def test_it_searches_with_telnyx_filters(self):
        api = FakeApi().on("GET", f"{V2}available_phone_numbers", (200, fixture("telnyx", "available_phone_numbers")))
        found = provider_for(api).search_available(SearchCriteria(area_code="415", sms_enabled=True, limit=5))
        assert [n.e164 for n in found] == ["+14155550142", "+14155550177"]
        assert found[0].capabilities.sms and found[0].region == "CA" and not found[1].capabilities.sms
        assert api.requests[0].url.params.multi_items() == [
            ("filter[country_code]", "US"), ("filter[phone_number_type]", "local"), ("filter[limit]", "5"),
            ("filter[national_destination_code]", "415"), ("filter[features][]", "sms")]

    def test_an_owned_number_is_found_exactly(self):
        owned = provider_for(telnyx_api()).find_owned("+14155550142")
        assert (owned.sid, owned.friendly_name, owned.sms_application_sid) == (NUMBER_ID, "Sales Line", PROFILE_ID)

    def test_a_partial_match_is_not_ownership(self):
        api = FakeApi().on("GET", f"{V2}phone_numbers", (200, fixture("telnyx", "phone_numbers_partial_match")))
        assert provider_for(api).find_owned("+14155550142") is None

    def test_list_pages_by_page_number(self):
        api = FakeApi().on("GET", f"{V2}phone_numbers", (200, fixture("telnyx", "phone_numbers_page1")),
                           (200, fixture("telnyx", "phone_numbers_page2")))
        provider = provider_for(api)
        first = provider.list_owned(page_size=2)
        second = provider.list_owned(first.next_page, page_size=2)
        assert [n.e164 for n in first.numbers + second.numbers] == ["+14155550142", "+14155550143", "+18005550199"]
        assert (first.next_page, second.next_page) == ("2", None)
        assert api.requests[1].url.params["page[number]"] == "2"


class TestConfigure:
    def test_it_points_the_application_and_profile_at_us_and_attaches_the_number(self):
        api = telnyx_api()
        configured = provider_for(api).configure_webhooks(NUMBER_ID, HOOKS, friendly_name="Front desk")
        assert api.body("PATCH", f"{V2}texml_applications/{APP_ID}") == {
            "friendly_name": "call-router", "voice_url": HOOKS.voice_url, "voice_method": "post",
            "status_callback": HOOKS.status_callback, "status_callback_method": "post"}
        assert api.body("PATCH", f"{V2}messaging_profiles/{PROFILE_ID}") == {"webhook_url": HOOKS.sms_url,
                                                                           "webhook_api_version": "2"}
        assert api.body("PATCH", f"{V2}phone_numbers/{NUMBER_ID}") == {"connection_id": APP_ID,
                                                                     "customer_reference": "Front desk"}
        assert api.body("PATCH", f"{V2}phone_numbers/{NUMBER_ID}/messaging") == {"messaging_profile_id": PROFILE_ID}
        assert (configured.voice_url, configured.sms_url) == (HOOKS.voice_url, HOOKS.sms_url)

    def test_an_application_already_pointing_at_us_is_left_alone(self):
        app, profile = fixture("telnyx", "texml_application"), fixture("telnyx", "messaging_profile")
        app["data"].update(voice_url=HOOKS.voice_url, status_callback=HOOKS.status_callback)
        profile["data"]["webhook_url"] = HOOKS.sms_url
        api = telnyx_api()
        api.routes[("GET", f"{V2}texml_applications/{APP_ID}")] = [(200, app)]
        api.routes[("GET", f"{V2}messaging_profiles/{PROFILE_ID}")] = [(200, profile)]
        provider_for(api).configure_webhooks(NUMBER_ID, HOOKS)
        assert not api.sent("PATCH", f"{V2}texml_applications/{APP_ID}")
        assert not api.sent("PATCH", f"{V2}messaging_profiles/{PROFILE_ID}")


def order_api(*answers) -> FakeApi:
    api = telnyx_api()
    api.routes[("GET", f"{V2}phone_numbers")] = [(200, fixture("telnyx", "phone_numbers_page1"))]
    api.on("GET", f"{V2}number_orders", (200, fixture("telnyx", "number_orders_none_pending")))
    api.on("POST", f"{V2}number_orders", (200, fixture("telnyx", "number_order_pending")))
    api.on("GET", f"{V2}number_orders/12ade33a-21c0-473b-b055-b3c836e1c292", *answers)
    return api


class TestAsynchronousOrders:
    def test_a_pending_order_is_waited_for_until_it_succeeds(self):
        clock = Clock()
        api = order_api((200, fixture("telnyx", "number_order_pending")),
                        (200, fixture("telnyx", "number_order_success")))
        bought = provider_for(api, clock).purchase("+14155550142", HOOKS)
        assert bought.e164 == "+14155550142" and bought.voice_url == HOOKS.voice_url
        assert api.body("POST", f"{V2}number_orders") == {
            "phone_numbers": [{"phone_number": "+14155550142"}], "connection_id": APP_ID,
            "messaging_profile_id": PROFILE_ID, "customer_reference": "phone-platform:+14155550142"}
        assert clock.sleeps == [2.0, 2.0]

    def test_an_order_still_pending_past_the_bound_is_an_unknown_outcome(self):
        clock = Clock()
        api = order_api((200, fixture("telnyx", "number_order_pending")))
        with pytest.raises(ProviderError) as caught:
            provider_for(api, clock).purchase("+14155550142", HOOKS)
        assert caught.value.outcome_unknown and not caught.value.permanent
        assert caught.value.code == "order_pending" and clock.now >= 20

    def test_a_retry_picks_up_the_pending_order_instead_of_ordering_again(self):
        api = order_api((200, fixture("telnyx", "number_order_success")))
        pending = fixture("telnyx", "number_orders_none_pending")
        pending["data"] = [fixture("telnyx", "number_order_pending")["data"]]
        api.routes[("GET", f"{V2}number_orders")] = [(200, pending)]
        provider_for(api).purchase("+14155550142", HOOKS)
        assert not api.sent("POST", f"{V2}number_orders")
        assert api.sent("GET", f"{V2}number_orders")[0].url.params["filter[customer_reference]"] == \
            "phone-platform:+14155550142"

    def test_a_failed_order_is_permanent(self):
        api = order_api((200, fixture("telnyx", "number_order_failure")))
        with pytest.raises(ProviderError) as caught:
            provider_for(api).purchase("+14155550142", HOOKS)
        assert caught.value.permanent and caught.value.code == "order_failed"

    def test_a_refused_order_is_permanent_with_telnyxs_reason(self):
        api = order_api()
        api.routes[("POST", f"{V2}number_orders")] = [(422, fixture("telnyx", "error_422"))]
        with pytest.raises(ProviderError) as caught:
            provider_for(api).purchase("+14155550142", HOOKS)
        assert caught.value.permanent and caught.value.code == "10015"
        assert caught.value.as_domain_error().status_code == 422


class TestOtherCalls:
    def test_it_sends_an_sms(self):
        api = FakeApi().on("POST", f"{V2}messages", (200, fixture("telnyx", "message")))
        sent = provider_for(api).send_sms(to="+14155550100", body="Hello, World!", from_="+14155550142",
                                          status_callback=HOOKS.status_callback)
        assert (sent.sid, sent.status, sent.segments) == ("40385f64-5717-4562-b3fc-2c963f66afa6", "queued", 1)
        assert api.body("POST", f"{V2}messages") == {"to": "+14155550100", "text": "Hello, World!",
                                                     "from": "+14155550142", "webhook_url": HOOKS.status_callback}

    def test_it_places_a_texml_call(self):
        api = FakeApi().on("POST", f"{V2}texml/calls/{APP_ID}", (200, fixture("telnyx", "texml_call")))
        call = provider_for(api).make_call(to="+14155550100", from_="+14155550142", url=HOOKS.voice_url)
        assert call.sid.startswith("v3:") and call.status == "queued"
        assert api.body("POST", f"{V2}texml/calls/{APP_ID}") == {"From": "+14155550142", "To": "+14155550100",
                                                                 "Url": HOOKS.voice_url}

    def test_it_hangs_up_a_live_texml_call_and_one_already_over_is_fine(self):
        sid = "v3:KBnLO0ZK3DhKM5s7bE9VluaSmKsOchKht_fUYvxcp8ysbmzCCtpkmA"
        path = f"{V2}texml/calls/{sid}/update"
        api = FakeApi().on("POST", path, (200, {"data": {"sid": sid, "status": "accepted"}}),
                           (404, fixture("telnyx", "error_404")))
        provider = provider_for(api)
        provider.update_call(sid, hangup=True)
        provider.update_call(sid, hangup=True)
        assert api.body("POST", path) == {"Status": "completed"} and len(api.sent("POST", path)) == 2

    def test_a_live_texml_call_gets_new_texml_inline(self):
        sid = "v3:KBnLO0ZK3DhKM5s7bE9VluaSmKsOchKht_fUYvxcp8ysbmzCCtpkmA"
        path = f"{V2}texml/calls/{sid}/update"
        api = FakeApi().on("POST", path, (200, fixture("telnyx", "texml_call_update")))
        texml = '<?xml version="1.0" encoding="UTF-8"?><Response><Dial><Number>+14155550100</Number></Dial></Response>'
        provider_for(api).update_call(sid, twiml=texml)
        assert api.body("POST", path) == {"Texml": texml}
        assert api.sent("POST", path)[0].headers["Authorization"] == f"Bearer {API_KEY}"

    def test_a_live_texml_call_can_fetch_its_new_texml_from_a_url(self):
        sid = "v3:KBnLO0ZK3DhKM5s7bE9VluaSmKsOchKht_fUYvxcp8ysbmzCCtpkmA"
        path = f"{V2}texml/calls/{sid}/update"
        api = FakeApi().on("POST", path, (200, fixture("telnyx", "texml_call_update")))
        provider_for(api).update_call(sid, url=HOOKS.voice_url)
        assert api.body("POST", path) == {"Url": HOOKS.voice_url, "Method": "POST"}

    def test_new_texml_for_a_call_that_is_over_is_an_error_with_telnyxs_reason(self):
        path = f"{V2}texml/calls/v3:gone/update"
        api = FakeApi().on("POST", path, (404, fixture("telnyx", "error_404")))
        with pytest.raises(ProviderError) as refused:
            provider_for(api).update_call("v3:gone", twiml="<Response/>")
        assert refused.value.status == 404 and refused.value.permanent

    def test_a_bad_call_id_never_reaches_the_url(self):
        api = FakeApi()
        for call_sid in ("../phone_numbers/1", "v3:a/b", ""):
            with pytest.raises(ValueError):
                provider_for(api).update_call(call_sid, twiml="<Response/>")
        with pytest.raises(ValueError):
            provider_for(api).update_call("../phone_numbers/1", hangup=True)
        assert api.requests == []

    def test_release_deletes_the_number_by_its_telnyx_id(self):
        api = FakeApi().on("DELETE", f"{V2}phone_numbers/{NUMBER_ID}", (200, fixture("telnyx", "phone_number")))
        assert provider_for(api).release(NUMBER_ID) is None
        assert [(r.method, r.url.path) for r in api.requests] == [("DELETE", f"{V2}phone_numbers/{NUMBER_ID}")]

    def test_release_of_a_number_already_gone_is_fine(self):
        api = FakeApi().on("DELETE", f"{V2}phone_numbers/{NUMBER_ID}", (404, fixture("telnyx", "error_404")))
        provider_for(api).release(NUMBER_ID)  # no ProviderError: gone is what the caller wanted
        assert len(api.sent("DELETE", f"{V2}phone_numbers/{NUMBER_ID}")) == 1

    def test_release_refused_otherwise_is_an_error(self):
        api = FakeApi().on("DELETE", f"{V2}phone_numbers/{NUMBER_ID}",
                           (403, {"errors": [{"code": "10010", "title": "Forbidden"}]}))
        with pytest.raises(ProviderError):
            provider_for(api).release(NUMBER_ID)

    def test_a_5xx_is_transient(self):
        api = FakeApi().on("GET", f"{V2}phone_numbers", (500, {"errors": [{"code": "10007", "title": "Unexpected"}]}))
        with pytest.raises(ProviderError) as caught:
            provider_for(api).find_owned("+14155550142")
        assert not caught.value.permanent and caught.value.as_domain_error().status_code == 502

    def test_an_unreachable_telnyx_is_unavailable(self):
        api = FakeApi().on("GET", f"{V2}balance", httpx.ConnectError("refused"))
        with pytest.raises(ProviderError) as caught:
            provider_for(api).validate_credentials()
        assert caught.value.unavailable


def signed_request(body: bytes, *, timestamp: int | None = None, key: Ed25519PrivateKey = SIGNING_KEY):
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = base64.b64encode(key.sign(str(timestamp).encode() + b"|" + body)).decode()
    return SimpleNamespace(body=body, headers={"telnyx-signature-ed25519": signature,
                                               "telnyx-timestamp": str(timestamp)})


class TestSignature:
    def test_a_request_signed_with_the_account_key_is_accepted(self):
        assert provider_for(FakeApi()).validate_webhook(signed_request(b'{"data":{}}'), HOOKS.sms_url)

    def test_a_forged_signature_is_refused(self):
        forged = signed_request(b'{"data":{}}', key=Ed25519PrivateKey.generate())
        assert not provider_for(FakeApi()).validate_webhook(forged, HOOKS.sms_url)

    def test_a_tampered_body_is_refused(self):
        request = signed_request(b'{"data":{}}')
        request.body = b'{"data":{"x":1}}'
        assert not provider_for(FakeApi()).validate_webhook(request, HOOKS.sms_url)

    def test_a_replay_older_than_five_minutes_is_refused(self):
        old = signed_request(b'{"data":{}}', timestamp=int(time.time()) - 301)
        assert not provider_for(FakeApi()).validate_webhook(old, HOOKS.sms_url)

    def test_without_a_configured_key_nothing_is_accepted(self):
        assert not provider_for(FakeApi(), webhook_public_key="").validate_webhook(
            signed_request(b"{}"), HOOKS.sms_url)
