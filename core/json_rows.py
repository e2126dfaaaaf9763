"""Rows sent to PostgreSQL as one JSON array (of arrays, one value per column), which the statement
unpacks (jsonb_array_elements): the statement's text depends on the model and columns only, never
on how many rows, so it is prepared once per database session (core.prepared), and its one
parameter is serialized by the json module's C encoder, instead of one value per row and column
quoted by the driver (or one array per column, escaped element by element in Python).
Used by core.insert_rows and core.update_rows; SQLite keeps their VALUES form.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from uuid import UUID

from django.db import connection
from django.db.models import Field, JSONField


def qn(name: str) -> str:
    return connection.ops.quote_name(name)


def rows_source() -> str:
    """The unpacked rows, as a FROM item `v`, each row one JSON array (see `column`)."""
    return f"jsonb_array_elements(%s::jsonb) AS v({qn('_row')})"


def column(field: Field, index: int) -> str:
    """The value of `field` in each unpacked row, at `index`: the JSON value itself for a JSON field
    (JSON null is SQL NULL, as Django stores None), else its text cast to the column's type (text
    for varchar(n): a value too long fails as it would in a VALUES list, instead of being cut)."""
    if isinstance(field, JSONField):
        return f"NULLIF(v.{qn('_row')} -> {index}, 'null'::jsonb)"
    db_type = field.db_type(connection)
    text = f"(v.{qn('_row')} ->> {index})"
    return text if db_type.startswith(("varchar", "text")) else f"{text}::{db_type}"


def _plain(value: object) -> object:
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, (Decimal, UUID)):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not a column value core.json_rows can send")


def rows_param(fields: Sequence[Field], rows: Iterable[Sequence[object]]) -> str:
    """The rows as the JSON parameter: values as given (a foreign key's id, an aware datetime, a
    date, a str, an int, a bool; a JSON field's Python value, through the field's encoder if it has one)."""
    rows = list(rows)
    if any(len(row) != len(fields) for row in rows):
        raise ValueError(f"each row needs {len(fields)} values")
    encoded = [index for index, field in enumerate(fields) if isinstance(field, JSONField) and field.encoder]
    if encoded:
        def plain(row: Sequence[object]) -> list[object]:
            row = list(row)
            for index in encoded:
                row[index] = json.loads(json.dumps(row[index], cls=fields[index].encoder))
            return row
        rows = [plain(row) for row in rows]
    return json.dumps(rows, default=_plain, separators=(",", ":"), allow_nan=False)
