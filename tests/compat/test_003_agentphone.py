"""003, AgentPhone: its example requests verbatim (host and API key substituted)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from billing.services import balance_get
from orgs.services import api_key_create, connection_create
from phones.models import Agent, Message, PhoneNumber
from sandbox.models import SandboxNumber

pytestmark = pytest.mark.django_db


@pytest.fixture
def key_api(org, alice) -> APIClient:
    """As the document shows: `Authorization: Bearer YOUR_API_KEY`, nothing else."""
    _, key = api_key_create(org=org, name="AgentPhone client", role="admin", actor=alice)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def agent(org):
    ai = connection_create(org=org, type_="sandbox-ai", name="AI", credentials={})
    return Agent.objects.create(org=org, name="Support", connection=ai)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("seeded_prices")
def test_create_number_example(key_api, sandbox, funded, agent):
    response = key_api.post("/v1/numbers", {"country": "US", "agentId": agent.public_id}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {"id", "phoneNumber", "country", "status", "agentId", "createdAt"}
    assert (body["country"], body["status"], body["agentId"]) == ("US", "active", agent.public_id)
    number = PhoneNumber.objects.get(public_id=body["id"])
    assert number.e164 == body["phoneNumber"] and number.agent == agent
    bought = SandboxNumber.objects.get(account__sid=sandbox.account_id, phone_number=number.e164)
    assert bought.voice and bought.sms
    assert balance_get(org=funded).balance == 10_000 - number.setup_fee - number.monthly_fee


def test_create_with_defaults_and_no_agent_is_pending_until_its_job_runs(key_api, sandbox, funded, settings):
    settings.COMPAT_PURCHASE_WAIT_SECONDS = 0  # the job runs after this test's transaction, i.e. never
    response = key_api.post("/v1/numbers", {}, format="json")
    assert response.status_code == 202, response.json()
    assert response.json()["country"] == "US" and response.json()["agentId"] is None


def test_another_orgs_agent_or_no_money_saves_nothing(key_api, sandbox, other_org, org):
    ai = connection_create(org=other_org, type_="sandbox-ai", name="AI", credentials={})
    theirs = Agent.objects.create(org=other_org, name="Theirs", connection=ai)
    response = key_api.post("/v1/numbers", {"country": "US", "agentId": theirs.public_id}, format="json")
    assert response.status_code == 400
    assert key_api.post("/v1/numbers", {"country": "US"}, format="json").status_code == 402
    assert key_api.post("/v1/numbers", {"country": "XX"}, format="json").status_code == 400
    assert not PhoneNumber.objects.exists()


def test_list_example_and_paging(key_api, org, sandbox):
    for i in range(3):
        PhoneNumber.objects.create(org=org, connection=sandbox, e164=f"+1415555010{i}", country="US",
                                   status=PhoneNumber.Status.ACTIVE)
    body = key_api.get("/v1/numbers?limit=10&offset=0").json()
    assert body["total"] == 3 and body["hasMore"] is False and len(body["data"]) == 3
    page = key_api.get("/v1/numbers?limit=2&offset=0").json()
    assert len(page["data"]) == 2 and page["hasMore"] is True
    assert len(key_api.get("/v1/numbers").json()["data"]) == 3
    assert key_api.get("/v1/numbers?limit=101").status_code == 400
    assert key_api.get("/v1/numbers?offset=-1").status_code == 400


def test_no_key_no_numbers():
    assert APIClient().get("/v1/numbers").status_code == 401


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("seeded_prices")
def test_delete_example_releases_and_keeps_the_messages(key_api, sandbox, funded, org):
    created = key_api.post("/v1/numbers", {"country": "US"}, format="json").json()
    number = PhoneNumber.objects.get(public_id=created["id"])
    Message.objects.create(org=org, phone_number=number, direction="inbound", from_number="+15559876543",
                           to_number=number.e164, body="Hi", provider_sid="SM" + "1" * 32, created_at=timezone.now())
    response = key_api.delete(f"/v1/numbers/{created['id']}")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "released" and response.json()["releasedAt"]
    assert Message.objects.filter(phone_number=number).count() == 1
    assert key_api.get("/v1/numbers").json()["total"] == 0


def test_another_orgs_number_is_a_404(key_api, other_org):
    conn = connection_create(org=other_org, type_="sandbox-provider", name="x", credentials={})
    theirs = PhoneNumber.objects.create(org=other_org, connection=conn, e164="+14155550177", country="US",
                                        status=PhoneNumber.Status.ACTIVE)
    assert key_api.delete(f"/v1/numbers/{theirs.public_id}").status_code == 404
    assert key_api.get(f"/v1/numbers/{theirs.public_id}/messages?limit=10").status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "active"


def test_messages_example_and_cursor_paging(key_api, org, sandbox):
    number = PhoneNumber.objects.create(org=org, connection=sandbox, e164="+15551234567", country="US",
                                        status=PhoneNumber.Status.ACTIVE)
    start = timezone.now() - timedelta(hours=1)
    for i in range(3):
        Message.objects.create(org=org, phone_number=number, direction="inbound", from_number="+15559876543",
                               to_number=number.e164, body=f"text {i}", provider_sid=f"SM{i:032x}",
                               created_at=start + timedelta(minutes=i))
    body = key_api.get(f"/v1/numbers/{number.public_id}/messages?limit=10").json()
    assert body["hasMore"] is False
    assert [m["body"] for m in body["data"]] == ["text 2", "text 1", "text 0"]
    first = body["data"][0]
    assert set(first) >= {"id", "from_", "to", "body", "receivedAt"}
    assert (first["from_"], first["to"]) == ("+15559876543", "+15551234567")
    page = key_api.get(f"/v1/numbers/{number.public_id}/messages?limit=2").json()
    assert len(page["data"]) == 2 and page["hasMore"] is True
    older = key_api.get(f"/v1/numbers/{number.public_id}/messages",
                        {"before": page["data"][-1]["receivedAt"]}).json()
    assert [m["body"] for m in older["data"]] == ["text 0"]
    newer = key_api.get(f"/v1/numbers/{number.public_id}/messages",
                        {"after": body["data"][-1]["receivedAt"]}).json()
    assert [m["body"] for m in newer["data"]] == ["text 2", "text 1"]
    assert key_api.get(f"/v1/numbers/{number.public_id}/messages?limit=201").status_code == 400
    assert key_api.get(f"/v1/numbers/{number.public_id}/messages?before=yesterday").status_code == 400
