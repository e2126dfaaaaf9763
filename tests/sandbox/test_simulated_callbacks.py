"""After a simulated exchange the sandbox posts the status callbacks Twilio would, signed with the
account's auth token, in-process: the call `completed` with a duration to the number's
StatusCallback, the texts the platform sent through the API meanwhile `sent` then `delivered`."""
from __future__ import annotations

import pytest

from billing.models import UsageRecord
from phones.calls.routing import routing_update
from phones.messaging.services import sms_rules_update
from phones.models import Call, Message
from sandbox.models import SandboxAccount, SandboxCall, SandboxMessage, SandboxNumber
from sandbox.simulate import Exchange, call_duration, simulate_call, simulate_sms
from tests.webhooks.conftest import CALLER, NUMBER, PUBLIC, number, public_base_url, sandbox  # noqa: F401

STATUS_URL = f"{PUBLIC}/connect/webhook/twilio/status"
FORWARD_TO = "+14155550123"


@pytest.fixture
def emulated(number, sandbox):  # noqa: F811
    account = SandboxAccount.objects.get(sid=sandbox.credentials["accountSid"])
    return SandboxNumber.objects.create(sid="PN" + "1" * 32, account=account, phone_number=NUMBER, friendly_name="x",
                                        iso_country="US", number_type="local", sms=True,
                                        voice_url=f"{PUBLIC}/connect/webhook/twilio/ivr-menu",
                                        sms_url=f"{PUBLIC}/connect/webhook/twilio/sms", status_callback=STATUS_URL)


@pytest.fixture
def flow(number, emulated):  # noqa: F811
    number.routing_mode = "ivr"
    number.save()
    routing_update(number=number, changes={"ivrFlow": {"entry": "main", "nodes": {
        "main": {"type": "menu", "say": "Press 1 for our hours.", "options": {"1": "hours"}},
        "hours": {"type": "hangup", "say": "We are open nine to five. Goodbye."}}}})


def test_a_simulated_call_ends_completed_with_its_duration(flow, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        simulation = simulate_call(to=NUMBER, from_=CALLER, digits=["1"])
    callback = simulation.exchanges[-1]
    assert callback.url == STATUS_URL
    assert callback.params["CallStatus"] == "completed"
    assert callback.status == 204  # signed with the account's token: a bad signature is a 403
    call = Call.objects.get(provider_sid=callback.params["CallSid"])
    # 5 + 7 words said (2.5 a second: 5 s), a second to answer, two for the key pressed
    assert call.status == "completed" and call.duration == int(callback.params["CallDuration"]) == 1 + 5 + 2
    assert SandboxCall.objects.get(sid=call.provider_sid).status == "completed"
    assert UsageRecord.objects.get(key=f"call:{call.provider_sid}").quantity == 1  # minutes, rounded up


def test_a_call_that_stops_at_a_menu_also_completes(flow):
    simulation = simulate_call(to=NUMBER, from_=CALLER, digits=[])
    assert simulation.ended.startswith("the caller hangs up")
    assert Call.objects.get().status == "completed"


@pytest.mark.django_db(transaction=True)
def test_a_text_the_platform_sends_meanwhile_is_delivered(number, emulated):  # noqa: F811
    """Real commits: the forward is texted by the threading task, after the webhook's commit."""
    sms_rules_update(number=number, rules=[
        {"type": "forward-sms", "match": {"keywords": ["urgent"], "mode": "contains"}, "params": {"to": FORWARD_TO}}])
    simulation = simulate_sms(to=NUMBER, from_=CALLER, body="urgent: call me")
    callbacks = [e for e in simulation.exchanges if e.url == STATUS_URL]
    assert [(e.params["MessageStatus"], e.status) for e in callbacks] == [("sent", 204), ("delivered", 204)]
    forwarded = Message.objects.get(direction="outbound", to_number=FORWARD_TO)
    assert forwarded.status == "delivered" and forwarded.provider_sid == callbacks[0].params["MessageSid"]
    assert SandboxMessage.objects.get(sid=forwarded.provider_sid).status == "delivered"
    inbound = Message.objects.get(direction="inbound")
    assert inbound.status == "received"  # final when its webhook came: Twilio sends no callback for it


def test_a_twiml_reply_is_sent_by_the_account_and_called_back_where_it_asks(number, emulated,  # noqa: F811
                                                                             django_capture_on_commit_callbacks):
    sms_rules_update(number=number, rules=[{"type": "auto-reply", "params": {"template": "Thanks!"}}])
    with django_capture_on_commit_callbacks(execute=True):  # the text is threaded once its request commits
        simulation = simulate_sms(to=NUMBER, from_=CALLER, body="hi")
    reply = SandboxMessage.objects.get(direction="outbound-reply")
    assert (reply.to, reply.from_number, reply.body, reply.status) == (CALLER, NUMBER, "Thanks!", "delivered")
    # Our <Message> names its statusCallback (the reply's index in our answer), which Twilio posts to.
    text = Message.objects.get(direction="inbound")
    assert [e.url for e in simulation.exchanges] == [
        f"{PUBLIC}/connect/webhook/twilio/sms", f"{PUBLIC}/connect/webhook/twilio/status?reply={text.provider_sid}%3A0"]
    ours = Message.objects.get(direction="outbound")
    assert (ours.body, ours.provider_sid, ours.status) == ("Thanks!", reply.sid, "delivered")


def test_texts_sent_before_the_simulation_are_left_alone(number, emulated):  # noqa: F811
    earlier = SandboxMessage.objects.create(sid="SM" + "2" * 32, account=emulated.account, to=CALLER,
                                            from_number=NUMBER, body="earlier", status="queued",
                                            status_callback=STATUS_URL)
    simulate_sms(to=NUMBER, from_=CALLER, body="hello")
    earlier.refresh_from_db()
    assert earlier.status == "queued"


def test_call_duration_counts_words_said_and_keys_pressed():
    twiml = ('<?xml version="1.0" encoding="UTF-8"?><Response><Gather><Say>one two three four five</Say>'
             '</Gather></Response>')
    exchanges = [Exchange(url="u", params={}, status=200, body=twiml),
                 Exchange(url="u", params={}, status=204, body="")]
    assert call_duration(exchanges, keys_pressed=0) == 1 + 2
    assert call_duration(exchanges, keys_pressed=2) == 1 + 2 + 4
    assert call_duration([], keys_pressed=0) == 1
