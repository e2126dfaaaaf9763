import re

import pytest

from orgs.models import ProviderConnection
from orgs.services import connection_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox(org):
    return connection_create(org=org, type_="sandbox-provider", name="Sandbox", credentials={})


def search(api, **params):
    return api.get("/phone/available", params)


def test_it_finds_sms_numbers_in_an_area_code_with_prices(member_api, sandbox):
    response = search(member_api, countryCode="US", areaCode="415", smsEnabled="true", limit=10)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert 0 < len(body["numbers"]) <= 10
    assert body["totalFound"] == len(body["numbers"])
    for number in body["numbers"]:
        assert number["phoneNumber"].startswith("+1415")
        assert number["capabilities"]["sms"] is True
        assert number["country"] == "US"
        assert number["region"] == "CA"
        assert number["locality"]
        assert number["pricing"] == {"setupFee": 0, "monthlyFee": 115, "currency": "USD"}
        assert number["addressRequirements"] == "none" and number["beta"] is False
        assert set(number) == {"phoneNumber", "friendlyName", "locality", "region", "postalCode", "country",
                               "type", "capabilities", "pricing", "addressRequirements", "beta"}


def test_the_same_search_gives_the_same_numbers(member_api, sandbox):
    first = search(member_api, areaCode="212").json()["numbers"]
    assert first == search(member_api, areaCode="212").json()["numbers"]


@pytest.mark.parametrize("params", [
    {"countryCode": "GB"},
    {"countryCode": "CA", "areaCode": "416"},
    {"type": "tollFree"},
    {"countryCode": "GB", "type": "mobile"},
])
def test_it_searches_other_countries_and_types(member_api, sandbox, params):
    response = search(member_api, **params)
    assert response.status_code == 200
    numbers = response.json()["numbers"]
    assert numbers
    assert {n["country"] for n in numbers} == {params.get("countryCode", "US")}
    assert {n["type"] for n in numbers} == {params.get("type", "local")}


def test_contains_and_capability_filters_narrow_the_result(member_api, sandbox):
    # "*00": a digit then 00, anywhere in the number (Twilio's pattern; * is any digit).
    numbers = search(member_api, areaCode="415", contains="*00", mmsEnabled="true", limit=20).json()["numbers"]
    assert numbers  # the filters narrow the sandbox's numbers, they do not empty them
    for number in numbers:
        assert re.search(r"\d00", number["phoneNumber"][2:]), number["phoneNumber"]
        assert number["capabilities"]["mms"] is True
    unfiltered = search(member_api, areaCode="415", limit=20).json()["numbers"]
    assert any(not re.search(r"\d00", n["phoneNumber"][2:]) for n in unfiltered)  # so the filter did narrow


def test_limit_caps_the_result(member_api, sandbox):
    assert len(search(member_api, areaCode="415", limit=3).json()["numbers"]) == 3


@pytest.mark.parametrize("params, field", [
    ({"type": "fax"}, "type"),
    ({"areaCode": "4a5"}, "areaCode"),
    ({"limit": "0"}, "limit"),
    ({"limit": "101"}, "limit"),
    ({"limit": "ten"}, "limit"),
    ({"countryCode": "XX"}, "countryCode"),
    ({"contains": "+1!"}, "contains"),
    ({"smsEnabled": "maybe"}, "smsEnabled"),
    ({"colour": "blue"}, "colour"),
])
def test_bad_filters_are_a_400_naming_the_field(member_api, sandbox, params, field):
    response = search(member_api, **params)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field


def test_without_a_connection_it_says_twilio_is_not_configured(member_api):
    response = search(member_api, areaCode="415")
    assert response.status_code == 400
    assert response.json() == {"error": {"code": "provider_not_configured", "message": "Twilio not configured"}}


def test_a_provider_that_is_down_is_a_503(member_api, org, settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]  # a host the operator allows (nothing listens on port 9)
    connection = ProviderConnection(org=org, type="twilio-provider", name="Down", account_id="AC" + "a" * 32,
                                    public_config={"apiBaseUrl": "http://127.0.0.1:9"})
    connection.credentials = {"accountSid": "AC" + "a" * 32, "authToken": "t" * 32}
    connection.save()
    response = search(member_api, areaCode="415")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "provider_unavailable"


def test_it_needs_a_token_and_membership(client, charlie, org, sandbox):
    from tests.conftest import api_client

    assert client.get("/phone/available", HTTP_ORGID=org.slug).status_code == 401
    assert search(api_client(charlie, org)).status_code == 403
