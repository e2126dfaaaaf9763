"""Where the transfer tool sends a call: the agent's named targets, a softphone only when its member
can take a call (presence), and anything else refused with a reason the model is told."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from phones.agents.gateway.context import AgentSettings, StreamContext
from phones.agents.gateway.tools import transfer_twiml
from phones.models import SoftphonePresence

NUMBER = "+14155550100"


def context(org, **targets) -> StreamContext:
    agent = AgentSettings(pk=1, name="Ada", instructions="", greeting="", voice="alloy", model="gpt-realtime",
                          language="en", tools=("transfer",), transfer_targets=targets, max_call_seconds=600)
    return StreamContext(call_pk=1, call_sid="CA" + "1" * 32, org_id=org.pk, number_pk=1, number_e164=NUMBER,
                         caller="+14155550111", agent=agent, phone_connection=None, ai_type="sandbox-ai",
                         ai_api_key="", ai_base_url="")


def dial(twiml: str) -> list[tuple[str, str]]:
    return [(noun.tag, noun.text) for noun in ET.fromstring(twiml).find("Dial")]


def test_a_number_and_a_queue(org):
    ctx = context(org, sales="+14155550199", support="queue:support")
    assert dial(transfer_twiml(ctx, "sales")) == [("Number", "+14155550199")]
    assert ET.fromstring(transfer_twiml(ctx, "sales")).find("Dial").get("callerId") == NUMBER
    assert ET.fromstring(transfer_twiml(ctx, "support")).find("Enqueue").text == "support"


@pytest.mark.parametrize("status, rings", [("available", True), ("away", True), ("busy", False),
                                          ("offline", False), (None, False)])
def test_a_member_only_when_their_softphone_can_take_the_call(org, alice, status, rings):
    if status:
        SoftphonePresence.objects.create(org=org, user=alice, status=status)
    ctx = context(org, desk="user:alice")
    if rings:
        assert dial(transfer_twiml(ctx, "desk")) == [("Client", f"user_{alice.pk}")]
    else:
        with pytest.raises(ValueError, match="cannot take a call now"):
            transfer_twiml(ctx, "desk")


def test_another_orgs_member_and_unknown_targets_are_refused(org, charlie, other_org):
    SoftphonePresence.objects.create(org=other_org, user=charlie, status="available")
    ctx = context(org, elsewhere="user:charlie", odd="sip:x@example.com")
    with pytest.raises(ValueError, match="cannot take a call now"):
        transfer_twiml(ctx, "elsewhere")
    with pytest.raises(ValueError, match="neither a number, a user nor a queue"):
        transfer_twiml(ctx, "odd")
    with pytest.raises(ValueError, match="unknown transfer target"):
        transfer_twiml(ctx, "nobody")
