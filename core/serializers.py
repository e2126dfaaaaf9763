"""Serializer bases every API shares: strict input, E.164 numbers, the one error shape."""
from __future__ import annotations

import phonenumbers
from rest_framework import serializers


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


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    field = serializers.CharField(required=False)


class ErrorSerializer(serializers.Serializer):
    """The one error shape every endpoint answers with."""

    error = ErrorBodySerializer()
