from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.ids import PublicIdField
from orgs.models import Org
from phones.models import NumberType, PhoneNumber


class Price(models.Model):
    """What a number of one country and type costs: setup once, then monthly. Minor units."""

    country = models.CharField(max_length=2)
    number_type = models.CharField(max_length=10, choices=NumberType.choices)
    setup_fee = models.PositiveIntegerField(default=0)
    monthly_fee = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="USD")
    updated_at = models.DateTimeField(auto_now=True)
    # Set by a price import (billing.pricing): what the provider charges a month, the markup the
    # monthly fee was made with, and when. Empty for a price staff set by hand.
    provider_cost = models.PositiveIntegerField(null=True, blank=True,
                                                help_text="The provider's monthly price, minor units (imported).")
    markup_percent = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True,
                                         help_text="The markup on the provider's price (imported).")
    imported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["country", "number_type"]
        constraints = [models.UniqueConstraint(fields=["country", "number_type"], name="price_country_type_unique")]

    def __str__(self) -> str:
        return f"{self.country} {self.number_type}: {self.setup_fee}+{self.monthly_fee}/mo {self.currency}"

    def as_dict(self) -> dict:
        return {"setupFee": self.setup_fee, "monthlyFee": self.monthly_fee, "currency": self.currency}


class OrgBalance(models.Model):
    """An org's money, in minor units of `currency`: a cache of the sum of its ledger entries.

    Every change locks this row (`select_for_update`) in the same transaction that
    appends the ledger entry, so concurrent charges serialise on it; the check
    constraint is the backstop if some code path ever forgets.
    """

    org = models.OneToOneField(Org, on_delete=models.CASCADE, related_name="billing_balance")
    balance = models.BigIntegerField(default=0, help_text="Minor units.")
    currency = models.CharField(max_length=3)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["org_id"]
        constraints = [models.CheckConstraint(condition=Q(balance__gte=0), name="orgbalance_not_negative")]

    def __str__(self) -> str:
        return f"{self.org}: {self.balance} {self.currency}"


class LedgerIsAppendOnly(Exception):
    """Raised on any attempt to change or remove a ledger entry: corrections are reversal entries."""


class LedgerEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise LedgerIsAppendOnly("Ledger entries cannot be updated; write a reversal entry instead.")

    def delete(self):
        raise LedgerIsAppendOnly("Ledger entries cannot be deleted; write a reversal entry instead.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise LedgerIsAppendOnly("Ledger entries cannot be updated; write a reversal entry instead.")


class LedgerEntry(models.Model):
    """One movement of an org's money. Append-only: never updated, never deleted.

    `amount` is signed (credits positive, charges negative) and `balance_after` is
    the org's balance once it was applied. `key` is unique: a retried job that
    posts the same key again gets the existing entry back and changes nothing.
    On PostgreSQL a trigger (migration 0004) refuses UPDATE and DELETE too.
    """

    class Kind(models.TextChoices):
        TOPUP = "topup"
        PURCHASE_HOLD = "purchase_hold"
        PURCHASE_HOLD_REVERSAL = "purchase_hold_reversal"
        MONTHLY = "monthly"
        REFUND = "refund"
        ADJUSTMENT = "adjustment"

    public_id = PublicIdField(prefix="le")
    org = models.ForeignKey(Org, on_delete=models.PROTECT, related_name="ledger_entries")
    amount = models.BigIntegerField(help_text="Minor units; negative for charges.")
    balance_after = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    key = models.CharField(max_length=128, unique=True)
    description = models.CharField(max_length=255)
    # PROTECT, not SET_NULL: nulling the column would be an UPDATE of the entry.
    phone_number = models.ForeignKey(PhoneNumber, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="ledger_entries")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    metadata = models.JSONField(default=dict, blank=True)

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "ledger entries"
        indexes = [models.Index(fields=["org", "-created_at", "-id"], name="ledger_org_created")]

    def __str__(self) -> str:
        return f"{self.key}: {self.amount} {self.currency}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise LedgerIsAppendOnly("Ledger entries cannot be updated; write a reversal entry instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise LedgerIsAppendOnly("Ledger entries cannot be deleted; write a reversal entry instead.")


class UsageRecord(models.Model):
    """A quantity of something billable used in a period: number-months now; SMS and call minutes later."""

    class Kind(models.TextChoices):
        NUMBER_MONTH = "number_month"
        SMS_SEGMENT = "sms_segment"
        CALL_MINUTE = "call_minute"
        # Seconds of an AI agent's realtime session on a call (the media gateway records them).
        AI_SECOND = "ai_second"

    # No index of its own: usage_org_kind_period (org, kind, period) serves it.
    org = models.ForeignKey(Org, on_delete=models.PROTECT, related_name="usage_records", db_index=False)
    phone_number = models.ForeignKey(PhoneNumber, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="usage_records")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    quantity = models.PositiveIntegerField()
    period = models.DateField(help_text="First day of the period the usage belongs to.")
    key = models.CharField(max_length=128, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period", "-id"]
        indexes = [models.Index(fields=["org", "kind", "period"], name="usage_org_kind_period")]

    def __str__(self) -> str:
        return f"{self.kind} ×{self.quantity} ({self.period})"


class PastDueNumber(PhoneNumber):
    """Numbers whose org could not pay a renewal: listed for staff, never released automatically."""

    class Meta:
        proxy = True
        verbose_name = "past due number"
