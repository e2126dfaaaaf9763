"""Calls we place: from one of the org's numbers, to a TwiML URL or one of its numbers' IVR flows."""
from __future__ import annotations

from django.db import IntegrityError, transaction

from core.errors import InvalidInput
from orgs.models import Org
from phones.messaging.services import org_number
from phones.models import Call, PhoneNumber
from phones.provider_webhooks import webhook_url
from providers.registry import provider_for


def flow_url(number: PhoneNumber, connection_type: str | None = None) -> str:
    """The URL that runs `number`'s IVR flow on a call placed through a `connection_type` provider
    (which fetches it, so it must be that provider's path and markup)."""
    return f"{webhook_url('ivr-menu', connection_type)}?flow={number.public_id}"


def call_make(*, org: Org, from_: str, to: str, twiml_url: str | None = None, flow_id: str | None = None) -> Call:
    """Place a call from one of the org's numbers. The callee hears `twiml_url`'s TwiML, or the IVR
    flow of the org's number whose id is `flow_id`."""
    number = org_number(org, from_, "from")
    if flow_id:
        flow_number = (PhoneNumber.objects.select_related("routing")
                       .filter(org=org, public_id=flow_id, status__in=PhoneNumber.LIVE_STATUSES).first())
        routing = getattr(flow_number, "routing", None) if flow_number else None
        if flow_number is None or routing is None or not routing.ivr_flow:
            raise InvalidInput(f"No number {flow_id!r} with an IVR flow in this org", code="unknown_flow",
                               field="flowId")
        url = flow_url(flow_number, number.connection.type)
    elif twiml_url:
        url = twiml_url
    else:
        raise InvalidInput("Give twimlUrl or flowId", field="twimlUrl")
    placed = provider_for(number.connection).make_call(to=to, from_=number.e164, url=url,
                                                       status_callback=webhook_url("status", number.connection.type))
    try:
        with transaction.atomic():
            return Call.objects.create(org=org, phone_number=number, direction=Call.Direction.OUTBOUND,
                                       from_number=number.e164, to_number=to, provider_sid=placed.sid,
                                       status=placed.status or "queued", tracking=number.tracking_stamp())
    except IntegrityError:
        # A status callback for this call got here first and recorded it.
        return Call.objects.get(provider_sid=placed.sid)
