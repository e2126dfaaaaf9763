"""Benchmark: GET /phone/numbers for an org with many numbers.

The numbers are committed and the table vacuumed, as a real org's would be, then deleted at
the end. Other orgs' numbers share the table (--other-orgs × --other-numbers), as on a real
platform: with one org alone, the planner rightly sees no point in its org index. Requests go through
the whole Django stack in-process (JWT auth, org scoping,
serializers); no network is involved.
"""
import random
import statistics
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from orgs.models import Membership, Org, ProviderConnection
from phones.models import PhoneNumber


class Command(BaseCommand):
    help = "Time GET /phone/numbers on an org with --numbers numbers and print p50/p95/p99 and queries per request."

    def add_arguments(self, parser):
        parser.add_argument("--numbers", type=int, default=100_000, help="Numbers of the org listed (default 100000).")
        parser.add_argument("--requests", type=int, default=300,
                            help="GET /phone/numbers requests timed (default 300).")
        parser.add_argument("--other-orgs", type=int, default=10,
                            help="Other orgs whose numbers share the table (default 10).")
        parser.add_argument("--other-numbers", type=int, default=10_000, help="Numbers of each other org.")
        parser.add_argument("--seed", type=int, default=7,
                            help="Random seed: the benchmark orgs' slug prefix and the pages requested (default 7).")

    def handle(self, *args, numbers, requests, seed, other_orgs, other_numbers, **options):
        rng = random.Random(seed)
        prefix = f"bench-list-{rng.randrange(10**9)}"
        try:
            for index in range(other_orgs):
                self._org_with_numbers(f"{prefix}-other{index}", other_numbers, first=10**8 * (index + 1))
            org = self._org_with_numbers(prefix, numbers, first=0)
            client, total = self._prepare(org)
            self._report(client, total, requests, rng)
        finally:
            orgs = Org.objects.filter(slug__startswith=prefix)
            PhoneNumber.objects.filter(org__in=orgs).delete()
            get_user_model().objects.filter(memberships__org__in=orgs).delete()
            orgs.delete()
            self.stdout.write("benchmark data deleted")

    def _org_with_numbers(self, slug: str, count: int, *, first: int) -> Org:
        started = time.perf_counter()
        org = Org.objects.create(slug=slug, name=slug)
        user = get_user_model().objects.create_user(username=slug)
        Membership.objects.create(user=user, org=org, role="owner")
        conn = ProviderConnection.objects.create(org=org, type="sandbox-provider", name="Bench",
                                                 account_id="AC" + "0" * 32)
        purposes = ["sales", "support", "marketing", "ops"]
        batch = []
        for i in range(first, first + count):
            batch.append(PhoneNumber(
                public_id=f"pn_b{i:016d}", org=org, connection=conn, e164=f"+1{200 + i // 10**7}{i % 10**7:07d}",
                friendly_name=f"Line {i}", purpose=purposes[i % 4], country="US",
                status="released" if i % 20 == 0 else "active", monthly_fee=115, provider_sid=f"PN{i:032x}"))
            if len(batch) == 5000:
                PhoneNumber.objects.bulk_create(batch)
                batch = []
        PhoneNumber.objects.bulk_create(batch)
        self.stdout.write(f"{slug}: {count} numbers in {time.perf_counter() - started:.1f} s")
        return org

    def _prepare(self, org: Org) -> tuple[APIClient, int]:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE phones_phonenumber")
        client = APIClient()
        user = org.memberships.get().user
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}",
                           HTTP_ORGID=org.slug)
        return client, PhoneNumber.objects.filter(org=org).exclude(status="released").count()

    def _report(self, client: APIClient, total: int, requests: int, rng: random.Random) -> None:
        for limit in (1, 20, 100):
            with CaptureQueriesContext(connection) as queries:
                response = client.get("/phone/numbers", {"limit": limit})
            assert response.status_code == 200, response.content
            self.stdout.write(f"limit={limit:<3} → {len(response.json()['numbers'])} numbers, "
                              f"{len(queries)} SQL queries per request")
        client.get("/phone/numbers")  # warm up
        samples = []
        for _ in range(requests):
            limit = rng.choice((20, 50, 100))
            params = {"limit": limit, "offset": rng.randrange(0, max(total - limit, 1))}
            if rng.random() < 0.3:
                params["purpose"] = rng.choice(["sales", "support"])
            started = time.perf_counter()
            response = client.get("/phone/numbers", params)
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        samples.sort()
        p = lambda q: samples[min(len(samples) - 1, int(q * len(samples)))]  # noqa: E731
        self.stdout.write(
            f"{requests} requests (random offsets over {total} listed numbers, limit 20/50/100, 30% filtered): "
            f"p50 {p(0.50):.1f} ms, p95 {p(0.95):.1f} ms, p99 {p(0.99):.1f} ms, "
            f"mean {statistics.fmean(samples):.1f} ms")
