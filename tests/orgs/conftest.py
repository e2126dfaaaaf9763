import pytest


@pytest.fixture(autouse=True)
def throttle_counts_cleared():
    """Throttle counters live in the cache (local memory in tests): each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


class Clock:
    """The throttles' clock, moved by hand: a window passes without sleeping."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch) -> Clock:
    from orgs.throttles import SettingsRateThrottle

    clock = Clock()
    monkeypatch.setattr(SettingsRateThrottle, "timer", staticmethod(clock))
    return clock
