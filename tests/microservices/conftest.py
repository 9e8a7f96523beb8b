"""Fixtures for the micro-services chapter's tests: the emulator's lab fixtures, the chapter's
functions (and this suite's probe) deployed into the offline runtime, and the chapter's modules
loaded in-process.

The deploy and backend-selection fixtures and hooks are tests/emulator's, imported from its
conftest, so every suite deploys the same way. The lab is started as tests/emulator starts it,
one per module and backend, but named `ms-<aspect>`: a load balancer's and a target group's
names are at most 32 characters, lab prefix included (the notebook's lab is `microservices`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import ModuleType

import pytest

import helpers
from tests.emulator.conftest import (  # noqa: F401 (fixtures and hooks pytest collects here)
    _no_silent_delivery_errors,
    chapter_deployer,
    deploy,
    pytest_configure,
    pytest_generate_tests,
    role_arn,
)
from tests.microservices.support import FUNCTIONS, PROBES, load


@pytest.fixture(scope="module")
def lab(request: pytest.FixtureRequest, backend: str) -> Iterator[helpers.Lab]:
    """One offline lab per test module and backend, `ms-<aspect>` for test_microservices_<aspect>."""
    module = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_microservices_")
    lab = helpers.start(f"ms-{module.replace('_', '-')}"[:24], backend=backend)
    yield lab
    lab.teardown()


@pytest.fixture(scope="module")
def deploy_app(deploy: Callable[..., str]) -> Callable[..., str]:  # noqa: F811
    """deploy_app(folder, base=..., env=..., requirements=..., **create_function kwargs) -> name:
    deploy the chapter's functions/<folder>/app.py as handler app.handler."""
    return chapter_deployer(deploy, FUNCTIONS)


@pytest.fixture(scope="module")
def deploy_probe(deploy: Callable[..., str]) -> Callable[..., str]:  # noqa: F811
    """The same for this suite's tests/microservices/functions/<folder>/app.py."""
    return chapter_deployer(deploy, PROBES)


@pytest.fixture(scope="session")
def orders_app() -> ModuleType:
    """functions/orders/app.py, imported in this process with made-up resource names."""
    env = {
        "USERS_URL": "https://users.example.com/prod/",
        "CLUSTER_ARN": "arn:aws:rds:us-east-1:123456789012:cluster:orders-db",
        "SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:orders-AbCdEf",
        "DATABASE": "orders",
    }
    return load("microservices_orders_app", FUNCTIONS / "orders" / "app.py", env)


@pytest.fixture(scope="session")
def users_v1() -> ModuleType:
    """functions/users/app.py as version 1 of the API (API_VERSION=1)."""
    env = {"USERS_TABLE": "users", "API_VERSION": "1"}
    return load("microservices_users_v1", FUNCTIONS / "users" / "app.py", env)


@pytest.fixture(scope="session")
def users_v2() -> ModuleType:
    """functions/users/app.py as version 2 (API_VERSION=2, ORDERS_URL set)."""
    env = {
        "USERS_TABLE": "users",
        "API_VERSION": "2",
        "ORDERS_URL": "https://orders.example.com",
    }
    return load("microservices_users_v2", FUNCTIONS / "users" / "app.py", env)


@pytest.fixture(scope="session")
def notifier_app() -> ModuleType:
    """functions/notifier/app.py, imported in this process."""
    env = {"DELIVERIES_TABLE": "deliveries"}
    return load("microservices_notifier_app", FUNCTIONS / "notifier" / "app.py", env)
