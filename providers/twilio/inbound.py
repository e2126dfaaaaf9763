"""Twilio's webhook form fields (and TeXML's, which are the same) as provider-neutral events."""
from __future__ import annotations

from core.parsers import loads
from providers.events import MAX_MEDIA, CallEvent, InboundSms, RecordingEvent, StatusEvent, TranscriptionEvent, to_int


def call_event(params: dict[str, str]) -> CallEvent:
    return CallEvent(sid=params.get("CallSid", ""), from_=params.get("From", ""), to=params.get("To", ""),
                     status=params.get("CallStatus", ""),
                     outbound=params.get("Direction", "").startswith("outbound"),
                     digits=params.get("Digits"), dial_status=params.get("DialCallStatus", ""))


def inbound_sms(params: dict[str, str]) -> InboundSms:
    count = min(to_int(params.get("NumMedia")) or 0, MAX_MEDIA)
    return InboundSms(sid=params.get("MessageSid") or params.get("SmsSid") or "", from_=params.get("From", ""),
                      to=params.get("To", ""), body=params.get("Body", ""),
                      media_urls=[params[f"MediaUrl{i}"] for i in range(count) if params.get(f"MediaUrl{i}")],
                      segments=max(to_int(params.get("NumSegments")) or 1, 1),
                      status=params.get("SmsStatus") or "received")


def status_event(params: dict[str, str]) -> StatusEvent | None:
    common = {"from_": params.get("From", ""), "to": params.get("To", "")}
    if params.get("MessageSid") or params.get("SmsSid"):
        return StatusEvent(kind="message", sid=params.get("MessageSid") or params.get("SmsSid") or "",
                           status=params.get("MessageStatus") or params.get("SmsStatus") or "",
                           error_code=params.get("ErrorCode") or "", segments=to_int(params.get("NumSegments")),
                           **common)
    if params.get("CallSid"):
        return StatusEvent(kind="call", sid=params["CallSid"], status=params.get("CallStatus", ""),
                           outbound=params.get("Direction", "").startswith("outbound"),
                           duration=to_int(params.get("CallDuration")), **common)
    return None


def recording_event(params: dict[str, str]) -> RecordingEvent:
    return RecordingEvent(sid=params.get("RecordingSid", ""), call_sid=params.get("CallSid", ""),
                          status=params.get("RecordingStatus", ""), url=params.get("RecordingUrl", ""),
                          duration=to_int(params.get("RecordingDuration")))


def transcription_event(params: dict[str, str]) -> TranscriptionEvent | None:
    """Two senders: <Record transcribe>'s callback (TranscriptionText for a RecordingSid), and
    real-time <Start><Transcription> events (TranscriptionData segments for a CallSid, only the
    final ones kept). None for anything else."""
    if params.get("RecordingSid") and "TranscriptionText" in params:
        return TranscriptionEvent(recording_sid=params["RecordingSid"], call_sid=params.get("CallSid", ""),
                                  sid=params.get("TranscriptionSid", ""), status=params.get("TranscriptionStatus", ""),
                                  text=params.get("TranscriptionText", ""))
    if params.get("TranscriptionEvent") == "transcription-content" and params.get("Final", "").lower() == "true":
        try:
            text = str(loads(params.get("TranscriptionData") or "{}").get("transcript", ""))
        except (ValueError, AttributeError):  # core.parsers.JSONError is a ValueError
            text = ""
        return TranscriptionEvent(call_sid=params.get("CallSid", ""), text=text, segment=params.get("SequenceId"),
                                  track=params.get("Track", ""))
    return None
