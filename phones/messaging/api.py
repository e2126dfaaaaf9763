"""Messaging API: sending texts, the inbox, a number's messages and SMS rules, messaging settings.

Members may send texts and read the inbox; the org's messaging
settings (where automations and the AI assistant live, the signing secret) are for admins.
"""
from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from core.openapi import errors, patch_like_put
from core.pagination import PageQuerySerializer, page_body, page_query, page_schema
from core.serializers import StrictSerializer
from orgs.models import Membership
from orgs.scoping import OrgScopedAPIView, get_for_org
from phones.messaging import outbound_webhooks as outbound
from phones.messaging import selectors
from phones.messaging import services as messaging
from phones.messaging.serializers import (
    ConversationMessagesQuerySerializer,
    ConversationSerializer,
    MessagePageSerializer,
    MessageSerializer,
    MessagesQuerySerializer,
    MessagingSettingsSerializer,
    MessagingSettingsUpdateSerializer,
    SendSmsSerializer,
)
from phones.models import Conversation
from phones.routing import routing_get_or_create
from phones.selectors import phone_number_get

MEMBER = Membership.Role.MEMBER

MEMBER = Membership.Role.MEMBER


class SendSmsView(OrgScopedAPIView):
    roles = {"POST": MEMBER}

    @extend_schema(
        operation_id="messages_send_sms", tags=["messages"], request=SendSmsSerializer,
        responses={201: MessageSerializer, **errors(400, 409, 422, 502, 503)},
        description="Send a text now. `from` defaults to the connection's messagingServiceSid, else its "
                    "defaultSenderNumber, else the org's system phone (none: 400 `no_sender`). A recipient who "
                    "texted STOP is refused with 409 `recipient_opted_out` and nothing is sent. TCPA: a "
                    "`category: marketing` text to a US number whose body has no opt-out language gets "
                    "\"Reply STOP to opt out.\" appended; a transactional one (the default: codes, receipts, "
                    "replies) is sent as written. Provider refusals are 422 with the provider's code.",
    )
    def post(self, request):
        body = SendSmsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        d = body.validated_data
        message = messaging.sms_send(org=self.org, to=d["to"], body=d["body"], media_urls=d["mediaUrl"],
                                     from_=d.get("from"), category=d["category"])
        return Response(MessageSerializer(message).data, status=201)


class ConversationListView(OrgScopedAPIView):
    @extend_schema(operation_id="inbox_conversations", tags=["inbox"], parameters=[PageQuerySerializer],
                   responses={200: page_schema(ConversationSerializer, "ConversationPage"), **errors(400)},
                   description="Inbox threads (one per number and contact), most recently active first.")
    def get(self, request):
        q = page_query(request)
        page, total = selectors.conversation_list(org=self.org, limit=q["limit"], offset=q["offset"])
        return Response(page_body(ConversationSerializer(page, many=True).data, total=total, query=q))


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
        rows, has_more = selectors.conversation_messages(conversation=conversation, limit=q["limit"],
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

    patch = patch_like_put(put, "messaging_settings_patch")

class MessagesView(OrgScopedAPIView):
    @extend_schema(operation_id="phone_numbers_messages", tags=["phone"], parameters=[MessagesQuerySerializer],
                   responses={200: MessagePageSerializer, **errors(400, 404)},
                   description="Newest first; before/after are ISO-8601 timestamps. Released numbers too.")
    def get(self, request, public_id: str):
        number = phone_number_get(org=self.org, public_id=public_id)
        query = MessagesQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        q = query.validated_data
        rows, has_more = selectors.phone_messages(number=number, limit=q["limit"], before=q.get("before"),
                                                  after=q.get("after"))
        return Response({"data": MessageSerializer(rows, many=True).data, "hasMore": has_more})


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


class SmsRulesSerializer(StrictSerializer):
    rules = serializers.JSONField(help_text="Ordered rules {type, match, params}; the whole list is replaced.")


class SmsRulesResponseSerializer(serializers.Serializer):
    rules = serializers.ListField(child=serializers.DictField())


class SmsRulesView(OrgScopedAPIView):
    @extend_schema(operation_id="phone_sms_rules_get", tags=["routing"],
                   responses={200: SmsRulesResponseSerializer, **errors(404)},
                   description="The number's inbound SMS rules, in the order they are tried.")
    def get(self, request, public_id: str):
        row = routing_get_or_create(number=phone_number_get(org=self.org, public_id=public_id))
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
        row = messaging.sms_rules_update(number=number, rules=body.validated_data["rules"])
        return Response({"rules": row.sms_rules})
