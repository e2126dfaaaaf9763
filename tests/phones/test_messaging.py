"""Outbound SMS and calls through the sandbox, and the inbox API."""
from __future__ import annotations

from unittest import mock

import pytest

from phones.calls.routing import routing_update
from phones.messaging.services import OPT_OUT_LANGUAGE, opt_out_record
from phones.models import Call, Conversation, Message, PhoneNumber
from sandbox.models import SandboxCall, SandboxMessage

US = "+14155550142"
UK = "+442079460018"


def send(api, **body):
    return api.post("/messages/send-sms", body, format="json")


def test_a_member_sends_a_text_from_a_number(member_api, active_number):
    response = send(member_api, to=US, body="Your code is 123456", **{"from": active_number.e164})
    assert response.status_code == 201, response.json()
    sent = SandboxMessage.objects.get()
    assert (sent.to, sent.from_number) == (US, active_number.e164)
    assert sent.body == "Your code is 123456"  # transactional (the default): sent as written
    assert sent.status_callback == "http://127.0.0.1:8000/connect/webhook/twilio/status"
    message = Message.objects.get()
    assert (message.direction, message.provider_sid, message.status, message.body) == (
        "outbound", sent.sid, "queued", sent.body)
    assert message.conversation.contact.e164 == US
    assert response.json()["id"] == message.public_id


def test_a_us_marketing_text_gets_the_opt_out_language(member_api, active_number):
    response = send(member_api, to=US, body="Spring sale: 20% off", category="marketing",
                    **{"from": active_number.e164})
    assert response.status_code == 201, response.json()
    sent = SandboxMessage.objects.get()
    assert sent.body == f"Spring sale: 20% off\n{OPT_OUT_LANGUAGE}"
    assert response.json()["body"] == sent.body == Message.objects.get().body


@pytest.mark.parametrize("category", [None, "transactional"])
def test_transactional_texts_get_no_opt_out_language(owner_api, active_number, category):
    extra = {"category": category} if category else {}
    assert send(owner_api, to=US, body="Your code is 654321", **extra,
                **{"from": active_number.e164}).status_code == 201
    assert SandboxMessage.objects.get().body == "Your code is 654321"
    assert OPT_OUT_LANGUAGE not in Message.objects.get().body


def test_an_unknown_category_is_a_400_and_nothing_is_sent(owner_api, active_number):
    response = send(owner_api, to=US, body="Hi", category="promo", **{"from": active_number.e164})
    assert response.status_code == 400
    assert "category" in str(response.json())
    assert not SandboxMessage.objects.exists()


@pytest.mark.parametrize("body", ["Sale today! Text STOP to unsubscribe", "Reply stop to opt out", "Unsubscribe: x"])
def test_us_marketing_texts_with_opt_out_language_are_sent_as_written(owner_api, active_number, body):
    send(owner_api, to=US, body=body, category="marketing", **{"from": active_number.e164})
    assert SandboxMessage.objects.get().body == body


def test_marketing_texts_outside_the_us_are_sent_as_written(owner_api, active_number):
    send(owner_api, to=UK, body="Spring sale", category="marketing", **{"from": active_number.e164})
    assert SandboxMessage.objects.get().body == "Spring sale"


def test_texts_outside_the_us_are_sent_as_written(owner_api, active_number):
    send(owner_api, to=UK, body="Hello", mediaUrl=["https://cdn.example.com/r.pdf"], **{"from": active_number.e164})
    sent = SandboxMessage.objects.get()
    assert (sent.body, sent.media_urls) == ("Hello", ["https://cdn.example.com/r.pdf"])


def test_an_opted_out_recipient_is_refused_and_nothing_is_sent(owner_api, active_number, org):
    opt_out_record(org=org, e164=US, keyword="STOP", number=active_number)
    response = send(owner_api, to=US, body="Hello", **{"from": active_number.e164})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "recipient_opted_out"
    assert not SandboxMessage.objects.exists() and not Message.objects.exists()


