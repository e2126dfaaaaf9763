"""The sandbox plays Twilio on a media stream: the caller's side of `<Connect><Stream>`.

Given the stream's URL and parameters (from the TwiML our voice webhook answered), it opens the
WebSocket as Twilio does (the upgrade signed with X-Twilio-Signature over the wss URL by the
account's auth token), sends `connected` and `start` (customParameters included), then a 20 ms
μ-law frame every 20 ms × pace (pace 0: as fast as the socket takes them), each with its timestamp.
It says each utterance (sandbox.realtime_audio's speech frames, which the sandbox's realtime AI
reads) once the agent's audio before it has finished playing, presses the digits given between
turns, and hangs up (`stop`) after the last answer, or when told the call left the stream (a
transfer or hang-up updated the call at the provider: Twilio ends the stream then).

Like Twilio it plays what it receives in real time: a frame every 20 ms from its buffer; a `mark`
is echoed once the audio sent before it has been played; `clear` empties the buffer and echoes
the marks still waiting.

It can speak Telnyx's or Plivo's stream instead (`dialect`), as their documentation shows them:
Telnyx's `connected`, `start` (stream_id, start.call_control_id, start.media_format PCMU,
start.custom_parameters), `media`, `dtmf`, `mark`, `stop`, reading our `media`/`mark`/`clear`;
Plivo's `start` (start.callId, start.streamId, start.mediaFormat, the Stream's extraHeaders as
`extra_headers` "name=value;…"), `media` (a Unix-millisecond timestamp), `dtmf`, `playedStream`
for a `checkpoint` played, `clearedAudio` for a `clearAudio` (the checkpoints it dropped never
come back), and no `stop`: Plivo closes the socket.
"""
from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sandbox import realtime_audio as audio

QUIET_AFTER_ANSWER_MS = 400  # the agent is done when nothing new played for this long
TURN_TIMEOUT_S = 15.0


@dataclass
class CallerReport:
    stream_sid: str
    frames_sent: int = 0
    frames_heard: int = 0
    marks_echoed: int = 0
    clears: int = 0
    heard: list[str] = field(default_factory=list)  # the agent's words, read from its audio, a turn each
    ended: str = ""
    closed_code: int | None = None
    # (seq, time received) of each AI frame that carried a sequence number (the benchmark's clock).
    received: list[tuple[int, float]] = field(default_factory=list)
    sent_at: dict[int, float] = field(default_factory=dict)
    speech_ended_at: list[float] = field(default_factory=list)
    first_audio_at: list[float] = field(default_factory=list)


class Transport:
    """A WebSocket as the caller needs it."""

    async def send(self, text: str) -> None: ...

    async def recv(self) -> str | None:
        """The next text message; None once the socket is closed."""

    async def close(self) -> None: ...

    def close_code(self) -> int | None: ...


