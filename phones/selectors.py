"""Reads for phone numbers."""
from __future__ import annotations

import phonenumbers

from billing.models import Price
from telephony.models import Org
from telephony.providers.base import AvailableNumber, SearchCriteria
from telephony.providers.registry import provider_for
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
