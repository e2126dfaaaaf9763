"""Stored secrets go only where their owner sent them, and only to public addresses (SSRF).

Each finding reproduced against a real socket server on 127.0.0.1 that records every connection:
an owner pointing `publicConfig.apiBaseUrl` at it without the credentials, the outbound guard with
DEBUG off, the port-scanner answers, and the org's outbound webhooks.
"""
from __future__ import annotations

import base64

import httpx
import pytest

from core.errors import DomainError
from orgs.models import AuditLog, ProviderConnection
from phones.messaging import outbound_webhooks as webhooks
from phones.models import MessagingSettings, OutboundWebhookDelivery
from providers.base import ProviderError
from providers.http import client as provider_client
from providers.http import json_request
from tests.outbound_helpers import Listener, closed_port, http_reply, resolving

pytestmark = pytest.mark.django_db

ACCOUNT_SID = "AC" + "1" * 32
STORED_TOKEN = "s" * 32
NEW_TOKEN = "n" * 32
KEY_SID = "SK" + "2" * 32
KEY_SECRET = "k" * 32
ACCOUNT = {"sid": ACCOUNT_SID, "friendly_name": "Mine", "status": "active"}


@pytest.fixture(autouse=True)
def production(settings):
    settings.OUTBOUND_ALLOW_LOOPBACK = False
    settings.OUTBOUND_ALLOWED_HOSTS = []


@pytest.fixture
def listener():
    server = Listener(http_reply(200, ACCOUNT))
    yield server
    server.close()


def connection_for(org, **credentials) -> ProviderConnection:
    connection = ProviderConnection(org=org, type="twilio-provider", name="Twilio", account_id=ACCOUNT_SID,
                                    public_config={"defaultSenderNumber": "+14155550100"})
    connection.credentials = {"accountSid": ACCOUNT_SID, "authToken": STORED_TOKEN, **credentials}
    connection.save()
    return connection


@pytest.fixture
def twilio(org) -> ProviderConnection:
    return connection_for(org)


def snapshot(connection: ProviderConnection) -> tuple:
    connection.refresh_from_db()
    return (connection.public_config, connection.secret_blob, connection.account_id,
            ProviderConnection.objects.count(), AuditLog.objects.count())


def put(api, connection, body):
    return api.put(f"/integrations/{connection.public_id}", body, format="json")


# --- 1. a new destination needs the credentials again ---

@pytest.mark.parametrize("credentials", [None, {}, {"accountSid": ACCOUNT_SID}, {"authToken": NEW_TOKEN}])
def test_pointing_the_connection_elsewhere_without_the_credentials_is_a_400_and_sends_nothing(
        owner_api, twilio, listener, settings, credentials):
    settings.OUTBOUND_ALLOW_LOOPBACK = True  # even in development, where the guard lets loopback through
    before = snapshot(twilio)
    body = {"publicConfig": {"apiBaseUrl": f"http://127.0.0.1:{listener.port}"}}
    if credentials is not None:
        body["credentials"] = credentials
    response = put(owner_api, twilio, body)
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["field"] == "publicConfig.apiBaseUrl"
    assert response.json()["error"]["code"] == "credentials_required"
    assert listener.received == []
    assert snapshot(twilio) == before


