"""Twilio's Elastic SIP Trunking v1 contract (the official spec in ../shared/twilio).

1. What TwilioProvider sends for trunks (list with origination URLs, assign, unassign), through the
   real SDK over HTTP, is accepted by Prism serving twilio_trunking_v1.json: no 422, no request
   violation in `sl-violations`.
2. What the sandbox's Trunking emulator answers validates against the spec's response schemas and
   carries every field the spec declares.

Prism runs on a free port of its own, so this runs beside the 2010 contract test. Without the shared
kit these tests skip, saying so; with REQUIRE_CONTRACT=1 (CI) they fail instead.
"""
from __future__ import annotations

from functools import partial

import pytest

from providers.twilio.client import TwilioProvider
from sandbox.models import SandboxNumber
from sandbox.trunking import sandbox_trunk_create
from tests.providers.prism import (
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

pytestmark = pytest.mark.contract

SPEC_FILE = KIT / "twilio_trunking_v1.json"
SPEC_URI = "urn:twilio:trunking:v1"
TRUNK_SID = "TK" + "0123456789abcdef" * 2
assert_matches_spec = partial(_assert_matches_spec, uri=SPEC_URI)


@pytest.fixture(scope="session")
def trunking_spec() -> dict:
    return load_spec(SPEC_FILE)


@pytest.fixture(scope="session")
def trunking_prism(trunking_spec) -> str:
    with prism_serving(SPEC_FILE) as url:
        yield url


@pytest.fixture
def against_prism(trunking_prism, settings):
    with provider_against(trunking_prism, settings) as provider_and_http:
        yield provider_and_http


def assert_trunking_accepted(http) -> list[dict]:
    calls = assert_accepted(http, None)
    assert all("/v1/Trunks" in call["url"] for call in calls), calls
    return calls


class TestTrunkRequestsAreValidTwilioRequests:
    def test_list_trunks_with_their_origination_urls(self, against_prism):
        provider, http = against_prism
        trunks = provider.list_trunks()
        calls = assert_trunking_accepted(http)
        assert [call["method"] for call in calls] == ["GET"] * (1 + len(trunks))
        assert calls[0]["url"].endswith("/v1/Trunks")
        assert all(call["url"].endswith("/OriginationUrls") for call in calls[1:])
        assert trunks and trunks[0].origination_urls  # the spec's example, read through the SDK

    def test_assign(self, against_prism):
        provider, http = against_prism
        provider.trunk_assign(TRUNK_SID, NUMBER_SID)
        [call] = assert_trunking_accepted(http)
        assert (call["method"], call["url"].rsplit("/v1", 1)[1]) == ("POST", f"/Trunks/{TRUNK_SID}/PhoneNumbers")
        assert call["data"] == {"PhoneNumberSid": NUMBER_SID}

    def test_unassign(self, against_prism):
        provider, http = against_prism
        provider.trunk_unassign(TRUNK_SID, NUMBER_SID)
        [call] = assert_trunking_accepted(http)
        assert (call["method"], call["url"].rsplit("/v1", 1)[1]) == (
            "DELETE", f"/Trunks/{TRUNK_SID}/PhoneNumbers/{NUMBER_SID}")


@pytest.fixture(scope="session")
def trunking_registry(trunking_spec):
    return spec_registry(SPEC_URI, trunking_spec)


class TestTheEmulatorAnswersAsTheTrunkingSpecSays:
    TRUNKS = "/v1/Trunks"
    TRUNK = "/v1/Trunks/{Sid}"
    URLS = "/v1/Trunks/{TrunkSid}/OriginationUrls"
    NUMBERS = "/v1/Trunks/{TrunkSid}/PhoneNumbers"
    NUMBER = "/v1/Trunks/{TrunkSid}/PhoneNumbers/{Sid}"

    @pytest.fixture
    def emulated(self, account):
        http = CapturingSandboxClient()
        return TwilioProvider(account_sid=account.sid, auth_token=account.auth_token, http_client=http), http

    @pytest.fixture
    def number(self, account) -> SandboxNumber:
        return SandboxNumber.objects.create(sid="PN" + "e" * 32, account=account, phone_number="+14155550100",
                                            friendly_name="(415) 555-0100", iso_country="US", number_type="local",
                                            voice_url="https://example.com/voice")

    def bodies(self, http, method: str) -> list[tuple[int, dict | None]]:
        return [(status, body) for sent, status, body in http.bodies if sent == method]

    def test_trunks_and_origination_urls(self, trunking_spec, trunking_registry, emulated, account):
        trunk = sandbox_trunk_create(account=account, friendly_name="Main", sip_urls=["sip:pbx.example.com"])
        provider, http = emulated
        provider.list_trunks()
        (status, trunks), (_, urls) = self.bodies(http, "GET")
        assert status == 200
        assert_matches_spec(trunking_spec, trunking_registry, trunks, self.TRUNKS, "get", 200, list_key="trunks")
        assert_matches_spec(trunking_spec, trunking_registry, urls, self.URLS, "get", 200, list_key="origination_urls")
        fetched = provider.client.trunking.v1.trunks(trunk.sid).fetch()
        assert fetched.domain_name == trunk.domain_name
        assert_matches_spec(trunking_spec, trunking_registry, http.bodies[-1][2], self.TRUNK, "get", 200)

    def test_a_trunks_phone_numbers(self, trunking_spec, trunking_registry, emulated, account, number):
        trunk = sandbox_trunk_create(account=account, friendly_name="Main")
        provider, http = emulated
        provider.trunk_assign(trunk.sid, number.sid)
        [(status, created)] = self.bodies(http, "POST")
        assert status == 201
        assert_matches_spec(trunking_spec, trunking_registry, created, self.NUMBERS, "post", 201)
        listed = provider.client.trunking.v1.trunks(trunk.sid).phone_numbers.list()
        assert [n.sid for n in listed] == [number.sid]
        assert_matches_spec(trunking_spec, trunking_registry, http.bodies[-1][2], self.NUMBERS, "get", 200,
                            list_key="phone_numbers")
        provider.client.trunking.v1.trunks(trunk.sid).phone_numbers(number.sid).fetch()
        assert_matches_spec(trunking_spec, trunking_registry, http.bodies[-1][2], self.NUMBER, "get", 200)
        provider.trunk_unassign(trunk.sid, number.sid)
        assert http.bodies[-1][:2] == ("DELETE", 204)
        number.refresh_from_db()
        assert number.trunk_sid == ""
