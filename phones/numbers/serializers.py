from __future__ import annotations

import phonenumbers
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.serializers import MAX_OFFSET, E164Field, StrictSerializer
from phones.models import Job, NumberType, PhoneNumber
from providers.base import ADDRESS_REQUIREMENTS


@extend_schema_field({"type": "string", "pattern": "^[A-Za-z]{2}$", "example": "US",
                     "description": "A two-letter ISO 3166-1 country code (upper or lower case) that phone "
                                    "numbering knows."})
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
    excludeAddressRequired = serializers.BooleanField(
        required=False, default=False,
        help_text="true: only numbers that can be bought without an address (addressRequirements none).")


class CapabilitiesSerializer(serializers.Serializer):
    voice = serializers.BooleanField()
    sms = serializers.BooleanField()
    mms = serializers.BooleanField()


class PricingSerializer(serializers.Serializer):
    setupFee = serializers.IntegerField(help_text="Minor units.")
    monthlyFee = serializers.IntegerField(help_text="Minor units.")
    currency = serializers.CharField()


class AvailableNumberSerializer(serializers.Serializer):
    phoneNumber = E164Field()
    friendlyName = serializers.CharField()
    locality = serializers.CharField(allow_blank=True)
    region = serializers.CharField(allow_blank=True)
    postalCode = serializers.CharField(allow_blank=True)
    country = serializers.CharField()
    type = serializers.CharField()
    capabilities = CapabilitiesSerializer()
    pricing = PricingSerializer(allow_null=True, help_text="null when no price is set for this country and type.")
    addressRequirements = serializers.ChoiceField(
        choices=ADDRESS_REQUIREMENTS,
        help_text="The address the provider requires to sell it: none; any (an address anywhere); local (in the "
                  "number's country); foreign (outside it). Buy it with an addressSid that meets it.")
    beta = serializers.BooleanField(help_text="New to the provider's platform.")


class AvailableResponseSerializer(serializers.Serializer):
    numbers = AvailableNumberSerializer(many=True)
    totalFound = serializers.IntegerField()


class VoiceConfigSerializer(StrictSerializer):
    recordCalls = serializers.BooleanField(required=False)
    transcribeCalls = serializers.BooleanField(required=False)
    voicemailEnabled = serializers.BooleanField(required=False)
    voicemailGreeting = serializers.CharField(required=False, max_length=500, allow_blank=True)
    ringTimeout = serializers.IntegerField(required=False, min_value=5, max_value=120,
                                           help_text="Seconds to ring before voicemail.")


class SmsConfigSerializer(StrictSerializer):
    autoReplyEnabled = serializers.BooleanField(required=False)
    autoReplyMessage = serializers.CharField(required=False, max_length=1600, allow_blank=True)
    triggerAutomations = serializers.BooleanField(required=False)
    forwardTo = E164Field(required=False, allow_blank=True)


class TrackingSerializer(StrictSerializer):
    enabled = serializers.BooleanField(required=False)
    campaignId = serializers.CharField(required=False, max_length=100, allow_blank=True)
    source = serializers.CharField(required=False, max_length=100, allow_blank=True)


class ConfigurationSerializer(StrictSerializer):
    voiceConfig = VoiceConfigSerializer(required=False)
    smsConfig = SmsConfigSerializer(required=False)
    tracking = TrackingSerializer(required=False)


MAX_NUMBERS_PER_PURCHASE = 20
ADDRESS_SID = r"^AD[0-9a-fA-F]{32}$"
BUNDLE_SID = r"^BU[0-9a-fA-F]{32}$"


