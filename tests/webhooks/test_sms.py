"""Inbound SMS: stored once, threaded, opt-out keywords, and the number's rules in order."""
from __future__ import annotations

from unittest import mock

import pytest

from billing.models import UsageRecord
from phones.messaging.outbound_webhooks import messaging_settings_update, sign
from phones.messaging.services import sms_rules_update
from phones.models import Contact, Conversation, FormSession, Message, OptOut, OutboundWebhookDelivery
from tests.webhooks.conftest import CALLER, NUMBER, PUBLIC, Twilio, children, twiml


def replies(root) -> list[str]:
    assert all(tag == "Message" for tag, _, _ in children(root))
    return [body for _, _, body in children(root)]


def rules(number, *items):
    sms_rules_update(number=number, rules=list(items))


def test_an_inbound_text_is_stored_once_threaded_and_billed_once(twilio, number):
    for _ in range(2):
        root = twiml(twilio.sms("Hello there", NumSegments="2"))
        assert children(root) == []
    message = Message.objects.get()
    assert (message.direction, message.from_number, message.to_number, message.body, message.segments) == (
        "inbound", CALLER, NUMBER, "Hello there", 2)
    conversation = Conversation.objects.get()
    assert message.conversation == conversation
    assert (conversation.contact.e164, conversation.phone_number, conversation.last_message_preview) == (
        CALLER, number, "Hello there")
    usage = UsageRecord.objects.get()
    assert (usage.kind, usage.quantity, usage.key) == ("sms_segment", 2, f"sms:{message.provider_sid}")


def test_a_duplicate_messagesid_replies_nothing_the_second_time(twilio, number):
    rules(number, {"type": "auto-reply", "params": {"template": "Thanks!"}})
    assert replies(twiml(twilio.sms("hi"))) == ["Thanks!"]
    assert replies(twiml(twilio.sms("hi"))) == []
    assert Message.objects.filter(direction="inbound").count() == 1
    assert Message.objects.filter(direction="outbound").count() == 1


def test_texts_from_one_contact_share_a_thread_per_number(text, number):
    text("one")
    text("two")
    text("three", From="+14155550222")
    assert Conversation.objects.count() == 2
    assert Message.objects.filter(conversation__contact__e164=CALLER).count() == 2


@pytest.mark.parametrize("keyword", ["STOP", "stop", " Unsubscribe ", "StopAll", "CANCEL", "END", "QUIT",
                                     "REVOKE", "OPTOUT"])
def test_opt_out_keywords_confirm_and_suppress(text, number, org, keyword):
    rules(number, {"type": "auto-reply", "params": {"template": "Thanks!"}})
    [reply] = replies(text(keyword))
    assert "unsubscribed" in reply and org.name in reply
    opt_out = OptOut.objects.get()
    assert (opt_out.e164, opt_out.keyword, opt_out.lifted_at) == (CALLER, keyword.strip().upper(), None)
    # Suppressed now: the auto-reply stays quiet, the text is still kept.
    assert replies(text("hello?")) == []
    assert Message.objects.filter(direction="inbound").count() == 2


def test_stop_inside_a_sentence_is_not_a_keyword(text, number):
    assert replies(text("please stop calling me")) == []
    assert not OptOut.objects.exists()


def test_stop_then_start(text, number):
    text("STOP")
    [reply] = replies(text("start"))
    assert "resubscribed" in reply
    assert OptOut.objects.get().lifted_at is not None
    text("STOP")
    assert OptOut.objects.get().lifted_at is None


def test_help_and_custom_keywords(text, number):
    rules(number, {"type": "opt-out", "params": {"keywords": ["remove"]}},
          {"type": "opt-in", "params": {"keywords": ["back"]}})
    assert "Reply STOP to opt out" in replies(text("help"))[0]
    text("Remove")
    assert OptOut.objects.get(lifted_at__isnull=True).keyword == "REMOVE"
    text("back")
    assert not OptOut.objects.filter(lifted_at__isnull=True).exists()


def test_auto_reply_template_variables_and_match_modes(text, number, org):
    Contact.objects.create(org=org, e164=CALLER, first_name="Dana")
    rules(number,
          {"type": "auto-reply", "match": {"keywords": ["hours"], "mode": "contains"},
           "params": {"template": "Hi {{firstName}}, {{orgName}} is open 9-5. You said: {{ body }}"}},
          {"type": "auto-reply", "match": {"keywords": ["price"], "mode": "exact"},
           "params": {"template": "From {{from}} to {{to}}"}})
    assert replies(text("what are your HOURS?")) == ["Hi Dana, Alice & Co is open 9-5. You said: what are your HOURS?"]
    assert replies(text("hoursx")) == []
    assert replies(text("Price")) == [f"From {CALLER} to {NUMBER}"]
    assert replies(text("price please")) == []


