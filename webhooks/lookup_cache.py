"""Each web process's copy of the webhook lookup (webhooks.lookup.number_rows): which of our
numbers a webhook is about, with its org, connection and routing.

Every call, every text and every callback starts with that lookup, and it changes rarely, so a
process answers from its copy for WEBHOOK_CACHE_SECONDS. What is kept is the database row, not
model instances: each webhook builds its own objects from it. A number that is not ours is
remembered too (a caller's number is looked up when the called one is not ours), in a bounded
LRU.

Freshness: a save or delete of a number, routing, connection or org empties the copy of the
process that made it at once (signals, connected in WebhooksConfig.ready); other processes see
the change within WEBHOOK_CACHE_SECONDS, bulk updates (renewal, verify marking numbers missing)
likewise. A rotated auth token is therefore accepted by other processes' signature checks only
after that delay. WEBHOOK_CACHE_SECONDS=0 reads the database on every webhook.
"""
from __future__ import annotations

from collections.abc import Callable
from time import monotonic

from cachetools import TTLCache
from django.conf import settings

MAX_ENTRIES = 10_000

Key = tuple[str, str, str | None, tuple[str, ...]]  # ("e164" | "flow", value, account_id, connection types)

_cache: TTLCache | None = None
_UNKNOWN = object()


def _entries() -> TTLCache | None:
    global _cache
    ttl = settings.WEBHOOK_CACHE_SECONDS
    if ttl <= 0:
        return None
    if _cache is None or _cache.ttl != ttl:
        # The clock is read through this module, so a test can move it (monkeypatch `monotonic`).
        _cache = TTLCache(maxsize=MAX_ENTRIES, ttl=ttl, timer=lambda: monotonic())
    return _cache


def first(keys: list[Key], load: Callable[[list[Key]], dict[Key, tuple]]) -> tuple | None:
    """The row of the first key that is one of our numbers (None: none is), from this process's
    copy where it can; the keys from the first one not in the copy on are `load`ed in one call
    (which answers only the keys that are ours)."""
    entries = _entries()
    if entries is None:  # caching off: a copy for this call only
        entries = {}
    for position, key in enumerate(keys):
        row = entries.get(key, _UNKNOWN)
        if row is _UNKNOWN:
            rest = keys[position:]
            loaded = load(rest)
            for later in rest:
                entries[later] = loaded.get(later)
            return next((loaded[later] for later in rest if later in loaded), None)
        if row is not None:
            return row
    return None


def invalidate(**_signal_kwargs) -> None:
    """Forget every cached lookup in this process."""
    if _cache is not None:
        _cache.clear()
