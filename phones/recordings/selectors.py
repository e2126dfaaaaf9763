"""Reading an org's recordings."""
from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from orgs.models import Org
from orgs.scoping import for_org, get_for_org
from phones.models import Recording


def _recordings() -> QuerySet[Recording]:
    return Recording.objects.select_related("call", "phone_number", "connection")


def recording_list(*, org: Org, phone_number_id: str | None = None, call_id: str | None = None,
                   created_after: datetime | None = None, created_before: datetime | None = None,
                   limit: int, offset: int) -> tuple[list[Recording], int]:
    """One page of the org's recordings, newest first, and how many match in all."""
    found = for_org(_recordings(), org)
    if phone_number_id:
        found = found.filter(phone_number__public_id=phone_number_id)
    if call_id:
        found = found.filter(call__public_id=call_id)
    if created_after:
        found = found.filter(created_at__gte=created_after)
    if created_before:
        found = found.filter(created_at__lt=created_before)
    return list(found[offset:offset + limit]), found.count()


def recording_get(*, org: Org, public_id: str) -> Recording:
    """One of the org's recordings; another org's is a 404."""
    return get_for_org(_recordings(), org, public_id=public_id)


def recording_for_media(*, public_id: str) -> Recording | None:
    """Any org's recording: the signed URL (checked before this) is the authorisation."""
    return _recordings().filter(public_id=public_id).first()
