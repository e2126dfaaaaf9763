"""The media gateway end to end: a Twilio-shaped caller on /media/stream, the gateway, the openai
SDK's realtime client, the sandbox's realtime AI over a real WebSocket."""
from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync

from billing.models import UsageRecord
from phones.messaging.services import opt_out_record
from phones.models import Call, Message
from sandbox import realtime
from tests.phones.agents.gateway_helpers import LiveServer, ai_call, free_port, run_caller, signed_headers, token_for

# Threads (the gateway's database calls) need committed rows; the migration's prices are seeded again.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded_prices")]


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


def _tool_lines(call: Call) -> list[str]:
    return [t["text"] for t in call.ai_transcript if t["role"] == "tool"]


def test_hangup_ends_the_call_at_the_provider(live, agent_number, agent):
    agent.tools = ["hangup"]
    agent.save(update_fields=["tools"])
    call, live_call = ai_call(agent_number)
    async_to_sync(run_caller)(call, say=["goodbye"])
    live_call.refresh_from_db()
    assert live_call.status == "completed"
    call.refresh_from_db()
    assert _tool_lines(call) == ["hangup(reason=the caller said goodbye) → ok"]


def test_end_call_hangs_up_once_the_last_words_played(live, agent_number, agent):
    agent.tools = ["end_call"]
    agent.save(update_fields=["tools"])
    call, live_call = ai_call(agent_number)
    async_to_sync(run_caller)(call, say=["bye now"])
    live_call.refresh_from_db()
    assert live_call.status == "completed"


def test_a_text_to_the_caller_goes_through_the_send_path(live, agent_number, agent):
    agent.tools = ["send_sms"]
    agent.save(update_fields=["tools"])
    call, live_call = ai_call(agent_number)
    report = async_to_sync(run_caller)(call, say=["please text me the address"])
    sent = live_call.account.messages.get(to=call.from_number)
    assert (sent.from_number, sent.body) == (agent_number.e164, "Here is the information you asked for.")
    assert report.heard[-1] == "Done."
    assert Message.objects.filter(org=agent_number.org, to_number=call.from_number, direction="outbound").count() == 1


def test_no_text_to_an_opted_out_caller_and_the_model_is_told(live, agent_number, agent):
    agent.tools = ["send_sms"]
    agent.save(update_fields=["tools"])
    opt_out_record(org=agent_number.org, e164="+14155550111", keyword="STOP", number=agent_number)
    call, live_call = ai_call(agent_number)
    report = async_to_sync(run_caller)(call, say=["please text me the address"])
    assert not live_call.account.messages.filter(to=call.from_number).exists()
    call.refresh_from_db()
    assert _tool_lines(call)[0].startswith("send_sms(body=Here is the information you asked for.) → error: "
                                           "+14155550111 has opted out")
    # The model hears the refusal and tells the caller in its own words; the gateway says nothing itself.
    assert report.heard[-1].startswith("Sorry, I could not do that.")


def test_barge_in_clears_the_provider_and_truncates_at_what_was_played(live, agent_number, agent):
    agent.greeting = " ".join(["This is a long greeting that goes on"] * 4)
    agent.save(update_fields=["greeting"])
    call, _ = ai_call(agent_number)
    report = async_to_sync(run_caller)(call, say=["what are your hours"], interrupt_after_ms=600)
    assert report.clears == 1
    session = next(s for s in reversed(realtime.RECENT) if s["truncated"])
    truncated = session["truncated"][0]["audio_end_ms"]
    # What the caller had played when it spoke (600 ms) plus what played while its first words
    # reached the AI's voice detection (a frame or two), never the whole greeting.
    assert 600 <= truncated < 1000
    call.refresh_from_db()
    greeting = next(t for t in call.ai_transcript if t["role"] == "agent")
    assert greeting["interrupted"] is True


def test_max_call_length_ends_the_call(live, agent_number, agent):
    agent.max_call_seconds = 1
    agent.save(update_fields=["max_call_seconds"])
    call, live_call = ai_call(agent_number)
    async_to_sync(run_caller)(call, say=["what are your hours", "and tomorrow"], max_seconds=6)
    live_call.refresh_from_db()
    assert live_call.status == "completed"
    call.refresh_from_db()
    assert call.ai_status == "ended" and call.ai_seconds <= 2


# ---------------------------------------------------------------- the upgrade's security


