"""Plivo's webhooks: `/connect/webhook/plivo/<kind>`, signed with Plivo's V3 signature.

Plivo names no account, so the number (`To`, else `From`) finds the connection, among Plivo
connections only. Its form fields are translated to the neutral values the shared handlers take,
and their TwiML answers to Plivo XML (providers.plivo.markup). Plivo writes numbers without the `+`.

Kinds: voice (answer_url), sms (message_url), status (hangup_url, and message status `url`), the
ones our own XML points back to: ivr-menu, recording, transcription, and `markup`: the aleg_url of a
transfer (Plivo's Transfer Call API fetches the live call's new XML), answered with the TwiML our
signed link carries (phones.calls.ai.markup_link) as Plivo XML; a link that is not ours, stale, or
for another call is refused (403).
"""
from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseNotFound
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.twiml.voice_response import VoiceResponse

from phones.calls import ai, callbacks
from phones.inbound import Webhook
from providers.plivo import markup as plivo_xml
from providers.plivo.client import e164
from providers.plivo.inbound import call_event, inbound_sms, recording_event, status_event, transcription_event
from providers.registry import types_with_webhooks
from webhooks.handlers import Handler, call_handler, callback_handler, sms_answer
from webhooks.security import verify_webhook, webhook_params

logger = logging.getLogger(__name__)

XML = "application/xml; charset=utf-8"


def _voice_xml(twiml: VoiceResponse) -> str:
    return plivo_xml.voice_xml(str(twiml))


def _sms(hook: Webhook) -> HttpResponse:
    hook.sms = inbound_sms(hook.params)
    replies = sms_answer(hook)
    return HttpResponse(plivo_xml.message_xml(src=hook.sms.to, dst=hook.sms.from_, replies=replies),
                        content_type=XML)


def _markup(hook: Webhook) -> HttpResponse:
    hook.call = call_event(hook.params)
    twiml = ai.served_markup(hook)
    if twiml is None:
        logger.warning("Plivo markup request for call %s: not a live markup link of ours", hook.call.sid)
        return HttpResponseForbidden("Not a markup link for this call")
    return HttpResponse(plivo_xml.voice_xml(twiml), content_type=XML)


HANDLERS: dict[str, Handler] = {
    "voice": call_handler(call_event, _voice_xml, XML),
    "ivr-menu": call_handler(call_event, _voice_xml, XML),
    "sms": _sms,
    "status": callback_handler("status", status_event, callbacks.status_callback),
    "recording": callback_handler("recording", recording_event, callbacks.recording_callback),
    "transcription": callback_handler("transcription", transcription_event, callbacks.transcription_callback),
    "markup": _markup,
}


@csrf_exempt
@require_POST
def plivo_webhook(request: HttpRequest, kind: str) -> HttpResponse:
    handler = HANDLERS.get(kind)
    if handler is None:
        return HttpResponseNotFound()
    params = webhook_params(request) or {}
    hook = verify_webhook(request, kind, provider="plivo", connection_types=types_with_webhooks("plivo"),
                          params=params, e164s=[e164(params.get("To", "")), e164(params.get("From", ""))])
    if hook is None:
        return HttpResponseForbidden("Invalid Plivo signature")
    return handler(hook)
