"""Purchase and release tasks: they take a job id and run the provisioning service inside their body
(tasks are leaves: the services import them, not the other way round)."""
from __future__ import annotations

from celery import shared_task

from phones.jobs import job_task_run


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, name="phones.tasks.purchase_number")
def purchase_number(self, job_id: int) -> None:
    from phones.numbers import provisioning

    job_task_run(self, provisioning.purchase_run, provisioning.purchase_gave_up, job_id)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, name="phones.tasks.release_number")
def release_number(self, job_id: int) -> None:
    from phones.numbers import provisioning

    job_task_run(self, provisioning.release_run, provisioning.release_gave_up, job_id)


@shared_task(name="phones.tasks.requeue_stale_jobs")
def requeue_stale_jobs() -> int:
    """Beat: send again the jobs still queued because their task never reached the broker (or was lost)."""
    from phones.jobs import jobs_requeue_stale

    return len(jobs_requeue_stale())
