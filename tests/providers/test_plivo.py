"""PlivoProvider against Plivo's documented request and response bodies, at the HTTP boundary:
an `httpx.MockTransport` answers with the recorded fixtures; everything above it runs for real."""
from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from providers.base import ProviderError, SearchCriteria, Webhooks
from providers.plivo.client import PlivoProvider, application_name, signature_v3

FIXTURES = Path(__file__).parent / "fixtures"
AUTH_ID = "MADE5ECE1DBADC0FFEE1"
AUTH_TOKEN = "ZjQ4NDdkZDY2OTk0ZWQ5MDg1ZGIwYTNkZmE2ZDAw"
ACCOUNT = f"/v1/Account/{AUTH_ID}/"
HOOKS = Webhooks(voice_url="https://app.example.com/connect/webhook/plivo/voice",
                 sms_url="https://app.example.com/connect/webhook/plivo/sms",
                 status_callback="https://app.example.com/connect/webhook/plivo/status")


def fixture(provider: str, name: str) -> Any:
    return json.loads((FIXTURES / provider / f"{name}.json").read_text())


class FakeApi:
    """A provider's API as a table of (method, path) → answers, recording every request.

    Each answer is used once, except the last for its route, which keeps answering. An
    exception as an answer is raised by the transport (a timeout, a refused connection).
    """

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[Any]] = {}
        self.requests: list[httpx.Request] = []

    def on(self, method: str, path: str, *answers: Any) -> FakeApi:
        self.routes.setdefault((method, path), []).extend(answers)
        return self

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answers = self.routes.get((request.method, request.url.path))
        if not answers:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, Exception):
            raise answer
        status, body = answer
        if isinstance(body, str):
            return httpx.Response(status, text=body)
        return httpx.Response(status, json=body) if body is not None else httpx.Response(status)

    def sent(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and r.url.path == path]

    def body(self, method: str, path: str, index: int = -1) -> dict:
        return json.loads(self.sent(method, path)[index].content)


def plivo_api() -> FakeApi:
    """A Plivo account that owns +14155550142 and has no application of ours yet."""
    return (FakeApi()
            .on("GET", ACCOUNT, (200, fixture("plivo", "account")))
            .on("GET", f"{ACCOUNT}Number/14155550142/", (200, fixture("plivo", "number")))
            .on("GET", f"{ACCOUNT}Number/14155550100/", (404, fixture("plivo", "error_404")))
            .on("POST", f"{ACCOUNT}Number/14155550142/", (202, fixture("plivo", "number_update")))
            .on("GET", f"{ACCOUNT}Application/", (200, fixture("plivo", "application_list")))
            .on("POST", f"{ACCOUNT}Application/", (201, fixture("plivo", "application_create"))))


def ours_listed(webhooks: Webhooks = HOOKS, **changes: str) -> dict:
    """The application list with our application on it (as created earlier for `webhooks`)."""
    listing = fixture("plivo", "application_list")
    ours = copy.deepcopy(listing["objects"][0])
    ours.update({"app_id": "29986316244302815", "app_name": application_name(webhooks), "default_app": False,
                 "answer_url": webhooks.voice_url, "answer_method": "POST", "message_url": webhooks.sms_url,
                 "message_method": "POST", "hangup_url": webhooks.status_callback, "hangup_method": "POST",
                 **changes})
    listing["objects"].append(ours)
    return listing


def provider_for(api: FakeApi) -> PlivoProvider:
    return PlivoProvider(auth_id=AUTH_ID, auth_token=AUTH_TOKEN, transport=httpx.MockTransport(api))


class TestCredentials:
    def test_it_reads_the_account_with_basic_auth(self):
        api = plivo_api()
        account = provider_for(api).validate_credentials()
        assert (account.account_id, account.friendly_name) == (AUTH_ID, "Alice & Co")
        assert api.requests[0].headers["authorization"] == httpx.BasicAuth(AUTH_ID, AUTH_TOKEN)._auth_header

    def test_bad_credentials_are_a_permanent_error_with_plivos_reason(self):
        api = FakeApi().on("GET", ACCOUNT, (401, fixture("plivo", "error_401")))
        with pytest.raises(ProviderError) as caught:
            provider_for(api).validate_credentials()
        assert caught.value.permanent and caught.value.status == 401
        assert "authentication failed" in caught.value.message

    def test_an_auth_id_that_could_change_the_url_is_refused_before_any_request(self):
        with pytest.raises(ProviderError):
            PlivoProvider(auth_id="MA../../x", auth_token=AUTH_TOKEN, transport=httpx.MockTransport(FakeApi()))


