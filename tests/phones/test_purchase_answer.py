"""What a purchase and a release tell you: the search's details kept, the billing cycle, the hold's
ledger entry; several numbers in one purchase (all or none); the release's final billing in days."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache

from billing.models import LedgerEntry
from billing.services import balance_get
from phones.models import Job, PhoneNumber
from providers.base import SearchCriteria
from providers.registry import provider_for
from sandbox.models import SandboxNumber
from tests.phones.conftest import buy
from tests.phones.test_release import bought, clock, release  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


def search(api, limit: int = 3) -> list[dict]:
    response = api.get("/phone/available", {"countryCode": "US", "areaCode": "415", "limit": limit})
    assert response.status_code == 200, response.json()
    return response.json()["numbers"]


def buy_many(api, on_commit, numbers: list[str], **extra):
    return on_commit(lambda: api.post("/phone/numbers", {"numbers": numbers, **extra}, format="json"))


def test_the_purchase_answer_keeps_what_the_search_showed_and_its_billing(owner_api, on_commit, sandbox, funded):
    offer = search(owner_api)[0]
    assert offer["locality"] and offer["region"]
    response = buy(owner_api, on_commit, offer["phoneNumber"])
    assert response.status_code == 202, response.json()
    body = response.json()
    number = PhoneNumber.objects.get(public_id=body["number"]["id"])
    assert (body["number"]["friendlyName"], body["number"]["locality"], body["number"]["region"]) == (
        offer["friendlyName"], offer["locality"], offer["region"])
    assert (number.friendly_name, number.locality, number.region) == (
        offer["friendlyName"], offer["locality"], offer["region"])
    hold = LedgerEntry.objects.get(phone_number=number, kind="purchase_hold")
    assert body["billingCycle"] == "monthly"
    assert body["nextBillingDate"] == number.next_billing_date.isoformat()
    assert body["transaction"] == {"id": hold.public_id, "amount": 115, "currency": "USD",
                                   "description": f"Phone number setup + first month: {number.e164}"}
    assert hold.amount == -115 and balance_get(org=number.org).balance == 10_000 - 115


def test_a_name_given_wins_and_details_are_asked_of_the_provider_when_not_searched(owner_api, on_commit, sandbox,
                                                                                   funded):
    [offer] = provider_for(sandbox).search_available(SearchCriteria(area_code="415", limit=1))
    cache.clear()  # no search remembered: the purchase asks the provider
    body = buy(owner_api, on_commit, offer.e164, friendlyName="Sales Line").json()
    assert (body["number"]["friendlyName"], body["number"]["locality"], body["number"]["region"]) == (
        "Sales Line", offer.locality, offer.region)


def test_several_numbers_in_one_purchase(owner_api, on_commit, sandbox, funded):
    offers = [o["phoneNumber"] for o in search(owner_api, limit=3)]
    response = buy_many(owner_api, on_commit, offers, purpose="sales")
    assert response.status_code == 202, response.json()
    body = response.json()
    assert [item["number"]["phoneNumber"] for item in body["numbers"]] == offers
    assert (body["totalAmount"], body["currency"]) == (3 * 115, "USD")
    jobs = {item["job"]["id"] for item in body["numbers"]}
    assert len(jobs) == 3 and Job.objects.filter(kind="purchase", public_id__in=jobs, status="succeeded").count() == 3
    for item in body["numbers"]:
        assert item["number"]["status"] == "pending" and item["number"]["locality"]  # the jobs run after commit
        assert item["transaction"]["amount"] == 115 and item["billingCycle"] == "monthly"
    assert set(PhoneNumber.objects.values_list("status", flat=True)) == {"active"}
    holds = LedgerEntry.objects.filter(kind="purchase_hold")
    assert sorted(h.public_id for h in holds) == sorted(item["transaction"]["id"] for item in body["numbers"])
    assert balance_get(org=funded).balance == 10_000 - 3 * 115
    assert SandboxNumber.objects.filter(phone_number__in=offers).count() == 3


def test_several_numbers_the_balance_cannot_all_cover_buy_none(owner_api, on_commit, sandbox, org):
    from billing.services import ledger_topup

    ledger_topup(org=org, amount=2 * 115, reason="enough for two")
    offers = [o["phoneNumber"] for o in search(owner_api, limit=3)]
    response = buy_many(owner_api, on_commit, offers)
    assert response.status_code == 402, response.json()
    assert response.json()["error"]["needed"] == 3 * 115
    assert not PhoneNumber.objects.exists() and not Job.objects.exists()
    assert list(LedgerEntry.objects.values_list("kind", flat=True)) == ["topup"]
    assert balance_get(org=org).balance == 2 * 115
    assert not SandboxNumber.objects.filter(phone_number__in=offers).exists()


def test_one_unavailable_number_buys_none(owner_api, on_commit, sandbox, funded):
    offers = [o["phoneNumber"] for o in search(owner_api, limit=2)]
    assert buy(owner_api, on_commit, offers[1]).status_code == 202
    response = buy_many(owner_api, on_commit, offers)
    assert response.status_code == 409, response.json()
    assert PhoneNumber.objects.count() == 1 and LedgerEntry.objects.filter(kind="purchase_hold").count() == 1


@pytest.mark.parametrize("body", [{}, {"phoneNumber": "+14155550100", "numbers": ["+14155550101"]},
                                  {"numbers": []}, {"numbers": ["+14155550100", "+14155550100"]}])
def test_phone_number_or_numbers_exactly_once(owner_api, sandbox, funded, body):
    response = owner_api.post("/phone/numbers", body, format="json")
    assert response.status_code == 400, response.json()
    assert not PhoneNumber.objects.exists() and not LedgerEntry.objects.filter(kind="purchase_hold").exists()


def test_the_release_tells_its_final_billing_in_days(owner_api, on_commit, bought, clock):  # noqa: F811
    clock.now += timedelta(days=10)  # released on 20 January: 21 Jan – 9 Feb unused
    queued = release(owner_api, on_commit, bought).json()["job"]
    job = owner_api.get(f"/jobs/{queued['id']}").json()
    assert job["status"] == "succeeded"
    assert job["result"]["finalBilling"] == {
        "proratedRefund": 74, "currency": "USD",
        "description": "Prorated refund for 20 days remaining in billing cycle"}
    assert LedgerEntry.objects.get(kind="refund").amount == 74


def test_a_release_on_the_last_day_refunds_nothing_and_says_so(owner_api, on_commit, bought, clock):  # noqa: F811
    clock.now += timedelta(days=30)
    queued = release(owner_api, on_commit, bought).json()["job"]
    job = owner_api.get(f"/jobs/{queued['id']}").json()
    assert job["result"]["finalBilling"] == {"proratedRefund": 0, "currency": "USD",
                                             "description": "No refund: 0 days remaining in billing cycle"}
    assert not LedgerEntry.objects.filter(kind="refund").exists()
