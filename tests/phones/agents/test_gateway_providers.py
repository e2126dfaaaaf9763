"""Telnyx and Plivo AI calls through the same gateway, end to end: the provider's voice webhook
answers with its stream markup, the provider's side of the stream (sandbox.realtime_caller in that
provider's dialect, from its documented start/media/dtmf/stop messages) talks to /media/stream, the
sandbox's realtime AI answers through the openai SDK, and a transfer reaches the provider's API
(an httpx.MockTransport answering with the documented bodies: everything above it runs for real).
Plivo then fetches the transfer's XML from the link it was given, as it would."""
from __future__ import annotations

import importlib
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import httpx
import pytest
from asgiref.sync import async_to_sync

from phones.models import Call, Message
from tests.phones.agents.gateway_helpers import LiveServer, run_caller
from tests.providers.test_plivo import FakeApi, fixture
from tests.webhooks.conftest import PUBLIC
from tests.webhooks.test_plivo import AUTH_ID, CALL_UUID
from tests.webhooks.test_plivo import xml as plivo_xml
from tests.webhooks.test_telnyx import CALLER as TELNYX_CALLER

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded_prices")]

TELNYX_SID = "v3:9X2vxPDFY2RHSJ1EdMS0RHRksMTg7ldNxdjWbVr9zBjbGjGsSe-aiQ"  # Telnyx's documented CallSid
TELNYX_UPDATE = f"/v2/texml/calls/{TELNYX_SID}/update"
TELNYX_MESSAGES = "/v2/messages"
PLIVO_TRANSFER = f"/v1/Account/{AUTH_ID}/Call/{CALL_UUID}/"
PLIVO_MESSAGES = f"/v1/Account/{AUTH_ID}/Message/"


@pytest.fixture
def live(settings):
    with LiveServer() as server:
        settings.PUBLIC_BASE_URL = PUBLIC  # what the providers sign their requests over
        settings.SANDBOX_AI_BASE_URL = f"{server.url}/sandbox/ai/v1"
        settings.SANDBOX_AI_PACE = 0.2
        yield server


@pytest.fixture
def provider_api(monkeypatch) -> FakeApi:
    """Telnyx's and Plivo's APIs at the HTTP boundary: the clients are the real ones, their httpx
    client given a MockTransport."""
    api = (FakeApi().on("POST", TELNYX_UPDATE, (200, fixture("telnyx", "texml_call_update")))
           .on("POST", TELNYX_MESSAGES, (200, fixture("telnyx", "message")))
           .on("POST", PLIVO_TRANSFER, (202, fixture("plivo", "call_transfer")))
           .on("DELETE", PLIVO_TRANSFER, (204, None))
           .on("POST", PLIVO_MESSAGES, (202, fixture("plivo", "message_send"))))
    for name in ("providers.telnyx.client", "providers.plivo.client"):
        real = importlib.import_module(name).http_client
        monkeypatch.setattr(f"{name}.http_client",
                            lambda real=real, **kw: real(**{**kw, "transport": httpx.MockTransport(api)}))
    return api


def left_after(api: FakeApi, method: str, path: str):
    """The provider ends the stream once the call was given new markup (or ended)."""
    async def left() -> str:
        return "the call was transferred" if api.sent(method, path) else ""
    return left


def turns(call: Call) -> list[tuple[str, str]]:
    return [(t["role"], t["text"]) for t in call.ai_transcript]


# ---------------------------------------------------------------- Telnyx


def telnyx_answer(telnyx, telnyx_number) -> tuple[ET.Element, dict[str, str]]:
    response = telnyx.texml("voice", {"CallSid": TELNYX_SID, "AccountSid": "f5586561-8ff0-4291-a51b-c7dfe4139ff9",
                                      "From": TELNYX_CALLER, "To": telnyx_number.e164, "CallStatus": "ringing",
                                      "Direction": "inbound"})
    assert response.status_code == 200, response.content
    stream = ET.fromstring(response.content).find("Connect/Stream")
    assert stream is not None, response.content
    return stream, {p.get("name"): p.get("value") for p in stream.findall("Parameter")}


