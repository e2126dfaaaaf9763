"""Plivo's webhooks: V3 signatures, the shared SMS/voice/status handling, answers in Plivo XML.

Payloads are Plivo's documented form fields (message_url: From, To, Type, Text, MessageUUID, Units;
answer_url: CallUUID, From, To, Direction, CallStatus, Event; GetDigits action: Digits; Dial
action: DialStatus; hangup_url: CallStatus, Duration, BillDuration, HangupCause; message status
`url`: MessageUUID, Status, Units, ErrorCode), numbers written without the `+`.
"""
from __future__ import annotations

import base64
import xml.etree.ElementTree as ET

import pytest
from django.test import Client
from django.utils import timezone

from billing.models import UsageRecord
from orgs.models import ProviderConnection
from phones.calls.routing import routing_update
from phones.messaging.services import sms_rules_update
from phones.models import Call, Conversation, Message, PhoneNumber, PhoneRouting
from providers.plivo.client import signature_v3
from tests.webhooks.conftest import PUBLIC, softphones_on

AUTH_ID, AUTH_TOKEN = "MAXXXXXXXXXXXXXXXXXX", "plivo-auth-token-0123456789"
OUR = "+14155550300"
CALLER = "+14155550111"
CALL_UUID = "a7a1c8c6-2c1b-11ee-9e34-0242ac120002"


@pytest.fixture
def plivo_number(org) -> PhoneNumber:
    connection = ProviderConnection(org=org, type=ProviderConnection.Type.PLIVO, name="Plivo", account_id=AUTH_ID)
    connection.credentials = {"authId": AUTH_ID, "authToken": AUTH_TOKEN}
    connection.save()
    number = PhoneNumber.objects.create(org=org, connection=connection, e164=OUR, country="US",
                                        status=PhoneNumber.Status.ACTIVE)
    PhoneRouting.objects.create(phone_number=number)
    return number


class Plivo:
    def __init__(self, after_commit) -> None:
        self.client = Client()
        self.after_commit = after_commit

    def post(self, kind: str, params: dict, *, query: str = "", token: str = AUTH_TOKEN, tamper: dict | None = None):
        path = f"/connect/webhook/plivo/{kind}" + (f"?{query}" if query else "")
        nonce = base64.b64encode(b"12345678901234567890").decode()
        signature = signature_v3(token, "POST", f"{PUBLIC}{path}", nonce, {k: [v] for k, v in params.items()})
        with self.after_commit(execute=True):
            return self.client.post(path, {**params, **(tamper or {})}, HTTP_X_PLIVO_SIGNATURE_V3=signature,
                                    HTTP_X_PLIVO_SIGNATURE_V3_NONCE=nonce)

    def sms(self, text: str, *, uuid: str = "f3c8a6a2-2c1b-11ee-be56-0242ac120002", **extra):
        return self.post("sms", {"From": CALLER[1:], "To": OUR[1:], "Type": "sms", "Text": text,
                                 "MessageUUID": uuid, "Units": "1", **extra})

    def call(self, kind: str = "voice", *, query: str = "", **extra):
        return self.post(kind, {"CallUUID": CALL_UUID, "From": CALLER[1:], "To": OUR[1:], "Direction": "inbound",
                                "CallStatus": "ringing", "Event": "StartApp", **extra}, query=query)


@pytest.fixture
def plivo(django_capture_on_commit_callbacks) -> Plivo:
    return Plivo(django_capture_on_commit_callbacks)


def xml(response) -> ET.Element:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/xml")
    root = ET.fromstring(response.content)
    assert root.tag == "Response"
    return root


