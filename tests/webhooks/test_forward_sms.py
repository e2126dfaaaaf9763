"""The forward-sms rule end to end: a signed inbound text, its webhook's commit, the threading
task, the forward task, and the text at the provider (the sandbox) and in our records. Nothing mocked."""
from __future__ import annotations

import pytest

from phones.messaging.services import sms_rules_update
from phones.models import Message
from sandbox.models import SandboxAccount, SandboxMessage, SandboxNumber
from tests.webhooks.conftest import CALLER, NUMBER, children, twiml

STAFF = "+14155550123"
RULE = {"type": "forward-sms", "match": {"keywords": ["urgent"], "mode": "contains"}, "params": {"to": STAFF}}


@pytest.fixture
def owned(number, sandbox):
    """The number, owned by the sandbox account too (SMS-capable), so the forward can be sent from it."""
    SandboxNumber.objects.create(sid="PN" + "c" * 32, account=SandboxAccount.objects.get(sid=sandbox.account_id),
                                 phone_number=NUMBER, friendly_name="Main line", iso_country="US",
                                 number_type="local", sms=True)
    return number


def test_a_matching_text_is_forwarded_to_the_staff_number(twilio, owned):
    number = owned
    sms_rules_update(number=number, rules=[RULE])
    root = twiml(twilio.sms("URGENT: call me", sid="SM" + "a" * 32))
    assert children(root) == []  # a forward is not a reply to the sender
    forwarded = SandboxMessage.objects.get(to=STAFF)
    assert (forwarded.from_number, forwarded.body) == (NUMBER, f"Fwd from {CALLER}: URGENT: call me")
    sent = Message.objects.get(direction="outbound", to_number=STAFF)
    assert (sent.from_number, sent.body, sent.provider_sid) == (NUMBER, forwarded.body, forwarded.sid)


def test_a_text_the_rule_does_not_match_is_not_forwarded(twilio, owned):
    number = owned
    sms_rules_update(number=number, rules=[RULE])
    twiml(twilio.sms("just saying hi", sid="SM" + "b" * 32))
    assert Message.objects.get().direction == "inbound"  # threaded, and nothing sent
    assert not SandboxMessage.objects.filter(to=STAFF).exists()
