"""Plivo audio streams (bidirectional <Stream>), in our values.

In: `start` (start.callId, start.streamId, start.accountId, start.mediaFormat; our parameters come
as the Stream's extraHeaders, "name=value,name=value", which providers.plivo.markup writes; Plivo's
reference shows them back ";"-separated, which is read too),
`media` (media.payload, media.timestamp, media.track), `playedStream` (a checkpoint we sent has
played: our mark), `dtmf`, `stop`. Out: `playAudio` (μ-law 8 kHz), `checkpoint` (our mark),
`clearAudio`.
"""
from __future__ import annotations

import json
import re

from providers.media import (
    StreamEvent,
    StreamIgnored,
    StreamMark,
    StreamStart,
    StreamStop,
    dict_field,
    dtmf_of,
    media_of,
    sample_rate,
    start_of,
    text,
)


def _extra_headers(value: object) -> dict[str, str]:
    """extraHeaders as Plivo passes them back: "k=v,k=v" (as the <Stream> attribute is written),
    "k=v;k=v" (as Plivo's stream reference shows `extra_headers`), or a JSON object."""
    if isinstance(value, dict):
        pairs = value.items()
    elif isinstance(value, str) and value.strip().startswith("{"):
        try:
            loaded = json.loads(value)
        except ValueError:
            return {}
        pairs = loaded.items() if isinstance(loaded, dict) else []
    elif isinstance(value, str):
        pairs = (part.split("=", 1) for part in re.split(r"[,;]", value) if "=" in part)
    else:
        return {}
    out = {}
    for key, val in pairs:
        name = text(key, 100).strip()
        # Plivo may prefix custom headers (X-PH-); our parameter names are what follows.
        for prefix in ("X-PH-", "X-Ph-", "x-ph-"):
            name = name.removeprefix(prefix)
        out[name] = text(val, 2000).strip()
    return out


class PlivoMedia:
    name = "plivo"

    def recognises(self, message: dict) -> bool:
        start = message.get("start")
        return message.get("event") == "start" and isinstance(start, dict) and "callId" in start

    def parse(self, message: dict) -> StreamEvent:
        event = message.get("event")
        if event == "media":
            return media_of(message)
        if event == "start":
            start = start_of(message)
            headers = (message.get("extra_headers") or message.get("extraHeaders") or start.get("extraHeaders")
                       or start.get("extra_headers"))
            fmt = dict_field(start, "mediaFormat")
            return StreamStart(stream_id=text(start.get("streamId") or message.get("streamId")),
                               call_id=text(start.get("callId")), account_id=text(start.get("accountId")),
                               parameters=_extra_headers(headers),
                               encoding=text(fmt.get("encoding")) or "audio/x-mulaw",
                               sample_rate=sample_rate(fmt.get("sampleRate")))
        if event == "playedStream":
            return StreamMark(name=text(message.get("name")))
        if event == "dtmf":
            return dtmf_of(message)
        if event == "stop":
            return StreamStop()
        return StreamIgnored(text(event))

    def media(self, stream_id: str, payload: str) -> dict:
        return {"event": "playAudio", "media": {"contentType": "audio/x-mulaw", "sampleRate": 8000,
                                                "payload": payload}}

    def mark(self, stream_id: str, name: str) -> dict:
        return {"event": "checkpoint", "streamId": stream_id, "name": name}

    def clear(self, stream_id: str) -> dict:
        return {"event": "clearAudio", "streamId": stream_id}


DIALECT = PlivoMedia()