def test_an_inbound_text_is_stored_threaded_and_answered_in_plivo_xml(plivo, plivo_number, org):
    sms_rules_update(number=plivo_number, rules=[{"type": "auto-reply", "params": {"template": "Thanks, we got it."}}])
    root = xml(plivo.sms("Hello there"))
    assert [(m.tag, m.attrib, m.text) for m in root] == [
        ("Message", {"src": OUR[1:], "dst": CALLER[1:], "type": "sms"}, "Thanks, we got it.")]
    message = Message.objects.get(direction="inbound")
    assert (message.from_number, message.to_number, message.body, message.provider_sid) == (
        CALLER, OUR, "Hello there", "f3c8a6a2-2c1b-11ee-be56-0242ac120002")
    assert message.conversation == Conversation.objects.get(contact__e164=CALLER)
    assert UsageRecord.objects.get().key == f"sms:{message.provider_sid}"


def test_a_duplicate_message_uuid_is_stored_once_and_answered_with_nothing(plivo, plivo_number):
    sms_rules_update(number=plivo_number, rules=[{"type": "auto-reply", "params": {"template": "Hi"}}])
    assert len(xml(plivo.sms("hi"))) == 1
    assert len(xml(plivo.sms("hi"))) == 0
    assert Message.objects.filter(direction="inbound").count() == 1


@pytest.mark.parametrize("forgery", ["token", "tamper"])
def test_it_rejects_a_forged_signature_and_writes_nothing(plivo, plivo_number, forgery):
    params = {"From": CALLER[1:], "To": OUR[1:], "Text": "hi", "MessageUUID": "u-1", "Type": "sms"}
    if forgery == "token":
        response = plivo.post("sms", params, token="not-the-token")
    else:
        response = plivo.post("sms", params, tamper={"Text": "changed"})
    assert response.status_code == 403
    assert not Message.objects.exists()


def test_a_text_to_a_twilio_route_or_unknown_number_is_refused(plivo, plivo_number):
    response = plivo.post("sms", {"From": CALLER[1:], "To": "14155550999", "Text": "hi", "MessageUUID": "u-2"})
    assert response.status_code == 403
    assert not Message.objects.exists()


def test_ivr_menu_is_plivo_getdigits_and_digits_come_back_to_plivo(plivo, plivo_number):
    plivo_number.routing_mode = "ivr"
    plivo_number.save()
    routing_update(number=plivo_number, changes={"ivrFlow": {"entry": "m", "nodes": {
        "m": {"type": "menu", "say": "Press 1 for sales.", "voice": "man", "options": {"1": "sales"}},
        "sales": {"type": "transfer-phone", "number": "+14155550123"}}}})
    root = xml(plivo.call())
    gather, redirect = list(root)
    assert gather.tag == "GetDigits"
    assert gather.get("action") == f"{PUBLIC}/connect/webhook/plivo/ivr-menu?node=m&attempt=1"
    assert (gather.get("numDigits"), gather.get("method")) == ("1", "POST")
    [speak] = list(gather)
    assert (speak.tag, speak.text, speak.get("voice")) == ("Speak", "Press 1 for sales.", "MAN")
    assert (redirect.tag, redirect.text) == (
        "Redirect", f"{PUBLIC}/connect/webhook/plivo/ivr-menu?node=m&attempt=1&noinput=1")
    assert Call.objects.get().provider_sid == CALL_UUID

    root = xml(plivo.call("ivr-menu", query="node=m&attempt=1", Digits="1"))
    [dial] = list(root)
    assert dial.tag == "Dial" and dial.get("action").startswith(f"{PUBLIC}/connect/webhook/plivo/ivr-menu?node=sales")
    assert [(n.tag, n.text) for n in dial] == [("Number", "+14155550123")]
    # The callee answered: Plivo's DialStatus ends the call.
    root = xml(plivo.call("ivr-menu", query="node=sales&dialed=1", DialStatus="completed"))
    assert [e.tag for e in root] == ["Hangup"]


