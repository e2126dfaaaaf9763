"""Messaging services: contacts, inbox threads, opt-outs, outbound texts, SMS rules.

The webhooks (inbound) and the API (outbound) both write through here, so a text is threaded
and an opted-out recipient is refused the same way whichever side it comes from.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import phonenumbers
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.errors import Conflict, InvalidInput
from core.insert_rows import insert_rows
from core.update_rows import update_rows
from orgs.models import Org, ProviderConnection
from orgs.selectors import connection_default
from phones.messaging.rules import validate_sms_rules
from phones.models import Contact, Conversation, Message, OptOut, PhoneNumber, PhoneRouting
from phones.provider_webhooks import webhook_url
from phones.routing import ensure_writable, locked_routing
from providers.base import SentMessage
from providers.registry import provider_for

logger = logging.getLogger(__name__)

# TCPA (and Canada's CASL): marketing texts to US and Canadian numbers must tell the recipient how to
# stop them. Transactional texts (one-time codes, receipts, replies in a conversation, forwards, texts
# during a call) are sent as written.
OPT_OUT_LANGUAGE = "Reply STOP to opt out."
TRANSACTIONAL, MARKETING = "transactional", "marketing"
CATEGORIES = (TRANSACTIONAL, MARKETING)
_HAS_OPT_OUT_LANGUAGE = re.compile(r"\b(stop|unsubscribe|opt[\s-]?out)\b", re.IGNORECASE)


# ---------------------------------------------------------------- contacts and threads

def contact_get_or_create(*, org: Org, e164: str) -> Contact:
    # get_or_create re-reads the row when a concurrent request created it first.
    return Contact.objects.get_or_create(org=org, e164=e164)[0]


def conversation_get_or_create(*, org: Org, number: PhoneNumber | None, contact: Contact) -> Conversation:
    return Conversation.objects.get_or_create(phone_number=number, contact=contact,
                                              defaults={"org": org, "last_message_at": timezone.now()})[0]


def thread_for(*, org: Org, number: PhoneNumber | None, e164: str) -> Conversation:
    """The thread of `e164` on `number`, with its contact: one query once they have texted before."""
    conversation = (Conversation.objects.select_related("contact")
                    .filter(phone_number=number, contact__org=org, contact__e164=e164).first())
    if conversation is None:
        conversation = conversation_get_or_create(org=org, number=number,
                                                  contact=contact_get_or_create(org=org, e164=e164))
    return conversation


def threads_many(keys: set[tuple[int, int | None, str]], *,
                 previews: dict[tuple[int | None, str], tuple[datetime, str]] | None = None,
                 ) -> dict[tuple[int | None, str], Conversation]:
    """The thread of each (org id, number id, e164), contact loaded, keyed (number id, e164). A
    thread created gets its last_message_at and last_message_preview from `previews` (by the same
    key), when given, else now and none.

    The threads there are, with their contacts, in one query; for the senders without one, their
    contacts read, the missing contacts and threads inserted (core.insert_rows: one statement
    each, the new rows built from what was inserted rather than read back). Rows another worker
    inserted meanwhile are read after (the only case with more statements)."""
    if not keys:
        return {}
    threads = _threads(keys)
    if len(threads) == len(keys):
        return threads
    now = timezone.now()
    missing = {key for key in keys if (key[1], key[2]) not in threads}
    pairs = {(org_id, e164) for org_id, _, e164 in missing}
    contacts = _contacts(pairs)
    if len(contacts) < len(pairs):
        # Sorted: workers inserting the same rows take their locks in the same order.
        created = insert_rows(Contact, ("org", "e164", "created_at"),
                              [(org_id, e164, now) for org_id, e164 in sorted(pairs - contacts.keys())],
                              ignore_conflicts=True, returning=("id", "org", "e164"))
        contacts.update({(org_id, e164): Contact(id=pk, org_id=org_id, e164=e164, created_at=now)
                         for pk, org_id, e164 in created})
        if len(contacts) < len(pairs):  # another worker created some meanwhile
            contacts = _contacts(pairs)
    wanted = {(number_id, contacts[(org_id, e164)].pk): (org_id, e164) for org_id, number_id, e164 in missing}
    previews = previews or {}
    created = insert_rows(
        Conversation, ("org", "phone_number", "contact", "last_message_at", "last_message_preview", "created_at"),
        [(org_id, number_id, contact_id, *previews.get((number_id, e164), (now, "")), now)
         for (number_id, contact_id), (org_id, e164) in sorted(wanted.items(),
                                                                key=lambda item: (item[0][0] or 0, item[0][1]))],
        ignore_conflicts=True, returning=("id", "public_id", "phone_number", "contact"))
    for pk, public_id, number_id, contact_id in created:
        org_id, e164 = wanted[(number_id, contact_id)]
        at, preview = previews.get((number_id, e164), (now, ""))
        thread = Conversation(id=pk, public_id=public_id, org_id=org_id, phone_number_id=number_id,
                              last_message_at=at, last_message_preview=preview, created_at=now)
        thread.contact = contacts[(org_id, e164)]
        threads[(number_id, e164)] = thread
    if len(threads) < len(keys):  # another worker created some meanwhile
        threads.update(_threads(keys))
    return threads


def previews_store(threads: dict[tuple[int | None, str], Conversation],
                   previews: dict[tuple[int | None, str], tuple[datetime, str]]) -> None:
    """Each thread of `threads` given its last_message_at and last_message_preview from `previews`
    (by the same key), stored in one UPDATE for the threads where they change (core.update_rows;
    none when they are all threads threads_many has just created with them)."""
    changed = []
    for key, (at, preview) in previews.items():
        thread = threads[key]
        if (thread.last_message_at, thread.last_message_preview) != (at, preview):
            thread.last_message_at, thread.last_message_preview = at, preview
            changed.append(thread)
    update_rows(Conversation, ("last_message_at", "last_message_preview"),
                {c.pk: (c.last_message_at, c.last_message_preview) for c in changed})


def _contacts(pairs: set[tuple[int, str]]) -> dict[tuple[int, str], Contact]:
    """The contacts there are of (org id, e164)."""
    rows = Contact.objects.filter(org_id__in={org_id for org_id, _ in pairs}, e164__in={e164 for _, e164 in pairs})
    return {(c.org_id, c.e164): c for c in rows if (c.org_id, c.e164) in pairs}


def _threads(keys: set[tuple[int, int | None, str]]) -> dict[tuple[int | None, str], Conversation]:
    """The threads there are of (org id, number id, e164), contact loaded, keyed (number id, e164)."""
    numbers = {number_id for _, number_id, _ in keys}
    on = Q(phone_number_id__in=numbers - {None}) | (Q(phone_number__isnull=True) if None in numbers else Q())
    rows = Conversation.objects.select_related("contact").filter(
        on, contact__org_id__in={org_id for org_id, _, _ in keys}, contact__e164__in={e164 for _, _, e164 in keys})
    return {(c.phone_number_id, c.contact.e164): c for c in rows
            if (c.contact.org_id, c.phone_number_id, c.contact.e164) in keys}


def conversation_touch(*, conversation: Conversation, message: Message) -> None:
    Conversation.objects.filter(pk=conversation.pk).update(
        last_message_at=message.created_at, last_message_preview=message.body[:160])


# ---------------------------------------------------------------- opt-outs

def is_opted_out(*, org: Org, e164: str) -> bool:
    return OptOut.objects.filter(org=org, e164=e164, lifted_at__isnull=True).exists()


def opt_out_record(*, org: Org, e164: str, keyword: str, number: PhoneNumber | None) -> OptOut:
    """Suppress `e164` for the org (again, if it had been lifted)."""
    now = timezone.now()
    opt_out, created = OptOut.objects.get_or_create(
        org=org, e164=e164, defaults={"keyword": keyword, "phone_number": number, "opted_out_at": now})
    if not created and opt_out.lifted_at is not None:
        opt_out.keyword, opt_out.phone_number, opt_out.opted_out_at, opt_out.lifted_at = keyword, number, now, None
        opt_out.save(update_fields=["keyword", "phone_number", "opted_out_at", "lifted_at"])
    return opt_out


def opt_out_lift(*, org: Org, e164: str) -> bool:
    """START: the recipient may be texted again. True when a suppression was lifted."""
    return bool(OptOut.objects.filter(org=org, e164=e164, lifted_at__isnull=True).update(lifted_at=timezone.now()))


# ---------------------------------------------------------------- outbound SMS

# Where the opt-out language is appended to marketing texts: the US (TCPA) and Canada (CASL).
OPT_OUT_REGIONS = frozenset({"US", "CA"})


def with_opt_out_language(body: str, to: str, *, region: str | None = None) -> str:
    """The body, with "Reply STOP to opt out." appended for US and Canadian recipients when it says
    nothing of the kind. `region` is the recipient's country when the caller knows it already."""
    if region is None:
        try:
            region = phonenumbers.region_code_for_number(phonenumbers.parse(to))
        except phonenumbers.NumberParseException:
            return body
    if region not in OPT_OUT_REGIONS or _HAS_OPT_OUT_LANGUAGE.search(body):
        return body
    return f"{body.rstrip()}\n{OPT_OUT_LANGUAGE}" if body.strip() else OPT_OUT_LANGUAGE


