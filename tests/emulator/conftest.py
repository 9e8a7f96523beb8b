"""Shared fixtures for the emulator's tests: one lab per module, clients, deployed handlers, logs.

A test module picks its backends with a module-level `BACKENDS = (...)` (default: moto only);
a single test can widen that with `@pytest.mark.backends("moto", "moto-server")`. The `lab`
fixture is module-scoped and parametrized by backend, so pytest runs a module's tests grouped by
backend and keeps at most one offline lab alive (helpers allows one per process).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import helpers

FUNCTIONS = Path(__file__).parent / "functions"
TRUST_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "backends(*names): run this test on these offline backends")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("backends")
    names = marker.args if marker else getattr(metafunc.module, "BACKENDS", ("moto",))
    metafunc.parametrize("backend", names, scope="module")


@pytest.fixture(scope="module")
def lab(request: pytest.FixtureRequest, backend: str) -> Iterator[helpers.Lab]:
    """One offline lab per test module and backend."""
    module = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    lab = helpers.start(module.replace("_", "-")[:24], backend=backend)
    yield lab
    lab.teardown()


@pytest.fixture(autouse=True)
def _no_silent_delivery_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    """The delivery thread survives its own errors and only notes them: fail the test instead."""
    if "lab" not in request.fixturenames:
        yield
        return
    lab = request.getfixturevalue("lab")
    before = len(lab.emulator.notes)
    yield
    errors = [
        n
        for n in lab.emulator.notes[before:]
        if n.startswith(("delivery error", "could not deliver"))
    ]
    assert not errors, errors[:3]


@pytest.fixture
def trust_policy() -> str:
    """A role trust policy that lets the Lambda service assume the role."""
    return TRUST_POLICY


@pytest.fixture(scope="module")
def s3(lab: helpers.Lab) -> Any:
    """The lab's S3 client."""
    return lab.client("s3")


@pytest.fixture(scope="module")
def cf(lab: helpers.Lab) -> Any:
    """The lab's CloudFront client."""
    return lab.client("cloudfront")


@pytest.fixture(scope="module")
def role_arn(lab: helpers.Lab) -> str:
    iam = lab.client("iam")
    return iam.create_role(RoleName=lab.name("lambda-role"), AssumeRolePolicyDocument=TRUST_POLICY)[
        "Role"
    ]["Arn"]


@pytest.fixture(scope="module")
def deploy(lab: helpers.Lab, role_arn: str) -> Callable[..., str]:
    """deploy(base, *files, handler=..., env=..., **create_function kwargs) -> function name."""
    lambda_ = lab.client("lambda")

    def _deploy(
        base: str,
        *files: str | Path,
        handler: str = "probe.handler",
        env: dict[str, str] | None = None,
        code: bytes | None = None,
        **kwargs: Any,
    ) -> str:
        name = lab.name(base)
        if code is None:
            paths = [FUNCTIONS / f for f in (files or ("probe.py",))]
            code = helpers.package(*paths, handler=handler)
        kwargs.setdefault("Runtime", "python3.12")
        kwargs.setdefault("Timeout", 3)
        if env:
            kwargs["Environment"] = {"Variables": env}
        lambda_.create_function(
            FunctionName=name, Role=role_arn, Handler=handler, Code={"ZipFile": code}, **kwargs
        )
        return name

    return _deploy


# compiled wheels (Pillow, cryptography) are bundled for the Python that runs the offline runtime
THIS_RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"


def chapter_deployer(deploy: Callable[..., str], functions: Path) -> Callable[..., str]:
    """For a chapter's tests: deploy(folder, base=..., env=..., requirements=..., **kwargs) ->
    name deploys `functions`/<folder>/app.py as handler app.handler, named lab.name(base or
    folder), on this Python with its requirements bundled."""

    def _deploy(
        folder: str, *, base: str | None = None, requirements: tuple[str, ...] = (), **kwargs: Any
    ) -> str:
        code = helpers.package(
            functions / folder / "app.py",
            handler="app.handler",
            requirements=list(requirements),
            runtime=THIS_RUNTIME,
        )
        kwargs.setdefault("Timeout", 15)
        return deploy(
            base or folder, handler="app.handler", code=code, Runtime=THIS_RUNTIME, **kwargs
        )

    return _deploy


def log_messages(lab: helpers.Lab, function_name: str) -> list[str]:
    """Every message in the function's CloudWatch Logs group, oldest first."""
    logs = lab.client("logs")
    group = f"/aws/lambda/{function_name}"
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"logGroupName": group}
    while True:
        page = logs.filter_log_events(**kwargs)
        events.extend(page["events"])
        if not page.get("nextToken"):
            break
        kwargs["nextToken"] = page["nextToken"]
    events.sort(key=lambda e: (e["timestamp"], e.get("ingestionTime", 0)))
    return [e["message"] for e in events]


def seen_events(lab: helpers.Lab, function_name: str) -> list[dict[str, Any]]:
    """The events a `recorder.py` function printed, in the order it received them."""
    return [
        json.loads(m.split("EVENT ", 1)[1])
        for m in log_messages(lab, function_name)
        if m.startswith("EVENT ")
    ]


def start_lines(lab: helpers.Lab, function_name: str) -> list[str]:
    """The `START RequestId: ...` lines: one per invocation attempt."""
    return [m for m in log_messages(lab, function_name) if re.match(r"START RequestId: ", m)]


@pytest.fixture
def logs_of(lab: helpers.Lab) -> Callable[[str], list[str]]:
    return lambda name: log_messages(lab, name)


@pytest.fixture
def events_of(lab: helpers.Lab) -> Callable[[str], list[dict[str, Any]]]:
    return lambda name: seen_events(lab, name)


@pytest.fixture
def starts_of(lab: helpers.Lab) -> Callable[[str], list[str]]:
    return lambda name: start_lines(lab, name)
