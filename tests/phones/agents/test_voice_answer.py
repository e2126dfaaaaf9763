"""A call to a number attached to an agent, or an IVR ai-assistant node naming one, is answered
with <Connect><Stream> to our gateway carrying a token the gateway accepts; an org at its AI call
limit, or an AI that failed, goes to the number's fallback."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from orgs.services import connection_create
from phones.calls.routing import routing_update
from phones.models import Agent, Call, PhoneNumber
from phones.stream_tokens import read_stream_token
from tests.webhooks.conftest import CALLER, NUMBER, PUBLIC, children, twiml
from tests.webhooks.test_plivo import xml

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def public_base_url(settings):
    settings.PUBLIC_BASE_URL = PUBLIC
VOICE = f"{PUBLIC}/connect/webhook/twilio/voice"
IVR = f"{PUBLIC}/connect/webhook/twilio/ivr-menu"


def sid(n: int) -> str:
    return "CA" + f"{n:032x}"


def stream_of(root: ET.Element) -> tuple[str, dict[str, str]]:
    stream = root.find("Connect/Stream")
    assert stream is not None, ET.tostring(root)
    return stream.get("url"), {p.get("name"): p.get("value") for p in stream.findall("Parameter")}


@pytest.fixture
def attached(number, agent) -> PhoneNumber:
    number.agent = agent
    number.save()
    return number


def test_an_agent_number_streams_to_our_gateway(twilio, attached, agent):
    root = twiml(twilio.call(call_sid=sid(1)))
    assert [tag for tag, _, _ in children(root)] == ["Connect", "Redirect"]
    url, params = stream_of(root)
    assert url == "wss://app.example.com/media/stream"
    assert params["agentId"] == agent.public_id and params["callSid"] == sid(1)
    claims = read_stream_token(params["token"])
    assert claims is not None
    assert (claims["org"], claims["number"], claims["agent"], claims["call"]) == (
        attached.org_id, attached.pk, agent.pk, sid(1))
    assert root.find("Redirect").text == f"{VOICE}?after=ai"
    assert root.find("Connect/Stream").get("bidirectionalMode") is None  # Telnyx's attribute only
    call = Call.objects.get(provider_sid=sid(1))
    assert (call.agent, call.ai_status, call.from_number) == (agent, "connecting", CALLER)


def test_ws_when_the_public_url_is_http(twilio, attached, settings):
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    # (the webhook is signed for the URL Twilio used: PUBLIC; only the stream's URL follows the setting)
    response = twilio.post("voice", {"CallSid": sid(2), "From": CALLER, "To": NUMBER, "CallStatus": "ringing"},
                           signed_url="http://127.0.0.1:8000/connect/webhook/twilio/voice")
    url, _ = stream_of(twiml(response))
    assert url == "ws://127.0.0.1:8000/media/stream"


def test_a_tampered_token_is_not_accepted(twilio, attached):
    _, params = stream_of(twiml(twilio.call(call_sid=sid(3))))
    token = params["token"]
    assert read_stream_token(token[:-2] + ("AA" if token[-2:] != "AA" else "BB")) is None
    assert read_stream_token("") is None and read_stream_token("not a token") is None


def test_over_the_limit_the_caller_gets_the_fallback(twilio, attached, agent, settings):
    settings.AI_MAX_CONCURRENT_CALLS = 1
    assert twiml(twilio.call(call_sid=sid(4))).find("Connect") is not None
    # The same webhook again (a retry) does not count itself.
    assert twiml(twilio.call(call_sid=sid(4))).find("Connect") is not None
    busy = twiml(twilio.call(call_sid=sid(5)))
    assert busy.find("Connect") is None
    assert children(busy) == [("Say", {}, "Sorry, nobody is available to take your call. Please try again later. "
                                           "Goodbye."), ("Hangup", {}, "")]
    assert Call.objects.get(provider_sid=sid(5)).ai_status == ""
    # The first call ends: the next caller gets the agent again.
    Call.objects.filter(provider_sid=sid(4)).update(ai_status="ended")
    assert twiml(twilio.call(call_sid=sid(6))).find("Connect") is not None


def test_the_limit_is_per_org(twilio, attached, settings, other_org):
    settings.AI_MAX_CONCURRENT_CALLS = 1
    theirs = connection_create(org=other_org, type_="sandbox-provider", name="x", credentials={})
    Call.objects.create(org=other_org, direction="inbound", from_number=CALLER, to_number="+14155550999",
                        provider_sid=sid(7), status="in-progress", ai_status="active")
    assert theirs.org == other_org
    assert twiml(twilio.call(call_sid=sid(8))).find("Connect") is not None


def test_over_the_limit_a_number_with_a_system_phone_forwards(twilio, attached, settings, org, sandbox):
    settings.AI_MAX_CONCURRENT_CALLS = 0
    PhoneNumber.objects.create(org=org, connection=sandbox, e164="+14155550177", country="US",
                               status=PhoneNumber.Status.ACTIVE, is_system=True)
    root = twiml(twilio.call(call_sid=sid(9)))
    assert root.find("Dial/Number").text == "+14155550177"


def test_after_the_stream_a_normal_end_hangs_up(twilio, attached):
    twilio.call(call_sid=sid(10))
    Call.objects.filter(provider_sid=sid(10)).update(ai_status="ended")
    assert children(twiml(twilio.call(query="after=ai", call_sid=sid(10), CallStatus="in-progress"))) == [
        ("Hangup", {}, "")]


def test_after_a_failure_an_apology_then_the_voicemail(twilio, attached, number):
    number.configuration = {"voiceConfig": {"voicemailEnabled": True, "voicemailGreeting": "Leave a message."}}
    number.save()
    twilio.call(call_sid=sid(11))
    Call.objects.filter(provider_sid=sid(11)).update(ai_status="failed")
    root = twiml(twilio.call(query="after=ai", call_sid=sid(11), CallStatus="in-progress"))
    tags = [tag for tag, _, _ in children(root)]
    assert tags[:2] == ["Say", "Say"] and "Record" in tags and "Connect" not in tags
    assert root.find("Say").text == "Sorry, our assistant is not available right now."


def test_a_number_without_an_agent_is_unchanged(twilio, number):
    assert twiml(twilio.call(call_sid=sid(12))).find("Connect") is None


def test_another_orgs_agent_is_never_used(twilio, number, other_org):
    ai = connection_create(org=other_org, type_="sandbox-ai", name="AI", credentials={})
    theirs = Agent.objects.create(org=other_org, name="Theirs", connection=ai)
    PhoneNumber.objects.filter(pk=number.pk).update(agent=theirs)  # not possible through the API
    assert twiml(twilio.call(call_sid=sid(13))).find("Connect") is None


# ---------------------------------------------------------------- IVR

@pytest.fixture
def ivr(number, agent):
    number.routing_mode = "ivr"
    number.save()
    routing_update(number=number, changes={"ivrFlow": {"entry": "main", "fallback": "bye", "nodes": {
        "main": {"type": "menu", "say": "Press 1 for our assistant, 2 for our partner's.",
                 "options": {"1": "ours", "2": "theirs", "3": "last"}},
        "ours": {"type": "ai-assistant", "agentId": agent.public_id, "next": "bye"},
        "last": {"type": "ai-assistant", "agentId": agent.public_id},
        "theirs": {"type": "ai-assistant", "url": "wss://voice.example.com/stream", "parameters": {"p": "1"}},
        "bye": {"type": "hangup", "say": "Goodbye."},
    }}})
    return number


def test_an_ivr_node_hands_the_call_to_the_agent(twilio, ivr, agent):
    root = twiml(twilio.call("ivr-menu", query="node=main&attempt=1", call_sid=sid(20), Digits="1",
                             CallStatus="in-progress"))
    url, params = stream_of(root)
    assert url == "wss://app.example.com/media/stream"
    assert read_stream_token(params["token"])["agent"] == agent.pk
    assert root.find("Redirect").text == f"{IVR}?node=bye&after=ai"
    assert Call.objects.get(provider_sid=sid(20)).agent == agent


def test_an_external_stream_url_stays_allowed(twilio, ivr):
    root = twiml(twilio.call("ivr-menu", query="node=main&attempt=1", call_sid=sid(21), Digits="2",
                             CallStatus="in-progress"))
    url, params = stream_of(root)
    assert url == "wss://voice.example.com/stream" and params["p"] == "1" and "token" not in params


def test_after_a_failed_node_the_next_node_follows_an_apology(twilio, ivr):
    twilio.call("ivr-menu", query="node=main&attempt=1", call_sid=sid(22), Digits="1", CallStatus="in-progress")
    Call.objects.filter(provider_sid=sid(22)).update(ai_status="failed")
    root = twiml(twilio.call("ivr-menu", query="node=bye&after=ai", call_sid=sid(22), CallStatus="in-progress"))
    assert children(root) == [("Say", {}, "Sorry, our assistant is not available right now."),
                              ("Say", {}, "Goodbye."), ("Hangup", {}, "")]


def test_a_last_node_failure_goes_to_the_flows_fallback(twilio, ivr):
    twilio.call("ivr-menu", query="node=main&attempt=1", call_sid=sid(23), Digits="3", CallStatus="in-progress")
    Call.objects.filter(provider_sid=sid(23)).update(ai_status="failed")
    root = twiml(twilio.call("voice", query="after=ai", call_sid=sid(23), CallStatus="in-progress"))
    assert children(root) == [("Say", {}, "Sorry, our assistant is not available right now."),
                              ("Say", {}, "Goodbye."), ("Hangup", {}, "")]


def test_an_ivr_node_over_the_limit_moves_on(twilio, ivr, settings):
    settings.AI_MAX_CONCURRENT_CALLS = 0
    root = twiml(twilio.call("ivr-menu", query="node=main&attempt=1", call_sid=sid(24), Digits="1",
                             CallStatus="in-progress"))
    assert children(root) == [("Say", {}, "Goodbye."), ("Hangup", {}, "")]


@pytest.mark.parametrize("node, field", [
    ({"type": "ai-assistant", "agentId": "agt_nope"}, "ivrFlow.nodes.a.agentId"),
    ({"type": "ai-assistant"}, "ivrFlow.nodes.a.agentId"),
    ({"type": "ai-assistant", "agentId": "x", "url": "wss://x.example.com"}, "ivrFlow.nodes.a.agentId"),
])
def test_ivr_agent_nodes_are_checked(owner_api, number, node, field):
    response = owner_api.put(f"/phone/numbers/{number.public_id}/routing",
                             {"ivrFlow": {"entry": "a", "nodes": {"a": node}}}, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["field"] == field


def test_another_orgs_agent_in_a_flow_is_refused(owner_api, number, other_org):
    ai = connection_create(org=other_org, type_="sandbox-ai", name="AI", credentials={})
    theirs = Agent.objects.create(org=other_org, name="Theirs", connection=ai)
    response = owner_api.put(f"/phone/numbers/{number.public_id}/routing", {"ivrFlow": {"entry": "a", "nodes": {
        "a": {"type": "ai-assistant", "agentId": theirs.public_id}}}}, format="json")
    assert response.status_code == 400


def test_a_call_that_ends_before_its_stream_frees_its_slot(twilio, attached, settings):
    settings.AI_MAX_CONCURRENT_CALLS = 1
    twilio.call(call_sid=sid(30))
    assert twilio.post("status", {"CallSid": sid(30), "From": CALLER, "To": NUMBER, "CallStatus": "completed",
                                  "CallDuration": "3", "Direction": "inbound"}).status_code == 204
    call = Call.objects.get(provider_sid=sid(30))
    assert call.ai_status == "ended" and call.ai_ended_at is not None
    assert twiml(twilio.call(call_sid=sid(31))).find("Connect") is not None


def test_plivo_answers_with_a_bidirectional_mulaw_stream(plivo, plivo_number, org, agent, settings):
    plivo_number.agent = agent
    plivo_number.save()
    root = xml(plivo.call())
    stream = root.find("Stream")
    assert stream is not None, ET.tostring(root)
    assert stream.text == "wss://app.example.com/media/stream"
    assert (stream.get("bidirectional"), stream.get("contentType")) == ("true", "audio/x-mulaw;rate=8000")
    headers = dict(pair.split("=", 1) for pair in stream.get("extraHeaders").split(","))
    claims = read_stream_token(headers["token"])
    assert claims is not None and claims["number"] == plivo_number.pk and claims["agent"] == agent.pk
    assert root.find("Redirect").text == f"{PUBLIC}/connect/webhook/plivo/voice?after=ai"


def test_telnyx_answers_with_the_same_texml_stream(telnyx, telnyx_number, agent):
    telnyx_number.agent = agent
    telnyx_number.save()
    response = telnyx.texml("voice", {"CallSid": "v3:ai", "AccountSid": "telnyx-account", "From": CALLER,
                                      "To": telnyx_number.e164, "CallStatus": "ringing", "Direction": "inbound"})
    assert response.status_code == 200, response.content
    url, params = stream_of(ET.fromstring(response.content))
    assert url == "wss://app.example.com/media/stream"
    assert read_stream_token(params["token"])["call"] == "v3:ai"
    assert ET.fromstring(response.content).find("Redirect").text == f"{PUBLIC}/connect/webhook/telnyx/voice?after=ai"
    # Telnyx plays what we send back as PCMU over RTP only when told (its default is MP3 files).
    stream = ET.fromstring(response.content).find("Connect/Stream")
    assert (stream.get("bidirectionalMode"), stream.get("bidirectionalCodec")) == ("rtp", "PCMU")
