"""The emulator's regulatory side: which numbers need an address, the Addresses resource, and the
check a purchase (POST IncomingPhoneNumbers) goes through.

As on Twilio, an AvailablePhoneNumber says what address it needs (`address_requirements`):
`none`, `any` (an address anywhere), `local` (an address in the number's country) or `foreign`
(an address outside it). Buying one without an AddressSid that meets it is refused with Twilio's
code, and nothing is bought. The requirements emulated (`ADDRESS_REQUIREMENTS`): GB local
numbers need an address anywhere, GB mobiles one in the United Kingdom; GB toll-free, US and
Canadian numbers need none.

No import of `sandbox.inventory` here: it asks this module for the requirement of its offers.
"""
from __future__ import annotations

from typing import Any

from sandbox.models import SandboxAccount, SandboxAddress, new_sid
from sandbox.requirements import FOREIGN, LOCAL, NONE, address_requirement
from sandbox.twilio_json import INVALID_PARAMETER, TwilioApiError, account_path, rfc2822

# Twilio's refusals of a purchase without the address the number needs.
ADDRESS_REQUIRED = 21631
LOCAL_ADDRESS_REQUIRED = 21615
FOREIGN_ADDRESS_REQUIRED = 21616

ADDRESS_FIELDS = {"CustomerName": ("customer_name", 64), "FriendlyName": ("friendly_name", 64),
                  "Street": ("street", 128), "StreetSecondary": ("street_secondary", 128), "City": ("city", 64),
                  "Region": ("region", 64), "PostalCode": ("postal_code", 16), "IsoCountry": ("iso_country", 2)}
ADDRESS_REQUIRED_FIELDS = ("CustomerName", "Street", "City", "Region", "PostalCode", "IsoCountry")
ADDRESS_CREATE_PARAMS = frozenset({*ADDRESS_FIELDS, "EmergencyEnabled", "AutoCorrectAddress"})


def address_check(*, account: SandboxAccount, country: str, number_type: str, address_sid: str) -> None:
    """Refuse, with Twilio's code, a purchase whose AddressSid does not meet the number's requirement."""
    requirement = address_requirement(country, number_type)
    if requirement == NONE:
        return
    if not address_sid:
        raise TwilioApiError(400, ADDRESS_REQUIRED, f"Phone Number Requires an Address: {country} {number_type} "
                                                    f"numbers need an AddressSid ({requirement})")
    address = SandboxAddress.objects.filter(account=account, sid=address_sid).first()
    if address is None:
        raise TwilioApiError(400, ADDRESS_REQUIRED, f"Phone Number Requires an Address: AddressSid {address_sid} "
                                                    "is not an address of this account")
    if requirement == LOCAL and address.iso_country != country:
        raise TwilioApiError(400, LOCAL_ADDRESS_REQUIRED,
                             f"Phone Number Requires a Local Address: the address is in {address.iso_country}, "
                             f"the number in {country}")
    if requirement == FOREIGN and address.iso_country == country:
        raise TwilioApiError(400, FOREIGN_ADDRESS_REQUIRED,
                             f"Phone Number Requires a Foreign Address: the address is in {country}, as the number")


def address_json(address: SandboxAddress) -> dict[str, Any]:
    return {
        "account_sid": address.account.sid, "city": address.city, "customer_name": address.customer_name,
        "date_created": rfc2822(address.date_created), "date_updated": rfc2822(address.date_updated),
        "friendly_name": address.friendly_name or None, "iso_country": address.iso_country,
        "postal_code": address.postal_code, "region": address.region, "sid": address.sid, "street": address.street,
        "uri": account_path(address.account.sid, f"/Addresses/{address.sid}.json"),
        "emergency_enabled": address.emergency_enabled, "validated": False, "verified": False,
        "street_secondary": address.street_secondary or None,
    }


def flag(params: dict[str, str], name: str) -> bool:
    raw = params.get(name, "false").lower()
    if raw not in ("true", "false"):
        raise TwilioApiError(400, INVALID_PARAMETER, f"{name} must be true or false")
    return raw == "true"


def sandbox_address_create(*, account: SandboxAccount, params: dict[str, str]) -> SandboxAddress:
    """POST Addresses: every required field present; the country a two-letter code."""
    missing = [name for name in ADDRESS_REQUIRED_FIELDS if not params.get(name, "").strip()]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        raise TwilioApiError(400, INVALID_PARAMETER, f"Missing required parameter{plural} {', '.join(missing)}")
    country = params["IsoCountry"].strip().upper()
    if not (len(country) == 2 and country.isascii() and country.isalpha()):
        raise TwilioApiError(400, INVALID_PARAMETER, f"IsoCountry {params['IsoCountry']!r} is not a country code")
    fields = {column: params.get(name, "").strip()[:size] for name, (column, size) in ADDRESS_FIELDS.items()}
    fields["iso_country"] = country
    flag(params, "AutoCorrectAddress")  # nothing to correct: the sandbox validates no street
    return SandboxAddress.objects.create(sid=new_sid("AD"), account=account,
                                         emergency_enabled=flag(params, "EmergencyEnabled"), **fields)