@pytest.mark.parametrize("case", ["missing", "forged", "expired", "other_call", "other_org", "bad_signature"])
def test_a_stream_that_is_not_ours_is_closed_with_nothing_written(live, agent_number, other_org, case):
    call, _ = ai_call(agent_number)
    token, headers = token_for(call), signed_headers(agent_number)
    if case == "missing":
        token = ""
    elif case == "forged":
        token = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    elif case == "expired":
        token = token_for(call, ttl_seconds=-1)
    elif case == "other_call":
        token = token_for(call, call_sid="CA" + "1" * 32)
    elif case == "other_org":
        token = token_for(call, org_id=other_org.pk)
    elif case == "bad_signature":
        headers = [(b"x-twilio-signature", b"bm90IHRoZSBzaWduYXR1cmU=")]
    before = realtime.RECENT[-1] if realtime.RECENT else None
    report = async_to_sync(run_caller)(call, token=token, headers=headers, say=["hello"])
    assert report.closed_code == 1008
    assert report.frames_heard == 0
    call.refresh_from_db()
    assert (call.ai_status, call.ai_transcript, call.agent_id, call.ai_seconds) == ("", [], None, 0)
    assert not UsageRecord.objects.filter(kind="ai_second").exists()
    assert (realtime.RECENT[-1] if realtime.RECENT else None) is before  # no AI session was opened


# ---------------------------------------------------------------- failures


def test_ai_unreachable_the_call_is_marked_failed_and_handed_back(live, agent_number, settings):
    settings.SANDBOX_AI_BASE_URL = f"http://127.0.0.1:{free_port()}/sandbox/ai/v1"  # nothing listens
    call, live_call = ai_call(agent_number)
    report = async_to_sync(run_caller)(call, say=["hello"])
    # The gateway closes the stream (normally): the provider goes on with the verb after <Connect>,
    # our voice webhook's apology and fallback (tests/phones/agents/test_gateway_e2e.py follows it).
    assert report.ended == "the gateway closed the stream" and report.closed_code == 1000  # a normal close
    assert report.frames_heard == 0
    call.refresh_from_db()
    assert call.ai_status == "failed"
    assert not UsageRecord.objects.filter(kind="ai_second").exists()


def test_ai_failing_mid_call_is_marked_failed_and_handed_back_once(live, agent_number):
    call, _ = ai_call(agent_number)
    report = async_to_sync(run_caller)(call, say=["this will fail"])
    assert report.ended == "the gateway closed the stream"
    assert report.heard[0] == "Hello!"
    call.refresh_from_db()
    assert call.ai_status == "failed"
    assert call.ai_transcript[-1]["text"] == "the AI session failed"
    assert UsageRecord.objects.filter(key=f"ai:{call.provider_sid}").count() == 1


def test_caller_hanging_up_mid_answer_closes_the_ai_session_and_records_usage_once(live, agent_number, agent):
    agent.greeting = " ".join(["A greeting long enough to hang up in the middle of"] * 3)
    agent.save(update_fields=["greeting"])
    call, _ = ai_call(agent_number)
    report = async_to_sync(run_caller)(call, say=[], max_seconds=1.5)
    assert report.ended.startswith("hung up after")
    call.refresh_from_db()
    assert call.ai_status == "ended" and call.ai_ended_at is not None
    usage = UsageRecord.objects.get(kind="ai_second")
    assert usage.quantity == call.ai_seconds >= 1
    # The AI side saw its socket closed by the gateway.
    session = realtime.RECENT[-1]
    assert session["closed"] is True


def test_a_key_pressed_reaches_the_model(live, agent_number):
    call, live_call = ai_call(agent_number)
    async_to_sync(run_caller)(call, digits=["0"])
    live_call.refresh_from_db()
    assert "+14155550100" in live_call.twiml  # 0: the emulator's transfer key
    call.refresh_from_db()
    assert [(t["role"], t["text"]) for t in call.ai_transcript][1:] == [
        ("caller", "(pressed 0)"), ("tool", "transfer(target=sales) → ok")]


def test_the_realtime_session_is_configured_from_the_agent(live, agent_number, agent):
    agent.instructions, agent.voice, agent.language = "You answer for Acme.", "verse", "fr"
    agent.tools = ["transfer", "send_sms"]
    agent.save()
    call, _ = ai_call(agent_number)
    async_to_sync(run_caller)(call, say=[])
    session = realtime.RECENT[-1]
    assert session["events"][:2] == ["session.update", "response.create"]  # configured, then the greeting
    config = session["session"]
    assert config["instructions"].startswith("You answer for Acme.") and "fr" in config["instructions"]
    assert config["audio"]["input"]["format"] == {"type": "audio/pcmu"}
    assert config["audio"]["output"] == {"format": {"type": "audio/pcmu"}, "voice": "verse"}
    assert config["audio"]["input"]["turn_detection"]["type"] == "server_vad"
    assert config["audio"]["input"]["transcription"]["language"] == "fr"
    assert [t["name"] for t in config["tools"]] == ["transfer", "send_sms"]
    assert config["tools"][0]["parameters"]["properties"]["target"]["enum"] == ["sales"]
