"""Calls API: a number's voice assignments and IVR flow, the org's ring groups, outbound calls, the softphone.

Members read; admins and owners write. Numbers are looked up in the caller's org only (another
org's number is a 404), released ones included: their routing can be read, not changed (409).
The documents are validated by phones.calls.documents; the formats are in its docstrings and the
examples below.
"""
from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.response import Response

from core.openapi import errors, patch_like_put
from core.pagination import PageQuerySerializer, page_query, page_response, page_schema
from orgs.models import Membership, Org
from orgs.scoping import OrgScopedAPIView, for_org, get_for_org
from phones.calls import routing, services, softphone
from phones.calls.serializers import (
    CallDetailSerializer,
    CallListQuerySerializer,
    CallPageSerializer,
    CallSerializer,
    MakeCallSerializer,
    PresenceSerializer,
    PresenceUpdateSerializer,
    RingGroupSerializer,
    RingGroupWriteSerializer,
    RoutingSerializer,
    RoutingUpdateSerializer,
    SoftphoneSettingsSerializer,
    SoftphoneTokenSerializer,
)
from phones.models import Call, RingGroup
from phones.selectors import phone_number_get

MEMBER = Membership.Role.MEMBER

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


class RoutingView(OrgScopedAPIView):
    @extend_schema(operation_id="phone_routing_get", tags=["routing"], responses={200: RoutingSerializer,
                                                                                  **errors(404)},
                   description="The number's routing mode, voice assignments and IVR flow.")
    def get(self, request, public_id: str):
        number = phone_number_get(org=self.org, public_id=public_id)
        row = routing.routing_get_or_create(number=number)
        return Response(routing.routing_document(number=number, row=row))

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
        row = routing.routing_update(number=number, changes=body.validated_data)
        return Response(routing.routing_document(number=number, row=row))

    patch = patch_like_put(put, "phone_routing_patch")


def _groups(org: Org) -> QuerySet[RingGroup]:
    return for_org(RingGroup.objects.prefetch_related("members"), org)


