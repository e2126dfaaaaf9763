"""GET /billing/balance, /billing/ledger, /billing/prices: roles, pagination, bad params, org scoping."""
from __future__ import annotations

from datetime import date

import pytest
from drf_spectacular.generators import SchemaGenerator

from billing import services
from billing.models import LedgerEntry, OrgBalance

pytestmark = pytest.mark.django_db


def fund(org, amount: int, key: str) -> LedgerEntry:
    return services.ledger_credit(org=org, amount=amount, key=key, kind="adjustment", description=f"credit {key}")


class TestBalance:
    def test_the_owner_sees_balance_currency_and_committed_monthly_cost(self, owner_api, org, number_factory):
        fund(org, 5000, "a")
        for status, fee in [("active", 115), ("past_due", 215), ("pending", 100), ("released", 999), ("failed", 7)]:
            number_factory(org, status=status, monthly_fee=fee)
        response = owner_api.get("/billing/balance")
        assert response.status_code == 200
        assert response.json() == {"balance": 5000, "currency": "USD", "monthlyCost": 115 + 215 + 100}

    def test_an_org_never_funded_reads_zero_and_nothing_is_created(self, admin_api, org):
        response = admin_api.get("/billing/balance")
        assert response.json() == {"balance": 0, "currency": "USD", "monthlyCost": 0}
        assert not OrgBalance.objects.exists()

    def test_a_member_is_refused(self, member_api, org):
        fund(org, 5000, "a")
        response = member_api.get("/billing/balance")
        assert response.status_code == 403
        assert "balance" not in response.json()
        assert response.json()["error"]["code"] == "permission_denied"

    def test_an_outsider_sees_only_their_own_org(self, outsider_api, org, other_org):
        fund(org, 5000, "a")
        fund(other_org, 7, "b")
        assert outsider_api.get("/billing/balance").json()["balance"] == 7

    def test_an_outsider_naming_alices_org_is_refused(self, charlie, org):
        from tests.conftest import api_client

        fund(org, 5000, "a")
        response = api_client(charlie, org).get("/billing/balance")
        assert response.status_code == 403
        assert "5000" not in response.content.decode()


class TestLedger:
    @pytest.fixture
    def history(self, org, number_factory):
        number = number_factory(org, monthly_fee=300, next_billing_date=date(2025, 2, 15))
        entries = [fund(org, 1000 + i, f"k{i}") for i in range(5)]
        entries.append(services.purchase_hold(phone_number=number))
        return entries

    def test_it_lists_newest_first_in_camel_case(self, owner_api, history):
        body = owner_api.get("/billing/ledger").json()
        assert (body["total"], body["limit"], body["offset"]) == (6, 50, 0)
        assert [e["key"] for e in body["data"]] == [e.key for e in reversed(history)]
        hold = body["data"][0]
        number = history[-1].phone_number
        assert hold == {
            "id": history[-1].public_id, "kind": "purchase_hold", "amount": -300,
            "balanceAfter": sum(1000 + i for i in range(5)) - 300, "currency": "USD",
            "description": f"Phone number setup + first month: {number.e164}",
            "key": f"purchase-hold:{number.public_id}",
            "phoneNumberId": number.public_id, "phoneNumber": number.e164, "createdAt": hold["createdAt"],
        }
        assert body["data"][1]["phoneNumberId"] is None

    def test_it_pages_with_limit_and_offset(self, admin_api, history):
        body = admin_api.get("/billing/ledger?limit=2&offset=3").json()
        assert (body["total"], body["limit"], body["offset"]) == (6, 2, 3)
        assert [e["key"] for e in body["data"]] == ["k2", "k1"]
        assert admin_api.get("/billing/ledger?offset=10").json()["data"] == []

    @pytest.mark.parametrize("query, field", [
        ("limit=0", "limit"), ("limit=201", "limit"), ("limit=abc", "limit"), ("offset=-1", "offset"),
        ("offset=1.5", "offset"), ("limt=5", "limt"),
    ])
    def test_bad_params_are_400_naming_the_field(self, owner_api, history, query, field):
        response = owner_api.get(f"/billing/ledger?{query}")
        assert response.status_code == 400
        assert response.json()["error"]["field"] == field

    def test_a_member_is_refused(self, member_api, history):
        response = member_api.get("/billing/ledger")
        assert response.status_code == 403
        assert "data" not in response.json()

    def test_an_outsider_sees_only_their_own_entries(self, outsider_api, history, other_org):
        fund(other_org, 5, "charlie-only")
        body = outsider_api.get("/billing/ledger").json()
        assert [e["key"] for e in body["data"]] == ["charlie-only"]
        assert body["total"] == 1


class TestPrices:
    def test_any_member_reads_the_seeded_price_table(self, member_api):
        body = member_api.get("/billing/prices").json()
        assert len(body["data"]) == 9
        gb_toll_free = {"country": "GB", "type": "tollFree", "setupFee": 100, "monthlyFee": 215, "currency": "USD"}
        assert gb_toll_free in body["data"]

    def test_it_filters_by_country_and_type(self, member_api):
        body = member_api.get("/billing/prices?country=ca&type=mobile").json()
        assert body["data"] == [{"country": "CA", "type": "mobile", "setupFee": 0, "monthlyFee": 115,
                                 "currency": "USD"}]

    @pytest.mark.parametrize("query, field", [("country=XX", "country"), ("country=USA", "country"),
                                              ("type=premium", "type"), ("countryCode=US", "countryCode")])
    def test_bad_filters_are_400_naming_the_field(self, member_api, query, field):
        response = member_api.get(f"/billing/prices?{query}")
        assert response.status_code == 400
        assert response.json()["error"]["field"] == field

    def test_it_needs_a_login(self, org):
        from rest_framework.test import APIClient

        assert APIClient().get("/billing/prices", HTTP_ORGID=org.slug).status_code == 401


def test_the_schema_documents_the_billing_endpoints_and_their_errors():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, codes in [("/billing/balance", {"200", "400", "401", "403"}),
                        ("/billing/ledger", {"200", "400", "401", "403"}),
                        ("/billing/prices", {"200", "400", "401", "403"})]:
        operation = schema["paths"][path]["get"]
        assert operation["tags"] == ["billing"]
        assert set(operation["responses"]) == codes
    ledger_params = {p["name"] for p in schema["paths"]["/billing/ledger"]["get"]["parameters"]}
    assert {"limit", "offset"} <= ledger_params
