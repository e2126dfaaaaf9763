"""Never dead air: when the AI cannot be reached or fails mid-call, the caller hears a short
apology and the call goes on to the number's fallback, as voice routing falls back: its voicemail
(the routing's, else voiceConfig's) when it has one, else the org's system phone, else a goodbye."""
from __future__ import annotations

import logging

from twilio.twiml.voice_response import VoiceResponse

from phones.agents.gateway.context import StreamContext, phone_provider
from phones.calls import twiml, voice
from phones.calls.routing import voice_document
from phones.inbound import Webhook
from phones.models import PhoneNumber
from providers.base import ProviderError

logger = logging.getLogger(__name__)

APOLOGY = "Sorry, our assistant is not available right now."


def fallback_twiml(context: StreamContext) -> str:
    number = PhoneNumber.objects.select_related("org", "connection", "routing").get(pk=context.number_pk)
    response = VoiceResponse()
    response.say(APOLOGY)
    routing = getattr(number, "routing", None)
    voicemail = voice._voicemail(number, voice_document(routing.assignments if routing else []))
    if voicemail is not None:
        twiml.record_voicemail(response, kind="voice", connection_type=number.connection.type, prompt=voicemail,
                               max_length=voicemail.get("maxLength", 120),
                               transcribe=bool(voicemail.get("transcribe")))
        return str(response)
    hook = Webhook(kind="voice", params={}, query={}, connection=number.connection, number=number)
    if not voice.dial_system_phone(response, hook):
        response.say(twiml.NOBODY_AVAILABLE)
        response.hangup()
    return str(response)


def fall_back(context: StreamContext) -> bool:
    """Send the live call to its fallback; False when the provider refused (the call may be gone)."""
    try:
        phone_provider(context).update_call(context.call_sid, twiml=fallback_twiml(context))
    except ProviderError as exc:
        logger.warning("AI call %s: could not send the caller to the fallback: %s", context.call_sid, exc)
        return False
    return True
