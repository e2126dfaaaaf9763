"""A recording's audio, generated: a few seconds of a quiet tone, as WAV (the stdlib's `wave`) or MP3
(silent MPEG-1 Layer III frames, which any decoder plays as silence). The same bytes every time."""
from __future__ import annotations

import io
import math
import struct
import wave

SAMPLE_RATE = 8000  # Twilio records calls at 8 kHz
TONE_HZ = 440
# One MPEG-1 Layer III frame: 128 kbit/s, 44.1 kHz, mono, no padding: 417 bytes, 1152 samples.
# All-zero side information and main data decode to silence.
MP3_FRAME = bytes([0xFF, 0xFB, 0x90, 0xC4]) + bytes(413)
MP3_FRAMES_PER_SECOND = 44100 / 1152


def wav(seconds: int) -> bytes:
    frames = b"".join(struct.pack("<h", int(1000 * math.sin(2 * math.pi * TONE_HZ * n / SAMPLE_RATE)))
                      for n in range(SAMPLE_RATE * seconds))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(frames)
    return buffer.getvalue()


def mp3(seconds: int) -> bytes:
    return MP3_FRAME * math.ceil(seconds * MP3_FRAMES_PER_SECOND)
