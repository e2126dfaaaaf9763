"""TwilioProvider through the real twilio SDK, answered in-process by the sandbox emulator."""
from __future__ import annotations

import phonenumbers
import pytest

from providers.base import ProviderError, SearchCriteria, Webhooks
from providers.twilio.client import TwilioProvider
from sandbox.models import SandboxNumber
from sandbox.services import sandbox_account_create, sandbox_api_key_create
from tests.sandbox.helpers import WEBHOOKS, recording_provider, sandbox_provider

CREATE_FIELDS = {
    "VoiceUrl": WEBHOOKS.voice_url, "VoiceMethod": "POST", "VoiceFallbackUrl": WEBHOOKS.voice_fallback_url,
    "SmsUrl": WEBHOOKS.sms_url, "SmsMethod": "POST", "StatusCallback": WEBHOOKS.status_callback,
    "StatusCallbackMethod": "POST",
}


def first_available(provider, **criteria) -> str:
    return provider.search_available(SearchCriteria(**criteria))[0].e164


class TestValidateCredentials:
    def test_it_returns_the_account_for_the_auth_token(self, provider, account):
        info = provider.validate_credentials()
        assert (info.account_id, info.friendly_name, info.status) == (account.sid, "Alice sandbox", "active")

    def test_it_accepts_an_api_key_of_the_account(self, account):
        key = sandbox_api_key_create(account=account)
        provider = sandbox_provider(account, api_key_sid=key.sid, api_key_secret=key.secret)
        assert provider.validate_credentials().account_id == account.sid

    def test_it_rejects_a_wrong_auth_token_permanently(self, account):
        provider = sandbox_provider(account, auth_token="0" * 32)
        with pytest.raises(ProviderError) as caught:
            provider.validate_credentials()
        assert (caught.value.code, caught.value.status, caught.value.permanent) == (20003, 401, True)
        assert caught.value.provider == "twilio"

    def test_it_rejects_an_api_key_of_another_account(self, account, other_account):
        key = sandbox_api_key_create(account=other_account)
        provider = sandbox_provider(account, api_key_sid=key.sid, api_key_secret=key.secret)
        with pytest.raises(ProviderError) as caught:
            provider.validate_credentials()
        assert caught.value.code == 20003 and caught.value.permanent

    def test_it_refuses_to_build_without_a_secret(self, account):
        with pytest.raises(ProviderError) as caught:
            TwilioProvider(account_sid=account.sid)
        assert caught.value.permanent and caught.value.code == "missing_credentials"


