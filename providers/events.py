"""What a webhook says, in the provider's words translated to ours.

The inbound SMS, voice and status handling reads only these values; each provider's adapter
(providers/<vendor>/inbound.py) builds them from its own payload.
"""
from __future__ import annotations

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
