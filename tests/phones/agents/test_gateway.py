"""The media gateway end to end: a Twilio-shaped caller on /media/stream, the gateway, the openai
SDK's realtime client, the sandbox's realtime AI over a real WebSocket."""
from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync

from billing.models import UsageRecord
from tests.phones.agents.gateway_helpers import LiveServer, ai_call, run_caller, signed_headers

# Threads (the gateway's database calls) need committed rows; the migrations' seeded prices are restored after.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def live(settings):
    with LiveServer() as server:
        settings.SANDBOX_AI_BASE_URL = f"{server.url}/sandbox/ai/v1"
        settings.SANDBOX_AI_PACE = 0.2
        yield server


@pytest.fixture
def agent_number(active_number, agent):
    active_number.agent = agent
    active_number.save(update_fields=["agent"])
    return active_number


def test_a_call_is_greeted_answered_and_transcribed(live, agent_number):
    call, _ = ai_call(agent_number)
    report = async_to_sync(run_caller)(call, headers=signed_headers(agent_number), say=["what are your hours"])
    assert report.closed_code is None, report
    assert report.heard[0] == "Hello!"
    assert report.heard[1] == "You said: what are your hours. How else can I help?"
    call.refresh_from_db()
    assert call.ai_status == "ended"
    assert [(t["role"], t["text"]) for t in call.ai_transcript] == [
        ("agent", "Hello!"), ("caller", "what are your hours"),
        ("agent", "You said: what are your hours. How else can I help?")]
    assert call.ai_seconds >= 1
    usage = UsageRecord.objects.get(key=f"ai:{call.provider_sid}")
    assert (usage.kind, usage.quantity) == ("ai_second", call.ai_seconds)


def test_transfer_updates_the_call_at_the_provider(live, agent_number):
    call, live_call = ai_call(agent_number)
    report = async_to_sync(run_caller)(call, say=["transfer me to sales please"])
    live_call.refresh_from_db()
    assert "<Dial" in live_call.twiml and "+14155550100" in live_call.twiml
    call.refresh_from_db()
    assert any(t["role"] == "tool" and t["text"].startswith("transfer(target=sales) → ok") for t in call.ai_transcript)
    assert report.heard[0] == "Hello!"
