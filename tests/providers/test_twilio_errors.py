"""How TwilioProvider reports failures: permanent or worth retrying, down or misbehaving,
and whether a request that failed may still have taken effect."""
from __future__ import annotations

import json
import socket
from http.client import RemoteDisconnected
from unittest import mock

import pytest
import requests
from twilio.http.response import Response
from urllib3.exceptions import ProtocolError

from providers.base import ProviderError, SearchCriteria
from providers.twilio.client import TwilioProvider
from providers.twilio.http import ProviderHttpClient
from sandbox.services import sandbox_fault_add
from tests.sandbox.helpers import WEBHOOKS, sandbox_provider

ACCOUNT_SID = "AC" + "a" * 32


def twilio_body(status: int, code: int, message: str) -> str:
    return json.dumps({"code": code, "message": message, "status": status,
                       "more_info": f"https://www.twilio.com/docs/errors/{code}"})


def offered(provider) -> str:
    return provider.search_available(SearchCriteria(area_code="415", limit=1))[0].e164


class TestInjectedFaults:
    def test_a_500_on_purchase_is_transient_and_buys_nothing(self, provider, account):
        e164 = offered(provider)
        sandbox_fault_add(account_sid=account.sid, kind="http_500")
        with pytest.raises(ProviderError) as caught:
            provider.purchase(e164, WEBHOOKS)
        error = caught.value
        assert (error.permanent, error.status, error.code, error.unavailable) == (False, 500, 20500, False)
        assert error.as_domain_error().status_code == 502
        assert provider.find_owned(e164) is None
        assert provider.purchase(e164, WEBHOOKS).e164 == e164  # the fault was used up

    def test_a_timeout_after_purchase_leaves_the_outcome_unknown_but_the_number_bought(self, provider, account):
        e164 = offered(provider)
        sandbox_fault_add(account_sid=account.sid, kind="timeout_after")
        with pytest.raises(ProviderError) as caught:
            provider.purchase(e164, WEBHOOKS)
        assert caught.value.outcome_unknown and not caught.value.permanent and caught.value.code == "timeout"
        owned = provider.find_owned(e164)
        assert owned is not None and owned.voice_url == WEBHOOKS.voice_url

    def test_a_timeout_before_purchase_is_also_unknown_to_the_caller_and_bought_nothing(self, provider, account):
        e164 = offered(provider)
        sandbox_fault_add(account_sid=account.sid, kind="timeout_before")
        with pytest.raises(ProviderError) as caught:
            provider.purchase(e164, WEBHOOKS)
        assert caught.value.outcome_unknown
        assert provider.find_owned(e164) is None

    def test_a_timeout_on_send_is_outcome_unknown(self, provider, account):
        sandbox_fault_add(account_sid=account.sid, resource="Messages", kind="timeout_after")
        with pytest.raises(ProviderError) as caught:
            provider.send_sms(to="+14155550123", from_="+15005550006", body="hi")
        assert caught.value.outcome_unknown
        assert account.messages.count() == 1

    def test_a_timeout_on_a_read_is_simply_transient(self, provider, account):
        sandbox_fault_add(account_sid=account.sid, method="GET", kind="timeout_before")
        with pytest.raises(ProviderError) as caught:
            provider.find_owned("+14155175410")
        assert not caught.value.outcome_unknown and not caught.value.permanent

    def test_a_500_on_a_page_read_is_transient(self, provider, account):
        sandbox_fault_add(account_sid=account.sid, method="GET", kind="http_500", times=2)
        for _ in range(2):
            with pytest.raises(ProviderError) as caught:
                provider.list_owned()
            assert (caught.value.status, caught.value.code, caught.value.permanent) == (500, 20500, False)
        assert provider.list_owned().numbers == []

    def test_a_500_on_search_is_transient(self, provider, account):
        sandbox_fault_add(account_sid=account.sid, resource="AvailablePhoneNumbers", method="GET")
        with pytest.raises(ProviderError) as caught:
            provider.search_available(SearchCriteria())
        assert caught.value.status == 500 and not caught.value.permanent

    def test_bad_credentials_on_a_page_read_are_permanent(self, account):
        provider = sandbox_provider(account, auth_token="f" * 32)
        with pytest.raises(ProviderError) as caught:
            provider.list_owned()
        assert (caught.value.code, caught.value.status, caught.value.permanent) == (20003, 401, True)
        assert caught.value.as_domain_error().status_code == 422


