"""Shared by the sandbox and provider tests: a provider on the in-process emulator."""
from __future__ import annotations

import base64

from providers.base import Webhooks
from providers.twilio.client import TwilioProvider
from sandbox.client import SandboxHttpClient
from sandbox.models import SandboxAccount

ROOT = "/sandbox/2010-04-01/Accounts"


def basic(username: str, password: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


WEBHOOKS = Webhooks(
    voice_url="https://app.example.com/connect/webhook/twilio/voice",
    voice_fallback_url="https://app.example.com/connect/webhook/twilio/voice-fallback",
    sms_url="https://app.example.com/connect/webhook/twilio/sms",
    status_callback="https://app.example.com/connect/webhook/twilio/status",
)


def sandbox_provider(account: SandboxAccount, **credentials: str) -> TwilioProvider:
    """TwilioProvider on the real SDK, answered in-process by the emulator."""
    credentials = credentials or {"auth_token": account.auth_token}
    return TwilioProvider(account_sid=account.sid, http_client=SandboxHttpClient(), **credentials)


class RecordingSandboxClient(SandboxHttpClient):
    """The in-process client, keeping (method, url, params, data) of every request the SDK made."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, str, dict, dict]] = []

    def request(self, method, url, params=None, data=None, **kwargs):
        self.sent.append((method, url, dict(params or {}), dict(data or {})))
        return super().request(method, url, params=params, data=data, **kwargs)


def recording_provider(account: SandboxAccount) -> tuple[TwilioProvider, RecordingSandboxClient]:
    http = RecordingSandboxClient()
    return TwilioProvider(account_sid=account.sid, auth_token=account.auth_token, http_client=http), http
