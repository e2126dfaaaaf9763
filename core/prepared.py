"""A cursor for statements a process runs over and over with the same text (each webhook's one
insert): on PostgreSQL the statement is prepared once per database session and then only bound
and executed, instead of parsed and planned for every request (for an inbound text's insert, which
reads the sender as it writes, that halved the database's work); its parameters are sent apart
from the text (server-side binding), not quoted into it. Elsewhere Django's cursor.

Django's own cursors bind on the client and never prepare, so the ORM's queries are unchanged.
Preparing needs the connection's `prepare_threshold` set (config.settings sets it; None turns it
off, e.g. through PgBouncer in transaction mode older than 1.21).
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper


class _Logged(CursorDebugWrapper):
    """Logs the statement as written: a prepared one leaves no bound text to show."""

    @contextmanager
    def debug_sql(self, sql=None, params=None, use_last_executed_query=False, many=False):
        with super().debug_sql(sql, params, use_last_executed_query=False, many=many):
            yield


@contextmanager
def prepared_cursor() -> Iterator[CursorWrapper]:
    """A cursor whose execute() prepares its statement (PostgreSQL), wrapped and logged as Django's are."""
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql":
        with db.cursor() as cursor:
            yield cursor
        return
    db.close_if_health_check_failed()
    db.ensure_connection()
    db.validate_thread_sharing()
    with db.wrap_database_errors:
        raw = _prepared_cursor_class()(db.connection)
    with _Logged(raw, db) if db.queries_logged else CursorWrapper(raw, db) as cursor:
        yield cursor


@cache
def _prepared_cursor_class() -> type:
    from django.db.backends.postgresql.base import ServerBindingCursor

    class Prepared(ServerBindingCursor):
        def execute(self, query, params=None, *, prepare=True, binary=None):
            return super().execute(query, params, prepare=prepare, binary=binary)

    return Prepared
