"""The sandbox's "speech": G.711 μ-law frames that the realtime emulator can hear and read.

Real speech cannot be understood without a speech model, so the sandbox's simulated caller and its
realtime AI emulator speak a code both understand, carried in the audio itself (no side channel:
the gateway relays the frames untouched, as it must, so what arrives is what was said).

A frame is 20 ms: 160 μ-law bytes at 8 kHz.
- Loud frames are speech, quiet frames are silence: the emulator's voice activity detection is the
  frames' energy (mean absolute amplitude), as a real detector's first cue is.
- Bytes 0-7 carry the frame's sequence number (32 bits, a nibble a byte), so a benchmark can see
  frames lost or reordered and time each one.
- The rest spells the words, UTF-8, a nibble a byte (two bytes a character), then a filler byte.
  Speech bytes are μ-law codes 0x00-0x0F (amplitude above 16 000) and filler 0x10; silence uses
  codes 0xF0-0xFF (amplitude under 130) and filler 0xEF. So the words survive any relay that does
  not re-encode the audio, and the energy says which frames are speech.
"""
from __future__ import annotations

import base64

FRAME_BYTES = 160  # 20 ms at 8 kHz
FRAME_MS = 20
SEQ_BYTES = 8
TEXT_BYTES = FRAME_BYTES - SEQ_BYTES
CHARS_PER_FRAME = TEXT_BYTES // 2
LOUD, LOUD_FILL = 0x00, 0x10
QUIET, QUIET_FILL = 0xF0, 0xEF
SPEECH_THRESHOLD = 1000  # mean |amplitude| of a speech frame, of 32 767


def _ulaw_to_linear(code: int) -> int:
    code = ~code & 0xFF
    sign, exponent, mantissa = code & 0x80, (code >> 4) & 0x07, code & 0x0F
    magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return -magnitude if sign else magnitude


LINEAR = [_ulaw_to_linear(code) for code in range(256)]
ABS = [abs(v) for v in LINEAR]
# |amplitude| of each code split in its high and low bytes, for bytes.translate: the frame's sum of
# |amplitude| is then two sums over translated bytes, at C speed (the emulator hears every frame).
_ABS_HIGH = bytes(a >> 8 for a in ABS)
_ABS_LOW = bytes(a & 0xFF for a in ABS)


def energy(frame: bytes) -> float:
    """Mean absolute amplitude of a μ-law frame."""
    if not frame:
        return 0.0
    return (sum(frame.translate(_ABS_HIGH)) * 256 + sum(frame.translate(_ABS_LOW))) / len(frame)


def is_speech(frame: bytes) -> bool:
    return energy(frame) > SPEECH_THRESHOLD


_PAIRS = {base: [bytes((base | (b >> 4), base | (b & 0x0F))) for b in range(256)] for base in (LOUD, QUIET)}


def _nibbles(data: bytes, base: int) -> bytes:
    return b"".join(map(_PAIRS[base].__getitem__, data))


def frame(seq: int, chunk: bytes = b"", *, loud: bool) -> bytes:
    """One frame: `seq`, then up to CHARS_PER_FRAME bytes of text."""
    base, fill = (LOUD, LOUD_FILL) if loud else (QUIET, QUIET_FILL)
    body = _nibbles((seq & 0xFFFFFFFF).to_bytes(4, "big"), base) + _nibbles(chunk[:CHARS_PER_FRAME], base)
    return body + bytes([fill]) * (FRAME_BYTES - len(body))


def speech_frames(words: str, *, start_seq: int = 0, min_frames: int = 25) -> list[bytes]:
    """`words` as speech: the text spread over frames, at least `min_frames` (half a second) long,
    about as long as saying it takes (2.5 words a second)."""
    data = words.encode("utf-8")
    chunks = [data[i:i + CHARS_PER_FRAME] for i in range(0, len(data), CHARS_PER_FRAME)]
    n = max(min_frames, len(chunks), round(len(words.split()) / 2.5 * 1000 / FRAME_MS))
    chunks += [b""] * (n - len(chunks))
    return [frame(start_seq + i, chunk, loud=True) for i, chunk in enumerate(chunks)]


def silence_frame(seq: int) -> bytes:
    return frame(seq, loud=False)


# Each byte's low nibble as a hex digit, and its high nibble's kind (a code of the sandbox's loud or
# quiet speech, or not), for bytes.translate: a frame is read at C speed.
_HEX = bytes(b"0123456789abcdef"[b & 0x0F] for b in range(256))
_KIND = bytes({LOUD: ord("L"), QUIET: ord("Q")}.get(b & 0xF0, ord("x")) for b in range(256))


def sequence(data: bytes) -> int | None:
    """The frame's sequence number, or None for audio that is not the sandbox's."""
    if len(data) < SEQ_BYTES:
        return None
    head = data[:SEQ_BYTES]
    kinds = head.translate(_KIND)
    if kinds not in (b"L" * SEQ_BYTES, b"Q" * SEQ_BYTES):
        return None
    return int(head.translate(_HEX), 16)


def words_in(data: bytes) -> bytes:
    """The text bytes a frame carries (b"" for none, or for audio that is not the sandbox's): its
    pairs of bytes of one kind (loud or quiet), up to the first that is not."""
    body = data[SEQ_BYTES:SEQ_BYTES + (len(data) - SEQ_BYTES) // 2 * 2]
    if not body:
        return b""
    high, low = body[0::2].translate(_KIND), body[1::2].translate(_KIND)
    # The first pair whose two kinds differ, or that is not the sandbox's speech.
    differ = (int.from_bytes(high, "big") ^ int.from_bytes(low, "big")).to_bytes(len(high), "big")
    end = min(len(differ) - len(differ.lstrip(b"\0")), *(i for i in (high.find(b"x"), low.find(b"x")) if i >= 0),
              len(high))
    return bytes.fromhex(body[:end * 2].translate(_HEX).decode("ascii"))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(payload: str) -> bytes:
    try:
        return base64.b64decode(payload, validate=True)
    except (ValueError, TypeError):
        return b""
