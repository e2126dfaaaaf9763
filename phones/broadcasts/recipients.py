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


@dataclass
class Parsed:
    recipients: list[Recipient]
    total_rows: int
    invalid: list[dict]  # {"row", "value", "error"}, the first MAX_INVALID_REPORTED
    invalid_count: int
    duplicate_count: int


def to_e164(value: str, default_region: str | None) -> str:
    """`value` as E.164; raises ValueError saying what is wrong with it."""
    text = (value or "").strip()
    if not text:
        raise ValueError("no phone number")
    try:
        parsed = phonenumbers.parse(text, None if text.startswith("+") else default_region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number ({exc._msg})") from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError("not a valid number for its country")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


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
            e164 = to_e164(phone, default_region)
        except ValueError as exc:
            invalid_count += 1
            if len(invalid) < MAX_INVALID_REPORTED:
                invalid.append({"row": row, "value": str(phone)[:64], "error": str(exc)})
            continue
        if e164 in seen:
            duplicates += 1
            continue
        seen[e164] = Recipient(row, e164, {**variables, "phone": e164})
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
