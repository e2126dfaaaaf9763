"""INSERT ... ON CONFLICT DO NOTHING RETURNING id, in one statement: what the ORM cannot say
(bulk_create(ignore_conflicts=True) does not tell whether the row was inserted, nor its id), and
optionally with an asynchronous commit for that statement alone (PostgreSQL).
"""
from __future__ import annotations

from functools import cache

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Model

from core.prepared import prepared_cursor


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


@cache
def _insert_sql(model: type[Model], unique: str, asynchronous: bool, computed: tuple[tuple[str, str], ...] = (),
                source: str = "") -> tuple[str, tuple]:
    fields = tuple(f for f in model._meta.concrete_fields if not f.primary_key)
    expressions = dict(computed)
    columns = ", ".join(_qn(f.column) for f in fields)
    values = ", ".join(expressions.get(f.name, "%s") for f in fields)
    # set_config(..., true) lasts until the end of this statement's own transaction, so only
    # this row's commit is asynchronous.
    commit = ", set_config('synchronous_commit', 'off', true)" if asynchronous else ""
    rows = f"SELECT {values} FROM {source}" if source else f"VALUES ({values})"
    returning = "".join(f", {_qn(model._meta.get_field(name).column)}" for name in expressions)
    sql = (f"INSERT INTO {_qn(model._meta.db_table)} ({columns}) {rows} "
           f"ON CONFLICT ({_qn(model._meta.get_field(unique).column)}) DO NOTHING "
           f"RETURNING {_qn(model._meta.pk.column)}{returning}{commit}")
    return sql, fields


def insert_once(obj: Model, *, unique: str, durable: bool = True, source: tuple[str, list] | None = None,
                computed: dict[str, tuple[str, list]] | None = None) -> bool:
    """INSERT `obj` unless a row with its `unique` value exists: True (and obj.pk set) when it
    was inserted. One statement, no savepoint, nothing to roll back for a duplicate.

    durable=False, outside a transaction on PostgreSQL: the commit does not wait for the WAL to
    reach the disk (asynchronous commit). A database crash can then lose the last fraction of a
    second of such rows, never corrupt them: for rows that a later event recreates.

    `computed`: fields whose value is an SQL expression (with its parameters) instead of obj's,
    over `source`, a FROM clause (with its parameters) read by the same statement; obj gets the
    values the row was stored with."""
    db = connections[DEFAULT_DB_ALIAS]
    asynchronous = not durable and db.vendor == "postgresql" and not db.in_atomic_block
    computed = computed or {}
    sql, fields = _insert_sql(type(obj), unique, asynchronous,
                              tuple((name, expression) for name, (expression, _) in computed.items()),
                              source[0] if source else "")
    values = []
    for field in fields:
        if field.name in computed:
            values.extend(computed[field.name][1])
        else:
            values.append(field.get_db_prep_save(field.pre_save(obj, True), db))
    if source:
        values.extend(source[1])
    with prepared_cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:
        return False
    obj.pk = row[0]
    for name, value in zip(computed, row[1:]):
        field = type(obj)._meta.get_field(name)
        setattr(obj, field.attname, field.from_db_value(value, None, db) if hasattr(field, "from_db_value") else value)
    obj._state.adding, obj._state.db = False, db.alias
    return True