class RingGroupListView(OrgScopedAPIView):
    @extend_schema(operation_id="phone_groups_list", tags=["routing"],
                   parameters=[PageQuerySerializer],
                   responses={200: page_schema(RingGroupSerializer, "RingGroupList"), **errors()})
    def get(self, request):
        return page_response(_groups(self.org).order_by("name", "id"), RingGroupSerializer, page_query(request))

    @extend_schema(operation_id="phone_groups_create", tags=["routing"], request=RingGroupWriteSerializer,
                   responses={201: RingGroupSerializer, **errors(400, 409)},
                   description="Users whose softphones ring together. Members must belong to this org.")
    def post(self, request):
        body = RingGroupWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        group = routing.ring_group_create(org=self.org, name=body.validated_data["name"],
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
        routing.ring_group_update(group=group, name=body.validated_data.get("name"),
                                   members=body.validated_data.get("members"))
        return Response(RingGroupSerializer(_groups(self.org).get(pk=group.pk)).data)

    patch = patch_like_put(put, "phone_groups_patch")

    @extend_schema(operation_id="phone_groups_delete", tags=["routing"], responses={204: None, **errors(404, 409)},
                   description="Refused (409) while a live number's routing uses the group.")
    def delete(self, request, public_id: str):
        routing.ring_group_delete(group=get_for_org(RingGroup.objects.all(), self.org, public_id=public_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MakeCallView(OrgScopedAPIView):
    roles = {"POST": MEMBER}

    @extend_schema(
        operation_id="calls_make_call", tags=["calls"], request=MakeCallSerializer,
        responses={201: CallSerializer, **errors(400, 422, 502, 503)},
        description="Call `to` from one of the org's numbers. The callee hears the TwiML at `twimlUrl`, or "
                    "walks the IVR flow of the org's number `flowId` (its id, as in /phone/numbers).",
    )
    def post(self, request):
        body = MakeCallSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        d = body.validated_data
        call = services.call_make(org=self.org, from_=d["from"], to=d["to"], twiml_url=d.get("twimlUrl"),
                                   flow_id=d.get("flowId"))
        return Response(CallSerializer(call).data, status=201)


def _calls(org: Org) -> QuerySet[Call]:
    return for_org(Call.objects.select_related("agent"), org)


class CallDetailView(OrgScopedAPIView):
    @extend_schema(operation_id="calls_get", tags=["calls"], responses={200: CallDetailSerializer, **errors(404)},
                   description="One of the org's calls; an AI agent's call with its transcript, status and AI "
                               "seconds.")
    def get(self, request, public_id: str):
        return Response(CallDetailSerializer(get_for_org(_calls(self.org), self.org, public_id=public_id)).data)


class NumberCallsView(OrgScopedAPIView):
    @extend_schema(operation_id="phone_number_calls", tags=["calls"], parameters=[CallListQuerySerializer],
                   responses={200: CallPageSerializer, **errors(400, 404)},
                   description="The calls of one of the org's numbers, newest first, AI transcripts included.")
    def get(self, request, public_id: str):
        number = phone_number_get(org=self.org, public_id=public_id)
        query = CallListQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        limit, offset = query.validated_data["limit"], query.validated_data["offset"]
        calls = _calls(self.org).filter(phone_number=number)
        return Response({"data": CallDetailSerializer(calls[offset:offset + limit], many=True).data,
                         "total": calls.count(), "limit": limit, "offset": offset})


class SoftphoneTokenView(OrgScopedAPIView):
    roles = {"POST": MEMBER}

    @extend_schema(operation_id="softphone_token", tags=["softphone"], request=None,
                   responses={200: SoftphoneTokenSerializer, **errors(400)},
                   description="A Voice SDK access token for the signed-in user (VoiceGrant: outgoing through "
                               "the connection's twimlAppSid, incoming allowed). Needs the connection's apiKeySid "
                               "and apiKeySecret and publicConfig.twimlAppSid: 400 `softphone_not_configured` "
                               "names what is missing.")
    def post(self, request):
        return Response(softphone.softphone_token(org=self.org, user=request.user))


class SoftphoneSettingsView(OrgScopedAPIView):
    roles = {"PUT": Membership.Role.ADMIN}

    @extend_schema(operation_id="softphone_settings_get", tags=["softphone"],
                   responses={200: SoftphoneSettingsSerializer, **errors()},
                   description="Where members' softphones may call. A call placed from a softphone dials out "
                               "with the caller ID of a number whose routing rings the member (else the system "
                               "phone), only to these countries.")
    def get(self, request):
        return Response(SoftphoneSettingsSerializer(self.org).data)

    @extend_schema(operation_id="softphone_settings_update", tags=["softphone"], request=SoftphoneSettingsSerializer,
                   responses={200: SoftphoneSettingsSerializer, **errors(400)},
                   description="Set the countries softphones may call (admins and owners).")
    def put(self, request):
        body = SoftphoneSettingsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if "softphone_countries" in body.validated_data:
            self.org.softphone_countries = body.validated_data["softphone_countries"]
            self.org.save(update_fields=["softphone_countries"])
        return Response(SoftphoneSettingsSerializer(self.org).data)

    patch = patch_like_put(put, "softphone_settings_patch")


class PresenceView(OrgScopedAPIView):
    roles = {"PUT": MEMBER}

    @extend_schema(operation_id="softphone_presence_list", tags=["softphone"],
                   parameters=[PageQuerySerializer],
                   responses={200: page_schema(PresenceSerializer, "PresenceList"), **errors()},
                   description="Every member of the org with their softphone presence (offline if never set).")
    def get(self, request):
        return page_response(softphone.presence_list(org=self.org), PresenceSerializer, page_query(request))

    @extend_schema(operation_id="softphone_presence_set", tags=["softphone"], request=PresenceUpdateSerializer,
                   responses={200: PresenceSerializer, **errors(400)},
                   description="Set the signed-in user's presence.")
    def put(self, request):
        body = PresenceUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        presence = softphone.presence_set(org=self.org, user=request.user, status=body.validated_data["status"])
        return Response(softphone.presence_body(request.user, presence))
