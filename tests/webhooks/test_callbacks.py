"""Status, recording and transcription callbacks: forward only, once, usage recorded once."""
from __future__ import annotations

import json

import pytest
from django.utils import timezone

from billing.models import UsageRecord
from phones.models import Call, Message, Recording
from tests.webhooks.conftest import CALLER, NUMBER

MSG = "SM" + "a" * 32
CALL = "CA" + "b" * 32


@pytest.fixture
def sent(number, org):
    return Message.objects.create(org=org, phone_number=number, direction="outbound", from_number=NUMBER,
                                  to_number=CALLER, body="hi", provider_sid=MSG, status="queued", segments=1,
                                  created_at=timezone.now())


def message_status(twilio, status, **extra):
    response = twilio.post("status", {"MessageSid": MSG, "MessageStatus": status, "From": NUMBER, "To": CALLER,
                                      **extra})
    assert response.status_code == 204
    return Message.objects.get(provider_sid=MSG)


def test_message_status_moves_forward_and_bills_once(twilio, sent):
    assert message_status(twilio, "sending").status == "sending"
    assert message_status(twilio, "sent", NumSegments="2").status == "sent"
    assert message_status(twilio, "sent", NumSegments="2").status == "sent"
    assert message_status(twilio, "delivered").status == "delivered"
    usage = UsageRecord.objects.get()
    assert (usage.kind, usage.quantity, usage.key) == ("sms_segment", 2, f"sms:{MSG}")


def test_out_of_order_message_statuses_change_nothing(twilio, sent):
    message_status(twilio, "delivered")
    for late in ("sent", "sending", "queued", "undelivered"):
        assert message_status(twilio, late).status == "delivered"
    assert UsageRecord.objects.count() == 1


def test_a_failed_message_is_not_billed(twilio, sent):
    message = message_status(twilio, "failed", ErrorCode="30007")
    assert (message.status, message.error_code) == ("failed", "30007")
    assert not UsageRecord.objects.exists()


def test_a_status_for_a_message_that_is_not_ours_changes_nothing(twilio, sent, other_connection):
    from tests.webhooks.conftest import Twilio

    Twilio(other_connection).post("status", {"MessageSid": MSG, "MessageStatus": "failed", "From": "+1415",
                                             "To": CALLER})
    assert Message.objects.get().status == "queued"


def call_status(twilio, status, **extra):
    response = twilio.post("status", {"CallSid": CALL, "CallStatus": status, "From": CALLER, "To": NUMBER,
                                      "Direction": "inbound", **extra})
    assert response.status_code == 204
    return Call.objects.get(provider_sid=CALL)


def test_call_status_forward_only_with_minutes_rounded_up_once(twilio, number):
    assert call_status(twilio, "ringing").status == "ringing"
    assert call_status(twilio, "in-progress").status == "in-progress"
    call = call_status(twilio, "completed", CallDuration="61")
    assert (call.status, call.duration) == ("completed", 61)
    assert call_status(twilio, "completed", CallDuration="61").status == "completed"
    assert call_status(twilio, "ringing").status == "completed"
    usage = UsageRecord.objects.get()
    assert (usage.kind, usage.quantity, usage.key) == ("call_minute", 2, f"call:{CALL}")


def test_a_completed_call_arriving_first_wins(twilio, number):
    call_status(twilio, "completed", CallDuration="5")
    assert call_status(twilio, "in-progress").status == "completed"
    assert UsageRecord.objects.get().quantity == 1


def test_a_call_that_never_connected_is_not_billed(twilio, number):
    call_status(twilio, "no-answer", CallDuration="0")
    assert not UsageRecord.objects.exists()


def test_recordings_are_kept_as_sid_and_reference_once(twilio, number):
    call_status(twilio, "in-progress")
    params = {"CallSid": CALL, "RecordingSid": "RE" + "c" * 32, "RecordingStatus": "completed",
              "RecordingDuration": "42", "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/AC/Recordings/RE1",
              "To": NUMBER, "From": CALLER}
    for _ in range(2):
        assert twilio.post("recording", params).status_code == 204
    twilio.post("recording", {**params, "RecordingStatus": "in-progress"})
    recording = Recording.objects.get()
    assert (recording.status, recording.duration, recording.url, recording.call.provider_sid) == (
        "completed", 42, params["RecordingUrl"], CALL)


def test_voicemail_transcriptions_are_stored_on_the_recording(twilio, number):
    twilio.post("transcription", {"CallSid": CALL, "RecordingSid": "RE" + "d" * 32, "TranscriptionSid": "TR1",
                                  "TranscriptionStatus": "completed", "TranscriptionText": "Call me back",
                                  "To": NUMBER, "From": CALLER})
    recording = Recording.objects.get()
    assert (recording.transcription_text, recording.transcription_status) == ("Call me back", "completed")


def test_real_time_transcription_segments_are_stored_once(twilio, number):
    call_status(twilio, "in-progress")
    segment = {"CallSid": CALL, "TranscriptionEvent": "transcription-content", "Final": "true", "SequenceId": "3",
               "Track": "inbound_track", "TranscriptionData": json.dumps({"transcript": "hello", "confidence": 0.9}),
               "To": NUMBER, "From": CALLER}
    twilio.post("transcription", segment)
    twilio.post("transcription", segment)
    twilio.post("transcription", {**segment, "Final": "false", "SequenceId": "4"})
    assert Call.objects.get().transcript == {"3": {"track": "inbound_track", "text": "hello"}}
