"""The emulator as any Twilio client sees it: HTTP under /sandbox/, Twilio's wire format."""
from __future__ import annotations

from email.utils import parsedate_to_datetime

import phonenumbers
import pytest
from django.test import Client

from sandbox.models import SandboxFault, SandboxNumber
from sandbox.services import sandbox_api_key_create, sandbox_fault_add
from tests.sandbox.helpers import ROOT, basic


def search(api, kind="Local", country="US", **params):
    response = api.get(f"/AvailablePhoneNumbers/{country}/{kind}.json", params)
    assert response.status_code == 200, response.content
    return response.json()["available_phone_numbers"]


def buy(api, **params):
    response = api.post("/IncomingPhoneNumbers.json", params)
    assert response.status_code == 201, response.content
    return response.json()


class TestAuth:
    def assert_twilio_401(self, response):
        assert response.status_code == 401
        assert response.json() == {"code": 20003, "message": "Authenticate", "status": 401,
                                   "more_info": "https://www.twilio.com/docs/errors/20003",
                                   "detail": "Your AccountSid or AuthToken was incorrect."}
        assert response["WWW-Authenticate"].startswith("Basic")

    def test_no_credentials(self, account):
        self.assert_twilio_401(Client().get(f"{ROOT}/{account.sid}.json"))

    def test_wrong_token(self, api, account):
        self.assert_twilio_401(api.get(".json", auth=basic(account.sid, "x" * 32)))

    def test_another_accounts_credentials(self, api, other_account):
        self.assert_twilio_401(api.get(".json", auth=basic(other_account.sid, other_account.auth_token)))

    def test_another_accounts_api_key(self, api, other_account):
        key = sandbox_api_key_create(account=other_account)
        self.assert_twilio_401(api.get("/IncomingPhoneNumbers.json", auth=basic(key.sid, key.secret)))

    def test_malformed_header(self, account):
        self.assert_twilio_401(Client().get(f"{ROOT}/{account.sid}.json", HTTP_AUTHORIZATION="Basic %%%"))

    def test_api_key_of_the_account(self, api, account):
        key = sandbox_api_key_create(account=account)
        response = api.get(".json", auth=basic(key.sid, key.secret))
        assert response.status_code == 200 and response.json()["sid"] == account.sid

    def test_no_csrf_token_or_login_is_needed_to_post(self, account):
        client = Client(enforce_csrf_checks=True)
        response = client.post(f"{ROOT}/{account.sid}/IncomingPhoneNumbers.json", {"PhoneNumber": "+15005550006"},
                               **basic(account.sid, account.auth_token))
        assert response.status_code == 201


