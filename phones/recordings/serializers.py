"""Request and response shapes of the recordings API (camelCase)."""
from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.pagination import PageQuerySerializer
from core.serializers import StrictSerializer
from phones.models import Recording

MAX_RETENTION_DAYS = 3650


class RecordingQuerySerializer(PageQuerySerializer):
    phoneNumberId = serializers.CharField(required=False, max_length=32, help_text="Only this number's recordings.")
    callId = serializers.CharField(required=False, max_length=32, help_text="Only this call's recordings.")
    createdAfter = serializers.DateTimeField(required=False, help_text="Made at or after this time (ISO-8601).")
    createdBefore = serializers.DateTimeField(required=False, help_text="Made before this time (ISO-8601).")

    def validate(self, attrs: dict) -> dict:
        after, before = attrs.get("createdAfter"), attrs.get("createdBefore")
        if after and before and after >= before:
            raise serializers.ValidationError({"createdBefore": ["Must be later than createdAfter."]})
        return attrs


class TranscriptionSerializer(serializers.Serializer):
    status = serializers.CharField(source="transcription_status")
    text = serializers.CharField(source="transcription_text")


class RecordingSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id")
    callId = serializers.CharField(source="call.public_id", default=None, allow_null=True)
    phoneNumberId = serializers.CharField(source="phone_number.public_id", default=None, allow_null=True)
    phoneNumber = serializers.CharField(source="phone_number.e164", default=None, allow_null=True)
    duration = serializers.IntegerField(allow_null=True, help_text="Seconds, once completed.")
    transcription = serializers.SerializerMethodField(help_text="Null until the provider posts one.")
    createdAt = serializers.DateTimeField(source="created_at")
    deleteError = serializers.CharField(source="delete_error", help_text="Why the last delete at the provider "
                                                                         "failed (the recording is kept); empty.")

    class Meta:
        model = Recording
        fields = ["id", "callId", "phoneNumberId", "phoneNumber", "status", "duration", "transcription",
                  "createdAt", "deleteError"]
        read_only_fields = fields

    @extend_schema_field(TranscriptionSerializer(allow_null=True))
    def get_transcription(self, recording: Recording) -> dict | None:
        if not (recording.transcription_sid or recording.transcription_status or recording.transcription_text):
            return None
        return TranscriptionSerializer(recording).data


class RecordingDetailSerializer(RecordingSerializer):
    """With the signed media link: context `media` is (url, expires at), phones.recordings.signing."""

    mediaUrl = serializers.SerializerMethodField(
        help_text="Signed; streams the audio (MP3) without a token until mediaUrlExpiresAt (RECORDING_URL_TTL, "
                  "default 10 minutes). Byte ranges (seeking) are passed on.")
    mediaUrlExpiresAt = serializers.SerializerMethodField()

    class Meta(RecordingSerializer.Meta):
        fields = [*RecordingSerializer.Meta.fields, "mediaUrl", "mediaUrlExpiresAt"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_mediaUrl(self, recording: Recording) -> str:
        return self.context["media"][0]

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_mediaUrlExpiresAt(self, recording: Recording) -> str:
        return serializers.DateTimeField().to_representation(self.context["media"][1])


class RecordingSettingsSerializer(StrictSerializer):
    retentionDays = serializers.IntegerField(
        allow_null=True, min_value=1, max_value=MAX_RETENTION_DAYS,
        help_text="Recordings older than this many days are deleted, at the provider too, within the hour. "
                  "null: kept until deleted.")


class MediaQuerySerializer(serializers.Serializer):
    expires = serializers.CharField(help_text="Unix time the link stops working.")
    signature = serializers.CharField()
