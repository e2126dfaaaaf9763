"""Moving a number: to another org (staff only), or to another user, agent or trunk in its org.

To another org only when that org has an active connection to the same provider account: the
number stays where it is at the provider, so nothing is bought, released or ported. Billing
moves at the next period: the current one was paid by the old org, and the renewal on
`next_billing_date` charges the new one (each period's ledger key is per number, so the
period already paid is never charged again).
"""
from __future__ import annotations

import copy

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from core.errors import Conflict, InvalidInput
from orgs.audit import audit_record
from orgs.models import Org, ProviderConnection
from phones.calls.routing import routing_update, voice_document
from phones.models import PhoneNumber, PhoneRouting
from phones.numbers.services import phone_number_update
from phones.provider_webhooks import webhooks_for
from phones.trunks.services import phone_number_trunk_set
from providers.registry import provider_for

SNAPSHOT = ("org_id", "connection_id", "routing_mode", "is_system", "agent_id", "status")


def _snapshot(number: PhoneNumber) -> dict:
    return {**{name: getattr(number, name) for name in SNAPSHOT},
            "trunk": number.trunk.public_id if number.trunk_id else None, "trunk_status": number.trunk_status}


def connections_for_move(number: PhoneNumber) -> QuerySet[ProviderConnection]:
    """Other orgs' active connections to the provider account the number lives in."""
    return (ProviderConnection.objects.filter(type=number.connection.type, account_id=number.connection.account_id,
                                              is_active=True)
            .exclude(org_id=number.org_id).exclude(account_id="").select_related("org").order_by("org__slug", "id"))


def orgs_for_move(number: PhoneNumber) -> QuerySet[Org]:
    return Org.objects.filter(pk__in=connections_for_move(number).values("org_id")).order_by("slug")


def _ensure_movable(number: PhoneNumber) -> None:
    if number.status != PhoneNumber.Status.ACTIVE:
        raise Conflict(f"Only active numbers can move; this one is {number.status}", code="number_not_active")
    if number.is_system:
        raise Conflict("This is its org's system phone: make another number the system phone first",
                       code="system_phone")


def phone_number_move_to_org(*, number: PhoneNumber, org: Org, actor) -> PhoneNumber:
    """Give an active number to `org`. Its routing (members, groups, flow, rules of the old org)
    is cleared and it answers in voice mode; its message history stays with the old org."""
    _ensure_movable(number)
    if org.pk == number.org_id:
        raise InvalidInput("The number is already in this org", code="same_org", field="org")
    connection = connections_for_move(number).filter(org=org).first()
    if connection is None:
        raise Conflict(f"{org.slug} has no active connection to provider account "
                       f"{number.connection.account_id}, so the number cannot move there",
                       code="provider_account_mismatch")
    if number.trunk_id is not None:
        # Its trunk is the old org's: off it at the provider first (the new org gives it its own).
        phone_number_trunk_set(number=number, trunk=None)
    if number.routing_mode != PhoneNumber.RoutingMode.VOICE:
        # The provider first, as for any routing switch: if it refuses, nothing has changed.
        voice = copy.copy(number)
        voice.routing_mode = PhoneNumber.RoutingMode.VOICE
        provider_for(number.connection).configure_webhooks(number.provider_sid, webhooks_for(voice))
    with transaction.atomic():
        number = PhoneNumber.objects.select_for_update().select_related("connection").get(pk=number.pk)
        _ensure_movable(number)  # again, under the lock: a release may have started meanwhile
        before = _snapshot(number)
        number.org, number.connection = org, connection
        number.routing_mode = PhoneNumber.RoutingMode.VOICE
        number.agent = None  # agents belong to the org the number leaves
        number.webhooks = webhooks_for(number).as_dict()
        number.save()
        PhoneRouting.objects.filter(phone_number=number).update(assignments=[], ivr_flow={}, sms_rules=[],
                                                                updated_at=timezone.now())
        audit_record(actor=actor, org=org, action="phone.move_org", target=number, before=before,
                     after=_snapshot(number),
                     note=f"Billing moves at the next period ({number.next_billing_date})")
    return number


def phone_number_reassign(*, number: PhoneNumber, actor, username: str | None = None, agent_id: str | None = None,
                          trunk_id: str | None = None) -> PhoneNumber:
    """Within the org: calls ring `username` (a member), or the number is given to an agent (its
    public id, one of the org's) or a trunk."""
    before = _snapshot(number)
    if username is not None:
        stored = PhoneRouting.objects.filter(phone_number=number).values_list("assignments", flat=True).first()
        before["assignments"] = voice_document(stored)["assignments"]
        row = routing_update(number=number, changes={"assignments": [{"type": "user", "target": username}]})
        after = {**_snapshot(number), "assignments": row.assignments.get("assignments")}
        action = "phone.assign_user"
    else:
        changes = {key: value for key, value in (("agentId", agent_id), ("trunkId", trunk_id)) if value is not None}
        if not changes:
            raise InvalidInput("Name a user, an agent or a trunk", code="no_target")
        number = phone_number_update(number=number, changes=changes)
        after = _snapshot(number)
        action = "phone.assign_agent" if agent_id is not None else "phone.assign_trunk"
    audit_record(actor=actor, org=number.org, action=action, target=number, before=before, after=after)
    return number