def test_only_the_first_reply_rule_answers(text, number):
    rules(number, {"type": "auto-reply", "params": {"template": "first"}},
          {"type": "auto-reply", "params": {"template": "second"}})
    assert replies(text("x")) == ["first"]


def test_add_tag_and_create_lead(text, number, org):
    rules(number, {"type": "add-tag", "params": {"tag": "texted-in"}},
          {"type": "create-lead", "params": {"source": "sms", "tags": ["inbound", "texted-in"]}})
    text("hello")
    text("again")
    contact = Contact.objects.get(org=org, e164=CALLER)
    assert contact.tags == ["texted-in", "inbound"]
    assert (contact.is_lead, contact.lead_source) == (True, "sms")


def test_forward_sms_goes_out_after_commit(text, number):
    rules(number, {"type": "forward-sms", "match": {"keywords": ["urgent"], "mode": "contains"},
                   "params": {"to": "+14155550123"}})
    with mock.patch("phones.messaging.tasks.forward_sms.delay") as forward:
        assert replies(text("URGENT: call me")) == []
    forward.assert_called_once_with(number_id=number.pk, to="+14155550123", body=f"Fwd from {CALLER}: URGENT: call me")


def test_fill_form_across_messages(text, number, org):
    rules(number, {"type": "fill-form", "match": {"keywords": ["quote"]},
                   "params": {"fields": [{"name": "email", "prompt": "Your email?"},
                                         {"name": "postcode", "prompt": "Your postcode?"}],
                              "completeMessage": "Thanks! We will email {{email}} about {{postcode}}."}},
          {"type": "auto-reply", "params": {"template": "Text QUOTE for a quote."}})
    assert replies(text("hello")) == ["Text QUOTE for a quote."]
    assert replies(text("Quote")) == ["Your email?"]
    assert FormSession.objects.get().step == 0
    assert replies(text("dana@example.com")) == ["Your postcode?"]
    assert replies(text(" 94110 ")) == ["Thanks! We will email dana@example.com about 94110."]
    assert not FormSession.objects.exists()
    assert Contact.objects.get(e164=CALLER).fields == {"email": "dana@example.com", "postcode": "94110"}
    assert replies(text("hello")) == ["Text QUOTE for a quote."]


def test_stop_in_the_middle_of_a_form_still_opts_out(text, number):
    rules(number, {"type": "fill-form", "params": {"fields": [{"name": "email", "prompt": "Your email?"}],
                                                   "completeMessage": "Done"}})
    text("hi")
    assert "unsubscribed" in replies(text("STOP"))[0]
    assert OptOut.objects.exists()


def test_trigger_automation_posts_a_signed_webhook_and_retries(text, number, org):
    settings_ = messaging_settings_update(org=org, automation_webhook_url="https://hooks.example.com/in")
    rules(number, {"type": "trigger-automation", "params": {"automationId": "welcome"}},
          {"type": "go-to-flow", "match": {"keywords": ["flow"]}, "params": {"flowId": "onboarding"}})
    failure = mock.Mock(status_code=503)
    success = mock.Mock(status_code=200)
    with mock.patch("phones.messaging.outbound_webhooks.egress.post",
                    side_effect=[failure, failure, success]) as post:
        assert replies(text("hello")) == []
    assert post.call_count == 3
    url, body, headers = post.call_args.args[0], post.call_args.kwargs["data"], post.call_args.kwargs["headers"]
    assert url == "https://hooks.example.com/in"
    assert headers["X-Signature-SHA256"] == sign(settings_.signing_secret, body)
    assert headers["X-Webhook-Event"] == "sms.automation"
    assert all(c.kwargs["headers"]["X-Webhook-Id"] == headers["X-Webhook-Id"] for c in post.call_args_list)
    import json
    payload = json.loads(body)
    assert (payload["automationId"], payload["from"], payload["body"], payload["number"]) == (
        "welcome", CALLER, "hello", NUMBER)
    delivery = OutboundWebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("delivered", 3, 200)