class TestSearch:
    def test_it_searches_by_area_code_and_services(self):
        api = FakeApi().on("GET", f"{ACCOUNT}PhoneNumber/", (200, fixture("plivo", "phone_number_search")))
        found = provider_for(api).search_available(SearchCriteria(area_code="415", sms_enabled=True, limit=50))
        assert [n.e164 for n in found] == ["+14155550142", "+14155550177"]
        assert found[0].capabilities.sms and found[0].locality == "SAN FRANCISCO"
        assert dict(api.requests[0].url.params) == {"country_iso": "US", "type": "local", "limit": "20",
                                                   "pattern": "415", "services": "sms"}

    def test_contains_is_applied_to_what_plivo_returns(self):
        api = FakeApi().on("GET", f"{ACCOUNT}PhoneNumber/", (200, fixture("plivo", "phone_number_search")))
        found = provider_for(api).search_available(SearchCriteria(number_type="tollFree", contains="0177"))
        assert [n.e164 for n in found] == ["+14155550177"]
        assert api.requests[0].url.params["type"] == "tollfree"


class TestOwnership:
    def test_an_owned_number_is_found_with_its_application(self):
        owned = provider_for(plivo_api()).find_owned("+14155550142")
        assert (owned.sid, owned.e164, owned.friendly_name) == ("14155550142", "+14155550142", "Sales Line")
        assert owned.voice_application_sid == "29986316244302815"
        assert owned.capabilities.voice and owned.capabilities.mms

    def test_a_number_of_another_account_is_not_owned(self):
        assert provider_for(plivo_api()).find_owned("+14155550100") is None

    def test_list_pages_by_offset_until_plivo_says_there_is_no_next(self):
        api = (FakeApi().on("GET", f"{ACCOUNT}Number/", (200, fixture("plivo", "number_list_page1")),
                            (200, fixture("plivo", "number_list_page2"))))
        provider = provider_for(api)
        first = provider.list_owned(page_size=2)
        second = provider.list_owned(first.next_page, page_size=2)
        assert [n.e164 for n in first.numbers + second.numbers] == ["+14155550142", "+14155550143", "+18005550199"]
        assert (first.next_page, second.next_page) == ("2", None)
        assert [dict(r.url.params) for r in api.requests] == [{"limit": "2", "offset": "0"},
                                                               {"limit": "2", "offset": "2"}]

    def test_page_size_is_capped_at_plivos_twenty(self):
        api = FakeApi().on("GET", f"{ACCOUNT}Number/", (200, fixture("plivo", "number_list_page2")))
        provider_for(api).list_owned(page_size=1000)
        assert api.requests[0].url.params["limit"] == "20"


class TestApplication:
    def test_configuring_creates_our_application_and_attaches_the_number(self):
        api = plivo_api()
        configured = provider_for(api).configure_webhooks("14155550142", HOOKS, friendly_name="Front desk")
        created = api.body("POST", f"{ACCOUNT}Application/")
        assert created == {"app_name": application_name(HOOKS), "answer_url": HOOKS.voice_url,
                           "answer_method": "POST", "message_url": HOOKS.sms_url, "message_method": "POST",
                           "hangup_url": HOOKS.status_callback, "hangup_method": "POST"}
        assert api.body("POST", f"{ACCOUNT}Number/14155550142/") == {"app_id": "29986316244302815",
                                                                     "alias": "Front desk"}
        assert (configured.voice_url, configured.sms_url, configured.status_callback) == (
            HOOKS.voice_url, HOOKS.sms_url, HOOKS.status_callback)
        assert configured.voice_application_sid == "29986316244302815"

    def test_an_existing_application_of_ours_is_reused(self):
        api = plivo_api()
        api.routes[("GET", f"{ACCOUNT}Application/")] = [(200, ours_listed())]
        provider_for(api).configure_webhooks("14155550142", HOOKS)
        assert not api.sent("POST", f"{ACCOUNT}Application/")
        assert not api.sent("POST", f"{ACCOUNT}Application/29986316244302815/")
        assert api.body("POST", f"{ACCOUNT}Number/14155550142/") == {"app_id": "29986316244302815"}

    def test_our_application_edited_in_the_console_is_pointed_back_at_us(self):
        api = plivo_api()
        api.routes[("GET", f"{ACCOUNT}Application/")] = [(200, ours_listed(message_url="https://evil.example/sms"))]
        api.on("POST", f"{ACCOUNT}Application/29986316244302815/", (202, fixture("plivo", "application_modify")))
        provider_for(api).configure_webhooks("14155550142", HOOKS)
        assert api.body("POST", f"{ACCOUNT}Application/29986316244302815/")["message_url"] == HOOKS.sms_url
        assert not api.sent("POST", f"{ACCOUNT}Application/")

    def test_other_urls_get_their_own_application(self):
        staging = Webhooks(voice_url="https://staging.example.com/v", sms_url="https://staging.example.com/s")
        assert application_name(staging) != application_name(HOOKS)
        assert application_name(HOOKS) == application_name(Webhooks(**vars(HOOKS)))


