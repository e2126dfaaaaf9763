"""Inbound SMS: stored once per message SID, opt-out keywords, the number's rules, then threaded.

While the provider waits, only what the answer needs: the reply is decided (keyword check in
Python, rules from the routing row the webhook was resolved with, one query for the sender's name
and opt-out when a rule may reply) and the text is inserted together with that answer (ON
CONFLICT on its unique SID: a retried webhook inserts nothing and gets no reply). Threading into
the inbox, usage and the rules' other effects run in
tasks.thread_inbound_sms, which threads the stored texts still without a conversation in batches: the
stored answer is all it needs, so a text is never lost to a broker that was down when it came.

A fill-form rule writes the form's progress while answering; with one, the answer and the insert
share a transaction, so a retried webhook's form step is rolled back with its duplicate insert.
An opt-out or opt-in keyword is recorded the same way, with its text: the sender's next text,
however soon, is answered as suppressed (or not), threaded or not.

Keywords are the whole message (trimmed, any case): the standard lists of phones.messaging.rules plus the
number's opt-out/opt-in rule keywords. Their confirmation is the reply, so it is sent whether or
not the sender is (now) suppressed; the suppression is recorded with it. A keyword text runs no
other rule, and none of the number's smsConfig.

The order for any other text:
1. the number's SMS rules, in order (phones.messaging.engine): the first replying rule answers;
2. the number's AI agent (PhoneNumber.agent), when no rule replied: its reply, from the conversation's
   recent history, is texted by a task after the text is threaded (phones.messaging.agent_reply),
   never to a sender who has opted out;
3. else smsConfig.autoReplyEnabled + autoReplyMessage: the answer when no rule replied (a template, like
   an auto-reply rule's), never to a sender who has opted out;
after the text is threaded:
3. the rules' other effects (tags, leads, forwards, automations);
4. smsConfig.forwardTo: the text forwarded there like a forward-sms rule's (once, even when a rule
   forwards it to the same number; not sent when that number has opted out of the org's texts);
5. smsConfig.triggerAutomations: an `sms.received` POST to the org's automation webhook, signed and
   retried like a trigger-automation rule's.
Every text and reply is stamped with the number's configuration.tracking (Message.tracking).
"""
from __future__ import annotations

import json
import logging
import secrets
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from billing.models import UsageRecord
from billing.services import Usage, usage_record_many
from core import bounds
from core.insert_once import insert_once
from core.insert_rows import insert_rows
from core.update_rows import update_rows
from orgs.models import Org
from phones.messaging import services as messaging
from phones.messaging import tasks
from phones.messaging.callbacks import is_billed, reply_placeholder
from phones.messaging.engine import REPLYING_RULES, Inbound, RuleEngine, render
from phones.messaging.rules import STANDARD_HELP, STANDARD_OPT_IN, STANDARD_OPT_OUT
from phones.messaging.selectors import answer_for_sender, sender_lookup, sender_source
from phones.models import UNTHREADED, Contact, Message, PhoneNumber, PhoneRouting
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
    # The number's AI agent answers (phones.messaging.agent_reply): its reply is texted by a task.
    agent_id: int | None = None
    # Replies whose status callback came before the text was threaded: {index: [SID, status]}.
    sent: dict[str, list[str]] = field(default_factory=dict)
    # The keyword's opt-out or opt-in was recorded with the text (answers stored before that was
    # done by the webhook leave it to the threading).
    keyword_recorded: bool = False


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
    answer = _answer_without_sender(number, rules, message)
    if answer is not None:
        return answer
    contact, suppressed = _sender(number.org, message.from_number)
    return _answer_for(number, rules, message, contact, suppressed)


def _answer_without_sender(number: PhoneNumber, rules: list[dict], message: Message) -> Answer | None:
    """The answer to a keyword, or to a text nothing can reply to; None when it depends on the sender."""
    keyword = message.body.strip().upper()
    names = {"org": number.org.name, "number": number.e164}
    if keyword in _keywords(rules, "opt-out", STANDARD_OPT_OUT):
        return Answer([OPTED_OUT.format(**names)], keyword, "opt-out", run_rules=False)
    if keyword in _keywords(rules, "opt-in", STANDARD_OPT_IN):
        return Answer([OPTED_IN.format(**names)], keyword, "opt-in", run_rules=False)
    if keyword in STANDARD_HELP:
        return Answer([HELP.format(**names)], keyword, "help", run_rules=False)
    if not auto_reply_message(number) and not number.agent_id and not any(rule["type"] in REPLYING_RULES
                                                                          for rule in rules):
        return Answer([])
    return None


