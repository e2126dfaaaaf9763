"""Inbound SMS: stored once per message SID, opt-out keywords, the number's rules, then threaded.

While the provider waits, only what the answer needs: the reply is decided (keyword check in
Python, rules from the routing row the webhook was resolved with, one query for the sender's name
and opt-out when a rule may reply) and the text is inserted together with that answer (ON
CONFLICT on its unique SID: a retried webhook inserts nothing and gets no reply). Threading into
the inbox, usage, the opt-out record and the rules' other effects run in
tasks.thread_inbound_sms, which threads every stored text still without a conversation: the
stored answer is all it needs, so a text is never lost to a broker that was down when it came.

A fill-form rule writes the form's progress while answering; with one, the answer and the insert
share a transaction, so a retried webhook's form step is rolled back with its duplicate insert.

Keywords are the whole message (trimmed, any case): the standard lists of phones.calls.documents plus the
number's opt-out/opt-in rule keywords. Their confirmation is the reply, so it is sent whether or
not the sender is (now) suppressed; the suppression is recorded after it. A keyword text runs no
other rule.
"""
from __future__ import annotations

import logging
from contextlib import nullcontext
from dataclasses import asdict, dataclass

from django.db import transaction
from django.utils import timezone

from billing.services import usage_record
from core.insert_once import insert_once
from orgs.models import Org
from phones.messaging import services as messaging
from phones.messaging import tasks
from phones.messaging.engine import REPLYING_RULES, Inbound, RuleEngine
from phones.messaging.rules import STANDARD_HELP, STANDARD_OPT_IN, STANDARD_OPT_OUT
from phones.messaging.selectors import sender_lookup
from phones.models import Contact, Message, PhoneNumber, PhoneRouting
from providers.events import InboundSms

logger = logging.getLogger(__name__)

OPTED_OUT = ("You have been unsubscribed from {org} and will receive no more messages. "
             "Reply START to resubscribe.")
OPTED_IN = "You have been resubscribed to {org}. Reply STOP to unsubscribe."
HELP = "{org}: reply to this message to reach us, or call {number}. Msg & data rates may apply. Reply STOP to opt out."


@dataclass
class Answer:
    """What the webhook answers, and what is left for after commit."""

    replies: list[str]
    keyword: str = ""
    keyword_kind: str = ""  # opt-out, opt-in, help
    ai_instructions: str | None = None
    run_rules: bool = True
    # The provider cannot take replies in its answer (Telnyx): they are texted by a task instead.
    send_replies: bool = False


def sms_rules(routing: PhoneRouting | None) -> list[dict]:
    """The number's SMS rules, in order (none without a routing)."""
    return list(routing.sms_rules or []) if routing else []


def _keywords(rules: list[dict], kind: str, standard: frozenset[str]) -> frozenset[str]:
    extra = {k.upper() for rule in rules if rule["type"] == kind for k in rule.get("params", {}).get("keywords", [])}
    return standard | extra


def _sender(org: Org, e164: str) -> tuple[Contact, bool]:
    """The sender's contact (unsaved when new; known by name only) and whether they opted out."""
    contact_id, first_name, last_name, suppressed = sender_lookup(org_id=org.pk, e164=e164)
    return Contact(pk=contact_id, org=org, e164=e164, first_name=first_name, last_name=last_name), suppressed


def _answer(number: PhoneNumber, rules: list[dict], message: Message) -> Answer:
    keyword = message.body.strip().upper()
    names = {"org": number.org.name, "number": number.e164}
    if keyword in _keywords(rules, "opt-out", STANDARD_OPT_OUT):
        return Answer([OPTED_OUT.format(**names)], keyword, "opt-out", run_rules=False)
    if keyword in _keywords(rules, "opt-in", STANDARD_OPT_IN):
        return Answer([OPTED_IN.format(**names)], keyword, "opt-in", run_rules=False)
    if keyword in STANDARD_HELP:
        return Answer([HELP.format(**names)], keyword, "help", run_rules=False)
    if not any(rule["type"] in REPLYING_RULES for rule in rules):
        return Answer([])
    contact, suppressed = _sender(number.org, message.from_number)
    inbound = Inbound(number=number, contact=contact, message=message, suppressed=suppressed)
    replies = RuleEngine(inbound).replies(rules)
    return Answer(replies, ai_instructions=inbound.ai_instructions, run_rules=not inbound.answered_form)


