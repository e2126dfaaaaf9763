"""SIP trunks: the org's trunks kept in sync with its provider accounts, and numbers given to them
at the provider.

The provider is told first and the record follows what it answered: a refused assignment changes
nothing here. A number being bought records its trunk as `pending`; the purchase job assigns it once
the number exists (`trunk_assign_after_purchase`), and a failure there leaves it `failed`, shown on
the number, for PUT trunkId or verify's repair to retry. Taking a number off its trunk re-points its
voice webhook at us (a trunk takes the calls whatever the URL says, so the URL may be stale).
"""
from __future__ import annotations

import logging

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from core.errors import Conflict, InvalidInput
from orgs.models import Org, ProviderConnection
from orgs.selectors import phone_connections
from phones.models import PhoneNumber, Trunk
from phones.provider_webhooks import webhooks_push
from providers.base import ProviderError, SipTrunk
from providers.registry import provider_for

logger = logging.getLogger(__name__)

# GET /trunks reads the provider again when the org's trunks were last read longer ago than this.
SYNC_SECONDS = 60
UNSUPPORTED = "unsupported"


def _sync_key(org: Org) -> str:
    return f"phones:trunks:synced:{org.pk}:{org.created_at.timestamp()}"


def _urls(trunk: SipTrunk) -> list[dict]:
    return [{"sid": url.sid, "sipUrl": url.sip_url, "priority": url.priority, "weight": url.weight,
             "enabled": url.enabled, "friendlyName": url.friendly_name} for url in trunk.origination_urls]


def _connection_sync(connection: ProviderConnection) -> bool:
    """Store the connection's trunks as the provider lists them. False when it has none to list
    (the provider does not support SIP trunks)."""
    try:
        found = provider_for(connection).list_trunks()
    except ProviderError as exc:
        if exc.code == UNSUPPORTED:
            return False
        raise
    now = timezone.now()
    with transaction.atomic():
        for trunk in found:
            Trunk.objects.update_or_create(
                connection=connection, provider_sid=trunk.sid,
                defaults={"org": connection.org, "friendly_name": trunk.friendly_name[:64],
                          "domain_name": trunk.domain_name[:255], "origination_urls": _urls(trunk), "synced_at": now})
        gone = Trunk.objects.filter(connection=connection).exclude(provider_sid__in=[t.sid for t in found])
        # A trunk deleted at the provider let go of its numbers there: their calls go to their voice URL.
        orphans = list(PhoneNumber.objects.filter(trunk__in=gone))
        PhoneNumber.objects.filter(pk__in=[n.pk for n in orphans]).update(trunk=None, trunk_status="",
                                                                         updated_at=now)
        gone.delete()
    for number in orphans:
        _restore_webhooks(number)
    return True


def trunks_sync(*, org: Org) -> None:
    """Read the trunks of each of the org's active phone connections from its provider, store them
    (name, domain, origination URLs), and forget those the provider no longer has."""
    for connection in phone_connections(org).order_by("created_at", "id"):
        _connection_sync(connection)
    cache.set(_sync_key(org), timezone.now().isoformat(), SYNC_SECONDS)


def trunks_sync_if_stale(*, org: Org) -> None:
    """trunks_sync, unless it ran in the last SYNC_SECONDS. A provider that fails leaves the stored
    trunks as they were (each carries `syncedAt`)."""
    if cache.get(_sync_key(org)) is not None:
        return
    try:
        trunks_sync(org=org)
    except ProviderError as exc:
        logger.warning("trunks of %s not synced: %s", org.slug, exc.message)


