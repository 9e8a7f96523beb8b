"""Lambda Invoke: invocation types, the context object, environment variables, packages, errors.

Contract: Lambda API reference (Invoke) and the Python developer guide (handler, context object,
errors). https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
https://docs.aws.amazon.com/lambda/latest/dg/python-context.html
https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import helpers

BOTH = ("moto", "moto-server")
FUNCTIONS = Path(__file__).parent / "functions"
REQUEST_ID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def _json(resp):
    body = resp["Payload"].read()
    return json.loads(body) if body else None


@pytest.fixture(scope="module")
def probe(deploy):
    return deploy("probe", env={"LAB_COLOUR": "teal"}, Timeout=2, MemorySize=256)


@pytest.mark.backends(*BOTH)
def test_request_response_runs_the_handler_and_returns_its_result(lab, probe):
    """GIVEN a deployed function WHEN invoked synchronously THEN 200 and the handler's return."""
    resp = lab.client("lambda").invoke(FunctionName=probe, Payload=b"{}")

    assert resp["StatusCode"] == 200
    assert "FunctionError" not in resp
    assert resp["ExecutedVersion"] == "$LATEST"
    body = _json(resp)
    assert body["function_name"] == probe


@pytest.mark.backends(*BOTH)
def test_context_object_matches_the_function(lab, probe):
    """GIVEN Timeout=2 and MemorySize=256 WHEN invoked THEN the context says so."""
    resp = lab.client("lambda").invoke(FunctionName=probe, Payload=b"{}")
    body = _json(resp)
    arn = lab.client("lambda").get_function(FunctionName=probe)["Configuration"]["FunctionArn"]

    assert re.fullmatch(REQUEST_ID, body["request_id"])
    assert body["function_name"] == probe
    assert body["function_version"] == "$LATEST"
    assert body["invoked_function_arn"] == arn
    assert int(body["memory_limit_in_mb"]) == 256
    assert body["log_group_name"] == f"/aws/lambda/{probe}"
    first, later = body["remaining_ms"]
    assert 0 < later < first <= 2000


@pytest.mark.backends(*BOTH)
def test_context_request_id_is_the_one_in_the_logs(lab, probe, logs_of):
    """GIVEN an invoke WHEN the logs are read THEN START/END/REPORT carry context.aws_request_id."""
    body = _json(lab.client("lambda").invoke(FunctionName=probe, Payload=b"{}"))
    request_id = body["request_id"]

    messages = logs_of(probe)
    assert f"START RequestId: {request_id} Version: $LATEST" in [m.rstrip() for m in messages]
    assert f"END RequestId: {request_id}" in [m.rstrip() for m in messages]
    assert any(m.startswith(f"REPORT RequestId: {request_id}\t") for m in messages)


def test_environment_variables_are_per_function(lab, deploy):
    """GIVEN two functions with different variables WHEN invoked THEN each sees only its own."""
    one = deploy("env-one", env={"LAB_GREETING": "hello"})
    two = deploy("env-two", env={"LAB_GREETING": "bonjour", "LAB_ONLY_TWO": "yes"})
    lambda_ = lab.client("lambda")

    env_one = _json(lambda_.invoke(FunctionName=one))["env"]
    env_two = _json(lambda_.invoke(FunctionName=two))["env"]

    assert env_one == {"LAB_GREETING": "hello"}
    assert env_two == {"LAB_GREETING": "bonjour", "LAB_ONLY_TWO": "yes"}


def test_lambda_sets_its_own_environment_variables(lab, probe):
    """AWS_REGION and AWS_LAMBDA_FUNCTION_NAME are set by Lambda (defined runtime variables)."""
    body = _json(lab.client("lambda").invoke(FunctionName=probe))

    assert body["aws_region"] == lab.region
    assert body["function_name_env"] == probe


def test_each_function_imports_modules_from_its_own_package(lab, deploy):
    """GIVEN two packages each with its own utils.py WHEN both run THEN each sees its own."""
    a = deploy("utils-a", "shared_app.py", "utils_a/utils.py", handler="shared_app.handler")
    b = deploy("utils-b", "shared_app.py", "utils_b/utils.py", handler="shared_app.handler")
    lambda_ = lab.client("lambda")

    seen = [_json(lambda_.invoke(FunctionName=f)) for f in (a, b, a, b)]

    assert [s["who"] for s in seen] == ["package A", "package B", "package A", "package B"]


