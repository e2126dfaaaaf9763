"""What every provider's webhook entry shares: the handlers for a call asking what to do, for a
callback with nothing to answer, and for an inbound text; each provider's entry (webhooks.twilio,
webhooks.plivo, webhooks.telnyx) parses its fields and renders the answer in its markup.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpResponse
from twilio.twiml.voice_response import VoiceResponse

from phones.calls import twiml
from phones.calls.dial_out import is_softphone, outbound_response
from phones.calls.ivr import ivr_response
from phones.calls.voice import voice_response
from phones.inbound import Webhook
from phones.messaging.inbound import sms_receive, sms_rules
from phones.models import PhoneNumber
from providers.events import CallEvent

logger = logging.getLogger(__name__)


TWIML = "text/xml; charset=utf-8"


Handler = Callable[[Webhook], HttpResponse]


def call_answer(hook: Webhook) -> VoiceResponse:
    """The TwiML for a call: `voice` asks the number's routing mode, `ivr-menu` runs the flow."""
    if hook.number is None and hook.call is not None and hook.kind == "voice" and is_softphone(hook.call.from_):
        return outbound_response(hook)  # placed from a member's softphone, through the TwiML App
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
        answer = call_answer(hook)
        # A document kept by the IVR (phones.calls.ivr._document) is rendered once per provider markup.
        texts = answer.__dict__.setdefault("_rendered", {})
        text = texts.get(render)
        if text is None:
            text = texts[render] = render(answer)
        return HttpResponse(text, content_type=content_type)
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
