"""Every list outside a document's own shape answers one envelope, {data, total, limit, offset},
paged with ?limit=&offset=, and a bad page is a 400 that names the field."""
from __future__ import annotations

import pytest

from orgs.models import Membership
from tests.conftest import make_user

LISTS = ("/integrations", "/api-keys", "/phone/groups", "/billing/prices", "/phone/softphone/presence",
         "/billing/ledger", "/inbox/conversations", "/agents", "/broadcasts", "/trunks", "/recordings")


@pytest.fixture
def two_of_each(owner_api, org, seeded_prices):
    for name in ("Sales", "Support"):
        assert owner_api.post("/phone/groups", {"name": name, "members": []}, format="json").status_code == 201
        assert owner_api.post("/api-keys", {"name": name, "role": "admin"}, format="json").status_code == 201
    Membership.objects.create(org=org, user=make_user("bob"), role=Membership.Role.MEMBER)


@pytest.mark.parametrize("path", LISTS)
def test_every_list_answers_the_envelope(owner_api, two_of_each, path):
    whole = owner_api.get(path)
    assert whole.status_code == 200, whole.content
    body = whole.json()
    assert set(body) == {"data", "total", "limit", "offset"}
    assert (body["limit"], body["offset"]) == (50, 0)
    assert body["total"] == len(body["data"])

    if body["total"] >= 2:
        first, second = (owner_api.get(path, {"limit": 1, "offset": i}).json() for i in (0, 1))
        assert (first["limit"], second["offset"], first["total"]) == (1, 1, body["total"])
        assert [first["data"][0], second["data"][0]] == body["data"][:2]


def test_the_pages_hold_what_was_made(owner_api, two_of_each):
    assert [g["name"] for g in owner_api.get("/phone/groups").json()["data"]] == ["Sales", "Support"]
    assert owner_api.get("/api-keys").json()["total"] == 2
    assert owner_api.get("/phone/softphone/presence").json()["total"] == 2
    assert owner_api.get("/billing/prices", {"country": "US", "limit": 1}).json()["total"] > 1


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("query, field", [({"limit": 0}, "limit"), ({"limit": 101}, "limit"),
                                          ({"offset": -1}, "offset"), ({"limit": "ten"}, "limit")])
def test_a_bad_page_is_a_400_naming_the_field(owner_api, path, query, field):
    response = owner_api.get(path, query)
    assert response.status_code == 400, (path, query)
    assert field in str(response.json()), response.json()