def test_from_defaults_to_the_messaging_service(owner_api, active_number, sandbox):
    sandbox.public_config = {"messagingServiceSid": "MG" + "1" * 32}
    sandbox.save()
    assert send(owner_api, to=US, body="Hi").status_code == 201
    assert SandboxMessage.objects.get().messaging_service_sid == "MG" + "1" * 32
    assert Message.objects.get().status == "accepted"


def test_from_defaults_to_the_system_phone(owner_api, active_number):
    PhoneNumber.objects.filter(pk=active_number.pk).update(is_system=True)
    assert send(owner_api, to=US, body="Hi").status_code == 201
    assert SandboxMessage.objects.get().from_number == active_number.e164


def test_without_any_sender_it_says_so(owner_api, active_number):
    response = send(owner_api, to=US, body="Hi")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "no_sender"
    assert not SandboxMessage.objects.exists()


@pytest.mark.parametrize("body, field", [
    ({"to": "12", "body": "x"}, "to"),
    ({"to": US, "body": " "}, "body"),
    ({"to": US, "body": "x", "from": "+14155550999"}, "from"),
    ({"to": US, "body": "x", "sender": "y"}, "sender"),
])
def test_bad_input_is_refused_naming_the_field(owner_api, active_number, body, field):
    response = send(owner_api, **body)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field
    assert not SandboxMessage.objects.exists()


def test_provider_refusals_are_mapped(owner_api, active_number):
    response = send(owner_api, to="+15005550009", body="Hi", **{"from": active_number.e164})
    assert response.status_code == 422
    assert response.json()["error"]["providerCode"] == 21614
    assert not Message.objects.exists()


def test_outsiders_cannot_send(outsider_api, active_number):
    assert send(outsider_api, to=US, body="Hi", **{"from": active_number.e164}).status_code == 400
    assert not SandboxMessage.objects.exists()


def test_make_call_with_twiml_url(member_api, active_number):
    response = member_api.post("/calls/make-call", {"from": active_number.e164, "to": US,
                                                    "twimlUrl": "https://example.com/twiml"}, format="json")
    assert response.status_code == 201, response.json()
    placed = SandboxCall.objects.get()
    assert (placed.to, placed.from_number, placed.url) == (US, active_number.e164, "https://example.com/twiml")
    call = Call.objects.get()
    assert (call.direction, call.provider_sid, response.json()["sid"]) == ("outbound", placed.sid, placed.sid)


def test_make_call_with_a_numbers_flow(owner_api, active_number):
    routing_update(number=active_number, changes={"ivrFlow": {"entry": "bye", "nodes": {
        "bye": {"type": "hangup", "say": "Hello and goodbye."}}}})
    response = owner_api.post("/calls/make-call", {"from": active_number.e164, "to": US,
                                                   "flowId": active_number.public_id}, format="json")
    assert response.status_code == 201, response.json()
    assert SandboxCall.objects.get().url == (
        f"http://127.0.0.1:8000/connect/webhook/twilio/ivr-menu?flow={active_number.public_id}")


def test_make_call_refuses_an_unknown_flow_and_needs_one_target(owner_api, active_number):
    response = owner_api.post("/calls/make-call", {"from": active_number.e164, "to": US, "flowId": "pn_nope"},
                              format="json")
    assert (response.status_code, response.json()["error"]["field"]) == (400, "flowId")
    response = owner_api.post("/calls/make-call", {"from": active_number.e164, "to": US}, format="json")
    assert response.status_code == 400
    assert not SandboxCall.objects.exists()


# ---------------------------------------------------------------- inbox

@pytest.fixture
def thread(owner_api, active_number):
    send(owner_api, to=US, body="first", **{"from": active_number.e164})
    send(owner_api, to=US, body="second", **{"from": active_number.e164})
    send(owner_api, to=UK, body="other", **{"from": active_number.e164})
    return Conversation.objects.get(contact__e164=US)


