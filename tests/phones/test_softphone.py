"""Softphone: Voice SDK access tokens and presence."""
from __future__ import annotations

import time

import jwt
import pytest

from phones.models import SoftphonePresence

API_KEY = "SK" + "1" * 32
SECRET = "0123456789abcdef0123456789abcdef"
APP = "AP" + "2" * 32


@pytest.fixture
def configured(sandbox):
    sandbox.credentials = {**sandbox.credentials, "apiKeySid": API_KEY, "apiKeySecret": SECRET}
    sandbox.public_config = {"twimlAppSid": APP}
    sandbox.save()
    return sandbox


def test_the_token_decodes_with_the_api_key_secret_and_carries_the_voice_grant(member_api, member, configured):
    before = int(time.time())
    response = member_api.post("/phone/softphone/token")
    after = int(time.time()) + 1
    assert response.status_code == 200, response.json()
    body = response.json()
    claims = jwt.decode(body["token"], SECRET, algorithms=["HS256"])
    assert claims["iss"] == API_KEY
    assert claims["sub"] == configured.credentials["accountSid"]
    assert claims["grants"]["identity"] == body["identity"] == f"user_{member.pk}"
    assert claims["grants"]["voice"] == {"outgoing": {"application_sid": APP}, "incoming": {"allow": True}}
    # An hour from when it was made: no more, no less.
    assert body["ttl"] == 3600
    assert before + 3600 <= claims["exp"] <= after + 3600
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(body["token"], "f" * 32, algorithms=["HS256"])


@pytest.mark.parametrize("missing", ["apiKeySid", "apiKeySecret", "twimlAppSid"])
def test_missing_configuration_is_named(owner_api, configured, missing):
    if missing == "twimlAppSid":
        configured.public_config = {}
    else:
        configured.credentials = {k: v for k, v in configured.credentials.items() if k != missing}
    configured.save()
    response = owner_api.post("/phone/softphone/token")
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("softphone_not_configured", missing)
    assert missing in error["message"]


def test_without_a_connection_it_says_twilio_is_not_configured(owner_api, org):
    response = owner_api.post("/phone/softphone/token")
    assert (response.status_code, response.json()["error"]["code"]) == (400, "provider_not_configured")


def test_presence_is_persisted_and_listed_for_the_org(member_api, owner_api, member, alice):
    response = member_api.put("/phone/softphone/presence", {"status": "available"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "available"
    member_api.put("/phone/softphone/presence", {"status": "busy"}, format="json")
    assert SoftphonePresence.objects.get().status == "busy"
    listing = {p["user"]: p["status"] for p in owner_api.get("/phone/softphone/presence").json()["data"]}
    assert listing == {"alice": "offline", "bob": "busy"}


def test_presence_rejects_unknown_statuses(member_api, member):
    response = member_api.put("/phone/softphone/presence", {"status": "napping"}, format="json")
    assert (response.status_code, response.json()["error"]["field"]) == (400, "status")
    assert not SoftphonePresence.objects.exists()


def test_outsiders_see_only_their_org(outsider_api, member_api, member):
    member_api.put("/phone/softphone/presence", {"status": "away"}, format="json")
    assert [p["user"] for p in outsider_api.get("/phone/softphone/presence").json()["data"]] == ["charlie"]
