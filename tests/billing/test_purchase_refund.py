"""Purchase hold, its reversal, and the prorated refund on release, as the lifecycle flows call them."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.db import transaction

from billing import services
from billing.models import LedgerEntry, OrgBalance
from core.errors import InsufficientBalance, InvalidInput
from phones.models import PhoneNumber

pytestmark = pytest.mark.django_db


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def fund(org, amount: int) -> None:
    services.ledger_credit(org=org, amount=amount, key=f"seed:{org.slug}", kind="adjustment", description="funds")


def balance(org) -> int:
    return OrgBalance.objects.get(org=org).balance


@pytest.fixture
def bought(org, number_factory):
    """A number bought on 15 Jan 2025 for 100 setup + 300/month, its hold taken."""
    fund(org, 1000)
    number = number_factory(org, setup_fee=100, monthly_fee=300, purchased_on=date(2025, 1, 15),
                            next_billing_date=date(2025, 2, 15))
    services.purchase_hold(phone_number=number)
    return number


def test_purchase_hold_charges_setup_plus_first_month_once(bought, org):
    again = services.purchase_hold(phone_number=bought)
    hold = LedgerEntry.objects.get(key=f"purchase-hold:{bought.public_id}")
    assert again.pk == hold.pk
    assert (hold.amount, hold.kind, hold.phone_number_id) == (-400, "purchase_hold", bought.pk)
    assert balance(org) == 600


def test_purchase_hold_without_the_money_is_402_and_the_callers_transaction_can_roll_back(org, number_factory):
    fund(org, 50)
    with pytest.raises(InsufficientBalance) as excinfo, transaction.atomic():
        number = number_factory(org, status=PhoneNumber.Status.PENDING, setup_fee=100, monthly_fee=300)
        services.purchase_hold(phone_number=number)
    assert (excinfo.value.extra["needed"], excinfo.value.extra["available"]) == (400, 50)
    assert not PhoneNumber.objects.filter(org=org).exists()
    assert balance(org) == 50
    assert not LedgerEntry.objects.filter(kind="purchase_hold").exists()


def test_purchase_hold_refuses_a_number_priced_in_another_currency(org, number_factory):
    fund(org, 1000)
    number = number_factory(org, currency="EUR")
    with pytest.raises(InvalidInput) as excinfo:
        services.purchase_hold(phone_number=number)
    assert excinfo.value.field == "currency"
    assert balance(org) == 1000


def test_hold_reversal_gives_the_hold_back_exactly_once(bought, org):
    first = services.purchase_hold_reverse(phone_number=bought, reason="number unavailable (21422)")
    second = services.purchase_hold_reverse(phone_number=bought, reason="retried")
    assert first.pk == second.pk
    assert first.amount == 400 and first.kind == "purchase_hold_reversal"
    assert balance(org) == 1000


def test_hold_reversal_without_a_hold_does_nothing(org, number_factory):
    number = number_factory(org)
    assert services.purchase_hold_reverse(phone_number=number, reason="x") is None
    assert not LedgerEntry.objects.exists()


def test_it_refunds_unused_days_of_the_first_month_but_not_the_setup_fee(bought, org):
    # Period 15 Jan – 15 Feb is 31 days; released 20 Jan, the 20th counts as used: 25 unused.
    refund = services.release_refund(phone_number=bought, released_at=at(date(2025, 1, 20)))
    assert refund == 300 * 25 // 31 == 241
    entry = LedgerEntry.objects.get(key=f"refund:{bought.public_id}")
    assert (entry.amount, entry.kind, entry.balance_after) == (241, "refund", 600 + 241)
    assert balance(org) == 841


def test_release_on_the_purchase_day_refunds_almost_the_whole_month(bought, org):
    refund = services.release_refund(phone_number=bought, released_at=at(date(2025, 1, 15), hour=23))
    assert refund == 300 * 30 // 31 == 290


def test_the_refund_is_credited_once_even_if_the_release_job_retries(bought, org):
    first = services.release_refund(phone_number=bought, released_at=at(date(2025, 1, 20)))
    second = services.release_refund(phone_number=bought, released_at=at(date(2025, 1, 25)))
    assert first == second == 241
    assert LedgerEntry.objects.filter(kind="refund").count() == 1
    assert balance(org) == 841


def test_no_refund_after_the_hold_was_reversed(bought, org):
    services.purchase_hold_reverse(phone_number=bought, reason="failed")
    assert services.release_refund(phone_number=bought, released_at=at(date(2025, 1, 20))) == 0
    assert not LedgerEntry.objects.filter(kind="refund").exists()
    assert balance(org) == 1000


def test_a_later_period_refunds_against_its_monthly_charge(bought, org):
    # Renewed for 15 Feb – 15 Mar (28 days) at the old price; the fee since went up.
    services.ledger_charge(org=org, amount=300, key=f"monthly:{bought.public_id}:2025-02", kind="monthly",
                           description="renewal", phone_number=bought)
    bought.next_billing_date = date(2025, 3, 15)
    bought.monthly_fee = 1000
    bought.save()
    refund = services.release_refund(phone_number=bought, released_at=at(date(2025, 2, 15)))
    assert refund == 300  # 1000 × 27 // 28 = 964, capped at the 300 actually paid


def test_an_unpaid_past_due_period_refunds_nothing(bought, org):
    bought.status = PhoneNumber.Status.PAST_DUE
    bought.next_billing_date = date(2025, 3, 15)  # 15 Feb – 15 Mar was never charged
    bought.save()
    assert services.release_refund(phone_number=bought, released_at=at(date(2025, 2, 20))) == 0
    assert not LedgerEntry.objects.filter(kind="refund").exists()


def test_a_number_bought_on_the_31st_refunds_against_a_clamped_february(org, number_factory):
    fund(org, 1000)
    number = number_factory(org, monthly_fee=280, purchased_on=date(2025, 1, 31), next_billing_date=date(2025, 2, 28))
    services.purchase_hold(phone_number=number)
    services.ledger_charge(org=org, amount=280, key=f"monthly:{number.public_id}:2025-02", kind="monthly",
                           description="renewal", phone_number=number)
    number.next_billing_date = date(2025, 3, 31)
    number.save()
    # Period 28 Feb – 31 Mar (31 days), released 1 Mar: 29 unused days.
    assert services.release_refund(phone_number=number, released_at=at(date(2025, 3, 1))) == 280 * 29 // 31
