"""Request and response shapes of the traffic API (camelCase, as the seeds write it)."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from phones.models import Call, Contact, Conversation, SoftphonePresence
from orgs.serializers import E164Field, StrictSerializer


class SendSmsSerializer(StrictSerializer):
    to = E164Field()
    body = serializers.CharField(max_length=1600, allow_blank=True, trim_whitespace=False, default="")
    mediaUrl = serializers.ListField(child=serializers.URLField(max_length=1000), required=False, max_length=10,
                                     default=list)
    # `from` is a Python keyword, so the field is declared through the class namespace.
    locals()["from"] = E164Field(required=False, help_text="One of the org's numbers. Default: the connection's "
                                                           "messagingServiceSid, else its defaultSenderNumber, "
                                                           "else the org's system phone.")

    def validate(self, attrs: dict) -> dict:
        if not attrs.get("body", "").strip() and not attrs.get("mediaUrl"):
            raise serializers.ValidationError({"body": ["Give a body or at least one mediaUrl."]})
        return attrs


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


class ContactSerializer(serializers.ModelSerializer):
    phoneNumber = serializers.CharField(source="e164")
    firstName = serializers.CharField(source="first_name")
    lastName = serializers.CharField(source="last_name")
    isLead = serializers.BooleanField(source="is_lead")
    tags = serializers.ListField(child=serializers.CharField())
    fields = serializers.DictField(child=serializers.CharField(), help_text="Answers given to fill-form rules.")

    class Meta:
        model = Contact
        fields = ["phoneNumber", "firstName", "lastName", "tags", "isLead", "fields"]
        read_only_fields = fields


class ConversationSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id")
    contact = ContactSerializer()
    phoneNumber = serializers.CharField(source="phone_number.e164", default=None, allow_null=True,
                                        help_text="Our number; null for texts sent through a messaging service.")
    phoneNumberId = serializers.CharField(source="phone_number.public_id", default=None, allow_null=True)
    lastMessageAt = serializers.DateTimeField(source="last_message_at")
    lastMessagePreview = serializers.CharField(source="last_message_preview")

    class Meta:
        model = Conversation
        fields = ["id", "contact", "phoneNumber", "phoneNumberId", "lastMessageAt", "lastMessagePreview"]
        read_only_fields = fields


class PageQuerySerializer(StrictSerializer):
    limit = serializers.IntegerField(min_value=1, max_value=100, default=50)
    offset = serializers.IntegerField(min_value=0, default=0)


class ConversationPageSerializer(serializers.Serializer):
    data = ConversationSerializer(many=True)
    total = serializers.IntegerField()
    limit = serializers.IntegerField()
    offset = serializers.IntegerField()


class ConversationMessagesQuerySerializer(StrictSerializer):
    limit = serializers.IntegerField(min_value=1, max_value=200, default=50)
    before = serializers.DateTimeField(required=False, help_text="Only messages older than this (ISO-8601).")


class MessagingSettingsSerializer(serializers.Serializer):
    """A MessagingSettings row out; in, the keyword arguments of outbound.messaging_settings_update."""

    automationWebhookUrl = serializers.URLField(source="automation_webhook_url", allow_blank=True, required=False,
                                                max_length=1000,
                                                help_text="trigger-automation and go-to-flow rules POST here.")
    aiAssistantUrl = serializers.URLField(source="ai_assistant_url", allow_blank=True, required=False,
                                          max_length=1000,
                                          help_text="ai-assistant rules POST the conversation here and text "
                                                    "back the JSON answer's `reply`.")
    signingSecret = serializers.CharField(source="signing_secret", read_only=True,
                                          help_text="Key of the X-Signature-SHA256 header: hex HMAC-SHA256 of the "
                                                    "raw body.")
    rotateSecret = serializers.BooleanField(source="rotate_secret", write_only=True, required=False, default=False)


class MessagingSettingsUpdateSerializer(StrictSerializer, MessagingSettingsSerializer):
    pass


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


class PresenceSerializer(serializers.Serializer):
    user = serializers.CharField()
    identity = serializers.CharField()
    status = PresenceStatusField()
    updatedAt = serializers.DateTimeField(allow_null=True)


class PresenceListSerializer(serializers.Serializer):
    data = PresenceSerializer(many=True)
