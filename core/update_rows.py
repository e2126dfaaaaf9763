"""UPDATE rows by primary key to values decided in Python, in one statement (a VALUES list joined on
the key): what bulk_update does, without its CASE per row and field to compile, and with the same
plan whatever the tables' statistics (correlated subqueries took a second a batch on tables filled
since their last ANALYZE). PostgreSQL and SQLite (3.33+: UPDATE … FROM).
"""
from __future__ import annotations

from django.db import connection
from django.db.models import Model


def update_rows(model: type[Model], names: tuple[str, ...], rows: dict[int, tuple]) -> None:
    """Set the fields `names` of the rows with these primary keys to the values given (a foreign
    key's by its id)."""
    if not rows:
        return
    qn = connection.ops.quote_name
    fields = [model._meta.get_field(name) for name in names]
    table, key = qn(model._meta.db_table), qn(model._meta.pk.column)
    columns = ", ".join(qn(f.column) for f in fields)
    row = "(" + ", ".join(["%s"] * (len(fields) + 1)) + ")"
    params: list[object] = []
    for pk, values in rows.items():
        params.append(pk)
        params.extend(field.get_db_prep_save(value, connection) for field, value in zip(fields, values, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(f"WITH v (pk, {columns}) AS (VALUES {', '.join([row] * len(rows))}) "
                       f"UPDATE {table} SET {', '.join(f'{qn(f.column)} = v.{qn(f.column)}' for f in fields)} "
                       f"FROM v WHERE {table}.{key} = v.pk", params)
