"""IVR flows rendered node by node: each node type's TwiML, retries, fallback, mid-call actions."""
from __future__ import annotations

from unittest import mock

import pytest

from phones.calls.routing import routing_update
from phones.models import Message, RingGroup
from tests.webhooks.conftest import CALLER, CLIENT, NUMBER, PUBLIC, children, softphones_on, twiml

IVR = f"{PUBLIC}/connect/webhook/twilio/ivr-menu"


@pytest.fixture
def flow(number, org, alice, member):
    group = RingGroup.objects.create(org=org, name="Sales")
    group.members.set([alice, member])
    softphones_on(org, alice, member)
    number.routing_mode = "ivr"
    number.save()
    routing_update(number=number, changes={"ivrFlow": {
        "entry": "main", "fallback": "operator", "maxRetries": 2,
        "nodes": {
            "main": {"type": "menu", "say": "Press 1 for sales, 2 for support.", "voice": "alice", "timeout": 6,
                     "options": {"1": "record", "2": "support", "3": "agent", "4": "text", "5": "queue",
                                 "6": "alice", "7": "vm", "8": "pause", "9": "bye"}},
            "record": {"type": "start-recording", "next": "sales"},
            "sales": {"type": "transfer-group", "group": group.public_id, "timeout": 25, "next": "vm"},
            "support": {"type": "menu", "play": "https://example.com/support.mp3", "options": {"1": "alice"},
                        "noInput": "main"},
            "alice": {"type": "transfer-user", "user": "alice"},
            "agent": {"type": "ai-assistant", "url": "wss://voice.example.com/stream",
                      "parameters": {"persona": "support"}, "next": "bye"},
            "text": {"type": "send-sms", "to": "caller", "body": "Our hours: 9-5", "next": "bye"},
            "queue": {"type": "transfer-queue", "queue": "support"},
            "operator": {"type": "transfer-phone", "number": "+14155550123", "callerId": NUMBER},
            "vm": {"type": "voicemail", "say": "Leave a message.", "maxLength": 90},
            "pause": {"type": "pause-recording", "next": "resume"},
            "resume": {"type": "resume-recording", "next": "bye"},
            "bye": {"type": "hangup", "say": "Goodbye."},
        }}})
    return group


def press(twilio, node: str, digits: str | None, attempt: int = 1, **extra):
    params = {"Digits": digits} if digits is not None else {}
    return twiml(twilio.call("ivr-menu", query=f"node={node}&attempt={attempt}", CallStatus="in-progress",
                             **params, **extra))


def test_the_entry_menu_gathers_one_digit_then_redirects_on_silence(twilio, flow):
    root = twiml(twilio.call("ivr-menu"))
    assert children(root) == [
        ("Gather", {"numDigits": "1", "timeout": "6", "method": "POST", "action": f"{IVR}?node=main&attempt=1"}, ""),
        ("Redirect", {"method": "POST"}, f"{IVR}?node=main&attempt=1&noinput=1"),
    ]
    assert children(root.find("Gather")) == [("Say", {"voice": "alice"}, "Press 1 for sales, 2 for support.")]


def test_the_voice_url_renders_the_flow_of_an_ivr_number(twilio, flow):
    assert children(twiml(twilio.call("voice")))[0][0] == "Gather"


def test_start_recording_then_transfer_to_a_group(twilio, flow, alice, member):
    root = press(twilio, "main", "1")
    assert [tag for tag, _, _ in children(root)] == ["Start", "Dial"]
    assert children(root.find("Start")) == [("Recording", {
        "recordingStatusCallback": f"{PUBLIC}/connect/webhook/twilio/recording",
        "recordingStatusCallbackEvent": "completed", "track": "both", "channels": "dual"}, "")]
    dial = root.find("Dial")
    assert dial.attrib == {"action": f"{IVR}?node=sales&dialed=1", "method": "POST", "timeout": "25",
                           "answerOnBridge": "true"}
    assert children(dial) == [("Client", CLIENT, f"user_{alice.pk}"), ("Client", CLIENT, f"user_{member.pk}")]


def test_an_unanswered_transfer_goes_to_next_and_an_answered_one_ends(twilio, flow):
    root = twiml(twilio.call("ivr-menu", query="node=sales&dialed=1", DialCallStatus="no-answer"))
    assert [tag for tag, _, _ in children(root)] == ["Say", "Record"]
    assert root.find("Record").get("action") == f"{IVR}?done=1"
    assert root.find("Record").get("maxLength") == "90"
    root = twiml(twilio.call("ivr-menu", query="node=sales&dialed=1", DialCallStatus="completed"))
    assert children(root) == [("Hangup", {}, "")]