def _answer_for(number: PhoneNumber, rules: list[dict], message: Message, contact: Contact,
                suppressed: bool) -> Answer:
    """The answer to a text from `contact` (suppressed: opted out): the rules, the agent, the auto-reply."""
    auto_reply, agent_id = auto_reply_message(number), number.agent_id
    inbound = Inbound(number=number, contact=contact, message=message, suppressed=suppressed)
    replies = RuleEngine(inbound).replies(rules)
    answering_agent = None
    if agent_id and not inbound.replied and not inbound.suppressed:
        # The number's agent answers what no rule answered (never a sender who opted out), by a task.
        inbound.replied = True
        answering_agent = agent_id
    elif auto_reply and not inbound.replied:
        # smsConfig's auto-reply answers what no rule answered (Inbound.reply: not to a suppressed sender).
        inbound.reply(render(auto_reply, inbound.variables))
    return Answer(replies, ai_instructions=inbound.ai_instructions, run_rules=not inbound.answered_form,
                  agent_id=answering_agent)


# Stand-ins for the sender's names while their answer is decided before they are read (one per
# process, random: a text cannot contain them), replaced by the names in the insert statement.
NAME_TOKENS = (f"@@firstName-{secrets.token_hex(16)}@@", f"@@lastName-{secrets.token_hex(16)}@@")


def _insert_answered(number: PhoneNumber, rules: list[dict], message: Message, send_replies: bool) -> bool | None:
    """Store `message` with the answer its sender gets, their opt-out and names read by the insert
    statement itself (PostgreSQL): one round trip instead of the sender's lookup and then the
    insert. Both possible answers are decided first (rules, agent, auto-reply), the names standing
    in as NAME_TOKENS; the statement stores the one that applies with the names in place, and
    message.answer is what it stored. True when inserted, False for a repeated SID; None when
    this text's answer cannot be decided that way (an ai-assistant rule reads the org's settings,
    a reply that would be blank without the names sends nothing then) and must go the long way."""
    if connection.vendor != "postgresql" or any(rule["type"] == "ai-assistant" for rule in rules):
        return None
    first, last = NAME_TOKENS
    named = _answer_for(number, rules, message, Contact(org=number.org, e164=message.from_number, first_name=first,
                                                        last_name=last), suppressed=False)
    if any(not text.replace(first, "").replace(last, "").strip() for text in named.replies):
        return None
    quiet = _answer_for(number, rules, message, Contact(org=number.org, e164=message.from_number),
                        suppressed=True)
    named.send_replies = quiet.send_replies = send_replies
    return insert_once(message, unique="provider_sid", source=sender_source(org_id=number.org_id,
                                                                           e164=message.from_number),
                       computed={"answer": answer_for_sender(json.dumps(vars(quiet)), json.dumps(vars(named)),
                                                             first, last)})


def auto_reply_message(number: PhoneNumber) -> str:
    """smsConfig's auto-reply, when it is enabled with a message ("" otherwise)."""
    config = number.config_section("smsConfig")
    message = config.get("autoReplyMessage") or ""
    return message if config.get("autoReplyEnabled") and message.strip() else ""


def sms_receive(*, number: PhoneNumber, rules: list[dict], sms: InboundSms, send_replies: bool = False
                ) -> list[str]:
    """Store `sms` with its answer and return the replies; none when this SID was already
    received, or with `send_replies` (they are texted after it is threaded)."""
    message = Message(org=number.org, phone_number=number, direction=Message.Direction.INBOUND,
                      from_number=sms.from_, to_number=sms.to, body=sms.body, media_urls=sms.media_urls,
                      provider_sid=sms.sid, status=sms.status, segments=sms.segments, created_at=timezone.now(),
                      tracking=number.tracking_stamp())
    # Text cut to its columns, NUL removed, segments within their column (a signed webhook is still input).
    bounds.fit(message)
    forms = any(rule["type"] == "fill-form" for rule in rules)
    answer = _answer_without_sender(number, rules, message) if not forms else None
    if answer is None and not forms:
        inserted = _insert_answered(number, rules, message, send_replies)
        if inserted is not None:
            if not inserted:
                logger.info("inbound SMS %s already handled: answered with nothing", sms.sid)
                return []
            transaction.on_commit(tasks.thread_inbound_sms_soon)
            return [] if send_replies else message.answer["replies"]
    # A keyword's opt-out or opt-in is recorded with the text, in its transaction, so that the
    # sender's next text is answered accordingly even before this one is threaded.
    keyword = answer is not None and answer.keyword_kind in ("opt-out", "opt-in")
    with transaction.atomic() if forms or keyword else nullcontext():
        if answer is None:
            answer = _answer(number, rules, message)
        answer.send_replies = send_replies
        answer.keyword_recorded = answer.keyword_kind in ("opt-out", "opt-in")
        message.answer = dict(vars(answer))
        # Unique on provider_sid: the provider's retry of a text we already have inserts nothing.
        if not insert_once(message, unique="provider_sid"):
            if forms or keyword:
                transaction.set_rollback(True)
            logger.info("inbound SMS %s already handled: answered with nothing", sms.sid)
            return []
        if answer.keyword_recorded:
            _keyword_record(message, answer)
    transaction.on_commit(tasks.thread_inbound_sms_soon)
    return [] if send_replies else answer.replies


