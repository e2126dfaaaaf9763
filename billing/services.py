"""Billing services: every write to an org's money goes through here.

The rules, in one place:
- Amounts are integer minor units of the org balance's currency. No floats.
- Each change locks the org's `OrgBalance` row (`select_for_update`) and appends
  one `LedgerEntry` in the same transaction, so concurrent charges serialise and
  the balance always equals the sum of the entries.
- Every entry has a unique key. Posting a key that already exists returns the
  existing entry and changes nothing, so a retried job can never charge or
  refund twice. The same key with a different amount is a bug and raises.
- A charge the balance cannot cover raises `InsufficientBalance` (402) and
  writes nothing.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from billing.models import LedgerEntry, OrgBalance, UsageRecord
from billing.periods import add_months, period_bounds, period_key, prorated_refund, unused_days
from core.errors import Conflict, DomainError, InsufficientBalance, InvalidInput
from core.insert_rows import insert_rows
from orgs.models import Org
from phones.models import PhoneNumber

# A top-up above this is a typo (an extra zero or two), not a payment: 10 million in major units.
MAX_TOPUP = 1_000_000_000
_CURRENCY_RE = re.compile(r"[A-Z]{3}")


def hold_key(phone_number: PhoneNumber) -> str:
    return f"purchase-hold:{phone_number.public_id}"


def hold_reversal_key(phone_number: PhoneNumber) -> str:
    return f"purchase-hold-reversal:{phone_number.public_id}"


def monthly_key(phone_number: PhoneNumber, period_start: date) -> str:
    return f"monthly:{phone_number.public_id}:{period_key(period_start)}"


def refund_key(phone_number: PhoneNumber) -> str:
    return f"refund:{phone_number.public_id}"


def number_month_key(phone_number: PhoneNumber, period_start: date) -> str:
    """The usage record of one number-month: recorded once per period, however often a job retries."""
    return f"number-month:{phone_number.public_id}:{period_key(period_start)}"


def _is_int(value: object) -> bool:
    # bool is an int subclass: True must not top up 1 cent.
    return isinstance(value, int) and not isinstance(value, bool)


def _require_amount(amount: object, *, allow_zero: bool) -> int:
    if not _is_int(amount):
        raise InvalidInput(f"amount must be a whole number of minor units, got {amount!r}", field="amount")
    if amount < 0 or (amount == 0 and not allow_zero):
        raise InvalidInput(f"amount must be {'zero or ' if allow_zero else ''}positive, got {amount}", field="amount")
    return amount


def _lock_balance(org: Org) -> OrgBalance:
    """The org's balance row, locked until the surrounding transaction ends (created at 0 if missing)."""
    balance, _ = OrgBalance.objects.select_for_update().get_or_create(org=org, defaults={"currency": org.currency})
    return balance


def locked_balance(*, org: Org) -> OrgBalance:
    """The org's balance, locked until the caller's transaction ends (a check that several charges
    fit, before they are posted)."""
    return _lock_balance(org)


def balance_get(*, org: Org) -> OrgBalance:
    balance, _ = OrgBalance.objects.get_or_create(org=org, defaults={"currency": org.currency})
    return balance


def _post(*, org: Org, amount: int, key: str, kind: str, description: str, phone_number: PhoneNumber | None = None,
          created_by: AbstractBaseUser | None = None, currency: str | None = None,
          metadata: dict | None = None) -> LedgerEntry:
    """Append one signed entry under the balance lock; idempotent on `key`."""
    if kind not in LedgerEntry.Kind.values:
        raise InvalidInput(f"Unknown ledger entry kind {kind!r}", field="kind")
    if not isinstance(key, str) or not key or len(key) > LedgerEntry._meta.get_field("key").max_length:
        raise InvalidInput("key must be a non-empty string of at most 128 characters", field="key")
    with transaction.atomic():
        balance = _lock_balance(org)
        existing = LedgerEntry.objects.filter(key=key).first()
        if existing is not None:
            if existing.org_id != org.pk or existing.amount != amount or existing.kind != kind:
                raise Conflict(f"Ledger key {key!r} was already used for a different entry",
                               code="ledger_key_conflict")
            return existing
        if currency is not None and currency != balance.currency:
            raise InvalidInput(f"The org's balance is in {balance.currency}, not {currency}", field="currency")
        new_balance = balance.balance + amount
        if new_balance < 0:
            raise InsufficientBalance(
                f"Insufficient balance: {-amount} {balance.currency} needed, {balance.balance} available",
                needed=-amount, available=balance.balance, currency=balance.currency)
        entry = LedgerEntry.objects.create(
            org=org, amount=amount, balance_after=new_balance, currency=balance.currency, kind=kind, key=key,
            description=description[:255], phone_number=phone_number, created_by=created_by, metadata=metadata or {})
        balance.balance = new_balance
        balance.save(update_fields=["balance", "updated_at"])
    return entry


