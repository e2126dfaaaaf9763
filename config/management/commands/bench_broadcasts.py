"""Benchmark: broadcasts.

1. Checks: --recipients recipients (default 100,000) as a CSV, through broadcast_create: parsed and
   validated, duplicates merged, opted-out removed, segments counted, opt-out language appended, the
   estimate held and the recipients stored. Timed, with its SQL query count, also at a tenth of the
   size, to show the count does not grow with the recipients.
2. Sending: a broadcast through a messaging service whose rate is --rate msg/s (ours and the
   sandbox's, which answers 20429 above it), sent for --duration seconds by --workers processes
   (forked, each with its own database connection, as Celery's prefork workers are) that share the
   sender's token bucket: Redis when REDIS_URL or a Redis broker is set (without it each process has
   its own bucket, and the rate is exceeded: set REDIS_URL). Prints the achieved rate, the 20429s and
   the SQL queries per message.

What it makes is deleted at the end, except its org and that org's ledger entries (append-only).
"""
from __future__ import annotations

import multiprocessing
import random
import time
import uuid
from datetime import datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing.services import ledger_topup
from orgs.models import Membership, Org
from orgs.services import connection_create
from phones.broadcasts import throttle
from phones.broadcasts.models import Broadcast, BroadcastRecipient
from phones.broadcasts.services import broadcast_create, broadcast_pause, broadcast_send_batch
from phones.messaging.services import opt_out_record
from phones.models import Contact, Conversation, Message, OptOut
from sandbox.messaging import sandbox_messaging_service_create
from sandbox.models import SandboxAccount, SandboxMessage

# Places whose 08:00–21:00 windows cover the day between them; the sending part texts the one open now.
PLACES = (("America/New_York", "+1212{:07d}", 2_000_000), ("Europe/London", "+4420{:08d}", 70_000_000),
          ("Asia/Tokyo", "+813{:08d}", 12_340_000))


def _open_place() -> tuple[str, int]:
    def left(zone: str) -> float:
        now = datetime.now(ZoneInfo(zone))
        hours = now.hour + now.minute / 60
        return 21 - hours if 8 <= hours < 21 else -1
    _, pattern, first = max(PLACES, key=lambda place: left(place[0]))
    return pattern, first


