"""Seed 004's contract through our API for Plivo and Telnyx connections: `POST /integrations`
checks the credentials with the provider before saving; `POST /phone/numbers/add` checks
ownership and points the number's webhooks at us, or saves nothing.

The providers' HTTP is answered at the one method every request goes through
(`httpx.HTTPTransport.handle_request`, patched with autospec) from the recorded fixtures."""
from __future__ import annotations

from unittest import mock

import httpx
import pytest

from billing.services import balance_get, ledger_topup
from orgs.models import ProviderConnection
from orgs.services import connection_create
from phones.models import PhoneNumber
from tests.providers import test_plivo as plivo
from tests.providers import test_telnyx as telnyx
from tests.providers.test_plivo import FakeApi, fixture

pytestmark = pytest.mark.django_db

TELNYX_CONFIG = {"connectionId": telnyx.APP_ID, "messagingProfileId": telnyx.PROFILE_ID,
                 "webhookPublicKey": telnyx.PUBLIC_KEY}


@pytest.fixture
def answer_with():
    """Route every provider request to `api`; returns the patch for call counts."""
    patches = []

    def install(api: FakeApi):
        patcher = mock.patch.object(httpx.HTTPTransport, "handle_request", autospec=True,
                                    side_effect=lambda transport, request: api(request))
        patches.append(patcher)
        return patcher.start()

    yield install
    for patcher in patches:
        patcher.stop()


@pytest.fixture
def funded(org):
    ledger_topup(org=org, amount=10_000, reason="test funds")
    return org


class TestIntegrations:
    def test_a_plivo_account_is_connected_after_plivo_accepts_it_and_shown_masked(self, owner_api, org, answer_with):
        answer_with(plivo.plivo_api())
        response = owner_api.post("/integrations", {"type": "plivo-provider", "name": "Plivo", "credentials": {
            "authId": plivo.AUTH_ID, "authToken": plivo.AUTH_TOKEN}}, format="json")
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["accountId"] == plivo.AUTH_ID
        assert body["credentials"] == {"authId": "MADE…FEE1", "authToken": "********"}
        connection = ProviderConnection.objects.get(org=org)
        assert plivo.AUTH_TOKEN not in connection.secret_blob
        assert connection.credentials["authToken"] == plivo.AUTH_TOKEN

    def test_plivo_credentials_plivo_refuses_are_a_400_and_nothing_is_saved(self, owner_api, answer_with):
        answer_with(FakeApi().on("GET", plivo.ACCOUNT, (401, fixture("plivo", "error_401"))))
        response = owner_api.post("/integrations", {"type": "plivo-provider", "name": "Plivo", "credentials": {
            "authId": plivo.AUTH_ID, "authToken": "wrong"}}, format="json")
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_credentials"
        assert "authentication failed" in response.json()["error"]["message"]
        assert not ProviderConnection.objects.exists()

    def test_a_telnyx_account_is_connected_with_its_application_and_profile(self, owner_api, answer_with):
        answer_with(telnyx.telnyx_api())
        response = owner_api.post("/integrations", {"type": "telnyx-provider", "name": "Telnyx",
                                                    "credentials": {"apiKey": telnyx.API_KEY},
                                                    "publicConfig": TELNYX_CONFIG}, format="json")
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["credentials"] == {"apiKey": "********"}
        assert body["publicConfig"] == TELNYX_CONFIG and body["accountId"] == telnyx.APP_ID
        assert telnyx.API_KEY not in response.content.decode()

    def test_a_telnyx_key_telnyx_refuses_is_a_400_and_nothing_is_saved(self, owner_api, answer_with):
        answer_with(FakeApi().on("GET", "/v2/balance", (401, fixture("telnyx", "error_401"))))
        response = owner_api.post("/integrations", {"type": "telnyx-provider", "name": "Telnyx",
                                                    "credentials": {"apiKey": "KEYbad"},
                                                    "publicConfig": TELNYX_CONFIG}, format="json")
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_credentials"
        assert not ProviderConnection.objects.exists()

    @pytest.mark.parametrize("body, field", [
        ({"type": "plivo-provider", "credentials": {"authId": "nope", "authToken": "t"}}, "credentials.authId"),
        ({"type": "plivo-provider", "credentials": {"authId": plivo.AUTH_ID}}, "credentials.authToken"),
        ({"type": "telnyx-provider", "credentials": {"apiKey": "k"}, "publicConfig": {
            "messagingProfileId": telnyx.PROFILE_ID}}, "publicConfig.connectionId"),
        ({"type": "telnyx-provider", "credentials": {"apiKey": "k"}, "publicConfig": {
            **TELNYX_CONFIG, "webhookPublicKey": "bm90IGEga2V5"}}, "publicConfig.webhookPublicKey"),
    ])
    def test_bad_input_is_a_400_naming_the_field_before_any_provider_call(self, owner_api, answer_with, body, field):
        transport = answer_with(FakeApi())
        response = owner_api.post("/integrations", {"name": "x", **body}, format="json")
        assert response.status_code == 400
        assert response.json()["error"]["field"] == field
        assert not transport.called and not ProviderConnection.objects.exists()


