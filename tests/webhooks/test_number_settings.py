"""A number's smsConfig acts on its inbound texts, after opt-out keywords and with its SMS rules, in
the documented order (phones.messaging.inbound): the answer, the forward (through the sandbox) and
the automation POST; and configuration.tracking stamps every text and call of the number."""
from __future__ import annotations

import json
from unittest import mock

import pytest

from phones.calls.services import call_make
from phones.messaging.outbound_webhooks import messaging_settings_update, sign
from phones.messaging.services import opt_out_record, sms_rules_update, sms_send
from phones.models import Call, Message, OptOut, OutboundWebhookDelivery
from sandbox.models import SandboxAccount, SandboxMessage, SandboxNumber
from tests.webhooks.conftest import CALLER, NUMBER, children, twiml

STAFF = "+14155550123"


@pytest.fixture
def owned(number, sandbox):
    """The number, owned by the sandbox account too, so texts can be sent from it."""
    SandboxNumber.objects.create(sid="PN" + "d" * 32, account=SandboxAccount.objects.get(sid=sandbox.account_id),
                                 phone_number=NUMBER, friendly_name="Main line", iso_country="US",
                                 number_type="local", sms=True, voice=True)
    return number


def configure(number, **sections) -> None:
    number.configuration = sections
    number.save()


def replies(root) -> list[str]:
    assert all(tag == "Message" for tag, _, _ in children(root))
    return [body for _, _, body in children(root)]


# ---------------------------------------------------------------- auto-reply

def test_auto_reply_answers_an_inbound_text(text, number):
    configure(number, smsConfig={"autoReplyEnabled": True, "autoReplyMessage": "Thanks {{from}}, we'll call back."})
    assert replies(text("hello")) == [f"Thanks {CALLER}, we'll call back."]
    reply = Message.objects.get(direction="outbound")
    assert (reply.body, reply.to_number, reply.conversation) == (
        f"Thanks {CALLER}, we'll call back.", CALLER, Message.objects.get(direction="inbound").conversation)


@pytest.mark.parametrize("config", [{"autoReplyEnabled": False, "autoReplyMessage": "Thanks"},
                                    {"autoReplyEnabled": True, "autoReplyMessage": "  "},
                                    {"autoReplyMessage": "Thanks"}])
def test_auto_reply_off_or_empty_answers_nothing(text, number, config):
    configure(number, smsConfig=config)
    assert replies(text("hello")) == []
    assert not Message.objects.filter(direction="outbound").exists()


def test_a_replying_rule_answers_first_and_the_auto_reply_stays_quiet(text, number):
    configure(number, smsConfig={"autoReplyEnabled": True, "autoReplyMessage": "Generic thanks"})
    sms_rules_update(number=number, rules=[
        {"type": "auto-reply", "match": {"keywords": ["hours"]}, "params": {"template": "9-5"}}])
    assert replies(text("hours")) == ["9-5"]
    assert replies(text("something else")) == ["Generic thanks"]


def test_opt_out_keywords_come_first_and_run_no_sms_config(text, number, org):
    messaging_settings_update(org=org, automation_webhook_url="https://hooks.example.com/in")
    configure(number, smsConfig={"autoReplyEnabled": True, "autoReplyMessage": "Thanks", "forwardTo": STAFF,
                                 "triggerAutomations": True})
    with mock.patch("phones.messaging.tasks.forward_sms.delay") as forward, \
            mock.patch("phones.messaging.outbound_webhooks.egress.post") as post:
        [reply] = replies(text("STOP"))
    assert "unsubscribed" in reply
    assert OptOut.objects.filter(e164=CALLER).exists()
    forward.assert_not_called()
    post.assert_not_called()
    assert not OutboundWebhookDelivery.objects.exists()


def test_a_sender_who_opted_out_gets_no_auto_reply(text, number, org):
    configure(number, smsConfig={"autoReplyEnabled": True, "autoReplyMessage": "Thanks"})
    opt_out_record(org=org, e164=CALLER, keyword="STOP", number=number)
    assert replies(text("hello again")) == []


# ---------------------------------------------------------------- forwardTo