def _keyword_record(message: Message, answer: Answer) -> None:
    """An opt-out keyword suppresses the sender for the org, an opt-in keyword lifts that."""
    if answer.keyword_kind == "opt-out":
        messaging.opt_out_record(org=message.org, e164=message.from_number, keyword=answer.keyword,
                                 number=message.phone_number)
    elif answer.keyword_kind == "opt-in":
        messaging.opt_out_lift(org=message.org, e164=message.from_number)


def sms_thread_batch(*, limit: int) -> int:
    """Thread the oldest `limit` stored inbound texts still to be threaded, record their usage and
    keywords, run the rules' effects, keep or send the replies, as each stored answer says.
    Set-based: a fixed number of statements for the batch, plus one per keyword text and per rule
    effect. Texts another worker is threading are skipped (each takes its own). Returns how many
    were threaded."""
    with transaction.atomic():
        messages = list(Message.objects.select_for_update(skip_locked=True).filter(UNTHREADED).order_by("pk")[:limit])
        if not messages:
            return 0
        _attach_numbers(messages)
        # Each thread's preview: its newest text among them (the last by id).
        previews = {(m.phone_number_id, m.from_number): (m.created_at, m.body[:160]) for m in messages}
        threads = messaging.threads_many({(m.org_id, m.phone_number_id, m.from_number) for m in messages},
                                         previews=previews)
        for message in messages:
            message.conversation = threads[(message.phone_number_id, message.from_number)]
        # Each text into its thread, then the threads' previews: one UPDATE each, whatever the batch's size.
        update_rows(Message, ("conversation",), {m.pk: (m.conversation_id,) for m in messages})
        messaging.previews_store(threads, previews)
        replies: list[tuple] = []
        now = timezone.now()
        for message in messages:
            _after_answer(message, Answer(**message.answer), replies, now)
        insert_rows(Message, REPLY_FIELDS, replies)
        period = now.date().replace(day=1)
        usage_record_many([
            Usage(message.org_id, message.phone_number_id, UsageRecord.Kind.SMS_SEGMENT, message.segments,
                  message.created_at.date().replace(day=1), f"sms:{message.provider_sid}")
            for message in messages] + [  # replies already sent when their text was threaded
            Usage(org_id, number_id, UsageRecord.Kind.SMS_SEGMENT, 1, period, f"sms:{sid}")
            for org_id, number_id, _, _, _, _, sid, status, *_ in replies if is_billed(status)])
    return len(messages)


# The fields of a reply kept in the thread (core.insert_rows; the others are their defaults: one segment).
REPLY_FIELDS = ("org", "phone_number", "direction", "from_number", "to_number", "body", "provider_sid", "status",
                "conversation", "created_at", "tracking")


def _attach_numbers(messages: list[Message]) -> None:
    """Each text's number (with its org and routing) and org, read once per number rather than
    joined to every text: a batch is mostly one number's texts."""
    numbers = PhoneNumber.objects.select_related("org", "routing").in_bulk({m.phone_number_id for m in messages})
    orgs = {number.org_id: number.org for number in numbers.values()}
    if missing := {m.org_id for m in messages} - orgs.keys():  # a number moved to another org since
        orgs.update(Org.objects.in_bulk(missing))
    for message in messages:
        message.phone_number, message.org = numbers[message.phone_number_id], orgs[message.org_id]


def _after_answer(message: Message, answer: Answer, replies: list[tuple], now: datetime) -> None:
    """What a threaded text's stored answer leaves to do: its keyword, the rules' effects, its replies
    (added to `replies` as rows of REPLY_FIELDS)."""
    number, org, conversation = message.phone_number, message.org, message.conversation
    if not answer.keyword_recorded:
        _keyword_record(message, answer)
    if not answer.keyword_kind:
        engine = RuleEngine(Inbound(number=number, contact=conversation.contact, conversation=conversation,
                                    message=message, suppressed=False))
        if answer.run_rules:
            engine.effects(sms_rules(getattr(number, "routing", None)))
        engine.sms_config_effects(number.config_section("smsConfig"))
    if answer.send_replies:
        for text in answer.replies:
            tasks.sms_reply_send.delay_on_commit(message_id=message.pk, body=text)
    else:
        # Replies the provider sent from our answer, in the thread: under a placeholder SID until their
        # status callback tells theirs (callbacks.message_status), unless it already has.
        for index, text in enumerate(answer.replies):
            sid, status = answer.sent.get(str(index)) or (reply_placeholder(message.provider_sid, index), "queued")
            replies.append((org.pk, number.pk, Message.Direction.OUTBOUND.value, message.to_number,
                            message.from_number, text, sid, status, conversation.pk, now, number.tracking_stamp()))
    if answer.ai_instructions is not None:
        tasks.ai_assistant_reply.delay_on_commit(message_id=message.pk, instructions=answer.ai_instructions)
    if answer.agent_id is not None:
        tasks.agent_text_reply.delay_on_commit(message_id=message.pk, agent_id=answer.agent_id)
