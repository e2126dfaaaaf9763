"""The providers' webhooks: verify first (403, nothing written, when the signature is not the
connection's), then dispatch by kind to the provider-neutral handlers. What is not ours (an
unknown number) is answered politely: a 5xx would make the provider call the number's fallback
URL and, for a voice call, play an error.

No JWT, no CSRF: the signature is the authentication. Twilio's views are here; Plivo's and
Telnyx's adapters (webhooks.plivo, webhooks.telnyx) translate their payloads and answers.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseNotFound
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from phones.calls import callbacks, twiml
from phones.calls.ivr import ivr_response
from phones.calls.voice import voice_response
from phones.inbound import Webhook
from phones.messaging.inbound import sms_receive, sms_rules
from phones.models import PhoneNumber
from providers import events
from providers.events import CallEvent
from webhooks.security import verify

logger = logging.getLogger(__name__)

TWIML = "text/xml; charset=utf-8"
Handler = Callable[[Webhook], HttpResponse]


def call_answer(hook: Webhook) -> VoiceResponse:
    """The TwiML for a call: `voice` asks the number's routing mode, `ivr-menu` runs the flow."""
    if hook.number is None:
        logger.info("call to %s: not one of our numbers", hook.call.to if hook.call else "")
        return twiml.not_in_service()
    if hook.kind == "ivr-menu" or hook.number.routing_mode == PhoneNumber.RoutingMode.IVR:
        return ivr_response(hook)
    return voice_response(hook)


def sms_answer(hook: Webhook, *, send_replies: bool = False) -> list[str]:
    """The replies to put in the answer (none for a duplicate, or when they are texted instead)."""
    sms = hook.sms
    if hook.number is None or sms is None or not sms.sid:
        logger.info("inbound SMS %s to %s: not one of our numbers", sms.sid if sms else "", sms.to if sms else "")
        return []
    return sms_receive(number=hook.number, rules=sms_rules(hook.routing), sms=sms, send_replies=send_replies)


def call_handler(parse: Callable[[dict[str, str]], CallEvent], render: Callable[[VoiceResponse], str] = str,
                 content_type: str = TWIML) -> Handler:
    """A call asking what to do (voice, ivr-menu): its fields `parse`d, the TwiML answer `render`ed
    in the provider's markup."""
    def handle(hook: Webhook) -> HttpResponse:
        hook.call = parse(hook.params)
        return HttpResponse(render(call_answer(hook)), content_type=content_type)
    return handle


def callback_handler(field: str, parse: Callable[[dict[str, str]], object],
                     callback: Callable[[Webhook], None]) -> Handler:
    """A callback with nothing to answer (status, recording, transcription): its fields `parse`d
    into the hook's `field` for `callback`, answered 204."""
    def handle(hook: Webhook) -> HttpResponse:
        setattr(hook, field, parse(hook.params))
        callback(hook)
        return HttpResponse(status=204)
    return handle


def _sms(hook: Webhook) -> HttpResponse:
    hook.sms = events.twilio_sms(hook.params)
    response = MessagingResponse()
    for text in sms_answer(hook):
        response.message(text)
    return HttpResponse(str(response), content_type=TWIML)


HANDLERS: dict[str, Handler] = {
    "voice": call_handler(events.twilio_call),
    "ivr-menu": call_handler(events.twilio_call),
    "sms": _sms,
    "status": callback_handler("status", events.twilio_status, callbacks.status_callback),
    "recording": callback_handler("recording", events.twilio_recording, callbacks.recording_callback),
    "transcription": callback_handler("transcription", events.twilio_transcription, callbacks.transcription_callback),
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
