"""What a webhook says, in the provider's words translated to ours.

The inbound SMS, voice and status handling reads only these values; each provider's adapter
(twilio here, webhooks.plivo, webhooks.telnyx) builds them from its own payload.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

# The media of an inbound text we keep, at most (Twilio's own limit per message).
MAX_MEDIA = 10


@dataclass(frozen=True)
class CallEvent:
    """A call asking what to do next: its first request, or the answer to a menu or a dial."""

    sid: str
    from_: str
    to: str
    status: str = ""
    outbound: bool = False
    # None when this request is not the answer to a menu; "" when the caller pressed nothing.
    digits: str | None = None
    # The outcome of the <Dial> this request follows (twiml.ANSWERED when the callee picked up).
    dial_status: str = ""

    @property
    def other_party(self) -> str:
        """The person on the line: the caller, or the callee of a call we placed."""
        return self.to if self.outbound else self.from_


@dataclass(frozen=True)
class InboundSms:
    sid: str
    from_: str
    to: str
    body: str
    media_urls: list[str] = field(default_factory=list)
    segments: int = 1
    status: str = "received"


@dataclass(frozen=True)
class StatusEvent:
    """A message's or a call's new status, in Twilio's vocabulary (phones.calls.callbacks ranks it)."""

    kind: str  # "message" or "call"
    sid: str
    status: str
    from_: str = ""
    to: str = ""
    outbound: bool = False
    error_code: str = ""
    segments: int | None = None
    duration: int | None = None


@dataclass(frozen=True)
class RecordingEvent:
    """A recording of a call, or its new status; the audio stays at the provider (its `url`)."""

    sid: str
    call_sid: str = ""
    status: str = ""
    url: str = ""
    duration: int | None = None


@dataclass(frozen=True)
class TranscriptionEvent:
    """The transcription of a recording (`recording_sid`: <Record transcribe>, Plivo's Record),
    or one final segment of a call's real-time transcription (<Start><Transcription>)."""

    call_sid: str = ""
    text: str = ""
    recording_sid: str = ""
    sid: str = ""
    status: str = ""
    # A real-time segment: its place in the call's transcript (None: after the ones so far), its track.
    segment: str | None = None
    track: str = ""


def to_int(value: object) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------- Twilio's form fields

def twilio_call(params: dict[str, str]) -> CallEvent:
    return CallEvent(sid=params.get("CallSid", ""), from_=params.get("From", ""), to=params.get("To", ""),
                     status=params.get("CallStatus", ""),
                     outbound=params.get("Direction", "").startswith("outbound"),
                     digits=params.get("Digits"), dial_status=params.get("DialCallStatus", ""))


def twilio_sms(params: dict[str, str]) -> InboundSms:
    count = min(to_int(params.get("NumMedia")) or 0, MAX_MEDIA)
    return InboundSms(sid=params.get("MessageSid") or params.get("SmsSid") or "", from_=params.get("From", ""),
                      to=params.get("To", ""), body=params.get("Body", ""),
                      media_urls=[params[f"MediaUrl{i}"] for i in range(count) if params.get(f"MediaUrl{i}")],
                      segments=max(to_int(params.get("NumSegments")) or 1, 1),
                      status=params.get("SmsStatus") or "received")


def twilio_status(params: dict[str, str]) -> StatusEvent | None:
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


def twilio_recording(params: dict[str, str]) -> RecordingEvent:
    return RecordingEvent(sid=params.get("RecordingSid", ""), call_sid=params.get("CallSid", ""),
                          status=params.get("RecordingStatus", ""), url=params.get("RecordingUrl", ""),
                          duration=to_int(params.get("RecordingDuration")))


def twilio_transcription(params: dict[str, str]) -> TranscriptionEvent | None:
    """Two senders: <Record transcribe>'s callback (TranscriptionText for a RecordingSid), and
    real-time <Start><Transcription> events (TranscriptionData segments for a CallSid, only the
    final ones kept). None for anything else."""
    if params.get("RecordingSid") and "TranscriptionText" in params:
        return TranscriptionEvent(recording_sid=params["RecordingSid"], call_sid=params.get("CallSid", ""),
                                  sid=params.get("TranscriptionSid", ""), status=params.get("TranscriptionStatus", ""),
                                  text=params.get("TranscriptionText", ""))
    if params.get("TranscriptionEvent") == "transcription-content" and params.get("Final", "").lower() == "true":
        try:
            text = json.loads(params.get("TranscriptionData") or "{}").get("transcript", "")
        except (ValueError, AttributeError):
            text = ""
        return TranscriptionEvent(call_sid=params.get("CallSid", ""), text=text, segment=params.get("SequenceId"),
                                  track=params.get("Track", ""))
    return None
