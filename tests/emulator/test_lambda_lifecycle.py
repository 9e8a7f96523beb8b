"""Execution environments: cold and warm starts, the timeout and the memory limit.

Contract: Lambda developer guide, "Lambda execution environment" (init phase, reuse, Init
Duration on the first invocation only) and "Troubleshoot invocation issues" (timeouts:
`Sandbox.Timedout`, "Task timed out after N seconds"; out of memory: `Runtime.OutOfMemory`).
https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import helpers

BOTH = ("moto", "moto-server")
FUNCTIONS = Path(__file__).parent / "functions"


def _json(resp):
    body = resp["Payload"].read()
    return json.loads(body) if body else None


def _report(messages, request_id):
    return next(m for m in messages if m.startswith(f"REPORT RequestId: {request_id}\t"))


@pytest.mark.backends(*BOTH)
def test_warm_invocations_keep_module_state_and_only_the_cold_one_reports_init(
    lab, deploy, logs_of
):
    """GIVEN a new function WHEN invoked three times THEN module state carries over (1, 2, 3)
    and only the first REPORT line has an Init Duration."""
    name = deploy("warm")
    lambda_ = lab.client("lambda")

    bodies = [_json(lambda_.invoke(FunctionName=name)) for _ in range(3)]

    assert [b["invocations"] for b in bodies] == [1, 2, 3]
    messages = logs_of(name)
    reports = [_report(messages, b["request_id"]) for b in bodies]
    assert re.search(r"\tInit Duration: \d+\.\d{2} ms", reports[0])
    assert not any("Init Duration" in r for r in reports[1:])
    # one environment served them all: one log stream
    assert len({b["log_stream_name"] for b in bodies}) == 1


def test_a_configuration_update_starts_a_new_cold_environment(lab, deploy, logs_of):
    """GIVEN a warm function WHEN an environment variable changes THEN the next invocation is
    cold (state reset, Init Duration again) and sees the new value."""
    name = deploy("updated", env={"LAB_STAGE": "one"})
    lambda_ = lab.client("lambda")
    lambda_.invoke(FunctionName=name)
    warm = _json(lambda_.invoke(FunctionName=name))
    assert warm["invocations"] == 2

    lambda_.update_function_configuration(
        FunctionName=name, Environment={"Variables": {"LAB_STAGE": "two"}}
    )
    after = _json(lambda_.invoke(FunctionName=name))

    assert after["env"] == {"LAB_STAGE": "two"}
    assert after["invocations"] == 1
    assert "\tInit Duration: " in _report(logs_of(name), after["request_id"])
    assert after["log_stream_name"] != warm["log_stream_name"]


def test_a_code_update_runs_the_new_code(lab, deploy, tmp_path):
    """GIVEN a deployed function WHEN update_function_code ships new code THEN it runs."""
    import helpers

    src = tmp_path / "version.py"
    src.write_text("def handler(event, context):\n    return 'v1'\n")
    name = deploy("code-update", handler="version.handler", code=helpers.package(src))
    lambda_ = lab.client("lambda")
    assert _json(lambda_.invoke(FunctionName=name)) == "v1"

    src.write_text("def handler(event, context):\n    return 'v2'\n")
    lambda_.update_function_code(FunctionName=name, ZipFile=helpers.package(src))

    assert _json(lambda_.invoke(FunctionName=name)) == "v2"


@pytest.mark.backends(*BOTH)
def test_a_handler_past_its_timeout_is_stopped(lab, deploy, logs_of):
    """GIVEN Timeout=1 and a handler that sleeps 3 s WHEN invoked THEN it is stopped at 1 s:
    200, FunctionError Unhandled, errorType Sandbox.Timedout; the next invocation works, cold."""
    name = deploy("sleepy", Timeout=1)
    lambda_ = lab.client("lambda")

    resp = lambda_.invoke(FunctionName=name, Payload=json.dumps({"sleep": 3}))
    body = _json(resp)

    assert resp["StatusCode"] == 200
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in body["errorMessage"]
    request_id = re.search(r"RequestId: (\S+)", body["errorMessage"]).group(1)
    messages = logs_of(name)
    assert any(f"{request_id} Task timed out after 1.00 seconds" in m for m in messages)
    assert "\tStatus: timeout" in _report(messages, request_id)

    after = lambda_.invoke(FunctionName=name)
    again = _json(after)
    assert "FunctionError" not in after
    assert again["invocations"] == 1  # a fresh environment
    assert "\tInit Duration: " in _report(logs_of(name), again["request_id"])


def test_a_handler_beyond_its_memory_size_runs_out_of_memory(lab, deploy):
    """GIVEN MemorySize=128 WHEN the handler keeps 140 MB THEN Runtime.OutOfMemory; the next
    invocation gets a fresh environment."""
    name = deploy("hungry", MemorySize=128, Timeout=10)
    lambda_ = lab.client("lambda")

    resp = lambda_.invoke(FunctionName=name, Payload=json.dumps({"allocate_mb": 140}))
    body = _json(resp)

    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.OutOfMemory"
    after = lambda_.invoke(FunctionName=name)
    assert "FunctionError" not in after
    assert _json(after)["invocations"] == 1


def test_memory_within_the_limit_is_fine_and_reported(lab, deploy, logs_of):
    """GIVEN MemorySize=512 WHEN the handler keeps 100 MB THEN it succeeds and REPORT's Max
    Memory Used is at least 100 MB and at most 512 MB."""
    name = deploy("roomy", MemorySize=512, Timeout=10)

    body = _json(lab.client("lambda").invoke(FunctionName=name, Payload='{"allocate_mb": 100}'))

    report = _report(logs_of(name), body["request_id"])
    used = int(re.search(r"\tMax Memory Used: (\d+) MB", report).group(1))
    assert 100 <= used <= 512
    assert "\tMemory Size: 512 MB\t" in report


@pytest.mark.backends(*BOTH)
def test_a_deleted_function_keeps_no_warm_environment_in_any_region(lab, role_arn):
    """GIVEN a warm function outside the lab's region WHEN it is deleted and created again with
    the same name, code and configuration THEN the next invocation is a cold start (fresh
    module state): deleting a function ends its execution environments."""
    region = "eu-west-1" if lab.region != "eu-west-1" else "us-west-2"
    lambda_ = lab.client("lambda", region=region)
    name = lab.name("elsewhere")
    create = {
        "FunctionName": name,
        "Runtime": "python3.12",
        "Role": role_arn,
        "Handler": "probe.handler",
        "Code": {"ZipFile": helpers.package(FUNCTIONS / "probe.py", handler="probe.handler")},
    }
    lambda_.create_function(**create)
    bodies = [_json(lambda_.invoke(FunctionName=name)) for _ in range(2)]
    assert [b["invocations"] for b in bodies] == [1, 2]
    assert bodies[0]["aws_region"] == region

    lambda_.delete_function(FunctionName=name)
    lambda_.create_function(**create)
    again = _json(lambda_.invoke(FunctionName=name))

    assert again["invocations"] == 1
    assert again["log_stream_name"] != bodies[0]["log_stream_name"]
