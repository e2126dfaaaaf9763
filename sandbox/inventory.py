"""The sandbox's numbers for sale: a deterministic, plausible inventory.

No database here: the offer list for a (country, type, prefix) is computed from a
hash of those inputs, so the same search always gives the same numbers and a
purchase can check that a number really was on sale. Which numbers are already
owned is the caller's business (see `sandbox.selectors`).

Every number is valid for its country and type according to `phonenumbers`.
Prefixes outside the tables still yield numbers when `phonenumbers` accepts
them, located with its geocoder.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
from collections import Counter
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType, geocoder

from sandbox.requirements import address_requirement

LOCAL, TOLL_FREE, MOBILE = "local", "tollFree", "mobile"
OFFERS_PER_PREFIX = 40


@dataclass(frozen=True)
class Area:
    locality: str
    region: str
    postal_code: str


US_AREAS: dict[str, Area] = {
    "415": Area("San Francisco", "CA", "94103"),
    "212": Area("New York", "NY", "10001"),
    "646": Area("New York", "NY", "10011"),
    "213": Area("Los Angeles", "CA", "90012"),
    "619": Area("San Diego", "CA", "92101"),
    "312": Area("Chicago", "IL", "60601"),
    "305": Area("Miami", "FL", "33130"),
    "404": Area("Atlanta", "GA", "30303"),
    "512": Area("Austin", "TX", "78701"),
    "713": Area("Houston", "TX", "77002"),
    "214": Area("Dallas", "TX", "75201"),
    "602": Area("Phoenix", "AZ", "85004"),
    "617": Area("Boston", "MA", "02108"),
    "702": Area("Las Vegas", "NV", "89101"),
    "720": Area("Denver", "CO", "80202"),
    "206": Area("Seattle", "WA", "98101"),
    "503": Area("Portland", "OR", "97204"),
    "615": Area("Nashville", "TN", "37203"),
    "202": Area("Washington", "DC", "20001"),
    "215": Area("Philadelphia", "PA", "19107"),
}
CA_AREAS: dict[str, Area] = {
    "416": Area("Toronto", "ON", "M5H"),
    "647": Area("Toronto", "ON", "M5V"),
    "613": Area("Ottawa", "ON", "K1P"),
    "514": Area("Montreal", "QC", "H2Y"),
    "604": Area("Vancouver", "BC", "V6B"),
    "403": Area("Calgary", "AB", "T2P"),
}
# Keyed by the national prefix without the trunk 0 (020 -> "20").
GB_AREAS: dict[str, Area] = {
    "20": Area("London", "England", "EC1A"),
    "161": Area("Manchester", "England", "M1"),
    "121": Area("Birmingham", "England", "B1"),
    "113": Area("Leeds", "England", "LS1"),
    "117": Area("Bristol", "England", "BS1"),
    "131": Area("Edinburgh", "Scotland", "EH1"),
    "141": Area("Glasgow", "Scotland", "G1"),
    "29": Area("Cardiff", "Wales", "CF10"),
    "28": Area("Belfast", "Northern Ireland", "BT1"),
}
NANP_TOLL_FREE = ("800", "833", "844", "855", "866", "877", "888")

# What the sandbox sells: (country, type) -> prefixes searched when no AreaCode is given.
# US and CA mobile are empty, as on real Twilio. A country absent here is not sold at all.
CATALOGUE: dict[tuple[str, str], tuple[str, ...]] = {
    ("US", LOCAL): tuple(US_AREAS),
    ("US", TOLL_FREE): NANP_TOLL_FREE,
    ("US", MOBILE): (),
    ("CA", LOCAL): tuple(CA_AREAS),
    ("CA", TOLL_FREE): NANP_TOLL_FREE,
    ("CA", MOBILE): (),
    ("GB", LOCAL): tuple(GB_AREAS),
    ("GB", TOLL_FREE): ("800", "808"),
    ("GB", MOBILE): ("74", "75", "77", "78", "79"),
    # Australia: the four geographic areas (02 NSW/ACT, 03 VIC/TAS, 07 QLD, 08 WA/SA/NT) and 04 mobiles;
    # its toll-free 1800 numbers (ten digits) are not sold here.
    ("AU", LOCAL): ("2", "3", "7", "8"),
    ("AU", MOBILE): ("4",),
}
AREAS = {"US": US_AREAS, "CA": CA_AREAS, "GB": GB_AREAS}
NUMBER_TYPES = {
    LOCAL: {PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE},
    TOLL_FREE: {PhoneNumberType.TOLL_FREE},
    MOBILE: {PhoneNumberType.MOBILE},
}
NATIONAL_LENGTH = {"US": 10, "CA": 10, "GB": 10, "AU": 9}
# Twilio's `type` value on an IncomingPhoneNumber.
TWILIO_TYPE = {LOCAL: "local", TOLL_FREE: "toll-free", MOBILE: "mobile"}


@dataclass(frozen=True)
class Offer:
    e164: str
    friendly_name: str
    iso_country: str
    number_type: str
    locality: str
    region: str
    postal_code: str
    voice: bool
    sms: bool
    mms: bool

    @property
    def rate_center(self) -> str:
        return self.locality.upper()

    @property
    def address_requirements(self) -> str:
        """Twilio's address requirement for the number (sandbox.requirements)."""
        return address_requirement(self.iso_country, self.number_type)


