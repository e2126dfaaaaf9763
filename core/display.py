"""How amounts and numbers read to people (admin pages, search results)."""
from __future__ import annotations

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
