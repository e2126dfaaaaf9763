"""Monthly renewal, in bulk: charge every active or past-due number whose period has ended.

Work goes org batch by org batch, each in one transaction:

1. lock the batch's balance rows, ordered by org id (two workers, or a worker and
   a purchase, then wait for each other instead of deadlocking);
2. fetch all their due numbers in one query, locking them with SKIP LOCKED (a
   number being released right now is left for the next run, and we never wait
   on a number while holding balances);
3. work out every charge in Python, oldest period first;
4. write with a constant number of statements: one bulk insert of ledger
   entries, one of usage records, one UPDATE per distinct (status, next date),
   one bulk update of balances.

So the number of queries grows with the number of org batches, not with the
number of numbers an org has. Each charge has the unique key
`monthly:<public_id>:<YYYY-MM of the period start>`; with the balance lock and
the advanced `next_billing_date`, a second run (same day or concurrent) finds
nothing left to charge.

A number its org cannot pay becomes `past_due`. It stays live (it is never
released automatically) and every later run tries again; once paid up to date it
is `active` again. Missed periods are all charged, oldest first: the number was
held for the org throughout.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from billing.models import LedgerEntry, OrgBalance, UsageRecord
from billing.periods import add_months
from billing.services import monthly_key, number_month_key
from orgs.models import Org
from phones.models import PhoneNumber

log = logging.getLogger(__name__)

ORG_BATCH_SIZE = 100


@dataclass
class RenewalReport:
    today: date
    orgs: int = 0
    numbers_charged: int = 0
    periods_charged: int = 0
    amount_charged: dict[str, int] = field(default_factory=dict)
    newly_past_due: int = 0
    past_due: int = 0
    reactivated: int = 0
    skipped_currency_mismatch: int = 0

    def as_dict(self) -> dict:
        return {**asdict(self), "today": self.today.isoformat()}


def _due(today: date) -> QuerySet[PhoneNumber]:
    return PhoneNumber.objects.filter(status__in=PhoneNumber.BILLED_STATUSES, next_billing_date__lte=today)


def renewals_run(*, today: date | None = None, org_batch_size: int = ORG_BATCH_SIZE) -> RenewalReport:
    """Charge every due number once per period; return what happened."""
    today = today or timezone.localdate()
    report = RenewalReport(today=today)
    org_ids = list(_due(today).order_by("org_id").values_list("org_id", flat=True).distinct())
    report.orgs = len(org_ids)
    for start in range(0, len(org_ids), org_batch_size):
        _renew_batch(org_ids=org_ids[start:start + org_batch_size], today=today, report=report)
    log.info("renewals %s", report.as_dict())
    return report


def _lock_balances(org_ids: list[int]) -> dict[int, OrgBalance]:
    locked = {b.org_id: b for b in OrgBalance.objects.select_for_update().filter(org_id__in=org_ids)
              .order_by("org_id")}
    missing = sorted(set(org_ids) - set(locked))
    if missing:
        # An org that was never funded has no row yet: create it at 0 so there is something to lock.
        OrgBalance.objects.bulk_create(
            [OrgBalance(org_id=pk, currency=currency)
             for pk, currency in Org.objects.filter(pk__in=missing).values_list("pk", "currency")],
            ignore_conflicts=True)
        locked.update({b.org_id: b for b in OrgBalance.objects.select_for_update().filter(org_id__in=missing)
                       .order_by("org_id")})
    return locked


def _anchor_day(number: PhoneNumber) -> int:
    if number.purchased_at is not None:
        return timezone.localdate(number.purchased_at).day
    return number.next_billing_date.day


def _due_periods(number: PhoneNumber, today: date) -> list[tuple[date, date]]:
    """The (start, end) of every period that has begun by `today` and is not yet paid for."""
    periods, start, anchor = [], number.next_billing_date, _anchor_day(number)
    while start <= today:
        end = add_months(start, 1, anchor_day=anchor)
        periods.append((start, end))
        start = end
    return periods


def _renew_batch(*, org_ids: list[int], today: date, report: RenewalReport) -> None:
    now = timezone.now()
    with transaction.atomic():
        balances = _lock_balances(org_ids)
        numbers = list(
            _due(today).filter(org_id__in=org_ids).select_for_update(skip_locked=True)
            .order_by("org_id", "next_billing_date", "id")
            .only("id", "public_id", "org_id", "e164", "status", "monthly_fee", "currency", "purchased_at",
                  "next_billing_date"))
        periods = {number.pk: _due_periods(number, today) for number in numbers}
        already_charged = set(LedgerEntry.objects.filter(
            key__in=[monthly_key(n, start) for n in numbers for start, _ in periods[n.pk]],
        ).values_list("key", flat=True))

        entries: list[LedgerEntry] = []
        usage: list[UsageRecord] = []
        moves: dict[tuple[str, date], list[int]] = defaultdict(list)
        changed_balances: dict[int, OrgBalance] = {}
        for number in numbers:
            balance = balances[number.org_id]
            if number.currency != balance.currency:
                log.error("renewal skipped %s: priced in %s, org balance in %s",
                          number.public_id, number.currency, balance.currency)
                report.skipped_currency_mismatch += 1
                continue
            paid_until = number.next_billing_date
            charged = 0
            for start, end in periods[number.pk]:
                key = monthly_key(number, start)
                if key not in already_charged:
                    if balance.balance < number.monthly_fee:
                        break
                    balance.balance -= number.monthly_fee
                    changed_balances[balance.org_id] = balance
                    entries.append(LedgerEntry(
                        org_id=number.org_id, amount=-number.monthly_fee,
                        balance_after=balance.balance, currency=balance.currency, kind=LedgerEntry.Kind.MONTHLY,
                        key=key, phone_number_id=number.pk,
                        description=f"Monthly fee {number.e164}: {start.isoformat()} to {end.isoformat()}",
                        metadata={"periodStart": start.isoformat(), "periodEnd": end.isoformat()}))
                    usage.append(UsageRecord(
                        org_id=number.org_id, phone_number_id=number.pk, kind=UsageRecord.Kind.NUMBER_MONTH,
                        quantity=1, period=start, key=number_month_key(number, start)))
                    charged += 1
                    report.amount_charged[balance.currency] = (
                        report.amount_charged.get(balance.currency, 0) + number.monthly_fee)
                paid_until = end
            status = PhoneNumber.Status.ACTIVE if paid_until > today else PhoneNumber.Status.PAST_DUE
            if (status, paid_until) != (number.status, number.next_billing_date):
                moves[(status, paid_until)].append(number.pk)
            report.periods_charged += charged
            report.numbers_charged += bool(charged)
            report.past_due += status == PhoneNumber.Status.PAST_DUE
            report.newly_past_due += (status, number.status) == (PhoneNumber.Status.PAST_DUE,
                                                                 PhoneNumber.Status.ACTIVE)
            report.reactivated += (status, number.status) == (PhoneNumber.Status.ACTIVE,
                                                              PhoneNumber.Status.PAST_DUE)

        # Not ignore_conflicts: a duplicate key here means the balance arithmetic above is wrong; fail loudly.
        LedgerEntry.objects.bulk_create(entries)
        UsageRecord.objects.bulk_create(usage, ignore_conflicts=True)
        # One UPDATE per distinct outcome: on a normal day that is one or two, however many numbers.
        for (status, next_billing_date), ids in moves.items():
            PhoneNumber.objects.filter(pk__in=ids).update(status=status, next_billing_date=next_billing_date,
                                                          updated_at=now)
        for balance in changed_balances.values():
            balance.updated_at = now
        OrgBalance.objects.bulk_update(list(changed_balances.values()), ["balance", "updated_at"])
