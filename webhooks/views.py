"""Twilio's webhooks: verify first (403, nothing written, when the signature is not the named
account's), then dispatch by kind. What is not ours (an unknown number) is answered politely:
a 5xx would make Twilio call the number's fallback URL and, for a voice call, play an error.

No JWT, no CSRF: the signature is the authentication.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseNotFound
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from phones.models import PhoneNumber
from webhooks import callbacks, twiml
from webhooks.ivr import ivr_response
from webhooks.security import Webhook, verify
from webhooks.sms import sms_response
from webhooks.voice import voice_response

logger = logging.getLogger(__name__)

TWIML = "text/xml; charset=utf-8"


def _voice(hook: Webhook) -> HttpResponse:
    if hook.number is None:
        logger.info("call to %s: not one of our numbers", hook.params.get("To"))
        return HttpResponse(str(twiml.not_in_service()), content_type=TWIML)
    ivr = hook.number.routing_mode == PhoneNumber.RoutingMode.IVR
    return HttpResponse(str(ivr_response(hook) if ivr else voice_response(hook)), content_type=TWIML)


def _ivr(hook: Webhook) -> HttpResponse:
    if hook.number is None:
        return HttpResponse(str(twiml.not_in_service()), content_type=TWIML)
    return HttpResponse(str(ivr_response(hook)), content_type=TWIML)


def _sms(hook: Webhook) -> HttpResponse:
    return HttpResponse(str(sms_response(hook)), content_type=TWIML)


def _callback(handle: Callable[[Webhook], None]) -> Callable[[Webhook], HttpResponse]:
    def respond(hook: Webhook) -> HttpResponse:
        handle(hook)
        return HttpResponse(status=204)
    return respond


HANDLERS: dict[str, Callable[[Webhook], HttpResponse]] = {
    "voice": _voice,
    "ivr-menu": _ivr,
    "sms": _sms,
    "status": _callback(callbacks.status_callback),
    "recording": _callback(callbacks.recording_callback),
    "transcription": _callback(callbacks.transcription_callback),
}


@csrf_exempt
@require_POST
def twilio_webhook(request: HttpRequest, kind: str) -> HttpResponse:
    handler = HANDLERS.get(kind)
    if handler is None:
        return HttpResponseNotFound()
    hook = verify(request, kind)
    if hook is None:
        return HttpResponseForbidden("Invalid Twilio signature")
    return handler(hook)


def ping(request: HttpRequest) -> HttpResponse:
    """A bare view, the benchmark's baseline: what Django alone costs on this server."""
    return HttpResponse("pong", content_type="text/plain")
