"""Twilio as a connection type: its credentials and public configuration, and how its provider is built."""
from __future__ import annotations

from rest_framework import serializers

from core import outbound
from core.serializers import E164Field, StrictSerializer
from providers.base import PhoneProvider, ProviderKind
from providers.twilio.client import TwilioProvider


def public_url(value: str) -> None:
    """What the outbound guard can tell without DNS (https, not a literal internal address); the
    address a name resolves to is checked again each time a connection is made."""
    if value:
        try:
            outbound.check_url(value)
        except outbound.OutboundRefused as exc:
            raise serializers.ValidationError(f"Not a URL this server sends credentials to: {exc.message}.") from None


def sid_field(prefix: str, **kw) -> serializers.RegexField:
    return serializers.RegexField(
        rf"^{prefix}[0-9a-fA-F]{{32}}$", max_length=34,
        error_messages={"invalid": f"Must be a Twilio SID: {prefix} followed by 32 hex digits."}, **kw)


class TwilioCredentialsSerializer(StrictSerializer):
    accountSid = sid_field("AC")
    authToken = serializers.CharField(required=False, max_length=128, trim_whitespace=True)
    apiKeySid = sid_field("SK", required=False)
    apiKeySecret = serializers.CharField(required=False, max_length=128, trim_whitespace=True)

    def validate(self, attrs):
        if bool(attrs.get("apiKeySid")) != bool(attrs.get("apiKeySecret")):
            raise serializers.ValidationError({"apiKeySecret": ["apiKeySid and apiKeySecret go together."]})
        if not attrs.get("authToken") and not attrs.get("apiKeySid"):
            raise serializers.ValidationError({"authToken": ["Give authToken, or apiKeySid with apiKeySecret."]})
        return attrs


class PublicConfigSerializer(StrictSerializer):
    messagingServiceSid = sid_field("MG", required=False, allow_blank=True)
    defaultSenderNumber = E164Field(required=False, allow_blank=True)
    twimlAppSid = sid_field("AP", required=False, allow_blank=True)
    apiBaseUrl = serializers.URLField(
        required=False, allow_blank=True, validators=[public_url],
        help_text="A Twilio-compatible API (SignalWire, Somleng, a local mock): https on a public address "
                  "(or a host the operator allows). Default: Twilio's own. Changing it needs the credentials "
                  "in the same request.")


def client_kwargs(credentials: dict) -> dict:
    """TwilioProvider's credentials from a connection's (an auth token, or an API key and secret)."""
    return {"account_sid": credentials["accountSid"], "auth_token": credentials.get("authToken"),
            "api_key_sid": credentials.get("apiKeySid"), "api_key_secret": credentials.get("apiKeySecret")}


def build(credentials: dict, public_config: dict) -> PhoneProvider:
    return TwilioProvider(**client_kwargs(credentials), base_url=public_config.get("apiBaseUrl") or None)


KIND = ProviderKind(type="twilio-provider", label="Twilio", webhooks="twilio", build=build,
                    credentials=TwilioCredentialsSerializer, public_config=PublicConfigSerializer)