def ledger_charge(*, org: Org, amount: int, key: str, kind: str, description: str,
                  phone_number: PhoneNumber | None = None, created_by: AbstractBaseUser | None = None,
                  metadata: dict | None = None) -> LedgerEntry:
    """Take `amount` (>= 0, minor units) from the org's balance. Raises InsufficientBalance, writing nothing."""
    amount = _require_amount(amount, allow_zero=True)
    return _post(org=org, amount=-amount, key=key, kind=kind, description=description, phone_number=phone_number,
                 created_by=created_by, metadata=metadata)


def ledger_credit(*, org: Org, amount: int, key: str, kind: str, description: str,
                  phone_number: PhoneNumber | None = None, created_by: AbstractBaseUser | None = None,
                  metadata: dict | None = None) -> LedgerEntry:
    """Give `amount` (>= 0, minor units) to the org's balance."""
    amount = _require_amount(amount, allow_zero=True)
    return _post(org=org, amount=amount, key=key, kind=kind, description=description, phone_number=phone_number,
                 created_by=created_by, metadata=metadata)


def purchase_hold(*, phone_number: PhoneNumber, created_by: AbstractBaseUser | None = None) -> LedgerEntry:
    """Charge setup fee + first month for a number being bought. Joins the caller's transaction if any.

    The number must already be saved (its public id names the key). The first
    month it pays for is the period starting on the purchase date.
    """
    setup, monthly = phone_number.setup_fee, phone_number.monthly_fee
    return _post(
        org=phone_number.org, amount=-(setup + monthly), key=hold_key(phone_number),
        kind=LedgerEntry.Kind.PURCHASE_HOLD, currency=phone_number.currency,
        description=f"Phone number setup + first month: {phone_number.e164}", phone_number=phone_number,
        created_by=created_by, metadata={"setupFee": setup, "monthlyFee": monthly})


def purchase_hold_reverse(*, phone_number: PhoneNumber, reason: str) -> LedgerEntry | None:
    """Give back a purchase hold (the purchase failed). Once only; None if there was no hold."""
    hold = LedgerEntry.objects.filter(key=hold_key(phone_number)).first()
    if hold is None:
        return None
    return _post(
        org=hold.org, amount=-hold.amount, key=hold_reversal_key(phone_number),
        kind=LedgerEntry.Kind.PURCHASE_HOLD_REVERSAL,
        description=f"Purchase of {phone_number.e164} reversed: {reason}", phone_number=phone_number,
        metadata={"reverses": hold.public_id, "reason": reason})


def _period_payment(*, phone_number: PhoneNumber, period_start: date, period_end: date,
                    purchase_day: date) -> tuple[int, LedgerEntry | None]:
    """What the ledger says was paid for this number's monthly fee in the period (not the setup
    fee), and the entry that paid it: its org is who a refund goes back to."""
    first_period_end = add_months(purchase_day, 1, anchor_day=purchase_day.day)
    if period_end <= first_period_end:
        # The first period was paid by the purchase hold, unless the hold was reversed.
        entries = {e.key: e for e in LedgerEntry.objects.filter(
            key__in=[hold_key(phone_number), hold_reversal_key(phone_number)])}
        hold = entries.get(hold_key(phone_number))
        if hold is None or hold_reversal_key(phone_number) in entries:
            return 0, None
        return min(-hold.amount, int(hold.metadata.get("monthlyFee", 0))), hold
    charge = LedgerEntry.objects.filter(key=monthly_key(phone_number, period_start)).first()
    return (-charge.amount, charge) if charge is not None else (0, None)


@dataclass(frozen=True)
class RefundPlan:
    amount: int
    payer: LedgerEntry | None
    period_start: date | None = None
    period_end: date | None = None
    paid: int = 0


