"""Lambda versions and aliases: each version runs the package and configuration it froze.

Contract: Lambda developer guide, "Manage Lambda function versions" ("a function version
includes ... the function code and all associated dependencies ... the function settings",
"Lambda doesn't create a new version if the code in the unpublished version is the same as the
previous published version"), https://docs.aws.amazon.com/lambda/latest/dg/configuration-versions.html;
aliases and weighted routing, https://docs.aws.amazon.com/lambda/latest/dg/configuration-aliases.html
and https://docs.aws.amazon.com/lambda/latest/dg/configuring-alias-routing.html; Invoke's
`Qualifier` and `X-Amz-Executed-Version`, https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html;
the context object, https://docs.aws.amazon.com/lambda/latest/dg/python-context.html.
Routing-configuration errors as AWS answered them in LocalStack's validated Lambda tests.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections import Counter

import pytest
from botocore.exceptions import ClientError

BACKENDS = ("moto", "moto-server")


def colour_code(label: str) -> bytes:
    """A package whose handler reports its label, version, invoked ARN and configuration."""
    source = (
        "import os\n"
        f"LABEL = {label!r}\n"
        "def handler(event, context):\n"
        "    return {'label': LABEL, 'version': context.function_version,\n"
        "            'invoked': context.invoked_function_arn,\n"
        "            'colour': os.environ.get('LAB_COLOUR'),\n"
        "            'memory': int(context.memory_limit_in_mb)}\n"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", source)
    return buf.getvalue()


def run(lambda_, **kwargs) -> tuple[dict, str]:
    resp = lambda_.invoke(**kwargs)
    assert "FunctionError" not in resp, resp["Payload"].read()
    return json.loads(resp["Payload"].read()), resp["ExecutedVersion"]


@pytest.fixture(scope="module")
def lambda_(lab):
    return lab.client("lambda")


@pytest.fixture(scope="module")
def colours(lab, deploy, lambda_):
    """Version 1 = blue (128 MB), version 2 = green (256 MB), $LATEST = red, unpublished."""
    name = deploy("colours", code=colour_code("blue"), handler="app.handler")
    lambda_.update_function_configuration(
        FunctionName=name, Environment={"Variables": {"LAB_COLOUR": "blue"}}
    )
    v1 = lambda_.publish_version(FunctionName=name)
    lambda_.update_function_code(FunctionName=name, ZipFile=colour_code("green"))
    lambda_.update_function_configuration(
        FunctionName=name, MemorySize=256, Environment={"Variables": {"LAB_COLOUR": "green"}}
    )
    v2 = lambda_.publish_version(FunctionName=name)
    lambda_.update_function_code(FunctionName=name, ZipFile=colour_code("red"))
    lambda_.update_function_configuration(
        FunctionName=name, MemorySize=512, Environment={"Variables": {"LAB_COLOUR": "red"}}
    )
    assert (v1["Version"], v2["Version"]) == ("1", "2")
    return {"name": name, "arn": v1["FunctionArn"].rsplit(":", 1)[0]}


def test_each_version_runs_the_code_and_configuration_it_froze(lambda_, colours):
    """GIVEN versions 1 and 2 and a changed $LATEST WHEN each is invoked THEN each runs its own."""
    name, arn = colours["name"], colours["arn"]

    one, executed_one = run(lambda_, FunctionName=name, Qualifier="1")
    two, executed_two = run(lambda_, FunctionName=name, Qualifier="2")
    latest, executed_latest = run(lambda_, FunctionName=name)

    assert (one["label"], one["colour"], one["memory"]) == ("blue", "blue", 128)
    assert (two["label"], two["colour"], two["memory"]) == ("green", "green", 256)
    assert (latest["label"], latest["colour"], latest["memory"]) == ("red", "red", 512)
    assert (executed_one, executed_two, executed_latest) == ("1", "2", "$LATEST")
    assert (one["version"], two["version"], latest["version"]) == ("1", "2", "$LATEST")
    assert one["invoked"] == f"{arn}:1"
    assert latest["invoked"] == arn


def test_a_version_named_in_the_function_name_or_arn_runs_that_version(lambda_, colours):
    name, arn = colours["name"], colours["arn"]

    by_name, _ = run(lambda_, FunctionName=f"{name}:1")
    by_arn, executed = run(lambda_, FunctionName=f"{arn}:2")

    assert by_name["label"] == "blue"
    assert (by_arn["label"], executed) == ("green", "2")
    assert by_arn["invoked"] == f"{arn}:2"


def test_get_function_of_a_version_shows_its_frozen_configuration(lambda_, colours):
    config = lambda_.get_function_configuration(FunctionName=colours["name"], Qualifier="1")

    assert config["Version"] == "1"
    assert config["MemorySize"] == 128
    assert config["Environment"]["Variables"] == {"LAB_COLOUR": "blue"}


def test_latest_runs_new_code_after_an_update_while_version_1_keeps_the_old(deploy, lambda_):
    """GIVEN version 1 published WHEN update_function_code THEN $LATEST runs the new code."""
    name = deploy("update-after-publish", code=colour_code("v1"), handler="app.handler")
    lambda_.publish_version(FunctionName=name)
    assert run(lambda_, FunctionName=name)[0]["label"] == "v1"  # warm $LATEST environment

    lambda_.update_function_code(FunctionName=name, ZipFile=colour_code("v2"))

    assert run(lambda_, FunctionName=name)[0]["label"] == "v2"
    assert run(lambda_, FunctionName=name, Qualifier="1")[0]["label"] == "v1"
    assert run(lambda_, FunctionName=name, Qualifier="$LATEST")[0]["label"] == "v2"


def test_publishing_unchanged_code_returns_the_last_version(deploy, lambda_):
    name = deploy("publish-twice", code=colour_code("same"), handler="app.handler")

    first = lambda_.publish_version(FunctionName=name)
    again = lambda_.publish_version(FunctionName=name)

    assert first["Version"] == again["Version"] == "1"


def test_an_alias_runs_the_version_it_points_to(lambda_, colours):
    """GIVEN alias `live` -> 1 WHEN invoked THEN blue, as the alias; repointed -> 2: green."""
    name, arn = colours["name"], colours["arn"]
    lambda_.create_alias(FunctionName=name, Name="live", FunctionVersion="1")

    before, executed = run(lambda_, FunctionName=f"{name}:live")
    lambda_.update_alias(FunctionName=name, Name="live", FunctionVersion="2")
    after, executed_after = run(lambda_, FunctionName=name, Qualifier="live")

    assert (before["label"], executed, before["version"]) == ("blue", "1", "1")
    assert before["invoked"] == f"{arn}:live"  # the ARN as called
    assert (after["label"], executed_after) == ("green", "2")


def test_a_weighted_alias_splits_invocations_between_two_versions(lambda_, colours):
    """GIVEN alias `canary` -> 1 with {"2": 0.25} WHEN invoked 300 times THEN ~25 % run version 2.

    300 draws of p = 0.25: mean 75, standard deviation 7.5; [40, 110] is 4.6 deviations wide.
    """
    name, arn = colours["name"], colours["arn"]
    lambda_.create_alias(
        FunctionName=name,
        Name="canary",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.25}},
    )

    seen = Counter()
    for _ in range(300):
        body, executed = run(lambda_, FunctionName=name, Qualifier="canary")
        seen[(executed, body["label"])] += 1
        assert body["invoked"] == f"{arn}:canary"

    assert set(seen) == {("1", "blue"), ("2", "green")}
    assert 40 <= seen[("2", "green")] <= 110, seen
    alias = lambda_.get_alias(FunctionName=name, Name="canary")
    assert alias["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.25}}


def test_removing_the_weights_sends_every_invocation_to_the_primary_version(lambda_, colours):
    name = colours["name"]
    lambda_.create_alias(
        FunctionName=name,
        Name="rollback",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}},
    )

    lambda_.update_alias(
        FunctionName=name, Name="rollback", RoutingConfig={"AdditionalVersionWeights": {}}
    )

    assert {run(lambda_, FunctionName=f"{name}:rollback")[1] for _ in range(20)} == {"1"}


@pytest.mark.parametrize(
    ("primary", "weights", "code", "message"),
    [
        (
            "1",
            {"2": 0.1, "3": 0.1},
            "InvalidParameterValueException",
            "Number of items in AdditionalVersionWeights cannot be greater than 1",
        ),
        (
            "1",
            {"2": 1.5},
            "ValidationException",
            "Member must have value less than or equal to 1.0",
        ),
        (
            "1",
            {"1": 0.5},
            "InvalidParameterValueException",
            "Invalid function version 1. Function version 1 is already included in routing "
            "configuration.",
        ),
        (
            "$LATEST",
            {"2": 0.5},
            "InvalidParameterValueException",
            "$LATEST is not supported for an alias pointing to more than 1 version",
        ),
        ("1", {"9": 0.5}, "ResourceNotFoundException", "function:"),
    ],
    ids=["two-versions", "weight-above-1", "primary-again", "latest", "missing-version"],
)
def test_routing_configurations_aws_refuses(lambda_, colours, primary, weights, code, message):
    with pytest.raises(ClientError) as caught:
        lambda_.create_alias(
            FunctionName=colours["name"],
            Name="refused",
            FunctionVersion=primary,
            RoutingConfig={"AdditionalVersionWeights": weights},
        )

    assert caught.value.response["Error"]["Code"] == code
    assert message in caught.value.response["Error"]["Message"]
    with pytest.raises(ClientError):
        lambda_.get_alias(FunctionName=colours["name"], Name="refused")


def test_an_asynchronous_invoke_of_an_alias_runs_its_version(lab, lambda_, colours, starts_of):
    name = colours["name"]
    lambda_.create_alias(FunctionName=name, Name="async", FunctionVersion="2")

    resp = lambda_.invoke(FunctionName=name, Qualifier="async", InvocationType="Event")
    lab.settle()

    assert resp["StatusCode"] == 202
    assert any(line.rstrip().endswith("Version: 2") for line in starts_of(name))


def test_a_permission_on_a_qualified_arn_names_the_alias(lambda_, colours):
    """AddPermission on `function:name:alias` (no Qualifier) adds to the alias's policy."""
    name, arn = colours["name"], colours["arn"]
    lambda_.create_alias(FunctionName=name, Name="granted", FunctionVersion="1")

    lambda_.add_permission(
        FunctionName=f"{arn}:granted",
        StatementId="apigw-granted",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
    )

    policy = json.loads(lambda_.get_policy(FunctionName=name, Qualifier="granted")["Policy"])
    (statement,) = [s for s in policy["Statement"] if s["Sid"] == "apigw-granted"]
    assert statement["Resource"] == f"{arn}:granted"
