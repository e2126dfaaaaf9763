"""Recordings in the sandbox: their audio served as Twilio serves it (WAV by default, MP3 with the
extension), generated piece by piece with byte ranges, and the recordings a simulated call leaves.

Media: `GET /2010-04-01/Accounts/{Sid}/Recordings/{RecordingSid}(.wav|.mp3)` answers the whole file
(200) or one byte range (`Range: bytes=a-b`, `a-`, `-n`: 206 with Content-Range; a range past the
end: 416 with `bytes */size`); several ranges in one header are answered with the whole file, as
RFC 9110 allows. `Accept-Ranges: bytes` either way. The audio is never built whole in memory: any
stretch of it is computed from its offset (sandbox.media), so an hour-long recording streams in
the same memory as a three-second one.

Simulated calls (sandbox.simulate): a `<Start><Recording>` or `<Dial record=…>` records the call
from then on, a `<Record>` records the caller's message; when the caller hangs up the recording is
completed and its `recordingStatusCallback` posted (RecordingSid, RecordingUrl, RecordingStatus,
RecordingDuration, …), and a `<Record transcribe>`'s `transcribeCallback` gets a transcription.
"""
from __future__ import annotations

import re
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpResponse, StreamingHttpResponse

from sandbox import media, twilio_json
from sandbox.models import SandboxCall

CHUNK_SIZE = 64 * 1024
RANGE = re.compile(r"bytes=(\d*)-(\d*)")
SANDBOX_TRANSCRIPT = "Hello, this is a message left in the sandbox. Please call me back."


# ---------------------------------------------------------------- media with byte ranges

def _byte_range(header: str, size: int) -> tuple[int, int] | None | bool:
    """(first, last) of a single `Range: bytes=…` header; None to answer the whole file (no header,
    several ranges, not a bytes range); False when it cannot be satisfied."""
    match = RANGE.fullmatch(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last n bytes
        n = int(last)
        if n == 0:
            return False
        return max(0, size - n), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if last and int(last) < start:
        return None  # invalid: ignored, as RFC 9110 says
    if start >= size:
        return False
    return start, end


def media_response(seconds: int, extension: str, range_header: str) -> HttpResponse:
    """The recording's audio, all of it or the asked-for range, streamed."""
    content_type, source = (("audio/mpeg", media.mp3_source(seconds)) if extension == ".mp3"
                            else ("audio/x-wav", media.wav_source(seconds)))
    wanted = _byte_range(range_header, source.size) if range_header else None
    if wanted is False:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{source.size}"
        response["Accept-Ranges"] = "bytes"
        return response
    first, last = wanted if wanted else (0, source.size - 1)
    response = StreamingHttpResponse(source.chunks(first, last, CHUNK_SIZE), content_type=content_type,
                                     status=206 if wanted else 200)
    response["Content-Length"] = str(last - first + 1)
    response["Accept-Ranges"] = "bytes"
    if wanted:
        response["Content-Range"] = f"bytes {first}-{last}/{source.size}"
    return response


# ---------------------------------------------------------------- what a simulated call records

@dataclass
class PendingRecording:
    """A recording callback to post when the caller hangs up."""

    status_callback: str
    transcribe_callback: str = ""


def _attribute(verb: ET.Element, name: str) -> str:
    return verb.get(name) or ""


def note_twiml(pending: list[PendingRecording], live: SandboxCall, root: ET.Element,
               start: Callable[[SandboxCall], SandboxCall]) -> None:
    """What this TwiML records: `<Start><Recording>`, `<Dial record>` and `<Record>` start the call's
    recording (`start`, the emulator's service) and leave their callbacks to post at hang-up."""
    verbs = [*root.findall("Start/Recording"), *[d for d in root.findall("Dial")
                                                 if (d.get("record") or "do-not-record") != "do-not-record"],
             *root.findall("Record")]
    for verb in verbs:
        start(live)
        callback = _attribute(verb, "recordingStatusCallback")
        transcribe = ""
        if verb.tag == "Record" and (verb.get("transcribe") or "").lower() == "true":
            transcribe = _attribute(verb, "transcribeCallback")
        if callback or transcribe:
            pending.append(PendingRecording(status_callback=callback, transcribe_callback=transcribe))


def hang_up(pending: list[PendingRecording], live: SandboxCall,
            post: Callable[[str, dict[str, str]], None]) -> None:
    """The caller hung up: the call's recording is completed and its callbacks posted."""
    if not live.recording_sid:
        return
    if live.recording_status != "completed":
        live.recording_status = "completed"
        live.save(update_fields=["recording_status", "date_updated"])
    url = f"{twilio_json.RECORDING_MEDIA_ROOT}" + twilio_json.account_path(
        live.account.sid, f"/Recordings/{live.recording_sid}")
    common = {"CallSid": live.sid, "RecordingSid": live.recording_sid, "RecordingUrl": url}
    for item in pending:
        if item.status_callback:
            post(item.status_callback, {**common, "RecordingStatus": "completed",
                                         "RecordingDuration": str(twilio_json.RECORDING_SECONDS),
                                         "RecordingChannels": "1", "RecordingSource": "RecordVerb",
                                         "RecordingStartTime": twilio_json.rfc2822(live.date_created)})
        if item.transcribe_callback:
            post(item.transcribe_callback, {**common, "TranscriptionSid": "TR" + secrets.token_hex(16),
                                            "TranscriptionStatus": "completed",
                                            "TranscriptionText": SANDBOX_TRANSCRIPT, "TranscriptionType": "fast"})
