"""Each sender's rate, shared by every worker: a token bucket per sender in Redis.

The bucket holds at most `burst` tokens (1 by default: a steady rate, never a burst the carrier
would refuse) and refills at `rate` per second. Taking a token is one Lua script, atomic in Redis,
with Redis's own clock, so workers on many machines (with clocks apart) share one rate.

Without Redis (the embedded defaults: eager Celery, no broker, one process) the buckets live in the
process, behind a lock: exact for that one process, and not shared with any other. Production sets
REDIS_URL (or a Redis broker), and then every worker uses Redis.

A lease per broadcast and sender (same store) keeps one chain of batch tasks per sender: a batch
redelivered after its worker died carries the chain's token and goes on; a second chain (beat's
tick re-sending what it thinks was lost) finds the lease held and stops.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable

from django.conf import settings

# KEYS[1]: the bucket. ARGV: rate (tokens/s), burst. Returns 0 when a token was taken, else the
# milliseconds until one will be there.
_TAKE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil then tokens = burst; at = now end
tokens = math.min(burst, tokens + (now - at) * rate / 1000)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) * 1000 / rate) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 60000)
return wait
"""


# KEYS[1]: a lease; ARGV: the holder's token, milliseconds. 1 when the token holds it now.
_LEASE = """
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""


class RedisBuckets:
    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url)
        self._take = self._redis.register_script(_TAKE)
        self._lease = self._redis.register_script(_LEASE)

    def try_take(self, key: str, rate: float, burst: int) -> float:
        """0 when a token was taken, else the seconds to wait for one."""
        return int(self._take(keys=[f"broadcast:bucket:{key}"], args=[rate, burst])) / 1000

    def lease(self, key: str, token: str, seconds: float) -> bool:
        return bool(self._lease(keys=[f"broadcast:lease:{key}"], args=[token, int(seconds * 1000)]))

    def release(self, key: str, token: str) -> None:
        if self._redis.get(f"broadcast:lease:{key}") == token.encode():
            self._redis.delete(f"broadcast:lease:{key}")


class LocalBuckets:
    """The same bucket in this process's memory (no Redis configured)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._state: dict[str, tuple[float, float]] = {}
        self._leases: dict[str, tuple[str, float]] = {}

    def try_take(self, key: str, rate: float, burst: int) -> float:
        with self._lock:
            now = self._clock()
            tokens, at = self._state.get(key, (float(burst), now))
            tokens = min(burst, tokens + (now - at) * rate)
            if tokens >= 1:
                self._state[key] = (tokens - 1, now)
                return 0.0
            self._state[key] = (tokens, now)
            return (1 - tokens) / rate

    def lease(self, key: str, token: str, seconds: float) -> bool:
        with self._lock:
            holder, until = self._leases.get(key, ("", 0.0))
            if holder and holder != token and until > self._clock():
                return False
            self._leases[key] = (token, self._clock() + seconds)
            return True

    def release(self, key: str, token: str) -> None:
        with self._lock:
            if self._leases.get(key, ("",))[0] == token:
                del self._leases[key]


_buckets: RedisBuckets | LocalBuckets | None = None
_buckets_lock = threading.Lock()


def buckets() -> RedisBuckets | LocalBuckets:
    global _buckets
    with _buckets_lock:
        if _buckets is None:
            url = settings.BROADCAST_REDIS_URL
            _buckets = RedisBuckets(url) if url else LocalBuckets()
        return _buckets


def reset() -> None:
    """Forget the buckets (tests that change the settings)."""
    global _buckets
    with _buckets_lock:
        _buckets = None


def take(sender: str, rate: float, *, burst: int = 1, deadline: float | None = None,
         sleep: Callable[[float], None] = time.sleep) -> bool:
    """Wait for the sender's next token; False when it would come after `deadline` (monotonic)."""
    while True:
        wait = buckets().try_take(sender, rate, burst)
        if wait <= 0:
            return True
        if deadline is not None and time.monotonic() + wait > deadline:
            return False
        sleep(wait)
