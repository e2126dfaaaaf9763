"""Quiet hours in the recipient's own time zone, with a fixed clock."""
from __future__ import annotations

from datetime import UTC, datetime, time
from unittest import mock

from phones.broadcasts.models import Broadcast, BroadcastRecipient
from phones.broadcasts.quiet_hours import is_open, next_open, time_zones
from sandbox.models import SandboxMessage
from tests.phones.broadcasts.conftest import run_all

NY, LA, LONDON, HONOLULU = "+12125550123", "+13105550123", "+442079460018", "+18085550123"
NINE, EIGHT_PM = time(9), time(20)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_the_time_zone_comes_from_the_number():
    assert time_zones(NY) == ("America/New_York",)
    assert time_zones(LA) == ("America/Los_Angeles",)
    assert time_zones(LONDON) == ("Europe/London",)
    # An area code that names no place (500) is timed to the continental US: open when both coasts are.
    assert time_zones("+15005550006") == ("America/New_York", "America/Los_Angeles")


def test_the_window_is_local_time_across_zones_and_daylight_saving():
    # 13:30 UTC on 15 January: 08:30 in New York (closed), 05:30 in Los Angeles, 13:30 in London.
    winter = utc(2026, 1, 15, 13, 30)
    assert not is_open(winter, ("America/New_York",), NINE, EIGHT_PM)
    assert is_open(winter, ("Europe/London",), NINE, EIGHT_PM)
    assert next_open(winter, ("America/New_York",), NINE, EIGHT_PM) == utc(2026, 1, 15, 14, 0)
    assert next_open(winter, ("America/Los_Angeles",), NINE, EIGHT_PM) == utc(2026, 1, 15, 17, 0)
    # In July New York is UTC-4: 09:00 there is 13:00 UTC.
    assert next_open(utc(2026, 7, 15, 12, 30), ("America/New_York",), NINE, EIGHT_PM) == utc(2026, 7, 15, 13, 0)
    # After 20:00 local: the next morning.
    assert next_open(utc(2026, 1, 16, 1, 30), ("America/New_York",), NINE, EIGHT_PM) == utc(2026, 1, 16, 14, 0)
    # The end is exclusive: 20:00 sharp is closed.
    assert not is_open(utc(2026, 1, 16, 1, 0), ("America/New_York",), NINE, EIGHT_PM)
    # A number that may be on either coast waits until both are open.
    both = ("America/New_York", "America/Los_Angeles")
    assert next_open(winter, both, NINE, EIGHT_PM) == utc(2026, 1, 15, 17, 0)


def test_recipients_outside_their_window_wait_for_it_and_the_others_are_sent(create):
    # 15:00 UTC on 15 January: 10:00 in New York and 15:00 in London (open), 07:00 in Los Angeles and
    # 05:00 in Honolulu (closed).
    clock = utc(2026, 1, 15, 15, 0)
    with mock.patch("django.utils.timezone.now", return_value=clock):
        created = create([NY, LA, LONDON, HONOLULU]).json()
        run_all(created["id"])
    assert sorted(SandboxMessage.objects.values_list("to", flat=True)) == sorted([NY, LONDON])
    waiting = dict(BroadcastRecipient.objects.filter(status="pending").values_list("e164", "next_attempt_at"))
    assert waiting == {LA: utc(2026, 1, 15, 17, 0), HONOLULU: utc(2026, 1, 15, 19, 0)}
    assert Broadcast.objects.get().status == "sending"
    with mock.patch("django.utils.timezone.now", return_value=utc(2026, 1, 15, 17, 0, 5)):
        run_all(created["id"])
    assert SandboxMessage.objects.filter(to=LA).count() == 1
    assert not SandboxMessage.objects.filter(to=HONOLULU).exists()
    with mock.patch("django.utils.timezone.now", return_value=utc(2026, 1, 15, 19, 0, 5)):
        run_all(created["id"])
    assert SandboxMessage.objects.count() == 4
    assert Broadcast.objects.get().status == "completed"


def test_a_narrower_window_is_honoured(create):
    # 10:30 in New York is outside 11:00–18:00.
    with mock.patch("django.utils.timezone.now", return_value=utc(2026, 1, 15, 15, 30)):
        created = create([NY], quietHours={"start": "11:00", "end": "18:00"}).json()
        assert created["quietHours"] == {"start": "11:00", "end": "18:00"}
        run_all(created["id"])
    assert not SandboxMessage.objects.exists()
    assert BroadcastRecipient.objects.get().next_attempt_at == utc(2026, 1, 15, 16, 0)
