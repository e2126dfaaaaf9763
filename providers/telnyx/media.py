"""Telnyx media streaming (bidirectional, TeXML <Stream> / Call Control streaming), in our values.

In: `connected`, `start` (stream_id, start.call_control_id / call_sid, start.media_format,
start.custom_parameters), `media` (media.payload, media.timestamp, media.track), `mark`, `dtmf`,
`stop`. Out: `media` ({"media": {"payload"}}), `mark`, `clear`. PCMU 8 kHz, as Twilio's.
"""
from __future__ import annotations

from providers.media import (
    StreamConnected,
    StreamEvent,
    StreamIgnored,
    StreamStart,
    StreamStop,
    dict_field,
    dtmf_of,
    mark_of,
    media_of,
    parameters,
    sample_rate,
    start_of,
    text,
)


class TelnyxMedia:
    name = "telnyx"

    def recognises(self, message: dict) -> bool:
        start = message.get("start")
        return message.get("event") == "start" and isinstance(start, dict) and (
            "call_control_id" in start or "media_format" in start)

    def parse(self, message: dict) -> StreamEvent:
        event = message.get("event")
        if event == "media":
            return media_of(message, inbound_tracks=("inbound", "inbound_track"))
        if event == "start":
            start = start_of(message)
            custom = dict_field(start, "custom_parameters") or dict_field(start, "customParameters")
            fmt = dict_field(start, "media_format")
            encoding = text(fmt.get("encoding")) or "PCMU"
            return StreamStart(
                stream_id=text(message.get("stream_id") or start.get("stream_id")),
                call_id=text(start.get("call_sid") or start.get("callSid") or start.get("call_control_id")),
                account_id=text(start.get("user_id")), parameters=parameters(custom),
                encoding="audio/x-mulaw" if encoding.upper() == "PCMU" else encoding,
                sample_rate=sample_rate(fmt.get("sample_rate")))
        if event == "mark":
            return mark_of(message)
        if event == "dtmf":
            return dtmf_of(message)
        if event == "stop":
            return StreamStop()
        if event == "connected":
            return StreamConnected()
        return StreamIgnored(text(event))

    def media(self, stream_id: str, payload: str) -> dict:
        return {"event": "media", "media": {"payload": payload}}

    def mark(self, stream_id: str, name: str) -> dict:
        return {"event": "mark", "mark": {"name": name}}

    def clear(self, stream_id: str) -> dict:
        return {"event": "clear"}


DIALECT = TelnyxMedia()
