"""Writes (and the one read) for a number's routing and the org's ring groups.

Storage: `PhoneRouting.assignments` holds the whole voice document
`{"strategy", "assignments", "voicemail"}`; `ivr_flow` the flow (`{}` when none); `sms_rules`
the rule list. Read them through `routing_document`, never field by field: it also copes with
rows created elsewhere with the model's defaults.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from rest_framework import serializers

from core.errors import Conflict
from orgs.models import Membership, Org
from phones.calls import documents as routing
from phones.models import Agent, PhoneNumber, PhoneRouting, RingGroup
from phones.routing import ensure_writable, locked_routing, routing_get_or_create  # noqa: F401 (re-exported)

VOICE_KEYS = ("strategy", "assignments", "voicemail")
ROUTING_KEYS = (*VOICE_KEYS, "ivrFlow")


class OrgDirectory:
    """`routing.Directory` for one org, from the database."""

    def __init__(self, org: Org) -> None:
        self.org = org

    def users(self, usernames: set[str]) -> set[str]:
        return set(Membership.objects.filter(org=self.org, user__username__in=usernames)
                   .values_list("user__username", flat=True))

    def groups(self, public_ids: set[str]) -> set[str]:
        return set(RingGroup.objects.filter(org=self.org, public_id__in=public_ids)
                   .values_list("public_id", flat=True))

    def agents(self, public_ids: set[str]) -> set[str]:
        return set(Agent.objects.filter(org=self.org, public_id__in=public_ids).values_list("public_id", flat=True))


def voice_document(stored: Any) -> dict:
    """The voice document of a routing row. A row made with the model's default holds `[]`."""
    stored = stored if isinstance(stored, dict) else {"assignments": stored or []}
    return {"strategy": stored.get("strategy", routing.DEFAULT_STRATEGY),
            "assignments": stored.get("assignments", []),
            "voicemail": stored.get("voicemail")}


def routing_document(*, number: PhoneNumber, row: PhoneRouting) -> dict:
    """What GET .../routing answers and what the voice/IVR webhooks render."""
    return {"mode": number.routing_mode, **voice_document(row.assignments), "ivrFlow": row.ivr_flow or None,
            "updatedAt": row.updated_at}


def routing_update(*, number: PhoneNumber, changes: Mapping[str, Any]) -> PhoneRouting:
    """Validate and save the given keys of the routing document (ROUTING_KEYS); the rest is kept.

    The row is locked so two partial updates of the voice document cannot undo each other.
    The status is checked first so a closed number answers 409 without its documents being read.
    """
    ensure_writable(number)
    directory = OrgDirectory(number.org)
    clean: dict[str, Any] = {}
    failures: dict[str, list] = {}
    validators = {
        "strategy": routing.validate_strategy,
        "assignments": lambda value: routing.validate_assignments(value, directory=directory),
        "voicemail": routing.validate_voicemail,
        "ivrFlow": lambda value: routing.validate_ivr_flow(value, directory=directory),
    }
    for key in ROUTING_KEYS:
        if key in changes:
            try:
                clean[key] = validators[key](changes[key])
            except serializers.ValidationError as exc:
                failures.update(exc.detail)
    if failures:
        raise serializers.ValidationError(failures)
    with transaction.atomic():
        row = locked_routing(number)
        fields = ["updated_at"]
        if any(key in clean for key in VOICE_KEYS):
            voice = voice_document(row.assignments)
            voice.update({key: clean[key] for key in VOICE_KEYS if key in clean})
            row.assignments = voice
            fields.append("assignments")
        if "ivrFlow" in clean:
            row.ivr_flow = clean["ivrFlow"] or {}
            fields.append("ivr_flow")
        row.save(update_fields=fields)
    return row


def _members(org: Org, usernames: list[str]) -> list:
    """The users named, who must all be members of the org; an outsider reads as unknown."""
    users = {u.username: u for u in get_user_model().objects.filter(
        memberships__org=org, username__in=usernames)}
    missing = {f"members[{i}]": [f"No member {name!r} in this org."]
               for i, name in enumerate(usernames) if name not in users}
    if missing:
        raise serializers.ValidationError(missing)
    return [users[name] for name in dict.fromkeys(usernames)]


def _name_taken(name: str) -> Conflict:
    return Conflict(f"A ring group named {name!r} already exists", code="group_name_taken", field="name")


def ring_group_create(*, org: Org, name: str, members: list[str]) -> RingGroup:
    users = _members(org, members)
    if RingGroup.objects.filter(org=org, name=name).exists():
        raise _name_taken(name)
    try:
        with transaction.atomic():
            group = RingGroup.objects.create(org=org, name=name)
            group.members.set(users)
    except IntegrityError:
        raise _name_taken(name) from None
    return group


def ring_group_update(*, group: RingGroup, name: str | None = None, members: list[str] | None = None) -> RingGroup:
    """Rename and/or replace the members; what is not given stays."""
    users = _members(group.org, members) if members is not None else None
    if name is not None and name != group.name:
        if RingGroup.objects.filter(org=group.org, name=name).exists():
            raise _name_taken(name)
        group.name = name
    try:
        with transaction.atomic():
            group.save(update_fields=["name"])
            if users is not None:
                group.members.set(users)
    except IntegrityError:
        raise _name_taken(group.name) from None
    return group


def ring_group_delete(*, group: RingGroup) -> None:
    """Refused while a live number's assignments or IVR flow send calls to the group."""
    in_use = (
        PhoneRouting.objects.filter(phone_number__org=group.org,
                                    phone_number__status__in=PhoneNumber.LIVE_STATUSES)
        .annotate(voice=Cast("assignments", TextField()), flow=Cast("ivr_flow", TextField()))
        # Group ids are long random tokens, so finding one in the JSON text is a reference.
        .filter(Q(voice__contains=group.public_id) | Q(flow__contains=group.public_id))
        .values_list("phone_number__e164", flat=True)
    )
    numbers = sorted(in_use)
    if numbers:
        raise Conflict(f"Ring group {group.name!r} is used by the routing of {', '.join(numbers)}",
                       code="group_in_use", numbers=numbers)
    group.delete()
