"""INSERT rows of values decided in Python, in one statement: what bulk_create does, without
compiling and preparing every value of every row through the ORM. The statement is built once per
model and columns; on PostgreSQL it takes the rows as one JSON parameter (core.json_rows) and is prepared
(core.prepared), elsewhere (SQLite 3.35+, for RETURNING) it is a VALUES list, in batches within the backend's limit on
parameters. Rows that would break a unique constraint can be skipped (ON CONFLICT DO NOTHING, as
bulk_create(ignore_conflicts=True)); the columns asked for are returned for the rows inserted.
"""
from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from django.db import connection
from django.db.models import DateField, Field, Model
from django.utils import timezone

from core.ids import PublicIdField, new_public_id
from core.json_rows import column, qn, rows_param, rows_source
from core.prepared import prepared_cursor


@cache
def _plan(model: type[Model], names: tuple[str, ...], ignore_conflicts: bool, returning: tuple[str, ...],
          vendor: str) -> tuple[tuple[str, str, str], tuple[Field, ...], tuple[Field, ...]]:
    """The statement as (head, rows, tail): on PostgreSQL `rows` selects the columns from the one
    JSON parameter (core.json_rows), on SQLite it is one row's VALUES item, repeated per row; the
    fields given, and the fields filled in (every other concrete field but the primary key)."""
    given = tuple(model._meta.get_field(name) for name in names)
    filled = tuple(f for f in model._meta.concrete_fields if not f.primary_key and f not in given)
    fields = given + filled
    head = f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "
    tail = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    if returning:
        tail += " RETURNING " + ", ".join(qn(model._meta.get_field(name).column) for name in returning)
    if vendor == "postgresql":
        rows = f"SELECT {', '.join(column(f, i) for i, f in enumerate(fields))} FROM {rows_source()}"
    else:
        rows = "(" + ", ".join(["%s"] * len(fields)) + ")"
    return (head, rows, tail), given, filled


def _filler(field: Field, now):
    """Each row's value of a field not given: a new public id, `now` for auto_now(_add), else the default."""
    if isinstance(field, PublicIdField):
        return lambda model: new_public_id(field.prefix or model.public_id_prefix)
    if isinstance(field, DateField) and (field.auto_now or field.auto_now_add):
        value = now.date() if type(field) is DateField else now
        return lambda model: value
    if field.has_default() and callable(field.default):
        return lambda model: field.get_default()
    value = field.get_default()
    return lambda model: value


def insert_rows(model: type[Model], names: Sequence[str], rows: Sequence[Sequence[object]], *,
                ignore_conflicts: bool = False, returning: Sequence[str] = ()) -> list[tuple]:
    """Insert `rows`, each the values of the fields `names` (a foreign key's by its id; a JSON
    field's as the Python value); every other field gets its default, a new public id, or now
    (auto_now, auto_now_add). Returns the `returning` fields of the rows inserted (in no set
    order), [] when none is asked for."""
    if not rows:
        return []
    (head, values, tail), given, filled = _plan(model, tuple(names), ignore_conflicts, tuple(returning),
                                                connection.vendor)
    if any(len(row) != len(given) for row in rows):
        raise ValueError(f"each row needs {len(given)} values: {', '.join(names)}")
    now = timezone.now()
    fillers = [_filler(field, now) for field in filled]
    full = [(*row, *(fill(model) for fill in fillers)) for row in rows] if fillers else rows
    fields = given + filled
    result: list[tuple] = []
    if connection.vendor == "postgresql":
        with prepared_cursor() as cursor:
            cursor.execute(head + values + tail, [rows_param(fields, full)])
            if returning:
                result = [tuple(row) for row in cursor.fetchall()]
        return result
    size = max(connection.ops.bulk_batch_size(list(fields), full), 1)
    with connection.cursor() as cursor:
        for start in range(0, len(full), size):
            chunk = full[start:start + size]
            params = [field.get_db_prep_save(value, connection)
                      for row in chunk for field, value in zip(fields, row, strict=True)]
            cursor.execute(f"{head}VALUES {', '.join([values] * len(chunk))}{tail}", params)
            if returning:
                result.extend(tuple(row) for row in cursor.fetchall())
    return result
