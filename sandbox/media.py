"""A recording's audio, generated: a few seconds of a quiet tone, as WAV (8 kHz, 16-bit mono PCM)
or MP3 (silent MPEG-1 Layer III frames, which any decoder plays as silence). The same bytes every
time, and any stretch of them computed from its offset: both are a header followed by a pattern
that repeats (a 440 Hz tone at 8 kHz repeats exactly every 200 samples: 11 cycles), so a range of
an hour-long file costs what a range of a short one does, and nothing is built whole in memory."""
from __future__ import annotations

import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass

SAMPLE_RATE = 8000  # Twilio records calls at 8 kHz
TONE_HZ = 440
PERIOD_SAMPLES = 200  # 440 Hz * 200 / 8000 Hz = 11 whole cycles
# One MPEG-1 Layer III frame: 128 kbit/s, 44.1 kHz, mono, no padding: 417 bytes, 1152 samples.
# All-zero side information and main data decode to silence.
MP3_FRAME = bytes([0xFF, 0xFB, 0x90, 0xC4]) + bytes(413)
MP3_FRAMES_PER_SECOND = 44100 / 1152
TONE_PERIOD = b"".join(struct.pack("<h", int(1000 * math.sin(2 * math.pi * TONE_HZ * n / SAMPLE_RATE)))
                       for n in range(PERIOD_SAMPLES))


@dataclass(frozen=True)
class Source:
    """`header` then `pattern` repeated until the file is `size` bytes long."""

    header: bytes
    pattern: bytes
    size: int

    def chunks(self, first: int, last: int, chunk_size: int) -> Iterator[bytes]:
        """Bytes first..last (inclusive), in pieces of at most chunk_size."""
        position = first
        # Enough whole patterns to cut any chunk from, at any phase.
        block = self.pattern * (chunk_size // len(self.pattern) + 2)
        while position <= last:
            end = min(last + 1, position + chunk_size)
            if position < len(self.header):
                piece = self.header[position:end]
            else:
                phase = (position - len(self.header)) % len(self.pattern)
                piece = block[phase:phase + (end - position)]
            yield piece
            position += len(piece)


def wav_source(seconds: int) -> Source:
    data_size = SAMPLE_RATE * seconds * 2
    header = (b"RIFF" + struct.pack("<I", 36 + data_size) + b"WAVE"
              + b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, SAMPLE_RATE, SAMPLE_RATE * 2, 2, 16)
              + b"data" + struct.pack("<I", data_size))
    return Source(header=header, pattern=TONE_PERIOD, size=len(header) + data_size)


def mp3_source(seconds: int) -> Source:
    return Source(header=b"", pattern=MP3_FRAME, size=len(MP3_FRAME) * math.ceil(seconds * MP3_FRAMES_PER_SECOND))


def _whole(source: Source) -> bytes:
    return b"".join(source.chunks(0, source.size - 1, 1 << 20))


def wav(seconds: int) -> bytes:
    return _whole(wav_source(seconds))


def mp3(seconds: int) -> bytes:
    return _whole(mp3_source(seconds))
