"""Request and response shapes of the messaging API (camelCase, as the product documents write it)."""
from __future__ import annotations

from rest_framework import serializers

from core.serializers import E164Field, StrictSerializer
from phones.models import Contact, Conversation, Message


class SendSmsSerializer(StrictSerializer):
    to = E164Field()
    body = serializers.CharField(max_length=1600, allow_blank=True, trim_whitespace=False, default="")
    mediaUrl = serializers.ListField(child=serializers.URLField(max_length=1000), required=False, max_length=10,
                                     default=list)
    # `from` is a Python keyword, so the field is declared through the class namespace.
    locals()["from"] = E164Field(required=False, help_text="One of the org's numbers. Default: the connection's "
                                                           "messagingServiceSid, else its defaultSenderNumber, "
                                                           "else the org's system phone.")
    category = serializers.ChoiceField(
        choices=["transactional", "marketing"], required=False, default="transactional",
        help_text="marketing: a US recipient gets \"Reply STOP to opt out.\" appended (TCPA) unless the body "
                  "already says how to stop; transactional (codes, receipts, replies) is sent as written.")

    def validate(self, attrs: dict) -> dict:
        if not attrs.get("body", "").strip() and not attrs.get("mediaUrl"):
            raise serializers.ValidationError({"body": ["Give a body or at least one mediaUrl."]})
        return attrs


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


class MessagesQuerySerializer(StrictSerializer):
    limit = serializers.IntegerField(required=False, default=50, min_value=1, max_value=200)
    before = serializers.DateTimeField(required=False)
    after = serializers.DateTimeField(required=False)


class MessageSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id")
    from_ = serializers.CharField(source="from_number")
    to = serializers.CharField(source="to_number")
    mediaUrls = serializers.ListField(child=serializers.CharField(), source="media_urls")
    receivedAt = serializers.DateTimeField(source="created_at")

    class Meta:
        model = Message
        fields = ["id", "direction", "from_", "to", "body", "mediaUrls", "status", "segments", "receivedAt"]
        read_only_fields = fields


class MessagePageSerializer(serializers.Serializer):
    data = MessageSerializer(many=True)
    hasMore = serializers.BooleanField()
