"""Retrying one attempt of a Celery task with backoff, with a broker and without one.

With a broker a retry is a new delivery of the task after the backoff. Without one (eager mode:
`make run`, tests) Celery's eager retry() re-raises instead of re-running, so the attempts are
repeated here, at once.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class GaveUp(Exception):
    """Retries exhausted, or the failure is not one a retry can fix (see __cause__)."""


def with_retries(task, attempt: Callable[[], T], retryable: tuple[type[Exception], ...], *, max_retries: int,
                 backoff: Callable[[int], int], can_retry: Callable[[Exception], bool] = lambda exc: True) -> T:
    """`attempt()`, retried after `backoff(retries so far)` seconds on `retryable` failures that
    `can_retry`, `max_retries` times; then GaveUp, from the last failure."""
    tries = task.request.retries
    while True:
        try:
            return attempt()
        except retryable as exc:
            if not can_retry(exc) or tries >= max_retries:
                raise GaveUp(str(exc)) from exc
            if not task.request.is_eager:
                raise task.retry(countdown=backoff(tries)) from exc
            tries += 1
