"""The inbound call's row written behind the request (core.write_behind, WRITE_BEHIND_MS > 0) on
PostgreSQL: the webhook answers without inserting it, the process's writer inserts it within the
interval, a duplicate SID changes nothing, a normal exit inserts what is still queued, a row that
fails does not take the others with it, and an agent's call is still stored in the request."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from core import write_behind
from phones.models import Call, PhoneNumber
from tests.phones.agents.conftest import agent, ai_connection  # noqa: F401  (an org's agent)
from tests.webhooks.conftest import CALLER, NUMBER, twiml

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

FLOW = {"entry": "main", "nodes": {"main": {"type": "menu", "say": "Press 1.", "options": {"1": "bye"}},
                                   "bye": {"type": "hangup", "say": "Goodbye."}}}


@pytest.fixture(autouse=True)
def writer(settings, monkeypatch):
    """A writer of the test's own, stopped (its thread's connection closed) at the end."""
    settings.WRITE_BEHIND_MS = 20
    fresh = write_behind.Writer()
    monkeypatch.setattr(write_behind, "_writer", fresh)
    yield fresh
    fresh.stop()


@pytest.fixture
def ivr(number):
    number.routing_mode = "ivr"
    number.save()
    number.routing.ivr_flow = FLOW
    number.routing.save()
    return number


def sid(n: int) -> str:
    return "CA" + f"{n:032x}"


def row(number: PhoneNumber, call_sid: str, status: str = "ringing") -> Call:
    return Call(org_id=number.org_id, phone_number=number, direction="inbound", from_number=CALLER,
                to_number=NUMBER, provider_sid=call_sid, status=status)


def landed(*sids: str, timeout: float = 5.0) -> list[Call]:
    deadline = time.monotonic() + timeout
    while True:
        calls = list(Call.objects.filter(provider_sid__in=sids).order_by("provider_sid"))
        if len(calls) == len(sids) or time.monotonic() > deadline:
            return calls
        time.sleep(0.01)


def test_the_ivr_webhook_answers_without_inserting_and_the_row_lands_within_the_interval(twilio, ivr):
    with CaptureQueriesContext(connection) as queries:
        root = twiml(twilio.call("ivr-menu", call_sid=sid(1)))
    assert root.find("Gather") is not None
    assert not [q for q in queries.captured_queries if "phones_call" in q["sql"]]
    [call] = landed(sid(1))
    assert (call.org_id, call.phone_number_id, call.direction, call.from_number, call.to_number, call.status) == (
        ivr.org_id, ivr.pk, "inbound", CALLER, NUMBER, "ringing")
    assert call.public_id.startswith("call_") and call.created_at is not None
    assert not write_behind.writer().queued


def test_a_voice_mode_call_is_written_behind_too(twilio, number):
    twiml(twilio.call("voice", call_sid=sid(2)))
    assert [c.provider_sid for c in landed(sid(2))] == [sid(2)]


def test_a_duplicate_sid_changes_nothing(number, writer):
    Call.objects.create(org_id=number.org_id, phone_number=number, direction="inbound", from_number=CALLER,
                        to_number=NUMBER, provider_sid=sid(3), status="completed")
    writer.stopping.set()  # no thread: the test flushes
    for call_sid, status in ((sid(3), "ringing"), (sid(4), "ringing"), (sid(4), "in-progress")):
        write_behind.insert_later(row(number, call_sid, status), unique="provider_sid")
    assert writer.flush() == 3
    assert {c.provider_sid: c.status for c in Call.objects.filter(phone_number=number)} == {
        sid(3): "completed", sid(4): "ringing"}


def test_a_row_that_fails_is_dropped_alone(number, org, sandbox, writer, caplog):
    gone = PhoneNumber.objects.create(org=org, connection=sandbox, e164="+14155550199", country="US",
                                      status=PhoneNumber.Status.ACTIVE)
    writer.stopping.set()
    write_behind.insert_later(row(number, sid(5)), unique="provider_sid")
    write_behind.insert_later(row(gone, sid(6)), unique="provider_sid")
    write_behind.insert_later(row(number, sid(7)), unique="provider_sid")
    gone.delete()  # its row now violates the foreign key
    assert writer.flush() == 3
    assert sorted(Call.objects.values_list("provider_sid", flat=True)) == [sid(5), sid(7)]
    assert "row dropped" in caplog.text


def test_inside_a_transaction_or_when_off_the_row_is_inserted_at_once(number, settings):
    with transaction.atomic():
        write_behind.insert_later(row(number, sid(8)), unique="provider_sid")
        assert Call.objects.filter(provider_sid=sid(8)).exists()
    settings.WRITE_BEHIND_MS = 0
    write_behind.insert_later(row(number, sid(9)), unique="provider_sid")
    assert Call.objects.filter(provider_sid=sid(9)).exists()
    assert not write_behind.writer().queued


def test_a_full_queue_inserts_at_once(number, writer, monkeypatch):
    writer.stopping.set()
    monkeypatch.setattr(write_behind, "MAX_QUEUED", 1)
    write_behind.insert_later(row(number, sid(10)), unique="provider_sid")
    write_behind.insert_later(row(number, sid(11)), unique="provider_sid")
    assert list(Call.objects.values_list("provider_sid", flat=True)) == [sid(11)]
    assert writer.flush() == 1
    assert Call.objects.count() == 2


def test_an_agents_call_is_stored_and_claimed_in_the_request(twilio, number, agent):  # noqa: F811
    """The agent's claim updates the row next, and the gateway reads it when the stream opens."""
    number.agent = agent
    number.save()
    twiml(twilio.call("voice", call_sid=sid(12)))
    call = Call.objects.get(provider_sid=sid(12))
    assert (call.agent_id, call.ai_status) == (agent.pk, "connecting")


EXITING = """
import os, sys
import django
django.setup()
from core.write_behind import insert_later
from phones.models import Call
insert_later(Call(org_id=int(sys.argv[1]), phone_number_id=int(sys.argv[2]), direction="inbound",
                  from_number="+14155550111", to_number="+14155550100", provider_sid=sys.argv[3],
                  status="ringing"), unique="provider_sid")
sys.exit(0)
"""


def test_a_process_that_exits_inserts_what_it_queued_first(number):
    """A normal exit (gunicorn's graceful stop, max-requests recycling) runs the writer's atexit."""
    db = django_settings.DATABASES["default"]
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "WRITE_BEHIND_MS": "60000", "DEBUG": "true",
           "DJANGO_SETTINGS_MODULE": "config.settings"}
    done = subprocess.run([sys.executable, "-c", EXITING, str(number.org_id), str(number.pk), sid(13)], env=env,
                          cwd=Path(django_settings.BASE_DIR), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert Call.objects.filter(provider_sid=sid(13), phone_number=number).exists()
