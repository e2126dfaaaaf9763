"""A broadcast on a real Celery worker (Redis broker, PostgreSQL), whose pool process is killed
mid-broadcast and replaced: every recipient is texted exactly once."""
from __future__ import annotations

import os
import signal
import subprocess
from collections import Counter
from datetime import time

import pytest

from billing.services import ledger_topup
from orgs.services import connection_create
from phones.broadcasts.models import Broadcast, BroadcastRecipient
from phones.broadcasts.services import broadcast_create
from sandbox.messaging import sandbox_messaging_service_create
from sandbox.models import SandboxAccount, SandboxMessage
from tests.phones.test_worker import queue, start_worker, stop, wait_for  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
RECIPIENTS = 120


# Three places whose 08:00–21:00 windows cover the whole day between them (in UTC: New York 13–02,
# London 08–21, Tokyo 23–12); the test texts the one with most of its window left, so it runs at any hour.
PLACES = (("America/New_York", "+1212200{:04d}"), ("Europe/London", "+44207946{:04d}"),
          ("Asia/Tokyo", "+8131234{:04d}"))


def _place() -> str:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    def left(zone: str) -> float:
        now = datetime.now(ZoneInfo(zone))
        hours = now.hour + now.minute / 60
        return 21 - hours if 8 <= hours < 21 else -1
    return max(PLACES, key=lambda place: left(place[0]))[1]


def _recipients(pattern: str) -> list[dict]:
    return [{"phone": pattern.format(i)} for i in range(RECIPIENTS)]


def test_a_worker_killed_mid_broadcast_sends_no_recipient_twice_and_skips_none(org, settings, start_worker,  # noqa: F811
                                                                                monkeypatch):
    settings.BROADCAST_RATE_MESSAGING_SERVICE = 20.0
    for name, value in (("SANDBOX_MESSAGING_SERVICE_RATE", "20"), ("BROADCAST_CLAIM_SECONDS", "3"),
                        ("BROADCAST_BATCH_SIZE", "1000")):
        monkeypatch.setenv(name, value)
    conn = connection_create(org=org, type_="sandbox-provider", name="Sandbox", credentials={})
    service = sandbox_messaging_service_create(account=SandboxAccount.objects.get(sid=conn.account_id),
                                               friendly_name="Bulk")
    conn.public_config = {**conn.public_config, "messagingServiceSid": service.sid}
    conn.save(update_fields=["public_config"])
    ledger_topup(org=org, amount=100_000, reason="test funds")
    worker = start_worker()
    recipients = _recipients(_place())
    broadcast = broadcast_create(org=org, name="Kill test", body="Big sale today", media_urls=[], numbers=[],
                                 messaging_service=True, inline=recipients, quiet_start=time(8), quiet_end=time(21))
    # Let it get going, then kill the pool process that runs the batch (the task is not acked).
    wait_for(lambda: SandboxMessage.objects.count() >= 30, timeout=60, what="the first texts")
    children = subprocess.run(["pgrep", "-P", str(worker.pid)], capture_output=True, text=True).stdout.split()
    assert children, "the worker has no pool process"
    for child in children:
        os.kill(int(child), signal.SIGKILL)
    killed_at = SandboxMessage.objects.count()
    assert killed_at < RECIPIENTS, "the broadcast ended before the kill"

    wait_for(lambda: Broadcast.objects.get(pk=broadcast.pk).status == "completed", timeout=120,
             what="the broadcast to complete after the kill")
    sent = Counter(SandboxMessage.objects.values_list("to", flat=True))
    assert max(sent.values()) == 1, "a recipient was texted twice"
    assert set(sent) == {r["phone"] for r in recipients}, "a recipient was skipped"
    assert set(BroadcastRecipient.objects.values_list("status", flat=True)) == {"sent"}
    broadcast.refresh_from_db()
    assert broadcast.settled_cost == RECIPIENTS * broadcast.unit_price
    log = stop(worker)
    assert "send_batch" in log
