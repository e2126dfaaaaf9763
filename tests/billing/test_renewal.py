"""Monthly renewal: once per period, past_due when the org cannot pay, and bulk (constant queries)."""
from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from billing import services
from billing.models import LedgerEntry, OrgBalance, UsageRecord
from billing.renewals import renewals_run
from billing.tasks import renew_due_numbers
from orgs.models import Org
from phones.models import PhoneNumber

pytestmark = pytest.mark.django_db

FEB_15 = date(2025, 2, 15)


def fund(org, amount: int, key: str = "seed") -> None:
    services.ledger_credit(org=org, amount=amount, key=f"{key}:{org.slug}", kind="adjustment", description="funds")


def balance(org) -> int:
    return OrgBalance.objects.get(org=org).balance


def monthly_charges(number) -> list[str]:
    return list(LedgerEntry.objects.filter(phone_number=number, kind="monthly").order_by("id")
                .values_list("key", flat=True))


@pytest.fixture
def due(org, number_factory):
    fund(org, 1000)
    return number_factory(org, monthly_fee=115, purchased_on=date(2025, 1, 15), next_billing_date=FEB_15)


def test_it_charges_a_due_number_once_and_advances_its_date(org, due):
    report = renewals_run(today=FEB_15)
    due.refresh_from_db()
    assert (due.status, due.next_billing_date) == ("active", date(2025, 3, 15))
    assert monthly_charges(due) == [f"monthly:{due.public_id}:2025-02"]
    entry = LedgerEntry.objects.get(kind="monthly")
    assert (entry.amount, entry.balance_after, entry.metadata) == (
        -115, 885, {"periodStart": "2025-02-15", "periodEnd": "2025-03-15"})
    assert balance(org) == 885
    usage = UsageRecord.objects.get()
    assert (usage.kind, usage.quantity, usage.period, usage.phone_number_id) == ("number_month", 1, FEB_15, due.pk)
    assert (report.numbers_charged, report.periods_charged, report.amount_charged) == (1, 1, {"USD": 115})


def test_running_twice_the_same_day_charges_once(org, due):
    renewals_run(today=FEB_15)
    second = renewals_run(today=FEB_15)
    assert second.numbers_charged == 0
    assert len(monthly_charges(due)) == 1
    assert balance(org) == 885
    assert UsageRecord.objects.count() == 1


def test_it_leaves_numbers_that_are_not_due_or_not_billable_alone(org, due, number_factory):
    later = number_factory(org, next_billing_date=date(2025, 2, 16))
    pending = number_factory(org, status=PhoneNumber.Status.PENDING, next_billing_date=FEB_15)
    released = number_factory(org, status=PhoneNumber.Status.RELEASED, next_billing_date=FEB_15)
    renewals_run(today=FEB_15)
    for number in (later, pending, released):
        assert monthly_charges(number) == []
        assert PhoneNumber.objects.get(pk=number.pk).next_billing_date == number.next_billing_date


def test_a_number_its_org_cannot_pay_becomes_past_due_and_is_not_released(org, number_factory):
    fund(org, 100)
    number = number_factory(org, monthly_fee=115, next_billing_date=FEB_15)
    report = renewals_run(today=FEB_15)
    number.refresh_from_db()
    assert (number.status, number.next_billing_date, number.released_at) == ("past_due", FEB_15, None)
    assert monthly_charges(number) == []
    assert balance(org) == 100
    assert (report.newly_past_due, report.past_due) == (1, 1)


def test_past_due_then_top_up_then_renewal_charges_it_and_makes_it_active(org, number_factory):
    number = number_factory(org, monthly_fee=115, next_billing_date=FEB_15)
    renewals_run(today=FEB_15)
    assert PhoneNumber.objects.get(pk=number.pk).status == "past_due"

    fund(org, 500, key="topup")
    report = renewals_run(today=date(2025, 2, 16))
    number.refresh_from_db()
    assert (number.status, number.next_billing_date) == ("active", date(2025, 3, 15))
    assert monthly_charges(number) == [f"monthly:{number.public_id}:2025-02"]
    assert balance(org) == 385
    assert report.reactivated == 1


def test_a_long_past_due_number_is_charged_every_missed_month_it_can_afford(org, number_factory):
    number = number_factory(org, monthly_fee=100, status=PhoneNumber.Status.PAST_DUE, next_billing_date=FEB_15)
    fund(org, 250)
    renewals_run(today=date(2025, 5, 20))
    number.refresh_from_db()
    # Feb, Mar paid; Apr unaffordable (50 left): still past due, its date at the unpaid April period.
    assert (number.status, number.next_billing_date) == ("past_due", date(2025, 4, 15))
    assert monthly_charges(number) == [f"monthly:{number.public_id}:2025-02", f"monthly:{number.public_id}:2025-03"]
    assert balance(org) == 50