class TestSearch:
    def test_area_code_gives_numbers_of_that_area_with_their_place(self, provider):
        found = provider.search_available(SearchCriteria(area_code="415", limit=5))
        assert len(found) == 5
        for number in found:
            assert number.e164.startswith("+1415")
            assert (number.locality, number.region, number.postal_code, number.country) == (
                "San Francisco", "CA", "94103", "US")
            assert phonenumbers.is_valid_number(phonenumbers.parse(number.e164))

    def test_region_keeps_to_that_state(self, provider):
        found = provider.search_available(SearchCriteria(region="TX", limit=30))
        assert found and {n.region for n in found} == {"TX"}
        assert {n.e164[2:5] for n in found} == {"512", "713", "214"}

    def test_contains_matches_digits_anywhere(self, provider):
        found = provider.search_available(SearchCriteria(contains="77", limit=10))
        assert found and all("77" in n.e164 for n in found)

    def test_contains_wildcards_and_anchors(self, provider):
        found = provider.search_available(SearchCriteria(contains="+1212*****", limit=10))
        assert found and all(n.e164.startswith("+1212") for n in found)
        ending = provider.search_available(SearchCriteria(contains="*0$", limit=10))
        assert ending and all(n.e164.endswith("0") for n in ending)

    def test_contains_letters_match_as_on_a_keypad(self, provider):
        found = provider.search_available(SearchCriteria(contains="JO", limit=5))  # J=5, O=6
        assert found and all("56" in n.e164 for n in found)

    @pytest.mark.parametrize("flag", ["sms_enabled", "mms_enabled", "voice_enabled"])
    def test_capability_filters(self, provider, flag):
        found = provider.search_available(SearchCriteria(area_code="212", limit=40, **{flag: True}))
        capability = flag.removesuffix("_enabled")
        assert found and all(getattr(n.capabilities, capability) for n in found)

    def test_capabilities_vary_between_numbers(self, provider):
        found = provider.search_available(SearchCriteria(area_code="212", limit=40))
        assert len({n.capabilities for n in found}) > 1
        without_mms = provider.search_available(SearchCriteria(area_code="212", mms_enabled=False, limit=40))
        assert without_mms and not any(n.capabilities.mms for n in without_mms)

    def test_limit_is_the_page_size(self, provider, account):
        provider, http = recording_provider(account)
        assert len(provider.search_available(SearchCriteria(limit=7))) == 7
        assert len(http.sent) == 1 and http.sent[0][2]["PageSize"] == 7

    @pytest.mark.parametrize("prefix", ["800", "833", "844", "855", "866", "877", "888"])
    def test_toll_free_by_prefix(self, provider, prefix):
        found = provider.search_available(SearchCriteria(number_type="tollFree", area_code=prefix, limit=3))
        assert len(found) == 3 and all(n.e164.startswith("+1" + prefix) for n in found)

    def test_gb_local_mobile_and_toll_free(self, provider):
        london = provider.search_available(SearchCriteria(country="GB", area_code="020", limit=3))
        assert london and all(n.e164.startswith("+4420") and n.locality == "London" for n in london)
        mobile = provider.search_available(SearchCriteria(country="GB", number_type="mobile", limit=5))
        assert mobile and all(n.e164.startswith("+447") for n in mobile)
        assert all(phonenumbers.number_type(phonenumbers.parse(n.e164)) == phonenumbers.PhoneNumberType.MOBILE
                   for n in mobile)
        free = provider.search_available(SearchCriteria(country="GB", number_type="tollFree", limit=5))
        assert free and all(n.e164[3:6] in ("800", "808") for n in free)

    def test_canada_local(self, provider):
        found = provider.search_available(SearchCriteria(country="CA", region="QC", limit=3))
        assert found and all(n.e164.startswith("+1514") and n.locality == "Montreal" for n in found)

    def test_us_mobile_is_empty_and_an_unsold_country_gives_nothing(self, provider):
        assert provider.search_available(SearchCriteria(number_type="mobile")) == []
        assert provider.search_available(SearchCriteria(country="FR")) == []


class TestPurchase:
    def test_it_sets_every_webhook_in_the_create_call(self, account):
        provider, http = recording_provider(account)
        e164 = first_available(provider, area_code="305")
        http.sent.clear()
        number = provider.purchase(e164, WEBHOOKS, friendly_name="Sales")
        assert len(http.sent) == 1
        method, url, _, data = http.sent[0]
        assert (method, url) == ("POST", f"https://api.twilio.com/2010-04-01/Accounts/{account.sid}"
                                         "/IncomingPhoneNumbers.json")
        assert data == {"PhoneNumber": e164, "FriendlyName": "Sales", **CREATE_FIELDS}
        assert number.sid.startswith("PN") and number.e164 == e164 and number.friendly_name == "Sales"
        assert (number.voice_url, number.voice_fallback_url, number.sms_url, number.status_callback) == (
            WEBHOOKS.voice_url, WEBHOOKS.voice_fallback_url, WEBHOOKS.sms_url, WEBHOOKS.status_callback)

    def test_the_number_leaves_the_inventory(self, provider, other_account):
        e164 = first_available(provider, area_code="312")
        provider.purchase(e164, WEBHOOKS)
        other = sandbox_provider(other_account)
        assert e164 not in [n.e164 for n in other.search_available(SearchCriteria(area_code="312", limit=40))]
        with pytest.raises(ProviderError) as caught:
            other.purchase(e164, WEBHOOKS)
        assert (caught.value.code, caught.value.permanent, caught.value.status) == (21422, True, 400)

    def test_a_number_never_on_sale_is_unavailable(self, provider):
        with pytest.raises(ProviderError) as caught:
            provider.purchase("+14155550100", WEBHOOKS)
        assert caught.value.code == 21422 and caught.value.permanent


