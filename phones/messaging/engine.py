"""The SMS rule engine: a number's rules (phones.messaging.rules.validate_sms_rules), in order.

Every rule whose `match` fits the message runs. Replies: the first rule that replies (auto-reply,
fill-form, ai-assistant) wins, later ones stay quiet, so a sender gets one answer per text. A sender
who has opted out gets no reply at all; the rules that do not text them still run. A contact
half way through a form is answering it: their text goes to the form and no other rule.

The engine runs in two passes. `replies()` runs while the webhook is answered, because the reply
is the response; `effects()` (tags, leads, forwards, outbound webhooks) runs after commit in
tasks.thread_inbound_sms. No rule both replies and has another effect, so the split keeps order.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from phones.documents import TEMPLATE_VARIABLES
from phones.messaging import outbound_webhooks as outbound
from phones.messaging import services as messaging
from phones.messaging import tasks
from phones.models import Contact, Conversation, FormSession, Message, MessagingSettings, PhoneNumber

logger = logging.getLogger(__name__)

_TOKEN = re.compile(r"\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}")


def render(template: str, variables: dict[str, str]) -> str:
    return _TOKEN.sub(lambda m: variables.get(m.group(1), ""), template)


def matches(match: dict | None, body: str) -> bool:
    if not match:
        return True
    text = body.strip().lower()
    keywords = [k.strip().lower() for k in match.get("keywords", []) if k.strip()]
    if match.get("mode") == "contains":
        return any(re.search(rf"(?<!\w){re.escape(k)}(?!\w)", text) for k in keywords)
    return text in keywords


REPLYING_RULES = frozenset({"auto-reply", "fill-form", "ai-assistant"})
KEYWORD_RULES = frozenset({"opt-out", "opt-in"})


@dataclass
class Inbound:
    number: PhoneNumber
    # Unsaved (no name, no tags) while answering a sender who has never texted before.
    contact: Contact
    message: Message
    suppressed: bool
    conversation: Conversation | None = None
    replies: list[str] = field(default_factory=list)
    replied: bool = False
    # ai-assistant: the reply is the assistant's, texted by a task once the text is threaded.
    ai_instructions: str | None = None
    answered_form: bool = False

    @property
    def variables(self) -> dict[str, str]:
        values = {"from": self.message.from_number, "to": self.message.to_number, "body": self.message.body,
                  "firstName": self.contact.first_name, "lastName": self.contact.last_name,
                  "orgName": self.number.org.name}
        return {k: v for k, v in values.items() if k in TEMPLATE_VARIABLES}

    def reply(self, text: str) -> None:
        if self.replied or self.suppressed:
            return
        self.replied = True
        if text.strip():
            self.replies.append(text)

    def event_payload(self, event: str, **extra: object) -> dict:
        return {"event": event, "org": self.number.org.slug, "number": self.number.e164,
                "from": self.message.from_number, "body": self.message.body,
                "messageSid": self.message.provider_sid,
                "conversationId": self.conversation.public_id if self.conversation else None,
                "receivedAt": self.message.created_at.isoformat(), **extra}


class RuleEngine:
    def __init__(self, inbound: Inbound) -> None:
        self.inbound = inbound
        self.contact_dirty: set[str] = set()
        self.forwarded_to: set[str] = set()

    @cached_property
    def org_settings(self) -> MessagingSettings | None:
        """The org's messaging settings, read once however many rules need them."""
        return outbound.messaging_settings(self.inbound.number.org)

    def replies(self, rules: list[dict]) -> list[str]:
        """The replying rules; sets `answered_form` when the text went to a form in progress."""
        if any(rule["type"] == "fill-form" for rule in rules) and self._continue_form():
            self.inbound.answered_form = True
            return self.inbound.replies
        self._run(rules, lambda kind: kind in REPLYING_RULES)
        return self.inbound.replies

    def effects(self, rules: list[dict]) -> None:
        """The other rules (never for a text that answered a form)."""
        self._run(rules, lambda kind: kind not in REPLYING_RULES | KEYWORD_RULES)
        if self.contact_dirty:
            self.inbound.contact.save(update_fields=sorted(self.contact_dirty))

    def _run(self, rules: list[dict], wanted: Callable[[str], bool]) -> None:
        for index, rule in enumerate(rules):
            if wanted(rule["type"]) and matches(rule.get("match"), self.inbound.message.body):
                getattr(self, "_" + rule["type"].replace("-", "_"))(index, rule.get("params") or {})

    # ---------------------------------------------------------------- forms

    def _continue_form(self) -> bool:
        """True when the text answered a form in progress."""
        if self.inbound.suppressed or self.inbound.contact.pk is None:
            return False
        session = FormSession.objects.filter(phone_number=self.inbound.number, contact=self.inbound.contact).first()
        if session is None:
            return False
        fields = session.form["fields"]
        session.answers[fields[session.step]["name"]] = self.inbound.message.body.strip()
        session.step += 1
        if session.step < len(fields):
            session.save(update_fields=["answers", "step", "updated_at"])
            self.inbound.reply(fields[session.step]["prompt"])
            return True
        # The contact answering is known by name only (phones.messaging.inbound._sender): its fields are read now.
        contact = self.inbound.contact = Contact.objects.get(pk=self.inbound.contact.pk)
        contact.fields = {**contact.fields, **session.answers}
        contact.save(update_fields=["fields"])
        session.delete()
        self.inbound.reply(render(session.form["completeMessage"], {**self.inbound.variables, **session.answers}))
        return True

    def _fill_form(self, index: int, params: dict) -> None:
        if self.inbound.replied or self.inbound.suppressed:
            return
        if self.inbound.contact.pk is None:
            self.inbound.contact = messaging.contact_get_or_create(org=self.inbound.number.org,
                                                                   e164=self.inbound.message.from_number)
        FormSession.objects.update_or_create(phone_number=self.inbound.number, contact=self.inbound.contact,
                                             defaults={"form": params, "step": 0, "answers": {}})
        self.inbound.reply(params["fields"][0]["prompt"])

    # ---------------------------------------------------------------- replies

    def _auto_reply(self, index: int, params: dict) -> None:
        self.inbound.reply(render(params["template"], self.inbound.variables))

    def _ai_assistant(self, index: int, params: dict) -> None:
        if self.inbound.replied or self.inbound.suppressed:
            return
        if not outbound.ai_assistant_url(self.org_settings, org=self.inbound.number.org,
                                         number=self.inbound.number.e164):
            self.inbound.reply(outbound.AI_FALLBACK_REPLY)
            return
        # The assistant's answer is texted by a task; this text gets no reply in the response.
        self.inbound.replied = True
        self.inbound.ai_instructions = params.get("instructions", "")

    # ---------------------------------------------------------------- side effects

    def _forward_sms(self, index: int, params: dict) -> None:
        message = self.inbound.message
        if params["to"] in self.forwarded_to:
            return
        self.forwarded_to.add(params["to"])
        tasks.forward_sms.delay_on_commit(number_id=self.inbound.number.pk, to=params["to"],
                                          body=f"Fwd from {message.from_number}: {message.body}"[:1600])

    def sms_config_effects(self, config: dict) -> None:
        """The number's smsConfig after its rules' effects (phones.messaging.inbound, steps 4-5):
        forwardTo like a forward-sms rule, triggerAutomations an `sms.received` automation POST."""
        if config.get("forwardTo"):
            self._forward_sms(-1, {"to": config["forwardTo"]})
        if config.get("triggerAutomations"):
            inbound = self.inbound
            outbound.delivery_create(org=inbound.number.org, org_settings=self.org_settings,
                                     key=f"sms.received:{inbound.message.provider_sid}", event="sms.received",
                                     payload=inbound.event_payload("sms.received"))

    def _add_tag(self, index: int, params: dict) -> None:
        self._tag(params["tag"])

    def _tag(self, tag: str) -> None:
        contact = self.inbound.contact
        if tag not in contact.tags:
            contact.tags = [*contact.tags, tag]
            self.contact_dirty.add("tags")

    def _create_lead(self, index: int, params: dict) -> None:
        contact = self.inbound.contact
        if not contact.is_lead:
            contact.is_lead = True
            contact.lead_source = params.get("source", "sms")
            contact.lead_created_at = self.inbound.message.created_at
            self.contact_dirty.update({"is_lead", "lead_source", "lead_created_at"})
        for tag in params.get("tags", []):
            self._tag(tag)

    def _trigger_automation(self, index: int, params: dict) -> None:
        self._deliver(index, "sms.automation", automationId=params["automationId"])

    def _go_to_flow(self, index: int, params: dict) -> None:
        self._deliver(index, "sms.flow", flowId=params["flowId"])

    def _deliver(self, index: int, event: str, **extra: str) -> None:
        inbound = self.inbound
        outbound.delivery_create(org=inbound.number.org, org_settings=self.org_settings,
                                  key=f"{event}:{inbound.message.provider_sid}:{index}",
                                 event=event, payload=inbound.event_payload(event, **extra))
