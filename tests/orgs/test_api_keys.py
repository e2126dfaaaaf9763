"""Org API keys: owners make, list and revoke them; a key acts in its org with its role, through
every org endpoint, without the orgid header; it is stored hashed and shown once."""
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core import serializers as django_serializers
from django.utils import timezone
from rest_framework.test import APIClient

from orgs.models import AuditLog, Membership, OrgAPIKey, ProviderConnection
from orgs.services import api_key_create
from phones.models import PhoneNumber

pytestmark = pytest.mark.django_db


def key_client(key: str, org_slug: str | None = None, **extra) -> APIClient:
    client = APIClient(**extra)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    if org_slug is not None:
        client.defaults["HTTP_ORGID"] = org_slug
    return client


def make_key(org, role=Membership.Role.ADMIN, name="CRM sync") -> tuple[OrgAPIKey, str]:
    owner = Membership.objects.filter(org=org, role=Membership.Role.OWNER).first()
    return api_key_create(org=org, name=name, role=role, actor=owner.user if owner else None)


def make_number(org) -> PhoneNumber:
    connection = ProviderConnection.objects.create(org=org, type=ProviderConnection.Type.SANDBOX, name="Sandbox",
                                                   account_id=f"AC{org.pk:032d}")
    return PhoneNumber.objects.create(org=org, connection=connection, e164=f"+1415555{org.pk:04d}", country="US",
                                      status=PhoneNumber.Status.ACTIVE, friendly_name="Main line")


def everything_stored() -> str:
    """Every row of every table, as text: to look for a secret anywhere in the database."""
    dumps = []
    for model in apps.get_models():
        rows = model._default_manager.all()
        if rows.exists():
            dumps.append(django_serializers.serialize("json", rows))
    return "\n".join(dumps)


# --- owners make, list and revoke keys ---------------------------------------------------------

def test_an_owner_creates_a_key_shown_once_and_stored_only_hashed(owner_api, org, alice):
    response = owner_api.post("/api-keys", {"name": "CRM sync", "role": "admin"}, format="json")
    assert response.status_code == 201
    body = response.json()
    key = body["key"]
    assert key.startswith("tpk_") and key.startswith(body["prefix"] + ".")
    assert len(key.partition(".")[2]) == 40
    assert body["name"] == "CRM sync" and body["role"] == "admin" and body["createdBy"] == "alice"
    assert body["id"].startswith("key_") and body["lastUsedAt"] is None

    stored = OrgAPIKey.objects.get()
    assert stored.org == org and stored.hashed_key.startswith("sha512$$")
    secret = key.partition(".")[2]
    dump = everything_stored()
    assert key not in dump and secret not in dump

    listing = owner_api.get("/api-keys")
    assert listing.status_code == 200
    (item,) = listing.json()["data"]
    assert item == {"id": body["id"], "prefix": body["prefix"], "name": "CRM sync", "role": "admin",
                    "createdAt": body["createdAt"], "lastUsedAt": None, "createdBy": "alice"}
    assert secret not in listing.content.decode()
    assert AuditLog.objects.filter(action="api_key.create", actor=alice, org=org).count() == 1


@pytest.mark.parametrize("api", ["admin_api", "member_api"])
def test_only_owners_manage_keys(request, api, org):
    client = request.getfixturevalue(api)
    assert client.post("/api-keys", {"name": "x", "role": "member"}, format="json").status_code == 403
    assert client.get("/api-keys").status_code == 403
    assert not OrgAPIKey.objects.exists()


