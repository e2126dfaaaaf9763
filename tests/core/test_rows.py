"""core.insert_rows and core.update_rows: the same rows, the same way, on PostgreSQL (one JSON
parameter, a prepared statement) and SQLite (a VALUES list)."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from billing.models import UsageRecord
from core.insert_rows import insert_rows
from core.update_rows import update_rows
from phones.models import Contact, Conversation, Message

pytestmark = pytest.mark.django_db

AT = datetime(2026, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)


def test_insert_rows_fills_defaults_public_ids_and_auto_now(org):
    before = datetime.now(UTC)
    insert_rows(Message, ("org", "direction", "from_number", "to_number", "body", "provider_sid", "created_at",
                          "tracking", "answer"),
                [(org.pk, Message.Direction.OUTBOUND, "+15550001", "+15550002", "héllo \"quoted\" \\ {x}", "SM1", AT,
                  {"campaignId": "c1"}, None),
                 (org.pk, "inbound", "+15550003", "+15550004", "", "SM2", AT, {}, {"replies": ["a", "b"]})])
    first, second = Message.objects.get(provider_sid="SM1"), Message.objects.get(provider_sid="SM2")
    assert (first.direction, first.body, first.created_at, first.tracking) == (
        "outbound", "héllo \"quoted\" \\ {x}", AT, {"campaignId": "c1"})
    assert first.answer is None and Message.objects.filter(answer__isnull=True).count() == 1  # None is SQL NULL
    assert second.answer == {"replies": ["a", "b"]}
    # Not given: the fields' defaults, a public id each.
    assert (first.media_urls, first.segments, first.error_code, first.conversation_id) == ([], 1, "", None)
    assert first.public_id.startswith("msg_") and second.public_id.startswith("msg_")
    assert first.public_id != second.public_id
    contact = Contact.objects.get(pk=insert_rows(Contact, ("org", "e164"), [(org.pk, "+15550009")],
                                                 returning=("id",))[0][0])
    assert contact.created_at >= before  # auto_now_add
    assert (contact.tags, contact.fields, contact.is_lead, contact.first_name) == ([], {}, False, "")


def test_insert_rows_skips_conflicts_and_returns_what_it_inserted(org):
    rows = [(org.pk, None, "sms_segment", 1, date(2026, 3, 1), f"sms:SM{i}") for i in range(3)]
    inserted = insert_rows(UsageRecord, ("org", "phone_number", "kind", "quantity", "period", "key"), rows[:2],
                           ignore_conflicts=True, returning=("key", "quantity"))
    assert sorted(inserted) == [("sms:SM0", 1), ("sms:SM1", 1)]
    again = [(org.pk, None, UsageRecord.Kind.SMS_SEGMENT, 5, date(2026, 3, 1), key) for *_, key in rows]
    assert insert_rows(UsageRecord, ("org", "phone_number", "kind", "quantity", "period", "key"), again,
                       ignore_conflicts=True, returning=("key",)) == [("sms:SM2",)]
    assert dict(UsageRecord.objects.values_list("key", "quantity")) == {"sms:SM0": 1, "sms:SM1": 1, "sms:SM2": 5}
    assert UsageRecord.objects.get(key="sms:SM2").kind == "sms_segment"
    assert UsageRecord.objects.get(key="sms:SM2").period == date(2026, 3, 1)
    assert insert_rows(UsageRecord, ("org", "kind", "quantity", "period", "key"), [], ignore_conflicts=True) == []


def test_insert_rows_without_ignore_conflicts_raises_on_a_conflict(org):
    insert_rows(Contact, ("org", "e164"), [(org.pk, "+15550001")])
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(Contact, ("org", "e164"), [(org.pk, "+15550002"), (org.pk, "+15550001")])
    assert Contact.objects.count() == 1  # the statement inserted none of its rows


def test_insert_rows_needs_a_value_per_field(org):
    with pytest.raises(ValueError):
        insert_rows(Contact, ("org", "e164"), [(org.pk,)])


def test_many_rows_in_one_statement_on_postgresql_in_batches_on_sqlite(org):
    count = 1500  # over SQLite's batch of 999 parameters
    with CaptureQueriesContext(connection) as queries:
        insert_rows(Contact, ("org", "e164", "tags"), [(org.pk, f"+1555{i:07d}", [f"t{i}"]) for i in range(count)])
    columns = len([f for f in Contact._meta.concrete_fields if not f.primary_key])
    assert len(queries) == (1 if connection.vendor == "postgresql" else -(-count // (999 // columns)))
    assert Contact.objects.count() == count
    assert Contact.objects.get(e164="+15550001234").tags == ["t1234"]


def test_the_statement_is_the_same_whatever_the_number_of_rows(org):
    with CaptureQueriesContext(connection) as queries:
        insert_rows(Contact, ("org", "e164"), [(org.pk, "+15550001")])
        insert_rows(Contact, ("org", "e164"), [(org.pk, "+15550002"), (org.pk, "+15550003")])
        update_rows(Contact, ("first_name",), {1: ("a",)})
        update_rows(Contact, ("first_name",), {1: ("a",), 2: ("b",)})
    texts = [q["sql"] for q in queries.captured_queries]
    if connection.vendor == "postgresql":
        assert texts[0] == texts[1] and texts[2] == texts[3]
    else:
        assert texts[0] != texts[1] and texts[2] != texts[3]


def test_update_rows_sets_each_row_to_its_values(org):
    contacts = [Contact.objects.create(org=org, e164=f"+1555000{i}") for i in range(3)]
    later = AT + timedelta(days=1)
    update_rows(Contact, ("first_name", "tags", "is_lead", "lead_created_at"),
                {contacts[0].pk: ("Ann", ["vip", "a\"b"], True, later),
                 contacts[1].pk: ("Bob \\ {}", [], False, None)})
    rows = {c.pk: c for c in Contact.objects.all()}
    assert (rows[contacts[0].pk].first_name, rows[contacts[0].pk].tags, rows[contacts[0].pk].is_lead,
            rows[contacts[0].pk].lead_created_at) == ("Ann", ["vip", "a\"b"], True, later)
    assert (rows[contacts[1].pk].first_name, rows[contacts[1].pk].tags, rows[contacts[1].pk].lead_created_at) == (
        "Bob \\ {}", [], None)
    assert (rows[contacts[2].pk].first_name, rows[contacts[2].pk].tags) == ("", [])  # not named: untouched
    conversation = Conversation.objects.create(org=org, contact=contacts[0], last_message_at=AT)
    message = Message.objects.create(org=org, direction="inbound", from_number="+1", to_number="+2", created_at=AT)
    update_rows(Message, ("conversation", "status"), {message.pk: (conversation.pk, Message.Direction.INBOUND)})
    message.refresh_from_db()
    assert (message.conversation_id, message.status) == (conversation.pk, "inbound")
    update_rows(Message, ("conversation",), {})  # nothing to do, no statement
