"""A fixed number of queries per webhook, whatever the org holds (no N+1 over rules, members or history).

The bounds include the SAVEPOINT/RELEASE pairs of atomic blocks: pytest-django's test transaction
makes every block a savepoint (in production the outermost is BEGIN/COMMIT)."""
from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orgs.models import Membership
from phones.calls.routing import routing_update
from phones.messaging.inbound import sms_thread_batch
from phones.messaging.services import sms_rules_update
from phones.models import Message, RingGroup
from tests.conftest import make_user
from tests.webhooks.conftest import CALLER, NUMBER


def big_org(org, number, count: int):
    users = [make_user(f"agent{i}") for i in range(count)]
    Membership.objects.bulk_create([Membership(user=u, org=org) for u in users])
    group = RingGroup.objects.create(org=org, name="All")
    group.members.set(users)
    routing_update(number=number, changes={
        "assignments": [{"type": "group", "target": group.public_id},
                        *({"type": "user", "target": u.username} for u in users[:10])]})
    sms_rules_update(number=number, rules=[
        {"type": "auto-reply", "match": {"keywords": [f"k{i}"]}, "params": {"template": "x"}} for i in range(count)
    ] + [{"type": "add-tag", "params": {"tag": "t"}}, {"type": "auto-reply", "params": {"template": "hi"}}])
    Message.objects.bulk_create([Message(org=org, phone_number=number, direction="inbound", from_number=CALLER,
                                         to_number=NUMBER, body="old", provider_sid=f"SM{i:032x}",
                                         public_id=f"msg_old{i}", created_at=timezone.now()) for i in range(count)])


def test_inbound_sms_answers_in_a_fixed_number_of_queries(twilio, number, org, django_assert_num_queries,
                                                          django_assert_max_num_queries,
                                                          django_capture_on_commit_callbacks):
    """The webhook: number lookup, the sender's name and opt-out, INSERT (no transaction without
    a form rule); on PostgreSQL the INSERT reads the sender itself (one statement less).
    Threading, usage and the rules' effects run after commit, bounded too."""
    in_request = 2 if connection.vendor == "postgresql" else 3
    sms_rules_update(number=number, rules=[{"type": "auto-reply", "params": {"template": "Hi {{firstName}}"}}])
    with django_capture_on_commit_callbacks() as after_commit, django_assert_num_queries(in_request):
        twilio.sms("first", sid="SM" + "e" * 32, commit=False)
    with django_assert_max_num_queries(20):
        for callback in after_commit:
            callback()
    big_org(org, number, 30)
    with django_capture_on_commit_callbacks() as after_commit, django_assert_num_queries(in_request):
        twilio.sms("hello again", sid="SM" + "f" * 32, commit=False)
    with django_assert_max_num_queries(13):
        for callback in after_commit:
            callback()


def test_voice_queries_do_not_grow(twilio, number, org, django_assert_max_num_queries):
    big_org(org, number, 30)
    with django_assert_max_num_queries(4):
        twilio.call()


def test_ivr_queries(twilio, number, django_assert_max_num_queries):
    number.routing_mode = "ivr"
    number.save()
    routing_update(number=number, changes={"ivrFlow": {"entry": "m", "nodes": {
        "m": {"type": "menu", "say": "Hi", "options": {"1": "bye"}}, "bye": {"type": "hangup"}}}})
    with django_assert_max_num_queries(2):
        twilio.call("ivr-menu")
    with django_assert_max_num_queries(1):
        twilio.call("ivr-menu", query="node=m&attempt=1", Digits="1")


def test_status_callback_queries(twilio, number, org, django_assert_max_num_queries):
    Message.objects.create(org=org, phone_number=number, direction="outbound", from_number=NUMBER, to_number=CALLER,
                           provider_sid="SM" + "a" * 32, status="queued", created_at=timezone.now())
    with django_assert_max_num_queries(11):
        twilio.post("status", {"MessageSid": "SM" + "a" * 32, "MessageStatus": "sent", "From": NUMBER, "To": CALLER})
    with django_assert_max_num_queries(4):
        twilio.post("status", {"MessageSid": "SM" + "a" * 32, "MessageStatus": "sent", "From": NUMBER, "To": CALLER})


def _store_texts(twilio, count: int, offset: int) -> None:
    for i in range(count):
        twilio.sms("hello", sid=f"SM{offset + i:032x}", commit=False, From=f"+1415555{offset + i:04d}")


def test_threading_a_batch_takes_the_same_queries_for_1_or_20_new_senders(twilio, number, org):
    """Contacts, conversations, the texts' thread, the threads' preview, usage and replies: each
    one statement per batch, however many texts it holds."""
    sms_rules_update(number=number, rules=[{"type": "auto-reply", "params": {"template": "Hi"}}])
    counts = []
    for size, offset in ((1, 1000), (20, 2000)):
        _store_texts(twilio, size, offset)
        ids = list(Message.objects.filter(direction="inbound", conversation__isnull=True).values_list("pk", flat=True))
        assert len(ids) == size
        with CaptureQueriesContext(connection) as queries:
            assert sms_thread_batch(limit=200) == size
        counts.append(len(queries))
    assert counts[0] == counts[1]
    # Every text threaded, each sender its own contact and conversation, each reply kept in its thread.
    assert not Message.objects.filter(direction="inbound", conversation__isnull=True).exists()
    assert Message.objects.filter(direction="outbound", body="Hi").values("conversation").distinct().count() == 21
