"""Reads for phone numbers."""
from __future__ import annotations

import logging

import phonenumbers
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.db.models.functions import Coalesce

from billing.models import Price
from core.display import formatted_number
from core.errors import DomainError
from orgs.models import Org
from orgs.scoping import for_org
from orgs.selectors import connection_default
from phones.models import Job, OrgNumberTotals, PhoneNumber
from providers.base import AvailableNumber, ProviderError, SearchCriteria
from providers.registry import provider_for

logger = logging.getLogger(__name__)


OFFER_SECONDS = 24 * 3600


def _offer_key(org: Org, e164: str) -> str:
    return f"phones:offer:{org.pk}:{e164}"


def _offer(number: AvailableNumber) -> dict[str, str | bool]:
    return {"friendlyName": number.friendly_name or formatted_number(number.e164), "locality": number.locality,
            "region": number.region, "addressRequirements": number.address_requirements, "beta": number.beta}


def offer_details(*, org: Org, e164: str, number_type: str = "local") -> dict[str, str | bool]:
    """What a search showed of `e164` ({friendlyName, locality, region, addressRequirements, beta}),
    for a purchase to keep and to check: remembered from the org's searches for a day, else asked
    of the provider (best effort: {} when it cannot say)."""
    remembered = cache.get(_offer_key(org, e164))
    if remembered is not None and "addressRequirements" in remembered:
        return remembered
    try:
        parsed = phonenumbers.parse(e164)
        country = phonenumbers.region_code_for_number(parsed) or "US"
        found = provider_for(connection_default(org=org)).search_available(SearchCriteria(
            country=country, number_type=number_type, contains=str(parsed.national_number), limit=5))
    except (DomainError, ProviderError, phonenumbers.NumberParseException) as exc:
        logger.info("no search details for %s: %s", e164, exc)
        return {}
    return next((_offer(number) for number in found if number.e164 == e164), {})


def available_numbers(*, org: Org, criteria: SearchCriteria) -> list[dict]:
    """Numbers the org's provider offers now, each with what it would cost here (remembered for a
    purchase of one of them: offer_details)."""
    provider = provider_for(connection_default(org=org))
    found: list[AvailableNumber] = provider.search_available(criteria)
    if criteria.exclude_address_required:  # the provider filtered already (Twilio); a provider that did not, here
        found = [number for number in found if number.address_requirements == "none"]
    cache.set_many({_offer_key(org, number.e164): _offer(number) for number in found[: criteria.limit]},
                   OFFER_SECONDS)
    price = Price.objects.filter(country=criteria.country, number_type=criteria.number_type).first()
    pricing = price.as_dict() if price else None
    return [
        {
            "phoneNumber": number.e164,
            "friendlyName": number.friendly_name or formatted_number(number.e164),
            "locality": number.locality,
            "region": number.region,
            "postalCode": number.postal_code,
            "country": number.country or criteria.country,
            "type": criteria.number_type,
            "capabilities": number.capabilities.as_dict(),
            "pricing": pricing,
            "addressRequirements": number.address_requirements,
            "beta": number.beta,
        }
        for number in found[: criteria.limit]
    ]


