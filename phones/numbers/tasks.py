"""Celery tasks: they take ids, call a service, and retry only what can succeed on retry."""
from __future__ import annotations

import random

from celery import shared_task
from django.conf import settings

from phones.numbers import provisioning
from phones.jobs import JobBusy
from core import retry


def _backoff(retries: int) -> int:
    """Exponential backoff with jitter: ~5 s, 10 s, 20 s … capped at 5 minutes."""
    return min(5 * 2 ** retries, 300) + random.randint(0, 3)


def _run(task, run, gave_up, job_id: int) -> None:
    """Run a job, retrying transient provider failures with backoff until JOB_MAX_RETRIES
    (at once, in-process, without a broker: core.retry). A busy job waits its turn."""
    try:
        retry.with_retries(task, lambda: _run_once(task, run, job_id), (provisioning.RetryLater,),
                           max_retries=settings.JOB_MAX_RETRIES, backoff=_backoff)
    except retry.GaveUp as exc:
        gave_up(job_id=job_id, error=exc.__cause__.error)


def _run_once(task, run, job_id: int) -> None:
    try:
        run(job_id=job_id)
    except JobBusy as busy:
        raise task.retry(countdown=busy.countdown, max_retries=None) from busy


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, name="phones.tasks.purchase_number")
def purchase_number(self, job_id: int) -> None:
    _run(self, provisioning.purchase_run, provisioning.purchase_gave_up, job_id)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, name="phones.tasks.release_number")
def release_number(self, job_id: int) -> None:
    _run(self, provisioning.release_run, provisioning.release_gave_up, job_id)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, name="phones.tasks.verify_numbers")
def verify_numbers(self, job_id: int) -> None:
    """A verify or reconcile job: check every number of the org against the provider's inventory."""
    from phones.verify import services as verify

    _run(self, verify.verify_job_run, verify.verify_gave_up, job_id)


@shared_task(name="phones.tasks.reconcile_all")
def reconcile_all() -> int:
    """Beat: start a reconcile job for every connected org; each runs as its own task."""
    from phones.verify import services as verify

    return len(verify.reconcile_start_all())
