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

import json
import os
import shutil
import subprocess
import tempfile
from urllib.parse import quote

import pytest
from openapi_schema_validator import OAS30ReadValidator, oas30_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from providers.twilio.client import TwilioProvider
from sandbox.models import SandboxNumber
from sandbox.trunking import sandbox_trunk_create
from tests.providers.test_twilio_contract import (
    ACCOUNT_SID,
    KIT,
    NUMBER_SID,
    CapturingSandboxClient,
    RecordingHttpClient,
    _free_port,
    _kit_missing,
    declared_properties,
    response_schema,
)

pytestmark = pytest.mark.contract

SPEC_FILE = KIT / "twilio_trunking_v1.json"
SPEC_URI = "urn:twilio:trunking:v1"
TRUNK_SID = "TK" + "0123456789abcdef" * 2


@pytest.fixture(scope="session")
def trunking_spec() -> dict:
    if not SPEC_FILE.exists():
        _kit_missing(f"Twilio Trunking spec not found at {SPEC_FILE} (clone the repo with shared/ beside it)")
    return json.loads(SPEC_FILE.read_text())


@pytest.fixture(scope="session")
def trunking_prism(trunking_spec) -> str:
    """Prism serving the Trunking spec on a free port, with a state directory of our own."""
    state = tempfile.mkdtemp(prefix="telephony-prism-trunking-")
    failures = []
    for _ in range(2):
        env = {**os.environ, "PORT": str(_free_port()), "STATE_DIR": state, "SPEC": str(SPEC_FILE)}
        started = subprocess.run(["bash", str(KIT / "start_prism.sh")], env=env, capture_output=True, text=True,
                                 timeout=900)
        if started.returncode == 0:
            break
        failures.append(f"{started.stdout[-1500:]} {started.stderr[-1500:]}")
    else:
        shutil.rmtree(state, ignore_errors=True)
        _kit_missing(f"Prism did not start: {' / '.join(failures)}")
    yield f"http://127.0.0.1:{env['PORT']}"
    subprocess.run(["bash", str(KIT / "stop_prism.sh")], env=env, capture_output=True, timeout=60)
    shutil.rmtree(state, ignore_errors=True)


@pytest.fixture
def against_prism(trunking_prism, settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]  # the operator allows the mock; the guard stays on
    http = RecordingHttpClient(trunking_prism)
    yield TwilioProvider(account_sid=ACCOUNT_SID, auth_token="f" * 32, http_client=http), http
    http.session.close()


def assert_accepted(http: RecordingHttpClient) -> list[dict]:
    assert http.calls
    for call in http.calls:
        assert call["status"] != 422 and not call["violations"], call
        assert 200 <= call["status"] < 300, call
        assert "/v1/Trunks" in call["url"], call
    return http.calls


class TestTrunkRequestsAreValidTwilioRequests:
    def test_list_trunks_with_their_origination_urls(self, against_prism):
        provider, http = against_prism
        trunks = provider.list_trunks()
        calls = assert_accepted(http)
        assert [call["method"] for call in calls] == ["GET"] * (1 + len(trunks))
        assert calls[0]["url"].endswith("/v1/Trunks")
        assert all(call["url"].endswith("/OriginationUrls") for call in calls[1:])
        assert trunks and trunks[0].origination_urls  # the spec's example, read through the SDK

    def test_assign(self, against_prism):
        provider, http = against_prism
        provider.trunk_assign(TRUNK_SID, NUMBER_SID)
        [call] = assert_accepted(http)
        assert (call["method"], call["url"].rsplit("/v1", 1)[1]) == ("POST", f"/Trunks/{TRUNK_SID}/PhoneNumbers")
        assert call["data"] == {"PhoneNumberSid": NUMBER_SID}

    def test_unassign(self, against_prism):
        provider, http = against_prism
        provider.trunk_unassign(TRUNK_SID, NUMBER_SID)
        [call] = assert_accepted(http)
        assert (call["method"], call["url"].rsplit("/v1", 1)[1]) == (
            "DELETE", f"/Trunks/{TRUNK_SID}/PhoneNumbers/{NUMBER_SID}")


@pytest.fixture(scope="session")
def trunking_registry(trunking_spec) -> Registry:
    return Registry().with_resource(SPEC_URI, Resource.from_contents(trunking_spec, default_specification=DRAFT4))


def assert_matches_spec(spec, registry, body, path: str, method: str, status: int, list_key: str | None = None):
    pointer = "/".join(["", "paths", path.replace("~", "~0").replace("/", "~1"), method, "responses", str(status),
                        "content", "application~1json", "schema"])
    validator = OAS30ReadValidator({"$ref": f"{SPEC_URI}#{quote(pointer, safe='/~')}"}, registry=registry,
                                   format_checker=oas30_format_checker)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)]
    assert not errors, errors
    schema = response_schema(spec, path, method, status)
    assert declared_properties(spec, schema) <= set(body), declared_properties(spec, schema) - set(body)
    if list_key:
        item_schema = schema["properties"][list_key]["items"]
        assert body[list_key], f"no {list_key} to check"
        for item in body[list_key]:
            missing = declared_properties(spec, item_schema) - set(item)
            assert not missing, missing


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