class TestWireFormat:
    def test_account(self, api, account):
        body = api.get(".json").json()
        assert body["sid"] == account.sid and body["status"] == "active"
        assert body["uri"] == f"/2010-04-01/Accounts/{account.sid}.json"
        assert parsedate_to_datetime(body["date_created"]).utcoffset().total_seconds() == 0
        assert body["date_created"].endswith(" +0000")

    def test_incoming_number(self, api, account):
        number = buy(api, PhoneNumber=search(api, AreaCode="212")[0]["phone_number"], VoiceUrl="https://a.example/v",
                     FriendlyName="Main")
        assert number["sid"].startswith("PN") and len(number["sid"]) == 34
        assert number["uri"] == f"/2010-04-01/Accounts/{account.sid}/IncomingPhoneNumbers/{number['sid']}.json"
        assert (number["friendly_name"], number["voice_url"], number["voice_method"], number["sms_url"]) == (
            "Main", "https://a.example/v", "POST", None)
        assert number["capabilities"].keys() == {"voice", "sms", "mms", "fax"}
        assert number["type"] == "local" and number["status"] == "in-use"

    def test_list_envelope_and_paging_by_token(self, api, account):
        offers = search(api, AreaCode="713", PageSize="3")
        for offer in offers:
            buy(api, PhoneNumber=offer["phone_number"])
        first = api.get("/IncomingPhoneNumbers.json", {"PageSize": "2"}).json()
        base = f"/2010-04-01/Accounts/{account.sid}/IncomingPhoneNumbers.json"
        assert (first["page"], first["page_size"], first["start"], first["end"]) == (0, 2, 0, 1)
        assert first["first_page_uri"] == f"{base}?PageSize=2&Page=0" == first["uri"]
        assert first["previous_page_uri"] is None
        assert first["next_page_uri"].startswith(f"{base}?PageSize=2&Page=1&PageToken=PA")
        second = Client().get("/sandbox" + first["next_page_uri"], **basic(account.sid, account.auth_token)).json()
        assert (second["page"], second["start"], second["end"], second["next_page_uri"]) == (1, 2, 2, None)
        assert second["previous_page_uri"] == f"{base}?PageSize=2&Page=0"
        phones = [n["phone_number"] for n in first["incoming_phone_numbers"] + second["incoming_phone_numbers"]]
        assert sorted(phones) == sorted(o["phone_number"] for o in offers)

    def test_page_size_is_capped_at_1000(self, api):
        assert api.get("/IncomingPhoneNumbers.json", {"PageSize": "5000"}).json()["page_size"] == 1000

    def test_bad_page_size_is_a_twilio_400(self, api):
        response = api.get("/IncomingPhoneNumbers.json", {"PageSize": "many"})
        assert response.status_code == 400 and response.json()["code"] == 20001

    def test_phone_number_and_friendly_name_filters(self, api):
        a, b = (o["phone_number"] for o in search(api, AreaCode="720", PageSize="2"))
        buy(api, PhoneNumber=a, FriendlyName="Front desk")
        buy(api, PhoneNumber=b)
        listed = lambda **q: [n["phone_number"] for n in api.get("/IncomingPhoneNumbers.json", q).json()[
            "incoming_phone_numbers"]]
        assert listed(PhoneNumber=a) == [a]
        assert sorted(listed(PhoneNumber="+1720*******")) == sorted([a, b])
        assert listed(PhoneNumber=a[:-3] + "***") == [a]
        assert listed(FriendlyName="Front desk") == [a]

    def test_fetch_update_delete(self, api, account):
        number = buy(api, PhoneNumber=search(api, AreaCode="202")[0]["phone_number"])
        path = f"/IncomingPhoneNumbers/{number['sid']}.json"
        updated = api.post(path, {"VoiceApplicationSid": "AP" + "1" * 32, "SmsApplicationSid": "AP" + "2" * 32,
                                  "TrunkSid": "TK" + "3" * 32, "SmsUrl": "https://b.example/s"}).json()
        assert (updated["voice_application_sid"], updated["sms_application_sid"], updated["trunk_sid"]) == (
            "AP" + "1" * 32, "AP" + "2" * 32, "TK" + "3" * 32)
        assert api.get(path).json() == updated | {"date_updated": api.get(path).json()["date_updated"]}
        cleared = api.post(path, {"TrunkSid": ""}).json()
        assert cleared["trunk_sid"] is None and cleared["sms_url"] == "https://b.example/s"
        assert api.delete(path).status_code == 204
        gone = api.get(path)
        assert gone.status_code == 404 and gone.json()["code"] == 20404

    def test_update_rejects_a_bad_url_or_method(self, api):
        number = buy(api, PhoneNumber="+15005550006")
        path = f"/IncomingPhoneNumbers/{number['sid']}.json"
        assert api.post(path, {"VoiceUrl": "not a url"}).status_code == 400
        assert api.post(path, {"VoiceMethod": "PUT"}).status_code == 400
        assert api.get(path).json()["voice_url"] is None

    def test_another_accounts_number_is_not_found(self, api, other_account):
        from tests.sandbox.helpers import WEBHOOKS, sandbox_provider

        theirs = sandbox_provider(other_account).purchase("+15005550006", WEBHOOKS)
        assert api.get(f"/IncomingPhoneNumbers/{theirs.sid}.json").status_code == 404

    def test_method_not_allowed(self, api):
        response = api.delete("/IncomingPhoneNumbers.json")
        assert response.status_code == 405 and response.json()["code"] == 20004


