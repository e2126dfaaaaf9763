"""PATCH is the partial update PUT already is: same effect, same roles, same scoping."""
from __future__ import annotations

import pytest

from orgs.models import ProviderConnection
from phones.models import PhoneNumber, RingGroup

pytestmark = pytest.mark.django_db


def test_patch_updates_a_number_like_put(owner_api, active_number):
    response = owner_api.patch(f"/phone/numbers/{active_number.public_id}", {"friendlyName": "Front desk"},
                               format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["friendlyName"] == "Front desk"
    assert PhoneNumber.objects.get(pk=active_number.pk).friendly_name == "Front desk"


def test_patch_on_another_orgs_number_is_a_404(outsider_api, active_number):
    response = outsider_api.patch(f"/phone/numbers/{active_number.public_id}", {"friendlyName": "Mine"},
                                  format="json")
    assert response.status_code == 404
    assert PhoneNumber.objects.get(pk=active_number.pk).friendly_name != "Mine"


def test_patch_needs_the_role_put_needs(admin_api, owner_api, org, sandbox):
    """Connections are the owners': an admin's PATCH is refused as their PUT is."""
    response = admin_api.patch(f"/integrations/{sandbox.public_id}", {"name": "Renamed"}, format="json")
    assert response.status_code == 403
    assert ProviderConnection.objects.get(pk=sandbox.pk).name == "Sandbox"
    response = owner_api.patch(f"/integrations/{sandbox.public_id}", {"name": "Renamed"}, format="json")
    assert response.status_code == 200, response.json()
    assert ProviderConnection.objects.get(pk=sandbox.pk).name == "Renamed"


def test_patch_routing_groups_and_settings(owner_api, active_number, org):
    routing = owner_api.patch(f"/phone/numbers/{active_number.public_id}/routing",
                              {"strategy": "sequential"}, format="json")
    assert routing.status_code == 200, routing.json()
    assert routing.json()["strategy"] == "sequential"
    group = RingGroup.objects.create(org=org, name="Sales")
    renamed = owner_api.patch(f"/phone/groups/{group.public_id}", {"name": "Support"}, format="json")
    assert renamed.status_code == 200, renamed.json()
    assert RingGroup.objects.get(pk=group.pk).name == "Support"
    settings = owner_api.patch("/messaging/settings", {"automationWebhookUrl": ""}, format="json")
    assert settings.status_code == 200, settings.json()


def test_the_schema_documents_each_patch(client):
    paths = client.get("/api/schema", HTTP_ACCEPT="application/json").json()["paths"]
    for path in ("/integrations/{id}", "/phone/numbers/{id}", "/phone/numbers/{id}/routing", "/phone/groups/{id}",
                 "/messaging/settings"):
        assert "patch" in paths[path], path
