"""The sandbox plays the caller: signed webhooks in-process, the TwiML shown, IVR walked with digits."""
from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from phones.calls.routing import routing_update
from phones.messaging.services import sms_rules_update
from phones.models import Message
from sandbox.models import SandboxAccount, SandboxNumber
from tests.conftest import make_user
from tests.webhooks.conftest import NUMBER, PUBLIC


@pytest.fixture
def emulated(number, sandbox):
    account = SandboxAccount.objects.get(sid=sandbox.credentials["accountSid"])
    return SandboxNumber.objects.create(sid="PN" + "1" * 32, account=account, phone_number=NUMBER, friendly_name="x",
                                        iso_country="US", number_type="local", sms=True,
                                        voice_url=f"{PUBLIC}/connect/webhook/twilio/ivr-menu",
                                        sms_url=f"{PUBLIC}/connect/webhook/twilio/sms")


@pytest.fixture
def flow(number, emulated):
    number.routing_mode = "ivr"
    number.save()
    routing_update(number=number, changes={"ivrFlow": {"entry": "main", "nodes": {
        "main": {"type": "menu", "say": "Press 1 for sales.", "options": {"1": "sub"}},
        "sub": {"type": "menu", "say": "Press 2 to hear goodbye.", "options": {"2": "bye"}},
        "bye": {"type": "hangup", "say": "Goodbye from the flow."}}}})


def test_simulate_sms_prints_the_reply(number, emulated):
    sms_rules_update(number=number, rules=[{"type": "auto-reply", "params": {"template": "Hi from {{orgName}}"}}])
    out = StringIO()
    call_command("simulate_inbound", "sms", "--to", NUMBER, "--body", "hello", stdout=out)
    assert "→ 200" in out.getvalue()
    assert ">Hi from Alice &amp; Co</Message>" in out.getvalue()
    assert Message.objects.filter(direction="inbound", body="hello").exists()


def test_simulate_call_walks_the_ivr_with_digits(flow):
    out = StringIO()
    call_command("simulate_inbound", "call", "--to", NUMBER, "--digits", "1,2", stdout=out)
    text = out.getvalue()
    assert text.count("→ 200") == 3
    assert "Press 1 for sales." in text and "Press 2 to hear goodbye." in text
    assert "Goodbye from the flow." in text
    assert "Then: hung up" in text


def test_a_number_no_sandbox_owns_is_an_error(number):
    with pytest.raises(CommandError, match="No sandbox account owns"):
        call_command("simulate_inbound", "sms", "--to", "+14155550999")


def test_the_staff_page_shows_the_twiml(client, flow):
    staff = make_user("staffer", is_staff=True)
    client.force_login(staff)
    page = client.get("/sandbox/simulate")
    assert page.status_code == 200 and NUMBER in page.content.decode()
    response = client.post("/sandbox/simulate", {"kind": "call", "to": NUMBER, "from_": "+14155550111",
                                                 "digits": "1", "dial_status": ""})
    html = response.content.decode()
    assert "Press 1 for sales." in html and "Press 2 to hear goodbye." in html
    assert "the caller hangs up at a menu" in html


def test_the_staff_page_is_for_staff(client, flow, alice):
    client.force_login(alice)
    assert client.get("/sandbox/simulate").status_code == 302


def test_a_flow_pauses_the_recording_it_started_through_the_providers_api(number, emulated, settings,
                                                                           django_capture_on_commit_callbacks):
    """start-recording runs as TwiML; pause-recording later calls the Recordings API, which the
    sandbox answers for the call it knows: the recording in progress is paused."""
    from sandbox.models import SandboxCall

    settings.PUBLIC_BASE_URL = PUBLIC
    number.routing_mode = "ivr"
    number.save()
    routing_update(number=number, changes={"ivrFlow": {"entry": "record", "nodes": {
        "record": {"type": "start-recording", "next": "main"},
        "main": {"type": "menu", "say": "Press 1 to talk off the record.", "options": {"1": "pause"}},
        "pause": {"type": "pause-recording", "next": "bye"},
        "bye": {"type": "hangup", "say": "Goodbye."}}}})
    with django_capture_on_commit_callbacks(execute=True):
        call_command("simulate_inbound", "call", "--to", NUMBER, "--digits", "1", stdout=StringIO())
    call = SandboxCall.objects.get(direction="inbound", to=NUMBER)
    assert call.recording_sid.startswith("RE")
    assert call.recording_status == "paused"


def test_pausing_a_call_that_is_not_recording_changes_nothing(sandbox, caplog):
    from phones.calls.tasks import set_recording_status

    set_recording_status(connection_id=sandbox.pk, call_sid="CA" + "1" * 32, status="paused")
    assert "could not set the recording" in caplog.text
