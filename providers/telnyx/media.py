"""Telnyx media streaming (bidirectional, TeXML <Stream> / Call Control streaming), in our values.

In: `connected`, `start` (stream_id, start.call_control_id / call_sid, start.media_format,
start.custom_parameters), `media` (media.payload, media.timestamp, media.track), `mark`, `dtmf`,
`stop`. Out: `media` ({"media": {"payload"}}), `mark`, `clear`. PCMU 8 kHz, as Twilio's.
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


class TelnyxMedia:
    name = "telnyx"

    def recognises(self, message: dict) -> bool:
        start = message.get("start")
        return message.get("event") == "start" and isinstance(start, dict) and (
            "call_control_id" in start or "media_format" in start)

    def parse(self, message: dict) -> StreamEvent:
        event = message.get("event")
        if event == "media":
            media = message.get("media")
            if not isinstance(media, dict) or not isinstance(media.get("payload"), str):
                raise StreamProtocolError("media without a payload")
            track = text(media.get("track")) or "inbound"
            if track not in ("inbound", "inbound_track"):
                return StreamIgnored(event)
            try:
                timestamp = int(media.get("timestamp"))
            except (TypeError, ValueError):
                timestamp = None
            return StreamMedia(payload=media["payload"], timestamp_ms=timestamp)
        if event == "start":
            start = message.get("start")
            if not isinstance(start, dict):
                raise StreamProtocolError("start without its details")
            custom = start.get("custom_parameters") or start.get("customParameters")
            custom = custom if isinstance(custom, dict) else {}
            fmt = start.get("media_format") if isinstance(start.get("media_format"), dict) else {}
            try:
                rate = int(fmt.get("sample_rate") or 8000)
            except (TypeError, ValueError):
                rate = 0
            encoding = text(fmt.get("encoding")) or "PCMU"
            return StreamStart(
                stream_id=text(message.get("stream_id") or start.get("stream_id")),
                call_id=text(start.get("call_sid") or start.get("callSid") or start.get("call_control_id")),
                account_id=text(start.get("user_id")),
                parameters={text(k, 100): text(v, 2000) for k, v in custom.items()},
                encoding="audio/x-mulaw" if encoding.upper() == "PCMU" else encoding, sample_rate=rate)
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
        return {"event": "media", "media": {"payload": payload}}

    def mark(self, stream_id: str, name: str) -> dict:
        return {"event": "mark", "mark": {"name": name}}

    def clear(self, stream_id: str) -> dict:
        return {"event": "clear"}


DIALECT = TelnyxMedia()
