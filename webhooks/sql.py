"""The statements on the webhooks' hot path, written out once per process instead of compiled
by the ORM on each request: compiling a four-table select_related query cost more (about 1.5 ms)
than running it, and the sender's Exists + Subquery lookup about 4 ms. Table and column names come from the models, so a renamed field still works.
"""
from __future__ import annotations

from functools import cache

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Model

from phones.models import Contact, OptOut, PhoneNumber, PhoneRouting
from orgs.models import Org, ProviderConnection

# The fields (attnames) the webhook handlers read, per model, primary key included.
LOOKUP_COLUMNS: dict[type[Model], tuple[str, ...]] = {
    PhoneNumber: ("id", "public_id", "org_id", "connection_id", "e164", "status", "routing_mode", "configuration",
                  "is_system"),
    Org: ("id", "name", "slug"),
    ProviderConnection: ("id", "org_id", "type", "account_id", "secret_blob", "public_config", "is_active",
                         "updated_at", "public_id"),
    PhoneRouting: ("id", "phone_number_id", "assignments", "ivr_flow", "sms_rules"),
}


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


@cache
def _field_names(model: type[Model]) -> tuple[str, ...]:
    """LOOKUP_COLUMNS in the model's field order, the order Model.from_db expects them in."""
    return tuple(f.attname for f in model._meta.concrete_fields if f.attname in LOOKUP_COLUMNS[model])


def _field(model: type[Model], attname: str):
    return next(f for f in model._meta.concrete_fields if f.attname == attname)


@cache
def _converters(model: type[Model]) -> list[list]:
    """Per column, what turns the driver's value into the field's (JSON text, SQLite datetimes)."""
    converters = []
    for name in _field_names(model):
        field = _field(model, name)
        column = field.get_col(model._meta.db_table)
        converters.append([(converter, column) for converter in
                           connection.ops.get_db_converters(column) + field.get_db_converters(connection)])
    return converters


@cache
def _lookup_sql(vendor: str, filters: tuple[str, ...], e164_count: int, type_count: int) -> str:
    tables = {model: _qn(model._meta.db_table) for model in LOOKUP_COLUMNS}
    select = ", ".join(f"{tables[model]}.{_qn(_field(model, name).column)}"
                       for model in LOOKUP_COLUMNS for name in _field_names(model))
    where = [f"{tables[ProviderConnection]}.{_qn('is_active')} = %s",
             f"{tables[PhoneNumber]}.{_qn('status')} IN ({', '.join(['%s'] * len(PhoneNumber.LIVE_STATUSES))})"]
    for name in filters:
        if name == "e164":
            where.append(f"{tables[PhoneNumber]}.{_qn('e164')} IN ({', '.join(['%s'] * e164_count)})")
        elif name == "types":
            where.append(f"{tables[ProviderConnection]}.{_qn('type')} IN ({', '.join(['%s'] * type_count)})")
        else:
            table, column = name.split(".")
            where.append(f"{tables[{'number': PhoneNumber, 'connection': ProviderConnection}[table]]}.{_qn(column)} = %s")
    number, org, conn, routing = (tables[PhoneNumber], tables[Org], tables[ProviderConnection], tables[PhoneRouting])
    return (f"SELECT {select} FROM {number} "
            f"JOIN {org} ON {org}.{_qn('id')} = {number}.{_qn('org_id')} "
            f"JOIN {conn} ON {conn}.{_qn('id')} = {number}.{_qn('connection_id')} "
            f"LEFT JOIN {routing} ON {routing}.{_qn('phone_number_id')} = {number}.{_qn('id')} "
            f"WHERE {' AND '.join(where)}")


def number_from_row(row: tuple) -> PhoneNumber:
    """Model instances from one row of number_rows, related objects cached, the others' fields
    deferred. New instances on each call, so a cached row is never shared as mutable objects."""
    db = connections[DEFAULT_DB_ALIAS]  # not the `connection` proxy: each attribute of it is a lookup
    objects = {}
    position = 0
    for model in LOOKUP_COLUMNS:
        names = _field_names(model)
        values = row[position:position + len(names)]
        position += len(names)
        if values[0] is None:
            objects[model] = None
            continue
        converted = []
        for value, converters in zip(values, _converters(model)):
            for converter, column in converters:
                value = converter(value, column, db)
            converted.append(value)
        objects[model] = model.from_db(db.alias, names, converted)
    number = objects[PhoneNumber]
    number.org = objects[Org]
    number.connection = objects[ProviderConnection]
    if number.connection.org_id == number.org_id:  # else loaded when asked for
        number.connection.org = objects[Org]
    PhoneNumber.routing.related.set_cached_value(number, objects[PhoneRouting])
    if objects[PhoneRouting] is not None:
        objects[PhoneRouting].phone_number = number
    return number


