"""The ledger services: charges, credits, idempotent keys, 402s that write nothing, append-only rows."""
from __future__ import annotations

from datetime import date

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import Sum

from billing import services
from billing.models import LedgerEntry, LedgerIsAppendOnly, OrgBalance
from core.errors import Conflict, InsufficientBalance, InvalidInput

pytestmark = pytest.mark.django_db


def fund(org, amount: int) -> None:
    services.ledger_credit(org=org, amount=amount, key=f"seed:{org.slug}:{amount}", kind="adjustment",
                           description="test funds")


def assert_balance_is_sum_of_entries(org) -> None:
    total = LedgerEntry.objects.filter(org=org).aggregate(s=Sum("amount"))["s"] or 0
    assert OrgBalance.objects.get(org=org).balance == total


def test_balance_get_creates_a_zero_balance_in_the_org_currency(org):
    org.currency = "EUR"
    org.save()
    balance = services.balance_get(org=org)
    assert (balance.balance, balance.currency) == (0, "EUR")
    assert services.balance_get(org=org).pk == balance.pk


def test_it_charges_and_records_balance_after(org):
    fund(org, 1000)
    entry = services.ledger_charge(org=org, amount=300, key="k1", kind="adjustment", description="x")
    assert (entry.amount, entry.balance_after, entry.currency) == (-300, 700, "USD")
    assert OrgBalance.objects.get(org=org).balance == 700
    assert_balance_is_sum_of_entries(org)


def test_the_same_key_twice_charges_once_and_returns_the_first_entry(org):
    fund(org, 1000)
    first = services.ledger_charge(org=org, amount=300, key="k1", kind="adjustment", description="x")
    again = services.ledger_charge(org=org, amount=300, key="k1", kind="adjustment", description="x")
    assert again.pk == first.pk
    assert OrgBalance.objects.get(org=org).balance == 700
    assert LedgerEntry.objects.filter(key="k1").count() == 1


def test_reusing_a_key_for_a_different_amount_is_a_conflict_and_changes_nothing(org):
    fund(org, 1000)
    services.ledger_charge(org=org, amount=300, key="k1", kind="adjustment", description="x")
    with pytest.raises(Conflict):
        services.ledger_charge(org=org, amount=301, key="k1", kind="adjustment", description="x")
    assert OrgBalance.objects.get(org=org).balance == 700


def test_insufficient_balance_raises_402_with_needed_and_available_and_writes_nothing(org):
    fund(org, 100)
    before = LedgerEntry.objects.count()
    with pytest.raises(InsufficientBalance) as excinfo:
        services.ledger_charge(org=org, amount=250, key="too-much", kind="adjustment", description="x")
    assert excinfo.value.status_code == 402
    assert excinfo.value.as_dict() == {"error": {
        "code": "insufficient_balance", "message": "Insufficient balance: 250 USD needed, 100 available",
        "needed": 250, "available": 100, "currency": "USD"}}
    assert LedgerEntry.objects.count() == before
    assert OrgBalance.objects.get(org=org).balance == 100


def test_an_org_without_a_balance_cannot_be_charged_and_gets_no_balance_row(org):
    with pytest.raises(InsufficientBalance):
        services.ledger_charge(org=org, amount=1, key="k", kind="adjustment", description="x")
    assert not OrgBalance.objects.filter(org=org).exists()


def test_a_charge_inside_a_rolled_back_transaction_leaves_no_trace(org):
    fund(org, 500)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.ledger_charge(org=org, amount=200, key="rolled-back", kind="adjustment", description="x")
        raise RuntimeError("the caller failed after charging")
    assert not LedgerEntry.objects.filter(key="rolled-back").exists()
    assert OrgBalance.objects.get(org=org).balance == 500


@pytest.mark.parametrize("amount", [-1, 1.5, "100", True, None])
def test_charge_and_credit_reject_amounts_that_are_not_non_negative_ints(org, amount):
    fund(org, 500)
    for service in (services.ledger_charge, services.ledger_credit):
        with pytest.raises(InvalidInput) as excinfo:
            service(org=org, amount=amount, key="bad", kind="adjustment", description="x")
        assert excinfo.value.field == "amount"
    assert not LedgerEntry.objects.filter(key="bad").exists()