class TwilioSpeaker:
    """The provider's side of a Twilio media stream."""

    name = "twilio"
    echoes_cleared_marks = True  # Twilio sends back the marks a `clear` dropped

    def opening(self, stream_id: str, call_sid: str, account_sid: str, parameters: dict[str, str]) -> list[dict]:
        return [{"event": "connected", "protocol": "Call", "version": "1.0.0"},
                {"event": "start", "sequenceNumber": "1", "streamSid": stream_id, "start": {
                    "streamSid": stream_id, "accountSid": account_sid, "callSid": call_sid, "tracks": ["inbound"],
                    "customParameters": parameters,
                    "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}}]

    def media(self, stream_id: str, chunk: int, timestamp_ms: int, payload: str) -> dict:
        return {"event": "media", "streamSid": stream_id, "media": {
            "track": "inbound", "chunk": str(chunk), "timestamp": str(timestamp_ms), "payload": payload}}

    def dtmf(self, stream_id: str, digit: str) -> dict:
        return {"event": "dtmf", "streamSid": stream_id, "dtmf": {"track": "inbound_track", "digit": digit}}

    def played(self, stream_id: str, name: str) -> dict:
        return {"event": "mark", "streamSid": stream_id, "mark": {"name": name}}

    def cleared(self, stream_id: str) -> dict | None:
        return None

    def stop(self, stream_id: str, call_sid: str, account_sid: str) -> dict | None:
        return {"event": "stop", "streamSid": stream_id, "stop": {"accountSid": account_sid, "callSid": call_sid}}

    def read(self, message: dict) -> tuple[str, str]:
        """What we sent: ("media", base64 payload), ("mark", name), ("clear", ""), or ("", "")."""
        event = message.get("event")
        if event == "media":
            return "media", message["media"]["payload"]
        if event == "mark":
            return "mark", message["mark"]["name"]
        if event == "clear":
            return "clear", ""
        return "", ""


class TelnyxSpeaker(TwilioSpeaker):
    """Telnyx's media streaming (a TeXML <Stream bidirectionalMode="rtp">): snake_case, stream_id."""

    name = "telnyx"

    def opening(self, stream_id, call_sid, account_sid, parameters):
        return [{"event": "connected", "version": "1.0.0"},
                {"event": "start", "sequence_number": "1", "stream_id": stream_id, "start": {
                    "user_id": account_sid, "call_control_id": call_sid, "call_session_id": stream_id,
                    "client_state": "", "custom_parameters": parameters,
                    "media_format": {"encoding": "PCMU", "sample_rate": 8000, "channels": 1}}}]

    def media(self, stream_id, chunk, timestamp_ms, payload):
        return {"event": "media", "sequence_number": str(chunk + 2), "stream_id": stream_id, "media": {
            "track": "inbound", "chunk": str(chunk), "timestamp": str(timestamp_ms), "payload": payload}}

    def dtmf(self, stream_id, digit):
        return {"event": "dtmf", "stream_id": stream_id, "dtmf": {"digit": digit}}

    def played(self, stream_id, name):
        return {"event": "mark", "stream_id": stream_id, "mark": {"name": name}}

    def stop(self, stream_id, call_sid, account_sid):
        return {"event": "stop", "stream_id": stream_id, "stop": {"user_id": account_sid, "call_control_id": call_sid}}


class PlivoSpeaker(TwilioSpeaker):
    """Plivo's audio stream (a bidirectional <Stream>): camelCase, checkpoints, no stop message."""

    name = "plivo"
    echoes_cleared_marks = False  # playedStream only for audio that really played

    def __init__(self) -> None:
        self.headers = ""

    def opening(self, stream_id, call_sid, account_sid, parameters):
        # The Stream's extraHeaders come back with every message, ";"-separated as Plivo's reference shows.
        self.headers = ";".join(f"{k}={v}" for k, v in parameters.items())
        return [{"event": "start", "sequenceNumber": 1, "start": {
            "callId": call_sid, "streamId": stream_id, "accountId": account_sid, "tracks": ["inbound"],
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000}}, "extra_headers": self.headers}]

    def media(self, stream_id, chunk, timestamp_ms, payload):
        return {"event": "media", "sequenceNumber": chunk + 2, "streamId": stream_id, "media": {
            "track": "inbound", "timestamp": str(int(time.time() * 1000)), "chunk": chunk, "payload": payload},
            "extra_headers": self.headers}

    def dtmf(self, stream_id, digit):
        return {"event": "dtmf", "streamId": stream_id, "dtmf": {"track": "inbound", "digit": digit}}

    def played(self, stream_id, name):
        return {"event": "playedStream", "streamId": stream_id, "name": name}

    def cleared(self, stream_id):
        return {"event": "clearedAudio", "streamId": stream_id}

    def stop(self, stream_id, call_sid, account_sid):
        return None

    def read(self, message):
        event = message.get("event")
        if event == "playAudio":
            return "media", message["media"]["payload"]
        if event == "checkpoint":
            return "mark", message["name"]
        if event == "clearAudio":
            return "clear", ""
        return "", ""


SPEAKERS = {"twilio": TwilioSpeaker, "telnyx": TelnyxSpeaker, "plivo": PlivoSpeaker}


class SimulatedCaller:
    def __init__(self, transport: Transport, *, call_sid: str, account_sid: str, parameters: dict[str, str],
                 say: list[str], digits: list[str] | None = None, pace: float = 1.0, interrupt_after_ms: int = 0,
                 left_stream: Callable[[], Awaitable[str]] | None = None, max_seconds: float = 60.0,
                 stamp: bool = False, seq_base: int = 0, dialect: str = "twilio") -> None:
        self.transport = transport
        self.speaker = SPEAKERS[dialect]()
        self.call_sid, self.account_sid, self.parameters = call_sid, account_sid, parameters
        self.say = list(say)
        self.digits = list(digits or [])
        self.pace = pace
        self.interrupt_after_ms = interrupt_after_ms
        self.left_stream = left_stream
        self.max_seconds = max_seconds
        self.stamp = stamp
        self.report = CallerReport(stream_sid="MZ" + secrets.token_hex(16))
        self.playback: deque[bytes | str] = deque()  # frames, and mark names between them
        self.seq = seq_base  # frames carry it (a benchmark gives each call its own range)
        self.seq_base = seq_base
        self.closed = False
        self.last_heard = 0.0
        self.turn_words = bytearray()
        self.heard_this_turn = 0
        self.played = 0

    async def _send(self, message: dict) -> None:
        if not self.closed:
            await self.transport.send(json.dumps(message))

    async def run(self) -> CallerReport:
        for message in self.speaker.opening(self.report.stream_sid, self.call_sid, self.account_sid, self.parameters):
            await self._send(message)
        reader = asyncio.get_running_loop().create_task(self._read())
        try:
            await asyncio.wait_for(self._talk(), self.max_seconds)
        except TimeoutError:
            self.report.ended = self.report.ended or f"hung up after {self.max_seconds:g}s"
        finally:
            if not self.closed:
                stop = self.speaker.stop(self.report.stream_sid, self.call_sid, self.account_sid)
                if stop is not None:
                    await self._send(stop)
                await self.transport.close()
                self.closed = True
            reader.cancel()
        self._end_turn()
        self.report.closed_code = self.transport.close_code()
        return self.report

    async def _read(self) -> None:
        while True:
            text = await self.transport.recv()
            if text is None:
                self.closed = True
                self.report.ended = self.report.ended or "the gateway closed the stream"
                return
            event, value = self.speaker.read(json.loads(text))
            if event == "media":
                data = audio.unb64(value)
                self.playback.append(data)
                self.report.frames_heard += 1
                seq = audio.sequence(data)
                if seq is not None and self.stamp:
                    now = time.monotonic()
                    self.report.received.append((seq, now))
                    if self.heard_this_turn == 0:
                        self.report.first_audio_at.append(now)
                self.heard_this_turn += 1
                self.turn_words += audio.words_in(data)
                self.last_heard = time.monotonic()
            elif event == "mark":
                self.playback.append(value)
            elif event == "clear":
                self.report.clears += 1
                marks = [m for m in self.playback if isinstance(m, str)]
                self.playback.clear()
                if self.speaker.echoes_cleared_marks:
                    for name in marks:
                        await self._echo(name)
                cleared = self.speaker.cleared(self.report.stream_sid)
                if cleared is not None:
                    await self._send(cleared)

    async def _echo(self, name: str) -> None:
        self.report.marks_echoed += 1
        await self._send(self.speaker.played(self.report.stream_sid, name))

    async def _tick(self, data: bytes) -> None:
        """One 20 ms step: send a frame, play one from the buffer, echo the marks reached."""
        if self.stamp:
            self.report.sent_at[audio.sequence(data)] = time.monotonic()
        await self._send(self.speaker.media(self.report.stream_sid, self.seq,
                                            (self.seq - self.seq_base) * audio.FRAME_MS, audio.b64(data)))
        self.report.frames_sent += 1
        self.seq += 1
        while self.playback and isinstance(self.playback[0], str):
            await self._echo(self.playback.popleft())
        if self.playback:
            self.playback.popleft()
            self.played += 1
            self.last_heard = time.monotonic()
            while self.playback and isinstance(self.playback[0], str):
                await self._echo(self.playback.popleft())
        if self.pace > 0:
            await asyncio.sleep(audio.FRAME_MS / 1000 * self.pace)
        else:
            await asyncio.sleep(0)
        if self.left_stream is not None and (self.seq - self.seq_base) % 5 == 0:
            why = await self.left_stream()
            if why:
                self.report.ended = why
                raise _Left()

    async def _wait_for_answer(self, *, timeout: float = TURN_TIMEOUT_S) -> None:
        """Silence until the agent has spoken and it has all been played (or `timeout`)."""
        started = time.monotonic()
        while not self.closed and time.monotonic() - started < timeout:
            idle = (time.monotonic() - self.last_heard) * 1000 / max(self.pace, 0.05)
            if self.heard_this_turn and not self.playback and idle >= QUIET_AFTER_ANSWER_MS:
                return
            await self._tick(audio.silence_frame(self.seq))

    def _end_turn(self) -> None:
        if self.turn_words:
            self.report.heard.append(self.turn_words.decode("utf-8", "replace"))
        self.turn_words = bytearray()
        self.heard_this_turn = 0

    async def _talk(self) -> None:
        try:
            if self.interrupt_after_ms and self.say:
                # Barge in: speak over the greeting once this much of it has played.
                while not self.closed and self.played * audio.FRAME_MS < self.interrupt_after_ms:
                    await self._tick(audio.silence_frame(self.seq))
            else:
                await self._wait_for_answer()  # the greeting
            self._end_turn()
            for utterance in self.say:
                if self.closed:
                    break
                await self._speak(utterance)
                await self._wait_for_answer()
                self._end_turn()
            for digit in self.digits:
                if self.closed:
                    break
                await self._send(self.speaker.dtmf(self.report.stream_sid, digit))
                await self._wait_for_answer()
                self._end_turn()
            if not self.closed:
                # Listen a little longer: a tool the last answer called (a transfer) ends the stream.
                for _ in range(15):
                    await self._tick(audio.silence_frame(self.seq))
                self.report.ended = self.report.ended or "the caller hung up"
            else:
                self.report.ended = self.report.ended or "the gateway closed the stream"
        except _Left:
            pass

    async def _speak(self, words: str) -> None:
        frames = audio.speech_frames(words, start_seq=self.seq)
        for n, data in enumerate(frames):
            if self.closed:
                return
            await self._tick(audio.frame(self.seq, audio.words_in(data), loud=True))
            if n == len(frames) - 1 and self.stamp:
                self.report.speech_ended_at.append((self.seq - 1, time.monotonic()))
        self._end_turn()

    async def speak_over(self, words: str) -> None:
        await self._speak(words)


class _Left(Exception):
    pass