class TestPurchaseRules:
    def test_by_area_code_buys_the_first_on_sale_there(self, api):
        expected = search(api, AreaCode="503")[0]["phone_number"]
        assert buy(api, AreaCode="503")["phone_number"] == expected
        following = search(api, AreaCode="503")[0]["phone_number"]
        assert buy(api, AreaCode="503")["phone_number"] == following != expected

    def test_canadian_area_code(self, api):
        assert buy(api, AreaCode="604")["phone_number"].startswith("+1604")

    @pytest.mark.parametrize(("params", "code"), [
        ({"PhoneNumber": "+1415"}, 21421),
        ({"PhoneNumber": "4155175410"}, 21421),
        ({"PhoneNumber": "+14155550100"}, 21422),  # valid, never on sale here
        ({"AreaCode": "999"}, 21452),
        ({"AreaCode": "41"}, 21451),
        ({}, 21421),
        ({"PhoneNumber": "+15005550000"}, 21422),
        ({"PhoneNumber": "+15005550001"}, 21421),
        ({"AreaCode": "533"}, 21452),
    ])
    def test_refusals(self, api, params, code):
        response = api.post("/IncomingPhoneNumbers.json", params)
        assert response.status_code == 400
        body = response.json()
        assert (body["code"], body["status"], body["more_info"]) == (
            code, 400, f"https://www.twilio.com/docs/errors/{code}")
        assert not SandboxNumber.objects.exists()

    def test_area_code_500_buys_the_magic_number(self, api):
        assert buy(api, AreaCode="500")["phone_number"] == "+15005550006"

    def test_buying_a_number_twice(self, api):
        e164 = search(api, AreaCode="615")[0]["phone_number"]
        buy(api, PhoneNumber=e164)
        assert api.post("/IncomingPhoneNumbers.json", {"PhoneNumber": e164}).json()["code"] == 21422


class TestInventory:
    def test_same_search_same_numbers(self, api):
        assert search(api, AreaCode="415", SmsEnabled="true") == search(api, AreaCode="415", SmsEnabled="true")

    def test_every_number_is_valid_and_of_its_type(self, api):
        types = {("US", "Local"): {phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE},
                 ("US", "TollFree"): {phonenumbers.PhoneNumberType.TOLL_FREE},
                 ("CA", "Local"): {phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE},
                 ("CA", "TollFree"): {phonenumbers.PhoneNumberType.TOLL_FREE},
                 ("GB", "Local"): {phonenumbers.PhoneNumberType.FIXED_LINE},
                 ("GB", "TollFree"): {phonenumbers.PhoneNumberType.TOLL_FREE},
                 ("GB", "Mobile"): {phonenumbers.PhoneNumberType.MOBILE}}
        for (country, kind), allowed in types.items():
            numbers = search(api, kind, country, PageSize="200")
            assert len(numbers) >= 50, (country, kind)
            for number in numbers:
                parsed = phonenumbers.parse(number["phone_number"])
                assert phonenumbers.is_valid_number(parsed) and phonenumbers.number_type(parsed) in allowed
                assert number["iso_country"] == country

    def test_owned_numbers_are_never_offered(self, api, other_account):
        from tests.sandbox.helpers import WEBHOOKS, sandbox_provider

        first = search(api, AreaCode="415")[0]["phone_number"]
        sandbox_provider(other_account).purchase(first, WEBHOOKS)
        assert first not in [n["phone_number"] for n in search(api, AreaCode="415", PageSize="1000")]
        assert first not in [n["phone_number"] for n in search(api, PageSize="1000")]

    def test_an_area_code_outside_the_table_is_located_by_the_geocoder(self, api):
        numbers = search(api, AreaCode="208")
        assert numbers and {n["region"] for n in numbers} == {"ID"}
        assert all(n["phone_number"].startswith("+1208") for n in numbers)

    def test_an_area_code_of_another_country_gives_nothing(self, api):
        assert search(api, AreaCode="416") == []
        assert search(api, "Local", "CA", AreaCode="416")[0]["region"] == "ON"

    def test_gb_places(self, api):
        manchester = search(api, "Local", "GB", AreaCode="0161", PageSize="3")
        assert [(n["locality"], n["region"], n["postal_code"]) for n in manchester] == [
            ("Manchester", "England", "M1")] * 3
        assert {n["region"] for n in search(api, "Local", "GB", InRegion="Scotland")} == {"Scotland"}

    def test_a_country_not_sold_is_twilios_404(self, api):
        response = api.get("/AvailablePhoneNumbers/FR/Local.json")
        assert response.status_code == 404 and response.json()["code"] == 20404

    def test_us_mobile_is_empty(self, api):
        assert search(api, "Mobile") == []

    @pytest.mark.parametrize("pattern", ["7", "12345678901234567", "41-5", "4?5"])
    def test_a_bad_contains_pattern_is_refused(self, api, pattern):
        response = api.get("/AvailablePhoneNumbers/US/Local.json", {"Contains": pattern})
        assert response.status_code == 400 and response.json()["code"] == 20001

    def test_contains_percent_matches_any_run(self, api):
        numbers = search(api, Contains="+1415%00")
        assert numbers and all(n["phone_number"].startswith("+1415") and "00" in n["phone_number"][5:]
                               for n in numbers)

    def test_a_bad_flag_is_refused(self, api):
        response = api.get("/AvailablePhoneNumbers/US/Local.json", {"SmsEnabled": "maybe"})
        assert response.status_code == 400


