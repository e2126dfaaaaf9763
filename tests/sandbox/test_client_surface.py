"""What a Twilio client meets beyond the core path: Twilio's error shapes everywhere under /sandbox/,
parameters applied or refused (never ignored), and the credentials a client signs in with."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from sandbox.models import SandboxMessage
from tests.sandbox.helpers import ROOT, basic
from tests.sandbox.test_emulator_api import buy, search


def test_an_unknown_path_is_twilios_404_json(account):
    for path in (f"{ROOT}/{account.sid}/Nope.json", "/sandbox/2010-04-01/Whatever", "/sandbox/v2/Anything"):
        response = Client().get(path, **basic(account.sid, account.auth_token))
        assert response.status_code == 404 and response["Content-Type"] == "application/json", path
        body = response.json()
        assert set(body) == {"code", "message", "more_info", "status"}
        assert (body["code"], body["status"]) == (20404, 404)
    unauthenticated = Client().get(f"{ROOT}/{account.sid}/Nope.json")
    assert unauthenticated.status_code == 401 and unauthenticated.json()["code"] == 20003


def test_a_204_has_no_content_type(api):
    number = buy(api, PhoneNumber="+15005550006")
    response = api.delete(f"/IncomingPhoneNumbers/{number['sid']}.json")
    assert response.status_code == 204 and not response.content and not response.has_header("Content-Type")


def test_toll_free_is_a_kind_not_a_number_sid(api):
    offer = search(api, kind="TollFree", Contains="8**")[0]["phone_number"]
    response = api.post("/IncomingPhoneNumbers/TollFree.json", {"PhoneNumber": offer})
    assert response.status_code == 201 and response.json()["type"] == "toll-free"
    other = search(api, kind="TollFree")[1]["phone_number"]
    local = api.post("/IncomingPhoneNumbers/Local.json", {"PhoneNumber": other})
    assert local.status_code == 400
    listed = api.get("/IncomingPhoneNumbers/TollFree.json").json()["incoming_phone_numbers"]
    assert [n["phone_number"] for n in listed] == [offer]
    assert api.get("/IncomingPhoneNumbers/Local.json").json()["incoming_phone_numbers"] == []


class TestSearchFilters:
    def test_locality_is_applied_with_the_area_code(self, api):
        assert search(api, AreaCode="415", InLocality="Boston") == []
        assert {o["locality"] for o in search(api, AreaCode="415", InLocality="san francisco")} == {"San Francisco"}
        assert {o["locality"] for o in search(api, InLocality="Boston")} == {"Boston"}

    def test_postal_code_rate_center_region(self, api):
        assert {o["postal_code"] for o in search(api, InPostalCode="02108")} == {"02108"}
        assert {o["rate_center"] for o in search(api, InRateCenter="SEATTLE")} == {"SEATTLE"}
        assert search(api, InRegion="TX", InLocality="Boston") == []

    def test_fax_beta_and_address_requirements(self, api):
        assert search(api, AreaCode="415", FaxEnabled="true") == []
        assert len(search(api, AreaCode="415", FaxEnabled="false", Beta="false", PageSize="5")) == 5
        assert search(api, country="GB", ExcludeAllAddressRequired="true") == []
        assert search(api, country="GB", ExcludeLocalAddressRequired="true", PageSize="3")
        assert search(api, country="US", ExcludeAllAddressRequired="true", PageSize="3")

    @pytest.mark.parametrize("params", [{"NearLatLong": "37.77,-122.41"}, {"NearNumber": "+14155550100"},
                                        {"Distance": "10"}, {"InLata": "722"}, {"Typo": "x"}])
    def test_what_the_inventory_cannot_answer_is_refused(self, api, params):
        response = api.get("/AvailablePhoneNumbers/US/Local.json", params)
        assert response.status_code == 400
        body = response.json()
        assert (body["code"], body["status"]) == (20001, 400) and next(iter(params)) in body["message"]


class TestParametersAppliedOrRefused:
    def test_every_number_field_is_stored(self, api):
        number = buy(api, PhoneNumber="+15005550006")
        path = f"/IncomingPhoneNumbers/{number['sid']}.json"
        fields = {"VoiceCallerIdLookup": "true", "VoiceReceiveMode": "fax", "AddressSid": "AD" + "1" * 32,
                  "EmergencyAddressSid": "AD" + "2" * 32, "EmergencyStatus": "Active", "BundleSid": "BU" + "3" * 32,
                  "IdentitySid": "RI" + "4" * 32, "TrunkSid": "TK" + "5" * 32}
        assert api.post(path, fields).status_code == 200
        stored = api.get(path).json()
        assert (stored["voice_caller_id_lookup"], stored["voice_receive_mode"], stored["address_sid"],
                stored["emergency_address_sid"], stored["emergency_status"], stored["bundle_sid"],
                stored["identity_sid"], stored["trunk_sid"]) == (
            True, "fax", "AD" + "1" * 32, "AD" + "2" * 32, "Active", "BU" + "3" * 32, "RI" + "4" * 32, "TK" + "5" * 32)

    @pytest.mark.parametrize(("params", "code"), [
        ({"VoiceReceiveMode": "video"}, 20001), ({"BundleSid": "XX1"}, 20001),
        ({"VoiceCallerIdLookup": "maybe"}, 20001),
        ({"AccountSid": "AC" + "9" * 32}, 20001), ({"ApiVersion": "2008-08-01"}, 20001),
        ({"EmergencyStatus": "Active"}, 21649), ({"SmsUrlTypo": "https://x.example"}, 20001)])
    def test_update_refusals(self, api, params, code):
        number = buy(api, PhoneNumber="+15005550006")
        response = api.post(f"/IncomingPhoneNumbers/{number['sid']}.json", params)
        assert response.status_code == 400 and response.json()["code"] == code

    def test_messages_not_emulated_are_refused(self, api):
        response = api.post("/Messages.json", {"From": "+15005550006", "To": "+14155550123", "Body": "x",
                                               "SendAt": "2030-01-01T00:00:00Z"})
        assert response.status_code == 400 and "SendAt" in response.json()["message"]
        response = api.post("/Calls.json", {"From": "+15005550006", "To": "+14155550123", "Url": "https://a.example",
                                            "MachineDetection": "Enable"})
        assert response.status_code == 400 and "MachineDetection" in response.json()["message"]

    def test_date_sent_filters(self, api, account):
        sent = SandboxMessage.objects.create(sid="SM" + "1" * 32, account=account, to="+14155550123",
                                             from_number="+15005550006", body="a", status="delivered")
        SandboxMessage.objects.create(sid="SM" + "2" * 32, account=account, to="+14155550123",
                                      from_number="+15005550006", body="b", status="queued")
        today = datetime.now(UTC).date()
        yesterday, tomorrow = today - timedelta(days=1), today + timedelta(days=1)

        def sids(**params):
            response = api.get("/Messages.json", params)
            assert response.status_code == 200, response.content
            return [m["sid"] for m in response.json()["messages"]]
        assert sids(DateSent=str(today)) == [sent.sid]
        assert sids(DateSent=str(yesterday)) == []
        assert sids(**{"DateSent>": str(today)}) == [sent.sid]
        assert sids(**{"DateSent>": str(tomorrow)}) == []
        assert sids(**{"DateSent<": str(yesterday)}) == []
        assert sids(**{"DateSent<": str(today)}) == [sent.sid]
        assert api.get("/Messages.json", {"DateSent": "yesterday"}).status_code == 400

    def test_calls_need_one_of_url_twiml_application(self, api):
        base = {"From": "+15005550006", "To": "+14155550123"}
        assert api.post("/Calls.json", base).json()["code"] == 21205
        assert api.post("/Calls.json", base | {"Twiml": "<Say>no response</Say>"}).json()["code"] == 12100
        assert api.post("/Calls.json", base | {"Twiml": "<Response><Say>ok</Say></Response>"}).status_code == 201
        assert api.post("/Calls.json", base | {"ApplicationSid": "AP" + "1" * 32}).status_code == 201

    def test_a_call_over_cannot_be_redirected(self, api):
        call = api.post("/Calls.json", {"From": "+15005550006", "To": "+14155550123", "Url": "https://a.example"}).json()
        path = f"/Calls/{call['sid']}.json"
        assert api.post(path, {"Status": "completed"}).json()["status"] == "completed"
        assert api.post(path, {"Url": "https://b.example"}).json()["code"] == 21220


def test_the_magic_number_can_be_bought_again_and_again(api):
    first, second = buy(api, PhoneNumber="+15005550006"), buy(api, PhoneNumber="+15005550006")
    assert first["sid"] != second["sid"]


class TestCredentialsForClients:
    def test_the_command_prints_an_account_made_once(self, db):
        out1, out2 = StringIO(), StringIO()
        call_command("sandbox_account", stdout=out1)
        call_command("sandbox_account", stdout=out2)
        assert out1.getvalue() == out2.getvalue()
        values = dict(line.split("=", 1) for line in out1.getvalue().split())
        response = Client().get(f"{ROOT}/{values['TWILIO_ACCOUNT_SID']}.json",
                                **basic(values["TWILIO_ACCOUNT_SID"], values["TWILIO_AUTH_TOKEN"]))
        assert response.status_code == 200 and values["TWILIO_BASE_URL"].endswith("/sandbox")

    def test_the_command_prints_an_orgs_sandbox_account(self, db):
        from django.core.management.base import CommandError

        from orgs.models import ProviderConnection

        call_command("create_org", "acme", owner="ann", sandbox=True, stdout=StringIO())
        out = StringIO()
        call_command("sandbox_account", org="acme", stdout=out)
        connection = ProviderConnection.objects.get(org__slug="acme")
        assert f"TWILIO_ACCOUNT_SID={connection.account_id}" in out.getvalue()
        assert f"TWILIO_AUTH_TOKEN={connection.credentials['authToken']}" in out.getvalue()
        with pytest.raises(CommandError):
            call_command("sandbox_account", org="nobody", stdout=StringIO())

    def test_staff_see_the_token_on_the_account_page(self, admin_client, account):
        response = admin_client.get(f"/admin/sandbox/sandboxaccount/{account.pk}/change/")
        assert response.status_code == 200 and account.auth_token in response.content.decode()
