"""Reads for orgs and provider connections."""
from __future__ import annotations

from core.errors import ProviderNotConfigured
from orgs.models import Org, ProviderConnection
from providers.registry import phone_types


def connection_default(*, org: Org) -> ProviderConnection:
    """The org's phone connection: its first active one (AI connections are not phone connections).
    None → "Twilio not configured"."""
    connection = (ProviderConnection.objects.filter(org=org, is_active=True, type__in=phone_types())
                  .order_by("created_at", "id").first())
    if connection is None:
        raise ProviderNotConfigured()
    return connection
