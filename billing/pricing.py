"""Import the provider's number prices into the price table (billing.models.Price), with a markup.

The price table stays what billing charges: an import only writes rows of it. Each number type
the provider prices in a country becomes (or updates) that country's row: the monthly fee is the
provider's current monthly price plus the markup, rounded up to the minor unit, in the provider's
price unit; the setup fee of an existing row is kept (Twilio charges none, so a new row has 0).
The provider's price and the markup are kept on the row (`provider_cost`, `markup_percent`).

Run by staff: `manage.py import_prices` and the price list's admin page (billing.admin).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from billing.models import Price
from core.errors import InvalidInput
from orgs.audit import audit_record
from orgs.models import ProviderConnection
from providers.base import CountryNumberPrices
from providers.registry import provider_for

MAX_MARKUP = Decimal(1000)  # percent: more is a typo
MAX_MONTHLY_FEE = 100_000_00  # minor units, as the admin's price form allows
_COUNTRY = re.compile(r"[A-Z]{2}")
_CURRENCY = re.compile(r"[A-Z]{3}")


@dataclass
class PriceImport:
    """What an import did: the rows written (created or changed), those already as imported, and why
    any country or type was left out."""

    created: list[Price] = field(default_factory=list)
    updated: list[Price] = field(default_factory=list)
    unchanged: list[Price] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def written(self) -> list[Price]:
        return self.created + self.updated

    def summary(self) -> str:
        return (f"{len(self.created)} created, {len(self.updated)} updated, {len(self.unchanged)} unchanged"
                + (f"; skipped: {'; '.join(self.skipped)}" if self.skipped else ""))


def markup_parse(value: object) -> Decimal:
    """A markup in percent, 0 to 1000, at most two decimals ("20", "12.5")."""
    try:
        markup = Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidInput(f"The markup must be a percentage, e.g. 20 or 12.5, not {value!r}",
                           field="markup") from None
    if not markup.is_finite() or markup < 0 or markup > MAX_MARKUP or markup.as_tuple().exponent < -2:
        raise InvalidInput(f"The markup must be 0 to {MAX_MARKUP} percent with at most two decimals, not {value!r}",
                           field="markup")
    return markup


def countries_parse(values: list[str] | str) -> list[str]:
    """ISO country codes from a list or a comma/space separated text; duplicates dropped, order kept."""
    items = re.split(r"[\s,]+", values) if isinstance(values, str) else list(values)
    countries = list(dict.fromkeys(item.strip().upper() for item in items if item and item.strip()))
    bad = [c for c in countries if not _COUNTRY.fullmatch(c)]
    if bad:
        raise InvalidInput(f"Not a two-letter country code: {', '.join(bad)}", field="countries")
    return countries


def minor_units(price: str) -> int:
    """A provider's decimal price in major units ("1.15") as minor units (115), rounded up."""
    try:
        amount = Decimal(price)
    except InvalidOperation:
        raise InvalidInput(f"The provider sent a price that is not a number: {price!r}", code="bad_price") from None
    if not amount.is_finite() or amount < 0:
        raise InvalidInput(f"The provider sent an impossible price: {price!r}", code="bad_price")
    return int((amount * 100).to_integral_value(rounding=ROUND_CEILING))


def with_markup(cost: int, markup: Decimal) -> int:
    """`cost` (minor units) plus `markup` percent, rounded up to the minor unit."""
    return int((Decimal(cost) * (100 + markup) / 100).to_integral_value(rounding=ROUND_CEILING))


def _apply(found: CountryNumberPrices, markup: Decimal, result: PriceImport, now, dry_run: bool) -> None:
    if not _CURRENCY.fullmatch(found.currency):
        result.skipped.append(f"{found.country}: no price unit ({found.currency!r})")
        return
    for kind in found.unknown_types:
        result.skipped.append(f"{found.country} {kind}: a number type not sold here")
    for offered in found.prices:
        cost = minor_units(offered.current_price)
        monthly = with_markup(cost, markup)
        if monthly > MAX_MONTHLY_FEE:
            result.skipped.append(f"{found.country} {offered.number_type}: {monthly} minor units a month is over "
                                  f"the limit of {MAX_MONTHLY_FEE}")
            continue
        price = Price.objects.filter(country=found.country, number_type=offered.number_type).first()
        values = {"monthly_fee": monthly, "currency": found.currency, "provider_cost": cost, "markup_percent": markup}
        if price is None:
            price = Price(country=found.country, number_type=offered.number_type, setup_fee=0, **values)
            bucket = result.created
        elif all(getattr(price, name) == value for name, value in values.items()):
            result.unchanged.append(price)
            continue
        else:
            for name, value in values.items():
                setattr(price, name, value)
            bucket = result.updated
        price.imported_at = now
        if not dry_run:
            price.save()
        bucket.append(price)


def prices_import(*, connection: ProviderConnection, countries: list[str] | None, markup: Decimal,
                  actor=None, dry_run: bool = False) -> PriceImport:
    """Read the provider's number prices for `countries` (None: every country it prices) through
    `connection`'s account and write them into the price table with `markup` percent.

    Provider calls come first, outside any transaction; the rows are then written in one. A
    country the provider does not price is reported in `skipped`. `dry_run`: nothing is written.
    Each written row goes in the audit log under `actor`.
    """
    markup = markup_parse(markup)
    provider = provider_for(connection)
    wanted = countries_parse(countries) if countries is not None else countries_parse(provider.number_price_countries())
    if not wanted:
        raise InvalidInput("Name at least one country (or all)", field="countries")
    fetched = [(country, provider.number_prices(country)) for country in wanted]
    result, now = PriceImport(), timezone.now()
    with transaction.atomic():
        for country, found in fetched:
            if found is None:
                result.skipped.append(f"{country}: the provider prices no numbers there")
                continue
            _apply(found, markup, result, now, dry_run)
        if not dry_run:
            for price in result.written:
                audit_record(actor=actor, org=None, action="billing.price_import", target=price,
                             after={"monthlyFee": price.monthly_fee, "currency": price.currency,
                                    "providerCost": price.provider_cost, "markupPercent": str(markup)},
                             note=f"Imported from {connection.get_type_display()} ({connection.account_id})")
    return result
