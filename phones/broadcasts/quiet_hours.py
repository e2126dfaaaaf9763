"""When a recipient may be texted: inside the broadcast's window in their local time.

Their time zones come from the number (phonenumbers' time-zone data, by country and area code).
A number that may be in several zones (a US number whose area code spans two) is texted only
when the window is open in every one of them. The window may be no wider than 08:00–21:00, the
hours the US TCPA allows.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as pn_timezone

from core.errors import InvalidInput

EARLIEST, LATEST = time(8, 0), time(21, 0)
DEFAULT_START, DEFAULT_END = time(9, 0), time(20, 0)
_UNKNOWN = "Etc/Unknown"


def window_check(start: time, end: time) -> None:
    if not (EARLIEST <= start < end <= LATEST):
        raise InvalidInput(f"Quiet hours must leave a window inside {EARLIEST:%H:%M}–{LATEST:%H:%M} local time "
                           f"(start before end); got {start:%H:%M}–{end:%H:%M}", field="quietHours")


# A number whose area code names no place (e.g. +1 500) maps to every zone of its country, which share
# no window: it is timed to the continental US, open when both coasts are.
_NON_GEOGRAPHIC = 4
_CONTINENTAL = ("America/New_York", "America/Los_Angeles")


def time_zones(e164: str) -> tuple[str, ...]:
    """The zones the number may be in (empty when the data does not know: then UTC is used).

    Cached by the number's first nine digits: the time-zone data's longest prefix is nine digits
    (country code included), and a broadcast's numbers share them by the thousand."""
    if len(e164) <= 10:
        return _time_zones_of(e164)
    prefix = e164[:10]
    cached = _BY_PREFIX.get(prefix)
    if cached is None:
        cached = _BY_PREFIX[prefix] = _time_zones_of(e164)
        if len(_BY_PREFIX) > 100_000:
            _BY_PREFIX.clear()
    return cached


_BY_PREFIX: dict[str, tuple[str, ...]] = {}


def _time_zones_of(e164: str) -> tuple[str, ...]:
    try:
        zones = tuple(z for z in pn_timezone.time_zones_for_number(phonenumbers.parse(e164)) if z != _UNKNOWN)
    except phonenumbers.NumberParseException:
        return ()
    if len(zones) > _NON_GEOGRAPHIC:
        return tuple(z for z in _CONTINENTAL if z in zones) or zones[:1]
    return zones


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:
        return ZoneInfo("UTC")


def _open_in(zone: ZoneInfo, now: datetime, start: time, end: time) -> bool:
    local = now.astimezone(zone).time()
    return start <= local < end


def is_open(now: datetime, zones: tuple[str, ...] | list[str], start: time, end: time) -> bool:
    return all(_open_in(_zone(z), now, start, end) for z in (zones or ("UTC",)))


def next_open(now: datetime, zones: tuple[str, ...] | list[str], start: time, end: time) -> datetime:
    """`now` when the window is open in all the zones, else the first moment after it when it is
    (checked at each zone's next window start, to the minute)."""
    names = tuple(zones) or ("UTC",)
    if is_open(now, names, start, end):
        return now
    candidates = []
    for name in names:
        zone = _zone(name)
        local = now.astimezone(zone)
        for days in range(0, 3):
            day = (local + timedelta(days=days)).date()
            opening = datetime.combine(day, start, tzinfo=zone)
            if opening > now:
                candidates.append(opening)
    for moment in sorted(candidates):
        if is_open(moment, names, start, end):
            return moment.astimezone(now.tzinfo)
    # Zones so far apart that no window overlaps (not the case for any one number's zones): the
    # first zone's next opening, so the text still goes out in that zone's hours.
    return min(candidates).astimezone(now.tzinfo)
