"""Recording retention, run by beat (config.settings CELERY_BEAT_SCHEDULE)."""
from __future__ import annotations

from celery import shared_task


@shared_task(name="phones.recordings.tasks.delete_expired_recordings")
def delete_expired_recordings() -> dict[str, int]:
    """Beat: every org's recordings older than its retention, deleted at the provider and here."""
    from phones.recordings.services import recordings_expire

    return recordings_expire()
