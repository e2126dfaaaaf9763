"""The webhooks' one insert (core.insert_once) on PostgreSQL: asynchronous commit, a prepared statement."""
from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from core.insert_once import insert_once
from phones.models import Call
from tests.webhooks.conftest import CALLER, NUMBER

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def call(number, sid: str) -> Call:
    return Call(org_id=number.org_id, phone_number=number, direction="inbound", from_number=CALLER,
                to_number=NUMBER, provider_sid=sid, status="ringing")


def synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


def test_a_non_durable_insert_commits_asynchronously_and_only_itself(number):
    with CaptureQueriesContext(connection) as queries:
        assert insert_once(call(number, "CA" + "1" * 32), unique="provider_sid", durable=False)
    assert "synchronous_commit" in queries.captured_queries[0]["sql"]
    assert synchronous_commit() == "on"  # the setting ended with the statement's transaction
    assert Call.objects.filter(provider_sid="CA" + "1" * 32).count() == 1
    assert not insert_once(call(number, "CA" + "1" * 32), unique="provider_sid", durable=False)


def test_inside_a_transaction_the_insert_stays_durable(number):
    """Asynchronous commit there would be the whole transaction's."""
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        assert insert_once(call(number, "CA" + "2" * 32), unique="provider_sid", durable=False)
    assert "synchronous_commit" not in queries.captured_queries[0]["sql"]


def prepared_inserts() -> list[tuple[str, int, int]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements "
                       "WHERE statement LIKE 'INSERT INTO \"phones_call\"%%'")
        return cursor.fetchall()


def test_the_insert_is_prepared_once_per_session_and_then_only_executed(number):
    """Parsed and planned once per database session (core.prepared), not once per webhook; the
    statement is still logged as written, and a repeated SID still inserts nothing."""
    with CaptureQueriesContext(connection) as queries:
        for i in range(3):
            assert insert_once(call(number, f"CA{i:032x}"), unique="provider_sid")
        assert not insert_once(call(number, f"CA{0:032x}"), unique="provider_sid")
    [(statement, generic, custom)] = prepared_inserts()
    assert "$1" in statement and generic + custom == 4
    assert all(q["sql"].startswith('INSERT INTO "phones_call"') for q in queries.captured_queries)
    assert Call.objects.filter(phone_number=number).count() == 3
