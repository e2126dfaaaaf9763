"""Job bookkeeping: claiming a job under a lease, finishing it, and running it from its task."""
from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from core import retry
from core.errors import DomainError
from phones.models import Job
from providers.base import ProviderError


class RetryLater(Exception):
    """A transient provider failure: the task retries with backoff."""

    def __init__(self, error: ProviderError) -> None:
        super().__init__(error.message)
        self.error = error



class JobBusy(Exception):
    """Another worker holds the job's lease; try again when it may have expired."""

    def __init__(self, countdown: int) -> None:
        super().__init__(f"job is running elsewhere; retry in {countdown}s")
        self.countdown = countdown


def job_claim(job_id: int) -> Job | None:
    """Take the job for this worker. None when it is already finished.

    One conditional UPDATE decides: a queued job, or a running one whose lease has
    expired (its worker died), is ours; a running job under a live lease is not.
    """
    now = timezone.now()
    claimed = (
        Job.objects.filter(pk=job_id)
        .filter(Q(status=Job.Status.QUEUED) | Q(status=Job.Status.RUNNING, lease_expires_at__lt=now))
        .update(status=Job.Status.RUNNING, attempts=F("attempts") + 1, started_at=Coalesce(F("started_at"), now),
                lease_expires_at=now + timedelta(seconds=settings.JOB_LEASE_SECONDS))
    )
    job = Job.objects.select_related("phone_number", "phone_number__connection", "org").get(pk=job_id)
    if claimed:
        return job
    if job.status == Job.Status.RUNNING:
        remaining = int((job.lease_expires_at - now).total_seconds()) + 1 if job.lease_expires_at else 1
        raise JobBusy(max(remaining, 1))
    return None


def job_requeue(job: Job, *, error: dict) -> None:
    """Give the job back after a transient failure so the retry can claim it."""
    Job.objects.filter(pk=job.pk).update(status=Job.Status.QUEUED, lease_expires_at=None, error=error)


def job_finish(job: Job, *, succeeded: bool, result: dict | None = None, error: dict | None = None) -> None:
    job.status = Job.Status.SUCCEEDED if succeeded else Job.Status.FAILED
    job.progress = 100
    job.result = result or {}
    job.error = error or {}
    job.finished_at = timezone.now()
    job.lease_expires_at = None
    job.save(update_fields=["status", "progress", "result", "error", "finished_at", "lease_expires_at"])


def error_dict(exc: Exception) -> dict:
    if isinstance(exc, ProviderError):
        return {"code": exc.code, "message": exc.message, "provider": exc.provider, "permanent": exc.permanent}
    if isinstance(exc, DomainError):
        return {"code": exc.code, "message": exc.message}
    return {"code": exc.__class__.__name__, "message": str(exc)}


def _backoff(retries: int) -> int:
    """Exponential backoff with jitter: ~5 s, 10 s, 20 s … capped at 5 minutes."""
    return min(5 * 2 ** retries, 300) + random.randint(0, 3)


def job_task_run(task, run: Callable[..., object], gave_up: Callable[..., object], job_id: int) -> None:
    """A job's Celery task: `run` it, retrying transient provider failures (RetryLater) with backoff
    until JOB_MAX_RETRIES (at once, in-process, without a broker: core.retry), then `gave_up`.
    A busy job waits its turn."""
    def once() -> None:
        try:
            run(job_id=job_id)
        except JobBusy as busy:
            raise task.retry(countdown=busy.countdown, max_retries=None) from busy

    try:
        retry.with_retries(task, once, (RetryLater,), max_retries=settings.JOB_MAX_RETRIES, backoff=_backoff)
    except retry.GaveUp as exc:
        gave_up(job_id=job_id, error=exc.__cause__.error)
