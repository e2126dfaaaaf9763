"""Verify tests run against the sandbox: drift is made there, as a dashboard edit would make it."""
from __future__ import annotations

import pytest

from phones.models import PhoneNumber
from sandbox.client import SandboxHttpClient
from sandbox.models import SandboxNumber
from sandbox.services import sandbox_number_update
from tests.phones.conftest import active_number, available, buy, funded, on_commit, sandbox  # noqa: F401

APP_SID = "AP" + "a" * 32
TRUNK_SID = "TK" + "b" * 32


@pytest.fixture
def provider_requests(monkeypatch) -> list[tuple[str, str, dict]]:
    """(method, url, query) of every request the twilio SDK sends to the sandbox."""
    sent: list[tuple[str, str, dict]] = []
    original = SandboxHttpClient.request

    def record(self, method, url, params=None, data=None, **kwargs):
        sent.append((method.upper(), url, dict(params or {})))
        return original(self, method, url, params=params, data=data, **kwargs)

    monkeypatch.setattr(SandboxHttpClient, "request", record)
    return sent


def at_provider(number: PhoneNumber) -> SandboxNumber:
    return SandboxNumber.objects.get(sid=number.provider_sid)


def drift(number: PhoneNumber, **params: str) -> SandboxNumber:
    """Change the number at the provider with Twilio's own field names (VoiceUrl, SmsMethod …)."""
    return sandbox_number_update(number=at_provider(number), params=params)


@pytest.fixture
def second_number(owner_api, on_commit, sandbox, funded) -> PhoneNumber:  # noqa: F811
    response = buy(owner_api, on_commit, available(sandbox, "212"), friendlyName="Support")
    assert response.status_code == 202, response.json()
    return PhoneNumber.objects.get(public_id=response.json()["number"]["id"])