class PurchaseSerializer(StrictSerializer):
    phoneNumber = E164Field(required=False, help_text="The number to buy (or `numbers`, or `country`).")
    country = CountryField(required=False, help_text="Instead of phoneNumber: buy the first available number of "
                                                     "this country that takes both calls and texts (a number for "
                                                     "an agent: give agentId too).")
    numbers = serializers.ListField(child=E164Field(), required=False, min_length=1,
                                    max_length=MAX_NUMBERS_PER_PURCHASE,
                                    help_text="Several numbers in one purchase, instead of phoneNumber: all are "
                                              "held or none (402 when the balance cannot cover them all), one job "
                                              "each.")
    friendlyName = serializers.CharField(required=False, max_length=64, allow_blank=True, default="")
    purpose = serializers.CharField(required=False, max_length=64, allow_blank=True, default="")
    configuration = ConfigurationSerializer(required=False)
    routingMode = serializers.ChoiceField(choices=PhoneNumber.RoutingMode.choices, required=False, default="voice")
    trunkId = serializers.CharField(required=False, max_length=64, allow_blank=True, default="",
                                    help_text="A SIP trunk of the org (GET /trunks: its id or SID): each number is "
                                              "assigned to it at the provider once bought.")
    agentId = serializers.CharField(required=False, max_length=64, allow_blank=True, allow_null=True, default="",
                                    help_text="One of the org's agents (/agents): it answers the number's calls "
                                              "and texts.")
    addressSid = serializers.RegexField(
        ADDRESS_SID, required=False, default="", allow_blank=True,
        error_messages={"invalid": "An address SID is AD followed by 32 hex digits."},
        help_text="The end user's address at the provider (Twilio Address AD…), for a number whose "
                  "addressRequirements is not none. Checked at the provider before anything is charged.")
    bundleSid = serializers.RegexField(
        BUNDLE_SID, required=False, default="", allow_blank=True,
        error_messages={"invalid": "A bundle SID is BU followed by 32 hex digits."},
        help_text="The end user's approved regulatory bundle at the provider (Twilio Bundle BU…), passed on "
                  "with the purchase where the country's regulations ask for one.")

    def validate(self, attrs: dict) -> dict:
        if sum(key in attrs for key in ("phoneNumber", "numbers", "country")) != 1:
            raise serializers.ValidationError({"phoneNumber": ["Give one of phoneNumber, numbers or country."]})
        if len(set(attrs.get("numbers", []))) != len(attrs.get("numbers", [])):
            raise serializers.ValidationError({"numbers": ["A number is named more than once."]})
        return attrs


class ImportSerializer(StrictSerializer):
    phoneNumber = E164Field()
    friendlyName = serializers.CharField(required=False, max_length=64, allow_blank=True, default="")
    purpose = serializers.CharField(required=False, max_length=64, allow_blank=True, default="")
    configuration = ConfigurationSerializer(required=False)


class UpdateSerializer(StrictSerializer):
    friendlyName = serializers.CharField(required=False, max_length=64, allow_blank=True)
    purpose = serializers.CharField(required=False, max_length=64, allow_blank=True)
    configuration = ConfigurationSerializer(required=False)
    trunkId = serializers.CharField(required=False, max_length=64, allow_blank=True, allow_null=True,
                                    help_text="Give the number to this SIP trunk at the provider (null or \"\": take "
                                              "it off its trunk, and its voice webhook points here again).")
    agentId = serializers.CharField(required=False, max_length=64, allow_blank=True, allow_null=True,
                                    help_text="One of the org's agents, to answer its calls and texts; null or \"\" "
                                              "detaches it.")
    assignments = serializers.ListField(
        child=serializers.DictField(), required=False,
        help_text="Voice assignments, as in PUT /phone/numbers/{id}/routing (validated the same way).")


class RoutingModeSerializer(StrictSerializer):
    mode = serializers.ChoiceField(choices=PhoneNumber.RoutingMode.choices)


class SetupSerializer(StrictSerializer):
    purchaseNew = serializers.BooleanField(default=False)
    countryCode = CountryField(required=False, default="US")
    areaCode = serializers.RegexField(r"^\d{2,5}$", required=False,
                                      error_messages={"invalid": "An area code is 2 to 5 digits."})
    phoneNumber = E164Field(required=False)
    friendlyName = serializers.CharField(required=False, max_length=64, allow_blank=True, default="")
    purpose = serializers.CharField(required=False, max_length=64, allow_blank=True, default="")
    setAsSystem = serializers.BooleanField(default=False)

    def validate(self, attrs):
        if attrs["purchaseNew"] and not attrs.get("areaCode"):
            raise serializers.ValidationError({"areaCode": ["Required with purchaseNew."]})
        if not attrs["purchaseNew"] and not attrs.get("phoneNumber"):
            raise serializers.ValidationError({"phoneNumber": ["Give the number to import, or purchaseNew."]})
        return attrs


