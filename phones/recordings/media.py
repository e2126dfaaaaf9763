"""Streaming a recording's audio from its provider to a browser, a chunk at a time.

Only ever from the provider's own API for the recording's connection (PhoneProvider.recording_media
builds the URL from the connection: Twilio's API host or the connection's guarded `apiBaseUrl`),
never from the URL a callback stored. A `Range` header (one or more byte ranges, nothing else) is
passed on, and the provider's 206/Content-Range/Accept-Ranges passed back, so a player can seek.

Memory stays bounded whatever the recording's length: the provider's answer is read as the client
reads ours. Under ASGI the chunks are pulled by an async iterator (Django would otherwise read a
synchronous one whole before sending it); under WSGI the synchronous iterator is streamed as is.
"""
from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Iterator

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpResponse, StreamingHttpResponse

from core.errors import Conflict, DomainError, NotFound
from phones.recordings import selectors
from providers.base import MediaStream, ProviderError
from providers.registry import provider_for

# bytes=a-b, a-, -n, comma-separated: anything else is not passed on (the whole file is answered).
RANGE = re.compile(r"bytes=\s*(\d*-\d*)(\s*,\s*\d*-\d*)*\s*")
MAX_RANGE_LENGTH = 200


def byte_range(header: str | None) -> str | None:
    """The client's Range header when it is a byte range worth passing on; else None."""
    if not header or len(header) > MAX_RANGE_LENGTH or not RANGE.fullmatch(header) or header.strip() == "bytes=-":
        return None
    return header.strip()


def _sync_chunks(audio: MediaStream) -> Iterator[bytes]:
    try:
        yield from audio.chunks
    finally:
        audio.close()


async def _async_chunks(audio: MediaStream) -> AsyncIterator[bytes]:
    """The provider's chunks, each read in a worker thread as the client takes them."""
    read = sync_to_async(next, thread_sensitive=False)
    try:
        while True:
            chunk = await read(audio.chunks, None)
            if chunk is None:
                return
            yield chunk
    finally:
        await sync_to_async(audio.close, thread_sensitive=False)()


def _fetch(recording, range_header: str | None) -> MediaStream:
    if recording.connection is None:
        raise Conflict("This recording's provider connection is gone: its audio cannot be fetched",
                       code="no_connection")
    try:
        return provider_for(recording.connection).recording_media(recording.provider_sid, byte_range=range_header)
    except ProviderError as exc:
        if exc.status == 404:
            raise NotFound("The provider no longer has this recording's audio", code="media_not_found") from exc
        raise exc.as_domain_error() from exc
    except ValueError as exc:
        raise DomainError(str(exc), code="provider_refused", status_code=422) from exc


def stream_response(request, public_id: str, *, expires: int) -> HttpResponse:
    """The recording's audio (or the asked-for range) as the provider sends it, streamed."""
    recording = selectors.recording_for_media(public_id=public_id)
    if recording is None:
        raise NotFound("No such recording")
    audio = _fetch(recording, byte_range(request.headers.get("Range")))
    if audio.status == 416:
        audio.close()
        response = HttpResponse(status=416)
    else:
        asgi = isinstance(getattr(request, "_request", request), ASGIRequest)
        chunks = _async_chunks(audio) if asgi else _sync_chunks(audio)
        response = StreamingHttpResponse(chunks, status=206 if audio.status == 206 else 200,
                                         content_type=audio.content_type)
        if audio.content_length is not None:
            response["Content-Length"] = str(audio.content_length)
        response["Content-Disposition"] = f'inline; filename="{public_id}.mp3"'
    if audio.content_range:
        response["Content-Range"] = audio.content_range
    response["Accept-Ranges"] = audio.accept_ranges or ("bytes" if audio.status in (206, 416) else "none")
    # A browser may keep what it fetched while the link is valid, never share it.
    response["Cache-Control"] = f"private, max-age={max(0, expires - int(time.time()))}"
    return response
