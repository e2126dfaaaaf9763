"""Adding a provider is a folder (here tests/providers/fake/) plus one registry line: with nothing
else changed, its connections are checked and saved, and its numbers searched and bought."""
from __future__ import annotations

import pytest

from billing.models import LedgerEntry
from billing.services import ledger_topup
from orgs.models import ProviderConnection
from phones.models import PhoneNumber
from providers import registry
from tests.providers.fake import client as fake
from tests.providers.fake.kind import KIND

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake_registered():
    registry.register(KIND)  # the one registry line
    yield
    registry.KINDS.pop(KIND.type)
    fake.OWNED.clear()


def connect(api, secret: str):
    return api.post("/integrations", {"type": "fake-provider", "name": "Fake",
                                      "credentials": {"account": "acct-1", "secret": secret}}, format="json")


def test_an_unregistered_type_is_refused(owner_api, org):
    response = connect(owner_api, "right")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "type"
    assert not ProviderConnection.objects.exists()


def test_its_credentials_are_checked_before_anything_is_saved(fake_registered, owner_api, org):
    response = connect(owner_api, "wrong")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_credentials"
    assert not ProviderConnection.objects.exists()


def test_its_numbers_are_searched_and_bought_like_any_other(fake_registered, owner_api, org,
                                                              django_capture_on_commit_callbacks):
    assert connect(owner_api, "right").status_code == 201
    assert ProviderConnection.objects.get(org=org).account_id == "acct-1"
    ledger_topup(org=org, amount=10_000, reason="test funds")

    search = owner_api.get("/phone/available?countryCode=US&limit=5")
    assert search.status_code == 200, search.json()
    assert [n["phoneNumber"] for n in search.json()["numbers"]] == list(fake.FOR_SALE)

    with django_capture_on_commit_callbacks(execute=True):
        bought = owner_api.post("/phone/numbers", {"phoneNumber": fake.FOR_SALE[0]}, format="json")
    assert bought.status_code == 202, bought.json()
    number = PhoneNumber.objects.get(e164=fake.FOR_SALE[0])
    assert number.status == PhoneNumber.Status.ACTIVE
    assert number.provider_sid == "FN14155550101"
    # It was bought with our webhooks (Twilio's family, as its kind says) and paid for once.
    assert fake.OWNED["acct-1"][fake.FOR_SALE[0]].sms_url.endswith("/connect/webhook/twilio/sms")
    assert LedgerEntry.objects.filter(org=org, key__startswith="purchase-hold:").count() == 1
