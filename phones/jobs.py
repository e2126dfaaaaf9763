"""Job bookkeeping: enqueueing a job, claiming it under a lease, finishing it, running it from its
task, and sending again the jobs whose message the broker never got or lost.

**The job row is the durable queue.** A request that starts a job writes the job in its
transaction and publishes the task only after commit (`job_enqueue`): a worker never sees a job
that is not yet there, and a rolled-back request starts nothing. Publishing can still fail after
the commit (the broker is down or unreachable). Then the request does not fail: its effects are
committed and answered 202 with the job `queued`, which is the truth; the job is sent again by
beat's `phones.tasks.requeue_stale_jobs` (`jobs_requeue_stale`) once it has waited
JOB_REQUEUE_AFTER_SECONDS, as is a running job whose worker died and whose lease expired that long
ago. Sending a job twice is harmless: every run first claims the job's lease (`job_claim`), and a
finished job is left alone. (Publishing inside the transaction and answering 503 on failure would
not do: a worker could take the task before the commit and find no job, and a commit that fails
after a successful publish leaves a task for nothing.)
"""
from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from kombu.exceptions import OperationalError as BrokerError

from core import retry
from core.errors import DomainError
from phones.models import Job
from providers.base import ProviderError

logger = logging.getLogger(__name__)

# The task that runs each kind of job, by its pinned name (the tasks sit in the features above).
JOB_TASKS = {
    Job.Kind.PURCHASE: "phones.tasks.purchase_number",
    Job.Kind.RELEASE: "phones.tasks.release_number",
    Job.Kind.VERIFY: "phones.tasks.verify_numbers",
    Job.Kind.RECONCILE: "phones.tasks.verify_numbers",
}
# At most this many jobs are sent again per sweep; the next sweep takes the rest.
REQUEUE_BATCH = 500


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


def job_publish(job: Job, task) -> bool:
    """Send the job's task to the broker. False, logged, when the broker cannot take it: the job
    stays queued in the database and jobs_requeue_stale sends it again later."""
    try:
        task.delay(job.pk)
    except BrokerError as exc:
        logger.warning("job %s (%s) could not be sent to the broker, left queued for the sweep: %s",
                       job.public_id, job.kind, exc)
        return False
    return True


def job_enqueue(job: Job, task) -> None:
    """Publish the job's task once the surrounding transaction commits (see the module docstring:
    a broker failure then leaves the job queued, never a failed request with its effects kept)."""
    transaction.on_commit(lambda: job_publish(job, task))


def _waiting_since(job: Job) -> datetime:
    """Since when a queued job has waited for a worker (its creation, or its last sending), or a
    running one for its dead worker (its lease's expiry, or its last sending)."""
    since = job.lease_expires_at if job.status == Job.Status.RUNNING else job.created_at
    stamp = parse_datetime(job.params.get("queuedAt") or "")
    return max(since, stamp) if stamp else since


def jobs_requeue_stale(*, now: datetime | None = None) -> list[Job]:
    """Send again every job still queued JOB_REQUEUE_AFTER_SECONDS after it was last sent (its
    message never reached the broker, or was lost there), and every running job whose lease
    expired that long ago (its worker died and nothing redelivered it). Each is stamped
    `params.queuedAt` first, so it is sent at most once per period however long the broker
    stays down. Returns the jobs the broker took."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.JOB_REQUEUE_AFTER_SECONDS)
    candidates = (Job.objects.filter(Q(status=Job.Status.QUEUED, created_at__lt=cutoff)
                                     | Q(status=Job.Status.RUNNING, lease_expires_at__lt=cutoff))
                  .order_by("created_at", "id"))
    sent = []
    for job in candidates[:REQUEUE_BATCH]:
        if _waiting_since(job) >= cutoff:
            continue
        stamped = Job.objects.filter(pk=job.pk, status=job.status).update(
            params={**job.params, "queuedAt": now.isoformat()})
        if not stamped:  # it moved on meanwhile
            continue
        logger.info("job %s (%s) %s, waiting since %s: sent again", job.public_id, job.kind, job.status,
                    _waiting_since(job))
        if job_publish(job, current_app.tasks[JOB_TASKS[job.kind]]):
            sent.append(job)
    return sent


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
    Job.objects.filter(pk=job.pk).update(status=Job.Status.QUEUED, lease_expires_at=None, error=error,
                                         params={**job.params, "queuedAt": timezone.now().isoformat()})


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
