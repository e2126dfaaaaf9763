"""Who a broadcast goes to: an inline list, a CSV (a phone column and variables), or the contacts with
a tag, parsed into E.164 with each bad row reported by its number and duplicates merged.

Pure functions over the rows: the checks of 100,000 recipients cost no queries here (the opt-outs
and contacts are read in one query each by the service).
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import phonenumbers

from core.errors import InvalidInput

PHONE_COLUMNS = ("phone", "phonenumber", "phone_number", "number", "to", "mobile", "e164")
MAX_RECIPIENTS = 200_000
MAX_INVALID_REPORTED = 1000
_VARIABLE = re.compile(r"{{\s*([A-Za-z_][A-Za-z0-9_]*)\s*}}")


@dataclass(frozen=True)
class Recipient:
    row: int
    e164: str
    variables: dict[str, str] = field(default_factory=dict)
    region: str = ""  # ISO country, e.g. US


@dataclass
class Parsed:
    recipients: list[Recipient]
    total_rows: int
    invalid: list[dict]  # {"row", "value", "error"}, the first MAX_INVALID_REPORTED
    invalid_count: int
    duplicate_count: int


@lru_cache(maxsize=20_000)
def _nanp_region(area: str) -> str | None:
    """The country of a +1 number: its area code decides it (NANP)."""
    return phonenumbers.region_code_for_number(phonenumbers.parse(area + "2000000"))


def region_of(parsed: phonenumbers.PhoneNumber, e164: str) -> str | None:
    # For +1 the library tries each of the 25 NANP countries' patterns; the area code decides it at once.
    return _nanp_region(e164[:5]) if parsed.country_code == 1 else phonenumbers.region_code_for_number(parsed)


def parse_number(value: str, default_region: str | None) -> tuple[str, str]:
    """`value` as (E.164, its country); raises ValueError saying what is wrong with it."""
    text = (value or "").strip()
    if not text:
        raise ValueError("no phone number")
    try:
        parsed = phonenumbers.parse(text, None if text.startswith("+") else default_region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number ({exc._msg})") from None
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    region = region_of(parsed, e164)
    # phonenumbers.is_valid_number is this, after finding the region (the slow part, done above).
    if region is None or not phonenumbers.is_valid_number_for_region(parsed, region):
        raise ValueError("not a valid number for its country")
    return e164, region


def to_e164(value: str, default_region: str | None) -> str:
    return parse_number(value, default_region)[0]


def template_variables(body: str) -> set[str]:
    return set(_VARIABLE.findall(body))


def render(body: str, variables: dict[str, str]) -> str:
    """The template with each {{name}} filled in (an unknown name becomes empty)."""
    return _VARIABLE.sub(lambda m: variables.get(m.group(1), ""), body)


def parse_rows(rows: Iterable[tuple[int, str, dict[str, str]]], *, default_region: str | None) -> Parsed:
    """(row number, phone, variables) → recipients in E.164; the first row with a number wins over its
    duplicates (which are counted, not reported as errors)."""
    seen: dict[str, Recipient] = {}
    invalid: list[dict] = []
    invalid_count = duplicates = total = 0
    for row, phone, variables in rows:
        total += 1
        if total > MAX_RECIPIENTS:
            raise InvalidInput(f"At most {MAX_RECIPIENTS} recipients per broadcast", field="recipients")
        try:
            e164, region = parse_number(phone, default_region)
        except ValueError as exc:
            invalid_count += 1
            if len(invalid) < MAX_INVALID_REPORTED:
                invalid.append({"row": row, "value": str(phone)[:64], "error": str(exc)})
            continue
        if e164 in seen:
            duplicates += 1
            continue
        seen[e164] = Recipient(row, e164, {**variables, "phone": e164}, region)
    return Parsed(list(seen.values()), total, invalid, invalid_count, duplicates)


def inline_rows(items: list[dict]) -> Iterable[tuple[int, str, dict[str, str]]]:
    for index, item in enumerate(items, start=1):
        yield index, item.get("phone", ""), {str(k): str(v) for k, v in (item.get("variables") or {}).items()}


def csv_rows(text: str) -> Iterable[tuple[int, str, dict[str, str]]]:
    """The CSV's data rows (row 1 is the first after the header, as a spreadsheet user counts them
    minus the header), its phone column found by name, every other column a variable."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidInput("The CSV is empty", field="csv") from None
    except csv.Error as exc:
        raise InvalidInput(f"The CSV cannot be read: {exc}", field="csv") from None
    names = [re.sub(r"[^a-z0-9_]", "", name.strip().lower().replace(" ", "_")) for name in header]
    phone_at = next((names.index(c) for c in PHONE_COLUMNS if c in names), None)
    if phone_at is None:
        raise InvalidInput(f"The CSV needs a phone column (one of: {', '.join(PHONE_COLUMNS)})", field="csv")
    keys = [_camel(raw.strip()) for raw in header]
    try:
        for index, cells in enumerate(reader, start=1):
            if not any(cell.strip() for cell in cells):
                continue
            phone = cells[phone_at] if phone_at < len(cells) else ""
            yield index, phone, {key: cells[i].strip() for i, key in enumerate(keys)
                                 if i != phone_at and i < len(cells) and key}
    except csv.Error as exc:
        raise InvalidInput(f"The CSV cannot be read: {exc}", field="csv") from None


def _camel(name: str) -> str:
    """`first name` / `first_name` / `firstName` → firstName, as the template writes it."""
    parts = [p for p in re.split(r"[\s_\-]+", name) if p]
    if not parts:
        return ""
    return parts[0][:1].lower() + parts[0][1:] + "".join(p[:1].upper() + p[1:] for p in parts[1:])
