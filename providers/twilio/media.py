"""Twilio Media Streams (bidirectional, `<Connect><Stream>`), as Twilio documents the messages.

In: `connected`, `start` (streamSid, callSid, accountSid, customParameters, mediaFormat), `media`
(payload, timestamp, track), `mark` (our mark played), `dtmf`, `stop`. Out: `media`, `mark`, `clear`.
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


class TwilioMedia:
    name = "twilio"

    def parse(self, message: dict) -> StreamEvent:
        event = message.get("event")
        if event == "media":
            return media_of(message)
        if event == "start":
            start = start_of(message)
            fmt = dict_field(start, "mediaFormat")
            return StreamStart(stream_id=text(start.get("streamSid") or message.get("streamSid")),
                               call_id=text(start.get("callSid")), account_id=text(start.get("accountSid")),
                               parameters=parameters(dict_field(start, "customParameters")),
                               encoding=text(fmt.get("encoding")) or "audio/x-mulaw",
                               sample_rate=sample_rate(fmt.get("sampleRate")))
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
        return {"event": "media", "streamSid": stream_id, "media": {"payload": payload}}

    def mark(self, stream_id: str, name: str) -> dict:
        return {"event": "mark", "streamSid": stream_id, "mark": {"name": name}}

    def clear(self, stream_id: str) -> dict:
        return {"event": "clear", "streamSid": stream_id}


DIALECT = TwilioMedia()
