"""Routing API: a number's voice assignments and IVR flow, its SMS rules, and the org's ring groups.

Members read; admins and owners write. Numbers are looked up in the caller's org only (another
org's number is a 404), released ones included: their routing can be read, not changed (409).
The documents are validated by phones.calls.documents; the formats are in its docstrings and the
examples below.
"""
from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from phones.calls import routing as services
from phones.models import PhoneNumber, RingGroup
from phones.numbers.selectors import phone_number_get
from orgs.models import Org
from core.openapi import errors
from orgs.scoping import OrgScopedAPIView, for_org, get_for_org
from orgs.serializers import StrictSerializer

EXAMPLE_VOICE = {
    "strategy": "sequential",
    "assignments": [
        {"type": "user", "target": "alice", "ringOrder": 1, "timeout": 20},
        {"type": "client", "target": "front_desk", "ringOrder": 1},
        {"type": "group", "target": "grp_0123456789abcdefghjk", "ringOrder": 2},
        {"type": "phone", "target": "+14155550199", "ringOrder": 3, "timeout": 30},
    ],
    "voicemail": {"say": "Sorry we missed you. Leave a message after the tone.", "maxLength": 120,
                  "transcribe": True},
}

EXAMPLE_IVR_FLOW = {
    "entry": "main",
    "fallback": "voicemail",
    "maxRetries": 2,
    "nodes": {
        "main": {"type": "menu", "say": "Thanks for calling. For sales press 1, for support press 2, "
                                        "to leave a message press 9.", "voice": "Polly.Joanna",
                 "language": "en-US", "timeout": 6, "options": {"1": "record", "2": "support", "9": "voicemail",
                                                                "0": "operator"}},
        "record": {"type": "start-recording", "next": "sales"},
        "sales": {"type": "transfer-group", "group": "grp_0123456789abcdefghjk", "timeout": 25, "next": "voicemail"},
        "support": {"type": "menu", "play": "https://example.com/prompts/support.mp3",
                    "options": {"1": "agent", "2": "text-link", "*": "main"}, "noInput": "main"},
        "agent": {"type": "ai-assistant", "url": "wss://voice.example.com/stream",
                  "parameters": {"persona": "support"}, "next": "goodbye"},
        "text-link": {"type": "send-sms", "to": "caller", "body": "Help centre: https://example.com/help",
                      "next": "goodbye"},
        "operator": {"type": "transfer-phone", "number": "+14155550123", "next": "voicemail"},
        "voicemail": {"type": "voicemail", "say": "Please leave a message after the tone.", "maxLength": 300,
                      "transcribe": True},
        "goodbye": {"type": "hangup", "say": "Goodbye."},
    },
}

EXAMPLE_SMS_RULES = [
    {"type": "opt-out", "params": {"keywords": ["remove"]}},
    {"type": "auto-reply", "match": {"keywords": ["hours", "open"], "mode": "contains"},
     "params": {"template": "Hi {{firstName}}, we are open 9-5 Mon-Fri. Reply HELP for help."}},
    {"type": "fill-form", "match": {"keywords": ["quote"], "mode": "exact"},
     "params": {"fields": [{"name": "email", "prompt": "What is your email?"},
                           {"name": "postcode", "prompt": "And your postcode?"}],
                "completeMessage": "Thanks! We will email {{email}} a quote."}},
    {"type": "forward-sms", "match": {"keywords": ["urgent"], "mode": "contains"}, "params": {"to": "+14155550123"}},
    {"type": "add-tag", "params": {"tag": "texted-in"}},
    {"type": "create-lead", "params": {"source": "sms", "tags": ["inbound"]}},
]


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
    assignments = serializers.JSONField(required=False, allow_null=True, help_text="The whole list, replacing the saved one.")
    voicemail = serializers.JSONField(required=False, allow_null=True, help_text="Greeting and recording, or null.")
    ivrFlow = serializers.JSONField(required=False, allow_null=True, help_text="The whole flow, or null to remove it.")

    def to_internal_value(self, data):
        if isinstance(data, dict) and "mode" in data:
            raise serializers.ValidationError({"mode": [
                'PUT does not switch the routing mode: POST {"mode": "voice" | "ivr"} to this path.']})
        value = super().to_internal_value(data)
        if not value:
            raise serializers.ValidationError({"non_field_errors": [
                f"Give at least one of: {', '.join(services.ROUTING_KEYS)}."]})
        return value


class SmsRulesSerializer(StrictSerializer):
    rules = serializers.JSONField(help_text="Ordered rules {type, match, params}; the whole list is replaced.")


class SmsRulesResponseSerializer(serializers.Serializer):
    rules = serializers.ListField(child=serializers.DictField())


