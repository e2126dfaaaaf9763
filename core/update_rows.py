"""UPDATE rows by primary key to values decided in Python, in one statement (the rows joined on the
key): what bulk_update does, without its CASE per row and field to compile, and with the same
plan whatever the tables' statistics (correlated subqueries took a second a batch on tables filled
since their last ANALYZE). On PostgreSQL the rows are one JSON parameter (core.json_rows),
and the statement, the same whatever their number, is prepared (core.prepared); on SQLite (3.33+:
UPDATE … FROM) they are a VALUES list.
"""
from __future__ import annotations

from functools import cache

from django.db import connection
from django.db.models import Field, Model

from core.json_rows import column, qn, rows_param, rows_source
from core.prepared import prepared_cursor


@cache
def _plan(model: type[Model], names: tuple[str, ...], vendor: str) -> tuple[str, tuple[Field, ...]]:
    """The statement (on SQLite with `{rows}` for the VALUES list) and the fields set."""
    fields = tuple(model._meta.get_field(name) for name in names)
    table, key = qn(model._meta.db_table), qn(model._meta.pk.column)
    pk = model._meta.pk
    if vendor == "postgresql":
        sets = ", ".join(f"{qn(f.column)} = {column(f, i)}" for i, f in enumerate(fields, 1))
        return f"UPDATE {table} SET {sets} FROM {rows_source()} WHERE {table}.{key} = {column(pk, 0)}", fields
    sets = ", ".join(f"{qn(f.column)} = v.{qn(f.column)}" for f in fields)
    return (f"WITH v (pk, {', '.join(qn(f.column) for f in fields)}) AS (VALUES {{rows}}) "
            f"UPDATE {table} SET {sets} FROM v WHERE {table}.{key} = v.pk"), fields


def update_rows(model: type[Model], names: tuple[str, ...], rows: dict[int, tuple]) -> None:
    """Set the fields `names` of the rows with these primary keys to the values given (a foreign
    key's by its id; a JSON field's as the Python value)."""
    if not rows:
        return
    sql, fields = _plan(model, names, connection.vendor)
    if connection.vendor == "postgresql":
        with prepared_cursor() as cursor:
            cursor.execute(sql, [rows_param((model._meta.pk, *fields), [(pk, *values) for pk, values in rows.items()])])
        return
    row = "(" + ", ".join(["%s"] * (len(fields) + 1)) + ")"
    params: list[object] = []
    for pk, values in rows.items():
        params.append(pk)
        params.extend(field.get_db_prep_save(value, connection) for field, value in zip(fields, values, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(sql.replace("{rows}", ", ".join([row] * len(rows))), params)