class TestOwned:
    def test_find_owned_returns_exactly_that_number(self, provider, other_account):
        first, second = [n.e164 for n in provider.search_available(SearchCriteria(area_code="617", limit=2))]
        bought = provider.purchase(first, WEBHOOKS)
        provider.purchase(second, WEBHOOKS)
        assert provider.find_owned(first) == bought
        assert sandbox_provider(other_account).find_owned(first) is None

    def test_find_owned_of_a_number_not_owned_is_none(self, provider):
        assert provider.find_owned("+14155175410") is None

    def test_list_owned_pages_with_one_request_per_page(self, account):
        provider, http = recording_provider(account)
        wanted = {n.e164 for n in provider.search_available(SearchCriteria(area_code="702", limit=5))}
        for e164 in wanted:
            provider.purchase(e164, WEBHOOKS)
        http.sent.clear()
        pages, token = [], None
        while True:
            page = provider.list_owned(token, page_size=2)
            pages.append([n.e164 for n in page.numbers])
            token = page.next_page
            if token is None:
                break
        assert [len(p) for p in pages] == [2, 2, 1]
        assert {e for p in pages for e in p} == wanted
        assert len(http.sent) == 3

    def test_list_owned_refuses_a_foreign_page_token(self, provider):
        with pytest.raises(ValueError):
            provider.list_owned("https://evil.example.com/2010-04-01/Accounts/AC1/IncomingPhoneNumbers.json")
        with pytest.raises(ValueError):
            provider.list_owned(page_size=1001)


class TestConfigureAndRelease:
    def test_configure_webhooks_replaces_the_urls_in_one_update(self, account):
        provider, http = recording_provider(account)
        number = provider.purchase(first_available(provider, area_code="404"), WEBHOOKS)
        new = Webhooks(voice_url="https://new.example.com/voice", voice_method="GET",
                       voice_fallback_url="https://new.example.com/fallback", sms_url="https://new.example.com/sms",
                       status_callback="https://new.example.com/status")
        http.sent.clear()
        updated = provider.configure_webhooks(number.sid, new, friendly_name="Support")
        assert [(m, u.rsplit("/", 1)[-1]) for m, u, _, _ in http.sent] == [("POST", f"{number.sid}.json")]
        assert (updated.voice_url, updated.voice_method, updated.voice_fallback_url, updated.sms_url,
                updated.status_callback, updated.friendly_name) == (
            new.voice_url, "GET", new.voice_fallback_url, new.sms_url, new.status_callback, "Support")
        assert provider.find_owned(number.e164) == updated

    def test_configure_webhooks_leaves_a_url_it_is_not_given(self, provider):
        number = provider.purchase(first_available(provider, area_code="404"), WEBHOOKS)
        updated = provider.configure_webhooks(number.sid, Webhooks(voice_url="https://new.example.com/voice"))
        assert updated.voice_url == "https://new.example.com/voice"
        assert updated.voice_fallback_url == WEBHOOKS.voice_fallback_url

    def test_an_application_or_trunk_on_the_number_is_reported_for_drift_checks(self, provider):
        number = provider.purchase(first_available(provider, area_code="404"), WEBHOOKS)
        provider.client.api.v2010.account.incoming_phone_numbers(number.sid).update(
            voice_application_sid="AP" + "a" * 32, sms_application_sid="AP" + "c" * 32, trunk_sid="TK" + "b" * 32)
        drifted = provider.configure_webhooks(number.sid, WEBHOOKS)
        assert (drifted.voice_application_sid, drifted.sms_application_sid, drifted.trunk_sid) == (
            "AP" + "a" * 32, "AP" + "c" * 32, "TK" + "b" * 32)
        assert provider.find_owned(number.e164) == drifted

    def test_release_gives_the_number_back_and_twice_is_fine(self, provider):
        number = provider.purchase(first_available(provider, area_code="206"), WEBHOOKS)
        provider.release(number.sid)
        assert provider.find_owned(number.e164) is None
        assert not SandboxNumber.objects.filter(sid=number.sid).exists()
        provider.release(number.sid)

    def test_configure_a_gone_number_is_a_permanent_not_found(self, provider):
        with pytest.raises(ProviderError) as caught:
            provider.configure_webhooks("PN" + "0" * 32, WEBHOOKS)
        assert (caught.value.code, caught.value.status, caught.value.permanent) == (20404, 404, True)


