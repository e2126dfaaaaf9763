"""The audit log's one writer: every staff action records who did what to what, before and after."""
from __future__ import annotations

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from orgs.models import AuditLog, Org


def _json(value: dict | None) -> dict:
    # Dates, decimals and UUIDs as the API writes them, so any service's dict can be recorded.
    return json.loads(json.dumps(value or {}, cls=DjangoJSONEncoder))


def audit_record(*, actor, org: Org | None, action: str, target: models.Model, before: dict | None = None,
                 after: dict | None = None, note: str = "") -> AuditLog:
    """Record one action. `actor` is the user (None for the system: beat, a management command);
    the target is named by its public id where it has one, as staff and the API know it."""
    target_id = getattr(target, "public_id", None) or str(target.pk)
    return AuditLog.objects.create(
        actor=actor if actor is not None and getattr(actor, "is_authenticated", False) else None,
        org=org, action=action, target_type=target._meta.label_lower, target_id=target_id,
        target_repr=str(target)[:200], before=_json(before), after=_json(after), note=note)


def audit_list(*, target: models.Model) -> models.QuerySet[AuditLog]:
    target_id = getattr(target, "public_id", None) or str(target.pk)
    return AuditLog.objects.filter(target_type=target._meta.label_lower, target_id=target_id)

