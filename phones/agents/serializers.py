"""What the agents API reads and writes (/agents)."""
from __future__ import annotations

import re

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.serializers import E164Field, StrictSerializer
from phones.models import Agent

# The voices of OpenAI's realtime models.
VOICES = ("alloy", "ash", "ballad", "cedar", "coral", "echo", "marin", "sage", "shimmer", "verse")
MAX_TRANSFER_TARGETS = 20
MIN_CALL_SECONDS = 30
TARGET_NAME = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
QUEUE_NAME = re.compile(r"^[A-Za-z0-9 _.-]{1,64}$")
USERNAME = re.compile(r"^[\w.@+-]{1,150}$")


def parse_transfer_target(value: str) -> tuple[str, str]:
    """("phone", "+1415…") | ("user", "<username>") | ("queue", "<name>"); ValidationError otherwise."""
    if not isinstance(value, str):
        raise serializers.ValidationError("A target is a string.")
    value = value.strip()
    if value.startswith("user:"):
        name = value[len("user:"):]
        if not USERNAME.fullmatch(name):
            raise serializers.ValidationError(f"{value!r}: user:<username of a member of the org>.")
        return "user", name
    if value.startswith("queue:"):
        name = value[len("queue:"):]
        if not QUEUE_NAME.fullmatch(name):
            raise serializers.ValidationError(f"{value!r}: queue:<name>, up to 64 letters, digits, spaces, . _ -.")
        return "queue", name
    try:
        return "phone", E164Field().to_internal_value(value)
    except serializers.ValidationError:
        raise serializers.ValidationError(
            f"{value!r} is not a target: an E.164 number, user:<username> or queue:<name>.") from None


@extend_schema_field({"type": "object", "additionalProperties": {"type": "string"},
                      "maxProperties": MAX_TRANSFER_TARGETS,
                      "example": {"sales": "+14155550100", "alice": "user:alice", "support": "queue:support"},
                      "description": "Where the transfer tool may send a call, by the name the model uses: an "
                                     "E.164 number, an org member's softphone (user:<username>) or a call queue "
                                     "(queue:<name>)."})
class TransferTargetsField(serializers.Field):
    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError("An object of {name: target}.")
        if len(data) > MAX_TRANSFER_TARGETS:
            raise serializers.ValidationError(f"At most {MAX_TRANSFER_TARGETS} targets.")
        cleaned: dict[str, str] = {}
        for name, target in data.items():
            if not TARGET_NAME.fullmatch(str(name)):
                raise serializers.ValidationError(f"{name!r}: a target's name is 1 to 32 letters, digits, _ or -.")
            kind, value = parse_transfer_target(target)
            cleaned[str(name)] = value if kind == "phone" else f"{kind}:{value}"
        return cleaned

    def to_representation(self, value):
        return dict(value or {})


class AgentWriteSerializer(StrictSerializer):
    """Create: name and connectionId are required. PUT/PATCH: partial, only the keys given change."""

    name = serializers.CharField(max_length=100)
    instructions = serializers.CharField(required=False, allow_blank=True, max_length=20000,
                                         help_text="The system prompt: who the agent is and what it does.")
    greeting = serializers.CharField(required=False, allow_blank=True, max_length=1000,
                                     help_text="Spoken first when a call is answered; empty: the caller speaks first.")
    voice = serializers.ChoiceField(choices=VOICES, required=False, help_text="The realtime voice. Default alloy.")
    model = serializers.RegexField(r"^[A-Za-z0-9._:-]{1,64}$", required=False,
                                   help_text="The realtime model (Azure: the deployment name). Default gpt-realtime.")
    language = serializers.RegexField(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$", required=False,
                                      help_text="The caller's language (ISO 639, e.g. en, es, pt-BR): input "
                                                "transcription's language. Default en.")
    tools = serializers.ListField(child=serializers.ChoiceField(choices=Agent.TOOL_NAMES), required=False,
                                  max_length=len(Agent.TOOL_NAMES),
                                  help_text="What the agent may do during a call: transfer (to transferTargets), "
                                            "hangup, send_sms (to the caller, opt-outs hold), end_call.")
    transferTargets = TransferTargetsField(required=False)
    maxCallSeconds = serializers.IntegerField(required=False, min_value=MIN_CALL_SECONDS,
                                              max_value=Agent.MAX_CALL_SECONDS,
                                              help_text="The call is ended after this long. Default 600.")
    connectionId = serializers.CharField(max_length=32, help_text="One of the org's AI connections "
                                                                  "(/integrations: openai-realtime or sandbox-ai).")

    def validate_tools(self, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise serializers.ValidationError("A tool is named more than once.")
        return value


class AgentSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id")
    transferTargets = TransferTargetsField(source="transfer_targets")
    maxCallSeconds = serializers.IntegerField(source="max_call_seconds")
    connectionId = serializers.CharField(source="connection.public_id")
    tools = serializers.ListField(child=serializers.CharField())
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")

    class Meta:
        model = Agent
        fields = ["id", "name", "instructions", "greeting", "voice", "model", "language", "tools", "transferTargets",
                  "maxCallSeconds", "connectionId", "createdAt", "updatedAt"]
        read_only_fields = fields


