"""Periods and proration: pure functions, checked by example and by property."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.periods import add_months, period_bounds, prorated_refund, unused_days


@pytest.mark.parametrize("day, months, anchor, expected", [
    (date(2025, 1, 15), 1, None, date(2025, 2, 15)),
    (date(2025, 1, 31), 1, None, date(2025, 2, 28)),
    (date(2024, 1, 31), 1, None, date(2024, 2, 29)),
    (date(2025, 2, 28), 1, 31, date(2025, 3, 31)),
    (date(2025, 4, 30), 1, 31, date(2025, 5, 31)),
    (date(2025, 12, 15), 1, None, date(2026, 1, 15)),
    (date(2025, 1, 15), -1, None, date(2024, 12, 15)),
    (date(2025, 3, 31), -1, None, date(2025, 2, 28)),
    (date(2025, 1, 10), 14, None, date(2026, 3, 10)),
])
def test_add_months_clamps_to_the_month_and_keeps_the_anchor_day(day, months, anchor, expected):
    assert add_months(day, months, anchor_day=anchor) == expected


def test_a_number_bought_on_the_31st_renews_on_each_month_end_without_drifting():
    purchase = date(2025, 1, 31)
    boundaries = [add_months(purchase, n, anchor_day=31) for n in range(1, 5)]
    assert boundaries == [date(2025, 2, 28), date(2025, 3, 31), date(2025, 4, 30), date(2025, 5, 31)]
    chained, current = [], purchase
    for _ in range(4):
        current = add_months(current, 1, anchor_day=31)
        chained.append(current)
    assert chained == boundaries


def test_period_bounds_start_one_month_before_the_billing_date():
    assert period_bounds(next_billing_date=date(2025, 2, 28), anchor_day=31) == (date(2025, 1, 31), date(2025, 2, 28))
    assert period_bounds(next_billing_date=date(2025, 2, 15)) == (date(2025, 1, 15), date(2025, 2, 15))


def test_it_refunds_unused_days_rounded_down():
    # 31-day period, released on day 6 (Jan 20): days 21 Jan .. 14 Feb are unused = 25 days.
    start, end = date(2025, 1, 15), date(2025, 2, 15)
    assert unused_days(period_start=start, period_end=end, released_on=date(2025, 1, 20)) == 25
    assert prorated_refund(monthly_fee=100, paid=100, period_start=start, period_end=end,
                           released_on=date(2025, 1, 20)) == 100 * 25 // 31 == 80


def test_it_never_refunds_more_than_was_paid():
    start, end = date(2025, 1, 15), date(2025, 2, 15)
    assert prorated_refund(monthly_fee=1000, paid=40, period_start=start, period_end=end,
                           released_on=start) == 40


def test_it_refunds_nothing_when_nothing_was_paid_or_the_period_is_over():
    start, end = date(2025, 1, 15), date(2025, 2, 15)
    assert prorated_refund(monthly_fee=100, paid=0, period_start=start, period_end=end, released_on=start) == 0
    assert prorated_refund(monthly_fee=100, paid=100, period_start=start, period_end=end,
                           released_on=date(2025, 2, 14)) == 0
    assert prorated_refund(monthly_fee=100, paid=100, period_start=start, period_end=end,
                           released_on=date(2025, 3, 1)) == 0


@pytest.mark.parametrize("bad", [-1, 1.0, True, "100"])
def test_proration_refuses_non_integer_money(bad):
    with pytest.raises(ValueError):
        prorated_refund(monthly_fee=bad, paid=100, period_start=date(2025, 1, 1), period_end=date(2025, 2, 1),
                        released_on=date(2025, 1, 2))


fees = st.integers(min_value=0, max_value=10_000_000)
purchase_days = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))


@given(fee=fees, paid=fees, purchase=purchase_days, months_in=st.integers(0, 36), offset=st.integers(-40, 40))
def test_property_refund_is_an_int_between_zero_and_what_was_paid(fee, paid, purchase, months_in, offset):
    start = add_months(purchase, months_in, anchor_day=purchase.day)
    end = add_months(purchase, months_in + 1, anchor_day=purchase.day)
    refund = prorated_refund(monthly_fee=fee, paid=paid, period_start=start, period_end=end,
                             released_on=start + timedelta(days=offset))
    assert type(refund) is int
    assert 0 <= refund <= paid
    assert refund <= fee


@given(fee=fees, purchase=purchase_days)
def test_property_release_on_the_purchase_day_refunds_almost_the_whole_month(fee, purchase):
    start, end = purchase, add_months(purchase, 1)
    days = (end - start).days
    refund = prorated_refund(monthly_fee=fee, paid=fee, period_start=start, period_end=end, released_on=purchase)
    # Everything but the day of release (which counts as used), and at most one minor unit of rounding.
    assert fee - fee // days - 1 <= refund <= fee
    assert refund >= fee * 27 // 28 - 1


@given(fee=fees, purchase=purchase_days, a=st.integers(0, 31), b=st.integers(0, 31))
def test_property_a_later_release_never_refunds_more(fee, purchase, a, b):
    start, end = purchase, add_months(purchase, 1)
    early, late = sorted((a, b))

    def refund(days_in: int) -> int:
        return prorated_refund(monthly_fee=fee, paid=fee, period_start=start, period_end=end,
                               released_on=start + timedelta(days=days_in))

    assert refund(late) <= refund(early)
