from __future__ import annotations

from rest_framework import serializers

from core.serializers import StrictSerializer
from orgs.models import Membership, OrgAPIKey, ProviderConnection
from providers.registry import KINDS, kind_for


def _clean(serializer_class, data, field: str) -> dict:
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        raise serializers.ValidationError({field: serializer.errors})
    return {k: v for k, v in serializer.validated_data.items() if v not in (None, "")}


class ConnectionCreateSerializer(StrictSerializer):
    type = serializers.ChoiceField(choices=[])
    name = serializers.CharField(max_length=200)
    credentials = serializers.DictField(required=False, default=dict)
    publicConfig = serializers.DictField(required=False, default=dict)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = [(kind.type, kind.label) for kind in KINDS.values()]

    def validate(self, attrs):
        kind = kind_for(attrs["type"])
        attrs["credentials"] = _clean(kind.credentials, attrs["credentials"], "credentials")
        attrs["publicConfig"] = _clean(kind.public_config, attrs["publicConfig"], "publicConfig")
        return attrs


class ConnectionUpdateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200, required=False)
    credentials = serializers.DictField(required=False)
    publicConfig = serializers.DictField(required=False)

    def validate(self, attrs):
        connection: ProviderConnection = self.context["connection"]
        if "credentials" in attrs:
            # Partial: merge over what is stored, then validate the whole.
            merged = {**connection.credentials, **attrs["credentials"]}
            _clean(kind_for(connection.type).credentials, merged, "credentials")
            attrs["credentials"] = {k: v for k, v in attrs["credentials"].items() if v not in (None, "")}
        if "publicConfig" in attrs:
            attrs["publicConfig"] = _clean(kind_for(connection.type).public_config, attrs["publicConfig"],
                                           "publicConfig")
        return attrs


class ConnectionSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    accountId = serializers.CharField(source="account_id", read_only=True)
    credentials = serializers.SerializerMethodField(help_text="Masked: secrets are write-only.")
    publicConfig = serializers.DictField(source="public_config", read_only=True,
                                         help_text="The connection type's public settings (never secrets).")
    isActive = serializers.BooleanField(source="is_active", read_only=True)
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = ProviderConnection
        fields = ["id", "type", "name", "accountId", "credentials", "publicConfig", "isActive", "createdAt"]

    def get_credentials(self, obj: ProviderConnection) -> dict[str, str]:
        return obj.masked_credentials()


class APIKeyCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=50)
    role = serializers.ChoiceField(choices=Membership.Role.choices,
                                   help_text="The role requests made with the key have in the org.")


class APIKeySerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    prefix = serializers.CharField(source="display_prefix", read_only=True,
                                   help_text="The key's first characters: enough to recognise it, not to use it.")
    createdAt = serializers.DateTimeField(source="created", read_only=True)
    lastUsedAt = serializers.DateTimeField(source="last_used_at", read_only=True, allow_null=True)
    createdBy = serializers.CharField(source="created_by.username", read_only=True, allow_null=True, default=None)

    class Meta:
        model = OrgAPIKey
        fields = ["id", "prefix", "name", "role", "createdAt", "lastUsedAt", "createdBy"]


class APIKeyCreatedSerializer(APIKeySerializer):
    key = serializers.CharField(read_only=True, help_text="The key itself. Shown this once: store it now.")

    class Meta(APIKeySerializer.Meta):
        fields = [*APIKeySerializer.Meta.fields, "key"]
