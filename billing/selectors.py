"""Billing reads. Nothing here writes: a GET never creates a balance row."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, F, Q, QuerySet, Sum

from billing.models import LedgerEntry, OrgBalance, Price
from billing.periods import add_months
from orgs.models import Org
from phones.models import Call, Message, PhoneNumber
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


def usage_by_campaign(*, org: Org, campaign_id: str, period: date | None = None) -> dict:
    """The org's traffic stamped with `campaign_id` (a number's configuration.tracking, kept on each
    message and call): texts and segments, calls and minutes (each call rounded up, as billed), by
    direction; within the month starting `period` when given."""
    messages = Message.objects.filter(org=org, tracking__campaignId=campaign_id)
    calls = Call.objects.filter(org=org, tracking__campaignId=campaign_id)
    if period is not None:
        end = add_months(period, 1)
        messages = messages.filter(created_at__date__gte=period, created_at__date__lt=end)
        calls = calls.filter(created_at__date__gte=period, created_at__date__lt=end)
    texts = messages.aggregate(
        inbound=Count("id", filter=Q(direction="inbound")), outbound=Count("id", filter=Q(direction="outbound")),
        segments=Sum("segments"))
    talk = calls.aggregate(
        inbound=Count("id", filter=Q(direction="inbound")), outbound=Count("id", filter=Q(direction="outbound")),
        minutes=Sum((F("duration") + 59) / 60, filter=Q(status="completed", duration__gt=0)))
    return {"campaignId": campaign_id, "period": period,
            "messages": {"inbound": texts["inbound"], "outbound": texts["outbound"],
                         "segments": texts["segments"] or 0},
            "calls": {"inbound": talk["inbound"], "outbound": talk["outbound"], "minutes": talk["minutes"] or 0}}


def price_list(*, country: str | None = None, number_type: str | None = None) -> QuerySet[Price]:
    prices = Price.objects.all()
    if country:
        prices = prices.filter(country=country)
    if number_type:
        prices = prices.filter(number_type=number_type)
    return prices
