"""What the documents' APIs share: "active within seconds" (a purchase or release waits for its
jobs up to COMPAT_PURCHASE_WAIT_SECONDS, then answers what it has), and the release they all do
through the release service."""
from __future__ import annotations

import time

from django.conf import settings

from phones.models import Job, PhoneNumber
from phones.numbers import api as numbers_api
from phones.numbers import services


def wait_for(jobs: list[Job]) -> None:
    """Until every job has finished, or the bound has passed (each job refreshed either way)."""
    deadline = time.monotonic() + getattr(settings, "COMPAT_PURCHASE_WAIT_SECONDS", 10)
    while True:
        for job in jobs:
            job.refresh_from_db()
        if all(job.status in (Job.Status.SUCCEEDED, Job.Status.FAILED) for job in jobs):
            return
        if time.monotonic() >= deadline:
            return
        time.sleep(0.2)


def release_and_wait(request, number: PhoneNumber) -> Job:
    """The release service (audited as the API audits it, unless it was already under way), waited
    for; `number` is read again."""
    before = number.status
    job = services.phone_number_release(number=number, user=request.user)
    if before != PhoneNumber.Status.RELEASING:
        number.refresh_from_db(fields=["status"])
        numbers_api.api_audit(request, number, "phone.release", job, before={"status": before})
    wait_for([job])
    number.refresh_from_db()
    return job
