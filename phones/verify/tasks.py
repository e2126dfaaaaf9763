"""Verify and reconcile tasks (names pinned to where they were first queued)."""
from __future__ import annotations

from celery import shared_task

from phones.jobs import job_task_run


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, name="phones.tasks.verify_numbers")
def verify_numbers(self, job_id: int) -> None:
    """A verify or reconcile job: check every number of the org against the provider's inventory."""
    from phones.verify import services as verify

    job_task_run(self, verify.verify_job_run, verify.verify_gave_up, job_id)


@shared_task(name="phones.tasks.reconcile_all")
def reconcile_all() -> int:
    """Beat: start a reconcile job for every connected org; each runs as its own task."""
    from phones.verify import services as verify

    return len(verify.reconcile_start_all())
