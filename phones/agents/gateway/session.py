"""One AI call on the gateway: the caller's audio to the realtime AI and the AI's audio back, the
AI reached through the official openai SDK's realtime client (AsyncOpenAI(...).realtime.connect).

Audio is G.711 μ-law 8 kHz both ways (`audio/pcmu`), passed through as the base64 it arrives in.

- The session: the agent's instructions (and language), voice, tools as function definitions,
  server-side voice activity detection, input transcription; the greeting is spoken first
  (response.create quoting it).
- Barge-in: each AI audio chunk sent to the provider is followed by a mark; the provider echoes a
  mark once the audio before it has played. When the caller starts speaking
  (input_audio_buffer.speech_started) while AI audio is still unplayed, the provider is told to
  `clear` its buffer and the assistant's item is truncated at the milliseconds actually played.
- Tools run on the server (tools.run, in a thread); their result goes back as function_call_output.
  After a transfer or hang-up the call is the provider's again: the stream ends.
- Transcript: the caller's turns (input transcription) and the agent's (audio transcript), with
  the time each began, and the tool calls; stored on the call with the AI seconds when the session
  ends, once (context.ai_finish), whatever ends it: a stop, a hang-up, the socket closing.
- Failure: the AI cannot be reached, or its connection drops mid-call → ai_status "failed" and the
  stream closed: the provider runs the next verb, whose answer is the apology and the number's
  fallback (phones.calls.ai / voice): never dead air.
- The agent's max call length ends the call at the provider.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from openai import AsyncOpenAI

from phones.agents.gateway import context as store
from phones.agents.gateway import tools
from phones.agents.gateway.context import StreamContext, db
from phones.models import Call
from providers.media import MediaDialect, StreamDtmf, StreamMark, StreamMedia

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT = 5.0
SILENCE_DURATION_MS = 500
TRANSCRIPTION_MODEL = "gpt-4o-mini-transcribe"
# Tools after which the call is no longer ours: the provider ends the stream.
HANDS_OFF = {"transfer", "hangup"}
# How much AI audio goes between two marks (the played position is known to this precision).
MARK_EVERY_MS = 100
# Base64 needs no JSON escaping: an AI audio frame is joined into the provider's message as it is.
BASE64 = re.compile(r"[A-Za-z0-9+/=]*")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


_clients: dict[tuple[str, str], AsyncOpenAI] = {}


def realtime_client(context: StreamContext) -> AsyncOpenAI:
    """The SDK client for the agent's AI connection, one per key and endpoint in this process (each
    call's realtime session is its own WebSocket; the client only holds how to open one)."""
    key = (context.ai_api_key, context.ai_base_url)
    client = _clients.get(key)
    if client is None:
        if len(_clients) > 1000:
            _clients.clear()
        client = _clients[key] = AsyncOpenAI(api_key=context.ai_api_key, base_url=context.ai_base_url,
                                             max_retries=0)
    return client


def session_config(context: StreamContext) -> dict:
    agent = context.agent
    instructions = agent.instructions or "You are a helpful phone assistant."
    if agent.language and not agent.language.lower().startswith("en"):
        instructions += f"\nSpeak {agent.language} unless the caller speaks another language."
    return {
        "type": "realtime",
        "model": agent.model,
        "instructions": instructions,
        "output_modalities": ["audio"],
        "audio": {
            "input": {"format": {"type": "audio/pcmu"},
                      "transcription": {"model": TRANSCRIPTION_MODEL, "language": agent.language[:2] or "en"},
                      "turn_detection": {"type": "server_vad", "silence_duration_ms": SILENCE_DURATION_MS,
                                         "create_response": True, "interrupt_response": True}},
            "output": {"format": {"type": "audio/pcmu"}, "voice": agent.voice},
        },
        "tools": tools.definitions(context),
        "tool_choice": "auto",
    }


def media_around(dialect: MediaDialect, stream_id: str) -> tuple[str, str] | None:
    """The dialect's media message written once, as the text before and after its payload: each AI
    frame (50 a second) is joined into it rather than a dict built and dumped per frame. None when
    the slot cannot be told apart (the stream id carries it): then each frame is dumped."""
    slot = "\0"
    parts = json.dumps(dialect.media(stream_id, slot)).split(json.dumps(slot)[1:-1])
    return (parts[0], parts[1]) if len(parts) == 2 else None


