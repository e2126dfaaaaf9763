"""The sandbox's realtime AI: the subset of OpenAI's Realtime API (WebSocket, GA event names) that
the media gateway uses, served by our own ASGI app at /sandbox/ai/v1/realtime, so the official
`openai` SDK connects to it with base_url `<PUBLIC_BASE_URL>/sandbox/ai/v1` (a `sandbox-ai` agent).

Deterministic. It "hears" speech as energy in the μ-law frames appended (sandbox.realtime_audio):
`input_audio_buffer.speech_started` on the first loud frame, `speech_stopped` after the session's
`silence_duration_ms` of quiet audio (counted in audio time, not wall time), then the caller's words
(read from the frames) as the input transcription, and a response. It answers:
- a tool call when the caller asks and the session offers the tool: "transfer", "sales", "support",
  "human", "agent", "person" → `transfer` (the target named, else the first the tool lists);
  "text me", "sms", "send me" → `send_sms`; "goodbye", "bye", "hang up" → `end_call` (else `hangup`);
  a key pressed (told as a user message "The caller pressed N"): 0 → transfer, 9 → end_call;
- "fail" in the words → the socket is dropped (close 1011), as an endpoint failing mid-call would be;
- otherwise speech: "You said: …", as audio frames (paced at real time × SANDBOX_AI_PACE) and its
  transcript. A response.create with instructions quoting a sentence ("…: \"Hello\"") says that sentence.
It cancels its response when the caller speaks over it, and answers conversation.item.truncate.
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import time
from collections import deque

from django.conf import settings

from core.consumers import StreamConsumer
from sandbox import realtime_audio as audio

DEFAULT_SILENCE_MS = 500
TRANSFER_WORDS = {"transfer", "sales", "support", "human", "agent", "person", "operator"}
SMS_PHRASES = ("text me", "sms", "send me")
BYE_WORDS = {"goodbye", "bye", "hang up", "hangup"}
# The client events emulated, and the method answering each.
HANDLERS = {"session.update": "session_update", "input_audio_buffer.append": "append",
            "input_audio_buffer.commit": "commit", "input_audio_buffer.clear": "clear_input",
            "response.create": "response_create", "response.cancel": "response_cancel",
            "conversation.item.create": "item_create", "conversation.item.truncate": "item_truncate"}
# What the last sessions received and did, newest last (tests and the walk-through read it).
RECENT: deque[dict] = deque(maxlen=50)
# Where each session's log is appended when it ends (sandbox.realtime_server, for the benchmark).
LOG_FILE = os.environ.get("SANDBOX_AI_LOG", "")


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(10)}"


def quoted(instructions: str) -> str:
    match = re.search(r'"([^"]+)"', instructions or "")
    return match.group(1) if match else ""


class RealtimeEmulator(StreamConsumer):
    """No database here (core.consumers: no task and close_old_connections per message)."""

    async def connect(self) -> None:
        headers = dict(self.scope.get("headers") or [])
        if not headers.get(b"authorization", b"").startswith(b"Bearer "):
            await self.close(code=4001)  # the API refuses a connection without a key
            return
        await self.accept()
        self.session: dict = {"type": "realtime", "id": _id("sess"), "tools": [],
                              "audio": {"input": {"turn_detection": {"type": "server_vad"}}}}
        self.log = {"events": [], "truncated": [], "tool_calls": [], "heard": [], "closed": False}
        RECENT.append(self.log)
        self.in_speech = False
        self.quiet_ms = 0
        self.audio_ms = 0
        self.pending = b""
        self.words = bytearray()
        self.user_item = ""
        self.last_user_text = ""
        self.last_output: dict | None = None
        self.responding: asyncio.Task | None = None
        self.sent_ms: dict[str, int] = {}
        self.closed = False
        await self.emit({"type": "session.created", "session": self.session})

    async def disconnect(self, code: int) -> None:
        self.closed = True
        self.log["closed"] = True
        if LOG_FILE:
            with open(LOG_FILE, "a") as out:
                out.write(json.dumps(self.log) + "\n")
        if self.responding:
            self.responding.cancel()

    async def emit(self, event: dict) -> None:
        if not self.closed:
            await self.send(text_data=json.dumps({"event_id": _id("event"), **event}))

    async def error(self, message: str, code: str = "invalid_request", **extra) -> None:
        await self.emit({"type": "error", "error": {"type": "invalid_request_error", "code": code,
                                                    "message": message, **extra}})

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            event = json.loads(text_data or "")
        except ValueError:
            await self.error("The message is not JSON", "invalid_json")
            return
        kind = event.get("type") if isinstance(event, dict) else None
        if kind != "input_audio_buffer.append":
            self.log["events"].append(kind)
        handler = HANDLERS.get(kind) if isinstance(kind, str) else None
        if handler is None:
            await self.error(f"Unknown event type {kind!r}", "unknown_event")
            return
        await getattr(self, handler)(event)

    async def session_update(self, event: dict) -> None:
        session = event.get("session") or {}
        if session.get("type") not in (None, "realtime"):
            await self.error("Only realtime sessions are emulated", "invalid_value", param="session.type")
            return
        for key, value in session.items():
            self.session[key] = value
        self.log.setdefault("configured_at", time.monotonic())
        self.log["session"] = self.session
        await self.emit({"type": "session.updated", "session": self.session})

    def _turn(self) -> dict:
        return ((self.session.get("audio") or {}).get("input") or {}).get("turn_detection") or {}

    async def append(self, event: dict) -> None:
        data = self.pending + audio.unb64(event.get("audio") or "")
        whole = len(data) - len(data) % audio.FRAME_BYTES
        self.pending = data[whole:]
        for i in range(0, whole, audio.FRAME_BYTES):
            await self.hear(data[i:i + audio.FRAME_BYTES])

    async def hear(self, frame: bytes) -> None:
        self.audio_ms += audio.FRAME_MS
        seq = audio.sequence(frame)
        if seq is not None:
            self.log["heard"].append((seq, time.monotonic()))
            self.log.setdefault("caller_range", seq >> 20)
        turn = self._turn()
        if not turn:
            return
        if audio.is_speech(frame):
            self.quiet_ms = 0
            self.words += audio.words_in(frame)
            if not self.in_speech:
                self.in_speech = True
                self.user_item = _id("item")
                if self.responding and not self.responding.done() and turn.get("interrupt_response", True):
                    self.responding.cancel()
                await self.emit({"type": "input_audio_buffer.speech_started", "item_id": self.user_item,
                                 "audio_start_ms": self.audio_ms - audio.FRAME_MS})
            return
        if not self.in_speech:
            return
        self.quiet_ms += audio.FRAME_MS
        if self.quiet_ms >= int(turn.get("silence_duration_ms") or DEFAULT_SILENCE_MS):
            self.in_speech = False
            self.log.setdefault("speech_stopped_at", []).append(time.monotonic())
            await self.emit({"type": "input_audio_buffer.speech_stopped", "item_id": self.user_item,
                             "audio_end_ms": self.audio_ms - self.quiet_ms})
            await self.commit({})
            if turn.get("create_response", True):
                self.start_response({})

    async def commit(self, event: dict) -> None:
        item = self.user_item or _id("item")
        text = self.words.decode("utf-8", "replace").strip()
        self.words = bytearray()
        await self.emit({"type": "input_audio_buffer.committed", "item_id": item, "previous_item_id": None})
        await self.emit({"type": "conversation.item.added", "item": {
            "id": item, "type": "message", "role": "user", "status": "completed",
            "content": [{"type": "input_audio", "transcript": None}]}})
        self.last_user_text, self.last_output = text, None
        if ((self.session.get("audio") or {}).get("input") or {}).get("transcription"):
            await self.emit({"type": "conversation.item.input_audio_transcription.completed", "item_id": item,
                             "content_index": 0, "transcript": text or "(inaudible)"})

    async def clear_input(self, event: dict) -> None:
        self.pending, self.words, self.in_speech = b"", bytearray(), False
        await self.emit({"type": "input_audio_buffer.cleared"})

    async def item_create(self, event: dict) -> None:
        item = dict(event.get("item") or {})
        item.setdefault("id", _id("item"))
        if item.get("type") == "function_call_output":
            self.last_output = item
        elif item.get("type") == "message" and item.get("role") == "user":
            self.last_user_text = " ".join(str(part.get("text", "")) for part in item.get("content") or [])
            self.last_output = None
        await self.emit({"type": "conversation.item.added", "item": item})

    async def item_truncate(self, event: dict) -> None:
        item_id, end = event.get("item_id"), event.get("audio_end_ms")
        if item_id not in self.sent_ms:
            await self.error(f"Item {item_id!r} is not an assistant audio item", "item_not_found")
            return
        if not isinstance(end, int) or end < 0 or end > self.sent_ms[item_id]:
            await self.error(f"audio_end_ms {end!r} is past the item's {self.sent_ms[item_id]} ms of audio",
                             "invalid_value", param="audio_end_ms")
            return
        self.log["truncated"].append({"item_id": item_id, "audio_end_ms": end})
        await self.emit({"type": "conversation.item.truncated", "item_id": item_id, "content_index": 0,
                         "audio_end_ms": end})

    async def response_create(self, event: dict) -> None:
        self.start_response(event.get("response") or {})

    async def response_cancel(self, event: dict) -> None:
        if self.responding and not self.responding.done():
            self.responding.cancel()

    def start_response(self, options: dict) -> None:
        if self.responding and not self.responding.done():
            self.responding.cancel()
        self.responding = asyncio.get_running_loop().create_task(self.respond(options))

    # ------------------------------------------------------------------ deciding and speaking

    def _tools(self) -> dict[str, dict]:
        return {tool.get("name"): tool for tool in self.session.get("tools") or [] if isinstance(tool, dict)}

    def decide(self, options: dict) -> tuple[str, dict] | str:
        """A tool call (name, arguments) or the words to say."""
        if options.get("instructions"):
            return quoted(options["instructions"]) or "Hello, how can I help?"
        if self.last_output is not None:
            output = str(self.last_output.get("output", ""))
            return f"Sorry, I could not do that. {output[:120]}" if "error" in output.lower() else "Done."
        text = self.last_user_text.lower()
        words = set(re.findall(r"[a-z]+", text))
        tools = self._tools()
        pressed = re.search(r"pressed (\w)", text)
        digit = pressed.group(1) if pressed else ""
        if "transfer" in tools and (words & TRANSFER_WORDS or digit == "0"):
            targets = (((tools["transfer"].get("parameters") or {}).get("properties") or {}).get("target") or {}
                       ).get("enum") or []
            target = next((t for t in targets if str(t).lower() in words), targets[0] if targets else "")
            return "transfer", {"target": target}
        if "send_sms" in tools and any(phrase in text for phrase in SMS_PHRASES):
            return "send_sms", {"body": "Here is the information you asked for."}
        if words & BYE_WORDS or "hang up" in text or digit == "9":
            for name in ("end_call", "hangup"):
                if name in tools:
                    return name, {"reason": "the caller said goodbye"}
        if not text:
            return "Sorry, I did not catch that."
        return f"You said: {self.last_user_text.strip()[:120]}. How else can I help?"

    async def respond(self, options: dict) -> None:
        response_id = _id("resp")
        decision = self.decide(options)
        if "fail" in self.last_user_text.lower().split() and not options.get("instructions"):
            await self.close(code=1011)
            return
        await self.emit({"type": "response.created", "response": {"id": response_id, "status": "in_progress",
                                                                  "output": []}})
        if isinstance(decision, tuple):
            await self.call_tool(response_id, *decision)
        else:
            await self.speak(response_id, decision)

    async def call_tool(self, response_id: str, name: str, arguments: dict) -> None:
        item_id, call_id = _id("item"), _id("call")
        args = json.dumps(arguments)
        item = {"id": item_id, "type": "function_call", "status": "completed", "name": name, "call_id": call_id,
                "arguments": args}
        self.log["tool_calls"].append({"name": name, "arguments": arguments})
        await self.emit({"type": "response.output_item.added", "response_id": response_id, "output_index": 0,
                         "item": {**item, "status": "in_progress", "arguments": ""}})
        await self.emit({"type": "response.function_call_arguments.delta", "response_id": response_id,
                         "item_id": item_id, "output_index": 0, "call_id": call_id, "delta": args})
        await self.emit({"type": "response.function_call_arguments.done", "response_id": response_id,
                         "item_id": item_id, "output_index": 0, "call_id": call_id, "name": name, "arguments": args})
        await self.emit({"type": "response.output_item.done", "response_id": response_id, "output_index": 0,
                         "item": item})
        await self.emit({"type": "response.done", "response": {"id": response_id, "status": "completed",
                                                               "output": [item]}})

    async def speak(self, response_id: str, words: str) -> None:
        item_id = _id("item")
        self.sent_ms[item_id] = 0
        item = {"id": item_id, "type": "message", "role": "assistant", "status": "in_progress", "content": []}
        common = {"response_id": response_id, "item_id": item_id, "output_index": 0, "content_index": 0}
        await self.emit({"type": "response.output_item.added", "response_id": response_id, "output_index": 0,
                         "item": item})
        await self.emit({"type": "conversation.item.added", "item": item})
        self.spoken = getattr(self, "spoken", 0)
        frames = audio.speech_frames(words, start_seq=self.spoken)
        self.spoken += len(frames)
        pace = float(getattr(settings, "SANDBOX_AI_PACE", 1.0))
        spoken_words = words.split()
        status = "completed"
        started = time.monotonic()
        try:
            for n, data in enumerate(frames):
                if n < len(spoken_words):
                    await self.emit({"type": "response.output_audio_transcript.delta", **common,
                                     "delta": spoken_words[n] + " "})
                if n == 0:
                    self.log.setdefault("first_audio_at", []).append(time.monotonic())
                await self.emit({"type": "response.output_audio.delta", **common, "delta": audio.b64(data)})
                self.log.setdefault("sent", []).append((audio.sequence(data), time.monotonic()))
                self.sent_ms[item_id] += audio.FRAME_MS
                if pace > 0:  # real time: the next frame when this one would have finished playing
                    delay = started + (n + 1) * audio.FRAME_MS / 1000 * pace - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
        except asyncio.CancelledError:
            status = "cancelled"
        await self.emit({"type": "response.output_audio.done", **common})
        await self.emit({"type": "response.output_audio_transcript.done", **common, "transcript": words})
        done_item = {**item, "status": "completed" if status == "completed" else "incomplete",
                     "content": [{"type": "output_audio", "transcript": words}]}
        await self.emit({"type": "response.output_item.done", "response_id": response_id, "output_index": 0,
                         "item": done_item})
        await self.emit({"type": "response.done", "response": {"id": response_id, "status": status,
                                                               "output": [done_item]}})
