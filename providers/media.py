"""A call's media stream (the provider's WebSocket to our gateway), in provider-neutral values.

Each provider's adapter (providers/<vendor>/media.py) reads its own JSON messages into these and
writes ours (audio, a mark, a clear) in its own words. Audio is G.711 μ-law at 8 kHz, base64, as
every provider streams it and as the Realtime API takes and returns it: nothing is resampled.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class StreamConnected:
    """The provider's first message: the socket is open (Twilio `connected`)."""


@dataclass(frozen=True)
class StreamStart:
    stream_id: str
    call_id: str
    account_id: str = ""
    # The <Stream>'s <Parameter>s: our token is `token`.
    parameters: dict[str, str] = field(default_factory=dict)
    encoding: str = "audio/x-mulaw"
    sample_rate: int = 8000


@dataclass(frozen=True)
class StreamMedia:
    payload: str  # base64 μ-law
    timestamp_ms: int | None = None  # from the stream's start, when the provider says
    track: str = "inbound"


@dataclass(frozen=True)
class StreamMark:
    """A mark we sent came back: the audio before it has been played to the caller."""

    name: str


@dataclass(frozen=True)
class StreamDtmf:
    digit: str


@dataclass(frozen=True)
class StreamStop:
    """The stream is over: the caller hung up, or the call was sent elsewhere."""


@dataclass(frozen=True)
class StreamIgnored:
    """A message we do not act on (an unknown event, another track's audio)."""

    event: str = ""


StreamEvent = StreamConnected | StreamStart | StreamMedia | StreamMark | StreamDtmf | StreamStop | StreamIgnored


class StreamProtocolError(ValueError):
    """Not a message of the provider's media-stream protocol."""


class MediaDialect(Protocol):
    """A provider's media-stream protocol: reading its messages, writing ours."""

    name: str

    def parse(self, message: dict) -> StreamEvent: ...

    def media(self, stream_id: str, payload: str) -> dict: ...

    def mark(self, stream_id: str, name: str) -> dict: ...

    def clear(self, stream_id: str) -> dict: ...


def text(value: object, limit: int = 200) -> str:
    """A string field of a message, bounded; anything else is ''."""
    return value[:limit] if isinstance(value, str) else ""


# What the providers' messages share: each adapter reads its own field names through these.

def media_of(message: dict, inbound_tracks: tuple[str, ...] = ("inbound",)) -> StreamMedia | StreamIgnored:
    """A `media` message's caller audio ({"media": {"payload", "timestamp", "track"}}); another
    track's audio is ignored."""
    media = message.get("media")
    if not isinstance(media, dict) or not isinstance(media.get("payload"), str):
        raise StreamProtocolError("media without a payload")
    if (text(media.get("track")) or "inbound") not in inbound_tracks:
        return StreamIgnored("media")
    try:
        timestamp = int(media.get("timestamp"))
    except (TypeError, ValueError):
        timestamp = None
    return StreamMedia(payload=media["payload"], timestamp_ms=timestamp)


def start_of(message: dict) -> dict:
    """A `start` message's details."""
    start = message.get("start")
    if not isinstance(start, dict):
        raise StreamProtocolError("start without its details")
    return start


def dict_field(container: dict, key: str) -> dict:
    value = container.get(key)
    return value if isinstance(value, dict) else {}


def sample_rate(value: object) -> int:
    """The stream's sample rate (8000 when unsaid; 0, refused later, when it is not a number)."""
    try:
        return int(value or 8000)
    except (TypeError, ValueError):
        return 0


def parameters(custom: dict) -> dict[str, str]:
    """Custom parameters, names and values bounded."""
    return {text(k, 100): text(v, 2000) for k, v in custom.items()}


def mark_of(message: dict) -> StreamMark:
    """{"mark": {"name"}} (Twilio, Telnyx)."""
    return StreamMark(name=text(dict_field(message, "mark").get("name")))


def dtmf_of(message: dict) -> StreamDtmf:
    """{"dtmf": {"digit"}}."""
    return StreamDtmf(digit=text(dict_field(message, "dtmf").get("digit"), 1))