def test_it_charges_what_fits_and_marks_the_rest_past_due(org, number_factory):
    fund(org, 250)
    numbers = [number_factory(org, monthly_fee=100, next_billing_date=FEB_15) for _ in range(3)]
    renewals_run(today=FEB_15)
    statuses = [PhoneNumber.objects.get(pk=n.pk).status for n in numbers]
    assert sorted(statuses) == ["active", "active", "past_due"]
    assert balance(org) == 50
    assert balance(org) == LedgerEntry.objects.filter(org=org).aggregate(s=Sum("amount"))["s"]


def test_a_number_bought_on_the_31st_renews_on_month_ends(org, number_factory):
    fund(org, 1000)
    number = number_factory(org, monthly_fee=10, purchased_on=date(2025, 1, 31), next_billing_date=date(2025, 2, 28))
    renewals_run(today=date(2025, 2, 28))
    renewals_run(today=date(2025, 3, 31))
    number.refresh_from_db()
    assert number.next_billing_date == date(2025, 4, 30)
    assert monthly_charges(number) == [f"monthly:{number.public_id}:2025-02", f"monthly:{number.public_id}:2025-03"]


def test_a_charge_already_in_the_ledger_is_not_taken_again(org, due):
    # A period charged by some earlier path whose date advance was lost.
    services.ledger_charge(org=org, amount=115, key=f"monthly:{due.public_id}:2025-02", kind="monthly",
                           description="earlier", phone_number=due)
    renewals_run(today=FEB_15)
    due.refresh_from_db()
    assert due.next_billing_date == date(2025, 3, 15)
    assert len(monthly_charges(due)) == 1
    assert balance(org) == 885


def test_an_unfunded_org_gets_a_zero_balance_and_past_due_numbers(org, number_factory):
    number = number_factory(org, next_billing_date=FEB_15)
    renewals_run(today=FEB_15)
    assert balance(org) == 0
    assert PhoneNumber.objects.get(pk=number.pk).status == "past_due"


def test_the_task_runs_the_renewal_for_today(org, number_factory):
    fund(org, 1000)
    from django.utils import timezone

    number = number_factory(org, next_billing_date=timezone.localdate())
    result = renew_due_numbers.delay().get()
    assert result["numbers_charged"] == 1
    assert len(monthly_charges(number)) == 1


def _populate(orgs: int, per_org: int, tag: str) -> list[Org]:
    from tests.billing.conftest import make_number

    created = []
    for i in range(orgs):
        org = Org.objects.create(slug=f"{tag}-{i}", name=tag)
        fund(org, 100_000)
        for _ in range(per_org):
            make_number(org, monthly_fee=115, next_billing_date=FEB_15)
        created.append(org)
    # One org that cannot pay, so the past_due path is in the count too.
    poor = Org.objects.create(slug=f"{tag}-poor", name=tag)
    for _ in range(per_org):
        make_number(poor, monthly_fee=115, next_billing_date=FEB_15)
    return created


def _queries_for_renewal(orgs: int, per_org: int, tag: str) -> int:
    _populate(orgs, per_org, tag)
    with CaptureQueriesContext(connection) as ctx:
        report = renewals_run(today=FEB_15)
    assert report.periods_charged == orgs * per_org
    assert report.past_due == per_org
    PhoneNumber.objects.filter(org__slug__startswith=tag).update(status=PhoneNumber.Status.RELEASED)
    return len(ctx.captured_queries)


def test_the_query_count_does_not_grow_with_numbers_per_org(db):
    # Small enough for SQLite's 999-parameter statements; the PostgreSQL variant below goes bigger.
    few = _queries_for_renewal(orgs=3, per_org=2, tag="few")
    many = _queries_for_renewal(orgs=3, per_org=6, tag="many")
    assert many == few


@pytest.mark.postgres
def test_the_query_count_does_not_grow_with_numbers_per_org_on_postgres(db):
    few = _queries_for_renewal(orgs=5, per_org=10, tag="few")
    many = _queries_for_renewal(orgs=5, per_org=100, tag="many")
    # org ids, savepoint, balance locks (+3 for an org without a balance row), due numbers, known keys,
    # entries, usage, one UPDATE per outcome (active, past_due), balances, savepoint release.
    assert many == few <= 15