def test_telnyx_a_call_is_answered_relayed_transferred_and_transcribed(live, provider_api, telnyx, telnyx_number,
                                                                       agent):
    telnyx_number.agent = agent
    telnyx_number.save(update_fields=["agent"])
    stream, parameters = telnyx_answer(telnyx, telnyx_number)
    # Telnyx plays back what we send as RTP in PCMU only when told so (its default is MP3).
    assert (stream.get("bidirectionalMode"), stream.get("bidirectionalCodec")) == ("rtp", "PCMU")
    assert urlsplit(stream.get("url")).path == "/media/stream"
    call = Call.objects.get(provider_sid=TELNYX_SID)

    seen: list[dict] = []
    report = async_to_sync(run_caller)(call, dialect="telnyx", parameters=parameters, seen=seen,
                                       account_sid="f5586561-8ff0-4291-a51b-c7dfe4139ff9",
                                       say=["transfer me to sales please"],
                                       left_stream=left_after(provider_api, "POST", TELNYX_UPDATE))

    # The AI's audio came back in Telnyx's words: media {payload} and marks, no stream id.
    assert report.closed_code is None and report.heard[0] == "Hello!"
    assert {m["event"] for m in seen} == {"media", "mark"}
    assert all(set(m) == {"event", "media"} and set(m["media"]) == {"payload"} for m in seen if m["event"] == "media")
    assert all(set(m) == {"event", "mark"} for m in seen if m["event"] == "mark")
    assert report.marks_echoed >= 1
    # The transfer replaced the call's TeXML at Telnyx, by its CallSid, with the Dial to the target.
    [update] = provider_api.sent("POST", TELNYX_UPDATE)
    assert update.headers["Authorization"] == "Bearer KEY0123"
    texml = ET.fromstring(provider_api.body("POST", TELNYX_UPDATE)["Texml"])
    dial = texml.find("Dial")
    assert (dial.get("callerId"), dial.find("Number").text) == (telnyx_number.e164, "+14155550100")
    assert report.ended == "the call was transferred"
    call.refresh_from_db()
    assert call.ai_status == "ended" and call.agent == agent
    assert turns(call) == [("agent", "Hello!"), ("caller", "transfer me to sales please"),
                           ("tool", "transfer(target=sales) → ok")]


def test_telnyx_a_refused_transfer_is_told_to_the_model_and_the_call_goes_on(live, provider_api, telnyx,
                                                                            telnyx_number, agent):
    provider_api.routes[("POST", TELNYX_UPDATE)] = [(422, fixture("telnyx", "error_422"))]
    telnyx_number.agent = agent
    telnyx_number.save(update_fields=["agent"])
    _, parameters = telnyx_answer(telnyx, telnyx_number)
    call = Call.objects.get(provider_sid=TELNYX_SID)
    report = async_to_sync(run_caller)(call, dialect="telnyx", parameters=parameters, digits=["0"])
    assert len(provider_api.sent("POST", TELNYX_UPDATE)) == 1
    call.refresh_from_db()
    assert turns(call)[1] == ("caller", "(pressed 0)")
    assert turns(call)[2][1].startswith("transfer(target=sales) → error: ")
    # The model, told, speaks again; the stream was never handed off.
    assert report.heard[-1].startswith("Sorry, I could not do that.")
    assert report.ended == "the caller hung up"


# ---------------------------------------------------------------- Plivo


def plivo_answer(plivo) -> tuple[ET.Element, dict[str, str]]:
    stream = plivo_xml(plivo.call()).find("Stream")
    assert stream is not None
    headers = dict(pair.split("=", 1) for pair in stream.get("extraHeaders").split(","))
    return stream, headers


