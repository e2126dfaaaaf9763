"""Billing fixtures: numbers to bill."""
from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

import pytest

from orgs.models import Org, ProviderConnection
from phones.models import PhoneNumber

_serial = itertools.count(1000000)


def make_number(org: Org, *, status: str = PhoneNumber.Status.ACTIVE, monthly_fee: int = 115, setup_fee: int = 0,
                purchased_on: date | None = None, next_billing_date: date | None = None,
                currency: str = "USD") -> PhoneNumber:
    conn = ProviderConnection.objects.filter(org=org).first() or ProviderConnection.objects.create(
        org=org, type=ProviderConnection.Type.SANDBOX, name="Sandbox", account_id=f"AC{org.pk:032d}")
    purchased_on = purchased_on or date(2025, 1, 15)
    return PhoneNumber.objects.create(
        org=org, connection=conn, e164=f"+1415{next(_serial)}", country="US", status=status,
        monthly_fee=monthly_fee, setup_fee=setup_fee, currency=currency,
        purchased_at=datetime.combine(purchased_on, datetime.min.time(), tzinfo=UTC).replace(hour=10),
        next_billing_date=next_billing_date)


@pytest.fixture
def number_factory():
    return make_number
