"""The emulator's address requirements, as Twilio's: GB local numbers need an address anywhere, GB
mobiles one in the United Kingdom; buying one without it is refused with Twilio's code and nothing
is bought. Addresses are made, listed and fetched through the Addresses resource."""
from __future__ import annotations

import pytest

from sandbox.models import SandboxNumber
from tests.sandbox.test_emulator_api import search

UK = {"CustomerName": "Acme Ltd", "Street": "1 High St", "City": "London", "Region": "London",
      "PostalCode": "EC1A 1AA", "IsoCountry": "GB"}
US = {**UK, "City": "Austin", "Region": "TX", "PostalCode": "78701", "IsoCountry": "US"}


def address(api, fields: dict) -> str:
    response = api.post("/Addresses.json", fields)
    assert response.status_code == 201, response.content
    return response.json()["sid"]


def purchase(api, kind: str, **params):
    offer = search(api, kind=kind, country="GB")[0]
    return offer, api.post("/IncomingPhoneNumbers.json", {"PhoneNumber": offer["phone_number"], **params})


@pytest.mark.parametrize(("kind", "requirement"), [("Local", "any"), ("Mobile", "local"), ("TollFree", "none")])
def test_gb_offers_say_what_they_need(api, kind, requirement):
    assert {o["address_requirements"] for o in search(api, kind=kind, country="GB")} == {requirement}


@pytest.mark.parametrize("kind", ["Local", "Mobile"])
def test_without_an_address_nothing_is_bought(api, account, kind):
    offer, response = purchase(api, kind)
    assert response.status_code == 400
    assert response.json()["code"] == 21631
    assert not SandboxNumber.objects.filter(account=account).exists()


def test_a_mobile_needs_an_address_in_the_united_kingdom(api, account):
    offer, response = purchase(api, "Mobile", AddressSid=address(api, US))
    assert (response.status_code, response.json()["code"]) == (400, 21615)
    assert not SandboxNumber.objects.filter(account=account).exists()
    uk = address(api, UK)
    response = api.post("/IncomingPhoneNumbers.json", {"PhoneNumber": offer["phone_number"], "AddressSid": uk})
    assert response.status_code == 201, response.content
    assert (response.json()["address_sid"], response.json()["address_requirements"]) == (uk, "local")


def test_any_address_of_the_account_meets_any(api):
    _, response = purchase(api, "Local", AddressSid=address(api, US))
    assert response.status_code == 201, response.content


def test_another_accounts_address_is_not_this_accounts(api, other_account):
    from sandbox.regulatory import sandbox_address_create

    theirs = sandbox_address_create(account=other_account, params=UK).sid
    _, response = purchase(api, "Mobile", AddressSid=theirs)
    assert (response.status_code, response.json()["code"]) == (400, 21631)


def test_toll_free_needs_nothing(api):
    _, response = purchase(api, "TollFree")
    assert response.status_code == 201, response.content


def test_addresses_are_listed_filtered_and_fetched(api):
    uk, us = address(api, UK), address(api, US)
    listed = api.get("/Addresses.json").json()["addresses"]
    assert [a["sid"] for a in listed] == [uk, us]
    assert [a["sid"] for a in api.get("/Addresses.json", {"IsoCountry": "GB"}).json()["addresses"]] == [uk]
    fetched = api.get(f"/Addresses/{us}.json").json()
    assert (fetched["iso_country"], fetched["city"], fetched["customer_name"]) == ("US", "Austin", "Acme Ltd")
    assert api.get(f"/Addresses/AD{'0' * 32}.json").status_code == 404


@pytest.mark.parametrize("fields", [{**UK, "Street": ""}, {**UK, "IsoCountry": "Britain"},
                                    {**UK, "EmergencyEnabled": "maybe"}, {**UK, "Unknown": "x"}])
def test_a_bad_address_is_refused(api, account, fields):
    response = api.post("/Addresses.json", fields)
    assert response.status_code == 400
    assert not account.addresses.exists()