def test_an_unknown_kind_is_refused(org):
    with pytest.raises(InvalidInput) as excinfo:
        services.ledger_credit(org=org, amount=1, key="k", kind="gift", description="x")
    assert excinfo.value.field == "kind"


def test_balance_equals_the_sum_of_entries_after_a_mixed_history(org):
    fund(org, 1000)
    for i in range(5):
        services.ledger_charge(org=org, amount=90 + i, key=f"c{i}", kind="adjustment", description="x")
    services.ledger_credit(org=org, amount=33, key="cr", kind="adjustment", description="x")
    with pytest.raises(InsufficientBalance):
        services.ledger_charge(org=org, amount=10_000, key="nope", kind="adjustment", description="x")
    assert_balance_is_sum_of_entries(org)
    entries = list(LedgerEntry.objects.filter(org=org).order_by("id"))
    running = 0
    for entry in entries:
        running += entry.amount
        assert entry.balance_after == running


class TestAppendOnly:
    @pytest.fixture
    def entry(self, org):
        fund(org, 100)
        return LedgerEntry.objects.get(org=org)

    def test_saving_an_existing_entry_is_refused(self, entry):
        entry.amount = 1_000_000
        with pytest.raises(LedgerIsAppendOnly):
            entry.save()
        assert LedgerEntry.objects.get(pk=entry.pk).amount == 100

    def test_deleting_an_entry_is_refused(self, entry):
        with pytest.raises(LedgerIsAppendOnly):
            entry.delete()
        assert LedgerEntry.objects.filter(pk=entry.pk).exists()

    def test_queryset_update_delete_and_bulk_update_are_refused(self, entry):
        with pytest.raises(LedgerIsAppendOnly):
            LedgerEntry.objects.filter(pk=entry.pk).update(amount=5)
        with pytest.raises(LedgerIsAppendOnly):
            LedgerEntry.objects.all().delete()
        with pytest.raises(LedgerIsAppendOnly):
            LedgerEntry.objects.bulk_update([entry], ["amount"])
        assert LedgerEntry.objects.get(pk=entry.pk).amount == 100

    @pytest.mark.postgres
    def test_the_database_refuses_raw_update_and_delete(self, entry):
        for sql in ("UPDATE billing_ledgerentry SET amount = 5 WHERE id = %s",
                    "DELETE FROM billing_ledgerentry WHERE id = %s"):
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(sql, [entry.pk])
        assert LedgerEntry.objects.get(pk=entry.pk).amount == 100

    @pytest.mark.postgres
    def test_the_database_refuses_a_negative_balance(self, org, entry):
        with pytest.raises(DatabaseError), transaction.atomic():
            OrgBalance.objects.filter(org=org).update(balance=-1)
        assert OrgBalance.objects.get(org=org).balance == 100


def test_the_balance_check_constraint_exists_on_every_database(org):
    from django.db import IntegrityError

    fund(org, 100)
    with pytest.raises(IntegrityError), transaction.atomic():
        OrgBalance.objects.filter(org=org).update(balance=-1)
    assert OrgBalance.objects.get(org=org).balance == 100


def test_usage_record_is_idempotent_on_key(org, number_factory):
    number = number_factory(org)
    first = services.usage_record(org=org, phone_number=number, kind="number_month", quantity=1,
                                  period=date(2025, 2, 15), key="usage:1")
    again = services.usage_record(org=org, phone_number=number, kind="number_month", quantity=1,
                                  period=date(2025, 2, 15), key="usage:1")
    assert again.pk == first.pk
    assert number.usage_records.count() == 1


@pytest.mark.parametrize("change", [{"kind": "fax_page"}, {"quantity": 0}, {"quantity": 1.5}, {"quantity": True},
                                    {"period": "2025-02"}])
def test_usage_record_rejects_bad_input(org, number_factory, change):
    number = number_factory(org)
    kwargs = {"org": org, "phone_number": number, "kind": "sms_segment", "quantity": 2,
              "period": date(2025, 2, 1), "key": "usage:bad", **change}
    with pytest.raises(InvalidInput) as excinfo:
        services.usage_record(**kwargs)
    assert excinfo.value.field == next(iter(change))
    assert not number.usage_records.exists()