def test_bad_input_is_a_400_naming_the_field_and_saves_nothing(owner_api):
    response = owner_api.post("/api-keys", {"name": "x", "role": "superuser"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "role"
    assert owner_api.post("/api-keys", {"role": "admin"}, format="json").json()["error"]["field"] == "name"
    assert not OrgAPIKey.objects.exists()
    assert not get_user_model().objects.filter(username__startswith="apikey.").exists()


def test_a_revoked_key_is_a_401_and_does_nothing(owner_api, org):
    api_key, key = make_key(org, role=Membership.Role.OWNER)
    client = key_client(key)
    assert client.get("/integrations").status_code == 200
    assert owner_api.delete(f"/api-keys/{api_key.public_id}").status_code == 204
    response = client.post("/integrations", {"type": "sandbox-provider", "name": "x"}, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"
    assert not ProviderConnection.objects.exists()
    api_key.refresh_from_db()
    assert api_key.revoked and api_key.revoked_at is not None
    assert owner_api.get("/api-keys").json()["data"] == []
    assert owner_api.delete(f"/api-keys/{api_key.public_id}").status_code == 404  # gone from the API


def test_another_orgs_key_cannot_be_listed_or_revoked(owner_api, other_org):
    theirs, their_key = make_key(other_org)
    assert owner_api.get("/api-keys").json()["data"] == []
    assert owner_api.delete(f"/api-keys/{theirs.public_id}").status_code == 404
    assert key_client(their_key).get("/integrations").status_code == 200  # still works


def test_a_key_cannot_manage_keys(org):
    api_key, key = make_key(org, role=Membership.Role.OWNER)
    client = key_client(key)
    assert client.get("/api-keys").status_code == 403
    assert client.post("/api-keys", {"name": "child", "role": "owner"}, format="json").status_code == 403
    assert client.delete(f"/api-keys/{api_key.public_id}").status_code == 403
    assert OrgAPIKey.objects.filter(revoked=False).count() == 1


# --- a key acts in its org with its role -------------------------------------------------------

def test_a_key_reads_its_orgs_numbers_without_an_orgid_header(org):
    number = make_number(org)
    _, key = make_key(org, role=Membership.Role.MEMBER)
    client = key_client(key)
    response = client.get("/phone/numbers")
    assert response.status_code == 200
    assert [n["id"] for n in response.json()["numbers"]] == [number.public_id]
    assert client.get(f"/phone/numbers/{number.public_id}").status_code == 200
    assert key_client(key, org.slug).get("/phone/numbers").status_code == 200  # its own org, named


def test_another_orgs_key_cannot_read_this_orgs_numbers(org, other_org):
    number = make_number(org)
    _, their_key = make_key(other_org, role=Membership.Role.OWNER)
    client = key_client(their_key)
    assert client.get(f"/phone/numbers/{number.public_id}").status_code == 404
    assert client.get("/phone/numbers").json()["numbers"] == []
    # Naming this org does not help: a key acts only in its own.
    named = key_client(their_key, org.slug)
    assert named.get("/phone/numbers").status_code == 403
    assert named.get(f"/phone/numbers/{number.public_id}").status_code == 403
    assert named.delete(f"/phone/numbers/{number.public_id}").status_code == 403
    number.refresh_from_db()
    assert number.status == PhoneNumber.Status.ACTIVE


def test_a_keys_role_limits_what_it_may_do(org):
    _, member_key = make_key(org, role=Membership.Role.MEMBER)
    response = key_client(member_key).post("/integrations", {"type": "sandbox-provider", "name": "x"},
                                           format="json")
    assert response.status_code == 403
    assert not ProviderConnection.objects.exists()


def test_a_keys_writes_are_done_and_audited_as_the_key(org, alice):
    api_key, key = make_key(org, role=Membership.Role.OWNER)
    response = key_client(key).post("/integrations", {"type": "sandbox-provider", "name": "From CRM"},
                                    format="json")
    assert response.status_code == 201
    assert ProviderConnection.objects.filter(org=org, name="From CRM").count() == 1
    entry = AuditLog.objects.get(action="api_key.request")
    assert entry.actor == api_key.user and entry.org == org and entry.target_id == api_key.public_id
    assert entry.note.startswith("POST /integrations")
    # The key's principal is no member of anything and cannot log in.
    assert not Membership.objects.filter(user=api_key.user).exists()
    assert not api_key.user.has_usable_password()


def test_last_used_is_recorded(owner_api, org):
    api_key, key = make_key(org)
    assert key_client(key).get("/integrations").status_code == 200
    api_key.refresh_from_db()
    assert api_key.last_used_at is not None
    assert owner_api.get("/api-keys").json()["data"][0]["lastUsedAt"] is not None


@pytest.mark.parametrize("header", [
    "Bearer tpk_nosuchkey.0123456789012345678901234567890123456789",
    "Bearer tpk_",
    "Bearer tpk_garbage",
])
def test_an_unknown_or_malformed_key_is_a_401(org, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/integrations")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_key_with_a_wrong_secret_is_a_401(org):
    _, key = make_key(org)
    forged = key[:-1] + ("A" if not key.endswith("A") else "B")
    assert key_client(forged).get("/integrations").status_code == 401


def test_an_expired_key_is_a_401(org):
    api_key, key = make_key(org)
    OrgAPIKey.objects.filter(pk=api_key.pk).update(expiry_date=timezone.now() - timedelta(seconds=1))
    assert key_client(key).get("/integrations").status_code == 401


def test_jwts_still_work_beside_keys(owner_api, org):
    make_key(org)
    assert owner_api.get("/integrations").status_code == 200


# --- failed attempts are throttled like logins -------------------------------------------------

def test_failed_key_attempts_are_throttled_per_client_address(org, settings, clock):
    settings.AUTH_ADDRESS_THROTTLE_RATE = "3/min"
    _, key = make_key(org)
    for _ in range(3):
        assert key_client("tpk_wrongkey.x").get("/integrations").status_code == 401
    response = key_client(key).get("/integrations")  # even the right key, within the window
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert 1 <= int(response["Retry-After"]) <= 60
    assert key_client(key, REMOTE_ADDR="10.0.0.9").get("/integrations").status_code == 200  # another address
    clock.advance(61)
    assert key_client(key).get("/integrations").status_code == 200


def test_successful_key_requests_are_not_counted(org, settings):
    settings.AUTH_ADDRESS_THROTTLE_RATE = "2/min"
    _, key = make_key(org)
    client = key_client(key)
    assert [client.get("/integrations").status_code for _ in range(5)] == [200] * 5


# --- staff ---------------------------------------------------------------------------------------

@pytest.fixture
def staff_client(client, db):
    staff = get_user_model().objects.create_superuser("staff", "staff@example.com", "staff-password")
    client.force_login(staff)
    return client


def test_staff_see_keys_without_their_secrets_and_revoke_them(staff_client, org):
    api_key, key = make_key(org)
    page = staff_client.get("/admin/telephony/orgapikey/")
    assert page.status_code == 200
    html = page.content.decode()
    assert api_key.display_prefix in html and key.partition(".")[2] not in html
    detail = staff_client.get(f"/admin/telephony/orgapikey/{api_key.pk}/change/")
    assert detail.status_code == 200 and key.partition(".")[2] not in detail.content.decode()
    response = staff_client.post("/admin/telephony/orgapikey/",
                                 {"action": "revoke", "_selected_action": [api_key.pk]})
    assert response.status_code == 302
    api_key.refresh_from_db()
    assert api_key.revoked
    assert key_client(key).get("/integrations").status_code == 401
    assert AuditLog.objects.filter(action="api_key.revoke", actor__username="staff").count() == 1


def test_the_schema_documents_the_key_scheme_and_endpoints(client):
    schema = client.get("/api/schema", HTTP_ACCEPT="application/json").json()
    scheme = schema["components"]["securitySchemes"]["orgApiKey"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    assert "/api-keys" in schema["paths"]
    assert any(path.startswith("/api-keys/{") for path in schema["paths"])  # the one key, by its id
    assert {"orgApiKey": []} in schema["paths"]["/integrations"]["get"]["security"]
