"""The benchmark's reference (webhooks.reference.reference_sms): a minimal durable SMS webhook,
checked like a real one: signed texts answered and stored once, forged ones refused unwritten."""
from __future__ import annotations

import pytest

from phones.models import Message
from tests.webhooks.conftest import CALLER, NUMBER, children, twiml
from webhooks import reference

PREFIX = "/connect/webhook/reference/"
SID = "SM" + "a" * 32


@pytest.fixture(autouse=True)
def no_cached_accounts():
    reference.forget_accounts()
    yield
    reference.forget_accounts()


def text(twilio, body: str = "Hello there", *, sid: str = SID, **kwargs):
    return twilio.post("sms", {"MessageSid": sid, "From": CALLER, "To": NUMBER, "Body": body, "NumSegments": "1"},
                       path_prefix=PREFIX, **kwargs)


def test_a_signed_text_is_answered_and_stored(twilio, sandbox):
    response = text(twilio)
    assert children(twiml(response)) == [("Message", {}, "Thanks, we got it.")]
    message = Message.objects.get()
    assert (message.org_id, message.direction, message.from_number, message.to_number, message.body,
            message.provider_sid) == (sandbox.org_id, "inbound", CALLER, NUMBER, "Hello there", SID)


def test_a_repeated_message_sid_is_stored_once(twilio):
    for _ in range(2):
        assert text(twilio).status_code == 200
    assert text(twilio, sid="SM" + "b" * 32).status_code == 200
    assert sorted(Message.objects.values_list("provider_sid", flat=True)) == [SID, "SM" + "b" * 32]


def test_a_forged_text_is_refused_and_not_stored(twilio):
    assert text(twilio, token="0" * 32).status_code == 403  # signed with another token
    assert text(twilio, sent_params={"AccountSid": twilio.account_sid, "MessageSid": SID, "From": CALLER,
                                     "To": NUMBER, "Body": "Tampered"}).status_code == 403
    assert text(twilio, signed_url=f"https://evil.example.com{PREFIX}sms").status_code == 403
    assert not Message.objects.exists()


def test_an_unknown_account_is_refused(twilio):
    response = twilio.client.post(f"{PREFIX}sms", {"AccountSid": "AC" + "0" * 32, "MessageSid": SID},
                                  HTTP_X_TWILIO_SIGNATURE="x")
    assert response.status_code == 403
    assert not Message.objects.exists()
