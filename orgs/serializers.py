from __future__ import annotations

import base64
import binascii

import phonenumbers
from rest_framework import serializers

from orgs.models import ProviderConnection


class StrictSerializer(serializers.Serializer):
    """Rejects keys it does not know, so a typo is a 400 naming the field, not silently ignored."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({key: ["Unknown field."] for key in unknown})
        return super().to_internal_value(data)


class E164Field(serializers.CharField):
    """A phone number, normalised to E.164. "+1 415 555 0100" and "14155550100" are accepted."""

    default_error_messages = {"invalid_phone": "Not a valid phone number in international (E.164) format."}

    def to_internal_value(self, data):
        raw = super().to_internal_value(data).strip()
        if raw and not raw.startswith("+"):
            raw = "+" + raw
        try:
            parsed = phonenumbers.parse(raw, None)
        except phonenumbers.NumberParseException:
            self.fail("invalid_phone")
        if not phonenumbers.is_possible_number(parsed):
            self.fail("invalid_phone")
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


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


class SandboxCredentialsSerializer(TwilioCredentialsSerializer):
    """Empty credentials ask for a new sandbox account."""

    accountSid = sid_field("AC", required=False)

    def validate(self, attrs):
        return super().validate(attrs) if attrs else attrs


class PublicConfigSerializer(StrictSerializer):
    messagingServiceSid = sid_field("MG", required=False, allow_blank=True)
    defaultSenderNumber = E164Field(required=False, allow_blank=True)
    twimlAppSid = sid_field("AP", required=False, allow_blank=True)
    apiBaseUrl = serializers.URLField(
        required=False, allow_blank=True,
        help_text="A Twilio-compatible API (SignalWire, Somleng, a local mock). Default: Twilio's own.")


class PlivoCredentialsSerializer(StrictSerializer):
    authId = serializers.RegexField(
        r"^[MS]A[A-Z0-9]{18}$", error_messages={"invalid": "Must be a Plivo Auth ID: MA or SA and 18 letters/digits."})
    authToken = serializers.CharField(max_length=128, trim_whitespace=True)


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


CREDENTIAL_SERIALIZERS = {
    ProviderConnection.Type.TWILIO: TwilioCredentialsSerializer,
    ProviderConnection.Type.SANDBOX: SandboxCredentialsSerializer,
    ProviderConnection.Type.PLIVO: PlivoCredentialsSerializer,
    ProviderConnection.Type.TELNYX: TelnyxCredentialsSerializer,
}

# Types whose public configuration is not Twilio's.
PUBLIC_CONFIG_SERIALIZERS = {
    ProviderConnection.Type.TELNYX: TelnyxPublicConfigSerializer,
}


def _clean(serializer_class, data, field: str) -> dict:
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        raise serializers.ValidationError({field: serializer.errors})
    return {k: v for k, v in serializer.validated_data.items() if v not in (None, "")}


class ConnectionCreateSerializer(StrictSerializer):
    type = serializers.ChoiceField(choices=ProviderConnection.Type.choices)
    name = serializers.CharField(max_length=200)
    credentials = serializers.DictField(required=False, default=dict)
    publicConfig = serializers.DictField(required=False, default=dict)

    def validate(self, attrs):
        attrs["credentials"] = _clean(CREDENTIAL_SERIALIZERS[attrs["type"]], attrs["credentials"], "credentials")
        attrs["publicConfig"] = _clean(PUBLIC_CONFIG_SERIALIZERS.get(attrs["type"], PublicConfigSerializer),
                                       attrs["publicConfig"], "publicConfig")
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
            _clean(CREDENTIAL_SERIALIZERS[connection.type], merged, "credentials")
            attrs["credentials"] = {k: v for k, v in attrs["credentials"].items() if v not in (None, "")}
        if "publicConfig" in attrs:
            attrs["publicConfig"] = _clean(PUBLIC_CONFIG_SERIALIZERS.get(connection.type, PublicConfigSerializer),
                                           attrs["publicConfig"], "publicConfig")
        return attrs


class ConnectionSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    accountId = serializers.CharField(source="account_id", read_only=True)
    credentials = serializers.SerializerMethodField(help_text="Masked: secrets are write-only.")
    publicConfig = serializers.JSONField(source="public_config", read_only=True)
    isActive = serializers.BooleanField(source="is_active", read_only=True)
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = ProviderConnection
        fields = ["id", "type", "name", "accountId", "credentials", "publicConfig", "isActive", "createdAt"]

    def get_credentials(self, obj: ProviderConnection) -> dict[str, str]:
        return obj.masked_credentials()


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    field = serializers.CharField(required=False)


class ErrorSerializer(serializers.Serializer):
    """The one error shape every endpoint answers with."""

    error = ErrorBodySerializer()
