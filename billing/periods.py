"""Billing periods and proration: pure functions over dates and integer minor units.

A number is billed monthly from its purchase date. Its `next_billing_date` is the
end (exclusive) of the period it has paid for; the period started one month
earlier. Months differ in length, so dates are clamped to the month's last day,
and every boundary is computed from the purchase day-of-month (the *anchor*): a
number bought on 31 January renews on 28 February, then 31 March, 30 April — not
on the 28th forever after February.
"""
from __future__ import annotations

import calendar
from datetime import date


def add_months(day: date, months: int, *, anchor_day: int | None = None) -> date:
    """`day` moved by `months` (may be negative) onto `anchor_day` (default: day's own), clamped to the month."""
    anchor = anchor_day if anchor_day is not None else day.day
    if not 1 <= anchor <= 31:
        raise ValueError(f"anchor_day must be 1..31, got {anchor}")
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(anchor, calendar.monthrange(year, month)[1]))


def period_bounds(*, next_billing_date: date, anchor_day: int | None = None) -> tuple[date, date]:
    """(start, end) of the period that ends (exclusive) on `next_billing_date`."""
    return add_months(next_billing_date, -1, anchor_day=anchor_day), next_billing_date


def period_key(period_start: date) -> str:
    """The `YYYY-MM` that names a period in ledger keys. Periods start once a month, so it is unique per number."""
    return period_start.strftime("%Y-%m")


def unused_days(*, period_start: date, period_end: date, released_on: date) -> int:
    """Whole days of the period left after `released_on`.

    The day of release counts as used: the number was live on it. So a release
    on the first day of the period leaves all days but one unused.
    """
    days = (period_end - period_start).days
    return max(0, min(days, (period_end - released_on).days - 1))


def prorated_refund(*, monthly_fee: int, paid: int, period_start: date, period_end: date, released_on: date) -> int:
    """The refund, in minor units, for releasing a number on `released_on`.

        refund = min(paid, floor(monthly_fee × unused_days / days_in_period))

    Integer arithmetic only: the floor rounds down to the minor unit in the
    platform's favour, and the cap means we never give back more than was
    actually paid for this period (0 when nothing was paid).
    """
    for name, value in (("monthly_fee", monthly_fee), ("paid", paid)):
        if type(value) is not int or value < 0:
            raise ValueError(f"{name} must be a non-negative int, got {value!r}")
    days = (period_end - period_start).days
    if days <= 0 or paid == 0:
        return 0
    unused = unused_days(period_start=period_start, period_end=period_end, released_on=released_on)
    return min(paid, monthly_fee * unused // days)
