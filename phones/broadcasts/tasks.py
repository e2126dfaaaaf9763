"""Broadcast tasks: leaves (each imports its service in its body).

A batch sends one sender's due recipients at its rate and queues the next batch: at once when more
are due, else when the next one is (after quiet hours or a retry's backoff). Beat's tick starts
scheduled broadcasts and re-sends lost batches. With no broker (the embedded defaults), the batches
run on a thread of the web process instead (BROADCAST_IN_PROCESS_RUNNER), one per sender.
"""
from __future__ import annotations

import logging
import threading
import time
import uuid

from celery import shared_task
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

logger = logging.getLogger(__name__)
_running: set[tuple[int, str]] = set()
_running_lock = threading.Lock()


def enqueue_batch(broadcast_id: int, sender: str, countdown: float = 0) -> None:
    # Eager Celery would run the chain inside this call, a countdown ignored: a thread runs it instead.
    if send_batch.app.conf.task_always_eager:
        if settings.BROADCAST_IN_PROCESS_RUNNER:
            _start_thread(broadcast_id, sender)
        return
    # The chain's token goes with the message, so a copy redelivered after its worker died goes on.
    send_batch.apply_async((broadcast_id, sender, uuid.uuid4().hex), countdown=max(countdown, 0))


def _start_thread(broadcast_id: int, sender: str) -> None:
    key = (broadcast_id, sender)
    with _running_lock:
        if key in _running:
            return
        _running.add(key)
    threading.Thread(target=_run_in_process, args=key, daemon=True, name=f"broadcast-{broadcast_id}").start()


def _run_in_process(broadcast_id: int, sender: str) -> None:
    from phones.broadcasts.services import broadcast_send_batch

    try:
        while True:
            close_old_connections()
            result = broadcast_send_batch(broadcast_id=broadcast_id, sender=sender)
            if result.more:
                continue
            if result.next_due is None:
                return
            time.sleep(min(max((result.next_due - timezone.now()).total_seconds(), 0.5), 60))
    except Exception:
        logger.exception("broadcast %s: the in-process sender %s stopped", broadcast_id, sender)
    finally:
        close_old_connections()
        with _running_lock:
            _running.discard((broadcast_id, sender))


@shared_task(name="phones.broadcasts.tasks.send_batch", acks_late=True)
def send_batch(broadcast_id: int, sender: str, token: str = "") -> None:
    """One batch of a sender's chain. `token` names the chain (its lease): a chain whose lease another
    holds stops here."""
    from phones.broadcasts import throttle
    from phones.broadcasts.services import BATCH_SECONDS, broadcast_send_batch

    token = token or uuid.uuid4().hex
    lease = f"{broadcast_id}:{sender}"
    if not throttle.buckets().lease(lease, token, BATCH_SECONDS + 30):
        return
    result = broadcast_send_batch(broadcast_id=broadcast_id, sender=sender)
    if result.more:
        send_batch.apply_async((broadcast_id, sender, token))
        return
    wait = (result.next_due - timezone.now()).total_seconds() if result.next_due is not None else None
    # Far-off waits (a night of quiet hours) are left to beat's tick rather than an hours-long countdown.
    if wait is not None and wait <= 300:
        send_batch.apply_async((broadcast_id, sender, token), countdown=max(wait, 0.5))
    else:
        throttle.buckets().release(lease, token)


@shared_task(name="phones.broadcasts.tasks.broadcasts_tick")
def broadcasts_tick() -> None:
    from phones.broadcasts.services import broadcasts_tick as tick

    tick()
