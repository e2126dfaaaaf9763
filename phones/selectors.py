"""The one way every feature finds an org's number (and agent) by id."""
from __future__ import annotations

from core.errors import InvalidInput
from orgs.models import Org
from orgs.scoping import get_for_org
from phones.models import Agent, PhoneNumber


def phone_number_get(*, org: Org, public_id: str) -> PhoneNumber:
    """One of the org's numbers (any status), with what services touch next; another org's is a 404."""
    return get_for_org(PhoneNumber.objects.select_related("connection", "org", "agent"), org, public_id=public_id)


def agent_in_org(*, org: Org, public_id: str, field: str = "agentId") -> Agent:
    """One of the org's agents, named in a request body (a number's agentId, an IVR node's): another
    org's, or none, is a 400 on that field (as for the other ids a body names), so nothing changes."""
    agent = (Agent.objects.select_related("connection").filter(org=org, public_id=str(public_id)).first()
             if public_id else None)
    if agent is None:
        raise InvalidInput(f"No agent {public_id!r} in this org", code="unknown_agent", field=field)
    return agent
