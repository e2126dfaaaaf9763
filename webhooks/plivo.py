"""Plivo's webhooks: `/connect/webhook/plivo/<kind>`, signed with Plivo's V3 signature.

Plivo names no account, so the number (`To`, else `From`) finds the connection, among Plivo
connections only. Its form fields are translated to the neutral values the shared handlers take,
and their TwiML answers to Plivo XML (providers.plivo.markup). Plivo writes numbers without the `+`.

Kinds: voice (answer_url), sms (message_url), status (hangup_url, and message status `url`), and
the ones our own XML points back to: ivr-menu, recording, transcription.
"""
from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseNotFound
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.twiml.voice_response import VoiceResponse

from phones.calls import callbacks
from phones.inbound import Webhook
from providers.events import MAX_MEDIA, CallEvent, InboundSms, RecordingEvent, StatusEvent, TranscriptionEvent, to_int
from providers.plivo import markup as plivo_xml
from providers.plivo.client import e164
from providers.registry import types_with_webhooks
from webhooks.security import verify_webhook, webhook_params
from webhooks.views import Handler, call_handler, callback_handler, sms_answer

logger = logging.getLogger(__name__)

XML = "application/xml; charset=utf-8"
# Plivo's words for how a call or a dial ended, in the vocabulary phones.calls.callbacks ranks.
CALL_STATUS = {"ringing": "ringing", "in-progress": "in-progress", "completed": "completed", "busy": "busy",
               "failed": "failed", "timeout": "no-answer", "no-answer": "no-answer", "cancel": "canceled"}
MESSAGE_STATUS = {"queued": "queued", "sent": "sent", "delivered": "delivered", "undelivered": "undelivered",
                  "failed": "failed", "rejected": "failed", "read": "read"}
NO_ERROR = "000"


def call_event(params: dict[str, str]) -> CallEvent:
    return CallEvent(sid=params.get("CallUUID", ""), from_=e164(params.get("From", "")),
                     to=e164(params.get("To", "")), status=CALL_STATUS.get(params.get("CallStatus", ""), ""),
                     outbound=params.get("Direction", "") == "outbound", digits=params.get("Digits"),
                     dial_status=CALL_STATUS.get(params.get("DialStatus", ""), ""))


def inbound_sms(params: dict[str, str]) -> InboundSms:
    count = min(to_int(params.get("MediaCount")) or 0, MAX_MEDIA)
    return InboundSms(sid=params.get("MessageUUID", ""), from_=e164(params.get("From", "")),
                      to=e164(params.get("To", "")), body=params.get("Text", ""),
                      media_urls=[params[f"Media{i}"] for i in range(count) if params.get(f"Media{i}")],
                      segments=max(to_int(params.get("Units")) or 1, 1))


def status_event(params: dict[str, str]) -> StatusEvent | None:
    common = {"from_": e164(params.get("From", "")), "to": e164(params.get("To", ""))}
    if params.get("MessageUUID"):
        error = params.get("ErrorCode", "")
        return StatusEvent(kind="message", sid=params["MessageUUID"],
                           status=MESSAGE_STATUS.get(params.get("Status", ""), params.get("Status", "")),
                           error_code="" if error == NO_ERROR else error, segments=to_int(params.get("Units")),
                           **common)
    if params.get("CallUUID"):
        return StatusEvent(kind="call", sid=params["CallUUID"],
                           status=CALL_STATUS.get(params.get("CallStatus", ""), params.get("CallStatus", "")),
                           outbound=params.get("Direction", "") == "outbound",
                           duration=to_int(params.get("Duration")), **common)
    return None


def recording_event(params: dict[str, str]) -> RecordingEvent:
    """A Record's callbackUrl: RecordingID, RecordUrl and RecordingDuration (seconds) of a call."""
    return RecordingEvent(sid=params.get("RecordingID", ""), call_sid=params.get("CallUUID", ""),
                          status="completed", url=params.get("RecordUrl", ""),
                          duration=to_int(params.get("RecordingDuration")))


def transcription_event(params: dict[str, str]) -> TranscriptionEvent | None:
    """A Record's transcriptionUrl: the transcription of recording_id, or an error."""
    if not params.get("recording_id"):
        return None
    return TranscriptionEvent(recording_sid=params["recording_id"], call_sid=params.get("call_uuid", ""),
                              text=params.get("transcription", ""),
                              status="failed" if params.get("error") else "completed")


def _voice_xml(twiml: VoiceResponse) -> str:
    return plivo_xml.voice_xml(str(twiml))


def _sms(hook: Webhook) -> HttpResponse:
    hook.sms = inbound_sms(hook.params)
    replies = sms_answer(hook)
    return HttpResponse(plivo_xml.message_xml(src=hook.sms.to, dst=hook.sms.from_, replies=replies),
                        content_type=XML)


HANDLERS: dict[str, Handler] = {
    "voice": call_handler(call_event, _voice_xml, XML),
    "ivr-menu": call_handler(call_event, _voice_xml, XML),
    "sms": _sms,
    "status": callback_handler("status", status_event, callbacks.status_callback),
    "recording": callback_handler("recording", recording_event, callbacks.recording_callback),
    "transcription": callback_handler("transcription", transcription_event, callbacks.transcription_callback),
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
