"""Calls a member places from their softphone, and the presence that calls change.

The browser's Voice SDK connects through the connection's TwiML App, whose voice URL is our voice
webhook: Twilio asks it what to do with `From=client:<identity>` and the `To` the browser dialled,
which is no number of ours. We dial `To` when the identity is a member of the org and `To` is in a
country the org allows (`Org.softphone_countries`; empty: the caller ID's own), with the org's
caller ID: a live number whose voice routing rings that member, else the system phone.

Presence follows calls: a member in a call is `busy` (placed, or a ringing <Client> answered) and
`available` again when it ends, from the <Dial>'s action and the <Client> legs' status callbacks.
"""
from __future__ import annotations

import logging
import re

import phonenumbers
from django.contrib.auth import get_user_model
from django.db.models import TextField
from django.db.models.functions import Cast
from twilio.twiml.voice_response import VoiceResponse

from core import bounds
from core.insert_once import insert_once
from phones.calls import twiml
from phones.calls.routing import voice_document
from phones.inbound import Webhook
from phones.models import Call, PhoneNumber, SoftphonePresence

logger = logging.getLogger(__name__)

CLIENT_PREFIX = "client:"
_IDENTITY = re.compile(r"^user_(\d{1,18})$")

NOT_A_MEMBER = "This softphone cannot place calls."
NO_CALLER_ID = "There is no number to call from. Ask an administrator to assign you a number."
BAD_NUMBER = "The number you dialled is not valid."
COUNTRY_NOT_ALLOWED = "Calls to that country are not allowed."

# A <Client> leg's status (its status callback) → the member's presence.
IN_A_CALL = {"in-progress"}
CALL_ENDED = {"completed", "busy", "failed", "no-answer", "canceled"}


def is_softphone(address: str) -> bool:
    return address.startswith(CLIENT_PREFIX)


def _member(hook: Webhook, address: str):
    """The org's member whose softphone `address` (client:user_<id>) is, or None."""
    match = _IDENTITY.match(address.removeprefix(CLIENT_PREFIX))
    if match is None:
        return None
    return get_user_model().objects.filter(pk=int(match[1]), memberships__org=hook.org).first()


def caller_id(hook: Webhook, username: str) -> PhoneNumber | None:
    """A live number whose voice routing rings `username` (the oldest), else the system phone."""
    live = PhoneNumber.objects.filter(org=hook.org, status=PhoneNumber.Status.ACTIVE).select_related("connection")
    # The text match narrows the rows; the documents are then read properly.
    candidates = (live.filter(routing__isnull=False).select_related("routing")
                  .annotate(voice=Cast("routing__assignments", TextField()))
                  .filter(voice__contains=username).order_by("id"))
    for number in candidates:
        assignments = voice_document(number.routing.assignments)["assignments"]
        if any(a.get("type") == "user" and a.get("target") == username for a in assignments):
            return number
    return live.filter(is_system=True).first()


def _refuse(message: str) -> VoiceResponse:
    return twiml.goodbye(message)


def presence_change(hook: Webhook, address: str, status: str) -> None:
    """A member's presence as a call of theirs moves: busy in it, available once it has ended (only
    when it was a call that made them busy: an `away` or `offline` member stays so)."""
    if not is_softphone(address) or (user := _member(hook, address)) is None:
        return
    presences = SoftphonePresence.objects.filter(org=hook.org, user=user)
    if status in IN_A_CALL:
        updated = presences.exclude(status=SoftphonePresence.Status.OFFLINE).update(
            status=SoftphonePresence.Status.BUSY)
        if not updated and not presences.exists():
            SoftphonePresence.objects.create(org=hook.org, user=user, status=SoftphonePresence.Status.BUSY)
    elif status in CALL_ENDED:
        presences.filter(status=SoftphonePresence.Status.BUSY).update(status=SoftphonePresence.Status.AVAILABLE)


def outbound_response(hook: Webhook) -> VoiceResponse:
    """The TwiML for a call a softphone places (hook.call.from_ is `client:<identity>`)."""
    call = hook.call
    user = _member(hook, call.from_)
    if user is None:
        logger.info("softphone call from %s: not a member of %s", call.from_, hook.org)
        return _refuse(NOT_A_MEMBER)
    if hook.query.get("done"):  # the <Dial> ended
        presence_change(hook, call.from_, "completed")
        response = VoiceResponse()
        response.hangup()
        return response
    try:
        parsed = phonenumbers.parse(call.to, None)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        return _refuse(BAD_NUMBER)
    number = caller_id(hook, user.get_username())
    if number is None:
        return _refuse(NO_CALLER_ID)
    to = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    allowed = hook.org.softphone_countries or [number.country]
    if phonenumbers.region_code_for_number(parsed) not in allowed:
        return _refuse(COUNTRY_NOT_ALLOWED)
    insert_once(bounds.fit(Call(
        org_id=hook.org.pk, phone_number=number, direction=Call.Direction.OUTBOUND, from_number=number.e164,
        to_number=to, provider_sid=call.sid, status=call.status or "ringing", tracking=number.tracking_stamp())),
        unique="provider_sid", durable=False)
    presence_change(hook, call.from_, "in-progress")
    response = VoiceResponse()
    dial = response.dial(caller_id=number.e164, answer_on_bridge=True,
                         action=twiml.link("voice", hook.connection.type, done=1), method="POST",
                         **twiml.recording_kwargs(number))
    dial.number(to)
    return response
