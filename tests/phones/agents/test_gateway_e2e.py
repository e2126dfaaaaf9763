"""End to end, as a user walks it: an agent, a number bought for it with {country, agentId}, a
simulated call (sandbox.simulate: the signed voice webhook, then the media stream over a real
socket to the gateway served by uvicorn, the sandbox's realtime AI behind it) that asks to be
transferred, and the transcript read through the API."""
from __future__ import annotations

import pytest
from django.core.management import call_command

from phones.models import PhoneNumber
from sandbox.models import SandboxCall
from tests.phones.agents.gateway_helpers import LiveServer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded_prices")]


@pytest.fixture
def live(settings):
    with LiveServer() as server:
        settings.PUBLIC_BASE_URL = server.url
        settings.SANDBOX_AI_BASE_URL = ""  # the default: PUBLIC_BASE_URL's /sandbox/ai/v1
        settings.SANDBOX_AI_PACE = 0.2
        yield server


def test_buy_for_an_agent_call_transfer_read_the_transcript(live, owner_api, on_commit, sandbox, funded, agent,
                                                            capsys):
    response = on_commit(lambda: owner_api.post("/phone/numbers", {"country": "US", "agentId": agent.public_id},
                                                format="json"))
    assert response.status_code == 202, response.json()
    number = PhoneNumber.objects.get(public_id=response.json()["number"]["id"])
    assert number.status == "active" and number.agent == agent

    call_command("simulate_inbound", "call", "--to", number.e164, "--from", "+14155550123",
                 "--say", "I want sales", "--pace", "0.2")
    out = capsys.readouterr().out
    assert "heard: Hello!" in out
    assert "tool: transfer(target=sales) → ok" in out
    assert "Then: dials Number +14155550100" in out

    live_call = SandboxCall.objects.get(to=number.e164)
    assert "<Dial" in live_call.twiml and "+14155550100" in live_call.twiml
    calls = owner_api.get(f"/phone/numbers/{number.public_id}/calls").json()["data"]
    assert len(calls) == 1
    detail = owner_api.get(f"/calls/{calls[0]['id']}").json()
    assert detail["agentId"] == agent.public_id and detail["aiStatus"] == "ended"
    assert [(t["role"], t["text"]) for t in detail["transcript"]] == [
        ("agent", "Hello!"), ("caller", "I want sales"), ("tool", "transfer(target=sales) → ok")]
    assert all(t["at"].endswith("Z") for t in detail["transcript"])


def test_the_staff_page_walks_an_ai_call(live, client, active_number, agent):
    from tests.conftest import make_user

    active_number.agent = agent
    active_number.save(update_fields=["agent"])
    client.force_login(make_user("staffer", is_staff=True))
    response = client.post("/sandbox/simulate", {"kind": "call", "to": active_number.e164, "from_": "+14155550123",
                                                 "say": "what are your hours\n"})
    page = response.content.decode()
    assert response.status_code == 200, page[-2000:]
    assert "heard: Hello!" in page
    assert "<th>caller</th><td>what are your hours</td>" in page


@pytest.mark.parametrize("case", ["unreachable", "mid-call"])
def test_no_dead_air_the_caller_hears_the_apology_and_the_fallback(live, settings, active_number, agent, org,
                                                                  sandbox, capsys, case):
    from tests.phones.agents.gateway_helpers import free_port

    active_number.agent = agent
    active_number.save(update_fields=["agent"])
    system = PhoneNumber.objects.create(org=org, connection=sandbox, e164="+14155550177", status="active",
                                        is_system=True, country="US")
    if case == "unreachable":
        settings.SANDBOX_AI_BASE_URL = f"http://127.0.0.1:{free_port()}/sandbox/ai/v1"  # nothing listens
    call_command("simulate_inbound", "call", "--to", active_number.e164, "--from", "+14155550123",
                 "--say", "this will fail", "--pace", "0.2")
    out = capsys.readouterr().out
    # After the stream, the provider follows the <Redirect>: the apology, then the number's fallback
    # as voice routing has it (nobody assigned: the system phone).
    assert "Sorry, our assistant is not available right now." in out
    assert f"Then: dials Number {system.e164}" in out
    assert "(AI failed" in out