class CallSession:
    def __init__(self, context: StreamContext, *, stream_id: str, dialect: MediaDialect,
                 send: Callable[[str], Awaitable[None]], close: Callable[[], Awaitable[None]],
                 connect: Callable[[StreamContext], object] | None = None) -> None:
        self.context = context
        self.stream_id = stream_id
        self.dialect = dialect
        self._send = send
        self._close_stream = close
        self._connect = connect or (lambda ctx: realtime_client(ctx).realtime.connect(model=ctx.agent.model))
        self.manager = None
        self.ai = None
        self.reader: asyncio.Task | None = None
        self.timer: asyncio.Task | None = None
        self.started_at: float | None = None
        self.finished = False
        self.handed_off = False
        self.ending = False
        self.transcript: list[dict] = []
        self.speech_at: dict[str, str] = {}
        # Barge-in bookkeeping: marks sent and not yet echoed (name, item, ms of the item's audio
        # sent up to it), the ms of each item sent and played.
        self.marks: deque[tuple[str, str, int]] = deque()
        self.mark_seq = 0
        self.current_item = ""
        self.sent_ms: dict[str, int] = {}
        self.played_ms: dict[str, int] = {}
        self.item_at: dict[str, str] = {}
        self.ai_frames = 0
        self.unmarked_ms = 0
        self.provider_gone = False
        self.media_around = media_around(dialect, stream_id)

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        await db(store.ai_connecting)(self.context)
        try:
            self.manager = self._connect(self.context)
            self.ai = await asyncio.wait_for(self.manager.enter(), CONNECT_TIMEOUT)
            await self.ai.session.update(session=session_config(self.context))
            if self.context.agent.greeting:
                await self.ai.response.create(response={
                    "instructions": f'Greet the caller by saying exactly: "{self.context.agent.greeting}"'})
        except Exception as exc:  # unreachable, refused, timed out: the caller must not hear silence
            logger.warning("AI call %s: the AI endpoint could not be reached: %r", self.context.call_sid, exc)
            await self.fail()
            return
        self.started_at = time.monotonic()
        await db(store.ai_active)(self.context)
        loop = asyncio.get_running_loop()
        self.reader = loop.create_task(self._read_ai())
        self.timer = loop.create_task(self._limit())

    async def _limit(self) -> None:
        await asyncio.sleep(self.context.agent.max_call_seconds)
        logger.info("AI call %s: the agent's max call length (%ss) reached", self.context.call_sid,
                    self.context.agent.max_call_seconds)
        self.transcript.append({"role": "tool", "text": "the call reached the agent's maximum length", "at": _now()})
        await db(tools.hang_up)(self.context)
        await self.finish(Call.AIStatus.ENDED)

    async def fail(self) -> None:
        """The call's AI status `failed`, then the stream closed: the provider goes on with the verb
        after <Connect> (phones.calls.ai: a <Redirect> to our voice webhook), which, seeing the
        failure, answers with the apology and the number's fallback, as its voice routing falls back
        (assignments, the system phone, voicemail; in an IVR flow, the node's next)."""
        if self.finished:
            return
        self.handed_off = True
        await self.finish(Call.AIStatus.FAILED)
        try:
            await self._close_stream()
        except Exception:  # the provider's socket is already gone
            pass

    async def finish(self, status: str) -> None:
        """Close the AI session and record the call's AI part, once."""
        if self.finished:
            return
        self.finished = True
        current = asyncio.current_task()
        for task in (self.reader, self.timer):
            if task is not None and task is not current:
                task.cancel()
        if self.ai is not None:
            try:
                await self.ai.close()
            except Exception:  # already closed by the other side
                pass
        seconds = time.monotonic() - self.started_at if self.started_at is not None else 0
        transcript = sorted(self.transcript, key=lambda turn: turn["at"])
        await db(store.ai_finish)(self.context, status=status, transcript=transcript,
                                                      seconds=seconds)

    async def close(self) -> None:
        """The provider's socket closed (stop, hang-up, or a transfer ended the stream)."""
        await self.finish(Call.AIStatus.ENDED)

    # ------------------------------------------------------------------ the caller's side

    async def caller_media(self, event: StreamMedia) -> None:
        if self.ai is None or self.finished or self.handed_off:
            return
        # The payload is base64 already: passed through as it came.
        try:
            await self.ai.send_raw('{"type":"input_audio_buffer.append","audio":"' + event.payload + '"}')
        except Exception:  # the AI's socket closed: its reader sees it and falls back
            return

    async def caller_mark(self, event: StreamMark) -> None:
        while self.marks:
            name, item, ms = self.marks.popleft()
            self.played_ms[item] = max(self.played_ms.get(item, 0), ms)
            if name == event.name:
                break
        if self.ending and not self.marks:
            await self._end_now()

    async def caller_dtmf(self, event: StreamDtmf) -> None:
        if self.ai is None or self.finished or self.handed_off or not event.digit:
            return
        self.transcript.append({"role": "caller", "text": f"(pressed {event.digit})", "at": _now()})
        try:
            await self.ai.conversation.item.create(item={
                "type": "message", "role": "user",
                "content": [{"type": "input_text", "text": f"The caller pressed {event.digit} on the keypad."}]})
            await self.ai.response.create()
        except Exception:  # the AI's socket closed: its reader sees it and falls back
            return

    # ------------------------------------------------------------------ the AI's side

    async def _read_ai(self) -> None:
        try:
            while True:
                raw = await self.ai.recv_bytes()
                await self.on_ai_event(json.loads(raw))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the connection dropped or the endpoint failed mid-call
            if self.provider_gone:
                await self.finish(Call.AIStatus.ENDED)
            elif not self.finished and not self.handed_off:
                logger.warning("AI call %s: the AI session failed mid-call: %r", self.context.call_sid, exc)
                self.transcript.append({"role": "tool", "text": "the AI session failed", "at": _now()})
                await self.fail()

    async def on_ai_event(self, event: dict) -> None:
        kind = event.get("type")
        if kind == "response.output_audio.delta":
            await self._audio(event)
        elif kind == "response.output_audio.done":
            if self.unmarked_ms and event.get("item_id", "") in self.sent_ms and not self.handed_off:
                await self._mark(event.get("item_id", ""))
        elif kind == "input_audio_buffer.speech_started":
            self.speech_at[event.get("item_id", "")] = _now()
            await self._barge_in()
        elif kind == "conversation.item.input_audio_transcription.completed":
            self.transcript.append({"role": "caller", "text": str(event.get("transcript", "")).strip(),
                                    "at": self.speech_at.pop(event.get("item_id", ""), _now())})
        elif kind == "response.output_audio_transcript.done":
            item = event.get("item_id", "")
            turn = {"role": "agent", "text": str(event.get("transcript", "")).strip(),
                    "at": self.item_at.get(item, _now())}
            if item in self.sent_ms and self.played_ms.get(item, self.sent_ms[item]) < self.sent_ms[item]:
                turn["interrupted"] = True
            self.transcript.append(turn)
        elif kind == "response.function_call_arguments.done":
            await self._tool(event)
        elif kind == "error":
            logger.info("AI call %s: the AI reported %s", self.context.call_sid, event.get("error"))

    async def _audio(self, event: dict) -> None:
        if self.handed_off or self.finished:
            return
        item = event.get("item_id", "")
        delta = event.get("delta", "")
        if item != self.current_item:
            self.current_item = item
            self.item_at.setdefault(item, _now())
        # base64 of μ-law: 4 characters are 3 bytes, 8 bytes a millisecond.
        ms = (len(delta) * 3 // 4 - delta.count("=")) // 8
        self.sent_ms[item] = self.sent_ms.get(item, 0) + ms
        self.ai_frames += 1
        around = self.media_around
        await self._to_provider(around[0] + delta + around[1] if around and BASE64.fullmatch(delta)
                                else json.dumps(self.dialect.media(self.stream_id, delta)))
        # A mark after every MARK_EVERY_MS of audio: the provider echoes it once that audio has played.
        self.unmarked_ms += ms
        if self.unmarked_ms >= MARK_EVERY_MS:
            await self._mark(item)

    async def _mark(self, item: str) -> None:
        self.unmarked_ms = 0
        self.mark_seq += 1
        name = f"m{self.mark_seq}"
        self.marks.append((name, item, self.sent_ms[item]))
        await self._to_provider(json.dumps(self.dialect.mark(self.stream_id, name)))

    async def _to_provider(self, text: str) -> None:
        """Send to the provider's socket; once it has gone (the caller hung up), nothing more is sent."""
        if self.provider_gone:
            return
        try:
            await self._send(text)
        except Exception:  # the socket closed under us: its disconnect finishes the session
            self.provider_gone = True

    async def _barge_in(self) -> None:
        """The caller speaks over the AI: drop the unplayed audio at the provider and tell the AI
        how much of its item was heard."""
        if not self.current_item or (not self.marks and not self.unmarked_ms):
            return  # nothing of the AI's is waiting to be played
        item = self.current_item
        played = min(self.played_ms.get(item, 0), self.sent_ms.get(item, 0))
        await self._to_provider(json.dumps(self.dialect.clear(self.stream_id)))
        self.marks.clear()
        self.unmarked_ms = 0
        self.played_ms[item] = played
        self.current_item = ""
        await self.ai.conversation.item.truncate(item_id=item, content_index=0, audio_end_ms=played)

    async def _tool(self, event: dict) -> None:
        name = str(event.get("name", ""))
        try:
            arguments = json.loads(event.get("arguments") or "{}")
        except ValueError:
            arguments = None
        if not isinstance(arguments, dict):
            result = {"error": "the arguments are not a JSON object"}
        else:
            result = await db(tools.run)(self.context, name, arguments)
        shown = ", ".join(f"{k}={v}" for k, v in (arguments or {}).items()) if isinstance(arguments, dict) else ""
        outcome = f"error: {result['error']}" if "error" in result else "ok"
        self.transcript.append({"role": "tool", "text": f"{name}({shown}) → {outcome}", "at": _now()})
        await self.ai.conversation.item.create(item={"type": "function_call_output",
                                                     "call_id": str(event.get("call_id", "")),
                                                     "output": json.dumps(result)})
        if "error" in result:
            await self.ai.response.create()  # the model tells the caller what it can do instead
            return
        if name in HANDS_OFF:
            self.handed_off = True  # the provider ends the stream; finish() runs when it closes
            return
        if name == "end_call":
            self.ending = True
            if not self.marks:
                await self._end_now()
            return
        await self.ai.response.create()

    async def _end_now(self) -> None:
        self.ending = False
        self.handed_off = True
        await db(tools.hang_up)(self.context)
