"""The emulator's slice of Twilio's Pricing API v1 (pricing.twilio.com): the monthly price of a
phone number of each type, country by country (PhoneNumbers/Countries and
PhoneNumbers/Countries/{IsoCountry}). Read-only and the same for every account, as on Twilio.

The price list covers more countries than the sandbox sells numbers in: a price import
(billing.pricing) reads it, whatever the inventory. Prices are in USD, the price unit of a US
account; v1 lists use the `meta` envelope with absolute URLs.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from sandbox.models import SandboxAccount
from sandbox.selectors import page_size_param
from sandbox.twilio_json import INVALID_PARAMETER, TwilioApiError, not_found
from sandbox.views import twilio_endpoint, v1_account, v1_meta

PRICING_ROOT = "https://pricing.twilio.com/v1"
FAULT_RESOURCE = "Pricing"
PRICE_UNIT = "USD"

# ISO country → (name, {Twilio's number type: (base price, current price)}). A current price below the
# base one is a discount, as Twilio shows it. "national" and "shared cost" are types the platform
# does not sell: an import reports and skips them.
COUNTRY_PRICES: dict[str, tuple[str, dict[str, tuple[str, str]]]] = {
    "US": ("United States", {"local": ("1.15", "1.15"), "toll free": ("2.15", "2.15")}),
    "CA": ("Canada", {"local": ("1.15", "1.15"), "toll free": ("2.15", "2.15")}),
    "GB": ("United Kingdom", {"local": ("1.15", "1.15"), "mobile": ("1.15", "1.15"), "toll free": ("2.15", "2.15")}),
    "AU": ("Australia", {"local": ("3.00", "3.00"), "mobile": ("6.50", "6.50"), "toll free": ("16.00", "16.00")}),
    "DE": ("Germany", {"local": ("1.00", "1.00"), "national": ("1.00", "1.00"), "mobile": ("15.00", "15.00"),
                       "toll free": ("20.00", "20.00")}),
    "FR": ("France", {"local": ("1.00", "1.00"), "mobile": ("2.00", "1.80"), "toll free": ("20.00", "20.00")}),
    "IE": ("Ireland", {"local": ("2.00", "2.00"), "mobile": ("6.00", "6.00")}),
    "ES": ("Spain", {"local": ("1.00", "1.00"), "shared cost": ("3.00", "3.00"), "toll free": ("25.00", "25.00")}),
    "NL": ("Netherlands", {"local": ("1.00", "1.00"), "mobile": ("6.00", "6.00"), "toll free": ("18.00", "18.00")}),
    "SE": ("Sweden", {"local": ("1.00", "1.00"), "mobile": ("3.00", "3.00")}),
    "JP": ("Japan", {"local": ("4.50", "4.50"), "toll free": ("22.00", "22.00")}),
    "MX": ("Mexico", {"local": ("4.25", "4.25"), "toll free": ("30.00", "30.00")}),
}


def _price(value: str) -> float:
    """The spec types prices as JSON numbers; written with their two decimals (1.15, never 1.1499…)."""
    return float(Decimal(value))


def country_json(iso: str) -> dict[str, Any]:
    name, _ = COUNTRY_PRICES[iso]
    return {"country": name, "iso_country": iso, "url": f"{PRICING_ROOT}/PhoneNumbers/Countries/{iso}"}


def country_prices_json(iso: str) -> dict[str, Any]:
    _, prices = COUNTRY_PRICES[iso]
    return {**country_json(iso), "price_unit": PRICE_UNIT, "phone_number_prices": [
        {"number_type": kind, "base_price": _price(base), "current_price": _price(current)}
        for kind, (base, current) in prices.items()]}


pricing_endpoint = twilio_endpoint(FAULT_RESOURCE, ("GET",), account_of=v1_account)


@pricing_endpoint
def countries(request: HttpRequest, account: SandboxAccount) -> HttpResponse:
    """GET /v1/PhoneNumbers/Countries: every priced country, in pages (Page is an offset)."""
    params = dict(request.GET.items())
    refused = sorted(set(params) - {"PageSize", "Page", "PageToken"})
    if refused:
        raise TwilioApiError(400, INVALID_PARAMETER, f"Unknown parameter {', '.join(refused)}")
    page_size = page_size_param(params.get("PageSize"))
    raw_page = params.get("Page") or "0"
    if not raw_page.isdigit():
        raise TwilioApiError(400, INVALID_PARAMETER, f"Page {raw_page!r} is not a number")
    page = int(raw_page)
    isos = sorted(COUNTRY_PRICES)
    shown = isos[page * page_size:(page + 1) * page_size]
    return JsonResponse({"countries": [country_json(iso) for iso in shown], "meta": v1_meta(
        PRICING_ROOT, "/PhoneNumbers/Countries", key="countries", page=page, page_size=page_size,
        more=len(isos) > (page + 1) * page_size)})


@pricing_endpoint
def country(request: HttpRequest, account: SandboxAccount, iso_country: str) -> HttpResponse:
    """GET /v1/PhoneNumbers/Countries/{IsoCountry}; a country with no price list is Twilio's 404."""
    if request.GET:
        raise TwilioApiError(400, INVALID_PARAMETER, f"Unknown parameter {', '.join(sorted(request.GET))}")
    iso = iso_country.upper()
    if iso not in COUNTRY_PRICES:
        return not_found(f"/v1/PhoneNumbers/Countries/{iso_country}")
    return JsonResponse(country_prices_json(iso))