def test_removing_a_base_url_also_needs_the_credentials(owner_api, org, listener, settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["compat.example"]
    connection = connection_for(org)
    connection.public_config = {"apiBaseUrl": "https://compat.example"}
    connection.save()
    before = snapshot(connection)
    response = put(owner_api, connection, {"publicConfig": {"defaultSenderNumber": "+14155550100"}})
    assert response.status_code == 400 and response.json()["error"]["field"] == "publicConfig.apiBaseUrl"
    assert snapshot(connection) == before


def test_with_the_credentials_only_those_are_sent_never_the_stored_ones(owner_api, org, listener, settings):
    """The stored auth token and API key are never merged into a request to a new destination."""
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    connection = connection_for(org, apiKeySid=KEY_SID, apiKeySecret=KEY_SECRET)
    response = put(owner_api, connection, {"credentials": {"accountSid": ACCOUNT_SID, "authToken": NEW_TOKEN},
                                           "publicConfig": {"apiBaseUrl": f"http://127.0.0.1:{listener.port}"}})
    assert response.status_code == 200, response.json()
    [request] = listener.received
    basic = base64.b64encode(f"{ACCOUNT_SID}:{NEW_TOKEN}".encode())
    assert b"\r\nAuthorization: Basic " + basic + b"\r\n" in request
    for secret in (STORED_TOKEN, KEY_SECRET, KEY_SID):
        assert secret.encode() not in request and base64.b64encode(secret.encode())[:16] not in request
    connection.refresh_from_db()
    assert connection.credentials == {"accountSid": ACCOUNT_SID, "authToken": NEW_TOKEN}
    assert connection.public_config["apiBaseUrl"] == f"http://127.0.0.1:{listener.port}"


def test_a_rename_needs_no_credentials_and_sends_nothing(owner_api, twilio, listener):
    response = put(owner_api, twilio, {"name": "Renamed"})
    assert response.status_code == 200 and listener.received == []


# --- 2. the guard, with DEBUG off and no host allowed ---

@pytest.mark.parametrize("url", ["http://127.0.0.1:{port}", "https://127.0.0.1:{port}", "https://localhost:{port}",
                                 "https://[::1]:{port}", "https://[::ffff:127.0.0.1]:{port}", "https://0.0.0.0:{port}",
                                 "https://169.254.169.254/latest", "https://10.0.0.5", "http://api.example.com"])
def test_internal_or_plain_http_base_urls_are_refused_even_with_credentials(owner_api, twilio, listener, url):
    before = snapshot(twilio)
    response = put(owner_api, twilio, {"credentials": {"accountSid": ACCOUNT_SID, "authToken": NEW_TOKEN},
                                       "publicConfig": {"apiBaseUrl": url.format(port=listener.port)}})
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["field"] == "publicConfig.apiBaseUrl"
    assert listener.received == []
    assert snapshot(twilio) == before


def test_a_name_resolving_to_loopback_is_refused_when_connecting(owner_api, twilio, listener):
    before = snapshot(twilio)
    with resolving({"tenant-api.example": ["127.0.0.1"]}):
        response = put(owner_api, twilio, {"credentials": {"accountSid": ACCOUNT_SID, "authToken": NEW_TOKEN},
                                           "publicConfig": {"apiBaseUrl": f"https://tenant-api.example:{listener.port}"}})
    assert response.status_code == 400, response.json()
    assert response.json()["error"] | {"message": None} == {
        "code": "destination_refused", "field": "publicConfig.apiBaseUrl", "message": None}
    assert response.json()["error"]["message"].startswith("Twilio could not be reached")
    assert listener.received == []
    assert snapshot(twilio) == before


def test_a_stored_base_url_that_now_resolves_inward_sends_nothing(member_api, org, listener):
    """Set while it pointed outward (or while DEBUG was on): refused when connecting, every time."""
    connection = connection_for(org)
    connection.public_config = {"apiBaseUrl": f"https://rebound.example:{listener.port}"}
    connection.save()
    with resolving({"rebound.example": ["127.0.0.1"]}):
        response = member_api.get("/phone/available", {"countryCode": "US", "areaCode": "415"})
    assert response.status_code == 422 and "could not be reached" in response.json()["error"]["message"]
    assert listener.received == []


def test_creating_a_connection_at_an_internal_address_saves_and_sends_nothing(owner_api, listener):
    with resolving({"tenant-api.example": ["10.1.2.3", "127.0.0.1"]}):
        response = owner_api.post("/integrations", {
            "type": "twilio-provider", "name": "x", "credentials": {"accountSid": ACCOUNT_SID, "authToken": NEW_TOKEN},
            "publicConfig": {"apiBaseUrl": f"https://tenant-api.example:{listener.port}"}}, format="json")
    assert response.status_code == 400 and response.json()["error"]["field"] == "publicConfig.apiBaseUrl"
    assert not ProviderConnection.objects.exists() and listener.received == []


def test_an_allowed_host_works(owner_api, twilio, listener, settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["twilio-compat.internal"]
    with resolving({"twilio-compat.internal": ["127.0.0.1"]}):
        response = put(owner_api, twilio, {
            "credentials": {"accountSid": ACCOUNT_SID, "authToken": NEW_TOKEN},
            "publicConfig": {"apiBaseUrl": f"http://twilio-compat.internal:{listener.port}"}})
    assert response.status_code == 200, response.json()
    assert len(listener.received) == 1


# --- 3. one answer for every connection failure ---

def _create_at(owner_api, port: int):
    return owner_api.post("/integrations", {
        "type": "twilio-provider", "name": "x", "credentials": {"accountSid": ACCOUNT_SID, "authToken": NEW_TOKEN},
        "publicConfig": {"apiBaseUrl": f"http://127.0.0.1:{port}"}}, format="json").json()


def test_a_closed_port_and_a_listening_non_http_port_answer_alike(owner_api, settings):
    """With loopback allowed (so the guard lets the requests through), nothing in the answer tells
    a closed port from a database or cache that hangs up or answers something else."""
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    redis_like = Listener(b"-ERR unknown command 'GET'\r\n")
    postgres_like = Listener()  # reads, then hangs up
    try:
        answers = [_create_at(owner_api, port) for port in (closed_port(), redis_like.port, postgres_like.port)]
    finally:
        redis_like.close()
        postgres_like.close()
    assert answers[0] == answers[1] == answers[2], answers
    assert answers[0]["error"]["message"].endswith("Twilio could not be reached")
    assert not ProviderConnection.objects.exists()


def test_the_json_transport_answers_alike_too(settings):
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    redis_like = Listener(b"-ERR unknown command\r\n")
    postgres_like = Listener()
    errors = []
    try:
        for port in (closed_port(), redis_like.port, postgres_like.port):
            with provider_client(base_url=f"http://127.0.0.1:{port}/", timeout=5) as http, \
                    pytest.raises(ProviderError) as caught:
                json_request(http, "GET", "", provider="plivo", display_name="Plivo",
                             from_answer=lambda response: ProviderError("no"))
            errors.append((caught.value.message, caught.value.code, caught.value.as_domain_error().status_code))
    finally:
        redis_like.close()
        postgres_like.close()
    assert errors == [("Plivo could not be reached", "connection_failed", 503)] * 3


def test_the_json_transport_refuses_internal_addresses():
    server = Listener(http_reply())
    try:
        with provider_client(base_url=f"https://127.0.0.1:{server.port}/", timeout=5) as http, \
                pytest.raises(ProviderError) as caught:
            json_request(http, "GET", "", provider="telnyx", display_name="Telnyx",
                         from_answer=lambda response: ProviderError("no"))
    finally:
        server.close()
    assert caught.value.code == "destination_refused" and caught.value.permanent
    assert server.received == []


def test_plivo_and_telnyx_clients_go_through_the_guard():
    from providers.plivo.client import PlivoProvider
    from providers.telnyx.client import TelnyxProvider

    for provider in (PlivoProvider(auth_id="MA" + "A" * 18, auth_token="t"), TelnyxProvider(api_key="k")):
        transport = provider.http._transport
        assert type(transport).__name__ == "GuardedTransport" and not provider.http._mounts
    assert isinstance(PlivoProvider(auth_id="MA" + "A" * 18, auth_token="t",
                                    transport=httpx.MockTransport(lambda r: None)).http._transport,
                      httpx.MockTransport)


# --- 4. the org's outbound webhooks ---

def test_webhook_urls_at_internal_addresses_are_a_400(owner_api, listener):
    for field, url in (("automationWebhookUrl", f"http://127.0.0.1:{listener.port}/hook"),
                       ("aiAssistantUrl", "https://169.254.169.254/latest/meta-data"),
                       ("automationWebhookUrl", "http://hooks.example.com/plain-http")):
        response = owner_api.put("/messaging/settings", {field: url}, format="json")
        assert response.status_code == 400 and response.json()["error"]["field"] == field, response.json()
    assert not MessagingSettings.objects.filter(automation_webhook_url__contains="127.0.0.1").exists()
    assert listener.received == []


def test_a_delivery_to_loopback_is_failed_without_sending(org, listener):
    """A URL stored before the guard (or while DEBUG was on) is refused when the delivery is made."""
    settings_ = MessagingSettings.objects.create(org=org, signing_secret="x" * 64,
                                                 automation_webhook_url=f"http://127.0.0.1:{listener.port}/hook")
    delivery = webhooks.delivery_create(org=org, org_settings=settings_, key="k1", event="sms.automation",
                                        payload={"body": "a private text"})
    assert (delivery.status, delivery.last_error[:8]) == ("failed", "refused:")
    assert listener.received == []


def test_a_delivery_to_a_name_resolving_inward_fails_at_once_without_sending(org, listener):
    settings_ = MessagingSettings.objects.create(
        org=org, signing_secret="x" * 64, automation_webhook_url=f"https://hooks.tenant.example:{listener.port}/in")
    delivery = webhooks.delivery_create(org=org, org_settings=settings_, key="k2", event="sms.automation",
                                        payload={"body": "a private text"})
    assert delivery.status == OutboundWebhookDelivery.Status.PENDING
    with resolving({"hooks.tenant.example": ["127.0.0.1"]}):
        webhooks.delivery_attempt(delivery)  # not raised: nothing to retry
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert delivery.last_error.startswith("refused:")
    assert listener.received == []


def test_the_ai_assistant_is_not_asked_at_an_internal_address(org, listener):
    settings_ = MessagingSettings.objects.create(org=org, signing_secret="x" * 64,
                                                 ai_assistant_url=f"http://127.0.0.1:{listener.port}/ai")
    assert webhooks.ai_assistant_url(settings_, org=org, number="+14155550100") == ""
    with pytest.raises(webhooks.DeliveryRefused):
        webhooks.post_signed(settings_.ai_assistant_url, "s", {"messages": []}, event="sms.ai_assistant",
                             webhook_id="ai_1")
    assert listener.received == []


def test_webhooks_reach_loopback_in_development(org, listener, settings):
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    response = webhooks.post_signed(f"http://127.0.0.1:{listener.port}/hook", "s", {"a": 1}, event="e",
                                    webhook_id="w")
    assert response.status_code == 200 and len(listener.received) == 1


def test_setting_a_refused_url_directly_raises(org):
    with pytest.raises(DomainError) as caught:
        webhooks.messaging_settings_update(org=org, automation_webhook_url="https://[::1]/hook")
    assert caught.value.field == "automationWebhookUrl"