class TestMessagesAndCalls:
    def test_send_sms_from_an_owned_number(self, provider):
        number = provider.purchase(first_available(provider, area_code="415", sms_enabled=True), WEBHOOKS)
        sent = provider.send_sms(to="+14155550123", from_=number.e164, body="x" * 161,
                                 status_callback="https://app.example.com/status")
        assert sent.sid.startswith("SM") and sent.status == "queued"
        assert (sent.to, sent.from_, sent.segments) == ("+14155550123", number.e164, 2)

    def test_send_sms_through_a_messaging_service_with_media(self, provider):
        sent = provider.send_sms(to="+14155550123", body="photo", messaging_service_sid="MG" + "1" * 32,
                                 media_urls=["https://example.com/a.jpg"])
        assert sent.sid.startswith("MM") and sent.status == "accepted" and sent.from_ == ""

    def test_send_sms_from_a_number_not_owned_is_refused(self, provider):
        with pytest.raises(ProviderError) as caught:
            provider.send_sms(to="+14155550123", from_="+14155175410", body="hi")
        assert caught.value.code == 21606 and caught.value.permanent

    def test_send_sms_needs_a_sender(self, provider):
        with pytest.raises(ValueError):
            provider.send_sms(to="+14155550123", body="hi")

    def test_make_call(self, provider):
        number = provider.purchase(first_available(provider, area_code="415"), WEBHOOKS)
        call = provider.make_call(to="+14155550123", from_=number.e164, url="https://app.example.com/voice",
                                  status_callback="https://app.example.com/status")
        assert call.sid.startswith("CA") and (call.status, call.to, call.from_) == (
            "queued", "+14155550123", number.e164)

    def test_make_call_from_a_number_not_owned_is_refused(self, provider):
        with pytest.raises(ProviderError) as caught:
            provider.make_call(to="+14155550123", from_="+14155175410", url="https://app.example.com/voice")
        assert caught.value.code == 21210 and caught.value.permanent


