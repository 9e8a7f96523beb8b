"""What a learner gets wrong: handlers that are not in the package, init errors, bad packages,
non-Python runtimes and reserved environment variables.

Contract: the Python runtime's init errors (`Runtime.ImportModuleError`,
`Runtime.HandlerNotFound`, `Runtime.MalformedHandlerName`; an exception raised while importing
the module comes back with its own type), CreateFunction's InvalidParameterValueException for
reserved environment variables and packages that do not unzip, Invoke's
InvalidRuntimeException. https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html
https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

import helpers

BOTH = ("moto", "moto-server")
FUNCTIONS = Path(__file__).parent / "functions"


def _json(resp):
    body = resp["Payload"].read()
    return json.loads(body) if body else None


def _zip(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return buf.getvalue()


def test_package_refuses_a_handler_that_is_not_in_it():
    """helpers.package names the missing file and says how to fix it."""
    with pytest.raises(ValueError) as err:
        helpers.package(FUNCTIONS / "probe.py", handler="app.handler")

    message = str(err.value)
    assert "app.py" in message
    assert "probe.py" in message  # what the package does hold
    assert "add the file or change the handler" in message


def test_package_refuses_a_function_that_the_module_does_not_define():
    with pytest.raises(ValueError) as err:
        helpers.package(FUNCTIONS / "probe.py", handler="probe.lambda_handler")

    assert "lambda_handler" in str(err.value) and "handler" in str(err.value)


@pytest.mark.backends(*BOTH)
def test_a_handler_module_missing_from_the_zip_is_an_import_module_error(lab, deploy):
    """GIVEN Handler=app.handler and a zip without app.py WHEN invoked THEN 200, Unhandled,
    errorType Runtime.ImportModuleError, "Unable to import module 'app'"."""
    name = deploy("no-module", handler="app.handler", code=_zip({"utils.py": "X = 1\n"}))

    resp = lab.client("lambda").invoke(FunctionName=name)
    body = _json(resp)

    assert resp["StatusCode"] == 200
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert body["errorMessage"].startswith("Unable to import module 'app': ")


def test_a_handler_function_missing_from_the_module_is_handler_not_found(lab, deploy):
    name = deploy(
        "no-function", handler="probe.lambda_handler", code=helpers.package(FUNCTIONS / "probe.py")
    )

    body = _json(lab.client("lambda").invoke(FunctionName=name))

    assert body["errorType"] == "Runtime.HandlerNotFound"
    assert "lambda_handler" in body["errorMessage"]


def test_a_handler_without_a_dot_is_malformed(lab, deploy):
    name = deploy("malformed", handler="probe", code=helpers.package(FUNCTIONS / "probe.py"))

    body = _json(lab.client("lambda").invoke(FunctionName=name))

    assert body["errorType"] == "Runtime.MalformedHandlerName"


@pytest.mark.backends(*BOTH)
def test_a_module_that_raises_on_import_is_an_init_error_every_time(lab, deploy, logs_of):
    """GIVEN a module that raises at import WHEN invoked twice THEN each invocation fails with
    the exception's type and message (the init is retried), the trace shows /var/task and no
    local path, and the log shows the init failure."""
    name = deploy("broken-import", "broken_import.py", handler="broken_import.handler")
    lambda_ = lab.client("lambda")

    bodies = []
    for _ in range(2):
        resp = lambda_.invoke(FunctionName=name)
        assert resp["FunctionError"] == "Unhandled"
        bodies.append(_json(resp))

    for body in bodies:
        assert body["errorType"] == "RuntimeError"
        assert body["errorMessage"] == "configuration missing at import time"
        trace = "".join(body["stackTrace"])
        assert '"/var/task/broken_import.py"' in trace
        assert "/tmp/" not in trace and "labbook-lambda-" not in trace
        assert str(Path.home()) not in trace and "/.venv/" not in trace
    text = "\n".join(logs_of(name))
    assert "configuration missing at import time" in text
    assert text.count("START RequestId: ") == 2


@pytest.mark.backends(*BOTH)
def test_a_non_python_runtime_is_refused_clearly(lab, deploy):
    """Offline runs Python only: Invoke fails with InvalidRuntimeException naming the runtime."""
    code = _zip({"index.mjs": "export const handler = async () => 'hi';\n"})
    name = deploy("node", handler="index.handler", code=code, Runtime="nodejs20.x")

    with pytest.raises(ClientError) as err:
        lab.client("lambda").invoke(FunctionName=name)

    assert err.value.response["Error"]["Code"] == "InvalidRuntimeException"
    assert "nodejs20.x" in err.value.response["Error"]["Message"]


@pytest.mark.backends(*BOTH)
@pytest.mark.parametrize("variable", ["AWS_REGION", "AWS_LAMBDA_FUNCTION_NAME", "_HANDLER"])
def test_reserved_environment_variables_are_refused_at_create(lab, role_arn, variable):
    """CreateFunction refuses Lambda's reserved names: InvalidParameterValueException."""
    with pytest.raises(ClientError) as err:
        lab.client("lambda").create_function(
            FunctionName=lab.name(f"reserved-{variable.lower().strip('_')}"),
            Runtime="python3.12",
            Role=role_arn,
            Handler="probe.handler",
            Code={"ZipFile": helpers.package(FUNCTIONS / "probe.py")},
            Environment={"Variables": {variable: "mine", "LAB_OK": "1"}},
        )

    assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert (
        f"Reserved keys used in this request: {variable}" in err.value.response["Error"]["Message"]
    )


def test_reserved_environment_variables_are_refused_at_update(lab, deploy):
    name = deploy("reserved-update")

    with pytest.raises(ClientError) as err:
        lab.client("lambda").update_function_configuration(
            FunctionName=name, Environment={"Variables": {"AWS_DEFAULT_REGION": "eu-west-1"}}
        )

    assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"
    config = lab.client("lambda").get_function_configuration(FunctionName=name)
    assert "AWS_DEFAULT_REGION" not in (config.get("Environment") or {}).get("Variables", {})


def test_ordinary_variables_named_like_aws_ones_are_allowed(lab, deploy):
    """Only the documented names are reserved: LAB_AWS_REGION is fine."""
    name = deploy("not-reserved", env={"LAB_AWS_REGION": "eu-west-1"})

    assert _json(lab.client("lambda").invoke(FunctionName=name))["env"] == {
        "LAB_AWS_REGION": "eu-west-1"
    }


@pytest.mark.parametrize("variable", ["AWS_ENDPOINT_URL", "AWS_ACCOUNT_ID_ENDPOINT_MODE", "LANG"])
def test_unreserved_runtime_variables_can_be_set(lab, deploy, variable):
    """Only the documented names are reserved: a function may set others the runtime also uses
    (LANG, the SDK's AWS_ENDPOINT_URL...); CreateFunction and Invoke accept them."""
    name = deploy(f"unreserved-{variable.lower()}", env={variable: "mine", "LAB_OK": "1"})

    resp = lab.client("lambda").invoke(FunctionName=name)

    assert "FunctionError" not in resp
    assert _json(resp)["env"] == {"LAB_OK": "1"}


def test_a_package_that_is_not_a_zip_is_refused_at_create(lab, role_arn):
    with pytest.raises(ClientError) as err:
        lab.client("lambda").create_function(
            FunctionName=lab.name("not-a-zip"),
            Runtime="python3.12",
            Role=role_arn,
            Handler="probe.handler",
            Code={"ZipFile": b"def handler(event, context): pass\n"},
        )

    assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert "Could not unzip uploaded file" in err.value.response["Error"]["Message"]