def test_forward_to_sends_each_text_to_the_staff_number(text, owned):
    configure(owned, smsConfig={"forwardTo": STAFF})
    assert replies(text("Is the shop open?")) == []  # a forward is not a reply
    forwarded = SandboxMessage.objects.get(to=STAFF)
    assert (forwarded.from_number, forwarded.body) == (NUMBER, f"Fwd from {CALLER}: Is the shop open?")
    sent = Message.objects.get(direction="outbound", to_number=STAFF)
    assert (sent.provider_sid, sent.body) == (forwarded.sid, forwarded.body)  # transactional: no footer


def test_a_rule_forwarding_to_the_same_number_forwards_once(text, owned):
    configure(owned, smsConfig={"forwardTo": STAFF})
    sms_rules_update(number=owned, rules=[{"type": "forward-sms", "params": {"to": STAFF}}])
    text("urgent")
    assert SandboxMessage.objects.filter(to=STAFF).count() == 1


def test_forward_to_a_number_that_opted_out_is_not_sent(text, owned, org):
    configure(owned, smsConfig={"forwardTo": STAFF})
    opt_out_record(org=org, e164=STAFF, keyword="STOP", number=owned)
    text("hello")
    assert not SandboxMessage.objects.filter(to=STAFF).exists()
    assert not Message.objects.filter(to_number=STAFF).exists()


# ---------------------------------------------------------------- triggerAutomations

def test_trigger_automations_posts_each_text_to_the_automation_webhook(text, number, org):
    settings_ = messaging_settings_update(org=org, automation_webhook_url="https://hooks.example.com/in")
    configure(number, smsConfig={"triggerAutomations": True})
    with mock.patch("phones.messaging.outbound_webhooks.egress.post",
                    return_value=mock.Mock(status_code=200)) as post:
        assert replies(text("hello")) == []
    post.assert_called_once()
    body, headers = post.call_args.kwargs["data"], post.call_args.kwargs["headers"]
    assert post.call_args.args[0] == "https://hooks.example.com/in"
    assert headers["X-Webhook-Event"] == "sms.received"
    assert headers["X-Signature-SHA256"] == sign(settings_.signing_secret, body)
    payload = json.loads(body)
    assert (payload["event"], payload["from"], payload["body"], payload["number"]) == (
        "sms.received", CALLER, "hello", NUMBER)
    assert payload["conversationId"] == Message.objects.get().conversation.public_id
    assert OutboundWebhookDelivery.objects.get().status == "delivered"


def test_trigger_automations_off_posts_nothing(text, number, org):
    messaging_settings_update(org=org, automation_webhook_url="https://hooks.example.com/in")
    configure(number, smsConfig={"triggerAutomations": False})
    with mock.patch("phones.messaging.outbound_webhooks.egress.post") as post:
        text("hello")
    post.assert_not_called()
    assert not OutboundWebhookDelivery.objects.exists()


# ---------------------------------------------------------------- tracking

TRACKING = {"enabled": True, "campaignId": "spring-2026", "source": "billboard"}


def test_inbound_texts_and_their_replies_are_stamped(text, number):
    configure(number, tracking=TRACKING,
              smsConfig={"autoReplyEnabled": True, "autoReplyMessage": "Thanks"})
    text("hello")
    stamps = {m.direction: m.tracking for m in Message.objects.all()}
    assert stamps == {"inbound": {"campaignId": "spring-2026", "source": "billboard"},
                      "outbound": {"campaignId": "spring-2026", "source": "billboard"}}


def test_outbound_texts_and_forwards_are_stamped(text, owned, org):
    configure(owned, tracking={"campaignId": "spring-2026"}, smsConfig={"forwardTo": STAFF})
    sms_send(org=org, to="+14155550142", body="Hi", from_=NUMBER)
    text("hello")
    assert Message.objects.get(to_number="+14155550142").tracking == {"campaignId": "spring-2026"}
    assert Message.objects.get(to_number=STAFF).tracking == {"campaignId": "spring-2026"}


def test_inbound_and_outbound_calls_are_stamped(twilio, owned, org):
    configure(owned, tracking=TRACKING)
    twiml(twilio.call())
    placed = call_make(org=org, from_=NUMBER, to="+14155550142", twiml_url="https://example.com/t.xml")
    stamp = {"campaignId": "spring-2026", "source": "billboard"}
    assert Call.objects.get(direction="inbound").tracking == stamp
    assert Call.objects.get(pk=placed.pk).tracking == stamp


def test_tracking_disabled_stamps_nothing(text, number):
    configure(number, tracking={**TRACKING, "enabled": False})
    text("hello")
    assert Message.objects.get().tracking == {}
