from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from phones.broadcasts import throttle


@pytest.fixture(autouse=True)
def broadcast_settings(settings):
    """Batches are run by the tests (no in-process thread), the buckets are this process's, and the
    rates high enough that only the throttle tests wait for them."""
    settings.BROADCAST_IN_PROCESS_RUNNER = False
    settings.BROADCAST_REDIS_URL = ""
    settings.BROADCAST_RATE_LONG_CODE = 1000.0
    settings.BROADCAST_RATE_TOLL_FREE = 1000.0
    settings.BROADCAST_RATE_MESSAGING_SERVICE = 1000.0
    settings.SANDBOX_SENDER_BURST = 1000
    settings.SMS_SEGMENT_PRICE = 1
    settings.MMS_MESSAGE_PRICE = 2
    throttle.reset()
    yield
    throttle.reset()


@pytest.fixture
def create(owner_api, active_number, on_commit):
    """POST /broadcasts from the active number (recipients inline unless said otherwise)."""
    def post(phones=None, **body):
        if phones is not None:
            body["recipients"] = [p if isinstance(p, dict) else {"phone": p} for p in phones]
        body.setdefault("name", "Spring sale")
        body.setdefault("body", "Spring sale: 20% off")
        body.setdefault("from", active_number.e164)
        return on_commit(lambda: owner_api.post("/broadcasts", body, format="json"))
    return post


def run_all(broadcast_id: str) -> None:
    """Send every due recipient of every sender, as the batch tasks would."""
    from phones.broadcasts.models import Broadcast
    from phones.broadcasts.services import broadcast_send_batch

    broadcast = Broadcast.objects.get(public_id=broadcast_id)
    for sender in broadcast.sender_rates:
        while broadcast_send_batch(broadcast_id=broadcast.pk, sender=sender, seconds=30).more:
            pass


def afternoon_in_new_york():
    """19:00 UTC yesterday: inside every North American recipient's window (14:00 or 15:00 in New York,
    11:00 or 12:00 in Los Angeles and Vancouver), and in the past, so what it stamps is due now."""
    return (timezone.now() - timedelta(days=1)).replace(hour=19, minute=0, second=0, microsecond=0)
