"""Twilio's Pricing v1 contract (the official spec in ../shared/twilio/twilio_pricing_v1.json).

1. What TwilioProvider sends to read number prices, through the real SDK over HTTP, is accepted by
   Prism serving the Pricing spec (its own instance, on a free port): no 422, no request violation.
2. What the sandbox answers on the same paths validates against the spec's response schemas.

Without the shared kit these tests skip, saying so; with REQUIRE_CONTRACT=1 (CI) they fail instead.
"""
from __future__ import annotations

from functools import partial

import pytest

from providers.base import NumberPrice
from providers.twilio.client import TwilioProvider
from tests.providers.prism import (
    KIT,
    CapturingSandboxClient,
    assert_accepted,
    load_spec,
    prism_serving,
    provider_against,
    spec_registry,
)
from tests.providers.prism import assert_matches_spec as _assert_matches_spec

pytestmark = pytest.mark.contract

SPEC_FILE = KIT / "twilio_pricing_v1.json"
SPEC_URI = "urn:twilio:pricing:v1"
COUNTRIES = "/v1/PhoneNumbers/Countries"
COUNTRY = "/v1/PhoneNumbers/Countries/{IsoCountry}"
# The sandbox's answers validate; the fields the spec declares are checked one by one below.
assert_matches_pricing_spec = partial(_assert_matches_spec, uri=SPEC_URI, declared=False)


@pytest.fixture(scope="session")
def pricing_spec() -> dict:
    return load_spec(SPEC_FILE)


@pytest.fixture(scope="session")
def pricing_prism(pricing_spec) -> str:
    with prism_serving(SPEC_FILE) as url:
        yield url


@pytest.fixture
def against_pricing_prism(pricing_prism, settings):
    with provider_against(pricing_prism, settings) as provider_and_http:
        yield provider_and_http


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
def pricing_registry(pricing_spec):
    return spec_registry(SPEC_URI, pricing_spec)


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
