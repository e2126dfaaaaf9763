"""The webhook's one lookup: a live number with its org, connection and routing, by E.164 or
public id, written out once per process instead of compiled by the ORM on each request
(compiling the four-table select_related query cost more, about 1.5 ms, than running it).
Table and column names come from the models, so a renamed field still works.
"""
from __future__ import annotations

from functools import cache

from cachetools import LRUCache
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Model
from django.db.models.base import ModelState

from orgs.models import Org, ProviderConnection
from phones.models import PhoneNumber, PhoneRouting

# The fields (attnames) the webhook handlers read, per model, primary key included.
LOOKUP_COLUMNS: dict[type[Model], tuple[str, ...]] = {
    PhoneNumber: ("id", "public_id", "org_id", "connection_id", "e164", "status", "routing_mode", "configuration",
                  "is_system", "agent_id"),
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
            model = {"number": PhoneNumber, "connection": ProviderConnection}[table]
            where.append(f"{tables[model]}.{_qn(column)} = %s")
    number, org, conn, routing = (tables[PhoneNumber], tables[Org], tables[ProviderConnection], tables[PhoneRouting])
    return (f"SELECT {select} FROM {number} "
            f"JOIN {org} ON {org}.{_qn('id')} = {number}.{_qn('org_id')} "
            f"JOIN {conn} ON {conn}.{_qn('id')} = {number}.{_qn('connection_id')} "
            f"LEFT JOIN {routing} ON {routing}.{_qn('phone_number_id')} = {number}.{_qn('id')} "
            f"WHERE {' AND '.join(where)}")


# Per lookup row (by identity), the instances first built from it: number_from_row copies them.
_built: LRUCache = LRUCache(maxsize=10_000)


def number_from_row(row: tuple) -> PhoneNumber:
    """Model instances from one row of number_rows, related objects cached, the others' fields
    deferred. New instances on each call, so no request's change to them reaches another: copies
    (their attributes, not their JSON values, which the webhooks only read) of the instances built
    once per row object, which a cached row is for its lifetime (webhooks.lookup_cache)."""
    built = _built.get(id(row))
    if built is None or built[0] is not row:
        built = (row, _build(row))
        _built[id(row)] = built
    number, org, conn, routing = (_copy(obj) for obj in built[1])
    return _link(number, org, conn, routing)


def _copy(obj: Model | None) -> Model | None:
    if obj is None:
        return None
    new = obj.__class__.__new__(obj.__class__)
    state = ModelState()
    state.db, state.adding = obj._state.db, False
    new.__dict__.update(obj.__dict__)
    new._state = state
    return new


def _link(number: PhoneNumber, org: Org, conn: ProviderConnection, routing: PhoneRouting | None) -> PhoneNumber:
    number.org = org
    number.connection = conn
    if conn.org_id == number.org_id:  # else loaded when asked for
        conn.org = org
    PhoneNumber.routing.related.set_cached_value(number, routing)
    if routing is not None:
        routing.phone_number = number
    return number


def _build(row: tuple) -> tuple[PhoneNumber, Org, ProviderConnection, PhoneRouting | None]:
    """The row's instances, unlinked."""
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
    return objects[PhoneNumber], objects[Org], objects[ProviderConnection], objects[PhoneRouting]


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