def test_voice_mode_records_and_rings_users_as_plivo_sip_users(plivo, plivo_number, org, member):
    plivo_number.configuration = {"voiceConfig": {"recordCalls": True, "voicemailEnabled": True}}
    plivo_number.save()
    routing_update(number=plivo_number, changes={"assignments": [
        {"type": "user", "target": member.username}, {"type": "phone", "target": "+14155550123"}]})
    softphones_on(org, member)
    root = xml(plivo.call())
    record, dial = list(root)
    assert record.tag == "Record" and record.get("startOnDialAnswer") == "true"
    assert record.get("callbackUrl") == f"{PUBLIC}/connect/webhook/plivo/recording"
    users = [n.text for n in dial if n.tag == "User"]
    assert len(users) == 1 and users[0].startswith("sip:") and users[0].endswith("@phone.plivo.com")
    assert [n.text for n in dial if n.tag == "Number"] == ["+14155550123"]
    # Nobody answered (Plivo says timeout): voicemail, a Plivo Record whose action ends the call.
    root = xml(plivo.call(query="step=1", DialStatus="timeout"))
    tags = [e.tag for e in root]
    assert tags == ["Speak", "Record"]
    assert root[1].get("action") == f"{PUBLIC}/connect/webhook/plivo/voice?done=1"


def test_call_status_only_moves_forward(plivo, plivo_number):
    plivo.call()
    hangup = {"CallUUID": CALL_UUID, "From": CALLER[1:], "To": OUR[1:], "Direction": "inbound", "Event": "Hangup",
              "CallStatus": "completed", "Duration": "65", "BillDuration": "65", "HangupCause": "NORMAL_CLEARING"}
    assert plivo.post("status", hangup).status_code == 204
    assert plivo.post("status", {**hangup, "CallStatus": "ringing"}).status_code == 204
    call = Call.objects.get()
    assert (call.status, call.duration) == ("completed", 65)
    assert UsageRecord.objects.get().quantity == 2


def test_message_status_callbacks_out_of_order(plivo, plivo_number, org):
    Message.objects.create(org=org, phone_number=plivo_number, direction="outbound", from_number=OUR,
                           to_number=CALLER, provider_sid="m-uuid-1", status="queued", created_at=timezone.now())
    base = {"MessageUUID": "m-uuid-1", "From": OUR[1:], "To": CALLER[1:], "Units": "1"}
    for status in ("delivered", "sent", "delivered"):
        assert plivo.post("status", {**base, "Status": status, "ErrorCode": "000"}).status_code == 204
    message = Message.objects.get()
    assert (message.status, message.error_code) == ("delivered", "")
    assert UsageRecord.objects.filter(kind="sms_segment").count() == 1


def test_recording_and_transcription_callbacks(plivo, plivo_number):
    plivo.call()
    base = {"CallUUID": CALL_UUID, "From": CALLER[1:], "To": OUR[1:]}
    assert plivo.post("recording", {**base, "RecordingID": "rec-1", "RecordUrl": "https://media.plivo.com/r.mp3",
                                    "RecordingDuration": "30"}).status_code == 204
    assert plivo.post("transcription", {**base, "recording_id": "rec-1", "call_uuid": CALL_UUID,
                                        "transcription": "Call me back"}).status_code == 204
    from phones.models import Recording
    recording = Recording.objects.get()
    assert (recording.provider_sid, recording.url, recording.duration, recording.transcription_text) == (
        "rec-1", "https://media.plivo.com/r.mp3", 30, "Call me back")


