"""Billing reads. Nothing here writes: a GET never creates a balance row."""
from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from billing.models import LedgerEntry, OrgBalance, Price
from orgs.models import Org
from phones.models import PhoneNumber
from phones.numbers.selectors import org_monthly_cost


@dataclass(frozen=True)
class BalanceSummary:
    balance: int
    currency: str
    monthly_cost: int


def balance_summary(*, org: Org) -> BalanceSummary:
    row = OrgBalance.objects.filter(org=org).values_list("balance", "currency").first()
    balance, currency = row if row is not None else (0, org.currency)
    # What the org has committed to pay monthly: numbers being bought, active, or owing.
    monthly_cost = org_monthly_cost(org=org, statuses=PhoneNumber.CONFIGURABLE_STATUSES)
    return BalanceSummary(balance=balance, currency=currency, monthly_cost=monthly_cost)


def ledger_list(*, org: Org, limit: int, offset: int) -> tuple[list[LedgerEntry], int]:
    """One page of the org's ledger, newest first, and the total number of entries."""
    entries = LedgerEntry.objects.filter(org=org).select_related("phone_number").order_by("-created_at", "-id")
    return list(entries[offset:offset + limit]), entries.count()


def price_list(*, country: str | None = None, number_type: str | None = None) -> QuerySet[Price]:
    prices = Price.objects.all()
    if country:
        prices = prices.filter(country=country)
    if number_type:
        prices = prices.filter(number_type=number_type)
    return prices
