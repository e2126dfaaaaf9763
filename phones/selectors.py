"""Reads for phone numbers."""
from __future__ import annotations

import phonenumbers
from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce

from billing.models import Price
from phones.models import Message, PhoneNumber
from telephony.models import Org
from telephony.providers.base import AvailableNumber, SearchCriteria
from telephony.providers.registry import provider_for
from telephony.scoping import for_org
from telephony.selectors import connection_default


def _national_format(e164: str) -> str:
    return phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def available_numbers(*, org: Org, criteria: SearchCriteria) -> list[dict]:
    """Numbers the org's provider offers now, each with what it would cost here."""
    provider = provider_for(connection_default(org=org))
    found: list[AvailableNumber] = provider.search_available(criteria)
    price = Price.objects.filter(country=criteria.country, number_type=criteria.number_type).first()
    pricing = price.as_dict() if price else None
    return [
        {
            "phoneNumber": number.e164,
            "friendlyName": number.friendly_name or _national_format(number.e164),
            "locality": number.locality,
            "region": number.region,
            "postalCode": number.postal_code,
            "country": number.country or criteria.country,
            "type": criteria.number_type,
            "capabilities": number.capabilities.as_dict(),
            "pricing": pricing,
        }
        for number in found[: criteria.limit]
    ]


def phone_number_list(*, org: Org, filters: dict, limit: int, offset: int) -> dict:
    """One page of the org's numbers, the filtered total and the org's monthly cost.

    Three queries whatever the page size: the page, and one aggregate for both figures.
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
    if filters.get("search"):
        term = filters["search"].strip()
        digits = "".join(ch for ch in term if ch.isdigit())
        matching &= Q(friendly_name__icontains=term) | (Q(e164__contains=digits) if digits else Q(pk__in=[]))
    scoped = for_org(PhoneNumber.objects.all(), org)
    figures = scoped.aggregate(
        total=Count("id", filter=matching),
        monthly_cost=Coalesce(Sum("monthly_fee", filter=live), 0),
    )
    page = list(scoped.filter(matching).order_by("-created_at", "-id")[offset:offset + limit])
    return {"numbers": page, "total": figures["total"], "monthly_cost": figures["monthly_cost"]}


def phone_messages(*, number: PhoneNumber, limit: int, before=None, after=None) -> tuple[list[Message], bool]:
    """Newest first; `before`/`after` are timestamps (cursors). One query: limit + 1 rows tell hasMore."""
    messages = Message.objects.filter(phone_number=number)
    if before:
        messages = messages.filter(created_at__lt=before)
    if after:
        messages = messages.filter(created_at__gt=after)
    rows = list(messages.order_by("-created_at", "-id")[: limit + 1])
    return rows[:limit], len(rows) > limit