def phone_number_list(*, org: Org, filters: dict, limit: int, offset: int) -> dict:
    """One page of the org's numbers, the filtered total and the org's monthly cost.

    Three queries whatever the page size: the figures, the page's ids, and their rows.
    Paging through ids first lets PostgreSQL skip `offset` rows inside the covering index
    (phone_org_listing) instead of reading each skipped row from the table. On PostgreSQL the
    figures come from the trigger-kept OrgNumberTotals unless the filters need a real count.
    """
    live = Q(status__in=PhoneNumber.LIVE_STATUSES)
    matching = Q()
    if filters.get("status"):
        matching &= Q(status=filters["status"])
    elif not filters.get("includeReleased"):
        matching &= ~Q(status=PhoneNumber.Status.RELEASED)
    if filters.get("purpose"):
        matching &= Q(purpose=filters["purpose"])
    if filters.get("routingMode"):
        matching &= Q(routing_mode=filters["routingMode"])
    if filters.get("trunkId"):
        # "none": the numbers on no trunk, free to give to one.
        matching &= (Q(trunk__isnull=True) if filters["trunkId"] == "none"
                     else Q(trunk__public_id=filters["trunkId"]) | Q(trunk__provider_sid=filters["trunkId"]))
    if filters.get("search"):
        term = filters["search"].strip()
        digits = "".join(ch for ch in term if ch.isdigit())
        matching &= Q(friendly_name__icontains=term) | (Q(e164__contains=digits) if digits else Q(pk__in=[]))
    scoped = for_org(PhoneNumber.objects.all(), org)
    if connection.vendor == "postgresql":
        figures = _figures_from_totals(org, filters)
        if figures["total"] is None:
            figures["total"] = scoped.filter(matching).count()
    else:
        figures = scoped.aggregate(
            total=Count("id", filter=matching),
            monthly_cost=Coalesce(Sum("monthly_fee", filter=live), 0),
        )
    ids = list(scoped.filter(matching).order_by("-created_at", "-id").values_list("id", flat=True)
               [offset:offset + limit])
    rows = PhoneNumber.objects.select_related("trunk", "agent").in_bulk(ids)
    return {"numbers": [rows[pk] for pk in ids], "total": figures["total"], "monthly_cost": figures["monthly_cost"]}


def org_monthly_cost(*, org: Org, statuses: tuple[str, ...]) -> int:
    """What the org's numbers in `statuses` cost a month: from the trigger-kept totals on
    PostgreSQL, counted on other databases."""
    if connection.vendor == "postgresql":
        rows = OrgNumberTotals.objects.filter(org=org, status__in=statuses)
    else:
        rows = PhoneNumber.objects.filter(org=org, status__in=statuses)
    return rows.aggregate(total=Coalesce(Sum("monthly_fee"), 0))["total"]


def _figures_from_totals(org: Org, filters: dict) -> dict:
    """The monthly cost, and the total when only status narrows the listing (else None)."""
    by_status = {row.status: row for row in OrgNumberTotals.objects.filter(org=org)}
    monthly_cost = sum(row.monthly_fee for status, row in by_status.items() if status in PhoneNumber.LIVE_STATUSES)
    total = None
    if not any(filters.get(key) for key in ("purpose", "routingMode", "search", "trunkId")):
        if filters.get("status"):
            total = by_status[filters["status"]].count if filters["status"] in by_status else 0
        else:
            total = sum(row.count for status, row in by_status.items()
                        if filters.get("includeReleased") or status != PhoneNumber.Status.RELEASED)
    return {"total": total, "monthly_cost": monthly_cost}


def purchase_jobs_under_way(number: PhoneNumber):
    """The number's purchase jobs still queued or running."""
    return Job.objects.filter(phone_number=number, kind=Job.Kind.PURCHASE,
                              status__in=(Job.Status.QUEUED, Job.Status.RUNNING))


def purchases_unsettled(*, org: Org | None = None):
    """Pending numbers whose purchase is no longer under way: their job ended without an outcome
    (`outcome_unknown`), so they keep their hold until phones.numbers.provisioning.purchase_settle."""
    under_way = Job.objects.filter(phone_number=OuterRef("pk"), kind=Job.Kind.PURCHASE,
                                   status__in=(Job.Status.QUEUED, Job.Status.RUNNING))
    numbers = PhoneNumber.objects.filter(status=PhoneNumber.Status.PENDING).exclude(Exists(under_way))
    return numbers.filter(org=org) if org is not None else numbers


def purchase_jobs_unsettled():
    """Purchase jobs that ended while their number is still pending: the outcome is unknown."""
    return Job.objects.filter(kind=Job.Kind.PURCHASE, status__in=Job.FINISHED_STATUSES,
                              phone_number__status=PhoneNumber.Status.PENDING)