def test_the_handler_comes_from_the_deployed_zip(lab, deploy, tmp_path):
    """GIVEN a package built from a file that is then edited WHEN invoked THEN the zip's code
    runs, not the file on disk."""
    src = tmp_path / "frozen.py"
    src.write_text("def handler(event, context):\n    return 'from the zip'\n")
    code = helpers.package(src, handler="frozen.handler")
    src.write_text("def handler(event, context):\n    return 'from the disk'\n")
    name = deploy("frozen", handler="frozen.handler", code=code)

    assert _json(lab.client("lambda").invoke(FunctionName=name)) == "from the zip"


@pytest.mark.backends(*BOTH)
def test_event_invocation_returns_202_and_runs_later(lab, probe, starts_of):
    """GIVEN InvocationType=Event WHEN invoked THEN 202, empty payload; it runs by settle()."""
    before = len(starts_of(probe))

    resp = lab.client("lambda").invoke(FunctionName=probe, InvocationType="Event", Payload=b"{}")

    assert resp["StatusCode"] == 202
    assert resp["Payload"].read() == b""
    lab.settle()
    assert len(starts_of(probe)) == before + 1


@pytest.mark.backends(*BOTH)
def test_dry_run_returns_204_and_runs_nothing(lab, probe, starts_of):
    """GIVEN InvocationType=DryRun WHEN invoked THEN 204 and the handler does not run."""
    before = len(starts_of(probe))

    resp = lab.client("lambda").invoke(FunctionName=probe, InvocationType="DryRun")
    lab.settle()

    assert resp["StatusCode"] == 204
    assert resp["Payload"].read() == b""
    assert len(starts_of(probe)) == before


@pytest.mark.backends(*BOTH)
def test_an_exception_comes_back_in_aws_error_form(lab, probe):
    """GIVEN a handler that raises WHEN invoked THEN 200, FunctionError Unhandled, and AWS's
    error JSON (errorMessage, errorType, requestId, stackTrace as a list of strings)."""
    resp = lab.client("lambda").invoke(
        FunctionName=probe, Payload=json.dumps({"raise": "the answer is not 42"})
    )
    body = _json(resp)

    assert resp["StatusCode"] == 200
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "ValueError"
    assert body["errorMessage"] == "the answer is not 42"
    assert re.fullmatch(REQUEST_ID, body["requestId"])
    assert isinstance(body["stackTrace"], list) and body["stackTrace"]
    assert all(isinstance(line, str) for line in body["stackTrace"])


def test_the_stack_trace_shows_var_task_not_local_paths(lab, probe):
    """AWS shows the package under /var/task; no temporary folder of this machine leaks."""
    body = _json(lab.client("lambda").invoke(FunctionName=probe, Payload=b'{"raise": "x"}'))
    trace = "".join(body["stackTrace"])

    assert '"/var/task/probe.py"' in trace
    assert "labbook-lambda-" not in trace and "/tmp" not in trace
    assert str(FUNCTIONS) not in trace


@pytest.mark.backends(*BOTH)
def test_the_handlers_boto3_calls_reach_the_lab(lab, deploy):
    """GIVEN a handler that writes an S3 object WHEN invoked THEN the test reads it back."""
    bucket = lab.name("from-handler")
    s3 = lab.client("s3")
    s3.create_bucket(Bucket=bucket)
    writer = deploy("writer", Timeout=10)

    resp = lab.client("lambda").invoke(
        FunctionName=writer,
        Payload=json.dumps(
            {"put_object": {"Bucket": bucket, "Key": "hello.txt", "Body": "written by Lambda"}}
        ),
    )

    assert "FunctionError" not in resp, resp["Payload"].read()
    assert s3.get_object(Bucket=bucket, Key="hello.txt")["Body"].read() == b"written by Lambda"


@pytest.mark.backends(*BOTH)
def test_a_layer_is_importable_from_its_python_folder(lab, deploy):
    """GIVEN a layer whose zip has python/labutil.py WHEN a function with that layer imports
    labutil THEN it works (Lambda extracts layers to /opt; /opt/python is on sys.path)."""
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("python/labutil.py", "VALUE = 'shared code'\n")
    layer = lab.client("lambda").publish_layer_version(
        LayerName=lab.name("labutil"),
        Content={"ZipFile": buf.getvalue()},
        CompatibleRuntimes=["python3.12"],
    )
    name = deploy(
        "with-layer",
        "uses_layer.py",
        handler="uses_layer.handler",
        Layers=[layer["LayerVersionArn"]],
    )

    resp = lab.client("lambda").invoke(FunctionName=name)

    assert "FunctionError" not in resp, resp["Payload"].read()
    assert _json(resp) == {"from_layer": "shared code"}