class TestMagicNumbers:
    @pytest.mark.parametrize(("e164", "code"), [("+15005550000", 21422), ("+15005550001", 21421)])
    def test_buying_a_magic_failure(self, provider, e164, code):
        with pytest.raises(ProviderError) as caught:
            provider.purchase(e164, WEBHOOKS)
        assert caught.value.code == code and caught.value.permanent

    def test_buying_the_magic_success_number(self, provider, other_account):
        number = provider.purchase("+15005550006", WEBHOOKS)
        assert number.e164 == "+15005550006" and number.voice_url == WEBHOOKS.voice_url
        assert sandbox_provider(other_account).purchase("+15005550006", WEBHOOKS).sid != number.sid

    @pytest.mark.parametrize(("area_code", "outcome"), [("533", 21452), ("500", "+15005550006")])
    def test_buying_by_magic_area_code(self, provider, area_code, outcome):
        create = provider.client.api.v2010.account.incoming_phone_numbers.create
        if isinstance(outcome, int):
            with pytest.raises(Exception) as caught:
                create(area_code=area_code)
            assert caught.value.code == outcome and caught.value.status == 400
        else:
            assert create(area_code=area_code).phone_number == outcome

    @pytest.mark.parametrize(("from_", "to", "code"), [
        ("+15005550001", "+14155550123", 21212), ("+15005550007", "+14155550123", 21606),
        ("+15005550008", "+14155550123", 21611), ("+15005550006", "+15005550001", 21211),
        ("+15005550006", "+15005550002", 21612), ("+15005550006", "+15005550003", 21408),
        ("+15005550006", "+15005550004", 21610), ("+15005550006", "+15005550009", 21614),
        ("+15005550001", "+15005550004", 21212),  # From is checked before To
    ])
    def test_sms_magic_numbers(self, provider, from_, to, code):
        with pytest.raises(ProviderError) as caught:
            provider.send_sms(to=to, from_=from_, body="hi")
        assert caught.value.code == code
        assert caught.value.permanent is (code != 21611)  # a full queue drains: worth retrying later

    def test_sms_from_the_magic_number_goes(self, provider):
        assert provider.send_sms(to="+14155550123", from_="+15005550006", body="hi").status == "queued"

    @pytest.mark.parametrize(("from_", "to", "code"), [
        ("+15005550001", "+14155550123", 21212), ("+15005550006", "+15005550001", 21217),
        ("+15005550006", "+15005550002", 21214), ("+15005550006", "+15005550003", 21215),
        ("+15005550006", "+15005550004", 21216),
    ])
    def test_call_magic_numbers(self, provider, from_, to, code):
        with pytest.raises(ProviderError) as caught:
            provider.make_call(to=to, from_=from_, url="https://app.example.com/voice")
        assert caught.value.code == code and caught.value.permanent

    def test_call_from_the_magic_number_goes(self, provider):
        call = provider.make_call(to="+14155550123", from_="+15005550006", url="https://app.example.com/voice")
        assert call.status == "queued"


def test_a_provider_from_the_registry_uses_the_sandbox(account):
    from providers.registry import build_provider

    provider = build_provider("sandbox-provider", {"accountSid": account.sid, "authToken": account.auth_token})
    assert provider.validate_credentials().account_id == account.sid
    assert provider.search_available(SearchCriteria(area_code="415", limit=1))


def test_sandbox_account_create_gives_twilio_shaped_credentials(db):
    account = sandbox_account_create(friendly_name="x")
    assert account.sid.startswith("AC") and len(account.sid) == 34 and len(account.auth_token) == 32


class TestLiveCall:
    """update_call: the AI gateway's transfer and hang-up, on a call the emulator has in progress."""

    @pytest.fixture
    def live_call(self, account):
        from sandbox.models import SandboxCall

        return SandboxCall.objects.create(sid="CA" + "7" * 32, account=account, to="+14155550123",
                                          from_number="+14155550111", url="", direction="inbound",
                                          status="in-progress")

    def test_new_twiml_inline(self, provider, live_call):
        twiml = '<?xml version="1.0" encoding="UTF-8"?><Response><Dial><Number>+14155550100</Number></Dial></Response>'
        provider.update_call(live_call.sid, twiml=twiml)
        live_call.refresh_from_db()
        assert (live_call.twiml, live_call.url) == (twiml, "")

    def test_new_twiml_from_a_url(self, provider, live_call):
        provider.update_call(live_call.sid, url="https://app.example.com/connect/webhook/twilio/voice?after=ai")
        live_call.refresh_from_db()
        assert (live_call.url, live_call.method, live_call.twiml) == (
            "https://app.example.com/connect/webhook/twilio/voice?after=ai", "POST", "")

    def test_hang_up(self, provider, live_call):
        provider.update_call(live_call.sid, hangup=True)
        live_call.refresh_from_db()
        assert live_call.status == "completed"
