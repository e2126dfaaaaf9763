"""The webhooks' hand-written statements (webhooks.sql) on PostgreSQL: asynchronous commit."""
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