def sms_receive(*, number: PhoneNumber, rules: list[dict], sms: InboundSms, send_replies: bool = False
                ) -> list[str]:
    """Store `sms` with its answer and return the replies; none when this SID was already
    received, or with `send_replies` (they are texted after it is threaded)."""
    message = Message(org=number.org, phone_number=number, direction=Message.Direction.INBOUND,
                      from_number=sms.from_, to_number=sms.to, body=sms.body, media_urls=sms.media_urls,
                      provider_sid=sms.sid, status=sms.status, segments=sms.segments, created_at=timezone.now())
    forms = any(rule["type"] == "fill-form" for rule in rules)
    with transaction.atomic() if forms else nullcontext():
        answer = _answer(number, rules, message)
        answer.send_replies = send_replies
        message.answer = asdict(answer)
        # Unique on provider_sid: the provider's retry of a text we already have inserts nothing.
        if not insert_once(message, unique="provider_sid"):
            if forms:
                transaction.set_rollback(True)
            logger.info("inbound SMS %s already handled: answered with nothing", sms.sid)
            return []
    transaction.on_commit(tasks.thread_inbound_sms_soon)
    return [] if send_replies else answer.replies


def _store_replies(inbound: Message, replies: list[str]) -> None:
    """Replies the provider sent from our answer, in the thread (their SIDs are not known to us)."""
    now = timezone.now()
    Message.objects.bulk_create([
        Message(org=inbound.org, phone_number=inbound.phone_number, direction=Message.Direction.OUTBOUND,
                from_number=inbound.to_number, to_number=inbound.from_number, body=text, status="queued",
                conversation_id=inbound.conversation_id, created_at=now)
        for text in replies])


def sms_thread(*, message_id: int) -> bool:
    """Thread a stored inbound text, record its usage and keyword, run the rules' effects, keep
    or send the replies, as its stored answer says. False when there was nothing to do: already
    threaded, or being threaded by another worker."""
    with transaction.atomic():
        message = (Message.objects.select_for_update(of=("self",), skip_locked=True)
                   .select_related("org", "phone_number__org", "phone_number__routing")
                   .filter(pk=message_id, conversation__isnull=True).first())
        if message is None or message.phone_number is None or message.answer is None:
            return False
        answer = Answer(**message.answer)
        number, org = message.phone_number, message.org
        conversation = messaging.thread_for(org=org, number=number, e164=message.from_number)
        message.conversation = conversation
        message.save(update_fields=["conversation"])
        messaging.conversation_touch(conversation=conversation, message=message)
        usage_record(org=org, phone_number=number, kind="sms_segment", quantity=message.segments,
                     period=message.created_at.date().replace(day=1), key=f"sms:{message.provider_sid}")
        if answer.keyword_kind == "opt-out":
            messaging.opt_out_record(org=org, e164=message.from_number, keyword=answer.keyword, number=number)
        elif answer.keyword_kind == "opt-in":
            messaging.opt_out_lift(org=org, e164=message.from_number)
        if answer.run_rules:
            inbound = Inbound(number=number, contact=conversation.contact, conversation=conversation,
                              message=message, suppressed=False)
            RuleEngine(inbound).effects(sms_rules(getattr(number, "routing", None)))
        if answer.send_replies:
            for text in answer.replies:
                tasks.sms_reply_send.delay_on_commit(message_id=message.pk, body=text)
        elif answer.replies:
            _store_replies(message, answer.replies)
        if answer.ai_instructions is not None:
            tasks.ai_assistant_reply.delay_on_commit(message_id=message.pk, instructions=answer.ai_instructions)
    return True
