"""Reads of the sandbox emulator: what is on sale, what is owned, and Twilio-style paging."""
from __future__ import annotations

import functools
import operator
import re
from dataclasses import dataclass

import phonenumbers
from django.db.models import Q, QuerySet

from sandbox import inventory
from sandbox.inventory import Offer
from sandbox.models import SandboxNumber
from sandbox.twilio_json import INVALID_PARAMETER, TwilioApiError

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


def number_owner_exists(e164: str) -> bool:
    return SandboxNumber.objects.filter(phone_number=e164).exists()


def _owned_among(country: str, prefixes: list[str]) -> set[str]:
    code = phonenumbers.country_code_for_region(country)
    if not prefixes:
        return set()
    starts = functools.reduce(operator.or_, (Q(phone_number__startswith=f"+{code}{p}") for p in prefixes))
    return set(SandboxNumber.objects.filter(starts).values_list("phone_number", flat=True))


def first_available_in_area(area_code: str) -> Offer | None:
    """What buying by AreaCode gets: the first unowned local number there (US, then Canada)."""
    for country in ("US", "CA"):
        owned = _owned_among(country, [area_code])
        for offer in inventory.offers(country, inventory.LOCAL, area_code):
            if offer.e164 not in owned:
                return offer
    return None


def contains_regex(pattern: str) -> re.Pattern[str]:
    """Twilio's Contains: digits and letters (as on a keypad), `*` one digit, `%` any run of
    digits, a leading `+` anchors at the country code, a trailing `$` at the end."""
    if not 2 <= len(pattern) <= 16 or not re.fullmatch(r"\+?[0-9A-Za-z*%]+\$?", pattern):
        raise TwilioApiError(400, INVALID_PARAMETER, f"Contains {pattern!r} is not a valid pattern")
    anchored_start, anchored_end = pattern.startswith("+"), pattern.endswith("$")
    body = phonenumbers.convert_alpha_characters_in_number(pattern.strip("+$").upper())
    regex = "".join(r"\d" if ch == "*" else r"\d*" if ch == "%" else re.escape(ch) for ch in body)
    return re.compile(("^" if anchored_start else "") + regex + ("$" if anchored_end else ""))


@dataclass(frozen=True)
class Search:
    country: str
    number_type: str
    area_code: str = ""
    contains: str = ""
    in_region: str = ""
    in_locality: str = ""
    in_postal_code: str = ""
    in_rate_center: str = ""
    sms: bool | None = None
    voice: bool | None = None
    mms: bool | None = None
    fax: bool | None = None
    # Exclude*AddressRequired: leave out numbers that need an address of that kind ("any" is of every kind).
    exclude_address: frozenset[str] = frozenset()
    page_size: int = DEFAULT_PAGE_SIZE

    def place_matches(self, offer: Offer) -> bool:
        """InRegion, InLocality, InPostalCode and InRateCenter, compared as Twilio does (case aside)."""
        rate_center = offer.rate_center if offer.iso_country in ("US", "CA") else ""  # a NANP notion
        wanted = ((self.in_region, offer.region), (self.in_locality, offer.locality),
                  (self.in_postal_code, offer.postal_code), (self.in_rate_center, rate_center))
        return all(not want or want.strip().lower() == have.lower() for want, have in wanted)


def available_offers(search: Search) -> list[Offer]:
    """AvailablePhoneNumbers: the first page_size unowned numbers matching every filter."""
    area_code = search.area_code.lstrip("0") if search.country == "GB" else search.area_code
    if area_code and not area_code.isdigit():
        raise TwilioApiError(400, 21451, f"AreaCode {search.area_code} is invalid")
    prefixes = [area_code] if area_code else list(inventory.default_prefixes(search.country, search.number_type))
    pattern = contains_regex(search.contains) if search.contains else None
    pool = inventory.interleaved([inventory.offers(search.country, search.number_type, p) for p in prefixes])
    owned = _owned_among(search.country, prefixes)
    wanted = {"sms": search.sms, "voice": search.voice, "mms": search.mms}
    found: list[Offer] = []
    for offer in pool:
        if offer.e164 in owned:
            continue
        if not search.place_matches(offer) or offer.address_requirements in search.exclude_address:
            continue
        if search.fax:  # no number on sale here takes fax
            continue
        if pattern and not pattern.search(offer.e164.lstrip("+")):
            continue
        if any(value is not None and getattr(offer, name) != value for name, value in wanted.items()):
            continue
        found.append(offer)
        if len(found) == search.page_size:
            break
    return found


def page_size_param(raw: str | None) -> int:
    if not raw:
        return DEFAULT_PAGE_SIZE
    if not raw.isdigit() or int(raw) < 1:
        raise TwilioApiError(400, INVALID_PARAMETER, f"PageSize {raw!r} is not a positive integer")
    return min(int(raw), MAX_PAGE_SIZE)


@dataclass(frozen=True)
class Page:
    items: list
    page: int
    page_size: int
    next_token: str | None


def paginated(queryset: QuerySet, params: dict[str, str], *, newest_first: bool = False) -> Page:
    """One page in primary-key order. PageToken (`PA<pk>` of the last row seen) keeps pages
    stable while rows are added or removed; a bare Page number is an offset, as Twilio allows."""
    page_size = page_size_param(params.get("PageSize"))
    page_raw, token = params.get("Page") or "0", params.get("PageToken") or ""
    if not page_raw.isdigit():
        raise TwilioApiError(400, INVALID_PARAMETER, f"Page {page_raw!r} is not a number")
    page = int(page_raw)
    queryset = queryset.order_by("-pk" if newest_first else "pk")
    if token:
        if not re.fullmatch(r"PA\d+", token):
            raise TwilioApiError(400, INVALID_PARAMETER, f"PageToken {token!r} is invalid")
        after = int(token[2:])
        rest = queryset.filter(pk__lt=after) if newest_first else queryset.filter(pk__gt=after)
        rows = list(rest[:page_size + 1])
    else:
        rows = list(queryset[page * page_size:(page + 1) * page_size + 1])
    more = len(rows) > page_size
    rows = rows[:page_size]
    return Page(items=rows, page=page, page_size=page_size, next_token=f"PA{rows[-1].pk}" if more else None)