def test_automation_gives_up_after_its_retries(text, number, org):
    messaging_settings_update(org=org, automation_webhook_url="https://hooks.example.com/in")
    rules(number, {"type": "trigger-automation", "params": {"automationId": "welcome"}})
    import requests
    with mock.patch("phones.messaging.outbound_webhooks.egress.post",
                    side_effect=requests.ConnectionError("refused")) as post:
        text("hello")
    delivery = OutboundWebhookDelivery.objects.get()
    assert post.call_count == 7
    assert (delivery.status, delivery.attempts) == ("failed", 7)
    assert "refused" in delivery.last_error


def test_automation_without_a_url_is_a_logged_configuration_error(text, number, caplog):
    rules(number, {"type": "trigger-automation", "params": {"automationId": "welcome"}})
    with mock.patch("phones.messaging.outbound_webhooks.egress.post") as post:
        text("hello")
    post.assert_not_called()
    delivery = OutboundWebhookDelivery.objects.get()
    assert delivery.status == "failed" and "no automation webhook URL" in delivery.last_error
    assert "no automation webhook URL" in caplog.text


def test_ai_assistant_without_an_endpoint_logs_and_sends_a_fallback(text, number, caplog):
    rules(number, {"type": "ai-assistant", "params": {"instructions": "Be brief."}})
    [reply] = replies(text("Can I book for Tuesday?"))
    assert "get back to you" in reply
    assert "no AI assistant URL is configured" in caplog.text


def test_ai_assistant_answer_is_texted_back(text, number, org):
    settings_ = messaging_settings_update(org=org, ai_assistant_url="https://ai.example.com/sms")
    rules(number, {"type": "ai-assistant", "params": {"instructions": "Be brief."}})
    answer = mock.Mock(status_code=200, json=lambda: {"reply": "Tuesday at 3pm works."})
    with mock.patch("phones.messaging.outbound_webhooks.egress.post", return_value=answer) as post, \
            mock.patch("phones.messaging.services.sms_send") as send:
        assert replies(text("Can I book for Tuesday?")) == []
    import json
    payload = json.loads(post.call_args.kwargs["data"])
    assert payload["instructions"] == "Be brief."
    assert payload["messages"][-1] == {"direction": "inbound", "body": "Can I book for Tuesday?",
                                       "at": mock.ANY}
    assert post.call_args.kwargs["headers"]["X-Signature-SHA256"] == sign(settings_.signing_secret,
                                                                          post.call_args.kwargs["data"])
    send.assert_called_once_with(org=org, from_=NUMBER, to=CALLER, body="Tuesday at 3pm works.")


def test_replies_are_kept_in_the_thread(text, number):
    rules(number, {"type": "auto-reply", "params": {"template": "Thanks!"}})
    text("hi")
    reply = Message.objects.get(direction="outbound")
    assert (reply.body, reply.from_number, reply.to_number) == ("Thanks!", NUMBER, CALLER)
    assert reply.conversation == Message.objects.get(direction="inbound").conversation


def test_a_text_to_an_unknown_number_is_answered_with_nothing(text, number):
    assert replies(text("hi", To="+14155550999")) == []
    assert not Message.objects.exists()


def test_a_completed_form_keeps_the_contacts_other_fields(text, number, org):
    rules(number, {"type": "fill-form", "match": {"keywords": ["quote"]},
                   "params": {"fields": [{"name": "email", "prompt": "Your email?"}], "completeMessage": "Done"}})
    text("quote")
    Contact.objects.filter(org=org, e164=CALLER).update(fields={"company": "Acme"}, first_name="Dana")
    assert replies(text("dana@example.com")) == ["Done"]
    assert Contact.objects.get(e164=CALLER).fields == {"company": "Acme", "email": "dana@example.com"}


# ---------------------------------------------------------------- threading after the answer

@pytest.fixture
def queued(monkeypatch):
    """Celery as in production (tasks sent to a broker, not run here): the sent threading tasks."""
    from config.celery import app
    from phones.messaging import tasks

    app.conf.task_always_eager = False  # restored by the autouse celery_eager fixture
    monkeypatch.setattr(tasks, "_thread_task_covers_until", 0.0)
    sent = mock.Mock()
    monkeypatch.setattr(tasks.thread_inbound_sms, "apply_async", sent)
    return sent