def number_rows(*, e164s: list[str] | tuple[str, ...] = (), public_id: str = "", account_id: str | None = None,
                connection_types: tuple[str, ...] = ()) -> list[tuple]:
    """Live numbers on active connections (by public id, else among `e164s`), each row with its
    org, connection and routing (number_from_row makes the models): one statement."""
    filters: list[str] = []
    params: list[object] = [True, *PhoneNumber.LIVE_STATUSES]
    if public_id:
        filters.append("number.public_id")
        params.append(public_id)
    else:
        filters.append("e164")
        params.extend(e164s)
    if account_id is not None:
        filters.append("connection.account_id")
        params.append(account_id)
    if connection_types:
        filters.append("types")
        params.extend(connection_types)
    db = connections[DEFAULT_DB_ALIAS]
    sql = _lookup_sql(db.vendor, tuple(filters), len(e164s), len(connection_types))
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def row_e164(row: tuple) -> str:
    return row[_field_names(PhoneNumber).index("e164")]


@cache
def _insert_sql(model: type[Model], unique: str, asynchronous: bool) -> tuple[str, tuple]:
    fields = tuple(f for f in model._meta.concrete_fields if not f.primary_key)
    columns = ", ".join(_qn(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    # set_config(..., true) lasts until the end of this statement's own transaction, so only
    # this row's commit is asynchronous.
    commit = ", set_config('synchronous_commit', 'off', true)" if asynchronous else ""
    sql = (f"INSERT INTO {_qn(model._meta.db_table)} ({columns}) VALUES ({placeholders}) "
           f"ON CONFLICT ({_qn(model._meta.get_field(unique).column)}) DO NOTHING "
           f"RETURNING {_qn(model._meta.pk.column)}{commit}")
    return sql, fields


def insert_once(obj: Model, *, unique: str, durable: bool = True) -> bool:
    """INSERT `obj` unless a row with its `unique` value exists: True (and obj.pk set) when it
    was inserted. One statement, no savepoint, nothing to roll back for a duplicate.

    durable=False, outside a transaction on PostgreSQL: the commit does not wait for the WAL to
    reach the disk (asynchronous commit). A database crash can then lose the last fraction of a
    second of such rows, never corrupt them: for rows that a later event recreates."""
    db = connections[DEFAULT_DB_ALIAS]
    asynchronous = not durable and db.vendor == "postgresql" and not db.in_atomic_block
    sql, fields = _insert_sql(type(obj), unique, asynchronous)
    values = [field.get_db_prep_save(field.pre_save(obj, True), db) for field in fields]
    with db.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:
        return False
    obj.pk = row[0]
    obj._state.adding, obj._state.db = False, db.alias
    return True


@cache
def _sender_sql() -> str:
    contact, opt_out = _qn(Contact._meta.db_table), _qn(OptOut._meta.db_table)
    return (f"SELECT c.{_qn('id')}, c.{_qn('first_name')}, c.{_qn('last_name')}, "
            f"EXISTS(SELECT 1 FROM {opt_out} o WHERE o.{_qn('org_id')} = %s AND o.{_qn('e164')} = %s "
            f"AND o.{_qn('lifted_at')} IS NULL) "
            f"FROM (SELECT 1) one LEFT JOIN {contact} c ON c.{_qn('org_id')} = %s AND c.{_qn('e164')} = %s")


def sender_lookup(*, org_id: int, e164: str) -> tuple[int | None, str, str, bool]:
    """The sender's contact id and name (None, "", "" when new) and whether they opted out: one
    statement (the ORM's Exists + Subquery version took longer to compile than to run)."""
    with connection.cursor() as cursor:
        cursor.execute(_sender_sql(), [org_id, e164, org_id, e164])
        contact_id, first_name, last_name, suppressed = cursor.fetchone()
    return contact_id, first_name or "", last_name or "", bool(suppressed)
