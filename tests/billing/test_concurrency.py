"""Concurrency, on PostgreSQL only: real transactions in real threads racing for one balance."""
from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connections
from django.db.models import Sum

from billing import services
from billing.models import LedgerEntry, OrgBalance
from billing.renewals import renewals_run
from core.errors import InsufficientBalance
from orgs.models import Org
from phones.models import PhoneNumber
from tests.billing.conftest import make_number

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(target, count: int) -> list:
    """Run target(i) in `count` threads released together; collect each result or exception."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = target(i)
        except Exception as exc:  # noqa: BLE001 - the outcome under test
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def assert_balance_is_sum_of_entries(org: Org) -> None:
    total = LedgerEntry.objects.filter(org=org).aggregate(s=Sum("amount"))["s"] or 0
    assert OrgBalance.objects.get(org=org).balance == total >= 0


def test_concurrent_charges_exactly_the_affordable_ones_succeed():
    org = Org.objects.create(slug="racing", name="Racing")
    services.ledger_credit(org=org, amount=700, key="seed", kind="adjustment", description="funds")

    results = race(lambda i: services.ledger_charge(org=org, amount=100, key=f"race:{i}", kind="adjustment",
                                                    description="race"), 12)

    succeeded = [r for r in results if isinstance(r, LedgerEntry)]
    refused = [r for r in results if isinstance(r, InsufficientBalance)]
    assert (len(succeeded), len(refused)) == (7, 5), results
    assert OrgBalance.objects.get(org=org).balance == 0
    assert sorted(e.balance_after for e in succeeded) == [0, 100, 200, 300, 400, 500, 600]
    assert_balance_is_sum_of_entries(org)


def test_concurrent_retries_of_one_key_charge_once():
    org = Org.objects.create(slug="retrying", name="Retrying")
    services.ledger_credit(org=org, amount=1000, key="seed", kind="adjustment", description="funds")

    results = race(lambda i: services.ledger_charge(org=org, amount=300, key="same-job", kind="adjustment",
                                                    description="retry"), 8)

    assert all(isinstance(r, LedgerEntry) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert OrgBalance.objects.get(org=org).balance == 700
    assert_balance_is_sum_of_entries(org)


def test_concurrent_first_charges_create_one_balance_row():
    org = Org.objects.create(slug="fresh", name="Fresh")
    results = race(lambda i: services.ledger_credit(org=org, amount=10, key=f"fresh:{i}", kind="adjustment",
                                                    description="x"), 6)
    assert all(isinstance(r, LedgerEntry) for r in results), results
    assert OrgBalance.objects.filter(org=org).count() == 1
    assert OrgBalance.objects.get(org=org).balance == 60
    assert_balance_is_sum_of_entries(org)


def test_two_renewal_runs_at_once_charge_once():
    orgs = [Org.objects.create(slug=f"renew-{i}", name=f"Renew {i}") for i in range(3)]
    for org in orgs:
        services.ledger_credit(org=org, amount=10_000, key=f"seed:{org.slug}", kind="adjustment", description="x")
        for _ in range(5):
            make_number(org, monthly_fee=115, purchased_on=date(2025, 1, 15), next_billing_date=date(2025, 2, 15))

    results = race(lambda i: renewals_run(today=date(2025, 2, 15)), 2)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r.numbers_charged for r in results) == 15
    assert LedgerEntry.objects.filter(kind="monthly").count() == 15
    assert set(PhoneNumber.objects.values_list("next_billing_date", flat=True)) == {date(2025, 3, 15)}
    for org in orgs:
        assert OrgBalance.objects.get(org=org).balance == 10_000 - 5 * 115
        assert_balance_is_sum_of_entries(org)