def test_a_text_is_stored_with_its_answer_and_threaded_by_the_task(text, number, queued):
    from phones.messaging.tasks import THREAD_DELAY_SECONDS, thread_inbound_sms

    rules(number, {"type": "auto-reply", "params": {"template": "Thanks!"}})
    assert replies(text("hi")) == ["Thanks!"]
    queued.assert_called_once_with(countdown=THREAD_DELAY_SECONDS)
    message = Message.objects.get()
    assert message.conversation is None and message.answer["replies"] == ["Thanks!"]
    assert thread_inbound_sms() == 1
    message.refresh_from_db()
    assert message.conversation is not None
    assert list(Message.objects.filter(direction="outbound").values_list("body", "conversation")) == [
        ("Thanks!", message.conversation_id)]
    assert UsageRecord.objects.count() == 1
    assert thread_inbound_sms() == 0  # nothing left, nothing done twice


def test_one_threading_task_covers_the_texts_that_follow_it_closely(text, number, queued, monkeypatch):
    from phones.messaging import tasks

    clock = iter([100.0, 100.05, 100.5])
    monkeypatch.setattr(tasks, "monotonic", lambda: next(clock))
    text("one")
    text("two")  # 50 ms later: the first task, still to run, will find it
    assert queued.call_count == 1
    text("three")
    assert queued.call_count == 2


def test_a_stop_is_confirmed_and_recorded_even_when_the_broker_is_down(text, number, org, queued):
    from kombu.exceptions import OperationalError

    from phones.messaging.tasks import thread_inbound_sms

    queued.side_effect = OperationalError("Redis is down")
    [reply] = replies(text("STOP"))
    assert "unsubscribed" in reply
    # Recorded with the text (before, only once threaded): the broker plays no part in it.
    assert OptOut.objects.get().e164 == CALLER
    assert thread_inbound_sms() == 1  # the beat's sweep, once the broker is back
    assert OptOut.objects.get().e164 == CALLER


def test_a_retried_text_does_not_advance_a_form_twice(twilio, number):
    rules(number, {"type": "fill-form", "params": {"fields": [{"name": "email", "prompt": "Your email?"},
                                                              {"name": "postcode", "prompt": "Your postcode?"}],
                                                   "completeMessage": "Thanks!"}})
    assert replies(twiml(twilio.sms("hi", sid="SM" + "a" * 32))) == ["Your email?"]
    assert replies(twiml(twilio.sms("dana@example.com", sid="SM" + "b" * 32))) == ["Your postcode?"]
    assert replies(twiml(twilio.sms("dana@example.com", sid="SM" + "b" * 32))) == []
    session = FormSession.objects.get()
    assert (session.step, session.answers) == (1, {"email": "dana@example.com"})


# ---------------------------------------------------------------- a reply's own status


def reply_status(twilio, text_sid: str, reply_sid: str, status: str, index: int = 0):
    """Twilio's status callback for a <Message> of our answer, on the statusCallback it named."""
    return twilio.post("status", {"MessageSid": reply_sid, "MessageStatus": status, "From": NUMBER, "To": CALLER},
                       query=f"reply={text_sid}%3A{index}")


def test_a_reply_names_its_status_callback_and_learns_its_sid_and_status(twilio, number):
    rules(number, {"type": "auto-reply", "params": {"template": "Thanks!"}})
    root = twiml(twilio.sms("hi", sid="SM" + "a" * 32))
    [(_, attrs, _)] = children(root)
    assert attrs == {"statusCallback": f"{PUBLIC}/connect/webhook/twilio/status?reply={'SM' + 'a' * 32}%3A0"}
    reply = Message.objects.get(direction="outbound")
    assert (reply.provider_sid, reply.status) == (f"reply:{'SM' + 'a' * 32}:0", "queued")

    assert reply_status(twilio, "SM" + "a" * 32, "SM" + "b" * 32, "sent").status_code == 204
    assert reply_status(twilio, "SM" + "a" * 32, "SM" + "b" * 32, "delivered").status_code == 204
    reply.refresh_from_db()
    assert (reply.provider_sid, reply.status) == ("SM" + "b" * 32, "delivered")
    billed = UsageRecord.objects.filter(key=f"sms:{'SM' + 'b' * 32}")
    assert billed.count() == 1 and billed.get().quantity == 1  # the reply, billed once


