"""The one way every feature finds an org's number by id."""
from __future__ import annotations

from orgs.models import Org
from orgs.scoping import get_for_org
from phones.models import PhoneNumber


def phone_number_get(*, org: Org, public_id: str) -> PhoneNumber:
    """One of the org's numbers (any status), with what services touch next; another org's is a 404."""
    return get_for_org(PhoneNumber.objects.select_related("connection", "org"), org, public_id=public_id)
