"""Plivo's webhook form fields as provider-neutral events. Plivo writes numbers without the `+`."""
from __future__ import annotations

from providers.events import MAX_MEDIA, CallEvent, InboundSms, RecordingEvent, StatusEvent, TranscriptionEvent, to_int
from providers.plivo.client import e164

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
