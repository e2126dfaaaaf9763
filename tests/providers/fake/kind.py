"""The fake provider as a connection type: everything providers.registry needs to know of it."""
from __future__ import annotations

from rest_framework import serializers

from core.serializers import StrictSerializer
from providers.base import PhoneProvider, ProviderKind
from tests.providers.fake.client import FakeProvider


class FakeCredentialsSerializer(StrictSerializer):
    account = serializers.CharField(max_length=20)
    secret = serializers.CharField(max_length=20)


class FakePublicConfigSerializer(StrictSerializer):
    pass


def build(credentials: dict, public_config: dict) -> PhoneProvider:
    return FakeProvider(account=credentials["account"], secret=credentials["secret"])


KIND = ProviderKind(type="fake-provider", label="Fake", webhooks="twilio", build=build,
                    credentials=FakeCredentialsSerializer, public_config=FakePublicConfigSerializer)