class TestPurchaseAndRelease:
    def test_it_buys_into_our_application(self):
        api = plivo_api().on("POST", f"{ACCOUNT}PhoneNumber/14155550142/", (201, fixture("plivo", "phone_number_buy")))
        bought = provider_for(api).purchase("+14155550142", HOOKS, friendly_name="Sales Line")
        assert api.body("POST", f"{ACCOUNT}PhoneNumber/14155550142/") == {"app_id": "29986316244302815"}
        assert api.body("POST", f"{ACCOUNT}Number/14155550142/") == {"alias": "Sales Line"}
        assert (bought.sid, bought.voice_url) == ("14155550142", HOOKS.voice_url)

    def test_a_purchase_plivo_has_not_fulfilled_is_an_unknown_outcome(self):
        api = plivo_api().on("POST", f"{ACCOUNT}PhoneNumber/14155550142/",
                             (201, fixture("plivo", "phone_number_buy_pending")))
        with pytest.raises(ProviderError) as caught:
            provider_for(api).purchase("+14155550142", HOOKS)
        assert caught.value.outcome_unknown and not caught.value.permanent

    def test_a_number_no_longer_for_sale_is_a_permanent_refusal(self):
        api = plivo_api().on("POST", f"{ACCOUNT}PhoneNumber/14155550142/", (400, fixture("plivo", "error_400")))
        with pytest.raises(ProviderError) as caught:
            provider_for(api).purchase("+14155550142", HOOKS)
        assert caught.value.permanent and "not available" in caught.value.message
        assert caught.value.as_domain_error().status_code == 422

    def test_releasing_a_number_already_gone_is_fine(self):
        api = (FakeApi().on("DELETE", f"{ACCOUNT}Number/14155550142/", (204, None))
               .on("DELETE", f"{ACCOUNT}Number/14155550143/", (404, fixture("plivo", "error_404"))))
        provider = provider_for(api)
        provider.release("14155550142")
        provider.release("14155550143")
        assert len(api.requests) == 2


class TestMessagesAndCalls:
    def test_it_sends_an_sms_with_a_status_url(self):
        api = FakeApi().on("POST", f"{ACCOUNT}Message/", (202, fixture("plivo", "message_send")))
        sent = provider_for(api).send_sms(to="+14155550100", body="Hi", from_="+14155550142",
                                          status_callback=HOOKS.status_callback)
        assert sent.sid == "5b40a428-bfc7-4daf-9d06-726c558bf3b8" and sent.status == "queued"
        assert api.body("POST", f"{ACCOUNT}Message/") == {"dst": "+14155550100", "text": "Hi", "src": "+14155550142",
                                                          "url": HOOKS.status_callback, "method": "POST"}

    def test_it_places_a_call(self):
        api = FakeApi().on("POST", f"{ACCOUNT}Call/", (201, fixture("plivo", "call_create")))
        call = provider_for(api).make_call(to="+14155550100", from_="+14155550142", url=HOOKS.voice_url)
        assert call.sid == "9834029e-58b6-11e1-b8b7-a5bd0e4e126f"
        assert api.body("POST", f"{ACCOUNT}Call/")["answer_url"] == HOOKS.voice_url

    def test_it_hangs_up_a_live_call_and_one_already_over_is_fine(self):
        uuid = "9834029e-58b6-11e1-b8b7-a5bd0e4e126f"
        api = FakeApi().on("DELETE", f"{ACCOUNT}Call/{uuid}/", (204, None), (404, fixture("plivo", "error_404")))
        provider = provider_for(api)
        provider.update_call(uuid, hangup=True)
        provider.update_call(uuid, hangup=True)  # the caller hung up first: what was wanted
        assert len(api.sent("DELETE", f"{ACCOUNT}Call/{uuid}/")) == 2

    def test_a_live_call_is_transferred_to_xml_fetched_from_a_url(self):
        uuid = "1ed7fd89-df77-4ebf-8196-d5cf7222c918"
        api = FakeApi().on("POST", f"{ACCOUNT}Call/{uuid}/", (202, fixture("plivo", "call_transfer")))
        url = "https://app.example.com/connect/webhook/plivo/markup?m=signed"
        provider_for(api).update_call(uuid, url=url)
        assert api.body("POST", f"{ACCOUNT}Call/{uuid}/") == {"legs": "aleg", "aleg_url": url, "aleg_method": "POST"}
        sent = api.sent("POST", f"{ACCOUNT}Call/{uuid}/")[0]
        assert sent.headers["Authorization"] == "Basic " + base64.b64encode(f"{AUTH_ID}:{AUTH_TOKEN}".encode()).decode()

    def test_transferring_a_call_that_is_over_is_an_error(self):
        uuid = "1ed7fd89-df77-4ebf-8196-d5cf7222c918"
        api = FakeApi().on("POST", f"{ACCOUNT}Call/{uuid}/", (404, fixture("plivo", "error_404")))
        with pytest.raises(ProviderError) as refused:
            provider_for(api).update_call(uuid, url="https://app.example.com/connect/webhook/plivo/markup")
        assert refused.value.status == 404 and refused.value.permanent

    def test_new_markup_for_a_live_call_is_unsupported_and_a_bad_id_never_reaches_the_url(self):
        api = FakeApi()
        with pytest.raises(ProviderError) as refused:
            provider_for(api).update_call("9834029e-58b6-11e1-b8b7-a5bd0e4e126f", twiml="<Response/>")
        assert refused.value.code == "unsupported" and refused.value.permanent
        with pytest.raises(ValueError):
            provider_for(api).update_call("../Number/14155550142", hangup=True)
        assert api.requests == []