def test_a_sub_menu_plays_audio(twilio, flow):
    root = press(twilio, "main", "2")
    assert children(root.find("Gather")) == [("Play", {}, "https://example.com/support.mp3")]
    assert root.find("Gather").get("action") == f"{IVR}?node=support&attempt=1"


def test_no_input_on_a_menu_with_a_no_input_node_goes_there(twilio, flow):
    root = twiml(twilio.call("ivr-menu", query="node=support&attempt=1&noinput=1"))
    assert root.find("Gather").get("action") == f"{IVR}?node=main&attempt=1"


def test_transfer_to_a_user(twilio, flow, alice):
    root = press(twilio, "main", "6")
    assert children(root.find("Dial")) == [("Client", CLIENT, f"user_{alice.pk}")]


def test_ai_assistant_streams_with_the_calls_context(twilio, flow, org):
    root = press(twilio, "main", "3")
    assert [tag for tag, _, _ in children(root)] == ["Connect", "Redirect"]
    stream = root.find("Connect/Stream")
    assert stream.get("url") == "wss://voice.example.com/stream"
    params = {p.get("name"): p.get("value") for p in stream.findall("Parameter")}
    assert params == {"persona": "support", "callSid": "CA" + "1" * 32, "from": CALLER, "to": NUMBER,
                      "org": org.slug, "number": NUMBER}
    assert root.find("Redirect").text == f"{IVR}?node=bye"


def test_send_sms_texts_the_caller_after_commit_and_goes_on(twilio, flow, django_capture_on_commit_callbacks):
    with (mock.patch("phones.messaging.tasks.send_flow_sms.delay") as send,
          django_capture_on_commit_callbacks(execute=True)):
        root = press(twilio, "main", "4")
    assert children(root) == [("Say", {}, "Goodbye."), ("Hangup", {}, "")]
    send.assert_called_once_with(number_id=flow.org.phone_numbers.get().pk, to=CALLER, body="Our hours: 9-5")


def test_send_sms_really_sends_through_the_provider(twilio, flow, django_capture_on_commit_callbacks, sandbox):
    from sandbox.models import SandboxMessage, SandboxNumber

    SandboxNumber.objects.create(sid="PN" + "0" * 32, account_id=sandbox_account(sandbox).pk, phone_number=NUMBER,
                                 friendly_name="x", iso_country="US", number_type="local", sms=True)
    with django_capture_on_commit_callbacks(execute=True):
        press(twilio, "main", "4")
    sent = SandboxMessage.objects.get()
    assert (sent.to, sent.from_number) == (CALLER, NUMBER)
    assert sent.body == "Our hours: 9-5"  # a text during a call is transactional: no opt-out footer
    assert Message.objects.get(direction="outbound").provider_sid == sent.sid


def sandbox_account(connection):
    from sandbox.models import SandboxAccount

    return SandboxAccount.objects.get(sid=connection.credentials["accountSid"])


def test_queue(twilio, flow):
    assert children(press(twilio, "main", "5")) == [("Enqueue", {}, "support")]


def test_pause_and_resume_recording_use_the_recordings_api(twilio, flow, django_capture_on_commit_callbacks):
    with mock.patch("phones.calls.tasks.set_recording_status.delay") as task, \
            django_capture_on_commit_callbacks(execute=True):
        root = press(twilio, "main", "8")
    assert children(root) == [("Say", {}, "Goodbye."), ("Hangup", {}, "")]
    assert [c.kwargs["status"] for c in task.call_args_list] == ["paused", "in-progress"]


def test_an_invalid_choice_replays_the_menu_then_falls_back(twilio, flow):
    root = press(twilio, "main", "0", attempt=1)
    assert [tag for tag, _, _ in children(root)] == ["Say", "Gather", "Redirect"]
    assert root.find("Say").text == "Sorry, that is not a valid choice."
    assert root.find("Gather").get("action") == f"{IVR}?node=main&attempt=2"
    root = press(twilio, "main", "0", attempt=2)
    [(tag, attrs, _)] = children(root)
    assert (tag, attrs["action"], attrs["callerId"]) == ("Dial", f"{IVR}?node=operator&dialed=1", NUMBER)
    assert children(root.find("Dial")) == [("Number", {}, "+14155550123")]