class RoutingView(OrgScopedAPIView):
    @extend_schema(operation_id="phone_routing_get", tags=["routing"], responses={200: RoutingSerializer,
                                                                                  **errors(404)},
                   description="The number's routing mode, voice assignments and IVR flow.")
    def get(self, request, public_id: str):
        number = phone_number_get(org=self.org, public_id=public_id)
        row = services.routing_get_or_create(number=number)
        return Response(services.routing_document(number=number, row=row))

    @extend_schema(
        operation_id="phone_routing_update", tags=["routing"], request=RoutingUpdateSerializer,
        responses={200: RoutingSerializer, **errors(400, 404, 409)},
        examples=[OpenApiExample("Voice assignments", value=EXAMPLE_VOICE, request_only=True),
                  OpenApiExample("IVR flow", value={"ivrFlow": EXAMPLE_IVR_FLOW}, request_only=True)],
        description="Validate and save any of strategy, assignments, voicemail, ivrFlow; the others are kept. "
                    "Assignment types: user (a member's username), group (a ring group id), client (a "
                    "softphone identity), phone (E.164), queue (a queue name; last). IVR node types: menu, "
                    "transfer-phone, transfer-user, transfer-group, transfer-queue, voicemail, send-sms, "
                    "ai-assistant, start-recording, pause-recording, resume-recording, hangup. A bad "
                    "document is a 400 whose `field` names the node or item and its field, and saves nothing. "
                    "A released or failed number: 409.",
    )
    def put(self, request, public_id: str):
        number = phone_number_get(org=self.org, public_id=public_id)
        body = RoutingUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        row = services.routing_update(number=number, changes=body.validated_data)
        return Response(services.routing_document(number=number, row=row))


class SmsRulesView(OrgScopedAPIView):
    @extend_schema(operation_id="phone_sms_rules_get", tags=["routing"],
                   responses={200: SmsRulesResponseSerializer, **errors(404)},
                   description="The number's inbound SMS rules, in the order they are tried.")
    def get(self, request, public_id: str):
        row = services.routing_get_or_create(number=phone_number_get(org=self.org, public_id=public_id))
        return Response({"rules": row.sms_rules})

    @extend_schema(
        operation_id="phone_sms_rules_update", tags=["routing"], request=SmsRulesSerializer,
        responses={200: SmsRulesResponseSerializer, **errors(400, 404, 409)},
        examples=[OpenApiExample("Rules", value={"rules": EXAMPLE_SMS_RULES}, request_only=True)],
        description="Replace the rules (at most 50). Types: auto-reply, go-to-flow, fill-form, forward-sms, "
                    "ai-assistant, trigger-automation, create-lead, add-tag, opt-out, opt-in. `match` "
                    "{keywords, mode: exact|contains}, absent for any message. Template variables: "
                    "{{from}}, {{to}}, {{body}}, {{firstName}}, {{lastName}}, {{orgName}}.",
    )
    def put(self, request, public_id: str):
        number = phone_number_get(org=self.org, public_id=public_id)
        body = SmsRulesSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        row = services.sms_rules_update(number=number, rules=body.validated_data["rules"])
        return Response({"rules": row.sms_rules})


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


def _groups(org: Org) -> QuerySet[RingGroup]:
    return for_org(RingGroup.objects.prefetch_related("members"), org)


class RingGroupListView(OrgScopedAPIView):
    @extend_schema(operation_id="phone_groups_list", tags=["routing"],
                   responses={200: RingGroupSerializer(many=True), **errors()})
    def get(self, request):
        return Response({"data": RingGroupSerializer(_groups(self.org), many=True).data})

    @extend_schema(operation_id="phone_groups_create", tags=["routing"], request=RingGroupWriteSerializer,
                   responses={201: RingGroupSerializer, **errors(400, 409)},
                   description="Users whose softphones ring together. Members must belong to this org.")
    def post(self, request):
        body = RingGroupWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        group = services.ring_group_create(org=self.org, name=body.validated_data["name"],
                                           members=body.validated_data.get("members", []))
        return Response(RingGroupSerializer(_groups(self.org).get(pk=group.pk)).data, status=status.HTTP_201_CREATED)


class RingGroupDetailView(OrgScopedAPIView):
    @extend_schema(operation_id="phone_groups_get", tags=["routing"],
                   responses={200: RingGroupSerializer, **errors(404)})
    def get(self, request, public_id: str):
        return Response(RingGroupSerializer(get_for_org(_groups(self.org), self.org, public_id=public_id)).data)

    @extend_schema(operation_id="phone_groups_update", tags=["routing"],
                   request=RingGroupWriteSerializer(partial=True),
                   responses={200: RingGroupSerializer, **errors(400, 404, 409)},
                   description="Partial: name and/or members (the list given replaces the members).")
    def put(self, request, public_id: str):
        group = get_for_org(RingGroup.objects.all(), self.org, public_id=public_id)
        body = RingGroupWriteSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        services.ring_group_update(group=group, name=body.validated_data.get("name"),
                                   members=body.validated_data.get("members"))
        return Response(RingGroupSerializer(_groups(self.org).get(pk=group.pk)).data)

    @extend_schema(operation_id="phone_groups_delete", tags=["routing"], responses={204: None, **errors(404, 409)},
                   description="Refused (409) while a live number's routing uses the group.")
    def delete(self, request, public_id: str):
        services.ring_group_delete(group=get_for_org(RingGroup.objects.all(), self.org, public_id=public_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