def _refund_plan(phone_number: PhoneNumber, released_on: date) -> RefundPlan:
    """The prorated refund for releasing on `released_on`:

        min(paid, floor(monthly_fee × unused_days / days_in_period))

    over the current period [next_billing_date - 1 month, next_billing_date) on the purchase
    day-of-month, where the release day counts as used and `paid` is what the ledger shows was
    charged for that period (the hold's monthly part for the first period, the `monthly:` entry
    after that; 0 if unpaid, e.g. past due). Callers check it was not refunded already.
    """
    if phone_number.purchased_at is None or phone_number.next_billing_date is None:
        return RefundPlan(0, None)
    purchase_day = timezone.localdate(phone_number.purchased_at)
    start, end = period_bounds(next_billing_date=phone_number.next_billing_date, anchor_day=purchase_day.day)
    paid, payer = _period_payment(phone_number=phone_number, period_start=start, period_end=end,
                                  purchase_day=purchase_day)
    amount = prorated_refund(monthly_fee=phone_number.monthly_fee, paid=paid, period_start=start, period_end=end,
                             released_on=released_on)
    return RefundPlan(amount, payer, start, end, paid)


def release_final_billing(*, phone_number: PhoneNumber, released_at: datetime, refund: int) -> dict:
    """The release's final billing: the refund (minor units) and what it is for, e.g.
    "Prorated refund for 15 days remaining in billing cycle"."""
    plan = _refund_plan(phone_number, timezone.localdate(released_at))
    days = (unused_days(period_start=plan.period_start, period_end=plan.period_end,
                        released_on=timezone.localdate(released_at)) if plan.period_start else 0)
    plural = "day" if days == 1 else "days"
    if refund:
        description = f"Prorated refund for {days} {plural} remaining in billing cycle"
    elif days and not plan.paid:
        description = f"No refund: {days} {plural} remaining in a billing cycle that was not paid"
    else:
        description = f"No refund: {days} {plural} remaining in billing cycle"
    return {"proratedRefund": refund, "currency": phone_number.currency, "description": description}


def release_refund_preview(*, phone_number: PhoneNumber, on: date | None = None) -> int:
    """What releasing the number on `on` (default today) would refund; nothing is written."""
    if LedgerEntry.objects.filter(key=refund_key(phone_number)).exists():
        return 0  # refunded once already: never twice
    return _refund_plan(phone_number, on or timezone.localdate()).amount


def release_refund(*, phone_number: PhoneNumber, released_at: datetime) -> int:
    """Credit the prorated refund for the unused part of the current period; return it (minor units).

    The refund goes to the org that paid for the period, which is not the number's org when
    staff moved the number to another org within the period. Once only (key
    `refund:<public_id>`); nothing is written when the refund is 0.
    """
    existing = LedgerEntry.objects.filter(key=refund_key(phone_number)).first()
    if existing is not None:
        return existing.amount
    released_on = timezone.localdate(released_at)
    plan = _refund_plan(phone_number, released_on)
    if plan.amount == 0:
        return 0
    entry = _post(
        org=plan.payer.org, amount=plan.amount, key=refund_key(phone_number), kind=LedgerEntry.Kind.REFUND,
        description=f"Prorated refund for {phone_number.e164}: released {released_on.isoformat()}",
        phone_number=phone_number,
        metadata={"periodStart": plan.period_start.isoformat(), "periodEnd": plan.period_end.isoformat(),
                  "releasedOn": released_on.isoformat(), "paid": plan.paid})
    return entry.amount


def ledger_topup(*, org: Org, amount: int, currency: str | None = None, reason: str,
                 created_by: AbstractBaseUser | None = None, key: str | None = None) -> LedgerEntry:
    """A staff top-up (there is no self-service top-up without a payment provider).

    `key` makes a resubmitted admin form idempotent; without it every call is a new top-up.
    """
    if created_by is not None and not getattr(created_by, "is_staff", False):
        raise DomainError("Only staff can top up a balance", code="staff_only", status_code=403)
    amount = _require_amount(amount, allow_zero=False)
    if amount > MAX_TOPUP:
        raise InvalidInput(f"amount must be at most {MAX_TOPUP} minor units", field="amount")
    if currency is not None and (not isinstance(currency, str) or not _CURRENCY_RE.fullmatch(currency)):
        raise InvalidInput(f"Unknown currency {currency!r}: use a three-letter ISO 4217 code", field="currency")
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("A reason is required", field="reason")
    reason = reason.strip()
    return _post(
        org=org, amount=amount, key=f"topup:{key or uuid.uuid4().hex}", kind=LedgerEntry.Kind.TOPUP,
        currency=currency or org.currency, description=f"Top-up: {reason}", created_by=created_by,
        metadata={"reason": reason})


