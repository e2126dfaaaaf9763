"""Pieces of TwiML shared by voice mode and IVR flows, all built with the twilio SDK.

Every URL we put in TwiML is absolute and built from PUBLIC_BASE_URL: Twilio signs its next
request over exactly that URL, and our signature check rebuilds it the same way.
"""
from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from twilio.twiml.voice_response import VoiceResponse

from core import bounds
from core.insert_once import insert_once
from core.write_behind import insert_later
from orgs.models import Org
from phones.calls.softphone import identity_for
from phones.inbound import Webhook
from phones.models import Call, PhoneNumber, SoftphonePresence
from phones.provider_webhooks import webhook_url

# What <Dial>'s action receives as DialCallStatus when the callee picked up (the call is over
# once they hang up); anything else (no-answer, busy, failed, canceled) means try what comes next.
ANSWERED = frozenset({"completed", "answered"})
NOT_IN_SERVICE = "Sorry, the number you have called is not in service. Goodbye."
NOBODY_AVAILABLE = "Sorry, nobody is available to take your call. Please try again later. Goodbye."
THANKS = "Thank you. Goodbye."


def link(kind: str, connection_type: str | None, **query: object) -> str:
    """Our webhook `kind` on the URL family of the provider of `connection_type`, so its next
    request comes back to the view that checks that provider's signature."""
    url = webhook_url(kind, connection_type)
    params = {k: v for k, v in query.items() if v not in (None, "")}
    return f"{url}?{urlencode(params)}" if params else url


def say_or_play(target, prompt: dict) -> None:
    """A node's prompt: `say` (with its voice/language) or `play`, on a response or a Gather."""
    if prompt.get("say"):
        target.say(prompt["say"], voice=prompt.get("voice"), language=prompt.get("language"))
    elif prompt.get("play"):
        target.play(prompt["play"])


def not_in_service() -> VoiceResponse:
    response = VoiceResponse()
    response.say(NOT_IN_SERVICE)
    response.hangup()
    return response


def goodbye(message: str = THANKS) -> VoiceResponse:
    response = VoiceResponse()
    response.say(message)
    response.hangup()
    return response


def voice_config(number: PhoneNumber) -> dict:
    config = (number.configuration or {}).get("voiceConfig") or {}
    return config if isinstance(config, dict) else {}


def recording_kwargs(number: PhoneNumber) -> dict:
    """<Dial> attributes that record the bridged call, both legs on separate channels."""
    if not voice_config(number).get("recordCalls"):
        return {}
    return {"record": "record-from-answer-dual",
            "recording_status_callback": link("recording", number.connection.type),
            "recording_status_callback_event": "completed"}


def start_transcription(response: VoiceResponse, number: PhoneNumber) -> None:
    """transcribeCalls: Twilio's real-time transcription of the call, segments posted to /transcription."""
    if voice_config(number).get("transcribeCalls"):
        response.start().transcription(status_callback_url=link("transcription", number.connection.type),
                                       track="both_tracks")


def record_voicemail(response: VoiceResponse, *, kind: str, connection_type: str | None, prompt: dict,
                     max_length: int, transcribe: bool) -> None:
    """Greeting, beep, <Record>; its action ends the call politely (without one Twilio would
    request this same document again and loop)."""
    say_or_play(response, prompt)
    extra = {"transcribe": True, "transcribe_callback": link("transcription", connection_type)} if transcribe else {}
    response.record(action=link(kind, connection_type, done=1), method="POST", max_length=max_length,
                    play_beep=True, recording_status_callback=link("recording", connection_type),
                    recording_status_callback_event="completed", **extra)


def call_remember(hook: Webhook, *, at_once: bool = False) -> None:
    """The inbound call, stored once per call SID (a retried webhook adds nothing): within
    WRITE_BEHIND_MS by the process's writer (core.write_behind), or `at_once` in the request for a
    caller that reads or updates the row next (an agent's claim, phones.calls.ai), committed
    asynchronously. Should it be lost (a database crash, a web process killed before its writer
    ran), the call's status callback records it again (callbacks.call_status)."""
    call = hook.call
    if call is None or not call.sid or hook.number is None:
        return
    # Fitted to the columns (bounds): a signed webhook may still carry a 300-character SID.
    row = bounds.fit(Call(
        org_id=hook.number.org_id, phone_number=hook.number,
        direction=Call.Direction.OUTBOUND if call.outbound else Call.Direction.INBOUND,
        from_number=call.from_, to_number=call.to, provider_sid=call.sid, status=call.status or "ringing",
        tracking=hook.number.tracking_stamp()))
    if at_once:
        insert_once(row, unique="provider_sid", durable=False)
    else:
        insert_later(row, unique="provider_sid")


def ring_client(dial, identity: str, connection_type: str) -> None:
    """A softphone in a <Dial>; its leg's answered and completed status callbacks keep the member's
    presence (phones.calls.dial_out.presence_change)."""
    dial.client(identity=identity, status_callback=link("status", connection_type),
                status_callback_event="answered completed", status_callback_method="POST")


def identities(org: Org, *, usernames: Iterable[str] = (), groups: Iterable[str] = ()
               ) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Softphone identities of the org's members named, and of each ring group's members, who can
    take a call: a user who left the org is not rung, nor one whose softphone presence is offline
    or busy (offline until they set it; `away` still rings). At most one query each."""
    User = get_user_model()
    usernames, groups = set(usernames), set(groups)
    by_user: dict[str, str] = {}
    by_group: dict[str, list[str]] = {}
    reachable = User.objects.filter(pk__in=SoftphonePresence.objects.filter(
        org=org, status__in=SoftphonePresence.RINGS).values("user_id"))
    if usernames:
        by_user = {name: identity_for(pk) for name, pk in reachable.filter(
            username__in=usernames, memberships__org=org).values_list("username", "pk")}
    if groups:
        rows = (reachable.filter(ring_groups__public_id__in=groups, ring_groups__org=org, memberships__org=org)
                .order_by("pk").values_list("ring_groups__public_id", "pk"))
        for group_id, pk in rows:
            by_group.setdefault(group_id, []).append(identity_for(pk))
    return by_user, by_group