def test_a_reply_status_before_its_text_is_threaded_is_kept_for_the_threading(twilio, number, queued):
    from phones.messaging.tasks import thread_inbound_sms

    rules(number, {"type": "auto-reply", "params": {"template": "Thanks!"}})
    twilio.sms("hi", sid="SM" + "c" * 32)
    assert reply_status(twilio, "SM" + "c" * 32, "SM" + "d" * 32, "delivered").status_code == 204
    assert not Message.objects.filter(direction="outbound").exists()
    assert thread_inbound_sms() == 1
    reply = Message.objects.get(direction="outbound")
    assert (reply.body, reply.provider_sid, reply.status) == ("Thanks!", "SM" + "d" * 32, "delivered")
    assert UsageRecord.objects.filter(key=f"sms:{'SM' + 'd' * 32}").count() == 1


@pytest.mark.parametrize("key", ["SMnope:0", "SM" + "e" * 32 + ":x", "SM" + "e" * 32 + ":12345", ":0", "0"])
def test_a_reply_status_naming_no_reply_of_ours_changes_nothing(twilio, number, key):
    rules(number, {"type": "auto-reply", "params": {"template": "Thanks!"}})
    twilio.sms("hi", sid="SM" + "e" * 32)
    before = list(Message.objects.values_list("provider_sid", "status", "answer"))
    response = twilio.post("status", {"MessageSid": "SM" + "f" * 32, "MessageStatus": "delivered", "From": NUMBER,
                                      "To": CALLER}, query=f"reply={key}")
    assert response.status_code == 204
    assert list(Message.objects.values_list("provider_sid", "status", "answer")) == before


def test_another_orgs_reply_is_not_touched(twilio, number, other_connection):
    rules(number, {"type": "auto-reply", "params": {"template": "Thanks!"}})
    twilio.sms("hi", sid="SM" + "1" * 31 + "9")
    other = Twilio(other_connection)
    response = other.post("status", {"MessageSid": "SM" + "2" * 32, "MessageStatus": "delivered",
                                     "From": "+14155550999", "To": CALLER}, query=f"reply={'SM' + '1' * 31 + '9'}%3A0")
    assert response.status_code in (204, 403)
    assert Message.objects.get(direction="outbound").status == "queued"


def test_a_text_right_after_stop_is_answered_as_suppressed_before_stop_is_threaded(text, number):
    """The opt-out is recorded with the STOP text itself: the next text, before any worker threaded
    the STOP, gets no auto-reply; START lifts it just as soon."""
    rules(number, {"type": "auto-reply", "params": {"template": "Thanks!"}})
    with mock.patch("phones.messaging.tasks.thread_inbound_sms_soon"):  # the worker has not run yet
        assert "unsubscribed" in replies(text("STOP"))[0]
        assert replies(text("hello?")) == []
        assert "resubscribed" in replies(text("START"))[0]
        assert replies(text("hello again")) == ["Thanks!"]
        assert not Message.objects.filter(direction="inbound", conversation__isnull=False).exists()
    assert OptOut.objects.get().lifted_at is not None
    # Threading them later neither suppresses the sender again nor records anything twice.
    from phones.messaging.tasks import thread_inbound_sms
    assert thread_inbound_sms() == 4
    assert OptOut.objects.get().lifted_at is not None


def test_the_senders_names_go_into_the_reply_and_its_stored_copy_as_written(text, number, org):
    """On PostgreSQL the insert reads the sender's names and opt-out itself: names with quotes,
    backslashes and non-ASCII letters land in the reply and in the thread's copy unchanged."""
    Contact.objects.create(org=org, e164=CALLER, first_name='Dá"na\\', last_name="O'Neil")
    rules(number, {"type": "auto-reply", "params": {"template": "Hi {{firstName}} {{lastName}}: {{body}}"}})
    assert replies(text('say "{{firstName}}"')) == ['Hi Dá"na\\ O\'Neil: say "{{firstName}}"']
    assert Message.objects.get(direction="outbound").body == 'Hi Dá"na\\ O\'Neil: say "{{firstName}}"'


def test_a_reply_made_only_of_an_unknown_senders_name_is_not_sent(text, number):
    rules(number, {"type": "auto-reply", "params": {"template": "{{firstName}}"}})
    assert replies(text("hi")) == []
    assert not Message.objects.filter(direction="outbound").exists()


def test_an_opted_out_sender_gets_no_reply_and_none_is_stored(text, number, org):
    from phones.messaging.services import opt_out_record

    opt_out_record(org=org, e164=CALLER, keyword="STOP", number=number)
    rules(number, {"type": "auto-reply", "params": {"template": "Thanks {{firstName}}!"}})
    assert replies(text("hello")) == []
    assert Message.objects.get(direction="inbound").answer["replies"] == []
    assert not Message.objects.filter(direction="outbound").exists()
