"""Fixtures for the ingestion pipeline's tests: the emulator's lab fixtures, the chapter's
functions deployed into the offline runtime, and its modules loaded in-process.

The lab, deploy and backend-selection fixtures and hooks are tests/emulator's, imported from its
conftest, so every suite starts labs and deploys the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import pytest

from tests.emulator.conftest import (  # noqa: F401 (fixtures and hooks pytest collects here)
    _no_silent_delivery_errors,
    chapter_deployer,
    deploy,
    lab,
    pytest_configure,
    pytest_generate_tests,
    role_arn,
    s3,
)
from tests.ingestion.support import CHAPTER, FUNCTIONS, load


@pytest.fixture(scope="module")
def deploy_app(deploy: Callable[..., str]) -> Callable[..., str]:  # noqa: F811
    """deploy_app(folder, base=..., env=..., requirements=..., **create_function kwargs) -> name:
    deploy functions/<folder>/app.py as handler app.handler, named lab.name(base or folder)."""
    return chapter_deployer(deploy, FUNCTIONS)


@pytest.fixture(scope="session")
def devices() -> ModuleType:
    """The chapter's devices.py."""
    return load("ingestion_devices", CHAPTER / "devices.py")


@pytest.fixture(scope="session")
def transform_app() -> ModuleType:
    """functions/transform/app.py, imported in this process."""
    return load("ingestion_transform_app", FUNCTIONS / "transform" / "app.py")


@pytest.fixture(scope="session")
def report_app() -> ModuleType:
    """functions/report/app.py, imported in this process with made-up resource names (its
    boto3 clients are created, never called: the tests call its pure parts)."""
    env = {
        "DATABASE": "telemetry_db",
        "TABLE": "telemetry",
        "WORKGROUP": "reports",
        "REPORTS_BUCKET": "reporting-bucket",
    }
    return load("ingestion_report_app", FUNCTIONS / "report" / "app.py", env)
