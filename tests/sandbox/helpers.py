"""Shared by the sandbox and provider tests: a provider on the in-process emulator."""
from __future__ import annotations

from sandbox.client import SandboxHttpClient
from sandbox.models import SandboxAccount
from telephony.providers.base import Webhooks
from telephony.providers.twilio import TwilioProvider

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