def test_every_verb_our_builders_emit_has_a_plivo_translation(settings):
    from twilio.twiml.voice_response import VoiceResponse

    from phones.calls import twiml
    from providers.plivo import markup as plivo_xml

    settings.PUBLIC_BASE_URL = PUBLIC
    response = VoiceResponse()
    plivo = ProviderConnection.Type.PLIVO
    response.start().transcription(status_callback_url=twiml.link("transcription", plivo), track="both_tracks")
    response.start().recording(recording_status_callback=twiml.link("recording", plivo), track="both", channels="dual")
    twiml.record_voicemail(response, kind="voice", connection_type=plivo,
                           prompt={"say": "Leave a message", "voice": "Polly.Joanna"},
                           max_length=60, transcribe=True)
    stream = response.connect().stream(url="wss://ai.example.com/s")
    stream.parameter(name="callSid", value="CA1")
    stream.parameter(name="org", value="alice-co")
    response.enqueue("support")
    response.hangup()
    root = ET.fromstring(plivo_xml.voice_xml(str(response)))
    tags = [e.tag for e in root]
    assert tags == ["Record", "Record", "Speak", "Record", "Stream", "Conference", "Hangup"]
    live, session, _, voicemail, ai, queue, _ = list(root)
    assert live.get("transcriptionUrl") == f"{PUBLIC}/connect/webhook/plivo/transcription"
    assert session.get("recordSession") == "true" and session.get("callbackUrl").endswith("/plivo/recording")
    assert root[2].get("voice") == "Polly.Joanna"
    assert (voicemail.get("action"), voicemail.get("maxLength"), voicemail.get("transcriptionType")) == (
        f"{PUBLIC}/connect/webhook/plivo/voice?done=1", "60", "auto")
    assert (ai.text, ai.get("bidirectional"), ai.get("extraHeaders")) == (
        "wss://ai.example.com/s", "true", "callSid=CA1,org=alice-co")
    assert queue.text == "support"


TRANSFER = ('<?xml version="1.0" encoding="UTF-8"?><Response><Dial answerOnBridge="true" callerId="+14155550300">'
            '<Number>+14155550100</Number></Dial></Response>')


def _markup_query(call_sid: str = CALL_UUID, twiml: str = TRANSFER) -> str:
    from urllib.parse import urlsplit

    from phones.calls.ai import markup_link

    link = markup_link(ProviderConnection.Type.PLIVO, call_sid, twiml)
    assert link.startswith(f"{PUBLIC}/connect/webhook/plivo/markup?")
    return urlsplit(link).query


def test_a_transfer_link_serves_its_markup_as_plivo_xml(plivo, plivo_number):
    root = xml(plivo.call("markup", query=_markup_query(), CallStatus="in-progress"))
    assert [(child.tag, child.get("callerId"), child.find("Number").text) for child in root] == [
        ("Dial", "+14155550300", "+14155550100")]


def test_a_transfer_to_a_queue_or_a_softphone_is_served_in_plivos_words(plivo, plivo_number):
    queue = '<?xml version="1.0" encoding="UTF-8"?><Response><Enqueue>support</Enqueue></Response>'
    root = xml(plivo.call("markup", query=_markup_query(twiml=queue), CallStatus="in-progress"))
    assert [(child.tag, child.text) for child in root] == [("Conference", "support")]
    user = ('<?xml version="1.0" encoding="UTF-8"?><Response><Dial answerOnBridge="true"><Client>u_7</Client>'
            '</Dial></Response>')
    root = xml(plivo.call("markup", query=_markup_query(twiml=user), CallStatus="in-progress"))
    assert root.find("Dial/User").text == "sip:u_7@phone.plivo.com"


@pytest.mark.parametrize("case", ["another_call", "tampered", "stale", "missing", "unsigned"])
def test_a_transfer_link_that_is_not_this_calls_is_refused(plivo, plivo_number, case):
    from unittest import mock

    from django.core import signing

    query = _markup_query()
    if case == "another_call":
        query = _markup_query(call_sid="b8b2d9d7-3d2c-11ee-9e34-0242ac120003")
    elif case == "tampered":
        query = _markup_query(twiml=TRANSFER.replace("+14155550100", "+19005550100"))[:-6] + query[-6:]
    elif case == "stale":
        with mock.patch.object(signing.time, "time", return_value=signing.time.time() - 301):
            query = _markup_query()
    elif case == "missing":
        query = ""
    if case == "unsigned":
        response = plivo.post("markup", {"CallUUID": CALL_UUID, "From": CALLER[1:], "To": OUR[1:]}, query=query,
                              token="not-the-token")
    else:
        response = plivo.call("markup", query=query, CallStatus="in-progress")
    assert response.status_code == 403
    assert b"Dial" not in response.content
