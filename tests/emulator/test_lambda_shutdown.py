"""Shutting the emulator down while a function runs: no crash, no leak, nothing written after.

A lab's teardown stops every execution environment, including one whose invocation is still
running on another thread (a notebook thread, moto's server thread, the delivery thread). The
invocation ends as a runtime exit (as when Lambda reclaims an environment) instead of failing
on closed pipes; the delivery thread has ended when teardown returns, so nothing it was doing
reaches the next lab's state.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import helpers
from helpers.emulator import lambda_runtime
from helpers.emulator.lambda_runtime import FunctionSpec, LambdaRuntime

FUNCTIONS = Path(__file__).parent / "functions"


def _spec(timeout_s: float = 30.0) -> FunctionSpec:
    code = helpers.package(FUNCTIONS / "probe.py", handler="probe.handler")
    return FunctionSpec(
        name="sleepy",
        arn="arn:aws:lambda:us-east-1:123456789012:function:sleepy",
        version="$LATEST",
        handler="probe.handler",
        runtime="python3.12",
        memory_mb=128,
        timeout_s=timeout_s,
        environment={},
        code=code,
        region="us-east-1",
        account_id="123456789012",
    )


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_shutdown_during_an_invocation_ends_it_as_a_runtime_exit(monkeypatch):
    """GIVEN an invocation running on another thread WHEN the runtime shuts down THEN that
    invocation returns (Runtime.ExitError, its worker killed) rather than raising, and every
    pipe of the environment is closed once it has returned."""
    real_select = lambda_runtime.select.select

    def slow_select(*args: object) -> object:  # widen the window the invoking thread waits in
        time.sleep(0.2)
        return real_select(*args)

    monkeypatch.setattr(lambda_runtime.select, "select", slow_select)
    runtime = LambdaRuntime(endpoint_url="http://127.0.0.1:9")
    fds_before = _open_fds()
    outcome: dict[str, object] = {}

    def invoke() -> None:
        try:
            outcome["result"] = runtime.invoke(_spec(), json.dumps({"sleep": 20}).encode())
        except BaseException as exc:  # the test reports it below
            outcome["error"] = exc

    thread = threading.Thread(target=invoke)
    thread.start()
    deadline = time.monotonic() + 20
    while not any(e._current and e._current.dispatched_at for e in runtime.environments()):
        assert time.monotonic() < deadline, "the invocation never started"
        time.sleep(0.01)

    runtime.shutdown()
    thread.join(10)

    assert not thread.is_alive()
    assert "error" not in outcome, outcome.get("error")
    result = outcome["result"]
    assert result.error_type == "Runtime.ExitError", result.payload
    assert runtime.environments() == []
    assert _open_fds() <= fds_before


def test_teardown_waits_for_the_delivery_thread_and_stops_a_running_function(trust_policy):
    """GIVEN an asynchronous invocation still running WHEN the lab is torn down THEN teardown
    returns promptly (the function is stopped, not waited for) and the delivery thread has
    ended, so no log or dead-letter record can land in the next lab."""
    lab = helpers.start("shutdown")
    try:
        role = lab.client("iam").create_role(
            RoleName=lab.name("role"), AssumeRolePolicyDocument=trust_policy
        )["Role"]["Arn"]
        lambda_ = lab.client("lambda")
        name = lab.name("sleepy")
        lambda_.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role,
            Handler="probe.handler",
            Timeout=60,
            Code={"ZipFile": helpers.package(FUNCTIONS / "probe.py", handler="probe.handler")},
        )
        lambda_.invoke(FunctionName=name, InvocationType="Event", Payload='{"sleep": 30}')
        deadline = time.monotonic() + 20
        while not any(e._current for e in lab.emulator.runtime.environments()):
            assert time.monotonic() < deadline, "the invocation never started"
            time.sleep(0.01)
    finally:
        started = time.monotonic()
        lab.teardown()
        took = time.monotonic() - started

    assert took < 4  # the function is stopped: not waited for, not even 5 s
    assert not lab.emulator.delivery._thread.is_alive()
