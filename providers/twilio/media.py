"""Twilio Media Streams (bidirectional, `<Connect><Stream>`), as Twilio documents the messages.

In: `connected`, `start` (streamSid, callSid, accountSid, customParameters, mediaFormat), `media`
(payload, timestamp, track), `mark` (our mark played), `dtmf`, `stop`. Out: `media`, `mark`, `clear`.
"""
from __future__ import annotations

from providers.media import (
    StreamConnected,
    StreamDtmf,
    StreamEvent,
    StreamIgnored,
    StreamMark,
    StreamMedia,
    StreamProtocolError,
    StreamStart,
    StreamStop,
    text,
)


class TwilioMedia:
    name = "twilio"

    def parse(self, message: dict) -> StreamEvent:
        event = message.get("event")
        if event == "media":
            media = message.get("media")
            if not isinstance(media, dict) or not isinstance(media.get("payload"), str):
                raise StreamProtocolError("media without a payload")
            track = text(media.get("track")) or "inbound"
            if track != "inbound":
                return StreamIgnored(event)
            try:
                timestamp = int(media.get("timestamp"))
            except (TypeError, ValueError):
                timestamp = None
            return StreamMedia(payload=media["payload"], timestamp_ms=timestamp, track=track)
        if event == "start":
            start = message.get("start")
            if not isinstance(start, dict):
                raise StreamProtocolError("start without its details")
            custom = start.get("customParameters")
            custom = custom if isinstance(custom, dict) else {}
            fmt = start.get("mediaFormat") if isinstance(start.get("mediaFormat"), dict) else {}
            try:
                rate = int(fmt.get("sampleRate") or 8000)
            except (TypeError, ValueError):
                rate = 0
            return StreamStart(stream_id=text(start.get("streamSid") or message.get("streamSid")),
                               call_id=text(start.get("callSid")), account_id=text(start.get("accountSid")),
                               parameters={text(k, 100): text(v, 2000) for k, v in custom.items()},
                               encoding=text(fmt.get("encoding")) or "audio/x-mulaw", sample_rate=rate)
        if event == "mark":
            mark = message.get("mark")
            return StreamMark(name=text(mark.get("name")) if isinstance(mark, dict) else "")
        if event == "dtmf":
            dtmf = message.get("dtmf")
            return StreamDtmf(digit=text(dtmf.get("digit"), 1) if isinstance(dtmf, dict) else "")
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
