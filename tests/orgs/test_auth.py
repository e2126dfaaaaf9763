import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from orgs.models import Membership
from tests.conftest import PASSWORD, api_client

pytestmark = pytest.mark.django_db


def test_it_issues_tokens_for_a_valid_login(alice):
    response = APIClient().post("/api/auth/token", {"username": "alice", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}


def test_it_rejects_a_wrong_password(alice):
    response = APIClient().post("/api/auth/token", {"username": "alice", "password": "nope"}, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "no_active_account"


def test_refresh_rotates_and_blacklists_the_old_refresh_token(alice):
    tokens = APIClient().post("/api/auth/token", {"username": "alice", "password": PASSWORD}, format="json").json()
    first = APIClient().post("/api/auth/token/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert first.status_code == 200
    assert first.json()["refresh"] != tokens["refresh"]
    replay = APIClient().post("/api/auth/token/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert replay.status_code == 401


def test_it_answers_401_without_a_token(org):
    response = APIClient().get("/integrations", HTTP_ORGID=org.slug)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_it_answers_401_for_a_tampered_token(alice, org):
    client = api_client(alice, org)
    header = client._credentials["HTTP_AUTHORIZATION"]
    client.credentials(HTTP_AUTHORIZATION=header[:-3] + ("AAA" if not header.endswith("AAA") else "BBB"))
    response = client.get("/integrations")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_not_valid"


def test_it_answers_401_for_an_expired_token(alice, org):
    from datetime import timedelta

    from rest_framework_simplejwt.tokens import AccessToken

    token = AccessToken.for_user(alice)
    token.set_exp(lifetime=-timedelta(seconds=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ORGID=org.slug)
    assert client.get("/integrations").status_code == 401


def test_it_requires_the_orgid_header(alice, org):
    response = api_client(alice, None).get("/integrations")
    assert response.status_code == 400
    assert response.json()["error"] == {"code": "orgid_required", "message": "The orgid header is required",
                                        "field": "orgid"}


def test_a_non_member_gets_403_for_the_org(charlie, org):
    response = api_client(charlie, org).get("/integrations")
    assert response.status_code == 403


def test_an_unknown_org_is_403_like_a_foreign_one(alice, org):
    assert api_client(alice, "no-such-org").get("/integrations").status_code == 403


def test_membership_is_checked_live_on_each_request(alice, org, member):
    client = api_client(member, org)
    assert client.get("/integrations").status_code == 200
    Membership.objects.filter(user=member).delete()
    assert client.get("/integrations").status_code == 403


def test_a_member_cannot_manage_connections(member_api):
    response = member_api.post("/integrations", {"type": "sandbox-provider", "name": "x"}, format="json")
    assert response.status_code == 403


@override_settings(DEBUG=False)
def test_health_reports_database_and_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["broker"] in ("ok", "eager")


def test_health_is_503_when_the_broker_is_down(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"].startswith("down")