def test_plivo_a_call_is_answered_relayed_transferred_and_transcribed(live, provider_api, plivo, plivo_number,
                                                                      agent):
    plivo_number.agent = agent
    plivo_number.save(update_fields=["agent"])
    stream, headers = plivo_answer(plivo)
    assert (stream.get("bidirectional"), stream.get("contentType")) == ("true", "audio/x-mulaw;rate=8000")
    call = Call.objects.get(provider_sid=CALL_UUID)

    seen: list[dict] = []
    report = async_to_sync(run_caller)(call, dialect="plivo", parameters=headers, seen=seen,
                                       account_sid=AUTH_ID, say=["transfer me to sales please"],
                                       left_stream=left_after(provider_api, "POST", PLIVO_TRANSFER))

    # The AI's audio came back in Plivo's words: playAudio (μ-law 8 kHz) and checkpoints.
    assert report.closed_code is None and report.heard[0] == "Hello!"
    assert {m["event"] for m in seen} == {"playAudio", "checkpoint"}
    assert all(m["media"]["contentType"] == "audio/x-mulaw" and m["media"]["sampleRate"] == 8000
               for m in seen if m["event"] == "playAudio")
    assert all(set(m) == {"event", "streamId", "name"} and m["streamId"] == report.stream_sid
               for m in seen if m["event"] == "checkpoint")
    # The transfer: Plivo's Transfer Call API on the A leg, to a link of ours on Plivo's webhooks.
    assert provider_api.body("POST", PLIVO_TRANSFER)["legs"] == "aleg"
    assert provider_api.body("POST", PLIVO_TRANSFER)["aleg_method"] == "POST"
    aleg_url = provider_api.body("POST", PLIVO_TRANSFER)["aleg_url"]
    assert aleg_url.startswith(f"{PUBLIC}/connect/webhook/plivo/markup?")
    assert report.ended == "the call was transferred"
    call.refresh_from_db()
    assert call.ai_status == "ended" and call.agent == agent
    assert turns(call) == [("agent", "Hello!"), ("caller", "transfer me to sales please"),
                           ("tool", "transfer(target=sales) → ok")]

    # Plivo fetches the new XML from that link, signed as its other requests: the Dial, in Plivo XML.
    root = plivo_xml(plivo.call("markup", query=urlsplit(aleg_url).query, CallStatus="in-progress"))
    dial = root.find("Dial")
    assert (dial.get("callerId"), dial.find("Number").text) == (plivo_number.e164, "+14155550100")
    assert root.find("Stream") is None


def test_plivo_barge_in_clears_and_truncates_at_the_checkpoints_played(live, provider_api, plivo, plivo_number,
                                                                       agent):
    from sandbox import realtime

    agent.greeting = " ".join(["This is a long greeting that goes on"] * 4)
    agent.save(update_fields=["greeting"])
    plivo_number.agent = agent
    plivo_number.save(update_fields=["agent"])
    _, headers = plivo_answer(plivo)
    call = Call.objects.get(provider_sid=CALL_UUID)
    seen: list[dict] = []
    report = async_to_sync(run_caller)(call, dialect="plivo", parameters=headers, seen=seen,
                                       say=["what are your hours"], interrupt_after_ms=600)
    assert report.clears == 1
    assert [m for m in seen if m["event"] == "clearAudio"] == [{"event": "clearAudio", "streamId": report.stream_sid}]
    session = next(s for s in reversed(realtime.RECENT) if s["truncated"])
    # Plivo sends back only the checkpoints really played (none of those the clear dropped).
    assert 600 <= session["truncated"][0]["audio_end_ms"] < 1000
    call.refresh_from_db()
    assert next(t for t in call.ai_transcript if t["role"] == "agent")["interrupted"] is True
    assert ("caller", "what are your hours") in turns(call)
    assert provider_api.sent("POST", PLIVO_TRANSFER) == []


# ---------------------------------------------------------------- the other tools, on both