@dataclass(frozen=True)
class Sender:
    connection: ProviderConnection
    number: PhoneNumber | None
    from_: str | None
    messaging_service_sid: str | None


def org_number(org: Org, e164: str, field: str) -> PhoneNumber:
    number = (PhoneNumber.objects.select_related("connection")
              .filter(org=org, e164=e164, status__in=PhoneNumber.LIVE_STATUSES).first())
    if number is None:
        raise InvalidInput(f"{e164} is not one of this org's numbers", code="unknown_sender", field=field)
    return number


def sender_for(*, org: Org, from_: str | None) -> Sender:
    """Who a text is sent from: the number asked for (one of the org's), else the connection's
    messaging service, else its default sender number, else the org's system phone."""
    if from_:
        number = org_number(org, from_, "from")
        return Sender(number.connection, number, number.e164, None)
    connection = connection_default(org=org)
    service = connection.public_config.get("messagingServiceSid")
    if service:
        return Sender(connection, None, None, service)
    default_number = connection.public_config.get("defaultSenderNumber")
    if default_number:
        number = PhoneNumber.objects.filter(org=org, e164=default_number,
                                            status__in=PhoneNumber.LIVE_STATUSES).first()
        return Sender(connection, number, default_number, None)
    system = (PhoneNumber.objects.select_related("connection")
              .filter(org=org, is_system=True, status__in=PhoneNumber.LIVE_STATUSES).first())
    if system is None:
        raise InvalidInput("No sender: give `from`, or configure a messagingServiceSid or defaultSenderNumber "
                           "on the connection, or set a system phone", code="no_sender", field="from")
    return Sender(system.connection, system, system.e164, None)


