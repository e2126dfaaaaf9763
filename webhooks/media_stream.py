"""The media gateway's WebSocket entry: `/media/stream` (Twilio's, and Telnyx's or Plivo's told by
their `start`; `/media/stream/<provider>` names it), served by the ASGI app (config.asgi) beside HTTP.

Transport only, like the webhook views: the provider's messages are read by its dialect
(providers/<vendor>/media.py), the upgrade and the stream are verified here, and what the call
means is the session's (phones.agents.gateway.session).

Verification, before anything is written:
- the stream token (phones.stream_tokens) from the `start` message's custom parameters, always:
  missing, tampered with, expired, for another call, or naming another org's number or agent;
- the provider's signature on the upgrade request where it sends one (Twilio signs the wss URL
  with X-Twilio-Signature, as a webhook), checked by the number's connection against the URL built
  from PUBLIC_BASE_URL (never the Host header);
- the first message that matters must be `start`.
Any of these failing closes the socket with 1008 (policy violation).
"""
from __future__ import annotations

import json
import logging

from django.conf import settings

from core.consumers import StreamConsumer
from phones.agents.gateway.context import StreamContext, db, phone_provider, stream_context
from phones.agents.gateway.session import CallSession
from phones.stream_tokens import read_stream_token
from providers.media import (
    StreamConnected,
    StreamDtmf,
    StreamIgnored,
    StreamMark,
    StreamMedia,
    StreamProtocolError,
    StreamStart,
    StreamStop,
)
from providers.plivo.media import DIALECT as PLIVO
from providers.telnyx.media import DIALECT as TELNYX
from providers.twilio.media import DIALECT as TWILIO

logger = logging.getLogger(__name__)

POLICY_VIOLATION = 1008
DIALECTS = {"twilio": TWILIO, "telnyx": TELNYX, "plivo": PLIVO}
# On /media/stream (the URL every provider's markup names), Telnyx and Plivo are told from Twilio by
# their `start`; Twilio's is the default.
DETECTED = (PLIVO, TELNYX)
# Which header carries each provider's signature on the upgrade, where it sends one.
SIGNATURE_HEADERS = {"twilio": "x-twilio-signature"}
MAX_MESSAGE_BYTES = 64 * 1024


class UpgradeRequest:
    """The upgrade request as a provider's validate_webhook reads a request: a signed GET, no body."""

    method = "GET"
    body = b""
    content_type = ""

    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = _Headers(headers)
        self.POST: dict[str, str] = {}


class _Headers(dict):
    def get(self, key, default=None):
        return super().get(key.lower(), default)


def public_ws_url(path: str, query: str) -> str:
    base = settings.PUBLIC_BASE_URL
    base = "wss://" + base.removeprefix("https://") if base.startswith("https://") else \
        "ws://" + base.removeprefix("http://")
    return f"{base}{path}" + (f"?{query}" if query else "")


def signature_ok(context: StreamContext, headers: dict[str, str], url: str) -> bool:
    return phone_provider(context).validate_webhook(UpgradeRequest(headers), url)


class MediaStreamConsumer(StreamConsumer):
    """A StreamConsumer (core.consumers: no task and close_old_connections per frame); it touches
    the database only through phones.agents.gateway.context.db, which closes old connections in
    the thread it uses."""

    async def connect(self) -> None:
        provider = self.scope["url_route"]["kwargs"].get("provider", "")
        self.detect = not provider
        self.dialect = DIALECTS.get(provider or "twilio")
        if self.dialect is None:
            await self.close()
            return
        self.provider = provider or "twilio"
        self.headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in self.scope.get("headers", [])}
        self.session: CallSession | None = None
        self.refused = False
        await self.accept()

    async def refuse(self, why: str) -> None:
        logger.warning("media stream refused (%s): %s", self.provider, why)
        self.refused = True
        await self.close(code=POLICY_VIOLATION)

    async def disconnect(self, code: int) -> None:
        if self.session is not None:
            await self.session.close()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.refused:
            return
        try:
            if text_data is None or len(text_data) > MAX_MESSAGE_BYTES:
                raise StreamProtocolError("not a text message of a sane size")
            message = json.loads(text_data)
            if not isinstance(message, dict):
                raise StreamProtocolError("not a JSON object")
            if self.detect and message.get("event") == "start":
                self.dialect = next((d for d in DETECTED if d.recognises(message)), TWILIO)
                self.provider, self.detect = self.dialect.name, False
            event = self.dialect.parse(message)
        except (ValueError, StreamProtocolError) as exc:
            if self.session is None:
                await self.refuse(f"bad message before start: {exc}")
            return
        session = self.session
        if session is None:
            if isinstance(event, StreamConnected | StreamIgnored):
                return
            if not isinstance(event, StreamStart):
                await self.refuse(f"{type(event).__name__} before start")
                return
            await self.begin(event)
            return
        if isinstance(event, StreamMedia):
            await session.caller_media(event)
        elif isinstance(event, StreamMark):
            await session.caller_mark(event)
        elif isinstance(event, StreamDtmf):
            await session.caller_dtmf(event)
        elif isinstance(event, StreamStop):
            await session.close()
        elif isinstance(event, StreamStart):
            await self.refuse("a second start")

    async def begin(self, start: StreamStart) -> None:
        claims = read_stream_token(start.parameters.get("token"))
        if claims is None:
            await self.refuse("missing, forged or expired stream token")
            return
        context = await db(stream_context)(claims, start.call_id)
        if context is None:
            await self.refuse("the token does not bind this call")
            return
        header = SIGNATURE_HEADERS.get(self.provider, "")
        if header and header in self.headers:
            url = public_ws_url(self.scope["path"], self.scope.get("query_string", b"").decode("latin-1"))
            if not await db(signature_ok)(context, self.headers, url):
                await self.refuse("the provider's signature on the upgrade does not match")
                return
        self.session = CallSession(context, stream_id=start.stream_id, dialect=self.dialect,
                                   send=self._send_text, close=self.close)
        await self.session.start()

    async def _send_text(self, text: str) -> None:
        await self.send(text_data=text)
