"""Plivo as a connection type: Auth ID + Auth Token."""
from __future__ import annotations

from rest_framework import serializers

from core.serializers import E164Field, StrictSerializer
from providers.base import PhoneProvider, ProviderKind
from providers.plivo.client import PlivoProvider


class PlivoCredentialsSerializer(StrictSerializer):
    authId = serializers.RegexField(
        r"^[MS]A[A-Z0-9]{18}$", error_messages={"invalid": "Must be a Plivo Auth ID: MA or SA and 18 letters/digits."})
    authToken = serializers.CharField(max_length=128, trim_whitespace=True)


class PlivoPublicConfigSerializer(StrictSerializer):
    defaultSenderNumber = E164Field(required=False, allow_blank=True)


def build(credentials: dict, public_config: dict) -> PhoneProvider:
    return PlivoProvider(auth_id=credentials["authId"], auth_token=credentials["authToken"])


KIND = ProviderKind(type="plivo-provider", label="Plivo", webhooks="plivo", build=build, shared_webhooks=True,
                    credentials=PlivoCredentialsSerializer, public_config=PlivoPublicConfigSerializer)
