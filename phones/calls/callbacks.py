"""Status, recording and transcription callbacks.

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
from phones.models import Call, Message, Recording
from providers.events import StatusEvent
from webhooks.security import Webhook

logger = logging.getLogger(__name__)

MESSAGE_RANK = {"accepted": 0, "scheduled": 0, "queued": 0, "sending": 1, "sent": 2, "delivered": 3,
                "undelivered": 3, "failed": 3, "canceled": 3, "read": 4}
CALL_RANK = {"queued": 0, "initiated": 0, "ringing": 1, "in-progress": 2, "completed": 3, "busy": 3, "failed": 3,
             "no-answer": 3, "canceled": 3}
RECORDING_RANK = {"in-progress": 0, "paused": 0, "stopped": 1, "completed": 2, "absent": 2, "failed": 2}
BILLED_MESSAGE_RANK = MESSAGE_RANK["sent"]


def _moves_forward(ranks: dict[str, int], old: str, new: str) -> bool:
    return ranks[new] > ranks.get(old, -1)


def _month_start():
    return timezone.now().date().replace(day=1)


def message_status(hook: Webhook, event: StatusEvent) -> None:
    sid, status = event.sid, event.status
    if status not in MESSAGE_RANK:
        logger.info("message %s: status %r not tracked", sid, status)
        return
    with transaction.atomic():
        # Org and number come with the row: usage_record needs them once the status is billed.
        message = (Message.objects.select_for_update(of=("self",)).select_related("org", "phone_number")
                   .filter(org=hook.org, provider_sid=sid).first())
        if message is None:
            logger.info("status %s for message %s, which is not ours", status, sid)
            return
        if not _moves_forward(MESSAGE_RANK, message.status, status):
            return
        was_billed = MESSAGE_RANK.get(message.status, -1) >= BILLED_MESSAGE_RANK
        message.status = status
        message.error_code = event.error_code or message.error_code
        message.segments = event.segments or message.segments
        message.save(update_fields=["status", "error_code", "segments"])
        if (message.direction == Message.Direction.OUTBOUND and not was_billed
                and MESSAGE_RANK[status] >= BILLED_MESSAGE_RANK and status not in ("failed", "canceled")):
            usage_record(org=message.org, phone_number=message.phone_number, kind="sms_segment",
                         quantity=message.segments, period=_month_start(), key=f"sms:{sid}")


def call_status(hook: Webhook, event: StatusEvent) -> None:
    sid, status = event.sid, event.status
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
                        direction=Call.Direction.OUTBOUND if event.outbound else Call.Direction.INBOUND,
                        from_number=event.from_, to_number=event.to)
            except IntegrityError:
                call = calls.get(provider_sid=sid)
        if not _moves_forward(CALL_RANK, call.status, status):
            return
        call.status = status
        if event.duration is not None:
            call.duration = event.duration
        call.save(update_fields=["status", "duration", "updated_at"])
        if status == "completed" and call.duration:
            usage_record(org=call.org, phone_number=call.phone_number, kind="call_minute",
                         quantity=math.ceil(call.duration / 60), period=_month_start(), key=f"call:{sid}")


def status_callback(hook: Webhook) -> None:
    event = hook.status
    if event is None:
        logger.info("%s status callback about neither a message nor a call: ignored", hook.provider)
    elif event.kind == "message":
        message_status(hook, event)
    else:
        call_status(hook, event)


def _recording(hook: Webhook, sid: str, call_sid: str) -> Recording | None:
    """The recording row, locked; created on first sight. None when another org has this SID."""
    recording = Recording.objects.select_for_update().filter(provider_sid=sid).first()
    if recording is None:
        call = Call.objects.filter(org=hook.org, provider_sid=call_sid).first() if call_sid else None
        try:
            with transaction.atomic():
                return Recording.objects.create(org=hook.org, provider_sid=sid, call=call, call_sid=call_sid)
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
        # Only the reference is kept: the audio stays at the provider (seed 001).
        recording.url = recording.url or event.url
        recording.duration = event.duration or recording.duration
        if event.status in RECORDING_RANK and _moves_forward(RECORDING_RANK, recording.status, event.status):
            recording.status = event.status
        recording.save()


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
            recording.save()
        return
    with transaction.atomic():
        call = Call.objects.select_for_update().filter(org=hook.org, provider_sid=event.call_sid).first()
        if call is None or not event.text:
            return
        segment = event.segment if event.segment is not None else str(len(call.transcript) + 1)
        call.transcript = {**call.transcript, segment: {"track": event.track, "text": event.text}}
        call.save(update_fields=["transcript", "updated_at"])
