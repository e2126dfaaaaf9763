"""Telnyx as a connection type: an API key, a TeXML application and a messaging profile."""
from __future__ import annotations

import base64
import binascii

from rest_framework import serializers

from core.serializers import E164Field, StrictSerializer
from providers.base import PhoneProvider, ProviderKind
from providers.telnyx.client import TelnyxProvider


class TelnyxCredentialsSerializer(StrictSerializer):
    apiKey = serializers.CharField(max_length=256, trim_whitespace=True, help_text="A Telnyx API v2 key.")


def telnyx_id_field(**kw) -> serializers.RegexField:
    return serializers.RegexField(r"^[A-Za-z0-9_-]{1,64}$", error_messages={"invalid": "Not a Telnyx id."}, **kw)


class Ed25519PublicKeyField(serializers.CharField):
    default_error_messages = {"invalid_key": "Must be the account's Ed25519 public key, base64 (32 bytes)."}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            if value and len(base64.b64decode(value, validate=True)) != 32:
                self.fail("invalid_key")
        except (binascii.Error, ValueError):
            self.fail("invalid_key")
        return value


class TelnyxPublicConfigSerializer(StrictSerializer):
    """Numbers are attached to a TeXML application (voice answers in TeXML) and a messaging
    profile; both have their URLs pointed at our webhooks when a number is configured."""

    connectionId = telnyx_id_field(help_text="The TeXML application numbers are attached to.")
    messagingProfileId = telnyx_id_field(help_text="The messaging profile numbers are attached to.")
    webhookPublicKey = Ed25519PublicKeyField(
        required=False, allow_blank=True,
        help_text="The account's public key (Mission Control, Keys & Credentials): webhooks are refused without it.")
    defaultSenderNumber = E164Field(required=False, allow_blank=True)


def build(credentials: dict, public_config: dict) -> PhoneProvider:
    return TelnyxProvider(api_key=credentials["apiKey"], connection_id=public_config.get("connectionId", ""),
                          messaging_profile_id=public_config.get("messagingProfileId", ""),
                          webhook_public_key=public_config.get("webhookPublicKey", ""))


KIND = ProviderKind(type="telnyx-provider", label="Telnyx", webhooks="telnyx", build=build, shared_webhooks=True,
                    credentials=TelnyxCredentialsSerializer, public_config=TelnyxPublicConfigSerializer)
