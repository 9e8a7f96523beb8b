"""Fixtures for the software-updates chapter's tests: the chapter's files loaded in-process.

storm.py is pure Python; the publisher is imported with MOUNT pointing at a temporary folder
(the EFS access point's mount, as the function's configuration sets it) and its S3 client
swapped for a fake that holds the builds.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from tests.emulator.conftest import (  # noqa: F401 (fixtures and hooks pytest collects here)
    _no_silent_delivery_errors,
    lab,
    pytest_configure,
    pytest_generate_tests,
)
from tests.software_updates.support import CHAPTER, PUBLISHER, FakeS3, load


@pytest.fixture(scope="session")
def storm() -> ModuleType:
    """The chapter's storm.py."""
    return load("software_updates_storm", CHAPTER / "storm.py")


@pytest.fixture
def fake_s3() -> FakeS3:
    return FakeS3()


@pytest.fixture
def mount(tmp_path: Path) -> Path:
    """The folder the function sees as its EFS mount (MOUNT)."""
    folder = tmp_path / "www"
    folder.mkdir()
    return folder


@pytest.fixture
def publisher(mount: Path, fake_s3: FakeS3) -> ModuleType:
    """functions/publisher/app.py imported with MOUNT=`mount`, its s3 client the fake."""
    app = load("software_updates_publisher", PUBLISHER, {"MOUNT": str(mount)})
    app.s3 = fake_s3
    return app
