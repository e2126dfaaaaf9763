"""The broadcasts API: lists, one broadcast's progress, recipients, who may do what."""
from __future__ import annotations

from unittest import mock

from phones.broadcasts.models import Broadcast
from sandbox.models import SandboxMessage
from tests.phones.broadcasts.conftest import run_all

NY, LA = "+12125550123", "+13105550123"


def test_a_broadcast_is_listed_and_its_progress_polled(create, owner_api):
    created = create([NY, LA, "oops"]).json()
    assert created["status"] == "sending"
    assert created["progress"] == {"done": 0, "total": 2, "percent": 0.0}
    listed = owner_api.get("/broadcasts?limit=10").json()
    assert (listed["total"], listed["limit"], listed["offset"]) == (1, 10, 0)
    assert listed["data"][0]["id"] == created["id"] and listed["data"][0]["recipients"] == 2
    with mock.patch("phones.broadcasts.quiet_hours.is_open", return_value=True):
        run_all(created["id"])
    detail = owner_api.get(f"/broadcasts/{created['id']}").json()
    assert detail["status"] == "completed"
    assert detail["progress"] == {"done": 2, "total": 2, "percent": 100.0}
    assert detail["counts"]["sent"] == 2
    assert detail["cost"]["soFar"] == detail["cost"]["settled"] == 2


def test_recipients_are_paged_and_filtered_by_status(create, owner_api):
    created = create([NY, LA, "+15005550004"]).json()
    with mock.patch("phones.broadcasts.quiet_hours.is_open", return_value=True):
        run_all(created["id"])
    page = owner_api.get(f"/broadcasts/{created['id']}/recipients?limit=2").json()
    assert (page["total"], len(page["data"])) == (3, 2)
    assert [r["row"] for r in page["data"]] == [1, 2]
    failed = owner_api.get(f"/broadcasts/{created['id']}/recipients?status=failed").json()
    assert [(r["phoneNumber"], r["errorCode"]) for r in failed["data"]] == [("+15005550004", "21610")]
    assert owner_api.get(f"/broadcasts/{created['id']}/recipients?status=nope").status_code == 400


def test_another_orgs_broadcast_is_a_404(create, outsider_api):
    created = create([NY]).json()
    for path in ("", "/recipients"):
        assert outsider_api.get(f"/broadcasts/{created['id']}{path}").status_code == 404
    for action in ("pause", "resume", "cancel"):
        assert outsider_api.post(f"/broadcasts/{created['id']}/{action}").status_code == 404
    assert Broadcast.objects.get().status == "sending"
    assert outsider_api.get("/broadcasts").json()["total"] == 0


def test_members_may_read_but_not_spend(create, member_api, active_number):
    created = create([NY]).json()
    assert member_api.get(f"/broadcasts/{created['id']}").status_code == 200
    response = member_api.post("/broadcasts", {"name": "x", "body": "hi", "recipients": [{"phone": NY}]},
                               format="json")
    assert response.status_code == 403
    assert member_api.post(f"/broadcasts/{created['id']}/cancel").status_code == 403
    assert Broadcast.objects.count() == 1


def test_bad_input_is_a_400_naming_the_field(owner_api, active_number):
    for body, field in (({"name": "x", "body": "hi", "recipients": [{"phone": NY}], "colour": "red"}, "colour"),
                        ({"name": "x", "body": "hi", "recipients": "all"}, "recipients"),
                        ({"name": "x", "body": "hi", "tag": "vip", "from": ["+1"]}, "from"),
                        ({"name": "x", "body": "", "recipients": [{"phone": NY}]}, "body"),
                        ({"name": "x", "body": "hi", "recipients": [{"phone": NY}],
                          "quietHours": {"start": "25:00"}}, "quietHours")):
        response = owner_api.post("/broadcasts", body, format="json")
        assert response.status_code == 400, (body, response.json())
        assert field in str(response.json()), (field, response.json())
    assert not Broadcast.objects.exists()
    assert not SandboxMessage.objects.exists()


def test_a_number_of_another_org_cannot_be_the_sender(owner_api, active_number, other_org):
    response = owner_api.post("/broadcasts", {"name": "x", "body": "hi", "recipients": [{"phone": NY}],
                                              "from": ["+14155550199"]}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_sender"
