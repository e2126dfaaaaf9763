"""Benchmark verify on one big org against the sandbox.

    python manage.py bench_verify [--numbers 10000]

Creates an org on a fresh sandbox account and bulk-creates its numbers on both sides (the
sandbox's IncomingPhoneNumbers and our PhoneNumber rows), some drifted: a changed voice URL,
a TwiML application, a wrong status-callback method, numbers gone at the provider and numbers
only there; a messaging service holds some with a verified A2P campaign. Then it runs
`verify_run` once and prints the elapsed seconds and the requests the provider client sent,
counted at the sandbox's HTTP client. Everything happens in a transaction that is rolled back,
so nothing is left behind.
"""
from __future__ import annotations

import contextlib
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from orgs.models import Org
from orgs.services import connection_create
from phones.models import PhoneNumber
from phones.provider_webhooks import webhook_url
from phones.verify.services import verify_run
from sandbox.client import SandboxHttpClient
from sandbox.messaging import sandbox_a2p_campaign_set, sandbox_messaging_service_create
from sandbox.models import SandboxAccount, SandboxNumber, SandboxServiceNumber, new_sid

# One in DRIFT_EVERY numbers has each kind of drift; GONE numbers are only here, EXTRA only there.
DRIFT_EVERY = 50
GONE = 20
EXTRA = 20
IN_SERVICE = 1000
APP_SID = "AP" + "0" * 32


class _Rollback(Exception):
    pass


@contextlib.contextmanager
def counted_requests() -> Iterator[Counter]:
    """Count the SDK's requests by kind at the sandbox client, the one door they all go through."""
    counts: Counter = Counter()
    original = SandboxHttpClient.request

    def request(self, method, url, *args, **kwargs):
        counts["inventory" if "/IncomingPhoneNumbers" in url else "messaging" if "/v1/" in url else "other"] += 1
        return original(self, method, url, *args, **kwargs)

    SandboxHttpClient.request = request
    try:
        yield counts
    finally:
        SandboxHttpClient.request = original


class Command(BaseCommand):
    help = "Time verify over one org's numbers in the sandbox and count the provider requests it makes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--numbers", type=int, default=10_000,
                            help=f"Numbers of the org verified, some drifted (default 10000, at least {2 * GONE}).")

    def handle(self, *args, numbers: int, **options) -> None:
        if numbers < 2 * GONE:
            raise CommandError(f"--numbers must be at least {2 * GONE}")
        try:
            with transaction.atomic():
                self._run(numbers)
                raise _Rollback
        except _Rollback:
            self.stdout.write("Rolled back: nothing was kept.")

    def _run(self, count: int) -> None:
        started = time.perf_counter()
        org = Org.objects.create(slug=f"bench-verify-{uuid.uuid4().hex[:8]}", name="Verify benchmark")
        connection = connection_create(org=org, type_="sandbox-provider", name="Bench", credentials={})
        account = SandboxAccount.objects.get(sid=connection.account_id)
        self._populate(org, connection, account, count)
        self.stdout.write(f"Populated {count} numbers in {time.perf_counter() - started:.1f} s")

        with counted_requests() as requests:
            started = time.perf_counter()
            report = verify_run(org=org, progress=lambda p: None)
            elapsed = time.perf_counter() - started
        s = report.summary
        self.stdout.write(f"verify: {s['checked']} numbers in {elapsed:.2f} s")
        self.stdout.write(f"  inventory requests: {requests['inventory']} (IncomingPhoneNumbers pages of 1000)")
        self.stdout.write(f"  messaging requests: {requests['messaging']}; other: {requests['other']}")
        self.stdout.write(f"  ok {s['ok']}, drifted {s['drifted']}, overridden {s['overridden']}, missing "
                          f"{s['missing']}, importable {s['importable']}; reasons {s['reasons']}; a2p {s['a2p']}")

    def _populate(self, org: Org, connection, account: SandboxAccount, count: int) -> None:
        purchased = timezone.now() - timedelta(days=3)
        # 555 exchanges: fictional numbers that can't collide with what the sandbox sells.
        e164s = [f"+1{200 + i // 10_000:03d}555{i % 10_000:04d}" for i in range(count + EXTRA)]
        taken = set(SandboxNumber.objects.filter(phone_number__in=e164s).values_list("phone_number", flat=True))
        taken |= set(PhoneNumber.objects.filter(e164__in=e164s).values_list("e164", flat=True))
        if taken:
            raise CommandError(f"{len(taken)} benchmark numbers already exist (e.g. {min(taken)})")
        at_provider, ours = [], []
        for i, e164 in enumerate(e164s):
            sid = new_sid("PN")
            if i < count:
                ours.append(PhoneNumber(
                    org=org, connection=connection, e164=e164, provider_sid=sid,
                    country="US", status=PhoneNumber.Status.ACTIVE, monthly_fee=115, purchased_at=purchased,
                    next_billing_date=(purchased + timedelta(days=30)).date()))
            if i < GONE:
                continue  # recorded here, gone at the provider
            at_provider.append(SandboxNumber(
                sid=sid, account=account, phone_number=e164, friendly_name=e164, iso_country="US",
                number_type="local", sms=True,
                voice_url="https://old.example.com/voice" if i % DRIFT_EVERY == 1 else webhook_url("voice"),
                voice_application_sid=APP_SID if i % DRIFT_EVERY == 2 else "", sms_url=webhook_url("sms"),
                status_callback=webhook_url("status"),
                status_callback_method="GET" if i % DRIFT_EVERY == 3 else "POST"))
        PhoneNumber.objects.bulk_create(ours, batch_size=2000)
        created = SandboxNumber.objects.bulk_create(at_provider, batch_size=2000)
        service = sandbox_messaging_service_create(account=account, friendly_name="Bench pool")
        sandbox_a2p_campaign_set(service=service, status="VERIFIED")
        members = SandboxNumber.objects.filter(sid__in=[n.sid for n in created[:IN_SERVICE]])
        SandboxServiceNumber.objects.bulk_create([SandboxServiceNumber(service=service, number=n) for n in members])
