"""Inbound SMS: stored once per MessageSid, threaded, opt-out keywords, then the number's rules.

Keywords are the whole message (trimmed, any case): the standard lists of phones.routing plus the
number's opt-out/opt-in rule keywords. Their confirmation goes out in this response's TwiML, so
it is sent whether or not the sender is (now) suppressed; the suppression is recorded with it.
A keyword text runs no other rule.
"""
from __future__ import annotations

import logging
from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone
from twilio.twiml.messaging_response import MessagingResponse

from billing.services import usage_record
from phones import messaging
from phones.models import Message
from phones.routing import STANDARD_HELP, STANDARD_OPT_IN, STANDARD_OPT_OUT
from telephony.ids import new_public_id
from webhooks.security import Webhook
from webhooks.sms_rules import Inbound, RuleEngine

logger = logging.getLogger(__name__)

OPTED_OUT = ("You have been unsubscribed from {org} and will receive no more messages. "
             "Reply START to resubscribe.")
OPTED_IN = "You have been resubscribed to {org}. Reply STOP to unsubscribe."
HELP = "{org}: reply to this message to reach us, or call {number}. Msg & data rates may apply. Reply STOP to opt out."


def _keywords(rules: list[dict], kind: str, standard: frozenset[str]) -> frozenset[str]:
    extra = {k.upper() for rule in rules if rule["type"] == kind for k in rule.get("params", {}).get("keywords", [])}
    return standard | extra


def _media_urls(params: dict[str, str]) -> list[str]:
    try:
        count = min(int(params.get("NumMedia") or 0), 10)
    except ValueError:
        count = 0
    return [params[f"MediaUrl{i}"] for i in range(count) if params.get(f"MediaUrl{i}")]


def _segments(params: dict[str, str]) -> int:
    try:
        return max(int(params.get("NumSegments") or 1), 1)
    except ValueError:
        return 1


def _month(day: date) -> date:
    return day.replace(day=1)


def _handle(hook: Webhook, sid: str) -> tuple[Message, list[str]]:
    number, params = hook.number, hook.params
    org = number.org
    sender, body = params.get("From", ""), params.get("Body", "")
    now = timezone.now()
    conversation = messaging.thread_for(org=org, number=number, e164=sender)
    contact = conversation.contact
    # Unique on provider_sid: Twilio's retry of a text we already have fails here, and the
    # whole transaction (and everything below) is rolled back.
    message = Message.objects.create(
        org=org, phone_number=number, direction=Message.Direction.INBOUND, from_number=sender,
        to_number=params.get("To", ""), body=body, media_urls=_media_urls(params), provider_sid=sid,
        status=params.get("SmsStatus") or "received", segments=_segments(params), conversation=conversation,
        created_at=now)
    messaging.conversation_touch(conversation=conversation, message=message)
    usage_record(org=org, phone_number=number, kind="sms_segment", quantity=message.segments,
                 period=_month(now.date()), key=f"sms:{sid}")

    routing = hook.routing
    rules = list(routing.sms_rules or []) if routing else []
    keyword = body.strip().upper()
    names = {"org": org.name, "number": number.e164}
    if keyword in _keywords(rules, "opt-out", STANDARD_OPT_OUT):
        replies = [OPTED_OUT.format(**names)]
        messaging.opt_out_record(org=org, e164=sender, keyword=keyword, number=number)
        return message, replies
    if keyword in _keywords(rules, "opt-in", STANDARD_OPT_IN):
        messaging.opt_out_lift(org=org, e164=sender)
        return message, [OPTED_IN.format(**names)]
    if keyword in STANDARD_HELP:
        return message, [HELP.format(**names)]
    inbound = Inbound(number=number, contact=contact, conversation=conversation, message=message,
                      suppressed=messaging.is_opted_out(org=org, e164=sender))
    return message, RuleEngine(inbound).run(rules)


def _store_replies(inbound: Message, replies: list[str]) -> None:
    """The TwiML replies, in the thread (Twilio creates them; their SIDs are not known to us)."""
    now = timezone.now()
    Message.objects.bulk_create([
        Message(org=inbound.org, phone_number=inbound.phone_number, direction=Message.Direction.OUTBOUND,
                from_number=inbound.to_number, to_number=inbound.from_number, body=text, status="queued",
                conversation_id=inbound.conversation_id, created_at=now,
                # bulk_create skips save(), which is where public ids are usually made.
                public_id=new_public_id("msg"))
        for text in replies])


def sms_response(hook: Webhook) -> MessagingResponse:
    response = MessagingResponse()
    sid = hook.params.get("MessageSid") or hook.params.get("SmsSid") or ""
    if hook.number is None or not sid:
        logger.info("inbound SMS %s to %s: not one of our numbers", sid, hook.params.get("To"))
        return response
    try:
        with transaction.atomic():
            message, replies = _handle(hook, sid)
            if replies:
                _store_replies(message, replies)
    except IntegrityError:
        if not Message.objects.filter(provider_sid=sid).exists():
            raise
        logger.info("inbound SMS %s already handled: answered with nothing", sid)
        return response
    for text in replies:
        response.message(text)
    return response