class Command(BaseCommand):
    help = "Time a broadcast's checks for 100,000 recipients and its sending at a configured rate."

    def add_arguments(self, parser):
        parser.add_argument("--recipients", type=int, default=100_000)
        parser.add_argument("--rate", type=float, default=100.0, help="The sender's rate, msg/s (default 100).")
        parser.add_argument("--duration", type=float, default=60.0, help="Seconds of sending (default 60).")
        parser.add_argument("--workers", type=int, default=4, help="Worker processes sending (default 4).")
        parser.add_argument("--only-send", action="store_true", help="Skip the checks part.")
        parser.add_argument("--only-checks", action="store_true", help="Skip the sending part.")

    def handle(self, *args, recipients, rate, duration, workers, only_send, only_checks, **options):
        # The benchmark's workers send; no in-process runner (eager Celery's stand-in) may send beside them.
        settings.BROADCAST_IN_PROCESS_RUNNER = False
        slug = f"bench-bcast-{uuid.uuid4().hex[:8]}"
        org = Org.objects.create(slug=slug, name=slug)
        user = get_user_model().objects.create_user(username=slug)
        Membership.objects.create(user=user, org=org, role="owner")
        conn = connection_create(org=org, type_="sandbox-provider", name="Bench", credentials={})
        account = SandboxAccount.objects.get(sid=conn.account_id)
        service = sandbox_messaging_service_create(account=account, friendly_name="Bench")
        conn.public_config = {**conn.public_config, "messagingServiceSid": service.sid}
        conn.save(update_fields=["public_config"])
        ledger_topup(org=org, amount=900_000_000, reason="benchmark")
        try:
            self.stdout.write(f"database: {connection.vendor}; throttle: "
                              f"{'Redis' if settings.BROADCAST_REDIS_URL else 'in-process'}")
            if not only_send:
                self._checks(org, recipients)
            if not only_checks:
                self._send(org, rate, duration, workers)
        finally:
            self._clean(org, account, user)

    # ------------------------------------------------------------ 1. checks

    def _checks(self, org: Org, count: int) -> None:
        rng = random.Random(7)
        numbers = [f"+1212{2_000_000 + i:07d}" for i in range(count)]
        for e164 in rng.sample(numbers, count // 100):  # 1% opted out
            opt_out_record(org=org, e164=e164, keyword="STOP", number=None)
        Contact.objects.bulk_create([Contact(org=org, e164=e164, first_name="Ann") for e164 in numbers[:count // 10]])
        for size in (count // 10, count):
            rows = ["phone,firstName,city"]
            for i, e164 in enumerate(numbers[:size]):
                rows.append(f"{e164 if i % 50 else 'not-a-number'},Pat{i % 97},New York")
            rows += rows[1:size // 100]  # 1% duplicates
            csv_text = "\n".join(rows)
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                broadcast = broadcast_create(
                    org=org, name=f"bench {size}", body="Hi {{firstName}}, our {{city}} store has 20% off today",
                    media_urls=[], numbers=[], messaging_service=True, csv_text=csv_text,
                    scheduled_at=timezone.now() + timedelta(days=1))
                elapsed = time.perf_counter() - started
            self.stdout.write(
                f"checks: {size:>7} rows → {broadcast.recipient_count} recipients ({broadcast.invalid_count} invalid, "
                f"{broadcast.duplicate_count} duplicates, {broadcast.opted_out_count} opted out), "
                f"{broadcast.segments_total} segments {broadcast.encoding}, estimate {broadcast.estimated_cost} "
                f"{broadcast.currency}: {elapsed:.2f} s, {len(queries)} SQL queries"
                + (" + 1 COPY of the recipients" if connection.vendor == "postgresql" else ""))

    # ------------------------------------------------------------ 2. sending

    def _send(self, org: Org, rate: float, duration: float, workers: int) -> None:
        settings.BROADCAST_RATE_MESSAGING_SERVICE = rate
        settings.SANDBOX_MESSAGING_SERVICE_RATE = rate
        settings.SANDBOX_SENDER_BURST = 1
        throttle.reset()
        pattern, first = _open_place()
        total = int(rate * duration * 1.3) + 50
        inline = [{"phone": pattern.format(first + i)} for i in range(total)]
        broadcast = broadcast_create(org=org, name="bench send", body="Our store has 20% off today", media_urls=[],
                                     numbers=[], messaging_service=True, inline=inline, quiet_start=clock(8),
                                     quiet_end=clock(21), scheduled_at=timezone.now() + timedelta(days=1))
        sender = next(iter(broadcast.sender_rates))
        Broadcast.objects.filter(pk=broadcast.pk).update(status=Broadcast.Status.SENDING, scheduled_at=timezone.now())
        BroadcastRecipient.objects.filter(broadcast=broadcast).update(next_attempt_at=timezone.now())
        stop_at = time.time() + duration
        connections.close_all()  # each worker process opens its own
        throttle.reset()
        results = multiprocessing.get_context("fork").Queue()

        def work() -> None:
            queries = 0

            def count(execute, sql, params, many, context):
                nonlocal queries
                queries += 1
                return execute(sql, params, many, context)
            with connection.execute_wrapper(count):
                while time.time() < stop_at:
                    broadcast_send_batch(broadcast_id=broadcast.pk, sender=sender, limit=50,
                                         seconds=max(stop_at - time.time(), 0))
            connection.close()
            results.put(queries)

        processes = [multiprocessing.get_context("fork").Process(target=work) for _ in range(workers)]
        started = time.monotonic()
        for process in processes:
            process.start()
        queries = sum(results.get() for _ in processes)
        for process in processes:
            process.join()
        elapsed = time.monotonic() - started
        broadcast_pause(broadcast=broadcast)
        sent = BroadcastRecipient.objects.filter(broadcast=broadcast, status="sent")
        first_sent, last_sent = (sent.order_by("sent_at").values_list("sent_at", flat=True).first(),
                                 sent.order_by("-sent_at").values_list("sent_at", flat=True).first())
        n = sent.count()
        refused = BroadcastRecipient.objects.filter(broadcast=broadcast, error_code="20429").count()
        span = (last_sent - first_sent).total_seconds() if n > 1 else elapsed
        self.stdout.write(
            f"send: configured {rate:g} msg/s for {duration:g} s with {workers} workers: {n} sent in {elapsed:.1f} s "
            f"= {n / elapsed:.1f} msg/s overall, {(n - 1) / span if n > 1 else 0:.1f} msg/s first to last; "
            f"20429 answers: {refused}; SQL queries per message: {queries / max(n, 1):.1f}")

    def _clean(self, org: Org, account: SandboxAccount, user) -> None:
        BroadcastRecipient.objects.filter(broadcast__org=org).delete()
        Broadcast.objects.filter(org=org).delete()
        Message.objects.filter(org=org).delete()
        Conversation.objects.filter(org=org).delete()
        Contact.objects.filter(org=org).delete()
        OptOut.objects.filter(org=org).delete()
        SandboxMessage.objects.filter(account=account).delete()
        account.delete()
        user.delete()
        # The ledger is append-only (a database trigger refuses deletes), so the org stays with its entries.
        self.stdout.write(f"benchmark data deleted, except org {org.slug} and its ledger (append-only)")