def sms_send(*, org: Org, to: str, body: str, media_urls: list[str] | None = None, from_: str | None = None,
             category: str = TRANSACTIONAL) -> Message:
    """Send a text now and keep it (threaded in the inbox). Refused, with nothing sent, when the
    recipient has opted out. A `marketing` text to a US number gets the opt-out language
    (with_opt_out_language; Canada too); a transactional one is sent as written. The provider is called
    outside any transaction."""
    if category not in CATEGORIES:
        raise InvalidInput(f"Unknown category {category!r}: {' or '.join(CATEGORIES)}", field="category")
    if not body.strip() and not media_urls:
        raise InvalidInput("A message needs a body or media", field="body")
    if is_opted_out(org=org, e164=to):
        raise Conflict(f"{to} has opted out of texts from this org (they can text START to opt back in)",
                       code="recipient_opted_out", field="to")
    sender = sender_for(org=org, from_=from_)
    if category == MARKETING:
        body = with_opt_out_language(body, to)
    return _send_and_keep(org=org, sender=sender, to=to, body=body, media_urls=media_urls)


def _send_and_keep(*, org: Org, sender: Sender, to: str, body: str, media_urls: list[str] | None = None,
                   conversation: Conversation | None = None) -> Message:
    """Send the text through the sender's provider (outside any transaction), then keep it in
    `conversation`, else in the recipient's thread on the number it went from, and put it on
    the thread's preview. A provider failure raises before anything is written."""
    sent = _provider_send(provider_for(sender.connection), sender, to=to, body=body, media_urls=media_urls)
    return _keep(org=org, sender=sender, to=to, body=body, media_urls=media_urls, sent=sent,
                 conversation=conversation)


def _keep(*, org: Org, sender: Sender, to: str, body: str, media_urls: list[str] | None, sent: SentMessage,
          conversation: Conversation | None = None) -> Message:
    number = sender.number
    if number is None and sent.from_:
        number = PhoneNumber.objects.filter(org=org, e164=sent.from_, status__in=PhoneNumber.LIVE_STATUSES).first()
    with transaction.atomic():
        if conversation is None:
            conversation = thread_for(org=org, number=number, e164=to)
        message = _sent_message(org, sender, number, conversation, to=to, body=body, media_urls=media_urls,
                                sent=sent, now=timezone.now())
        message.save(force_insert=True)
        conversation_touch(conversation=conversation, message=message)
    return message


def _provider_send(provider, sender: Sender, *, to: str, body: str, media_urls: list[str] | None) -> SentMessage:
    # Only what is set: the providers' defaults are None.
    optional = {name: value for name, value in (("messaging_service_sid", sender.messaging_service_sid),
                                                ("media_urls", media_urls)) if value}
    return provider.send_sms(to=to, body=body, from_=sender.from_,
                             status_callback=webhook_url("status", sender.connection.type), **optional)


