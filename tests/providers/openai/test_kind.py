"""The openai-realtime AI connection: checked with the SDK before saving, the key never returned,
the base URL guarded; AI connections are refused where a phone provider is needed."""
from __future__ import annotations

import pytest

from orgs.models import ProviderConnection
from providers.base import TextTurn
from providers.registry import ai_service
from tests.providers.openai.fake_openai import FakeOpenAI

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake_openai(settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]  # the operator allows the local fake, over http
    with FakeOpenAI() as fake:
        yield fake


def create(api, fake, key="sk-test-good", **config):
    return api.post("/integrations", {"type": "openai-realtime", "name": "OpenAI", "credentials": {"apiKey": key},
                                      "publicConfig": {"baseUrl": fake.base_url, **config}}, format="json")


def test_checked_before_saving_and_the_key_never_returned(owner_api, fake_openai):
    response = create(owner_api, fake_openai)
    assert response.status_code == 201, response.json()
    shown = response.json()
    assert shown["type"] == "openai-realtime"
    assert shown["credentials"] == {"apiKey": "********"}
    assert shown["publicConfig"] == {"baseUrl": fake_openai.base_url}
    assert fake_openai.requests[0] == {"method": "GET", "path": "/v1/models"}
    assert "sk-test-good" not in owner_api.get("/integrations").content.decode()
    connection = ProviderConnection.objects.get(public_id=shown["id"])
    assert "sk-test-good" not in connection.secret_blob  # encrypted at rest
    assert connection.credentials == {"apiKey": "sk-test-good"}


def test_a_refused_key_saves_nothing(owner_api, fake_openai):
    response = create(owner_api, fake_openai, key="sk-wrong")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_credentials"
    assert not ProviderConnection.objects.exists()


def test_an_endpoint_that_does_not_answer(owner_api, settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    response = owner_api.post("/integrations", {"type": "openai-realtime", "name": "x", "credentials": {
        "apiKey": "sk"}, "publicConfig": {"baseUrl": "http://127.0.0.1:9/v1"}}, format="json")
    assert response.status_code in (502, 503)
    assert not ProviderConnection.objects.exists()


@pytest.mark.parametrize("url", ["http://169.254.169.254/v1", "https://10.0.0.1/v1", "ftp://example.com",
                                 "http://example.com/v1"])
def test_base_url_goes_through_the_outbound_guard(owner_api, settings, url):
    settings.OUTBOUND_ALLOW_LOOPBACK = False
    settings.OUTBOUND_ALLOWED_HOSTS = []
    response = owner_api.post("/integrations", {"type": "openai-realtime", "name": "x", "credentials": {
        "apiKey": "sk"}, "publicConfig": {"baseUrl": url}}, format="json")
    assert response.status_code == 400
    assert not ProviderConnection.objects.exists()


def test_key_required(owner_api):
    response = owner_api.post("/integrations", {"type": "openai-realtime", "name": "x"}, format="json")
    assert response.status_code == 400
    assert not ProviderConnection.objects.exists()


def test_text_reply_through_the_sdk(fake_openai):
    reply = ai_service("openai-realtime").text_reply(
        {"apiKey": "sk-test-good"}, {"baseUrl": fake_openai.base_url}, instructions="Be brief.",
        history=[TextTurn("user", "hello"), TextTurn("assistant", "Hi!"), TextTurn("user", "hours?")])
    assert reply == "Hi from the fake model"
    sent = fake_openai.requests[-1]["body"]
    assert sent["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello"},
                                {"role": "assistant", "content": "Hi!"}, {"role": "user", "content": "hours?"}]


def test_sandbox_ai_needs_nothing(owner_api):
    response = owner_api.post("/integrations", {"type": "sandbox-ai", "name": "Sandbox AI"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["credentials"] == {}


def test_phone_paths_never_use_an_ai_connection(owner_api):
    """An org with only an AI connection has no phone provider: searching and buying say so."""
    assert owner_api.post("/integrations", {"type": "sandbox-ai", "name": "AI"}, format="json").status_code == 201
    search = owner_api.get("/phone/available?countryCode=US")
    assert search.status_code == 400
    assert search.json()["error"]["code"] == "provider_not_configured"
    buy = owner_api.post("/phone/numbers", {"phoneNumber": "+14155550123"}, format="json")
    assert buy.status_code == 400


def test_building_a_phone_provider_from_an_ai_connection_is_a_clear_400(org):
    from core.errors import DomainError
    from providers.registry import build_provider

    with pytest.raises(DomainError) as refused:
        build_provider("sandbox-ai", {}, {})
    assert refused.value.status_code == 400 and refused.value.code == "not_a_phone_connection"


def test_a_name_that_resolves_inward_is_refused_when_connecting(owner_api, settings):
    """DNS rebinding: https://ai.example passes the URL check, but resolves to our own machine,
    where a server listens: nothing reaches it and nothing is saved."""
    from tests.outbound_helpers import Listener, http_reply, resolving

    settings.OUTBOUND_ALLOW_LOOPBACK = False
    settings.OUTBOUND_ALLOWED_HOSTS = []
    listener = Listener(http_reply(200, {"object": "list", "data": []}))
    try:
        with resolving({"ai.example": ["127.0.0.1"]}):
            response = owner_api.post("/integrations", {
                "type": "openai-realtime", "name": "x", "credentials": {"apiKey": "sk-secret"},
                "publicConfig": {"baseUrl": f"https://ai.example:{listener.port}/v1"}}, format="json")
    finally:
        listener.close()
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["code"] == "destination_refused"
    assert listener.received == []
    assert not ProviderConnection.objects.exists()


def test_pointing_it_elsewhere_needs_the_key_again_and_a_new_key_is_checked(owner_api, fake_openai):
    created = create(owner_api, fake_openai).json()
    url = f"/integrations/{created['id']}"
    moved = owner_api.put(url, {"publicConfig": {"baseUrl": "https://other.example/v1"}}, format="json")
    assert moved.status_code == 400 and moved.json()["error"]["code"] == "credentials_required"
    wrong = owner_api.put(url, {"credentials": {"apiKey": "sk-wrong"}}, format="json")
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "invalid_credentials"
    connection = ProviderConnection.objects.get(public_id=created["id"])
    assert connection.credentials == {"apiKey": "sk-test-good"}
    assert connection.public_config == {"baseUrl": fake_openai.base_url}