def http_provider() -> TwilioProvider:
    return TwilioProvider(account_sid=ACCOUNT_SID, auth_token="t" * 32)


def answer(status: int, text: str) -> Response:
    return Response(status, text, {"Content-Type": "application/json"})


class TestHttpAnswersTheSandboxCannotGive:
    """Patched at the SDK's HTTP boundary; everything above it runs for real."""

    @pytest.mark.parametrize(("status", "code", "permanent"), [
        (429, 20429, False), (503, 20503, False), (502, 20500, False), (404, 20404, True),
        (400, 21999, True), (403, 20403, True),
    ])
    def test_status_and_code_decide_retrying(self, status, code, permanent):
        with mock.patch.object(ProviderHttpClient, "request", autospec=True,
                               return_value=answer(status, twilio_body(status, code, "nope"))):
            with pytest.raises(ProviderError) as caught:
                http_provider().configure_webhooks("PN" + "0" * 32, WEBHOOKS)
        assert (caught.value.permanent, caught.value.status, caught.value.code) == (permanent, status, code)

    def test_a_5xx_without_a_twilio_body_is_transient(self):
        with mock.patch.object(ProviderHttpClient, "request", autospec=True,
                               return_value=answer(503, "<html>Service Unavailable</html>")):
            with pytest.raises(ProviderError) as caught:
                http_provider().validate_credentials()
        assert not caught.value.permanent and caught.value.status == 503

    def test_a_read_timeout_on_purchase_is_outcome_unknown(self):
        with mock.patch.object(requests.Session, "send", autospec=True,
                               side_effect=requests.ReadTimeout("Read timed out")):
            with pytest.raises(ProviderError) as caught:
                http_provider().purchase("+14155175410", WEBHOOKS)
        assert caught.value.outcome_unknown and not caught.value.unavailable and not caught.value.permanent

    def test_a_connection_dropped_mid_post_is_outcome_unknown(self):
        dropped = requests.ConnectionError(ProtocolError("Connection aborted.", RemoteDisconnected("closed")))
        with mock.patch.object(requests.Session, "send", autospec=True, side_effect=dropped):
            with pytest.raises(ProviderError) as caught:
                http_provider().send_sms(to="+14155550123", from_="+15005550006", body="hi")
        assert caught.value.outcome_unknown and not caught.value.unavailable

    def test_a_dns_failure_is_unavailable(self):
        from urllib3.exceptions import MaxRetryError, NameResolutionError

        failure = requests.ConnectionError(MaxRetryError(
            None, "/", NameResolutionError("api.twilio.com", None, socket.gaierror("Name or service not known"))))
        with mock.patch.object(requests.Session, "send", autospec=True, side_effect=failure):
            with pytest.raises(ProviderError) as caught:
                http_provider().purchase("+14155175410", WEBHOOKS)
        assert caught.value.unavailable and not caught.value.outcome_unknown
        assert caught.value.as_domain_error().status_code == 503


def test_connection_refused_is_unavailable(settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    provider = TwilioProvider(account_sid=ACCOUNT_SID, auth_token="t" * 32, base_url=f"http://127.0.0.1:{port}")
    with pytest.raises(ProviderError) as caught:
        provider.purchase("+14155175410", WEBHOOKS)
    error = caught.value
    assert (error.unavailable, error.permanent, error.outcome_unknown, error.code) == (
        True, False, False, "connection_failed")
    assert error.as_domain_error().status_code == 503


def test_the_timeout_setting_reaches_the_http_client(settings):
    settings.PROVIDER_TIMEOUT = 2.5
    assert http_provider().client.http_client.timeout == 2.5


@pytest.mark.parametrize(("url", "expected"), [
    ("https://api.twilio.com/2010-04-01/Accounts.json?Page=1",
     "http://127.0.0.1:9000/sandbox/2010-04-01/Accounts.json?Page=1"),
    ("https://messaging.twilio.com/v1/Services", "http://127.0.0.1:9000/sandbox/v1/Services"),
    ("https://example.com/elsewhere", "https://example.com/elsewhere"),
])
def test_base_url_rewrites_twilio_hosts_only(url, expected):
    assert ProviderHttpClient("http://127.0.0.1:9000/sandbox/").rewrite(url) == expected


def test_a_base_url_must_be_http():
    with pytest.raises(ValueError):
        ProviderHttpClient("ftp://example.com")
