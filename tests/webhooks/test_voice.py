"""Voice mode TwiML, element by element, for each kind of assignment and what happens after."""
from __future__ import annotations

from orgs.models import Membership
from phones.calls.routing import routing_update
from phones.models import Call, RingGroup
from tests.conftest import make_user
from tests.webhooks.conftest import CALLER, CLIENT, NUMBER, PUBLIC, children, softphones_on, twiml

VOICE = f"{PUBLIC}/connect/webhook/twilio/voice"


def route(number, **document):
    routing_update(number=number, changes=document)


def test_a_user_rings_their_softphone_client(twilio, number, org, alice):
    softphones_on(org, alice)
    route(number, assignments=[{"type": "user", "target": "alice", "timeout": 25}])
    root = twiml(twilio.call())
    [(tag, attrs, _)] = children(root)
    assert tag == "Dial"
    assert attrs == {"action": f"{VOICE}?step=1", "method": "POST", "timeout": "25", "answerOnBridge": "true"}
    assert children(root.find("Dial")) == [("Client", CLIENT, f"user_{alice.pk}")]
    call = Call.objects.get()
    assert (call.direction, call.from_number, call.to_number, call.status) == ("inbound", CALLER, NUMBER, "ringing")


def test_a_group_rings_all_its_members_at_once_with_phone_and_client(twilio, number, org, alice, member):
    group = RingGroup.objects.create(org=org, name="Sales")
    group.members.set([alice, member])
    softphones_on(org, alice, member)
    route(number, assignments=[{"type": "group", "target": group.public_id},
                               {"type": "phone", "target": "+14155550199"},
                               {"type": "client", "target": "front_desk"}])
    dial = twiml(twilio.call()).find("Dial")
    assert children(dial) == [("Client", CLIENT, f"user_{alice.pk}"), ("Client", CLIENT, f"user_{member.pk}"),
                              ("Number", {}, "+14155550199"), ("Client", CLIENT, "front_desk")]


def test_sequential_steps_follow_the_dial_status_then_voicemail(twilio, number, org, alice):
    softphones_on(org, alice)
    route(number, strategy="sequential",
          assignments=[{"type": "user", "target": "alice", "ringOrder": 1},
                       {"type": "phone", "target": "+14155550199", "ringOrder": 2}],
          voicemail={"say": "Leave a message.", "maxLength": 60, "transcribe": True})
    first = twiml(twilio.call()).find("Dial")
    assert first.get("action") == f"{VOICE}?step=1"
    second = twiml(twilio.call(query="step=1", DialCallStatus="no-answer")).find("Dial")
    assert second.get("action") == f"{VOICE}?step=2"
    assert children(second) == [("Number", {}, "+14155550199")]
    root = twiml(twilio.call(query="step=2", DialCallStatus="busy"))
    assert [tag for tag, _, _ in children(root)] == ["Say", "Record"]
    assert root.find("Say").text == "Leave a message."
    assert root.find("Record").attrib == {
        "action": f"{VOICE}?done=1", "method": "POST", "maxLength": "60", "playBeep": "true",
        "recordingStatusCallback": f"{PUBLIC}/connect/webhook/twilio/recording",
        "recordingStatusCallbackEvent": "completed", "transcribe": "true",
        "transcribeCallback": f"{PUBLIC}/connect/webhook/twilio/transcription"}
    assert Call.objects.count() == 1


def test_an_answered_call_just_ends(twilio, number, alice):
    route(number, assignments=[{"type": "user", "target": "alice"}])
    root = twiml(twilio.call(query="step=1", DialCallStatus="completed"))
    assert children(root) == [("Hangup", {}, "")]


def test_a_queue_enqueues_after_the_people(twilio, number, alice):
    route(number, assignments=[{"type": "user", "target": "alice", "ringOrder": 1},
                               {"type": "queue", "target": "support", "ringOrder": 2}])
    root = twiml(twilio.call(query="step=1", DialCallStatus="no-answer"))
    assert children(root) == [("Enqueue", {}, "support")]


def test_record_and_transcribe_calls(twilio, number, org, alice):
    softphones_on(org, alice)
    number.configuration = {"voiceConfig": {"recordCalls": True, "transcribeCalls": True}}
    number.save()
    route(number, assignments=[{"type": "user", "target": "alice"}])
    root = twiml(twilio.call())
    assert [tag for tag, _, _ in children(root)] == ["Start", "Dial"]
    assert children(root.find("Start")) == [("Transcription", {
        "statusCallbackUrl": f"{PUBLIC}/connect/webhook/twilio/transcription", "track": "both_tracks"}, "")]
    dial = root.find("Dial")
    assert dial.get("record") == "record-from-answer-dual"
    assert dial.get("recordingStatusCallback") == f"{PUBLIC}/connect/webhook/twilio/recording"


def test_voicemail_from_voice_config_when_nobody_answers(twilio, number, alice):
    number.configuration = {"voiceConfig": {"voicemailEnabled": True, "voicemailGreeting": "We are out."}}
    number.save()
    route(number, assignments=[{"type": "user", "target": "alice"}])
    root = twiml(twilio.call(query="step=1", DialCallStatus="no-answer"))
    assert children(root)[0] == ("Say", {}, "We are out.")
    assert "transcribe" not in root.find("Record").attrib


def test_without_voicemail_the_caller_hears_a_polite_goodbye(twilio, number, alice):
    route(number, assignments=[{"type": "user", "target": "alice"}])
    root = twiml(twilio.call(query="step=1", DialCallStatus="no-answer"))
    assert [tag for tag, _, _ in children(root)] == ["Say", "Hangup"]


def test_after_the_voicemail_the_call_ends(twilio, number):
    root = twiml(twilio.call(query="done=1"))
    assert [tag for tag, _, _ in children(root)] == ["Say", "Hangup"]


def test_nothing_assigned_forwards_to_the_system_phone(twilio, number, org, sandbox):
    from phones.models import PhoneNumber

    PhoneNumber.objects.create(org=org, connection=sandbox, e164="+14155550177", country="US", status="active",
                               is_system=True)
    root = twiml(twilio.call())
    assert children(root.find("Dial")) == [("Number", {}, "+14155550177")]


def test_a_member_who_left_is_not_rung(twilio, number, org, alice):
    bob = make_user("bobby")
    membership = Membership.objects.create(user=bob, org=org)
    route(number, assignments=[{"type": "user", "target": "bobby"}])
    membership.delete()
    root = twiml(twilio.call())
    assert [tag for tag, _, _ in children(root)] == ["Say", "Hangup"]


def test_a_retried_voice_webhook_stores_the_call_once(twilio, number, alice):
    route(number, assignments=[{"type": "user", "target": "alice"}])
    twilio.call()
    twilio.call()
    assert Call.objects.count() == 1
