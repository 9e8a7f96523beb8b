"""Fixtures for MyBlog's handler tests: the emulator's lab fixtures, the chapter's functions and
the photos (and awkward files) the thumbnail function must handle.

The lab, deploy, logs and backend-selection fixtures and hooks are tests/emulator's, imported
from its conftest, so both suites start labs, deploy and read logs the same way.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PIL import Image

from tests.emulator.conftest import (  # noqa: F401 (fixtures and hooks pytest collects here)
    _no_silent_delivery_errors,
    chapter_deployer,
    deploy,
    events_of,
    lab,
    logs_of,
    pytest_configure,
    pytest_generate_tests,
    role_arn,
    starts_of,
    trust_policy,
)
from tests.myblog.support import (
    EXIF_ORIENTATION,
    FUNCTIONS,
    SAMPLE_DATA,
    hopper,
    png_bomb,
    present,
    save,
)


@pytest.fixture(scope="module")
def deploy_app(deploy: Callable[..., str]) -> Callable[..., str]:  # noqa: F811
    """deploy_app(folder, base=..., env=..., requirements=..., **create_function kwargs) -> name:
    deploy functions/<folder>/app.py as handler app.handler, named lab.name(base or folder)."""
    return chapter_deployer(deploy, FUNCTIONS)


@pytest.fixture(scope="session")
def photos() -> dict[str, bytes]:
    """Upload name → bytes: the real photos and every kind of image the thumbnailer handles."""
    portrait = hopper()
    sideways = portrait.transpose(Image.Transpose.ROTATE_90)  # stored turned left...
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6  # ...and EXIF says: rotate 90° clockwise to display
    box = present()
    sixteen = portrait.convert("L").convert("I").point(lambda v: v * 257)  # full 16-bit range
    return {
        "hopper.jpg": (SAMPLE_DATA / "grace_hopper.jpg").read_bytes(),
        "present.png": (SAMPLE_DATA / "Minduka_Present_Blue_Pack.png").read_bytes(),
        "phone.jpg": save(sideways, "JPEG", quality=90, exif=exif),
        "print-cmyk.jpg": save(portrait.convert("CMYK"), "JPEG", quality=90),
        "palette.gif": save(box, "GIF"),  # Pillow makes a palette with a transparent index
        "transparent.webp": save(box, "WEBP", lossless=True),
        "hopper.webp": save(portrait, "WEBP", quality=80),
        "scan-16bit.png": save(sixteen.convert("I;16"), "PNG"),
        "alpha-named.jpg": save(box, "PNG"),  # a PNG with alpha uploaded under a .jpg name
        "my holiday.jpg": (SAMPLE_DATA / "grace_hopper.jpg").read_bytes(),
    }


@pytest.fixture(scope="session")
def bad_files() -> dict[str, bytes]:
    """Upload name → bytes that must not become thumbnails (and must stay as uploaded)."""
    jpeg = (SAMPLE_DATA / "grace_hopper.jpg").read_bytes()
    return {
        "truncated.jpg": jpeg[: len(jpeg) // 3],
        "notes.png": b"these are my notes, not a picture\n",
        "bomb.png": png_bomb(20_000, 20_000),  # 400 MP: above twice the limit, an error
        "bomb-warning.png": png_bomb(8_000, 6_000),  # 48 MP: above the 40 MP limit, a warning
    }
