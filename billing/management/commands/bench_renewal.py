"""Benchmark the monthly renewal on the configured database (PostgreSQL in production shape).

    python manage.py bench_renewal [--orgs 1000] [--numbers 100000] [--compare-orgs 100]

Creates the orgs, connections, numbers and funds in bulk, runs `renewals_run`, and
prints the elapsed time, what was charged, how many went past due, and the number
of SQL queries. Then it renews two more populations with the same number of orgs
and 10 vs 100 numbers per org, to show the query count does not grow with the
numbers an org has. Every run happens inside a transaction that is rolled back, so
nothing is left behind (the append-only ledger could not be cleaned up otherwise),
and the numbers are due on a date in 2000 so no real number is ever touched.
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.db.models import Sum

from billing.models import LedgerEntry, OrgBalance
from billing.renewals import renewals_run
from orgs.models import Org, ProviderConnection
from phones.models import PhoneNumber

DUE = date(2000, 1, 15)
FEE = 115
# Every SHORT_EVERY-th org is funded for only half its numbers, so some go past due.
SHORT_EVERY = 50


class _Rollback(Exception):
    pass


@dataclass
class Run:
    numbers: int
    seconds: float
    queries: int
    charged: int
    past_due: int
    consistent: bool


class Command(BaseCommand):
    help = "Time the bulk monthly renewal and count its queries (all inside a rolled-back transaction)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--orgs", type=int, default=1000, help="Orgs in the main run (default 1000).")
        parser.add_argument("--numbers", type=int, default=100_000,
                            help="Numbers due for renewal in the main run, spread over the orgs (default 100000).")
        parser.add_argument("--compare-orgs", type=int, default=100,
                            help="Orgs in the two comparison runs (10 and 100 numbers per org).")

    def handle(self, *args, orgs: int, numbers: int, compare_orgs: int, **options) -> None:
        if orgs < 1 or numbers < orgs or compare_orgs < 1:
            raise CommandError("Need --orgs >= 1, --numbers >= --orgs and --compare-orgs >= 1")
        self.stdout.write(f"database: {connection.vendor} {connection.settings_dict.get('NAME')}")
        main = self._run(orgs=orgs, numbers=numbers)
        self.stdout.write(
            f"renewed {main.numbers} numbers over {orgs} orgs in {main.seconds:.2f} s: "
            f"{main.charged} charged, {main.past_due} past_due, {main.queries} SQL queries, "
            f"balance == sum of entries: {'yes' if main.consistent else 'NO'}")
        for per_org in (10, 100):
            run = self._run(orgs=compare_orgs, numbers=compare_orgs * per_org)
            self.stdout.write(
                f"{compare_orgs} orgs x {per_org} numbers/org = {run.numbers} numbers: {run.queries} SQL queries, "
                f"{run.seconds:.2f} s")
        if connection.vendor == "sqlite":
            self.stdout.write("note: SQLite splits bulk statements at 999 parameters, so its query count grows "
                              "with size; measure on PostgreSQL")
        self.stdout.write("all benchmark data rolled back")

    def _run(self, *, orgs: int, numbers: int) -> Run:
        result: Run | None = None
        try:
            with transaction.atomic():
                tag = f"bench-renewal-{uuid.uuid4().hex[:8]}"
                created = self._populate(tag=tag, orgs=orgs, numbers=numbers)
                calls = []

                def count(execute, sql, params, many, context):
                    calls.append(1)
                    return execute(sql, params, many, context)

                started = time.perf_counter()
                with connection.execute_wrapper(count):
                    report = renewals_run(today=DUE)
                seconds = time.perf_counter() - started
                result = Run(numbers=created, seconds=seconds, queries=len(calls), charged=report.numbers_charged,
                             past_due=report.past_due, consistent=self._consistent(tag))
                raise _Rollback
        except _Rollback:
            pass
        assert result is not None
        return result

    def _populate(self, *, tag: str, orgs: int, numbers: int) -> int:
        org_rows = Org.objects.bulk_create(
            [Org(slug=f"{tag}-{i}", name=f"Bench {i}", currency="USD") for i in range(orgs)])
        connections = ProviderConnection.objects.bulk_create([
            ProviderConnection(org=org, type=ProviderConnection.Type.SANDBOX,
                               name="bench", account_id=f"ACbench{org.pk}") for org in org_rows])
        purchased_at = datetime(1999, 12, 15, 9, tzinfo=UTC)
        per_org, extra = divmod(numbers, orgs)
        rows, serial = [], 0
        funds: dict[int, int] = {}
        for index, (org, conn) in enumerate(zip(org_rows, connections)):
            count = per_org + (1 if index < extra else 0)
            funds[org.pk] = FEE * (count // 2 if index % SHORT_EVERY == 0 else count)
            for _ in range(count):
                serial += 1
                rows.append(PhoneNumber(
                    org=org, connection=conn, e164=f"+1999{serial:08d}",
                    country="US", status=PhoneNumber.Status.ACTIVE, monthly_fee=FEE, currency="USD",
                    purchased_at=purchased_at, next_billing_date=DUE))
        PhoneNumber.objects.bulk_create(rows, batch_size=5000)
        OrgBalance.objects.bulk_create([OrgBalance(org_id=pk, balance=amount, currency="USD")
                                        for pk, amount in funds.items()])
        LedgerEntry.objects.bulk_create([
            LedgerEntry(org_id=pk, amount=amount, balance_after=amount,
                        currency="USD", kind=LedgerEntry.Kind.TOPUP, key=f"topup:{tag}:{pk}",
                        description="Top-up: benchmark funds") for pk, amount in funds.items()], batch_size=5000)
        return len(rows)

    def _consistent(self, tag: str) -> bool:
        sums = dict(LedgerEntry.objects.filter(org__slug__startswith=tag).values_list("org_id")
                    .annotate(total=Sum("amount")).values_list("org_id", "total"))
        balances = OrgBalance.objects.filter(org__slug__startswith=tag)
        return all(sums.get(b.org_id) == b.balance >= 0 for b in balances)
