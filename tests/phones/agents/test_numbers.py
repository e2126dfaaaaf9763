"""Numbers and agents: agentId at purchase, in PUT /phone/numbers/{id}, in GET; a number bought for
an agent with {country, agentId}; the calls of a number with their AI transcripts."""
from __future__ import annotations

import pytest

from billing.services import balance_get
from orgs.services import connection_create
from phones.models import Agent, Call, Job, PhoneNumber
from sandbox.models import SandboxNumber
from tests.phones.conftest import available, buy

pytestmark = pytest.mark.django_db


def test_agent_at_purchase_and_shown(owner_api, on_commit, sandbox, funded, agent):
    response = buy(owner_api, on_commit, available(sandbox), agentId=agent.public_id)
    assert response.status_code == 202, response.json()
    number_id = response.json()["number"]["id"]
    assert owner_api.get(f"/phone/numbers/{number_id}").json()["agentId"] == agent.public_id
    assert PhoneNumber.objects.get(public_id=number_id).agent == agent
    listed = owner_api.get("/phone/numbers").json()["numbers"]
    assert [n["agentId"] for n in listed] == [agent.public_id]


def test_another_orgs_agent_at_purchase_changes_nothing(owner_api, on_commit, sandbox, funded, other_org):
    ai = connection_create(org=other_org, type_="sandbox-ai", name="AI", credentials={})
    theirs = Agent.objects.create(org=other_org, name="Theirs", connection=ai)
    response = buy(owner_api, on_commit, available(sandbox), agentId=theirs.public_id)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "agentId"
    assert not PhoneNumber.objects.exists() and not Job.objects.exists()
    assert balance_get(org=funded).balance == 10_000


def test_attach_and_detach_with_put(owner_api, active_number, agent, other_org):
    url = f"/phone/numbers/{active_number.public_id}"
    response = owner_api.put(url, {"agentId": agent.public_id}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["agentId"] == agent.public_id
    ai = connection_create(org=other_org, type_="sandbox-ai", name="AI", credentials={})
    theirs = Agent.objects.create(org=other_org, name="Theirs", connection=ai)
    refused = owner_api.put(url, {"agentId": theirs.public_id, "friendlyName": "Changed"}, format="json")
    assert refused.status_code == 400 and refused.json()["error"]["field"] == "agentId"
    active_number.refresh_from_db()
    assert active_number.agent == agent and active_number.friendly_name == "Sales Line"
    assert owner_api.put(url, {"agentId": None}, format="json").json()["agentId"] is None
    active_number.refresh_from_db()
    assert active_number.agent is None


def test_a_number_for_an_agent_by_country(owner_api, on_commit, sandbox, funded, agent):
    response = on_commit(lambda: owner_api.post("/phone/numbers", {"country": "US", "agentId": agent.public_id},
                                                format="json"))
    assert response.status_code == 202, response.json()
    body = response.json()
    number = PhoneNumber.objects.get(public_id=body["number"]["id"])
    assert number.status == "active" and number.country == "US" and number.agent == agent
    assert number.e164.startswith("+1")
    bought = SandboxNumber.objects.get(account__sid=sandbox.account_id, phone_number=number.e164)
    assert bought.voice and bought.sms
    assert balance_get(org=funded).balance == 10_000 - number.setup_fee - number.monthly_fee


def test_by_country_still_needs_the_money(owner_api, on_commit, sandbox, agent):
    response = on_commit(lambda: owner_api.post("/phone/numbers", {"country": "US", "agentId": agent.public_id},
                                                format="json"))
    assert response.status_code == 402
    assert not PhoneNumber.objects.exists()


@pytest.mark.parametrize("payload", [
    {"country": "ZZ"},
    {"country": "US", "phoneNumber": "+14155550100"},
    {},
])
def test_by_country_bad_input(owner_api, sandbox, funded, payload):
    response = owner_api.post("/phone/numbers", payload, format="json")
    assert response.status_code == 400
    assert not PhoneNumber.objects.exists()


def test_calls_with_transcripts_through_the_api(owner_api, outsider_api, active_number, agent):
    call = Call.objects.create(org=active_number.org, phone_number=active_number, direction="inbound",
                               from_number="+14155550111", to_number=active_number.e164,
                               provider_sid="CA" + "a" * 32, status="completed", agent=agent, ai_status="ended",
                               ai_seconds=42, ai_transcript=[
                                   {"role": "agent", "text": "Hello!", "at": "2026-11-30T10:00:00Z"},
                                   {"role": "caller", "text": "Sales please", "at": "2026-11-30T10:00:02Z"},
                                   {"role": "tool", "text": "transfer sales", "at": "2026-11-30T10:00:03Z"}])
    got = owner_api.get(f"/calls/{call.public_id}").json()
    assert (got["agentId"], got["aiStatus"], got["aiSeconds"]) == (agent.public_id, "ended", 42)
    assert [line["role"] for line in got["transcript"]] == ["agent", "caller", "tool"]
    assert got["transcript"][1] == {"role": "caller", "text": "Sales please", "at": "2026-11-30T10:00:02Z"}
    page = owner_api.get(f"/phone/numbers/{active_number.public_id}/calls?limit=10").json()
    assert page["total"] == 1 and page["limit"] == 10 and page["offset"] == 0
    assert page["data"] == [got]
    assert outsider_api.get(f"/calls/{call.public_id}").status_code == 404
    assert outsider_api.get(f"/phone/numbers/{active_number.public_id}/calls").status_code == 404
