"""Rows written behind the request: `insert_later` queues a row that a later event would recreate
anyway, and a thread of the process inserts what is queued every WRITE_BEHIND_MS (milliseconds)
in one transaction (core.insert_rows: one statement per model), duplicates ignored (ON CONFLICT
DO NOTHING).
The request makes no round trip to the database for it.

The trade-off, for the rows it is used for (the inbound call's row, phones.calls.twiml.call_remember):
the row exists up to WRITE_BEHIND_MS after the answer was sent, and a process that dies without
exiting (SIGKILL, a crash of the machine) loses what it had queued; a normal exit (gunicorn's
graceful stop, max-requests recycling, sys.exit) inserts it first (atexit). Nothing in the same
request may read it back. WRITE_BEHIND_MS=0, and any insert_later inside a transaction (whose
rollback must take the row with it), inserts at once instead (core.insert_once, asynchronous
commit). A full queue (MAX_QUEUED rows: the database is down or slower than the requests) inserts
at once too.

A batch that fails is tried again row by row after reconnecting; a row that still fails (its
number deleted meanwhile, say) is logged and dropped.
"""
from __future__ import annotations

import atexit
import logging
import os
import threading
from collections import deque
from functools import cache

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Model

from core.insert_once import insert_once
from core.insert_rows import insert_rows

logger = logging.getLogger(__name__)

MAX_QUEUED = 10_000
# Seconds an exiting process waits for a batch being inserted when it exits.
EXIT_WAIT = 10.0


@cache
def _fields(model: type[Model]) -> tuple:
    """The fields a queued row gives values for: all but the primary key."""
    return tuple(f for f in model._meta.concrete_fields if not f.primary_key)


class Writer:
    """The process's queue of rows and the thread that inserts them."""

    def __init__(self) -> None:
        self.queued: deque[tuple[type[Model], tuple]] = deque()
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()

    def add(self, model: type[Model], values: tuple) -> None:
        self.queued.append((model, values))
        if self.thread is None:
            self._start()
        if not self.wake.is_set():
            self.wake.set()

    def _start(self) -> None:
        with self.lock:
            if self.thread is None and not self.stopping.is_set():
                self.thread = threading.Thread(target=self._run, name="write-behind", daemon=True)
                self.thread.start()

    def _run(self) -> None:
        while not self.stopping.is_set():
            self.wake.wait()
            # Let the rows of the next WRITE_BEHIND_MS join this batch (a stop ends the wait).
            self.stopping.wait(settings.WRITE_BEHIND_MS / 1000)
            self.wake.clear()  # before taking the queue: a row added from now on wakes the next round
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - the thread must outlive anything a batch raises
                logger.exception("write-behind: a flush failed")
        connections.close_all()

    def flush(self) -> int:
        """Insert every row queued now; the number of rows taken from the queue."""
        batch = []
        while True:
            try:
                batch.append(self.queued.popleft())
            except IndexError:
                break
        if not batch:
            return 0
        try:
            _insert(batch)
        except Exception:  # noqa: BLE001 - the connection may be gone: each row again, on a new one
            logger.warning("write-behind: a batch of %d rows failed; trying them one by one", len(batch),
                           exc_info=True)
            connections[DEFAULT_DB_ALIAS].close()
            for row in batch:
                try:
                    _insert([row])
                except Exception:  # noqa: BLE001
                    logger.exception("write-behind: row dropped: %s", row[1])
                    connections[DEFAULT_DB_ALIAS].close()
        return len(batch)

    def stop(self) -> None:
        """At exit: the thread's batch finished, then what is still queued inserted by the caller."""
        self.stopping.set()
        self.wake.set()
        thread = self.thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(EXIT_WAIT)
        self.flush()


def _insert(batch: list[tuple[type[Model], tuple]]) -> None:
    by_model: dict[type[Model], list[tuple]] = {}
    for model, values in batch:
        by_model.setdefault(model, []).append(values)
    with transaction.atomic():
        for model, rows in by_model.items():
            insert_rows(model, tuple(f.name for f in _fields(model)), rows, ignore_conflicts=True)


_writer = Writer()


def writer() -> Writer:
    return _writer


def _forked() -> None:
    """A forked child has no thread: it starts its own queue (its parent inserts the parent's)."""
    global _writer
    _writer = Writer()


os.register_at_fork(after_in_child=_forked)
atexit.register(lambda: _writer.stop())


def insert_later(obj: Model, *, unique: str) -> None:
    """`obj` inserted within WRITE_BEHIND_MS by the process's writer unless a row with its `unique`
    value exists by then; at once (core.insert_once, asynchronous commit) when WRITE_BEHIND_MS is
    0, in a transaction, or when the queue is full. obj gets no primary key."""
    db = connections[DEFAULT_DB_ALIAS]
    if settings.WRITE_BEHIND_MS <= 0 or db.in_atomic_block or len(_writer.queued) >= MAX_QUEUED:
        insert_once(obj, unique=unique, durable=False)
        return
    _writer.add(type(obj), tuple(field.pre_save(obj, True) for field in _fields(type(obj))))
