"""Twilio's test-credential magic numbers (twilio.com/docs/iam/test-credentials).

Real Twilio answers these only to test credentials; the sandbox honours them for
every account, so error paths can be driven end to end through the real SDK.
Within a resource the rules are checked in order (From before To, as Twilio does).
"""
from __future__ import annotations

# (field, value, Twilio error code, message); all answered with HTTP 400.
MagicRule = tuple[str, str, int, str]

MAGIC_ERRORS: dict[str, tuple[MagicRule, ...]] = {
    "IncomingPhoneNumbers": (
        ("PhoneNumber", "+15005550000", 21422, "PhoneNumber +15005550000 is not available"),
        ("PhoneNumber", "+15005550001", 21421, "PhoneNumber +15005550001 is invalid"),
        ("AreaCode", "533", 21452, "No phone numbers found in area code 533"),
    ),
    "Messages": (
        ("From", "+15005550001", 21212, "The 'From' number +15005550001 is not a valid phone number"),
        ("From", "+15005550007", 21606,
         "The 'From' phone number provided is not a valid message-capable Twilio phone number for this account"),
        ("From", "+15005550008", 21611, "This 'From' number has exceeded the maximum number of queued messages"),
        ("To", "+15005550001", 21211, "The 'To' number +15005550001 is not a valid phone number"),
        ("To", "+15005550002", 21612, "The 'To' phone number is not currently reachable via SMS"),
        ("To", "+15005550003", 21408, "Permission to send an SMS has not been enabled for the region"),
        ("To", "+15005550004", 21610, "Attempt to send to unsubscribed recipient"),
        ("To", "+15005550009", 21614, "'To' number is not a valid mobile number"),
    ),
    "Calls": (
        ("From", "+15005550001", 21212, "The 'From' number +15005550001 is not a valid phone number"),
        ("To", "+15005550001", 21217, "Phone number does not appear to be valid"),
        ("To", "+15005550002", 21214, "'To' phone number cannot be reached"),
        ("To", "+15005550003", 21215, "Account not authorized to call +15005550003"),
        ("To", "+15005550004", 21216, "Account not allowed to call +15005550004"),
    ),
}

# The number test credentials may buy, send from and call from; AreaCode 500 buys it.
MAGIC_OK_NUMBER = "+15005550006"
MAGIC_OK_AREA_CODE = "500"


def magic_error(resource: str, params: dict[str, str]) -> tuple[int, str] | None:
    """(code, message) when `params` hit one of the resource's magic failures."""
    for field, value, code, message in MAGIC_ERRORS.get(resource, ()):
        if params.get(field) == value:
            return code, message
    return None
