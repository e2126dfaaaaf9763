"""Each sender's rate: a token bucket shared by every worker (Redis), and the sandbox's 20429 for a
sender that goes faster than the carrier allows."""
from __future__ import annotations

import time
import uuid
from unittest import mock

import pytest

from phones.broadcasts import throttle
from phones.broadcasts.models import BroadcastRecipient
from phones.broadcasts.throttle import LocalBuckets, RedisBuckets
from providers.base import ProviderError
from providers.registry import provider_for
from sandbox.models import SandboxMessage
from tests.conftest import needs
from tests.phones.broadcasts.conftest import afternoon_in_new_york, run_all

NY, LA, VANCOUVER, TORONTO = "+12125550123", "+13105550123", "+16045550123", "+16135550123"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_bucket_gives_one_token_per_interval_and_says_how_long_to_wait():
    clock = Clock()
    buckets = LocalBuckets(clock)
    assert buckets.try_take("+1", rate=2.0, burst=1) == 0
    assert buckets.try_take("+1", rate=2.0, burst=1) == pytest.approx(0.5)
    assert buckets.try_take("+2", rate=2.0, burst=1) == 0  # each sender has its own
    clock.now += 0.25
    assert buckets.try_take("+1", rate=2.0, burst=1) == pytest.approx(0.25)
    clock.now += 0.25
    assert buckets.try_take("+1", rate=2.0, burst=1) == 0
    clock.now += 10  # an idle sender saves up no more than the burst
    assert buckets.try_take("+1", rate=2.0, burst=1) == 0
    assert buckets.try_take("+1", rate=2.0, burst=1) > 0


def _redis_url(settings) -> str:
    url = settings.CELERY_BROKER_URL
    if not url.startswith("redis"):
        needs("Redis (CELERY_BROKER_URL=redis://…)")
    return url


def test_two_workers_share_one_rate_through_redis(settings):
    url = _redis_url(settings)
    first, second = RedisBuckets(url), RedisBuckets(url)  # two processes' clients
    sender = f"test-{uuid.uuid4().hex}"
    taken, started = 0, time.monotonic()
    while time.monotonic() - started < 1.0:
        for buckets in (first, second):
            if buckets.try_take(sender, 20.0, 1) == 0:
                taken += 1
    assert 18 <= taken <= 22  # 20 a second between them, not 20 each


def test_a_lease_keeps_one_chain_of_batches_per_sender():
    buckets = LocalBuckets(Clock())
    assert buckets.lease("b:+1", "chain-a", 60)
    assert buckets.lease("b:+1", "chain-a", 60)  # a redelivered batch of the same chain goes on
    assert not buckets.lease("b:+1", "chain-b", 60)
    buckets.release("b:+1", "chain-a")
    assert buckets.lease("b:+1", "chain-b", 60)


def test_the_sandbox_answers_20429_to_a_sender_over_its_rate(active_number, settings):
    settings.SANDBOX_SENDER_BURST = 1
    provider = provider_for(active_number.connection)
    provider.send_sms(to=NY, body="one", from_=active_number.e164)
    provider.send_sms(to=LA, body="two", from_=active_number.e164)
    with pytest.raises(ProviderError) as refused:
        provider.send_sms(to=VANCOUVER, body="three", from_=active_number.e164)
    assert (refused.value.code, refused.value.status, refused.value.permanent) == (20429, 429, False)
    assert SandboxMessage.objects.count() == 2


def test_a_throttled_long_code_sends_at_one_a_second_and_is_never_refused(create, settings):
    settings.SANDBOX_SENDER_BURST = 1
    settings.BROADCAST_RATE_LONG_CODE = 1.0  # the default for a long code
    noon = afternoon_in_new_york()
    with mock.patch("phones.broadcasts.services.timezone.now", return_value=noon):
        created = create([NY, LA, VANCOUVER, TORONTO]).json()
    assert created["senderRates"] == {created["senders"][0]: 1.0}
    started = time.monotonic()
    with mock.patch("phones.broadcasts.quiet_hours.is_open", return_value=True):
        run_all(created["id"])
    elapsed = time.monotonic() - started
    assert SandboxMessage.objects.count() == 4
    assert set(BroadcastRecipient.objects.values_list("status", "error_code")) == {("sent", "")}  # no 20429
    assert elapsed >= 2.9  # four texts at one a second: three intervals


def test_a_sender_run_faster_than_the_carrier_allows_is_refused_and_retried(create, settings):
    settings.SANDBOX_SENDER_BURST = 1
    settings.BROADCAST_RATE_LONG_CODE = 1000.0  # misconfigured: far above the carrier's 1/s
    with mock.patch("phones.broadcasts.quiet_hours.is_open", return_value=True):
        created = create([NY, LA, VANCOUVER, TORONTO]).json()
        run_all(created["id"])
    assert SandboxMessage.objects.count() == 2
    refused = BroadcastRecipient.objects.filter(status="pending")
    assert refused.count() == 2
    assert set(refused.values_list("error_code", flat=True)) == {"20429"}  # retried later, not failed
    throttle.reset()