def test_silence_replays_without_the_apology(twilio, flow):
    root = twiml(twilio.call("ivr-menu", query="node=main&attempt=1&noinput=1"))
    assert [tag for tag, _, _ in children(root)] == ["Gather", "Redirect"]
    assert root.find("Gather").get("action") == f"{IVR}?node=main&attempt=2"


def test_without_a_fallback_it_hangs_up_with_a_message(twilio, flow, number):
    routing = number.routing
    routing.ivr_flow = {**routing.ivr_flow, "fallback": None}
    routing.ivr_flow.pop("fallback")
    routing.save()
    root = press(twilio, "main", "0", attempt=2)
    assert [tag for tag, _, _ in children(root)] == ["Say", "Hangup"]


def test_hangup_and_voicemail_end(twilio, flow):
    assert children(press(twilio, "main", "9")) == [("Say", {}, "Goodbye."), ("Hangup", {}, "")]
    root = press(twilio, "main", "7")
    assert [tag for tag, _, _ in children(root)] == ["Say", "Record"]
    assert children(twiml(twilio.call("ivr-menu", query="done=1")))[-1][0] == "Hangup"


# ---------------------------------------------------------------- the system phone as the fallback

def _system_phone(org, sandbox, e164: str = "+14155550177"):
    from phones.models import PhoneNumber

    return PhoneNumber.objects.create(org=org, connection=sandbox, e164=e164, country="US", status="active",
                                      is_system=True)


def _without_fallback(number):
    routing = number.routing
    routing.ivr_flow = {k: v for k, v in routing.ivr_flow.items() if k != "fallback"}
    routing.save()


def test_retries_run_out_without_a_fallback_node_dial_the_system_phone(twilio, flow, number, org, sandbox):
    _system_phone(org, sandbox)
    _without_fallback(number)
    root = press(twilio, "main", "0", attempt=2)
    assert [tag for tag, _, _ in children(root)] == ["Dial"]
    assert children(root.find("Dial")) == [("Number", {}, "+14155550177")]
    assert root.find("Hangup") is None and root.find("Say") is None


def test_the_system_phone_itself_never_dials_itself(twilio, flow, number):
    number.is_system = True
    number.save()
    _without_fallback(number)
    root = press(twilio, "main", "0", attempt=2)
    assert [tag for tag, _, _ in children(root)] == ["Say", "Hangup"]
    assert root.find("Dial") is None


def test_an_ivr_number_without_a_flow_transfers_to_the_system_phone(twilio, number, org, sandbox):
    from phones.models import Call

    _system_phone(org, sandbox)
    number.routing_mode = "ivr"
    number.save()
    for kind in ("voice", "ivr-menu"):
        root = twiml(twilio.call(kind, call_sid="CA" + kind[0] * 32))
        assert [tag for tag, _, _ in children(root)] == ["Dial"]
        assert children(root.find("Dial")) == [("Number", {}, "+14155550177")]
    assert Call.objects.filter(phone_number=number).count() == 2  # each call still recorded


def test_an_ivr_system_phone_without_a_flow_does_not_loop(twilio, number):
    number.routing_mode, number.is_system = "ivr", True
    number.save()
    root = twiml(twilio.call())
    assert root.find("Dial") is None
    assert [tag for tag, _, _ in children(root)][-1] == "Hangup"


def test_a_static_document_is_kept_per_lookup_row_and_renewed_when_the_flow_changes(twilio, flow, number):
    """The entry menu depends on the flow alone: built once while the number's lookup row lasts,
    every call still remembered; a saved flow is a new row, so the next caller hears the new one."""
    from phones.calls.ivr import FlowRenderer
    from phones.models import Call

    with mock.patch.object(FlowRenderer, "render", autospec=True, side_effect=FlowRenderer.render) as render:
        first = twilio.call("ivr-menu", CallSid="CA" + "1" * 32).content
        assert twilio.call("ivr-menu", CallSid="CA" + "2" * 32).content == first
        assert render.call_count == 1
        # After a caller's input, a node depending on presence is rendered each time.
        press(twilio, "main", "6")
        press(twilio, "main", "6")
        assert render.call_count == 3
    assert Call.objects.filter(provider_sid__in=["CA" + "1" * 32, "CA" + "2" * 32]).count() == 2
    routing_update(number=number, changes={"ivrFlow": {"entry": "main", "nodes": {
        "main": {"type": "menu", "say": "We have moved.", "options": {"1": "bye"}},
        "bye": {"type": "hangup", "say": "Goodbye."}}}})
    root = twiml(twilio.call("ivr-menu", CallSid="CA" + "3" * 32))
    assert children(root.find("Gather")) == [("Say", {}, "We have moved.")]
