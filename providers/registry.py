"""Builds the provider for a connection, with that connection's own credentials."""
from __future__ import annotations

from orgs.models import ProviderConnection
from providers.base import PhoneProvider


def build_provider(type_: str, credentials: dict, public_config: dict | None = None) -> PhoneProvider:
    from providers.twilio.client import TwilioProvider

    public_config = public_config or {}
    if type_ in (ProviderConnection.Type.TWILIO, ProviderConnection.Type.SANDBOX):
        twilio_credentials = {"account_sid": credentials["accountSid"], "auth_token": credentials.get("authToken"),
                              "api_key_sid": credentials.get("apiKeySid"),
                              "api_key_secret": credentials.get("apiKeySecret")}
        if type_ == ProviderConnection.Type.TWILIO:
            return TwilioProvider(**twilio_credentials, base_url=public_config.get("apiBaseUrl") or None)
        from sandbox.client import SandboxHttpClient

        return TwilioProvider(**twilio_credentials, http_client=SandboxHttpClient())
    if type_ == ProviderConnection.Type.PLIVO:
        from providers.plivo.client import PlivoProvider

        return PlivoProvider(auth_id=credentials["authId"], auth_token=credentials["authToken"])
    if type_ == ProviderConnection.Type.TELNYX:
        from providers.telnyx.client import TelnyxProvider

        return TelnyxProvider(
            api_key=credentials["apiKey"],
            connection_id=public_config.get("connectionId", ""),
            messaging_profile_id=public_config.get("messagingProfileId", ""),
            webhook_public_key=public_config.get("webhookPublicKey", ""),
        )
    raise ValueError(f"unknown provider type {type_!r}")


def provider_for(connection: ProviderConnection) -> PhoneProvider:
    return build_provider(connection.type, connection.credentials, connection.public_config)
