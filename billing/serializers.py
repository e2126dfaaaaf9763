from __future__ import annotations

import phonenumbers
from rest_framework import serializers

from billing.models import LedgerEntry, Price
from core.pagination import PageQuerySerializer
from core.serializers import StrictSerializer
from phones.models import NumberType


class BalanceSerializer(serializers.Serializer):
    balance = serializers.IntegerField(help_text="Minor units (e.g. cents).")
    currency = serializers.CharField()
    monthlyCost = serializers.IntegerField(
        source="monthly_cost", help_text="Sum of the monthly fees of the org's active, past-due and pending numbers.")


class LedgerEntrySerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id")
    amount = serializers.IntegerField(help_text="Minor units: positive credits, negative charges.")
    balanceAfter = serializers.IntegerField(source="balance_after")
    phoneNumberId = serializers.SerializerMethodField()
    phoneNumber = serializers.SerializerMethodField()
    createdAt = serializers.DateTimeField(source="created_at")

    class Meta:
        model = LedgerEntry
        fields = ["id", "kind", "amount", "balanceAfter", "currency", "description", "key", "phoneNumberId",
                  "phoneNumber", "createdAt"]

    def get_phoneNumberId(self, entry: LedgerEntry) -> str | None:
        return entry.phone_number.public_id if entry.phone_number_id else None

    def get_phoneNumber(self, entry: LedgerEntry) -> str | None:
        return entry.phone_number.e164 if entry.phone_number_id else None


class UsageQuerySerializer(StrictSerializer):
    campaignId = serializers.CharField(max_length=100, help_text="configuration.tracking.campaignId of a number.")
    # Years 1000-9999 and not 9999-12, whose month ends past the last date Python has (both were a 500).
    period = serializers.RegexField(r"^(?!9999-12)[1-9]\d{3}-(0[1-9]|1[0-2])$", required=False,
                                    error_messages={"invalid": "A month: YYYY-MM."},
                                    help_text="A month, YYYY-MM (default: all time).")


class UsageMessagesSerializer(serializers.Serializer):
    inbound = serializers.IntegerField()
    outbound = serializers.IntegerField()
    segments = serializers.IntegerField()


class UsageCallsSerializer(serializers.Serializer):
    inbound = serializers.IntegerField()
    outbound = serializers.IntegerField()
    minutes = serializers.IntegerField(help_text="Completed calls, each rounded up to the minute.")


class UsageSerializer(serializers.Serializer):
    campaignId = serializers.CharField()
    period = serializers.CharField(allow_null=True, help_text="YYYY-MM, or null for all time.")
    messages = UsageMessagesSerializer()
    calls = UsageCallsSerializer()


class PriceQuerySerializer(PageQuerySerializer):
    country = serializers.CharField(required=False, max_length=2, min_length=2,
                                    help_text="Two-letter ISO country code, e.g. US.")
    type = serializers.ChoiceField(choices=NumberType.values, required=False)

    def validate_country(self, value: str) -> str:
        value = value.upper()
        if value not in phonenumbers.SUPPORTED_REGIONS:
            raise serializers.ValidationError(f"Unknown country code {value!r}: use a two-letter ISO code.")
        return value


class PriceSerializer(serializers.ModelSerializer):
    type = serializers.CharField(source="number_type")
    setupFee = serializers.IntegerField(source="setup_fee")
    monthlyFee = serializers.IntegerField(source="monthly_fee")

    class Meta:
        model = Price
        fields = ["country", "type", "setupFee", "monthlyFee", "currency"]