def trunk_for_number(*, org: Org, trunk_id: str, connection: ProviderConnection) -> Trunk:
    """The org's trunk named `trunk_id` (our id, or the provider's SID) on the number's provider
    account; a 400 naming trunkId otherwise (another org's trunk is unknown here, as any other)."""
    trunk = (Trunk.objects.filter(org=org, public_id=trunk_id).first()
             or Trunk.objects.filter(org=org, provider_sid=trunk_id).order_by("id").first())
    if trunk is None:
        raise InvalidInput(f"No trunk {trunk_id} in this org (GET /trunks lists them)", code="unknown_trunk",
                           field="trunkId")
    if trunk.connection_id != connection.pk:
        raise InvalidInput(f"Trunk {trunk_id} is on another provider account than the number",
                           code="trunk_other_account", field="trunkId")
    return trunk


def _restore_webhooks(number: PhoneNumber) -> None:
    """Point the number's voice (and other) webhooks at us again, best effort: verify shows a failure."""
    if not number.provider_sid:
        return
    try:
        webhooks_push(number)
    except ProviderError as exc:
        logger.warning("webhooks of %s not restored after leaving its trunk: %s", number.e164, exc.message)
        return
    PhoneNumber.objects.filter(pk=number.pk).update(webhooks=number.webhooks)


def _save(number: PhoneNumber, trunk: Trunk | None, status: str) -> None:
    number.trunk, number.trunk_status = trunk, status
    number.save(update_fields=["trunk", "trunk_status", "updated_at"])


def phone_number_trunk_set(*, number: PhoneNumber, trunk: Trunk | None) -> PhoneNumber:
    """Give the number to `trunk` (None: take it off its trunk), at the provider first.

    A number not bought yet records the trunk as pending. Moving from one trunk to another takes it
    off the old one first; if the new one then refuses, the number is recorded on no trunk with our
    webhooks, as it then is at the provider, and the refusal is raised.
    """
    if number.status not in PhoneNumber.CONFIGURABLE_STATUSES:
        raise Conflict(f"A {number.status} number cannot be changed", code="number_not_active")
    if trunk is not None and trunk.connection_id != number.connection_id:
        raise InvalidInput("The trunk is on another provider account than the number", code="trunk_other_account",
                           field="trunkId")
    if not number.provider_sid:
        _save(number, trunk, PhoneNumber.TrunkStatus.PENDING if trunk else "")
        return number
    if trunk is not None and number.trunk_id == trunk.pk and number.trunk_status == PhoneNumber.TrunkStatus.ASSIGNED:
        return number
    provider = provider_for(number.connection)
    old = number.trunk
    if old is not None and old != trunk:
        provider.trunk_unassign(old.provider_sid, number.provider_sid)
    if trunk is None:
        _save(number, None, "")
        _restore_webhooks(number)
        return number
    try:
        provider.trunk_assign(trunk.provider_sid, number.provider_sid)
    except ProviderError:
        if old is not None and old != trunk:
            _save(number, None, "")
            _restore_webhooks(number)
        raise
    _save(number, trunk, PhoneNumber.TrunkStatus.ASSIGNED)
    return number


def trunk_assign_after_purchase(*, number: PhoneNumber) -> dict | None:
    """The purchase job's last step for a number bought with a trunk: assign it. What happened, for
    the job's result ({trunkId, status, error?}); None without a trunk. Never raises: the number is
    bought either way, and a failure is recorded on it as `failed`."""
    number = PhoneNumber.objects.select_related("trunk", "connection").get(pk=number.pk)
    if number.trunk is None or number.trunk_status == PhoneNumber.TrunkStatus.ASSIGNED:
        return None
    trunk = number.trunk
    try:
        provider_for(number.connection).trunk_assign(trunk.provider_sid, number.provider_sid)
    except ProviderError as exc:
        logger.warning("%s bought but not assigned to trunk %s: %s", number.e164, trunk.provider_sid, exc.message)
        _save(number, trunk, PhoneNumber.TrunkStatus.FAILED)
        return {"trunkId": trunk.public_id, "status": PhoneNumber.TrunkStatus.FAILED,
                "error": {"code": exc.code, "message": exc.message}}
    _save(number, trunk, PhoneNumber.TrunkStatus.ASSIGNED)
    return {"trunkId": trunk.public_id, "status": PhoneNumber.TrunkStatus.ASSIGNED}
