import logging

import pytest
from django.db import connection as db

from orgs.models import ProviderConnection

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox_account(db):
    from sandbox.services import sandbox_account_create

    return sandbox_account_create(friendly_name="test account")


def create(api, **body):
    return api.post("/integrations", body, format="json")


def test_an_owner_connects_a_new_sandbox_account(owner_api, org):
    response = create(owner_api, type="sandbox-provider", name="Sandbox")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["type"] == "sandbox-provider"
    assert body["accountId"].startswith("AC")
    assert body["credentials"]["authToken"] == "********"
    assert ProviderConnection.objects.get(org=org).account_id == body["accountId"]


def test_it_connects_existing_credentials_after_checking_them(owner_api, org, sandbox_account):
    response = create(owner_api, type="sandbox-provider", name="Mine",
                      credentials={"accountSid": sandbox_account.sid, "authToken": sandbox_account.auth_token},
                      publicConfig={"defaultSenderNumber": "+1 415 555 0100"})
    assert response.status_code == 201, response.json()
    assert response.json()["publicConfig"] == {"defaultSenderNumber": "+14155550100"}
    assert sandbox_account.auth_token not in response.content.decode()


def test_it_rejects_credentials_the_provider_refuses_and_saves_nothing(owner_api, org, sandbox_account):
    response = create(owner_api, type="sandbox-provider", name="Bad",
                      credentials={"accountSid": sandbox_account.sid, "authToken": "0" * 32})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_credentials"
    assert response.json()["error"]["field"] == "credentials"
    assert not ProviderConnection.objects.exists()


@pytest.mark.parametrize("body, field", [
    ({"name": "x"}, "type"),
    ({"type": "fax-provider", "name": "x"}, "type"),
    ({"type": "twilio-provider"}, "name"),
    ({"type": "twilio-provider", "name": "x", "credentials": {"accountSid": "AC123", "authToken": "t"}},
     "credentials.accountSid"),
    ({"type": "twilio-provider", "name": "x", "credentials": {"accountSid": "AC" + "a" * 32}},
     "credentials.authToken"),
    ({"type": "twilio-provider", "name": "x",
      "credentials": {"accountSid": "AC" + "a" * 32, "apiKeySid": "SK" + "b" * 32}}, "credentials.apiKeySecret"),
    ({"type": "twilio-provider", "name": "x", "credentials": {"accountSid": "AC" + "a" * 32, "authToken": "t",
                                                                "password": "p"}}, "credentials.password"),
    ({"type": "sandbox-provider", "name": "x", "publicConfig": {"apiBaseUrl": "not a url"}}, "publicConfig.apiBaseUrl"),
    ({"type": "sandbox-provider", "name": "x", "publicConfig": {"defaultSenderNumber": "12"}},
     "publicConfig.defaultSenderNumber"),
    ({"type": "sandbox-provider", "name": "x", "extra": 1}, "extra"),
])
def test_bad_input_is_a_400_naming_the_field_and_saves_nothing(owner_api, body, field):
    response = owner_api.post("/integrations", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field
    assert not ProviderConnection.objects.exists()


def test_an_unreachable_provider_is_a_503_and_saves_nothing(owner_api, settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]  # a host the operator allows (nothing listens on port 9)
    response = create(owner_api, type="twilio-provider", name="Down",
                      credentials={"accountSid": "AC" + "a" * 32, "authToken": "t" * 32},
                      publicConfig={"apiBaseUrl": "http://127.0.0.1:9"})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "provider_unavailable"
    assert not ProviderConnection.objects.exists()


def test_the_database_holds_no_plaintext_secret(owner_api, sandbox_account):
    create(owner_api, type="sandbox-provider", name="Mine",
           credentials={"accountSid": sandbox_account.sid, "authToken": sandbox_account.auth_token})
    with db.cursor() as cursor:
        cursor.execute("SELECT * FROM telephony_providerconnection")
        row = " ".join(str(value) for value in cursor.fetchone())
    assert sandbox_account.auth_token not in row
    assert ProviderConnection.objects.get().credentials["authToken"] == sandbox_account.auth_token


def test_secrets_are_never_logged(owner_api, sandbox_account, caplog):
    with caplog.at_level(logging.DEBUG):
        create(owner_api, type="sandbox-provider", name="Mine",
               credentials={"accountSid": sandbox_account.sid, "authToken": sandbox_account.auth_token})
    assert caplog.records
    assert sandbox_account.auth_token not in caplog.text


def test_list_and_get_show_masked_credentials(owner_api, member_api):
    created = create(owner_api, type="sandbox-provider", name="Sandbox").json()
    listed = member_api.get("/integrations").json()["data"]
    assert [c["id"] for c in listed] == [created["id"]]
    one = member_api.get(f"/integrations/{created['id']}").json()
    assert one["credentials"] == created["credentials"]
    assert one["credentials"]["authToken"] == "********"


def test_a_member_can_read_but_not_change_connections(owner_api, member_api):
    created = create(owner_api, type="sandbox-provider", name="Sandbox").json()
    assert member_api.put(f"/integrations/{created['id']}", {"name": "x"}, format="json").status_code == 403
    assert member_api.delete(f"/integrations/{created['id']}").status_code == 403
    assert ProviderConnection.objects.get().name == "Sandbox"


def test_an_admin_cannot_manage_connections_either(admin_api):
    assert create(admin_api, type="sandbox-provider", name="x").status_code == 403


def test_the_outsider_gets_404_for_every_id(owner_api, outsider_api):
    created = create(owner_api, type="sandbox-provider", name="Sandbox").json()
    url = f"/integrations/{created['id']}"
    assert outsider_api.get(url).status_code == 404
    assert outsider_api.put(url, {"name": "mine now"}, format="json").status_code == 404
    assert outsider_api.delete(url).status_code == 404
    assert outsider_api.get("/integrations").json()["data"] == []
    assert ProviderConnection.objects.get().name == "Sandbox"


def test_update_renames_and_checks_new_credentials(owner_api, sandbox_account):
    created = create(owner_api, type="sandbox-provider", name="Sandbox").json()
    url = f"/integrations/{created['id']}"
    renamed = owner_api.put(url, {"name": "Renamed", "publicConfig": {"messagingServiceSid": "MG" + "1" * 32}},
                            format="json")
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Renamed"
    before = ProviderConnection.objects.get().secret_blob
    refused = owner_api.put(url, {"credentials": {"authToken": "f" * 32}}, format="json")
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "invalid_credentials"
    assert ProviderConnection.objects.get().secret_blob == before


def test_delete_removes_an_unused_connection(owner_api):
    created = create(owner_api, type="sandbox-provider", name="Sandbox").json()
    assert owner_api.delete(f"/integrations/{created['id']}").status_code == 204
    assert owner_api.get("/integrations").json()["data"] == []
