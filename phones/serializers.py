from __future__ import annotations

import phonenumbers
from rest_framework import serializers

from phones.models import NumberType
from telephony.serializers import StrictSerializer


class CountryField(serializers.CharField):
    default_error_messages = {"unknown_country": "Unknown country code {value!r}: use a two-letter ISO code."}

    def to_internal_value(self, data):
        value = super().to_internal_value(data).strip().upper()
        if value not in phonenumbers.SUPPORTED_REGIONS:
            self.fail("unknown_country", value=value)
        return value


class AvailableQuerySerializer(StrictSerializer):
    countryCode = CountryField(required=False, default="US", help_text="ISO country code. Defaults to US.")
    type = serializers.ChoiceField(choices=NumberType.values, required=False, default=NumberType.LOCAL)
    areaCode = serializers.RegexField(r"^\d{2,5}$", required=False,
                                      error_messages={"invalid": "An area code is 2 to 5 digits."})
    region = serializers.CharField(required=False, max_length=64, help_text="Region or state, e.g. CA.")
    contains = serializers.RegexField(
        r"^(?=.*[0-9A-Za-z])[0-9A-Za-z*]{2,16}$", required=False,
        error_messages={"invalid": "2 to 16 digits, letters or * wildcards."},
        help_text="Digits to match; * is a wildcard, letters map to keypad digits (Twilio semantics).")
    smsEnabled = serializers.BooleanField(required=False, default=None, allow_null=True)
    voiceEnabled = serializers.BooleanField(required=False, default=None, allow_null=True)
    mmsEnabled = serializers.BooleanField(required=False, default=None, allow_null=True)
    limit = serializers.IntegerField(required=False, default=30, min_value=1, max_value=100)


class CapabilitiesSerializer(serializers.Serializer):
    voice = serializers.BooleanField()
    sms = serializers.BooleanField()
    mms = serializers.BooleanField()


class PricingSerializer(serializers.Serializer):
    setupFee = serializers.IntegerField(help_text="Minor units.")
    monthlyFee = serializers.IntegerField(help_text="Minor units.")
    currency = serializers.CharField()


class AvailableNumberSerializer(serializers.Serializer):
    phoneNumber = serializers.CharField()
    friendlyName = serializers.CharField()
    locality = serializers.CharField(allow_blank=True)
    region = serializers.CharField(allow_blank=True)
    postalCode = serializers.CharField(allow_blank=True)
    country = serializers.CharField()
    type = serializers.CharField()
    capabilities = CapabilitiesSerializer()
    pricing = PricingSerializer(allow_null=True, help_text="null when no price is set for this country and type.")


class AvailableResponseSerializer(serializers.Serializer):
    numbers = AvailableNumberSerializer(many=True)
    totalFound = serializers.IntegerField()
