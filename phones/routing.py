"""A number's routing row (voice document, IVR flow, SMS rules), read and locked for writing."""
from __future__ import annotations

from core.errors import Conflict
from phones.models import PhoneNumber, PhoneRouting


def routing_get_or_create(*, number: PhoneNumber) -> PhoneRouting:
    row, _ = PhoneRouting.objects.get_or_create(phone_number=number)
    return row


def ensure_writable(number: PhoneNumber) -> None:
    if number.status not in PhoneNumber.CONFIGURABLE_STATUSES:
        raise Conflict(f"The routing of a {number.status} number cannot be changed", code="number_not_active")


def locked_routing(number: PhoneNumber) -> PhoneRouting:
    """The routing row, locked, inside the caller's transaction. The status is checked again under
    the number's lock: a release that started since the first check wins."""
    ensure_writable(PhoneNumber.objects.select_for_update().only("status").get(pk=number.pk))
    routing_get_or_create(number=number)
    return PhoneRouting.objects.select_for_update().get(phone_number=number)
