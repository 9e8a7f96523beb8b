"""Short animated clips for the paid-content chapter, made here so the course ships no media.

Each clip is an animated WebP (Pillow writes it; every browser plays it in an <img>): a title
card with a progress bar that runs across the frame, a few seconds long and a few tens of KB.
Deterministic: the same title gives the same bytes.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 320, 180
PALETTE = {
    "serverless": ((35, 47, 62), (255, 153, 0)),
    "security": ((22, 56, 50), (126, 211, 33)),
    "trailer": ((60, 30, 70), (236, 114, 17)),
}


def clip(title: str, subtitle: str, *, series: str, frames: int = 24, ms: int = 125) -> bytes:
    """An animated WebP: `frames` frames of `ms` milliseconds each."""
    background, accent = PALETTE.get(series, ((40, 40, 40), (200, 200, 200)))
    font = ImageFont.load_default(size=22)
    small = ImageFont.load_default(size=14)
    images = []
    for i in range(frames):
        image = Image.new("RGB", (WIDTH, HEIGHT), background)
        draw = ImageDraw.Draw(image)
        draw.text((16, 48), title, fill=(255, 255, 255), font=font)
        draw.text((16, 82), subtitle, fill=(200, 200, 200), font=small)
        x = 16 + (WIDTH - 32) * (i + 1) // frames
        draw.rectangle((16, 140, WIDTH - 16, 148), outline=accent)
        draw.rectangle((16, 140, x, 148), fill=accent)
        cx = 16 + (WIDTH - 32) * i // frames
        draw.ellipse((cx, 110, cx + 20, 130), fill=accent)
        images.append(image)
    out = io.BytesIO()
    images[0].save(
        out,
        format="WEBP",
        save_all=True,
        append_images=images[1:],
        duration=ms,
        loop=0,
        lossless=True,
    )
    return out.getvalue()


CATALOGUE = {
    "public/trailer.webp": ("Paid content", "the free trailer", "trailer"),
    "videos/serverless/serverless-01.webp": (
        "Serverless 01",
        "Lambda in ten minutes",
        "serverless",
    ),
    "videos/serverless/serverless-02.webp": ("Serverless 02", "API Gateway caching", "serverless"),
    "videos/serverless/serverless-03.webp": ("Serverless 03", "Event-driven design", "serverless"),
    "videos/security/security-01.webp": ("Security 01", "Signed URLs", "security"),
    "videos/security/security-02.webp": ("Security 02", "Key rotation", "security"),
}


def catalogue() -> dict[str, bytes]:
    """Every clip of the shop: {S3 key: bytes}."""
    return {key: clip(t, s, series=series) for key, (t, s, series) in CATALOGUE.items()}
