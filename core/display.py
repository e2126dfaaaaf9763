"""How amounts and numbers read to people (admin pages, search results)."""
from __future__ import annotations

import re

import phonenumbers


def money(amount: int, currency: str) -> str:
    """Minor units as staff read them: 115 USD → "1.15 USD" (integer arithmetic, no floats)."""
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    return f"{sign}{amount // 100}.{amount % 100:02d} {currency}"


def formatted_number(e164: str) -> str:
    """+14155550100 → +1 415-555-0100, as people read numbers."""
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return e164


MINOR_PER_MAJOR = 100  # every currency this platform bills in has cents (money() above assumes the same)


def minor_units(text: str, *, maximum: int | None = None, allow_zero: bool = False) -> int:
    """"10.50" (major units, as staff type an amount) → 1050 minor units, exactly (integer
    arithmetic, no floats). ValueError, with a message staff can act on, for anything else:
    more than two decimals, a sign, zero (unless allowed), over `maximum` (minor units)."""
    cleaned = str(text).strip().replace(",", "")
    if cleaned.startswith("-") and _AMOUNT.fullmatch(cleaned[1:]):
        raise ValueError("Enter a positive amount.")
    match = _AMOUNT.fullmatch(cleaned)
    if match is None or not any(ch.isdigit() for ch in cleaned):
        if re.fullmatch(r"\d*\.\d{3,}", cleaned):
            raise ValueError("Use at most 2 decimal places (cents).")
        raise ValueError("Enter an amount such as 10.50.")
    whole, cents = match.group(1) or "0", (match.group(2) or "").ljust(2, "0")
    minor = int(whole) * MINOR_PER_MAJOR + int(cents)
    if minor == 0 and not allow_zero:
        raise ValueError("Enter an amount greater than zero.")
    if maximum is not None and minor > maximum:
        raise ValueError(f"Enter at most {major_units(maximum)}.")
    return minor


_AMOUNT = re.compile(r"(\d+)?(?:\.(\d{0,2}))?")


def major_units(amount: int) -> str:
    """1050 → "10.50": money() without the currency, as a form shows an amount to edit."""
    return money(amount, "").strip()


def e164_from_search(term: str, region: str = "US") -> str | None:
    """A search term that is a phone number however it is written (`+1 415-517-5410`,
    `(415) 517-5410`, `4155175410`) → its E.164 form; None when it is not one (a name, a
    fragment of digits), so the search falls back to matching text."""
    term = term.strip()
    if sum(ch.isdigit() for ch in term) < 7 or any(ch.isalpha() for ch in term):
        return None
    try:
        parsed = phonenumbers.parse(term, None if term.startswith("+") else region)
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.is_possible_number_with_reason(parsed) != phonenumbers.ValidationResult.IS_POSSIBLE:
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
