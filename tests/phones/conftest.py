from __future__ import annotations

import pytest

from billing.services import ledger_topup
from orgs.services import connection_create
from phones.models import PhoneNumber
from providers.registry import provider_for


@pytest.fixture
def sandbox(org):
    """Alice's org connected to a fresh sandbox Twilio account."""
    return connection_create(org=org, type_="sandbox-provider", name="Sandbox", credentials={})


@pytest.fixture
def funded(org):
    ledger_topup(org=org, amount=10_000, reason="test funds")
    return org


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run what the request enqueued after commit (the Celery task, eagerly)."""
    def run(call):
        with django_capture_on_commit_callbacks(execute=True):
            return call()
    return run


def available(connection, area_code: str = "415") -> str:
    from providers.base import SearchCriteria

    return provider_for(connection).search_available(SearchCriteria(area_code=area_code, limit=1))[0].e164


def buy(api, on_commit, e164: str, **extra):
    return on_commit(lambda: api.post("/phone/numbers", {"phoneNumber": e164, **extra}, format="json"))


@pytest.fixture
def active_number(owner_api, on_commit, sandbox, funded) -> PhoneNumber:
    response = buy(owner_api, on_commit, available(sandbox), friendlyName="Sales Line")
    assert response.status_code == 202, response.json()
    number = PhoneNumber.objects.get(public_id=response.json()["number"]["id"])
    assert number.status == "active"
    return number
