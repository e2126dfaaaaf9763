"""The providers' webhooks: verify first (403, nothing written, when the signature is not the
connection's), then dispatch by kind to the provider-neutral handlers. What is not ours (an
unknown number) is answered politely: a 5xx would make the provider call the number's fallback
URL and, for a voice call, play an error.

No JWT, no CSRF: the signature is the authentication. Twilio's views are here; Plivo's and
Telnyx's adapters (webhooks.plivo, webhooks.telnyx) translate their payloads and answers.
"""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseNotFound
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.twiml.messaging_response import MessagingResponse

from phones.calls import callbacks, twiml
from phones.inbound import Webhook
from phones.messaging.callbacks import REPLY_QUERY, reply_key
from providers.twilio import inbound
from webhooks.handlers import TWIML, Handler, call_handler, callback_handler, sms_answer
from webhooks.security import verify


def _sms(hook: Webhook) -> HttpResponse:
    hook.sms = inbound.inbound_sms(hook.params)
    response = MessagingResponse()
    for index, text in enumerate(sms_answer(hook)):
        # Its status callback names it, so its row learns its SID and status (messaging.callbacks).
        response.message(text, status_callback=twiml.link("status", hook.connection.type,
                                                           **{REPLY_QUERY: reply_key(hook.sms.sid, index)}))
    return HttpResponse(str(response), content_type=TWIML)


HANDLERS: dict[str, Handler] = {
    "voice": call_handler(inbound.call_event),
    "ivr-menu": call_handler(inbound.call_event),
    "sms": _sms,
    "status": callback_handler("status", inbound.status_event, callbacks.status_callback),
    "recording": callback_handler("recording", inbound.recording_event, callbacks.recording_callback),
    "transcription": callback_handler("transcription", inbound.transcription_event, callbacks.transcription_callback),
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
