"""Values from outside, made to fit the columns they are stored in.

A webhook is signed by the provider, but what it says is still input: a 300-character SID, a NUL
in a text, a call lasting -5 or 10^20 seconds. SQLite stores all of that; PostgreSQL refuses NUL
in text and overflows its integers (a 500, and the provider retries it for ever). Stored values
are cleaned instead: NUL removed, text cut to the column's length, integers clamped to the column's
range (the same range on every database, so SQLite keeps what PostgreSQL would).
"""
from __future__ import annotations

from typing import Any

from django.db import models
from django.db.backends.base.operations import BaseDatabaseOperations

INTEGER_RANGES = BaseDatabaseOperations.integer_field_ranges


def text(value: object, max_length: int | None = None) -> str:
    """`value` as text with no NUL character, at most `max_length` characters long."""
    cleaned = ("" if value is None else str(value)).replace("\x00", "")
    return cleaned[:max_length] if max_length is not None else cleaned


def integer(value: int | None, lo: int, hi: int) -> int | None:
    return None if value is None else max(lo, min(hi, value))


def column(model: type[models.Model], name: str, value: Any) -> Any:
    """`value` made to fit `model`'s field `name` (text and integer fields; others unchanged)."""
    return _fit(model._meta.get_field(name), value)


def fit(instance: models.Model, fields: list[str] | None = None) -> models.Model:
    """`instance`, its text and integer fields (all, or `fields`) made to fit their columns."""
    for field in instance._meta.concrete_fields:
        if fields is not None and field.name not in fields:
            continue
        value = getattr(instance, field.attname)
        fitted = _fit(field, value)
        if fitted is not value:
            setattr(instance, field.attname, fitted)
    return instance


def _fit(field: models.Field, value: Any) -> Any:
    if value is None:
        return value
    if isinstance(field, (models.CharField, models.TextField)) and isinstance(value, str):
        cleaned = text(value, field.max_length)
        return value if cleaned == value else cleaned
    if isinstance(field, models.IntegerField) and isinstance(value, int) and not isinstance(value, bool):
        lo, hi = INTEGER_RANGES.get(field.get_internal_type(), (None, None))
        if lo is not None and not lo <= value <= hi:
            return max(lo, min(hi, value))
    return value
