"""Traffic API: outbound SMS and calls, the inbox, messaging settings, the softphone.

Members may send texts, place calls, read the inbox and use the softphone; the org's messaging
settings (where automations and the AI assistant live, the signing secret) are for admins.
"""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from phones.messaging import services as messaging

from phones.messaging import selectors as selectors_traffic

from phones.calls import softphone
from phones.models import Conversation
from phones.numbers.serializers import MessagePageSerializer, MessageSerializer
from phones.messaging.serializers import (
    CallSerializer,
    ConversationMessagesQuerySerializer,
    ConversationPageSerializer,
    ConversationSerializer,
    MakeCallSerializer,
    MessagingSettingsSerializer,
    MessagingSettingsUpdateSerializer,
    PageQuerySerializer,
    PresenceListSerializer,
    PresenceSerializer,
    PresenceUpdateSerializer,
    SendSmsSerializer,
    SoftphoneTokenSerializer,
)
from orgs.models import Membership
from core.openapi import errors
from orgs.scoping import OrgScopedAPIView, get_for_org
from phones.messaging import outbound_webhooks as outbound

MEMBER = Membership.Role.MEMBER


class SendSmsView(OrgScopedAPIView):
    roles = {"POST": MEMBER}

    @extend_schema(
        operation_id="messages_send_sms", tags=["messages"], request=SendSmsSerializer,
        responses={201: MessageSerializer, **errors(400, 409, 422, 502, 503)},
        description="Send a text now. `from` defaults to the connection's messagingServiceSid, else its "
                    "defaultSenderNumber, else the org's system phone (none: 400 `no_sender`). A recipient who "
                    "texted STOP is refused with 409 `recipient_opted_out` and nothing is sent. TCPA: a text "
                    "to a US number whose body has no opt-out language gets \"Reply STOP to opt out.\" "
                    "appended. Provider refusals are 422 with the provider's code.",
    )
    def post(self, request):
        body = SendSmsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        d = body.validated_data
        message = messaging.sms_send(org=self.org, to=d["to"], body=d["body"], media_urls=d["mediaUrl"],
                                     from_=d.get("from"))
        return Response(MessageSerializer(message).data, status=201)


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
        call = messaging.call_make(org=self.org, from_=d["from"], to=d["to"], twiml_url=d.get("twimlUrl"),
                                   flow_id=d.get("flowId"))
        return Response(CallSerializer(call).data, status=201)


class ConversationListView(OrgScopedAPIView):
    @extend_schema(operation_id="inbox_conversations", tags=["inbox"], parameters=[PageQuerySerializer],
                   responses={200: ConversationPageSerializer, **errors(400)},
                   description="Inbox threads (one per number and contact), most recently active first.")
    def get(self, request):
        query = PageQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        q = query.validated_data
        page, total = selectors_traffic.conversation_list(org=self.org, limit=q["limit"], offset=q["offset"])
        return Response({"data": ConversationSerializer(page, many=True).data, "total": total,
                         "limit": q["limit"], "offset": q["offset"]})


class ConversationMessagesView(OrgScopedAPIView):
    @extend_schema(operation_id="inbox_conversation_messages", tags=["inbox"],
                   parameters=[ConversationMessagesQuerySerializer],
                   responses={200: MessagePageSerializer, **errors(400, 404)},
                   description="A thread's messages, newest first; `before` pages back in time.")
    def get(self, request, public_id: str):
        conversation = get_for_org(Conversation.objects.all(), self.org, public_id=public_id)
        query = ConversationMessagesQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        q = query.validated_data
        rows, has_more = selectors_traffic.conversation_messages(conversation=conversation, limit=q["limit"],
                                                                 before=q.get("before"))
        return Response({"data": MessageSerializer(rows, many=True).data, "hasMore": has_more})


class MessagingSettingsView(OrgScopedAPIView):
    default_read_role = Membership.Role.ADMIN

    @extend_schema(operation_id="messaging_settings_get", tags=["messages"],
                   responses={200: MessagingSettingsSerializer, **errors()},
                   description="Where trigger-automation/go-to-flow and ai-assistant SMS rules send their signed "
                               "POSTs, and the secret they are signed with (admins and owners).")
    def get(self, request):
        return Response(MessagingSettingsSerializer(outbound.messaging_settings_get_or_create(self.org)).data)

    @extend_schema(operation_id="messaging_settings_update", tags=["messages"],
                   request=MessagingSettingsUpdateSerializer,
                   responses={200: MessagingSettingsSerializer, **errors(400)},
                   description="Set the URLs (empty string clears one); rotateSecret makes a new signing secret.")
    def put(self, request):
        body = MessagingSettingsUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        updated = outbound.messaging_settings_update(org=self.org, **body.validated_data)
        return Response(MessagingSettingsSerializer(updated).data)


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


class PresenceView(OrgScopedAPIView):
    roles = {"PUT": MEMBER}

    @extend_schema(operation_id="softphone_presence_list", tags=["softphone"],
                   responses={200: PresenceListSerializer, **errors()},
                   description="Every member of the org with their softphone presence (offline if never set).")
    def get(self, request):
        return Response({"data": softphone.presence_list(org=self.org)})

    @extend_schema(operation_id="softphone_presence_set", tags=["softphone"], request=PresenceUpdateSerializer,
                   responses={200: PresenceSerializer, **errors(400)},
                   description="Set the signed-in user's presence.")
    def put(self, request):
        body = PresenceUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        presence = softphone.presence_set(org=self.org, user=request.user, status=body.validated_data["status"])
        return Response(softphone.presence_body(request.user, presence))
