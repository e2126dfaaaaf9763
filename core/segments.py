"""How many SMS a text takes, and which character made it expensive.

GSM 03.38: a body of only the basic set (plus the extension set, two septets each) goes as 7-bit
text, 160 septets in one SMS or 153 per part once split (the rest carries the concatenation
header). One character outside it, say a curly quote from a word processor or \\xa0 (a
non-breaking space), makes the whole text UCS-2: 70 characters, or 67 per part, so the same
words can cost twice the money. Twilio counts UCS-2 in UTF-16 code units (an emoji is two).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

GSM_BASIC = frozenset("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                      "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM_EXTENDED = frozenset("^{}\\[~]|€\f")
GSM7, UCS2 = "GSM-7", "UCS-2"


@dataclass(frozen=True)
class SegmentCount:
    encoding: str  # GSM-7 or UCS-2
    segments: int
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    # The first character that forced UCS-2, and where it is (0-based); None for GSM-7.
    non_gsm_char: str | None = None
    non_gsm_index: int | None = None

    @property
    def non_gsm_name(self) -> str:
        """The offending character as a person can read it, e.g. `U+00A0 (no-break space)`."""
        if self.non_gsm_char is None:
            return ""
        import unicodedata
        name = unicodedata.name(self.non_gsm_char, "").lower()
        return f"U+{ord(self.non_gsm_char):04X}" + (f" ({name})" if name else "")


def segment_count(body: str) -> SegmentCount:
    """The encoding and number of SMS `body` takes (an empty body is one SMS)."""
    for index, ch in enumerate(body):
        if ch not in GSM_BASIC and ch not in GSM_EXTENDED:
            units = len(body.encode("utf-16-le")) // 2
            return SegmentCount(UCS2, 1 if units <= 70 else math.ceil(units / 67), units, ch, index)
    septets = sum(2 if ch in GSM_EXTENDED else 1 for ch in body)
    return SegmentCount(GSM7, 1 if septets <= 160 else math.ceil(septets / 153), septets)
