"""Regulatory requirements, surfaced: what address a number needs shows in the search, and a
purchase that lacks it is refused before any money moves; one that has it reaches the provider
with its address and bundle (asserted on the sandbox's state)."""
import pytest

from billing.models import LedgerEntry
from billing.services import balance_get
from core.errors import InvalidInput
from phones.models import Job, PhoneNumber
from phones.numbers.services import regulatory_check
from providers.base import Regulatory, SearchCriteria
from providers.registry import provider_for
from sandbox.models import SandboxAccount, SandboxNumber
from sandbox.regulatory import sandbox_address_create
from tests.phones.conftest import buy
from tests.providers.fake.client import FakeProvider

pytestmark = pytest.mark.django_db

BUNDLE = "BU" + "ab" * 16


def search(api, **params):
    return api.get("/phone/available", params)


def offer(connection, country: str, number_type: str) -> str:
    found = provider_for(connection).search_available(SearchCriteria(country=country, number_type=number_type,
                                                                     limit=1))
    return found[0].e164


def address(connection, country: str) -> str:
    account = SandboxAccount.objects.get(sid=connection.account_id)
    return sandbox_address_create(account=account, params={
        "CustomerName": "Acme Ltd", "Street": "1 High St", "City": "London" if country == "GB" else "Austin",
        "Region": "London" if country == "GB" else "TX", "PostalCode": "EC1A 1AA", "IsoCountry": country}).sid


def nothing_happened(connection) -> None:
    assert not PhoneNumber.objects.exists()
    assert not Job.objects.exists()
    assert not SandboxNumber.objects.filter(account__sid=connection.account_id).exists()
    assert list(LedgerEntry.objects.values_list("kind", flat=True)) == ["topup"]
    assert balance_get(org=connection.org).balance == 10_000


@pytest.mark.parametrize(("country", "number_type", "requirement"), [
    ("GB", "local", "any"), ("GB", "mobile", "local"), ("GB", "tollFree", "none"), ("US", "local", "none"),
])
def test_search_results_say_what_address_each_number_needs(member_api, sandbox, country, number_type, requirement):
    response = search(member_api, countryCode=country, type=number_type, limit=5)
    assert response.status_code == 200, response.json()
    numbers = response.json()["numbers"]
    assert numbers
    assert {(n["addressRequirements"], n["beta"]) for n in numbers} == {(requirement, False)}


def test_exclude_address_required_leaves_out_the_numbers_that_need_one(member_api, sandbox):
    assert search(member_api, countryCode="GB", excludeAddressRequired="true").json()["numbers"] == []
    assert search(member_api, countryCode="GB", type="mobile", excludeAddressRequired="true").json()["numbers"] == []
    toll_free = search(member_api, countryCode="GB", type="tollFree", excludeAddressRequired="true").json()
    assert toll_free["numbers"] and {n["addressRequirements"] for n in toll_free["numbers"]} == {"none"}
    us = search(member_api, areaCode="415", limit=5).json()["numbers"]
    assert search(member_api, areaCode="415", limit=5, excludeAddressRequired="true").json()["numbers"] == us


@pytest.mark.parametrize("searched_first", [True, False])
def test_a_purchase_without_the_address_a_number_needs_is_refused_before_any_charge(
        owner_api, on_commit, sandbox, funded, searched_first):
    e164 = offer(sandbox, "GB", "mobile")
    if searched_first:  # what the search showed is remembered; without it the provider is asked again
        assert e164 in {n["phoneNumber"] for n in search(owner_api, countryCode="GB", type="mobile").json()["numbers"]}
    response = buy(owner_api, on_commit, e164)
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "address_required"
    assert error["field"] == "addressSid"
    assert error["addressRequirements"] == "local"
    assert "an address in GB" in error["message"]
    nothing_happened(sandbox)


def test_an_address_outside_the_country_does_not_meet_a_local_requirement(owner_api, on_commit, sandbox, funded):
    response = buy(owner_api, on_commit, offer(sandbox, "GB", "mobile"), addressSid=address(sandbox, "US"))
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["code"] == "address_not_local"
    nothing_happened(sandbox)