class TestFailures:
    def test_a_5xx_is_transient_and_reported_as_a_bad_gateway(self):
        api = FakeApi().on("GET", f"{ACCOUNT}Number/14155550142/", (503, "<html>Service Unavailable</html>"))
        with pytest.raises(ProviderError) as caught:
            provider_for(api).find_owned("+14155550142")
        assert (caught.value.permanent, caught.value.status) == (False, 503)
        assert caught.value.as_domain_error().status_code == 502

    def test_rate_limiting_is_transient(self):
        api = FakeApi().on("GET", ACCOUNT, (429, {"api_id": "x", "error": "too many requests"}))
        with pytest.raises(ProviderError) as caught:
            provider_for(api).validate_credentials()
        assert not caught.value.permanent

    def test_a_refused_connection_means_plivo_is_unavailable(self):
        api = FakeApi().on("GET", ACCOUNT, httpx.ConnectError("refused"))
        with pytest.raises(ProviderError) as caught:
            provider_for(api).validate_credentials()
        assert caught.value.unavailable and not caught.value.outcome_unknown
        assert caught.value.as_domain_error().status_code == 503

    def test_a_timeout_on_a_purchase_leaves_its_outcome_unknown(self):
        api = plivo_api().on("POST", f"{ACCOUNT}PhoneNumber/14155550142/", httpx.ReadTimeout("slow"))
        with pytest.raises(ProviderError) as caught:
            provider_for(api).purchase("+14155550142", HOOKS)
        assert caught.value.outcome_unknown and caught.value.code == "timeout"

    def test_a_timeout_on_a_read_is_just_transient(self):
        api = FakeApi().on("GET", ACCOUNT, httpx.ReadTimeout("slow"))
        with pytest.raises(ProviderError) as caught:
            provider_for(api).validate_credentials()
        assert not caught.value.outcome_unknown and not caught.value.permanent


class TestSignature:
    """Plivo's V3 scheme, checked against a value computed by hand from its definition."""

    def test_a_post_signs_the_url_then_the_sorted_parameters_then_the_nonce(self):
        signed = "https://app.example.com/connect/webhook/plivo/sms?From+14155550100TexthiTo+14155550142.12345"
        expected = base64.b64encode(hmac.new(AUTH_TOKEN.encode(), signed.encode(), hashlib.sha256).digest()).decode()
        params = {"To": ["+14155550142"], "From": ["+14155550100"], "Text": ["hi"]}
        assert signature_v3(AUTH_TOKEN, "POST", HOOKS.sms_url, "12345", params) == expected

    def test_a_get_signs_the_sorted_query(self):
        signed = "https://app.example.com/x?a=1&b=2.n"
        expected = base64.b64encode(hmac.new(AUTH_TOKEN.encode(), signed.encode(), hashlib.sha256).digest()).decode()
        assert signature_v3(AUTH_TOKEN, "GET", "https://app.example.com/x?b=2&a=1", "n", {}) == expected