def test_inbox_lists_threads_most_recent_first(member_api, thread):
    body = member_api.get("/inbox/conversations").json()
    assert body["total"] == 2
    assert [c["contact"]["phoneNumber"] for c in body["data"]] == [UK, US]
    assert body["data"][1]["lastMessagePreview"].startswith("second")


def test_a_threads_messages_newest_first_with_paging(member_api, thread):
    body = member_api.get(f"/inbox/conversations/{thread.public_id}/messages?limit=1").json()
    assert body["hasMore"] is True
    assert body["data"][0]["body"].startswith("second")
    before = Message.objects.get(body__startswith="second").created_at.isoformat()
    body = member_api.get(f"/inbox/conversations/{thread.public_id}/messages",
                          {"before": before}).json()
    assert [m["body"].split("\n")[0] for m in body["data"]] == ["first"]


def test_outsiders_get_404_on_a_thread(outsider_api, thread):
    assert outsider_api.get(f"/inbox/conversations/{thread.public_id}/messages").status_code == 404
    assert outsider_api.get("/inbox/conversations").json()["total"] == 0


def test_messaging_settings_are_for_admins(owner_api, member_api, org):
    assert member_api.get("/messaging/settings").status_code == 403
    response = owner_api.put("/messaging/settings", {"automationWebhookUrl": "https://hooks.example.com/x"},
                             format="json")
    assert response.status_code == 200
    first = response.json()
    assert first["automationWebhookUrl"] == "https://hooks.example.com/x" and len(first["signingSecret"]) == 64
    rotated = owner_api.put("/messaging/settings", {"rotateSecret": True}, format="json").json()
    assert rotated["signingSecret"] != first["signingSecret"]
    assert rotated["automationWebhookUrl"] == "https://hooks.example.com/x"


def test_texts_and_calls_through_plivo_get_plivos_callback_paths(owner_api, org, settings):
    """Plivo posts Plivo's callbacks and fetches Plivo XML: never the Twilio endpoints."""
    from orgs.models import ProviderConnection
    from providers.base import PlacedCall, SentMessage
    from providers.plivo.client import PlivoProvider

    settings.PUBLIC_BASE_URL = "https://numbers.example.com"
    connection = ProviderConnection(org=org, type="plivo-provider", name="Plivo", account_id="MA" + "1" * 18)
    connection.credentials = {"authId": "MA" + "1" * 18, "authToken": "t" * 40}
    connection.save()
    number = PhoneNumber.objects.create(org=org, connection=connection, e164="+14155550111", country="US",
                                        status="active", provider_sid="14155550111")
    routing_update(number=number, changes={"ivrFlow": {"entry": "bye", "nodes": {"bye": {"type": "hangup"}}}})
    with mock.patch.object(PlivoProvider, "send_sms", autospec=True,
                           return_value=SentMessage(sid="plivo-msg-1", status="queued", to="+14155550199",
                                                    from_=number.e164)) as send_sms, \
            mock.patch.object(PlivoProvider, "make_call", autospec=True,
                              return_value=PlacedCall(sid="plivo-call-1", status="queued", to="+14155550199",
                                                      from_=number.e164)) as make_call:
        assert send(owner_api, to="+14155550199", body="Hi, reply STOP to opt out",
                    **{"from": number.e164}).status_code == 201
        assert owner_api.post("/calls/make-call", {"from": number.e164, "to": "+14155550199",
                                                   "flowId": number.public_id}, format="json").status_code == 201
    assert send_sms.call_args.kwargs["status_callback"] == "https://numbers.example.com/connect/webhook/plivo/status"
    assert make_call.call_args.kwargs["status_callback"] == "https://numbers.example.com/connect/webhook/plivo/status"
    assert make_call.call_args.kwargs["url"] == (
        f"https://numbers.example.com/connect/webhook/plivo/ivr-menu?flow={number.public_id}")
