"""Deleting recordings (at the provider first, then here) and the org's retention.

A recording is deleted at the provider before its row: when the provider cannot be reached or
refuses, the row stays, with `delete_error` saying why, and the caller gets the error (the API
answers it; retention tries again on its next run). A recording the provider no longer has is
deleted here as asked. The provider is never called inside a transaction.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from core import bounds
from core.errors import Conflict, DomainError
from orgs.audit import audit_record
from orgs.models import Org
from phones.models import Recording
from providers.base import ProviderError
from providers.registry import provider_for

logger = logging.getLogger(__name__)

# At most this many recordings are deleted per org on one retention run; the rest wait for the next.
RETENTION_BATCH = 500


def _provider_failed(recording: Recording, error: DomainError) -> DomainError:
    Recording.objects.filter(pk=recording.pk).update(delete_error=bounds.column(Recording, "delete_error",
                                                                                error.message))
    return error


def recording_delete(*, recording: Recording, actor=None, note: str = "") -> None:
    """Delete the recording's audio at the provider, then the row (audited)."""
    if recording.connection is None:
        raise _provider_failed(recording, Conflict(
            "This recording's provider connection is gone, so its audio cannot be deleted at the provider: "
            "delete it in the provider's console, then here by staff", code="no_connection"))
    try:
        provider_for(recording.connection).delete_recording(recording.provider_sid)
    except ProviderError as exc:
        raise _provider_failed(recording, exc.as_domain_error()) from exc
    except ValueError as exc:  # an id the provider's API could not take
        raise _provider_failed(recording, DomainError(str(exc), code="provider_refused", status_code=422)) from exc
    with transaction.atomic():
        audit_record(actor=actor, org=recording.org, action="recording.delete", target=recording,
                     before={"providerSid": recording.provider_sid, "createdAt": recording.created_at.isoformat()},
                     note=note)
        recording.delete()


def recording_retention_update(*, org: Org, days: int | None, actor) -> Org:
    before = org.recording_retention_days
    org.recording_retention_days = days
    with transaction.atomic():
        org.save(update_fields=["recording_retention_days"])
        audit_record(actor=actor, org=org, action="recording.retention", target=org,
                     before={"retentionDays": before}, after={"retentionDays": days})
    return org


def recordings_expire(*, now: datetime | None = None) -> dict[str, int]:
    """Delete every org's recordings older than its retention (at the provider, then here).
    Those the provider would not delete stay, to be tried on the next run; so do the rest of an
    org's once its provider stops answering (5xx, unreachable)."""
    now = now or timezone.now()
    deleted = failed = 0
    for org in Org.objects.filter(recording_retention_days__isnull=False).order_by("pk"):
        cutoff = now - timedelta(days=org.recording_retention_days)
        due = (Recording.objects.select_related("org", "connection")
               .filter(org=org, created_at__lt=cutoff).order_by("created_at", "pk")[:RETENTION_BATCH])
        for recording in due:
            try:
                recording_delete(recording=recording, note=f"retention: older than {org.recording_retention_days} days")
            except DomainError as exc:
                failed += 1
                logger.warning("retention could not delete recording %s of %s: %s", recording.public_id, org,
                               exc.message)
                if exc.status_code >= 500:
                    break  # the provider is not answering: this org's others wait for the next run
            else:
                deleted += 1
    return {"deleted": deleted, "failed": failed}