class TestMessagesAndCalls:
    def test_messages_list_newest_first_with_filters(self, api):
        for n in range(3):
            assert api.post("/Messages.json", {"From": "+15005550006", "To": f"+1415555012{n}",
                                               "Body": f"hello {n}"}).status_code == 201
        body = api.get("/Messages.json", {"PageSize": "2"}).json()
        assert [m["body"] for m in body["messages"]] == ["hello 2", "hello 1"]
        assert body["next_page_uri"]
        only = api.get("/Messages.json", {"To": "+14155550120"}).json()["messages"]
        assert [m["body"] for m in only] == ["hello 0"]

    @pytest.mark.parametrize(("params", "code"), [
        ({"From": "+15005550006", "Body": "x"}, 21604),
        ({"To": "+14155550123", "Body": "x"}, 21603),
        ({"From": "+15005550006", "To": "+14155550123"}, 21602),
        ({"From": "+15005550006", "To": "+1415", "Body": "x"}, 21211),
        ({"From": "+15005550006", "To": "+14155550123", "Body": "x" * 1601}, 21617),
    ])
    def test_message_refusals(self, api, params, code):
        response = api.post("/Messages.json", params)
        assert response.status_code == 400 and response.json()["code"] == code

    def test_unicode_body_segments(self, api):
        body = api.post("/Messages.json", {"From": "+15005550006", "To": "+14155550123",
                                           "Body": "héllo 👋" * 10}).json()
        assert body["num_segments"] == "2"

    @pytest.mark.parametrize(("params", "code"), [
        ({"From": "+15005550006", "Url": "https://a.example/v"}, 21201),
        ({"To": "+14155550123", "Url": "https://a.example/v"}, 21213),
        ({"From": "+15005550006", "To": "+14155550123"}, 21205),
    ])
    def test_call_refusals(self, api, params, code):
        response = api.post("/Calls.json", params)
        assert response.status_code == 400 and response.json()["code"] == code

    def test_a_call_from_an_owned_number_names_it(self, api):
        number = buy(api, AreaCode="415")
        call = api.post("/Calls.json", {"From": number["phone_number"], "To": "+14155550123",
                                        "Url": "https://a.example/v"}).json()
        assert call["phone_number_sid"] == number["sid"] and call["status"] == "queued"


class TestFaults:
    def test_it_fires_the_given_number_of_times_on_the_given_method(self, api, account):
        sandbox_fault_add(account_sid=account.sid, resource="Calls", kind="http_500", times=2)
        params = {"From": "+15005550006", "To": "+14155550123", "Url": "https://a.example/v"}
        assert api.get("/IncomingPhoneNumbers.json").status_code == 200
        assert [api.post("/Calls.json", params).status_code for _ in range(3)] == [500, 500, 201]
        assert not SandboxFault.objects.exists()

    def test_a_500_is_twilios_error_body(self, api, account):
        sandbox_fault_add(account_sid=account.sid, resource="Accounts", method="GET")
        response = api.get(".json")
        assert response.status_code == 500
        assert response.json() == {"code": 20500, "message": "Internal Server Error", "status": 500,
                                   "more_info": "https://www.twilio.com/docs/errors/20500"}

    def test_over_http_a_timeout_is_a_gateway_timeout(self, api, account):
        sandbox_fault_add(account_sid=account.sid, kind="timeout_after")
        response = api.post("/IncomingPhoneNumbers.json", {"AreaCode": "415"})
        assert response.status_code == 504
        assert SandboxNumber.objects.filter(account=account).count() == 1

    def test_an_unknown_kind_is_refused(self, account):
        with pytest.raises(ValueError):
            sandbox_fault_add(account_sid=account.sid, kind="explode")


def test_admin_shows_the_sandbox_read_only(client, django_user_model, account):
    client.force_login(django_user_model.objects.create_superuser("staff", "staff@example.com", "pw"))
    listing = client.get("/admin/sandbox/sandboxaccount/")
    assert listing.status_code == 200 and account.auth_token not in listing.content.decode()
    # The account's own page shows its token: what a Twilio client pointed at /sandbox/ signs in with.
    page = client.get(f"/admin/sandbox/sandboxaccount/{account.pk}/change/")
    assert page.status_code == 200 and account.auth_token in page.content.decode()
    assert client.get("/admin/sandbox/sandboxnumber/add/").status_code == 403
