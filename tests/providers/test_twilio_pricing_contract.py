"""Twilio's Pricing v1 contract (the official spec in ../shared/twilio/twilio_pricing_v1.json).

1. What TwilioProvider sends to read number prices, through the real SDK over HTTP, is accepted by
   Prism serving the Pricing spec (its own instance, on a free port): no 422, no request violation.
2. What the sandbox answers on the same paths validates against the spec's response schemas.

Without the shared kit these tests skip, saying so; with REQUIRE_CONTRACT=1 (CI) they fail instead.
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

from providers.base import NumberPrice
from providers.twilio.client import TwilioProvider
from tests.providers.test_twilio_contract import (
    ACCOUNT_SID,
    KIT,
    CapturingSandboxClient,
    RecordingHttpClient,
    _free_port,
    _kit_missing,
    assert_accepted,
)

pytestmark = pytest.mark.contract

SPEC_FILE = KIT / "twilio_pricing_v1.json"
SPEC_URI = "urn:twilio:pricing:v1"
COUNTRIES = "/v1/PhoneNumbers/Countries"
COUNTRY = "/v1/PhoneNumbers/Countries/{IsoCountry}"


@pytest.fixture(scope="session")
def pricing_spec() -> dict:
    if not SPEC_FILE.exists():
        _kit_missing(f"Twilio Pricing spec not found at {SPEC_FILE} (clone the repo with shared/ beside it)")
    return json.loads(SPEC_FILE.read_text())


@pytest.fixture(scope="session")
def pricing_prism(pricing_spec) -> str:
    """A Prism of its own serving the Pricing spec on a free port; stopped at the end."""
    state = tempfile.mkdtemp(prefix="telephony-prism-pricing-")
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
        _kit_missing(f"Prism (Pricing spec) did not start: {' / '.join(failures)}")
    yield f"http://127.0.0.1:{env['PORT']}"
    subprocess.run(["bash", str(KIT / "stop_prism.sh")], env=env, capture_output=True, timeout=60)
    shutil.rmtree(state, ignore_errors=True)


@pytest.fixture
def against_pricing_prism(pricing_prism, settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    http = RecordingHttpClient(pricing_prism)
    yield TwilioProvider(account_sid=ACCOUNT_SID, auth_token="f" * 32, http_client=http), http
    http.session.close()


class TestPricingRequestsAreValid:
    def test_number_prices_of_a_country(self, against_pricing_prism):
        provider, http = against_pricing_prism
        found = provider.number_prices("DE")
        [call] = assert_accepted(http)
        assert call["method"] == "GET" and call["url"] == "https://pricing.twilio.com/v1/PhoneNumbers/Countries/DE"
        # Prism answers the spec's static example (United States: local 1.00, toll free 2.00, in USD).
        assert (found.country, found.currency) == ("US", "USD")
        assert found.prices == (NumberPrice("local", "1.00", "1.00"), NumberPrice("tollFree", "2.00", "2.00"))

    def test_every_priced_country(self, against_pricing_prism):
        provider, http = against_pricing_prism
        countries = provider.number_price_countries()
        call = assert_accepted(http, len(http.calls))[0]
        assert call["url"] == "https://pricing.twilio.com/v1/PhoneNumbers/Countries"
        assert call["params"]["PageSize"] == 1000
        assert all(len(c) == 2 for c in countries)


@pytest.fixture(scope="session")
def pricing_registry(pricing_spec) -> Registry:
    return Registry().with_resource(SPEC_URI, Resource.from_contents(pricing_spec, default_specification=DRAFT4))


def assert_matches_pricing_spec(spec, registry, body, path: str) -> None:
    pointer = "/".join(["", "paths", path.replace("~", "~0").replace("/", "~1"), "get", "responses", "200",
                        "content", "application~1json", "schema"])
    validator = OAS30ReadValidator({"$ref": f"{SPEC_URI}#{quote(pointer, safe='/~')}"}, registry=registry,
                                   format_checker=oas30_format_checker)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)]
    assert not errors, errors


class TestEmulatorAnswersAsThePricingSpecSays:
    @pytest.fixture
    def emulated(self, account):
        http = CapturingSandboxClient()
        return TwilioProvider(account_sid=account.sid, auth_token=account.auth_token, http_client=http), http

    @pytest.mark.parametrize("country", ["US", "GB", "DE", "FR"])
    def test_a_country(self, pricing_spec, pricing_registry, emulated, country):
        provider, http = emulated
        found = provider.number_prices(country)
        method, status, body = http.bodies[-1]
        assert (method, status) == ("GET", 200)
        assert_matches_pricing_spec(pricing_spec, pricing_registry, body, COUNTRY)
        declared = pricing_spec["components"]["schemas"]["pricing.v1.phone_number.phone_number_country-instance"]
        assert set(declared["properties"]) <= set(body)
        assert found.country == country and found.prices

    def test_the_country_list_in_pages(self, pricing_spec, pricing_registry, emulated):
        provider, http = emulated
        listed = provider.client.pricing.v1.phone_numbers.countries.page(page_size=5)
        body = http.bodies[-1][2]
        assert_matches_pricing_spec(pricing_spec, pricing_registry, body, COUNTRIES)
        assert len(body["countries"]) == 5 and body["meta"]["next_page_url"]
        following = listed.next_page()
        assert following is not None and http.bodies[-1][1] == 200
        assert len(provider.number_price_countries()) > 10

    def test_a_country_not_priced_is_twilios_404(self, emulated):
        provider, http = emulated
        assert provider.number_prices("ZZ") is None
        method, status, body = http.bodies[-1]
        assert status == 404 and body["code"] == 20404
