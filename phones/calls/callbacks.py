"""Status callbacks of calls (messages': phones.messaging.callbacks), recordings and transcriptions.

They arrive out of order and more than once, so a status only moves forward, by rank:
messages  accepted/scheduled/queued < sending < sent < delivered/undelivered/failed/canceled < read
calls     queued/initiated < ringing < in-progress < completed/busy/failed/no-answer/canceled
A callback with a rank at or below the stored one changes nothing. The row is locked while it is
compared, so two callbacks racing each other cannot move it backwards either. Usage is recorded
once per SID (unique usage keys): SMS segments when a text we sent reaches `sent` or beyond (Twilio
bills it then, delivered or not), call minutes (rounded up) when a call completes.
"""
from __future__ import annotations

import logging
import math

from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.services import usage_record
from core import bounds
from phones.calls.dial_out import presence_change
from phones.inbound import Webhook
from phones.messaging.callbacks import message_status, month_start, moves_forward
from phones.models import Call, Recording
from providers.events import StatusEvent

logger = logging.getLogger(__name__)

CALL_RANK = {"queued": 0, "initiated": 0, "ringing": 1, "in-progress": 2, "completed": 3, "busy": 3, "failed": 3,
             "no-answer": 3, "canceled": 3}
RECORDING_RANK = {"in-progress": 0, "paused": 0, "stopped": 1, "completed": 2, "absent": 2, "failed": 2}
def call_status(hook: Webhook, event: StatusEvent) -> None:
    sid, status = bounds.column(Call, "provider_sid", event.sid), event.status
    if status not in CALL_RANK:
        logger.info("call %s: status %r not tracked", sid, status)
        return
    with transaction.atomic():
        calls = Call.objects.select_for_update(of=("self",)).select_related("org", "phone_number")
        call = calls.filter(org=hook.org, provider_sid=sid).first()
        if call is None:
            if hook.number is None:
                logger.info("status %s for call %s, which is not ours", status, sid)
                return
            # A call we did not see start (placed elsewhere on the account, or this callback
            # overtook the voice webhook): known from now on.
            try:
                with transaction.atomic():
                    call = Call.objects.create(
                        org=hook.org, phone_number=hook.number, provider_sid=sid, status="",
                        tracking=hook.number.tracking_stamp(),
                        direction=Call.Direction.OUTBOUND if event.outbound else Call.Direction.INBOUND,
                        from_number=bounds.column(Call, "from_number", event.from_),
                        to_number=bounds.column(Call, "to_number", event.to))
            except IntegrityError:
                call = calls.get(provider_sid=sid)
        if not moves_forward(CALL_RANK, call.status, status):
            return
        call.status = status
        if event.duration is not None:
            call.duration = bounds.column(Call, "duration", event.duration)  # -5 → 0, 10^20 → the column's max
        fields = ["status", "duration", "updated_at"]
        if CALL_RANK[status] == 3 and call.ai_status == Call.AIStatus.CONNECTING:
            # The call ended before its stream reached the gateway: it no longer holds an AI slot.
            # (An active session is the gateway's to end: it records the usage.)
            call.ai_status, call.ai_ended_at = Call.AIStatus.ENDED, timezone.now()
            fields += ["ai_status", "ai_ended_at"]
        call.save(update_fields=fields)
        if status == "completed" and call.duration:
            usage_record(org=call.org, phone_number=call.phone_number, kind="call_minute",
                         quantity=math.ceil(call.duration / 60), period=month_start(), key=f"call:{sid}")


def status_callback(hook: Webhook) -> None:
    event = hook.status
    if event is None:
        logger.info("%s status callback about neither a message nor a call: ignored", hook.provider)
    elif event.kind == "message":
        message_status(hook, event)
    else:
        presence_change(hook, event.to, event.status)  # a softphone's leg: its member in a call, or not
        call_status(hook, event)


def _recording(hook: Webhook, sid: str, call_sid: str) -> Recording | None:
    """The recording row, locked; created on first sight. None when another org has this SID."""
    sid, call_sid = bounds.column(Recording, "provider_sid", sid), bounds.column(Recording, "call_sid", call_sid)
    recording = Recording.objects.select_for_update().filter(provider_sid=sid).first()
    if recording is None:
        call = Call.objects.filter(org=hook.org, provider_sid=call_sid).first() if call_sid else None
        # The connection whose account holds the audio: the API streams and deletes it through that one.
        number = hook.number or (call.phone_number if call is not None else None)
        try:
            with transaction.atomic():
                return Recording.objects.create(org=hook.org, provider_sid=sid, call=call, call_sid=call_sid,
                                                phone_number=number, connection=hook.connection)
        except IntegrityError:
            recording = Recording.objects.select_for_update().get(provider_sid=sid)
    if recording.org_id != hook.org.pk:
        logger.warning("recording %s belongs to another org: ignored", sid)
        return None
    return recording


def recording_callback(hook: Webhook) -> None:
    event = hook.recording
    if event is None or not event.sid:
        return
    with transaction.atomic():
        recording = _recording(hook, event.sid, event.call_sid)
        if recording is None:
            return
        # Only the reference is kept: the audio stays at the provider.
        recording.url = recording.url or event.url
        recording.duration = event.duration or recording.duration
        if event.status in RECORDING_RANK and moves_forward(RECORDING_RANK, recording.status, event.status):
            recording.status = event.status
        bounds.fit(recording).save()


def transcription_callback(hook: Webhook) -> None:
    """A recording's transcription, or a final segment of a call's real-time transcription."""
    event = hook.transcription
    if event is None:
        return
    if event.recording_sid:
        with transaction.atomic():
            recording = _recording(hook, event.recording_sid, event.call_sid)
            if recording is None:
                return
            recording.transcription_sid = event.sid
            recording.transcription_status = event.status
            recording.transcription_text = event.text
            bounds.fit(recording).save()
        return
    with transaction.atomic():
        call = (Call.objects.select_for_update()
                .filter(org=hook.org, provider_sid=bounds.column(Call, "provider_sid", event.call_sid)).first())
        if call is None or not event.text:
            return
        segment = event.segment if event.segment is not None else str(len(call.transcript) + 1)
        call.transcript = {**call.transcript, segment: {"track": event.track, "text": event.text}}
        call.save(update_fields=["transcript", "updated_at"])
