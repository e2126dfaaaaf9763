from __future__ import annotations

from celery import shared_task

from billing.renewals import renewals_run


@shared_task(acks_late=True)
def renew_due_numbers() -> dict:
    """Beat runs this hourly. Safe to run twice or concurrently: each period is charged once."""
    return renewals_run().as_dict()
