"""Staff top-ups: the only way money comes in. Bad input writes nothing."""
from __future__ import annotations

import pytest

from billing import services
from billing.models import LedgerEntry, OrgBalance
from core.errors import DomainError, InvalidInput
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    return make_user("staffer", is_staff=True)


def test_a_top_up_credits_the_balance_with_the_reason_and_who_did_it(org, staff):
    entry = services.ledger_topup(org=org, amount=5000, currency="USD", reason="Wire transfer #42", created_by=staff)
    assert (entry.amount, entry.kind, entry.created_by, entry.description) == (
        5000, "topup", staff, "Top-up: Wire transfer #42")
    assert entry.key.startswith("topup:")
    assert OrgBalance.objects.get(org=org).balance == 5000


def test_two_top_ups_without_a_key_are_two_top_ups(org, staff):
    services.ledger_topup(org=org, amount=100, reason="a", created_by=staff)
    services.ledger_topup(org=org, amount=100, reason="b", created_by=staff)
    assert OrgBalance.objects.get(org=org).balance == 200


def test_a_resubmitted_top_up_with_the_same_key_credits_once(org, staff):
    services.ledger_topup(org=org, amount=100, reason="a", created_by=staff, key="form-123")
    services.ledger_topup(org=org, amount=100, reason="a", created_by=staff, key="form-123")
    assert OrgBalance.objects.get(org=org).balance == 100


@pytest.mark.parametrize("amount", [-100, 0, 1.5, 10.0, "100", True, None, services.MAX_TOPUP + 1])
def test_a_bad_amount_is_refused_and_nothing_is_written(org, staff, amount):
    with pytest.raises(InvalidInput) as excinfo:
        services.ledger_topup(org=org, amount=amount, reason="x", created_by=staff)
    assert excinfo.value.field == "amount"
    assert excinfo.value.status_code == 400
    assert not LedgerEntry.objects.exists()
    assert not OrgBalance.objects.filter(org=org, balance__gt=0).exists()


@pytest.mark.parametrize("currency", ["EUR", "usd", "DOLLARS", "", 840])
def test_an_unknown_or_mismatched_currency_is_refused_and_nothing_is_written(org, staff, currency):
    with pytest.raises(InvalidInput) as excinfo:
        services.ledger_topup(org=org, amount=100, currency=currency, reason="x", created_by=staff)
    assert excinfo.value.field == "currency"
    assert not LedgerEntry.objects.exists()
    assert not OrgBalance.objects.filter(org=org, balance__gt=0).exists()


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_reason_is_required(org, staff, reason):
    with pytest.raises(InvalidInput) as excinfo:
        services.ledger_topup(org=org, amount=100, reason=reason, created_by=staff)
    assert excinfo.value.field == "reason"
    assert not LedgerEntry.objects.exists()


def test_a_non_staff_user_cannot_top_up(org, alice):
    with pytest.raises(DomainError) as excinfo:
        services.ledger_topup(org=org, amount=100, reason="self-service", created_by=alice)
    assert excinfo.value.status_code == 403
    assert not LedgerEntry.objects.exists()
