"""/agents: create, read, update, delete; validation; another org's agent or connection."""
from __future__ import annotations

import pytest

from orgs.models import AuditLog, ProviderConnection
from orgs.services import connection_create
from phones.models import Agent, PhoneNumber

pytestmark = pytest.mark.django_db


def body(connection, **extra) -> dict:
    return {"name": "Front desk", "instructions": "You answer for Acme.", "greeting": "Hello, Acme!",
            "voice": "coral", "language": "es", "tools": ["transfer", "send_sms"],
            "transferTargets": {"sales": "+1 415 555 0100", "alice": "user:alice", "support": "queue:support"},
            "maxCallSeconds": 300, "connectionId": connection.public_id, **extra}


def test_create_read_list(owner_api, ai_connection):
    response = owner_api.post("/agents", body(ai_connection), format="json")
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["id"].startswith("agt_")
    assert created["voice"] == "coral" and created["language"] == "es" and created["model"] == "gpt-realtime"
    assert created["transferTargets"] == {"sales": "+14155550100", "alice": "user:alice", "support": "queue:support"}
    assert created["tools"] == ["transfer", "send_sms"] and created["maxCallSeconds"] == 300
    assert created["connectionId"] == ai_connection.public_id
    assert owner_api.get(f"/agents/{created['id']}").json() == created
    listed = owner_api.get("/agents?limit=1&offset=0").json()
    assert listed == {"data": [created], "total": 1, "limit": 1, "offset": 0}
    assert AuditLog.objects.filter(action="agent.create", target_id=created["id"]).exists()


def test_defaults(owner_api, ai_connection):
    response = owner_api.post("/agents", {"name": "Min", "connectionId": ai_connection.public_id}, format="json")
    assert response.status_code == 201, response.json()
    got = response.json()
    assert (got["voice"], got["model"], got["language"], got["tools"], got["maxCallSeconds"]) == (
        "alloy", "gpt-realtime", "en", [], 600)


@pytest.mark.parametrize("change, field", [
    ({"tools": ["transfer", "teleport"]}, "tools"),
    ({"tools": ["hangup", "hangup"]}, "tools"),
    ({"maxCallSeconds": 5}, "maxCallSeconds"),
    ({"maxCallSeconds": 3601}, "maxCallSeconds"),
    ({"voice": "robot"}, "voice"),
    ({"language": "english please"}, "language"),
    ({"transferTargets": {"sales": "not a number"}}, "transferTargets"),
    ({"transferTargets": {"bad name!": "+14155550100"}}, "transferTargets"),
    ({"transferTargets": {"x": "user:nobody"}}, "transferTargets"),
    ({"transferTargets": {}, "tools": ["transfer"]}, "transferTargets"),
    ({"connectionId": "int_doesnotexist"}, "connectionId"),
    ({"unknown": 1}, "unknown"),
])
def test_bad_input_is_a_400_and_saves_nothing(owner_api, ai_connection, change, field):
    response = owner_api.post("/agents", body(ai_connection, **change), format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["field"].startswith(field)
    assert not Agent.objects.exists()


def test_a_phone_connection_is_not_an_ai_connection(owner_api, org):
    phone = connection_create(org=org, type_="sandbox-provider", name="Sandbox", credentials={})
    response = owner_api.post("/agents", body(phone, transferTargets={"sales": "+14155550100"}), format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_connection"


def test_another_orgs_connection_or_agent(owner_api, outsider_api, other_org, agent):
    theirs = connection_create(org=other_org, type_="sandbox-ai", name="Theirs", credentials={})
    response = owner_api.post("/agents", {"name": "x", "connectionId": theirs.public_id}, format="json")
    assert response.status_code == 400 and response.json()["error"]["field"] == "connectionId"
    for method in ("get", "put", "patch", "delete"):
        answer = getattr(outsider_api, method)(f"/agents/{agent.public_id}", {"name": "mine"}, format="json")
        assert answer.status_code == 404, method
    assert outsider_api.get("/agents").json()["total"] == 0
    agent.refresh_from_db()
    assert agent.name == "Front desk"


def test_update_is_partial_and_checked_whole(owner_api, agent):
    response = owner_api.patch(f"/agents/{agent.public_id}", {"greeting": "Hi there"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["greeting"] == "Hi there" and response.json()["name"] == "Front desk"
    # Removing every target while the transfer tool stays: refused, nothing changed.
    response = owner_api.put(f"/agents/{agent.public_id}", {"transferTargets": {}}, format="json")
    assert response.status_code == 400
    agent.refresh_from_db()
    assert agent.transfer_targets == {"sales": "+14155550100"}
    response = owner_api.put(f"/agents/{agent.public_id}", {"transferTargets": {}, "tools": ["hangup"]}, format="json")
    assert response.status_code == 200 and response.json()["tools"] == ["hangup"]


def test_members_read_admins_write(member_api, agent, ai_connection):
    assert member_api.get(f"/agents/{agent.public_id}").status_code == 200
    assert member_api.post("/agents", body(ai_connection), format="json").status_code == 403
    assert member_api.delete(f"/agents/{agent.public_id}").status_code == 403


def test_delete_detaches_numbers(owner_api, agent, active_number):
    active_number.agent = agent
    active_number.save()
    assert owner_api.delete(f"/agents/{agent.public_id}").status_code == 204
    active_number.refresh_from_db()
    assert active_number.agent is None and active_number.status == PhoneNumber.Status.ACTIVE
    assert owner_api.get(f"/agents/{agent.public_id}").status_code == 404


def test_an_ai_connection_an_agent_uses_cannot_be_removed(owner_api, agent, ai_connection):
    response = owner_api.delete(f"/integrations/{ai_connection.public_id}")
    assert response.status_code == 409
    assert ProviderConnection.objects.filter(pk=ai_connection.pk).exists()
