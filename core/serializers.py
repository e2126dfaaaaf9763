"""Serializer bases every API shares: strict input, E.164 numbers, the one error shape."""
from __future__ import annotations

import re

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


# Digits with an optional single leading "+", and the separators people write between them.
# No letters (a vanity "1-800-FLOWERS", or "abcd" that phonenumbers would read as 2223), no second
# "+", no extension ("x12", "ext. 12", ";ext=12", "#12"): each would buy or text another number.
_E164_INPUT = re.compile(r"\+?[0-9][0-9 .()\-]*")

# Largest offset a list accepts: more rows than any org has, and far inside every database's range.
MAX_OFFSET = 1_000_000_000


class E164Field(serializers.CharField):
    """A phone number, normalised to E.164. "+1 415 555 0100" and "14155550100" are accepted;
    letters, a second "+" or an extension are not (phonenumbers alone would read them as digits)."""

    default_error_messages = {"invalid_phone": "Not a valid phone number in international (E.164) format."}

    def to_internal_value(self, data):
        if isinstance(data, float):
            self.fail("invalid_phone")
        raw = super().to_internal_value(data).strip()
        if raw == "" and self.allow_blank:
            return raw
        if not _E164_INPUT.fullmatch(raw):
            self.fail("invalid_phone")
        if not raw.startswith("+"):
            raw = "+" + raw
        try:
            parsed = phonenumbers.parse(raw, None)
        except phonenumbers.NumberParseException:
            self.fail("invalid_phone")
        if parsed.extension or not phonenumbers.is_possible_number(parsed):
            self.fail("invalid_phone")
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    field = serializers.CharField(required=False)


class ErrorSerializer(serializers.Serializer):
    """The one error shape every endpoint answers with."""

    error = ErrorBodySerializer()
