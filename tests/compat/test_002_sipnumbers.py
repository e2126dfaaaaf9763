"""002, the SIP-trunk numbers API: its example requests verbatim (host and credentials substituted)."""
import pytest

from billing.models import LedgerEntry
from phones.models import Job, PhoneNumber
from sandbox.models import SandboxNumber
from tests.phones.conftest import available

pytestmark = pytest.mark.django_db


def base(org):
    return f"/api/v1/account/{org.slug}/numbers"


def test_catalog_example_query(owner_api, sandbox, org):
    response = owner_api.get(f"{base(org)}/catalog?country=US&area_code=415&limit=10")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "success"
    numbers = body["data"]["numbers"]
    assert 0 < len(numbers) <= 10 and body["data"]["totalFound"] == len(numbers)
    first = numbers[0]
    assert first["phoneNumber"].startswith("+1415")
    assert set(first) >= {"phoneNumber", "friendlyName", "locality", "region", "postalCode", "country",
                          "capabilities", "pricing"}


def test_catalog_default_limit_is_20(owner_api, sandbox, org):
    body = owner_api.get(f"{base(org)}/catalog?country=US&area_code=415").json()
    assert len(body["data"]["numbers"]) <= 20


def test_another_orgs_account_is_a_404_in_the_envelope(owner_api, sandbox, org, other_org):
    response = owner_api.get(f"/api/v1/account/{other_org.slug}/numbers/catalog?country=US&area_code=415&limit=10")
    assert response.status_code == 404
    assert response.json()["status"] == "error"


def _example_body(e164):
    return {"country": "US", "numbers": [e164], "voice": True, "sms": False, "currency": "USD"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("seeded_prices")
def test_purchase_example_answers_the_active_number(owner_api, sandbox, funded, org):
    e164 = available(sandbox)
    response = owner_api.post(f"{base(org)}/purchase", _example_body(e164), format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "success" and body["message"] == "Phone number purchased successfully"
    data = body["data"]
    assert data["phoneNumber"] == e164 and data["status"] == "active"
    assert data["billingCycle"] == "monthly" and data["nextBillingDate"]
    assert data["transaction"]["amount"] == 115 and data["transaction"]["currency"] == "USD"
    assert "trunkId" in data and data["pricing"]["monthlyFee"] == 115


def test_purchase_pending_is_a_202(owner_api, sandbox, funded, org, settings):
    settings.COMPAT_PURCHASE_WAIT_SECONDS = 0  # the job runs after this test's transaction, i.e. never
    response = owner_api.post(f"{base(org)}/purchase", _example_body(available(sandbox)), format="json")
    assert response.status_code == 202, response.json()
    assert response.json()["data"]["status"] == "pending"


def test_purchase_without_balance_is_an_error_and_saves_nothing(owner_api, sandbox, org):
    response = owner_api.post(f"{base(org)}/purchase", _example_body(available(sandbox)), format="json")
    assert response.status_code == 402
    assert response.json()["status"] == "error"
    assert not PhoneNumber.objects.exists() and not Job.objects.exists() and not LedgerEntry.objects.exists()
    assert not SandboxNumber.objects.exists()


@pytest.mark.parametrize("change, code", [({"currency": "EUR"}, "currency_mismatch"),
                                          ({"country": "GB"}, "country_mismatch")])
def test_purchase_in_another_currency_or_country_is_a_400_and_saves_nothing(owner_api, sandbox, funded, org,
                                                                            change, code):
    response = owner_api.post(f"{base(org)}/purchase", {**_example_body(available(sandbox)), **change},
                              format="json")
    assert response.status_code == 400
    assert response.json()["status"] == "error" and response.json()["error"]["code"] == code
    assert not PhoneNumber.objects.exists() and not Job.objects.exists()
    assert not LedgerEntry.objects.filter(phone_number__isnull=False).exists()


def test_purchase_of_another_orgs_account_is_a_404_and_saves_nothing(owner_api, sandbox, funded, other_org):
    response = owner_api.post(f"/api/v1/account/{other_org.slug}/numbers/purchase",
                              _example_body(available(sandbox)), format="json")
    assert response.status_code == 404
    assert not PhoneNumber.objects.exists() and not Job.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("seeded_prices")
def test_list_and_release(owner_api, sandbox, funded, org):
    e164 = available(sandbox)
    response = owner_api.post(f"{base(org)}/purchase", _example_body(e164), format="json")
    assert response.status_code == 200, response.json()
    number_id = response.json()["data"]["id"]
    body = owner_api.get(base(org)).json()
    assert body["status"] == "success"
    assert body["data"]["total"] == 1 and body["data"]["monthlyCost"] == 115
    [entry] = body["data"]["numbers"]
    assert entry["id"] == number_id and entry["monthlyFee"] == 115
    assert entry["trunkId"] is None and entry["trunkName"] is None
    response = owner_api.delete(f"{base(org)}/{number_id}")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["message"] == "Phone number released successfully"
    assert body["data"]["phoneNumber"] == e164 and body["data"]["releasedAt"]
    assert "proratedRefund" in body["data"]["finalBilling"]


def test_release_of_an_unknown_number_is_a_404(owner_api, sandbox, org):
    response = owner_api.delete(f"{base(org)}/NUM_7a8b9c0d1e2f")
    assert response.status_code == 404 and response.json()["status"] == "error"


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("seeded_prices")
def test_a_purchase_through_002_and_through_phone_numbers_write_the_same_ledger_and_provider_requests(
        owner_api, sandbox, funded, org):
    first, second = available(sandbox, "415"), available(sandbox, "212")
    assert owner_api.post(f"{base(org)}/purchase", _example_body(first), format="json").status_code == 200
    assert owner_api.post("/phone/numbers", {"phoneNumber": second}, format="json").status_code == 202

    def ledger(e164):
        return [(e.kind, e.amount, e.currency) for e in LedgerEntry.objects.filter(phone_number__e164=e164)
                .order_by("id")]

    def at_provider(e164):
        n = SandboxNumber.objects.get(phone_number=e164)
        return (n.voice_url, n.voice_method, n.sms_url, n.sms_method, n.status_callback)

    assert ledger(first) == ledger(second) and ledger(first)
    assert at_provider(first) == at_provider(second)