class SystemPhoneSerializer(StrictSerializer):
    phoneId = serializers.CharField(max_length=32)


class NumberListQuerySerializer(StrictSerializer):
    limit = serializers.IntegerField(required=False, default=20, min_value=1, max_value=100)
    offset = serializers.IntegerField(required=False, default=0, min_value=0, max_value=MAX_OFFSET)
    status = serializers.ChoiceField(choices=PhoneNumber.Status.values, required=False)
    purpose = serializers.CharField(required=False, max_length=64)
    routingMode = serializers.ChoiceField(choices=PhoneNumber.RoutingMode.values, required=False)
    search = serializers.CharField(required=False, max_length=64,
                                   help_text="Matches the number's digits or its friendly name.")
    trunkId = serializers.CharField(required=False, max_length=64,
                                    help_text="`none`: the numbers on no SIP trunk; else a trunk's id (or SID).")
    includeReleased = serializers.BooleanField(required=False, default=False)


def _pricing(number: PhoneNumber) -> dict:
    return {"setupFee": number.setup_fee, "monthlyFee": number.monthly_fee, "currency": number.currency}


class NumberCapabilitiesSerializer(serializers.Serializer):
    """A number's capabilities as stored: each one the provider told, `{}` when it told none."""

    voice = serializers.BooleanField(required=False)
    sms = serializers.BooleanField(required=False)
    mms = serializers.BooleanField(required=False)


class JobResultSerializer(serializers.Serializer):
    """What a succeeded job reports; each kind sets its own keys (empty while it runs)."""

    phoneId = serializers.CharField(required=False, help_text="purchase, release: the number.")
    phoneNumber = E164Field(required=False, help_text="purchase, release: the number.")
    sid = serializers.CharField(required=False, help_text="purchase: the provider's id of the number.")
    trunk = serializers.DictField(required=False, help_text="purchase with trunkId: {trunkId, status "
                                                            "(assigned or failed), error}.")
    releasedAt = serializers.DateTimeField(required=False, help_text="release.")
    finalBilling = serializers.DictField(required=False, help_text="release: {proratedRefund, currency, description}.")
    reportId = serializers.IntegerField(required=False, help_text="verify, reconcile: the report.")
    summary = serializers.DictField(required=False, help_text="verify, reconcile: the report's counts.")
    settled = serializers.DictField(child=serializers.IntegerField(), required=False,
                                    help_text="reconcile: purchases settled, by outcome.")


@extend_schema_field({"oneOf": [{"type": "string"}, {"type": "integer"}], "nullable": True})
class ErrorCodeField(serializers.Field):
    """Our code (a string), or the provider's own, which may be a number (Twilio's 21422)."""


class JobErrorSerializer(serializers.Serializer):
    """Why a job failed, or the last transient failure of one being retried (empty otherwise)."""

    code = ErrorCodeField(required=False, help_text="Ours, or the provider's (a string or a number).")
    message = serializers.CharField(required=False)
    provider = serializers.CharField(required=False, help_text="The provider that answered, for its errors.")
    permanent = serializers.BooleanField(required=False, help_text="false: a retry may succeed.")


def json_as(serializer_class: type[serializers.Serializer]) -> type[serializers.JSONField]:
    """A stored JSON value, answered as it is stored, documented with the shape it has."""
    return extend_schema_field(serializer_class)(type(f"{serializer_class.__name__}JSON", (serializers.JSONField,), {}))


class PhoneNumberSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id")
    phoneNumber = E164Field(source="e164")
    friendlyName = serializers.CharField(source="friendly_name")
    type = serializers.CharField(source="number_type")
    routingMode = serializers.CharField(source="routing_mode")
    isSystem = serializers.BooleanField(source="is_system")
    trunkId = serializers.CharField(source="trunk.public_id", allow_null=True,
                                    help_text="The SIP trunk it is given to (GET /trunks); null for none.")
    trunkName = serializers.CharField(source="trunk.friendly_name", allow_null=True)
    trunkStatus = serializers.SerializerMethodField(
        help_text="assigned (at the provider), pending (assigned once bought), failed (the provider refused "
                  "after the purchase: PUT trunkId again); null with no trunk.")
    agentId = serializers.CharField(source="agent.public_id", allow_null=True, default=None,
                                    help_text="The agent answering its calls and texts (/agents), or null.")
    pricing = serializers.SerializerMethodField()
    monthlyFee = serializers.IntegerField(source="monthly_fee")
    capabilities = json_as(NumberCapabilitiesSerializer)()
    configuration = json_as(ConfigurationSerializer)(help_text="As set on purchase, import or update.")
    purchasedAt = serializers.DateTimeField(source="purchased_at", allow_null=True,
                                            help_text="null until the provider has sold it.")
    nextBillingDate = serializers.DateField(source="next_billing_date", allow_null=True,
                                            help_text="null until bought.")
    releasedAt = serializers.DateTimeField(source="released_at", allow_null=True,
                                           help_text="null unless released.")
    createdAt = serializers.DateTimeField(source="created_at")

    class Meta:
        model = PhoneNumber
        fields = ["id", "phoneNumber", "friendlyName", "purpose", "country", "type", "locality", "region",
                  "capabilities", "status", "routingMode", "configuration", "isSystem", "trunkId", "trunkName",
                  "trunkStatus", "agentId", "pricing", "monthlyFee", "currency", "purchasedAt", "nextBillingDate",
                  "releasedAt", "createdAt"]
        read_only_fields = fields

    def get_pricing(self, obj: PhoneNumber) -> PricingSerializer:
        return _pricing(obj)

    def get_trunkStatus(self, obj: PhoneNumber) -> str | None:
        return obj.trunk_status or None


class JobSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id")
    phoneId = serializers.SerializerMethodField()
    result = json_as(JobResultSerializer)()
    error = json_as(JobErrorSerializer)()
    createdAt = serializers.DateTimeField(source="created_at")
    startedAt = serializers.DateTimeField(source="started_at", allow_null=True, help_text="null while queued.")
    finishedAt = serializers.DateTimeField(source="finished_at", allow_null=True,
                                           help_text="null until it succeeds or fails.")

    class Meta:
        model = Job
        fields = ["id", "kind", "status", "progress", "result", "error", "phoneId", "attempts", "createdAt",
                  "startedAt", "finishedAt"]
        read_only_fields = fields

    def get_phoneId(self, obj: Job) -> str | None:
        return obj.phone_number.public_id if obj.phone_number_id else None


class NumberWithJobSerializer(serializers.Serializer):
    number = PhoneNumberSerializer()
    job = JobSerializer(allow_null=True)


class PurchaseTransactionSerializer(serializers.Serializer):
    """The ledger entry that holds setup + first month for the number."""

    id = serializers.CharField(help_text="The ledger entry (GET /billing/ledger).")
    amount = serializers.IntegerField(help_text="Minor units charged (the entry's amount is its negative).")
    currency = serializers.CharField()
    description = serializers.CharField()


class PurchasedSerializer(NumberWithJobSerializer):
    billingCycle = serializers.CharField(help_text="monthly: renewed on the purchase day of each month.")
    nextBillingDate = serializers.DateField(help_text="The first renewal (a month after the purchase).")
    transaction = PurchaseTransactionSerializer()


class PurchasedManySerializer(serializers.Serializer):
    numbers = PurchasedSerializer(many=True)
    totalAmount = serializers.IntegerField(help_text="Minor units held for them all.")
    currency = serializers.CharField()


class NumberListSerializer(serializers.Serializer):
    numbers = PhoneNumberSerializer(many=True)
    total = serializers.IntegerField()
    limit = serializers.IntegerField()
    offset = serializers.IntegerField()
    monthlyCost = serializers.IntegerField(help_text="Sum of the monthly fees of the org's live numbers.")
    currency = serializers.CharField()
