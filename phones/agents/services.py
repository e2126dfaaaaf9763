"""Writes for agents. Every change is checked whole (the stored agent with the changes over it)
before anything is saved."""
from __future__ import annotations

import logging

from django.db import transaction

from core.errors import InvalidInput
from orgs.audit import audit_record
from orgs.models import Membership, Org, ProviderConnection
from phones.models import Agent
from providers.registry import ai_types

logger = logging.getLogger(__name__)

FIELDS = {"name": "name", "instructions": "instructions", "greeting": "greeting", "voice": "voice", "model": "model",
          "language": "language", "tools": "tools", "transferTargets": "transfer_targets",
          "maxCallSeconds": "max_call_seconds"}


def _snapshot(agent: Agent) -> dict:
    return {**{key: getattr(agent, attr) for key, attr in FIELDS.items() if key != "instructions"},
            "connectionId": agent.connection.public_id}


def ai_connection_in_org(*, org: Org, public_id: str) -> ProviderConnection:
    """One of the org's active AI connections; another org's, a phone connection or none → 400."""
    connection = ProviderConnection.objects.filter(org=org, public_id=str(public_id), is_active=True,
                                                   type__in=ai_types()).first()
    if connection is None:
        raise InvalidInput(f"No AI connection {public_id!r} in this org (openai-realtime or sandbox-ai, "
                           "from /integrations)", code="unknown_connection", field="connectionId")
    return connection


def _check(agent: Agent) -> None:
    if "transfer" in agent.tools and not agent.transfer_targets:
        raise InvalidInput("The transfer tool needs at least one transfer target", code="invalid_agent",
                           field="transferTargets")
    usernames = {target[len("user:"):] for target in (agent.transfer_targets or {}).values()
                 if target.startswith("user:")}
    if usernames:
        members = set(Membership.objects.filter(org=agent.org, user__username__in=usernames)
                      .values_list("user__username", flat=True))
        missing = sorted(usernames - members)
        if missing:
            raise InvalidInput(f"Not a member of this org: {', '.join(missing)}", code="invalid_agent",
                               field="transferTargets")


def _apply(agent: Agent, data: dict) -> None:
    for key, attr in FIELDS.items():
        if key in data:
            setattr(agent, attr, data[key])
    if "connectionId" in data:
        agent.connection = ai_connection_in_org(org=agent.org, public_id=data["connectionId"])


def agent_create(*, org: Org, actor, data: dict) -> Agent:
    agent = Agent(org=org)
    _apply(agent, data)
    _check(agent)
    with transaction.atomic():
        agent.save()
        audit_record(actor=actor, org=org, action="agent.create", target=agent, after=_snapshot(agent))
    logger.info("agent %s created in org %s", agent.public_id, org.slug)
    return agent


def agent_update(*, agent: Agent, actor, data: dict) -> Agent:
    before = _snapshot(agent)
    _apply(agent, data)
    _check(agent)
    with transaction.atomic():
        agent.save()
        audit_record(actor=actor, org=agent.org, action="agent.update", target=agent, before=before,
                     after=_snapshot(agent))
    return agent


def agent_delete(*, agent: Agent, actor) -> None:
    """The agent goes; its numbers stay, detached (they answer as they did before it), and its
    calls keep their transcripts."""
    with transaction.atomic():
        numbers = list(agent.phone_numbers.values_list("public_id", flat=True))
        audit_record(actor=actor, org=agent.org, action="agent.delete", target=agent, before=_snapshot(agent),
                     note=f"Detached numbers: {', '.join(numbers)}" if numbers else "")
        agent.delete()