def _sent_message(org: Org, sender: Sender, number: PhoneNumber | None, conversation: Conversation, *, to: str,
                  body: str, media_urls: list[str] | None, sent: SentMessage, now: datetime) -> Message:
    return Message(
        org=org, phone_number=number, direction=Message.Direction.OUTBOUND,
        # Through a messaging service the sender is Twilio's pick, known once it answers.
        from_number=sent.from_ or sender.from_ or "", to_number=to,
        body=body, media_urls=media_urls or [], provider_sid=sent.sid, status=sent.status,
        segments=sent.segments, conversation=conversation, created_at=now,
        tracking=number.tracking_stamp() if number is not None else {})


class BulkSender:
    """Many texts from one sender (a broadcast's batch), sent as sms_send sends one, with the work
    that does not depend on the text done once: the sender, its connection and provider resolved
    when made; the opt-outs of a batch read in one query; each text sent on its own (the caller
    paces them); the sent ones kept and threaded together, in statements whose number does not
    grow with the batch. Bodies are sent as given (a marketing caller appends the opt-out language
    itself, with_opt_out_language)."""

    def __init__(self, *, org: Org, from_: str | None, media_urls: list[str] | None = None) -> None:
        self.org = org
        self.sender = sender_for(org=org, from_=from_)
        self.media_urls = media_urls or None
        self.provider = provider_for(self.sender.connection)

    def opted_out(self, e164s: set[str]) -> set[str]:
        """Which of `e164s` have opted out of the org's texts (they are not to be sent)."""
        return set(OptOut.objects.filter(org=self.org, e164__in=e164s, lifted_at__isnull=True)
                   .values_list("e164", flat=True))

    def send(self, *, to: str, body: str) -> SentMessage:
        """The provider's answer for one text (ProviderError when refused); nothing is written."""
        return _provider_send(self.provider, self.sender, to=to, body=body, media_urls=self.media_urls)

    def keep(self, sent: list[tuple[str, str, SentMessage]]) -> list[Message]:
        """Keep (to, body, answer) texts sent by `send`, threaded, in the order given."""
        if not sent:
            return []
        numbers: dict[str, PhoneNumber | None] = {}
        if self.sender.number is None:  # a messaging service: each text's sender is known from its answer
            picked = {answer.from_ for _, _, answer in sent if answer.from_}
            numbers = {n.e164: n for n in PhoneNumber.objects.filter(
                org=self.org, e164__in=picked, status__in=PhoneNumber.LIVE_STATUSES)}

        def number_of(answer: SentMessage) -> PhoneNumber | None:
            return self.sender.number or numbers.get(answer.from_ or "")

        now = timezone.now()
        with transaction.atomic():
            previews = {(getattr(number_of(answer), "pk", None), to): (now, body[:160]) for to, body, answer in sent}
            threads = threads_many({(self.org.pk, number_id, to) for number_id, to in previews}, previews=previews)
            messages = []
            for to, body, answer in sent:
                number = number_of(answer)
                conversation = threads[(getattr(number, "pk", None), to)]
                messages.append(_sent_message(self.org, self.sender, number, conversation, to=to, body=body,
                                              media_urls=self.media_urls, sent=answer, now=now))
            Message.objects.bulk_create(messages)
            previews_store(threads, previews)  # the last text to each
        return messages


def sms_sent_find_or_keep(*, org: Org, to: str, body: str, media_urls: list[str] | None = None,
                          from_: str | None = None, since: datetime) -> Message | None:
    """A text whose send outcome we never learned (the worker died while the provider had it): looked up
    at the provider (sent to `to` from the same sender since `since`, with this body) and kept as any
    sent text is; None when the provider has no such text, so it was never sent."""
    sender = sender_for(org=org, from_=from_)
    sent = provider_for(sender.connection).find_sent_sms(to=to, body=body, from_=sender.from_, since=since)
    if sent is None:
        return None
    known = Message.objects.filter(org=org, provider_sid=sent.sid).first()
    if known is not None:
        return known
    return _keep(org=org, sender=sender, to=to, body=body, media_urls=media_urls, sent=sent)


def sms_reply_send(*, inbound: Message, body: str) -> Message:
    """A reply to an inbound text, from the number it came to, kept in its thread. No opt-out
    check and no footer: the reply was decided when the text came in (phones.messaging.tasks.sms_reply_send)."""
    number = inbound.phone_number
    return _send_and_keep(org=inbound.org, sender=Sender(number.connection, number, number.e164, None),
                          to=inbound.from_number, body=body, conversation=inbound.conversation)


def sms_rules_update(*, number: PhoneNumber, rules: Any) -> PhoneRouting:
    """Replace the number's SMS rules with `rules`, validated."""
    ensure_writable(number)
    clean = validate_sms_rules(rules)
    with transaction.atomic():
        row = locked_routing(number)
        row.sms_rules = clean
        row.save(update_fields=["sms_rules", "updated_at"])
    return row
