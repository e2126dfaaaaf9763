"""Request and response shapes of the broadcasts API (camelCase)."""
from __future__ import annotations

from rest_framework import serializers

from core.pagination import PageQuerySerializer
from core.serializers import E164Field, StrictSerializer
from phones.broadcasts.models import Broadcast, BroadcastRecipient
from phones.broadcasts.quiet_hours import DEFAULT_END, DEFAULT_START


class RecipientInSerializer(StrictSerializer):
    phone = serializers.CharField(max_length=64, allow_blank=True,
                                  help_text="E.164, or national in defaultRegion; a bad one is reported by row.")
    variables = serializers.DictField(child=serializers.CharField(max_length=500, allow_blank=True), required=False,
                                      default=dict)


class QuietHoursSerializer(StrictSerializer):
    start = serializers.TimeField(default=DEFAULT_START, format="%H:%M")
    end = serializers.TimeField(default=DEFAULT_END, format="%H:%M")


class FromField(serializers.ListField):
    """One number or a list of them."""

    def to_internal_value(self, data):
        return super().to_internal_value([data] if isinstance(data, str) else data)


class BroadcastCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=120)
    body = serializers.CharField(max_length=1600, allow_blank=True, trim_whitespace=False, default="",
                                 help_text="A template: {{firstName}}, {{lastName}}, {{phone}}, and any CSV column "
                                           "or recipient variable by its camelCase name.")
    mediaUrl = serializers.ListField(child=serializers.URLField(max_length=1000), required=False, max_length=10,
                                     default=list)
    locals()["from"] = FromField(child=E164Field(), required=False, min_length=1, max_length=50, default=list,
                                 help_text="A number of the org, or several (recipients are spread over them). "
                                           "Default: the messaging service, else the default sender or system phone.")
    messagingService = serializers.BooleanField(default=False,
                                                help_text="Send through the connection's messagingServiceSid.")
    recipients = RecipientInSerializer(many=True, required=False, max_length=200_000)
    csv = serializers.CharField(required=False, trim_whitespace=False, max_length=20_000_000,
                                help_text="A CSV file's text: a phone column (phone, phoneNumber, number, to, mobile) "
                                          "and any other columns, used as template variables.")
    tag = serializers.CharField(required=False, max_length=100, help_text="Every contact with this tag.")
    scheduledAt = serializers.DateTimeField(required=False, allow_null=True, default=None)
    quietHours = QuietHoursSerializer(required=False)
    defaultRegion = serializers.RegexField(r"^[A-Z]{2}$", default="US",
                                           help_text="The country of numbers written without +country code.")

    def validate(self, attrs: dict) -> dict:
        sources = [name for name in ("recipients", "csv", "tag") if attrs.get(name) is not None]
        if len(sources) != 1:
            raise serializers.ValidationError({"recipients": ["Give exactly one of recipients, csv and tag."]})
        if not attrs.get("body", "").strip() and not attrs.get("mediaUrl"):
            raise serializers.ValidationError({"body": ["Give a body or at least one mediaUrl."]})
        return attrs


class BroadcastSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id")
    mediaUrl = serializers.ListField(source="media_urls", child=serializers.CharField())
    senders = serializers.ListField(child=serializers.CharField(),
                                    help_text="The numbers it is sent from (empty: the messaging service).")
    messagingServiceSid = serializers.CharField(source="messaging_service_sid")
    senderRates = serializers.DictField(source="sender_rates", child=serializers.FloatField(),
                                        help_text="Messages per second, by sender.")
    scheduledAt = serializers.DateTimeField(source="scheduled_at")
    quietHours = serializers.SerializerMethodField()
    checks = serializers.SerializerMethodField()
    segments = serializers.SerializerMethodField()
    cost = serializers.SerializerMethodField()
    counts = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()
    createdAt = serializers.DateTimeField(source="created_at")
    startedAt = serializers.DateTimeField(source="started_at")
    finishedAt = serializers.DateTimeField(source="finished_at")

    class Meta:
        model = Broadcast
        fields = ["id", "name", "status", "body", "mediaUrl", "senders", "messagingServiceSid", "senderRates",
                  "scheduledAt", "quietHours", "checks", "segments", "cost", "counts", "progress", "createdAt",
                  "startedAt", "finishedAt"]
        read_only_fields = fields

    def get_quietHours(self, b: Broadcast) -> dict:  # noqa: N802
        return {"start": b.quiet_start.strftime("%H:%M"), "end": b.quiet_end.strftime("%H:%M")}

    def get_checks(self, b: Broadcast) -> dict:  # noqa: N802
        return {"rows": b.total_rows, "invalid": b.invalid_count, "invalidRows": b.invalid_rows,
                "duplicatesMerged": b.duplicate_count, "optedOutRemoved": b.opted_out_count,
                "recipients": b.recipient_count}

    def get_segments(self, b: Broadcast) -> dict:  # noqa: N802
        return {"total": b.segments_total, "encoding": b.encoding, "nonGsmCharacter": b.non_gsm_char or None}

    def get_cost(self, b: Broadcast) -> dict:  # noqa: N802
        stats = self.context.get("stats", {})
        return {"currency": b.currency, "unitPrice": b.unit_price, "estimated": b.estimated_cost,
                "held": b.estimated_cost, "soFar": stats.get("cost", 0), "settled": b.settled_cost}

    def get_counts(self, b: Broadcast) -> dict:  # noqa: N802
        return self.context.get("stats", {}).get("counts", {})

    def get_progress(self, b: Broadcast) -> dict:  # noqa: N802
        stats = self.context.get("stats", {})
        done = stats.get("done", 0)
        return {"done": done, "total": b.recipient_count,
                "percent": round(100 * done / b.recipient_count, 1) if b.recipient_count else 100.0}


class BroadcastListItemSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id")
    recipients = serializers.IntegerField(source="recipient_count")
    estimatedCost = serializers.IntegerField(source="estimated_cost")
    settledCost = serializers.IntegerField(source="settled_cost")
    scheduledAt = serializers.DateTimeField(source="scheduled_at")
    createdAt = serializers.DateTimeField(source="created_at")

    class Meta:
        model = Broadcast
        fields = ["id", "name", "status", "recipients", "currency", "estimatedCost", "settledCost", "scheduledAt",
                  "createdAt"]
        read_only_fields = fields


class RecipientsQuerySerializer(PageQuerySerializer):
    status = serializers.ChoiceField(choices=BroadcastRecipient.Status.choices, required=False)


class RecipientSerializer(serializers.ModelSerializer):
    phoneNumber = serializers.CharField(source="e164")
    deliveryStatus = serializers.CharField(source="message.status", default=None, allow_null=True,
                                           help_text="From the provider's status callbacks, once sent.")
    errorCode = serializers.SerializerMethodField()
    errorMessage = serializers.CharField(source="error_message")
    messageId = serializers.CharField(source="message.public_id", default=None, allow_null=True)
    sentAt = serializers.DateTimeField(source="sent_at")
    nextAttemptAt = serializers.DateTimeField(source="next_attempt_at")

    class Meta:
        model = BroadcastRecipient
        fields = ["row", "phoneNumber", "status", "deliveryStatus", "errorCode", "errorMessage", "segments",
                  "sender", "attempts", "messageId", "sentAt", "nextAttemptAt"]
        read_only_fields = fields

    def get_errorCode(self, r: BroadcastRecipient) -> str | None:  # noqa: N802
        code = (r.message.error_code if r.message_id and r.message and r.message.error_code else r.error_code)
        return code or None
