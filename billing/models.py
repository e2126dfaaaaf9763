from __future__ import annotations

from django.db import models

from phones.models import NumberType


class Price(models.Model):
    """What a number of one country and type costs: setup once, then monthly. Minor units."""

    country = models.CharField(max_length=2)
    number_type = models.CharField(max_length=10, choices=NumberType.choices)
    setup_fee = models.PositiveIntegerField(default=0)
    monthly_fee = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="USD")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["country", "number_type"]
        constraints = [models.UniqueConstraint(fields=["country", "number_type"], name="price_country_type_unique")]

    def __str__(self) -> str:
        return f"{self.country} {self.number_type}: {self.setup_fee}+{self.monthly_fee}/mo {self.currency}"

    def as_dict(self) -> dict:
        return {"setupFee": self.setup_fee, "monthlyFee": self.monthly_fee, "currency": self.currency}
