"""Telnyx's webhooks: Ed25519 signatures with a timestamp tolerance, messaging events (JSON) and
TeXML (Twilio's form fields and markup), fed to the shared handlers.

Payloads follow Telnyx's API reference: the `message.received` callback (data.event_type,
data.payload with id, from.phone_number, to[].phone_number, text, media, parts) and the status
events `message.sent` / `message.finalized` (to[].status, errors).
"""
from __future__ import annotations

import base64
import json
import time
import xml.etree.ElementTree as ET
from unittest import mock

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.test import Client
from django.utils import timezone

from orgs.models import ProviderConnection
from phones.calls.routing import routing_update
from phones.messaging.services import sms_rules_update
from phones.models import Call, Conversation, Message, OptOut, PhoneNumber, PhoneRouting
from providers.base import SentMessage
from providers.telnyx.client import TelnyxProvider
from tests.webhooks.conftest import PUBLIC

KEY = Ed25519PrivateKey.generate()
PUBLIC_KEY = base64.b64encode(KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()
OUR = "+14155550400"
CALLER = "+14155550111"
MESSAGE_ID = "7ee4241c-f127-47e5-9c34-3aac291f8058"


@pytest.fixture
def telnyx_number(org) -> PhoneNumber:
    connection = ProviderConnection(org=org, type=ProviderConnection.Type.TELNYX, name="Telnyx", account_id="acct-1",
                                    public_config={"connectionId": "1234", "messagingProfileId": "mp-1",
                                                   "webhookPublicKey": PUBLIC_KEY})
    connection.credentials = {"apiKey": "KEY0123"}
    connection.save()
    number = PhoneNumber.objects.create(org=org, connection=connection, e164=OUR, country="US",
                                        status=PhoneNumber.Status.ACTIVE)
    PhoneRouting.objects.create(phone_number=number)
    return number


class Telnyx:
    def __init__(self, after_commit) -> None:
        self.client = Client()
        self.after_commit = after_commit

    def _send(self, path: str, body: bytes, content_type: str, *, key=KEY, age: int = 0):
        timestamp = str(int(time.time()) - age)
        signature = base64.b64encode(key.sign(timestamp.encode() + b"|" + body)).decode()
        with self.after_commit(execute=True):
            return self.client.post(path, body, content_type=content_type, HTTP_TELNYX_SIGNATURE_ED25519=signature,
                                    HTTP_TELNYX_TIMESTAMP=timestamp)

    def event(self, kind: str, event_type: str, payload: dict, **options):
        body = json.dumps({"data": {"record_type": "event", "id": "bf6307bd-884d-4c1f-b6ea-c62b8c495d3c",
                                    "event_type": event_type, "occurred_at": "2019-01-23T18:10:02.574Z",
                                    "payload": payload}}).encode()
        return self._send(f"/connect/webhook/telnyx/{kind}", body, "application/json", **options)

    def received(self, text: str, *, id_: str = MESSAGE_ID, **options):
        return self.event("sms", "message.received", {
            "record_type": "message", "direction": "inbound", "id": id_, "type": "SMS",
            "messaging_profile_id": "mp-1", "from": {"phone_number": CALLER, "carrier": "T-MOBILE USA, INC."},
            "to": [{"phone_number": OUR, "status": "delivered"}], "text": text, "media": [], "parts": 1,
            "encoding": "GSM-7"}, **options)

    def texml(self, kind: str, params: dict, *, query: str = ""):
        from urllib.parse import urlencode
        path = f"/connect/webhook/telnyx/{kind}" + (f"?{query}" if query else "")
        return self._send(path, urlencode(params).encode(), "application/x-www-form-urlencoded")


@pytest.fixture
def telnyx(django_capture_on_commit_callbacks) -> Telnyx:
    return Telnyx(django_capture_on_commit_callbacks)


@pytest.fixture
def send_sms():
    with mock.patch.object(TelnyxProvider, "send_sms", autospec=True,
                           side_effect=lambda self, **kw: SentMessage(sid=f"40317{len(kw['body'])}", status="queued",
                                                                      to=kw["to"], from_=kw["from_"])) as send:
        yield send


def test_an_inbound_text_is_threaded_and_its_reply_sent_through_the_api(telnyx, telnyx_number, send_sms):
    sms_rules_update(number=telnyx_number, rules=[{"type": "auto-reply", "params": {"template": "Thanks!"}}])
    response = telnyx.received("Hello, World!")
    assert response.status_code == 204 and response.content == b""
    inbound = Message.objects.get(direction="inbound")
    assert (inbound.provider_sid, inbound.from_number, inbound.to_number, inbound.body) == (
        MESSAGE_ID, CALLER, OUR, "Hello, World!")
    assert inbound.conversation == Conversation.objects.get()
    send_sms.assert_called_once_with(mock.ANY, to=CALLER, body="Thanks!", from_=OUR,
                                     status_callback=f"{PUBLIC}/connect/webhook/telnyx/status")
    reply = Message.objects.get(direction="outbound")
    assert (reply.provider_sid, reply.body, reply.conversation) == ("403177", "Thanks!", inbound.conversation)


def test_a_duplicate_event_is_stored_once_and_replied_to_once(telnyx, telnyx_number, send_sms):
    sms_rules_update(number=telnyx_number, rules=[{"type": "auto-reply", "params": {"template": "Thanks!"}}])
    telnyx.received("hi")
    telnyx.received("hi")
    assert Message.objects.filter(direction="inbound").count() == 1
    assert send_sms.call_count == 1


def test_stop_is_confirmed_then_suppressed(telnyx, telnyx_number, send_sms):
    telnyx.received("STOP")
    assert "unsubscribed" in send_sms.call_args.kwargs["body"]
    assert OptOut.objects.get().e164 == CALLER


@pytest.mark.parametrize("forgery", ["other key", "too old"])
def test_it_rejects_a_forged_or_replayed_event_and_writes_nothing(telnyx, telnyx_number, send_sms, forgery):
    options = {"key": Ed25519PrivateKey.generate()} if forgery == "other key" else {"age": 301}
    assert telnyx.received("hi", **options).status_code == 403
    assert not Message.objects.exists()
    send_sms.assert_not_called()


def test_message_status_events_only_move_forward(telnyx, telnyx_number, org):
    Message.objects.create(org=org, phone_number=telnyx_number, direction="outbound", from_number=OUR,
                           to_number=CALLER, provider_sid="40317abc", status="queued", created_at=timezone.now())

    def status(event_type: str, value: str, errors: list | None = None):
        return telnyx.event("status", event_type, {
            "record_type": "message", "direction": "outbound", "id": "40317abc", "from": {"phone_number": OUR},
            "to": [{"phone_number": CALLER, "status": value}], "parts": 1, "errors": errors or []})
    assert status("message.finalized", "delivered").status_code == 204
    assert status("message.sent", "sent").status_code == 204
    message = Message.objects.get()
    assert message.status == "delivered"
    status("message.finalized", "delivery_failed", [{"code": "40300", "title": "Blocked"}])
    assert Message.objects.get().status == "delivered"


def test_texml_ivr_answers_twilio_markup_pointing_back_to_telnyx(telnyx, telnyx_number):
    telnyx_number.routing_mode = "ivr"
    telnyx_number.save()
    routing_update(number=telnyx_number, changes={"ivrFlow": {"entry": "m", "nodes": {
        "m": {"type": "menu", "say": "Press 1.", "options": {"1": "bye"}}, "bye": {"type": "hangup", "say": "Bye"}}}})
    call = {"CallSid": "v3:abc", "AccountSid": "telnyx-account", "From": CALLER, "To": OUR, "CallStatus": "ringing",
            "Direction": "inbound"}
    response = telnyx.texml("voice", call)
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    gather = root.find("Gather")
    assert gather.get("action") == f"{PUBLIC}/connect/webhook/telnyx/ivr-menu?node=m&attempt=1"
    assert root.find("Redirect").text.startswith(f"{PUBLIC}/connect/webhook/telnyx/ivr-menu")
    assert Call.objects.get().provider_sid == "v3:abc"
    root = ET.fromstring(telnyx.texml("ivr-menu", {**call, "Digits": "1"}, query="node=m&attempt=1").content)
    assert [(e.tag, e.text) for e in root] == [("Say", "Bye"), ("Hangup", None)]


def test_texml_call_status_and_a_forged_call(telnyx, telnyx_number):
    call = {"CallSid": "v3:abc", "From": CALLER, "To": OUR, "Direction": "inbound"}
    assert telnyx.texml("status", {**call, "CallStatus": "completed", "CallDuration": "61"}).status_code == 204
    assert telnyx.texml("status", {**call, "CallStatus": "in-progress"}).status_code == 204
    assert (Call.objects.get().status, Call.objects.get().duration) == ("completed", 61)
    body = b"CallSid=v3%3Axyz&From=%2B14155550111&To=%2B14155550400"
    response = Client().post("/connect/webhook/telnyx/voice", body, content_type="application/x-www-form-urlencoded",
                             HTTP_TELNYX_SIGNATURE_ED25519="bm9wZQ==", HTTP_TELNYX_TIMESTAMP=str(int(time.time())))
    assert response.status_code == 403
    assert Call.objects.count() == 1
