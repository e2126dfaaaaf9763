"""The sandbox as a connection type: Twilio's provider, its SDK talking to the emulator in-process.
Registered by the sandbox app when Django starts (sandbox.apps), so providers/ needs no sandbox."""
from __future__ import annotations

from providers.base import PhoneProvider, ProviderKind
from providers.twilio.client import TwilioProvider
from providers.twilio.kind import PublicConfigSerializer, TwilioCredentialsSerializer, client_kwargs, sid_field
from sandbox.client import SandboxHttpClient


class SandboxCredentialsSerializer(TwilioCredentialsSerializer):
    """Empty credentials ask for a new sandbox account."""

    accountSid = sid_field("AC", required=False)

    def validate(self, attrs):
        return super().validate(attrs) if attrs else attrs


def build(credentials: dict, public_config: dict) -> PhoneProvider:
    return TwilioProvider(**client_kwargs(credentials), http_client=SandboxHttpClient())


def new_credentials(org_slug: str) -> dict:
    """A new sandbox account, for a connection created with no credentials."""
    from sandbox.services import sandbox_account_create

    account = sandbox_account_create(friendly_name=f"{org_slug} sandbox")
    return {"accountSid": account.sid, "authToken": account.auth_token}


KIND = ProviderKind(type="sandbox-provider", label="Sandbox (Twilio emulator)", webhooks="twilio", build=build,
                    credentials=SandboxCredentialsSerializer, public_config=PublicConfigSerializer,
                    new_credentials=new_credentials)
