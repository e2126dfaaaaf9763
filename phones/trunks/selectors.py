"""Reads for SIP trunks."""
from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from orgs.models import Org
from orgs.scoping import for_org
from phones.models import PhoneNumber, Trunk


def trunk_list(*, org: Org) -> QuerySet[Trunk]:
    """The trunks of the org's active connections, with how many of its live numbers are on each
    (`live_numbers`)."""
    return for_org(Trunk.objects.filter(connection__is_active=True), org).annotate(
        live_numbers=Count("numbers", filter=Q(numbers__status__in=PhoneNumber.LIVE_STATUSES)))
