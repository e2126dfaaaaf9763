"""Ring groups: /phone/groups CRUD, members only from the org, outsiders see nothing."""
import pytest

from phones.models import RingGroup
from tests.phones.test_routing import make_number

pytestmark = pytest.mark.django_db


@pytest.fixture
def group(org, alice, member):
    group = RingGroup.objects.create(org=org, name="Support")
    group.members.set([alice, member])
    return group


def test_an_admin_creates_a_group_of_members(admin_api, org, alice, member):
    response = admin_api.post("/phone/groups", {"name": "Sales", "members": ["bob", "alice"]}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["id"].startswith("grp_")
    assert body["name"] == "Sales" and sorted(body["members"]) == ["alice", "bob"]
    group = RingGroup.objects.get(public_id=body["id"])
    assert group.org == org and set(group.members.all()) == {alice, member}


def test_it_refuses_members_from_another_org_and_creates_nothing(owner_api, member, charlie, other_org):
    response = owner_api.post("/phone/groups", {"name": "Sales", "members": ["bob", "charlie"]}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "members[1]"
    assert "charlie" in response.json()["error"]["message"]
    assert not RingGroup.objects.exists()


def test_an_unknown_username_reads_like_an_outsider(owner_api, org):
    response = owner_api.post("/phone/groups", {"name": "Sales", "members": ["nobody"]}, format="json")
    assert response.json()["error"]["field"] == "members[0]"


def test_a_group_name_is_unique_in_the_org(owner_api, group, other_org):
    RingGroup.objects.create(org=other_org, name="Sales")
    assert owner_api.post("/phone/groups", {"name": "Sales"}, format="json").status_code == 201
    response = owner_api.post("/phone/groups", {"name": "Support"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["field"] == "name"


def test_members_list_and_read_groups_of_their_org_only(member_api, group, other_org):
    RingGroup.objects.create(org=other_org, name="Theirs")
    listed = member_api.get("/phone/groups").json()["data"]
    assert [g["id"] for g in listed] == [group.public_id]
    assert sorted(listed[0]["members"]) == ["alice", "bob"]
    assert member_api.get(f"/phone/groups/{group.public_id}").json()["name"] == "Support"


def test_a_member_cannot_change_groups(member_api, group):
    assert member_api.post("/phone/groups", {"name": "Mine"}, format="json").status_code == 403
    assert member_api.put(f"/phone/groups/{group.public_id}", {"name": "Mine"}, format="json").status_code == 403
    assert member_api.delete(f"/phone/groups/{group.public_id}").status_code == 403
    assert RingGroup.objects.get(pk=group.pk).name == "Support"


def test_an_update_renames_and_replaces_members(owner_api, group, org_admin):
    response = owner_api.put(f"/phone/groups/{group.public_id}", {"members": ["adam"]}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["members"] == ["adam"] and response.json()["name"] == "Support"
    response = owner_api.put(f"/phone/groups/{group.public_id}", {"name": "Tier 1"}, format="json")
    assert (response.json()["name"], response.json()["members"]) == ("Tier 1", ["adam"])


def test_an_update_refuses_outsiders_and_keeps_the_members(owner_api, group, charlie, other_org):
    response = owner_api.put(f"/phone/groups/{group.public_id}", {"members": ["charlie"]}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "members[0]"
    assert sorted(group.members.values_list("username", flat=True)) == ["alice", "bob"]


def test_an_unknown_key_is_refused(owner_api, group):
    response = owner_api.put(f"/phone/groups/{group.public_id}", {"colour": "red"}, format="json")
    assert response.json()["error"]["field"] == "colour"


def test_a_group_is_deleted(owner_api, group):
    assert owner_api.delete(f"/phone/groups/{group.public_id}").status_code == 204
    assert not RingGroup.objects.exists()


@pytest.mark.parametrize("routing", ["assignments", "ivrFlow"])
def test_a_group_a_number_routes_to_cannot_be_deleted(owner_api, org, group, routing):
    number = make_number(org)
    body = ({"assignments": [{"type": "group", "target": group.public_id}]} if routing == "assignments" else
            {"ivrFlow": {"entry": "g", "nodes": {"g": {"type": "transfer-group", "group": group.public_id}}}})
    assert owner_api.put(f"/phone/numbers/{number.public_id}/routing", body, format="json").status_code == 200
    response = owner_api.delete(f"/phone/groups/{group.public_id}")
    assert response.status_code == 409
    assert response.json()["error"]["numbers"] == ["+14155550100"]
    assert RingGroup.objects.filter(pk=group.pk).exists()


def test_a_released_numbers_old_routing_does_not_hold_a_group(owner_api, org, group):
    number = make_number(org)
    response = owner_api.put(f"/phone/numbers/{number.public_id}/routing",
                             {"assignments": [{"type": "group", "target": group.public_id}]}, format="json")
    assert response.status_code == 200, response.json()
    # While the number is live its routing holds the group; released, it no longer does.
    assert owner_api.delete(f"/phone/groups/{group.public_id}").status_code == 409
    number.status = "released"
    number.save()
    assert owner_api.delete(f"/phone/groups/{group.public_id}").status_code == 204


@pytest.mark.parametrize("method, body", [("get", None), ("put", {"name": "Mine"}), ("delete", None)])
def test_an_outsider_gets_404_for_another_orgs_group(outsider_api, group, method, body):
    response = getattr(outsider_api, method)(f"/phone/groups/{group.public_id}", body, format="json")
    assert response.status_code == 404
    assert RingGroup.objects.get(pk=group.pk).name == "Support"