def usage_record(*, org: Org, phone_number: PhoneNumber | None, kind: str, quantity: int, period: date,
                 key: str) -> UsageRecord:
    """Record billable usage once per key (a retried status callback records nothing twice)."""
    if kind not in UsageRecord.Kind.values:
        raise InvalidInput(f"Unknown usage kind {kind!r}", field="kind")
    if not _is_int(quantity) or quantity <= 0:
        raise InvalidInput(f"quantity must be a positive whole number, got {quantity!r}", field="quantity")
    if not isinstance(period, date) or isinstance(period, datetime):
        raise InvalidInput("period must be a date", field="period")
    record, created = UsageRecord.objects.get_or_create(
        key=key, defaults={"org": org, "phone_number": phone_number, "kind": kind, "quantity": quantity,
                           "period": period})
    if not created and (record.org_id != org.pk or record.kind != kind or record.quantity != quantity):
        raise Conflict(f"Usage key {key!r} was already used for a different record", code="usage_key_conflict")
    return record



class Usage(NamedTuple):
    """One usage record for usage_record_many."""

    org_id: int
    phone_number_id: int | None
    kind: str
    quantity: int
    period: date
    key: str


def usage_record_many(records: list[Usage]) -> None:
    """usage_record for many at once, in one statement (core.insert_rows): a key already recorded
    is left as it is."""
    kinds = UsageRecord.Kind.values
    for record in records:
        if record.kind not in kinds or not _is_int(record.quantity) or record.quantity <= 0:
            raise InvalidInput(f"Bad usage record {record.key!r}: {record.kind} ×{record.quantity!r}", field="quantity")
        if not isinstance(record.period, date) or isinstance(record.period, datetime):
            raise InvalidInput(f"Bad usage record {record.key!r}: period must be a date", field="period")
    insert_rows(UsageRecord, ("org", "phone_number", "kind", "quantity", "period", "key"), records,
                ignore_conflicts=True)


# ---------------------------------------------------------------- broadcasts: a hold, settled to what was sent

def broadcast_hold(*, org: Org, broadcast_id: str, amount: int, description: str,
                   created_by: AbstractBaseUser | None = None) -> LedgerEntry:
    """Hold a broadcast's estimated cost (minor units) before anything is sent, as a purchase holds
    its price: InsufficientBalance (402), writing nothing, when the balance is short. Joins the
    caller's transaction; once per broadcast (key `broadcast-hold:<id>`)."""
    return _post(org=org, amount=-_require_amount(amount, allow_zero=True), key=f"broadcast-hold:{broadcast_id}",
                 kind=LedgerEntry.Kind.PURCHASE_HOLD, description=description, created_by=created_by,
                 metadata={"broadcast": broadcast_id, "estimate": amount})


def broadcast_hold_settle(*, org: Org, broadcast_id: str, actual: int) -> LedgerEntry | None:
    """Settle the hold to the `actual` cost of what was sent: the rest is given back, once (key
    `broadcast-settle:<id>`). What was sent never costs more than was held (the estimate counts
    every segment of every recipient); None when nothing is left to give back."""
    hold = LedgerEntry.objects.filter(key=f"broadcast-hold:{broadcast_id}").first()
    if hold is None:
        return None
    back = max(-hold.amount - _require_amount(actual, allow_zero=True), 0)
    if back == 0:
        return None
    return _post(org=org, amount=back, key=f"broadcast-settle:{broadcast_id}",
                 kind=LedgerEntry.Kind.PURCHASE_HOLD_REVERSAL,
                 description=f"Broadcast settled: {actual} of {-hold.amount} held was sent",
                 metadata={"broadcast": broadcast_id, "held": -hold.amount, "actual": actual,
                           "reverses": hold.public_id})
