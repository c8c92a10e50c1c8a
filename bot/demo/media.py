"""Small evidence files for the demo, made with the standard library only.

``photo_png`` draws a simple picture (a sky, a ground and a few coloured blocks — a noticeboard,
a sign-up sheet) as a real PNG; ``voice_wav`` makes a short, quiet murmur as a real WAV file.
Both are deterministic for a given seed, so seeding twice writes the same files.
"""

from __future__ import annotations

import io
import math
import random
import struct
import wave
import zlib

Colour = tuple[int, int, int]

PALETTES: tuple[tuple[Colour, Colour, tuple[Colour, ...]], ...] = (
    ((196, 222, 240), (120, 160, 110), ((230, 120, 80), (250, 210, 90), (90, 130, 200))),
    ((235, 232, 225), (160, 140, 120), ((200, 60, 70), (70, 160, 140), (240, 200, 60))),
    ((210, 225, 215), (95, 120, 95), ((250, 250, 245), (220, 170, 60), (120, 90, 160))),
)


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def encode_png(width: int, height: int, pixels: list[list[Colour]]) -> bytes:
    """A truecolour PNG of ``pixels`` (rows of RGB tuples)."""
    raw = bytearray()
    for row in pixels:
        raw.append(0)  # filter: none
        for red, green, blue in row:
            raw.extend((red, green, blue))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(raw), 9))
        + _chunk(b"IEND", b"")
    )


def photo_png(seed: str, width: int = 160, height: int = 120) -> bytes:
    """A little picture: sky, ground, and a few blocks like posters on a board."""
    rng = random.Random(seed)
    sky, ground, colours = PALETTES[rng.randrange(len(PALETTES))]
    horizon = int(height * rng.uniform(0.55, 0.7))
    pixels = [[sky if y < horizon else ground for _ in range(width)] for y in range(height)]
    for _ in range(rng.randint(3, 6)):
        colour = colours[rng.randrange(len(colours))]
        w, h = rng.randint(width // 8, width // 3), rng.randint(height // 8, height // 3)
        left, top = rng.randint(0, width - w), rng.randint(height // 10, horizon)
        for y in range(top, min(height, top + h)):
            for x in range(left, left + w):
                pixels[y][x] = colour
    return encode_png(width, height, pixels)


def voice_wav(seed: str, seconds: float = 2.5, rate: int = 8000) -> bytes:
    """A short mono WAV: a soft, wavering tone, like a voice note heard from a distance."""
    rng = random.Random(seed)
    base = rng.uniform(140.0, 220.0)
    frames = bytearray()
    for n in range(int(seconds * rate)):
        t = n / rate
        envelope = min(1.0, t * 8, (seconds - t) * 8) * (0.6 + 0.4 * math.sin(2 * math.pi * 3 * t))
        pitch = base * (1 + 0.05 * math.sin(2 * math.pi * 0.7 * t))
        sample = envelope * (
            0.6 * math.sin(2 * math.pi * pitch * t) + 0.25 * math.sin(4 * math.pi * pitch * t)
        )
        frames.extend(struct.pack("<h", int(sample * 9000)))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(frames))
    return buffer.getvalue()
