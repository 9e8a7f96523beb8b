"""Real photos for the thumbnail flow, and the awkward kinds a thumbnailer meets in the wild.

The photos ship inside matplotlib (`mpl-data/sample_data`), so they are on every machine that runs
the course. The variants are made from them with Pillow: an EXIF-rotated JPEG (as phones write
them), CMYK (as print tools write them), a palette GIF, a PNG with transparency, WebP, 16-bit
greyscale; and three files that must not become thumbnails: a truncated JPEG, a text file named
`.png`, and a decompression bomb (a tiny PNG that declares 20,000 × 20,000 pixels).
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import matplotlib
from PIL import Image

SAMPLE_DATA = Path(matplotlib.get_data_path()) / "sample_data"
EXIF_ORIENTATION = 0x0112
ROTATE_90_CW = 6  # EXIF: the camera was turned; viewers must rotate the pixels 90° clockwise


def _save(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def good_photos() -> dict[str, bytes]:
    """Photo name → bytes: two real photos and the variants a thumbnailer must handle."""
    hopper_bytes = (SAMPLE_DATA / "grace_hopper.jpg").read_bytes()
    hopper = Image.open(io.BytesIO(hopper_bytes))
    pack = Image.open(SAMPLE_DATA / "Minduka_Present_Blue_Pack.png")
    pack.load()

    sideways = hopper.rotate(90, expand=True)  # stored sideways, EXIF says how to turn it back
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = ROTATE_90_CW
    alpha = pack.convert("RGBA")
    alpha.putalpha(alpha.getchannel("A").point(lambda a: a * 3 // 4))

    return {
        "grace-hopper.jpg": hopper_bytes,
        "present.png": (SAMPLE_DATA / "Minduka_Present_Blue_Pack.png").read_bytes(),
        "phone-portrait.jpg": _save(sideways, "JPEG", quality=90, exif=exif),
        "print-cmyk.jpg": _save(hopper.convert("CMYK"), "JPEG", quality=90),
        "palette.gif": _save(hopper.convert("P", palette=Image.Palette.ADAPTIVE), "GIF"),
        "transparent.png": _save(alpha, "PNG"),
        "hopper.webp": _save(hopper, "WEBP", quality=80),
        # 16-bit: the 8-bit grey levels spread over 0-65535 (v * 257 maps 255 to 65535)
        "scan-16bit.png": _save(
            hopper.convert("I").point(lambda v: v * 257).convert("I;16"), "PNG"
        ),
    }


def bad_files() -> dict[str, bytes]:
    """File name → bytes that must not become a thumbnail (and must not be lost)."""
    jpeg = (SAMPLE_DATA / "grace_hopper.jpg").read_bytes()
    return {
        "truncated.jpg": jpeg[: len(jpeg) // 3],
        "notes.png": b"these are my notes, not a picture\n",
        "bomb.png": decompression_bomb(20_000, 20_000),
    }


def decompression_bomb(width: int, height: int) -> bytes:
    """A valid, tiny PNG whose header declares width × height one-bit pixels, all zero."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes((width + 7) // 8)  # filter byte + one bit per pixel
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )
