"""Telnyx's webhooks: `/connect/webhook/telnyx/<kind>`, signed with the account's Ed25519 key
over `<timestamp>|<raw body>` (checked within five minutes of now).

Telnyx's ids are not our `account_id`, so the number finds the connection, among Telnyx
connections only. Two payload shapes arrive:
  - TeXML (voice, ivr-menu, recording, transcription, and call status on `status`): Twilio's form
    fields, answered with TeXML, which is Twilio's markup, by Twilio's handlers (webhooks.twilio);
    our URLs in it are built on the Telnyx family (twiml.link, for the number's connection) so the
    next request is checked with Telnyx's signature.
  - Messaging events (JSON `{"data": {"event_type", "payload"}}`): `message.received` on `sms`,
    and the status of texts we sent (`message.sent`, `message.finalized`) on `sms` (the messaging
    profile's URL) or `status` (a text's own webhook_url). A JSON event cannot carry a reply, so
    the replies to an inbound text are sent with the provider's send_sms by a task after commit.
"""
from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden, HttpResponseNotFound
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from phones.calls import callbacks
from providers.registry import types_with_webhooks
from providers.telnyx.inbound import STATUS_EVENTS, event_payload, inbound_sms, message_status
from webhooks import twilio
from webhooks.handlers import sms_answer
from webhooks.security import verify_webhook, webhook_params

logger = logging.getLogger(__name__)

TEXML_KINDS = frozenset({"voice", "ivr-menu", "status", "recording", "transcription"})
EVENT_KINDS = frozenset({"sms", "status"})


def _event(request: HttpRequest, kind: str) -> HttpResponse:
    parsed = event_payload(request.body)
    if parsed is None:
        return HttpResponseBadRequest("Not a Telnyx event")
    event_type, payload = parsed
    if event_type == "message.received" and kind == "sms":
        sms = inbound_sms(payload)
        hook = verify_webhook(request, kind, provider="telnyx", connection_types=types_with_webhooks("telnyx"),
                              params={}, e164s=[sms.to])
        if hook is None:
            return HttpResponseForbidden("Invalid Telnyx signature")
        hook.sms = sms
        sms_answer(hook, send_replies=True)
        return HttpResponse(status=204)
    if event_type in STATUS_EVENTS:
        status = message_status(payload)
        hook = verify_webhook(request, kind, provider="telnyx", connection_types=types_with_webhooks("telnyx"),
                              params={}, e164s=[status.from_])
        if hook is None:
            return HttpResponseForbidden("Invalid Telnyx signature")
        hook.status = status
        callbacks.status_callback(hook)
        return HttpResponse(status=204)
    # Saleor's rule: what is not handled is logged and acknowledged, or Telnyx retries it.
    logger.info("Telnyx %s event on %s: not handled", event_type, kind)
    return HttpResponse(status=204)


def _texml(request: HttpRequest, kind: str) -> HttpResponse:
    """Twilio's form fields, handled and answered as Twilio's are."""
    params = webhook_params(request) or {}
    hook = verify_webhook(request, kind, provider="telnyx", connection_types=types_with_webhooks("telnyx"),
                          params=params, e164s=[params.get("To", ""), params.get("From", "")])
    if hook is None:
        return HttpResponseForbidden("Invalid Telnyx signature")
    return twilio.HANDLERS[kind](hook)


@csrf_exempt
@require_POST
def telnyx_webhook(request: HttpRequest, kind: str) -> HttpResponse:
    # The signature is over the raw body: read it before the form parser consumes the stream.
    request.body  # noqa: B018
    if request.content_type == "application/json":
        return _event(request, kind) if kind in EVENT_KINDS else HttpResponseNotFound()
    return _texml(request, kind) if kind in TEXML_KINDS else HttpResponseNotFound()