def sells(country: str) -> bool:
    return any(c == country for c, _ in CATALOGUE)


def default_prefixes(country: str, number_type: str) -> tuple[str, ...]:
    return CATALOGUE.get((country, number_type), ())


def _digits(seed: str, count: int) -> tuple[str, int]:
    """`count` pseudo-random digits and a spare integer, both fixed by `seed`."""
    value = int.from_bytes(hashlib.sha256(seed.encode()).digest(), "big")
    return str(value % 10**count).zfill(count), value >> 64


def _nanp_candidate(prefix: str, seed: str) -> str:
    rest, _ = _digits(seed, 7)
    exchange = str(2 + int(rest[0]) % 8) + rest[1:3]
    if exchange[1:] == "11" or exchange == "555":  # N11 service codes; 555 reads as fictional
        exchange = exchange[0] + "2" + exchange[2]
    return prefix + exchange + rest[3:]


def _capabilities(country: str, number_type: str, spare: int) -> tuple[bool, bool, bool]:
    """(voice, sms, mms), varying by number the way real inventory does."""
    if country == "GB":
        if number_type == MOBILE:
            return True, True, False
        return True, number_type == LOCAL and spare % 4 == 0, False
    sms = spare % 10 != 0
    return True, sms, sms and spare % 3 != 0


def _located(number: phonenumbers.PhoneNumber, country: str, prefix: str, number_type: str) -> Area:
    if number_type != LOCAL:
        return Area("", "", "")
    known = AREAS.get(country, {}).get(prefix)
    if known:
        return known
    # Outside our tables: the geocoder says "Boise, ID" (NANP) or "Leeds" (GB).
    description = geocoder.description_for_number(number, "en")
    if description == geocoder.country_name_for_number(number, "en"):
        return Area("", "", "")  # placed no closer than the country
    locality, _, region = description.partition(", ")
    return Area(locality if region or country not in ("US", "CA") else "", region, "")


@functools.lru_cache(maxsize=512)
def offers(country: str, number_type: str, prefix: str) -> tuple[Offer, ...]:
    """Every number on sale in `country` of `number_type` whose national number starts with `prefix`."""
    if not prefix.isdigit() or number_type not in NUMBER_TYPES:
        return ()
    calling_code = phonenumbers.country_code_for_region(country)
    length = NATIONAL_LENGTH.get(country)
    if not calling_code or not length or len(prefix) >= length:
        return ()
    found: dict[str, Offer] = {}
    for attempt in range(OFFERS_PER_PREFIX * 5):
        seed = f"{country}:{number_type}:{prefix}:{attempt}"
        if calling_code == 1:
            national = _nanp_candidate(prefix, seed)
        else:
            national = prefix + _digits(seed, length - len(prefix))[0]
        _, spare = _digits(seed, 1)
        number = phonenumbers.parse(f"+{calling_code}{national}")
        if not phonenumbers.is_valid_number(number):
            continue
        if phonenumbers.number_type(number) not in NUMBER_TYPES[number_type]:
            continue
        if number_type != TOLL_FREE and phonenumbers.region_code_for_number(number) != country:
            continue
        e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
        if e164 in found:
            continue
        area = _located(number, country, prefix, number_type)
        voice, sms, mms = _capabilities(country, number_type, spare)
        found[e164] = Offer(
            e164=e164, friendly_name=phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL),
            iso_country=country, number_type=number_type, locality=area.locality, region=area.region,
            postal_code=area.postal_code, voice=voice, sms=sms, mms=mms)
        if len(found) == OFFERS_PER_PREFIX:
            break
    return _with_prefix_region(tuple(found.values()))


def _with_prefix_region(found: tuple[Offer, ...]) -> tuple[Offer, ...]:
    """Numbers the geocoder could only place in a state get the prefix's most common region."""
    regions = Counter(offer.region for offer in found if offer.region)
    if not regions:
        return found
    common = regions.most_common(1)[0][0]
    return tuple(o if o.region else dataclasses.replace(o, region=common) for o in found)


def interleaved(lists: list[tuple[Offer, ...]]) -> list[Offer]:
    """Round-robin over several prefixes, so an open search shows a mix of places."""
    result: list[Offer] = []
    for index in range(max((len(lst) for lst in lists), default=0)):
        result.extend(lst[index] for lst in lists if index < len(lst))
    return result


def find_offer(e164: str) -> Offer | None:
    """The offer for this exact number, if the sandbox sells it at all (owned or not)."""
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return None
    national = str(number.national_number)
    if number.country_code == 1:
        if national[:3] in NANP_TOLL_FREE:
            candidates = [("US", TOLL_FREE, national[:3]), ("CA", TOLL_FREE, national[:3])]
        else:
            candidates = [(phonenumbers.region_code_for_number(number), LOCAL, national[:3])]
    elif number.country_code == 44:
        candidates = [("GB", kind, national[:size]) for kind in (LOCAL, MOBILE, TOLL_FREE) for size in range(2, 5)]
    else:  # a country whose prefixes are in the catalogue (Australia)
        region = phonenumbers.region_code_for_number(number)
        candidates = [(region, kind, national[:size]) for kind in (LOCAL, MOBILE, TOLL_FREE) for size in range(1, 3)
                      if national[:size] in default_prefixes(region, kind)]
    for country, number_type, prefix in candidates:
        for offer in offers(country, number_type, prefix):
            if offer.e164 == e164:
                return offer
    return None
