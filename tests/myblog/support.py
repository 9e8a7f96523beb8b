"""What MyBlog's handler tests share besides fixtures: paths, sample events, log readers and
the images (made from photos shipped in matplotlib) a thumbnailer meets."""

from __future__ import annotations

import io
import json
import struct
import sys
import zlib
from pathlib import Path
from typing import Any

import matplotlib
from PIL import Image

import helpers
from tests.emulator.conftest import log_messages

CHAPTER = Path(__file__).resolve().parents[2] / "notebooks" / "01-myblog"
FUNCTIONS = CHAPTER / "functions"
EVENTS = FUNCTIONS / "events"
SITE = CHAPTER / "site"
SAMPLE_DATA = Path(matplotlib.get_data_path()) / "sample_data"
# compiled wheels (Pillow) are bundled for the Python that runs the offline runtime
THIS_RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"
EXIF_ORIENTATION = 0x0112


def sample_event(name: str) -> dict[str, Any]:
    """One of the chapter's sample events (functions/events/<name>)."""
    return json.loads((EVENTS / name).read_text())


def json_logs(lab: helpers.Lab, function_name: str) -> list[dict[str, Any]]:
    """The structured (JSON) lines a function printed, oldest first."""
    lines = []
    for message in log_messages(lab, function_name):
        if message.startswith("{"):
            try:
                lines.append(json.loads(message))
            except ValueError:
                pass
    return lines


def save(image: Image.Image, fmt: str, **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def hopper() -> Image.Image:
    """Grace Hopper's portrait, 512 × 600 RGB JPEG."""
    image = Image.open(SAMPLE_DATA / "grace_hopper.jpg")
    image.load()
    return image


def present() -> Image.Image:
    """A blue gift box on a transparent background, 128 × 128 RGBA PNG."""
    image = Image.open(SAMPLE_DATA / "Minduka_Present_Blue_Pack.png")
    image.load()
    return image


def png_bomb(width: int, height: int) -> bytes:
    """A valid PNG of width × height black 1-bit pixels: a few KB that declare a huge image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    packer = zlib.compressobj(9)
    row = bytes(1 + (width + 7) // 8)  # filter byte 0, then all-zero pixels
    data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )
