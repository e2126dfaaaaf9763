"""Reads for orgs and provider connections."""
from __future__ import annotations

from django.db.models import QuerySet

from core.errors import ProviderNotConfigured
from orgs.models import Org, ProviderConnection
from providers.registry import phone_types


def phone_connections(org: Org | None = None) -> QuerySet[ProviderConnection]:
    """Active phone connections (of `org` when given): numbers, trunks and prices come through them,
    never through an AI connection."""
    connections = ProviderConnection.objects.filter(is_active=True, type__in=phone_types())
    return connections.filter(org=org) if org is not None else connections


def connection_default(*, org: Org) -> ProviderConnection:
    """The org's phone connection: its first active one (AI connections are not phone connections).
    None → "Twilio not configured"."""
    connection = phone_connections(org).order_by("created_at", "id").first()
    if connection is None:
        raise ProviderNotConfigured()
    return connection
