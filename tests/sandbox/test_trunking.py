"""The emulator's Elastic SIP Trunking v1 over HTTP (/sandbox/v1/Trunks…), as any Twilio client sees it,
and the simulator sending a trunked number's calls to the trunk."""
from __future__ import annotations

import pytest
from django.test import Client

from sandbox.models import SandboxNumber
from sandbox.simulate import simulate_call
from sandbox.trunking import sandbox_trunk_create
from tests.sandbox.helpers import basic

ROOT = "/sandbox/v1/Trunks"


@pytest.fixture
def api(account):
    return Client(**basic(account.sid, account.auth_token))


@pytest.fixture
def trunk(account):
    return sandbox_trunk_create(account=account, friendly_name="PBX", domain_prefix="pbx",
                                sip_urls=["sip:pbx.example.com", "sip:backup.example.com"])


@pytest.fixture
def number(account):
    return SandboxNumber.objects.create(sid="PN" + "1" * 32, account=account, phone_number="+14155550101",
                                        friendly_name="(415) 555-0101", iso_country="US", number_type="local",
                                        voice_url="https://app.example.com/connect/webhook/twilio/voice")


def test_trunks_are_listed_and_fetched_with_their_origination_urls(api, trunk):
    body = api.get(ROOT).json()
    assert [t["sid"] for t in body["trunks"]] == [trunk.sid]
    assert body["meta"]["key"] == "trunks"
    assert api.get(f"{ROOT}/{trunk.sid}").json()["domain_name"] == "pbx.pstn.twilio.com"
    urls = api.get(f"{ROOT}/{trunk.sid}/OriginationUrls").json()["origination_urls"]
    assert [(u["sip_url"], u["priority"]) for u in urls] == [("sip:pbx.example.com", 10),
                                                            ("sip:backup.example.com", 20)]


def test_a_number_joins_and_leaves_a_trunk_and_incoming_numbers_show_it(api, account, trunk, number):
    created = api.post(f"{ROOT}/{trunk.sid}/PhoneNumbers", {"PhoneNumberSid": number.sid})
    assert created.status_code == 201
    assert created.json()["trunk_sid"] == trunk.sid
    incoming = api.get(f"/sandbox/2010-04-01/Accounts/{account.sid}/IncomingPhoneNumbers/{number.sid}.json").json()
    assert incoming["trunk_sid"] == trunk.sid
    listed = api.get(f"{ROOT}/{trunk.sid}/PhoneNumbers").json()["phone_numbers"]
    assert [n["sid"] for n in listed] == [number.sid]
    assert api.delete(f"{ROOT}/{trunk.sid}/PhoneNumbers/{number.sid}").status_code == 204
    assert api.get(f"{ROOT}/{trunk.sid}/PhoneNumbers").json()["phone_numbers"] == []
    assert api.delete(f"{ROOT}/{trunk.sid}/PhoneNumbers/{number.sid}").status_code == 404


def test_joining_another_trunk_leaves_the_first(api, account, trunk, number):
    second = sandbox_trunk_create(account=account, friendly_name="Second")
    api.post(f"{ROOT}/{trunk.sid}/PhoneNumbers", {"PhoneNumberSid": number.sid})
    api.post(f"{ROOT}/{second.sid}/PhoneNumbers", {"PhoneNumberSid": number.sid})
    assert api.get(f"{ROOT}/{trunk.sid}/PhoneNumbers").json()["phone_numbers"] == []
    number.refresh_from_db()
    assert number.trunk_sid == second.sid


def test_refusals(api, other_account, trunk, number):
    assert api.post(f"{ROOT}/{trunk.sid}/PhoneNumbers", {}).status_code == 400
    assert api.post(f"{ROOT}/{trunk.sid}/PhoneNumbers", {"PhoneNumberSid": "PN" + "9" * 32}).status_code == 404
    assert api.post(f"{ROOT}/{trunk.sid}/PhoneNumbers",
                    {"PhoneNumberSid": number.sid, "FriendlyName": "x"}).status_code == 400
    assert api.get(f"{ROOT}/TK{'0' * 32}").status_code == 404
    assert api.put(ROOT).status_code == 405
    assert Client().get(ROOT).status_code == 401
    # Another account's credentials see none of this account's trunks.
    theirs = Client(**basic(other_account.sid, other_account.auth_token))
    assert theirs.get(ROOT).json()["trunks"] == []
    assert theirs.get(f"{ROOT}/{trunk.sid}").status_code == 404
    assert theirs.post(f"{ROOT}/{trunk.sid}/PhoneNumbers", {"PhoneNumberSid": number.sid}).status_code == 404
    number.refresh_from_db()
    assert number.trunk_sid == ""


def test_a_call_to_a_trunked_number_goes_to_the_trunk(api, trunk, number):
    api.post(f"{ROOT}/{trunk.sid}/PhoneNumbers", {"PhoneNumberSid": number.sid})
    simulation = simulate_call(to=number.phone_number, from_="+15005550006", digits=[])
    assert simulation.ended == "sent to SIP trunk PBX (sip:pbx.example.com)"
    assert simulation.exchanges == []  # nothing was posted to the number's voice URL