@pytest.fixture
def streamed(request, telnyx, telnyx_number, plivo, plivo_number, agent):
    """(the call, the Stream's parameters, the dialect) of a call to an agent's number on the
    provider the test is parametrized with, as its voice webhook answered it."""
    provider = request.param
    number = telnyx_number if provider == "telnyx" else plivo_number
    number.agent = agent
    number.save(update_fields=["agent"])
    if provider == "telnyx":
        _, parameters = telnyx_answer(telnyx, number)
        return Call.objects.get(provider_sid=TELNYX_SID), parameters, provider
    _, parameters = plivo_answer(plivo)
    return Call.objects.get(provider_sid=CALL_UUID), parameters, provider


@pytest.mark.parametrize(("tool", "words", "line"), [
    ("hangup", "goodbye", "hangup(reason=the caller said goodbye) → ok"),
    # end_call: the call ends once the agent's last words were played (the provider's marks or checkpoints).
    ("end_call", "bye now", "end_call(reason=the caller said goodbye) → ok")])
@pytest.mark.parametrize("streamed", ["telnyx", "plivo"], indirect=True)
def test_hangup_and_end_call_end_the_call_at_the_provider(live, provider_api, streamed, agent, tool, words, line):
    call, parameters, dialect = streamed
    agent.tools = [tool]
    agent.save(update_fields=["tools"])
    method, path = ("POST", TELNYX_UPDATE) if dialect == "telnyx" else ("DELETE", PLIVO_TRANSFER)
    report = async_to_sync(run_caller)(call, dialect=dialect, parameters=parameters, say=[words],
                                       left_stream=left_after(provider_api, method, path))
    assert len(provider_api.sent(method, path)) == 1
    if dialect == "telnyx":
        assert provider_api.body(method, path) == {"Status": "completed"}
    assert report.ended == "the call was transferred"  # (the provider ended the stream)
    call.refresh_from_db()
    assert turns(call)[-1] == ("tool", line)
    assert call.ai_status == "ended"


@pytest.mark.parametrize("streamed", ["telnyx", "plivo"], indirect=True)
def test_a_text_to_the_caller_goes_through_the_providers_send_path(live, provider_api, streamed, agent):
    call, parameters, dialect = streamed
    agent.tools = ["send_sms"]
    agent.save(update_fields=["tools"])
    report = async_to_sync(run_caller)(call, dialect=dialect, parameters=parameters,
                                       say=["please text me the address"])
    body = "Here is the information you asked for."
    if dialect == "telnyx":
        assert provider_api.body("POST", TELNYX_MESSAGES) == {
            "to": call.from_number, "from": call.to_number, "text": body,
            "webhook_url": f"{PUBLIC}/connect/webhook/telnyx/status"}
    else:
        sent = provider_api.body("POST", PLIVO_MESSAGES)
        assert (sent["dst"], sent["src"], sent["text"]) == (call.from_number, call.to_number, body)
    assert report.heard[-1] == "Done."
    assert Message.objects.filter(to_number=call.from_number, direction="outbound", body=body).count() == 1


@pytest.mark.parametrize("streamed", ["telnyx", "plivo"], indirect=True)
def test_a_stream_with_a_forged_token_is_closed_with_nothing_written(live, provider_api, streamed):
    from billing.models import UsageRecord
    from sandbox import realtime

    call, parameters, dialect = streamed
    token = parameters["token"]
    parameters = {**parameters, "token": token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")}
    before = realtime.RECENT[-1] if realtime.RECENT else None
    report = async_to_sync(run_caller)(call, dialect=dialect, parameters=parameters, say=["hello"])
    assert report.closed_code == 1008 and report.frames_heard == 0
    call.refresh_from_db()
    assert (call.ai_status, call.ai_transcript, call.ai_seconds) == ("connecting", [], 0)  # as the answer left it
    assert not UsageRecord.objects.filter(kind="ai_second").exists()
    assert (realtime.RECENT[-1] if realtime.RECENT else None) is before  # no AI session was opened
    assert provider_api.requests == []
