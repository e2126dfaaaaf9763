"""What the calls API reads and writes: routing documents, ring groups, outbound calls, the softphone."""
from __future__ import annotations

import phonenumbers
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.serializers import E164Field, StrictSerializer
from phones.calls.routing import ROUTING_KEYS
from phones.models import Call, PhoneNumber, RingGroup, SoftphonePresence


class MakeCallSerializer(StrictSerializer):
    locals()["from"] = E164Field(help_text="One of the org's numbers.")
    to = E164Field()
    twimlUrl = serializers.URLField(required=False, max_length=1000,
                                    help_text="TwiML the callee hears (https).")
    flowId = serializers.CharField(required=False, max_length=32,
                                   help_text="Id of one of the org's numbers: the callee walks its IVR flow.")

    def validate_twimlUrl(self, value: str) -> str:
        if not value.startswith("https://"):
            raise serializers.ValidationError("Twilio fetches TwiML over https.")
        return value

    def validate(self, attrs: dict) -> dict:
        if bool(attrs.get("twimlUrl")) == bool(attrs.get("flowId")):
            raise serializers.ValidationError({"twimlUrl": ["Give exactly one of twimlUrl and flowId."]})
        return attrs


class CallSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id")
    locals()["from"] = serializers.CharField(source="from_number")
    to = serializers.CharField(source="to_number")
    sid = serializers.CharField(source="provider_sid")
    createdAt = serializers.DateTimeField(source="created_at")

    class Meta:
        model = Call
        fields = ["id", "sid", "direction", "from", "to", "status", "duration", "createdAt"]
        read_only_fields = fields


class TranscriptLineSerializer(serializers.Serializer):
    role = serializers.CharField(help_text="caller | agent | tool")
    text = serializers.CharField()
    at = serializers.CharField(help_text="When it was said (ISO 8601).")


class CallDetailSerializer(CallSerializer):
    """A call with what an AI agent made of it."""

    agentId = serializers.CharField(source="agent.public_id", allow_null=True, default=None,
                                    help_text="The agent that answered, or null.")
    aiStatus = serializers.CharField(source="ai_status", help_text='"" (no AI), connecting, active, ended, failed.')
    aiSeconds = serializers.IntegerField(source="ai_seconds", help_text="Seconds of AI conversation (usage).")
    transcript = serializers.SerializerMethodField(help_text="The AI conversation, in order: the caller, the "
                                                             "agent and the tools it ran, each timestamped.")

    class Meta(CallSerializer.Meta):
        fields = [*CallSerializer.Meta.fields, "agentId", "aiStatus", "aiSeconds", "transcript"]
        read_only_fields = fields

    @extend_schema_field(TranscriptLineSerializer(many=True))
    def get_transcript(self, obj: Call) -> list[dict]:
        lines = obj.ai_transcript if isinstance(obj.ai_transcript, list) else []
        return [{"role": str(line.get("role", "")), "text": str(line.get("text", "")), "at": str(line.get("at", ""))}
                for line in lines if isinstance(line, dict)]


class CallListQuerySerializer(StrictSerializer):
    limit = serializers.IntegerField(required=False, default=50, min_value=1, max_value=200)
    offset = serializers.IntegerField(required=False, default=0, min_value=0, max_value=1_000_000)


class CallPageSerializer(serializers.Serializer):
    data = CallDetailSerializer(many=True)
    total = serializers.IntegerField()
    limit = serializers.IntegerField()
    offset = serializers.IntegerField()


class SoftphoneTokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Voice SDK access token (JWT), signed with the API key secret.")
    identity = serializers.CharField(help_text="The client identity calls to this user ring.")
    ttl = serializers.IntegerField(help_text="Seconds the token is valid.")


@extend_schema_field({"type": "string", "pattern": f"^({'|'.join(SoftphonePresence.Status.values)})$",
                      "description": " | ".join(SoftphonePresence.Status.values)})
class PresenceStatusField(serializers.ChoiceField):
    """Documented as a pattern: as an enum, drf-spectacular would name it after the field and collide
    with the other `status` enums (ENUM_NAME_OVERRIDES, in settings, would be the other way)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(choices=SoftphonePresence.Status.choices, **kwargs)


class PresenceUpdateSerializer(StrictSerializer):
    status = PresenceStatusField()


class SoftphoneSettingsSerializer(StrictSerializer):
    allowedCountries = serializers.ListField(
        child=serializers.CharField(min_length=2, max_length=2), max_length=250, source="softphone_countries",
        required=False,
        help_text="ISO codes of the countries members' softphones may call; empty: the caller ID's own.")

    def validate_allowedCountries(self, value: list[str]) -> list[str]:
        countries = list(dict.fromkeys(code.upper() for code in value))
        unknown = [code for code in countries if code not in phonenumbers.SUPPORTED_REGIONS]
        if unknown:
            raise serializers.ValidationError(f"Unknown country codes: {', '.join(unknown)}.")
        return countries


class PresenceSerializer(serializers.Serializer):
    user = serializers.CharField()
    identity = serializers.CharField()
    status = PresenceStatusField()
    updatedAt = serializers.DateTimeField(allow_null=True)


class RoutingSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=PhoneNumber.RoutingMode.choices,
                                   help_text="Switched with POST on this path, not PUT.")
    strategy = serializers.ChoiceField(choices=["simultaneous", "sequential"])
    assignments = serializers.ListField(child=serializers.DictField(),
                                        help_text="In ring order: {type, target, ringOrder, timeout}.")
    voicemail = serializers.DictField(allow_null=True, help_text="When nobody answers; null: the call ends.")
    ivrFlow = serializers.DictField(allow_null=True, help_text="{entry, nodes, fallback?, maxRetries}; null: none.")
    updatedAt = serializers.DateTimeField(allow_null=True)


class RoutingUpdateSerializer(StrictSerializer):
    """Only the keys given are saved. The documents are checked by phones.calls.documents, not here."""

    strategy = serializers.JSONField(required=False, allow_null=True, help_text="simultaneous | sequential")
    assignments = serializers.JSONField(required=False, allow_null=True,
                                          help_text="The whole list, replacing the saved one.")
    voicemail = serializers.JSONField(required=False, allow_null=True, help_text="Greeting and recording, or null.")
    ivrFlow = serializers.JSONField(required=False, allow_null=True, help_text="The whole flow, or null to remove it.")

    def to_internal_value(self, data):
        if isinstance(data, dict) and "mode" in data:
            raise serializers.ValidationError({"mode": [
                'PUT does not switch the routing mode: POST {"mode": "voice" | "ivr"} to this path.']})
        value = super().to_internal_value(data)
        if not value:
            raise serializers.ValidationError({"non_field_errors": [
                f"Give at least one of: {', '.join(ROUTING_KEYS)}."]})
        return value


class RingGroupSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    members = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = RingGroup
        fields = ["id", "name", "members", "createdAt"]


class RingGroupWriteSerializer(StrictSerializer):
    name = serializers.CharField(max_length=100)
    members = serializers.ListField(child=serializers.CharField(max_length=150), max_length=100, required=False,
                                    help_text="Usernames of members of this org; replaces the list.")