def add(api_client, e164: str):
    return api_client.post("/phone/numbers/add", {"phoneNumber": e164, "friendlyName": "Main"}, format="json")


class TestPlivoNumbers:
    @pytest.fixture
    def api(self, org, answer_with):
        api = plivo.plivo_api()
        answer_with(api)
        connection_create(org=org, type_="plivo-provider", name="Plivo",
                          credentials={"authId": plivo.AUTH_ID, "authToken": plivo.AUTH_TOKEN})
        return api

    def test_an_owned_number_is_added_and_attached_to_our_application(self, owner_api, funded, api):
        response = add(owner_api, "+14155550142")
        assert response.status_code == 201, response.json()
        created = api.body("POST", f"{plivo.ACCOUNT}Application/")
        assert created["answer_url"].endswith("/connect/webhook/plivo/voice")
        assert created["message_url"].endswith("/connect/webhook/plivo/sms")
        assert created["hangup_url"].endswith("/connect/webhook/plivo/status")
        assert api.body("POST", f"{plivo.ACCOUNT}Number/14155550142/") == {"app_id": "29986316244302815",
                                                                          "alias": "Main"}
        number = PhoneNumber.objects.get()
        assert (number.provider_sid, number.status) == ("14155550142", "active")
        assert number.webhooks["smsUrl"].endswith("/connect/webhook/plivo/sms")

    def test_a_number_the_account_does_not_own_is_a_400(self, owner_api, funded, api):
        response = add(owner_api, "+14155550100")
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "number_not_owned"
        assert not PhoneNumber.objects.exists() and balance_get(org=funded).balance == 10_000

    def test_a_number_already_added_is_a_409(self, owner_api, funded, api):
        assert add(owner_api, "+14155550142").status_code == 201
        again = add(owner_api, "+14155550142")
        assert again.status_code == 409
        assert PhoneNumber.objects.count() == 1

    def test_when_plivo_fails_to_take_the_webhooks_it_is_a_502_and_nothing_is_saved(self, owner_api, funded, api):
        api.routes[("POST", f"{plivo.ACCOUNT}Number/14155550142/")] = [(500, "Internal Server Error")]
        response = add(owner_api, "+14155550142")
        assert response.status_code == 502
        assert response.json()["error"]["code"] == "webhook_setup_failed"
        assert not PhoneNumber.objects.exists() and balance_get(org=funded).balance == 10_000


class TestTelnyxNumbers:
    @pytest.fixture
    def api(self, org, answer_with):
        api = telnyx.telnyx_api()
        answer_with(api)
        connection_create(org=org, type_="telnyx-provider", name="Telnyx", credentials={"apiKey": telnyx.API_KEY},
                          public_config=TELNYX_CONFIG)
        return api

    def test_an_owned_number_is_added_with_its_application_and_profile_pointed_at_us(self, owner_api, funded, api):
        response = add(owner_api, "+14155550142")
        assert response.status_code == 201, response.json()
        assert api.body("PATCH", f"/v2/texml_applications/{telnyx.APP_ID}")["voice_url"].endswith(
            "/connect/webhook/telnyx/voice")
        assert api.body("PATCH", f"/v2/messaging_profiles/{telnyx.PROFILE_ID}")["webhook_url"].endswith(
            "/connect/webhook/telnyx/sms")
        assert api.body("PATCH", f"/v2/phone_numbers/{telnyx.NUMBER_ID}")["connection_id"] == telnyx.APP_ID
        assert PhoneNumber.objects.get().provider_sid == telnyx.NUMBER_ID

    def test_a_number_the_account_does_not_own_is_a_400(self, owner_api, funded, api):
        api.routes[("GET", "/v2/phone_numbers")] = [(200, fixture("telnyx", "phone_numbers_empty"))]
        response = add(owner_api, "+14155550142")
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "number_not_owned"
        assert not PhoneNumber.objects.exists()

    def test_a_number_already_added_is_a_409(self, owner_api, funded, api):
        assert add(owner_api, "+14155550142").status_code == 201
        assert add(owner_api, "+14155550142").status_code == 409

    def test_when_telnyx_fails_to_attach_the_number_it_is_a_502_and_nothing_is_saved(self, owner_api, funded, api):
        api.routes[("PATCH", f"/v2/phone_numbers/{telnyx.NUMBER_ID}")] = [
            (503, {"errors": [{"code": "10011", "title": "Service unavailable"}]})]
        response = add(owner_api, "+14155550142")
        assert response.status_code == 502
        assert response.json()["error"]["code"] == "webhook_setup_failed"
        assert not PhoneNumber.objects.exists() and balance_get(org=funded).balance == 10_000
