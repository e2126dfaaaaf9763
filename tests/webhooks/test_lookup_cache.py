"""Each process's copy of the webhook lookup (webhooks.lookup_cache): fewer queries, and changes
seen at once in the process that made them, within WEBHOOK_CACHE_SECONDS elsewhere."""
from __future__ import annotations

from phones.calls.routing import routing_update
from phones.calls.twiml import NOT_IN_SERVICE
from phones.models import PhoneNumber
from tests.webhooks.conftest import NUMBER, children, twiml
from webhooks import lookup_cache

CALLS = (f"CA{i:032x}" for i in range(1, 1000))


def dialled(response) -> list[tuple[str, dict, str]]:
    dial = twiml(response).find("Dial")
    return children(dial) if dial is not None else []


def says(response) -> list[str]:
    return [text for tag, _, text in children(twiml(response)) if tag == "Say"]


def test_a_second_webhook_for_a_number_does_not_look_it_up_again(twilio, number, django_assert_num_queries):
    routing_update(number=number, changes={"assignments": [{"type": "phone", "target": "+14155550199"}]})
    with django_assert_num_queries(2):  # the lookup, the call's row
        twilio.call(call_sid=next(CALLS))
    with django_assert_num_queries(1):  # the call's row
        response = twilio.call(call_sid=next(CALLS))
    assert dialled(response) == [("Number", {}, "+14155550199")]


def test_a_change_made_in_this_process_is_seen_by_the_next_webhook(twilio, number):
    routing_update(number=number, changes={"assignments": [{"type": "phone", "target": "+14155550199"}]})
    assert dialled(twilio.call(call_sid=next(CALLS))) == [("Number", {}, "+14155550199")]
    routing_update(number=number, changes={"assignments": [{"type": "phone", "target": "+14155550188"}]})
    assert dialled(twilio.call(call_sid=next(CALLS))) == [("Number", {}, "+14155550188")]


def test_a_change_made_elsewhere_is_seen_within_the_cache_seconds(twilio, number, settings, monkeypatch):
    """A bulk update sends no signal, as a change made by another process reaches none here. The
    cache's clock is ours to move: no sleeping, and no race with a slow machine."""
    now = [1000.0]
    monkeypatch.setattr(lookup_cache, "monotonic", lambda: now[0])
    settings.WEBHOOK_CACHE_SECONDS = 5
    routing_update(number=number, changes={"assignments": [{"type": "phone", "target": "+14155550199"}]})
    assert dialled(twilio.call(call_sid=next(CALLS))) == [("Number", {}, "+14155550199")]
    PhoneNumber.objects.filter(pk=number.pk).update(status=PhoneNumber.Status.RELEASED)
    now[0] += 4.9  # still within the cache seconds: this process's copy answers
    assert dialled(twilio.call(call_sid=next(CALLS))) == [("Number", {}, "+14155550199")]
    now[0] += 0.2  # past them: looked up again, and released
    assert says(twilio.call(call_sid=next(CALLS))) == [NOT_IN_SERVICE]


def test_zero_cache_seconds_looks_the_number_up_every_time(twilio, number, settings, django_assert_num_queries):
    settings.WEBHOOK_CACHE_SECONDS = 0
    routing_update(number=number, changes={"assignments": [{"type": "phone", "target": "+14155550199"}]})
    for _ in range(2):
        with django_assert_num_queries(2):
            twilio.call(call_sid=next(CALLS))


def test_a_number_not_ours_is_remembered_until_one_is_saved(twilio, number, django_assert_num_queries):
    unknown = "+15005550199"
    assert says(twilio.call(call_sid=next(CALLS), to=unknown)) == [NOT_IN_SERVICE]
    with django_assert_num_queries(1):  # only the account's connections, to check the signature with
        assert says(twilio.call(call_sid=next(CALLS), to=unknown)) == [NOT_IN_SERVICE]
    number.e164 = unknown
    number.save()
    routing_update(number=number, changes={"assignments": [{"type": "phone", "target": "+14155550199"}]})
    assert dialled(twilio.call(call_sid=next(CALLS), to=unknown)) == [("Number", {}, "+14155550199")]
    assert says(twilio.call(call_sid=next(CALLS), to=NUMBER)) == [NOT_IN_SERVICE]


def test_each_webhook_gets_its_own_instances_built_once_per_cached_row(number, monkeypatch):
    """number_from_row copies the instances it built for a row: what one request sets on its
    number, org, connection or routing is not seen by the next one, and nothing is rebuilt."""
    from webhooks import lookup, security

    lookup._built.clear()
    built = []
    real_build = lookup._build
    monkeypatch.setattr(lookup, "_build", lambda row: built.append(row) or real_build(row))
    first, row = security.number_lookup(e164s=[NUMBER])
    first.friendly_name, first.org.name, first.connection.account_id = "changed", "changed", "changed"
    first.routing.ivr_flow = {"changed": True}
    second, same_row = security.number_lookup(e164s=[NUMBER])
    assert same_row is row and len(built) == 1
    assert second is not first and second.org is not first.org and second.connection is not first.connection
    assert (second.friendly_name, second.org.name, second.routing.ivr_flow) == (
        number.friendly_name, number.org.name, number.routing.ivr_flow)
    assert second.connection.account_id == number.connection.account_id
    assert second.routing.phone_number is second and second.connection.org is second.org
    assert second.org_id == number.org_id and second.pk == number.pk and not second._state.adding