def test_an_address_the_provider_account_does_not_have_is_refused(owner_api, on_commit, sandbox, funded):
    response = buy(owner_api, on_commit, offer(sandbox, "GB", "local"), addressSid="AD" + "0" * 32)
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["code"] == "address_not_found"
    nothing_happened(sandbox)


@pytest.mark.parametrize(("field", "value"), [("addressSid", "AD123"), ("addressSid", "BU" + "0" * 32),
                                              ("bundleSid", "AD" + "0" * 32), ("bundleSid", 7)])
def test_malformed_sids_are_a_400(owner_api, on_commit, sandbox, funded, field, value):
    response = buy(owner_api, on_commit, offer(sandbox, "GB", "local"), **{field: value})
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["field"] == field
    nothing_happened(sandbox)


def test_with_the_address_it_is_bought_and_the_provider_gets_the_address_and_bundle(
        owner_api, on_commit, sandbox, funded):
    e164, uk = offer(sandbox, "GB", "mobile"), address(sandbox, "GB")
    response = buy(owner_api, on_commit, e164, addressSid=uk, bundleSid=BUNDLE)
    assert response.status_code == 202, response.json()
    assert owner_api.get(f"/jobs/{response.json()['job']['id']}").json()["status"] == "succeeded"
    bought = SandboxNumber.objects.get(account__sid=sandbox.account_id)
    assert (bought.phone_number, bought.address_sid, bought.bundle_sid) == (e164, uk, BUNDLE)
    assert PhoneNumber.objects.get().status == "active"
    assert balance_get(org=sandbox.org).balance == 10_000 - 115


def test_an_address_anywhere_meets_any(owner_api, on_commit, sandbox, funded):
    response = buy(owner_api, on_commit, offer(sandbox, "GB", "local"), addressSid=address(sandbox, "US"))
    assert response.status_code == 202, response.json()
    assert SandboxNumber.objects.get(account__sid=sandbox.account_id).address_sid


def test_a_number_that_needs_nothing_is_bought_with_the_address_given(owner_api, on_commit, sandbox, funded):
    us = address(sandbox, "US")
    response = buy(owner_api, on_commit, offer(sandbox, "US", "local"), addressSid=us)
    assert response.status_code == 202, response.json()
    assert SandboxNumber.objects.get(account__sid=sandbox.account_id).address_sid == us


def test_several_numbers_one_needing_an_address_none_is_held(owner_api, on_commit, sandbox, funded):
    numbers = [offer(sandbox, "US", "local"), offer(sandbox, "GB", "mobile")]
    response = on_commit(lambda: owner_api.post("/phone/numbers", {"numbers": numbers}, format="json"))
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["phoneNumber"] == numbers[1]
    nothing_happened(sandbox)


def test_the_provider_refusing_for_want_of_an_address_reverses_the_hold(owner_api, on_commit, sandbox, funded,
                                                                        monkeypatch):
    """Where the search could not say what a number needs, the provider decides: its refusal fails the
    job and gives the hold back."""
    monkeypatch.setattr("phones.numbers.services.offer_details", lambda **kwargs: {})
    response = buy(owner_api, on_commit, offer(sandbox, "GB", "mobile"))
    assert response.status_code == 202, response.json()
    job = owner_api.get(f"/jobs/{response.json()['job']['id']}").json()
    assert job["status"] == "failed" and job["error"]["code"] == 21631
    assert PhoneNumber.objects.get().status == "failed"
    assert not SandboxNumber.objects.filter(account__sid=sandbox.account_id).exists()
    assert balance_get(org=sandbox.org).balance == 10_000


def test_a_provider_that_takes_no_documents_is_never_given_them():
    provider = FakeProvider(account="acct", secret="right")
    with pytest.raises(InvalidInput) as refused:
        regulatory_check(provider=provider, numbers=[("+14155550101", "US", {})],
                         regulatory=Regulatory(bundle_sid=BUNDLE))
    assert (refused.value.code, refused.value.field) == ("regulatory_unsupported", "bundleSid")
    regulatory_check(provider=provider, numbers=[("+14155550101", "US", {})], regulatory=Regulatory())
