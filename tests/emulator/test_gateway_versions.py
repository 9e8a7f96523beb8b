"""API Gateway to Lambda aliases: one integration, a stage variable picks the alias per stage.

Contract: API Gateway developer guide, "Use stage variables for a REST API" (a Lambda
integration whose function ARN ends in `:${stageVariables.lambdaAlias}`, and "you must add
permission for each alias" with `lambda add-permission --function-name ...:alias`),
https://docs.aws.amazon.com/apigateway/latest/developerguide/stage-variables.html and
https://docs.aws.amazon.com/apigateway/latest/developerguide/amazon-api-gateway-using-stage-variables.html;
weighted alias routing, https://docs.aws.amazon.com/lambda/latest/dg/configuring-alias-routing.html;
a missing permission is a 500 "Internal server error",
https://repost.aws/knowledge-center/api-gateway-lambda-stage-variable-500.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections import Counter

import pytest
import requests

from tests.emulator.gateway_support import RestApi

BACKENDS = ("moto",)


def proxy_code(label: str) -> bytes:
    """A Lambda proxy handler that answers its label, version and invoked ARN."""
    source = (
        "import json\n"
        f"LABEL = {label!r}\n"
        "def handler(event, context):\n"
        "    body = {'label': LABEL, 'version': context.function_version,\n"
        "            'invoked': context.invoked_function_arn,\n"
        "            'stageVariables': event['stageVariables']}\n"
        "    return {'statusCode': 200, 'body': json.dumps(body)}\n"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", source)
    return buf.getvalue()


@pytest.fixture(scope="module")
def lambda_(lab):
    return lab.client("lambda")


@pytest.fixture(scope="module")
def service(deploy, lambda_):
    """Version 1 = v1, version 2 = v2; alias prod -> 1, dev -> 2, qa -> 1."""
    name = deploy("orders", code=proxy_code("v1"), handler="app.handler")
    lambda_.publish_version(FunctionName=name)
    lambda_.update_function_code(FunctionName=name, ZipFile=proxy_code("v2"))
    lambda_.publish_version(FunctionName=name)
    for alias, version in (("prod", "1"), ("dev", "2"), ("qa", "1")):
        lambda_.create_alias(FunctionName=name, Name=alias, FunctionVersion=version)
    arn = lambda_.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    return {"name": name, "arn": arn}


def alias_uri(lab, function_arn: str, qualifier: str) -> str:
    return (
        f"arn:aws:apigateway:{lab.region}:lambda:path/2015-03-31/functions/"
        f"{function_arn}:{qualifier}/invocations"
    )


def allow_alias(lab, api: RestApi, function: str, alias: str) -> None:
    """lambda add-permission --function-name fn:alias, as the stage-variables guide says."""
    lab.client("lambda").add_permission(
        FunctionName=f"{function}:{alias}",
        StatementId=f"apigw-{api.id}-{alias}",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:{lab.region}:{lab.account_id}:{api.id}/*/GET/orders",
    )


@pytest.fixture(scope="module")
def orders(lab, service):
    """GET /orders -> `function:orders:${stageVariables.alias}`; stages prod and dev."""
    api = RestApi(lab, "orders")
    api.method("/orders", "GET")
    api.integration(
        "/orders",
        "GET",
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=alias_uri(lab, service["arn"], "${stageVariables.alias}"),
    )
    for alias in ("prod", "dev"):
        allow_alias(lab, api, service["name"], alias)
    api.deploy("prod", variables={"alias": "prod"})
    api.deploy("dev", variables={"alias": "dev"})
    return api


def get(api: RestApi, stage: str) -> requests.Response:
    return requests.get(api.url("/orders", stage=stage))


@pytest.mark.backends("moto", "moto-server")
def test_each_stage_reaches_the_alias_its_stage_variable_names(orders, service):
    """GIVEN prod: alias=prod (-> v1), dev: alias=dev (-> v2) WHEN GET /orders THEN each version."""
    prod, dev = get(orders, "prod"), get(orders, "dev")

    assert prod.status_code == dev.status_code == 200, (prod.text, dev.text)
    assert prod.json()["label"] == "v1" and prod.json()["version"] == "1"
    assert dev.json()["label"] == "v2" and dev.json()["version"] == "2"
    assert prod.json()["invoked"] == f"{service['arn']}:prod"  # API Gateway invokes the alias
    assert dev.json()["stageVariables"] == {"alias": "dev"}


def test_repointing_the_alias_changes_what_the_stage_serves_without_a_deployment(
    lambda_, orders, service
):
    lambda_.update_alias(FunctionName=service["name"], Name="dev", FunctionVersion="1")
    try:
        assert get(orders, "dev").json()["label"] == "v1"
    finally:
        lambda_.update_alias(FunctionName=service["name"], Name="dev", FunctionVersion="2")
    assert get(orders, "dev").json()["label"] == "v2"


def test_a_permission_for_the_function_does_not_cover_its_alias(lab, lambda_, orders, service):
    """GIVEN stage qa (alias=qa) and only an unqualified permission WHEN called THEN 500;
    WHEN the alias's own permission is added THEN 200."""
    lambda_.add_permission(
        FunctionName=service["name"],
        StatementId=f"apigw-{orders.id}-unqualified",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:{lab.region}:{lab.account_id}:{orders.id}/*/GET/orders",
    )
    orders.deploy("qa", variables={"alias": "qa"})

    refused = get(orders, "qa")
    allow_alias(lab, orders, service["name"], "qa")
    allowed = get(orders, "qa")

    assert refused.status_code == 500
    assert refused.json() == {"message": "Internal server error"}
    assert any(f"{service['arn']}:qa has no resource policy" in n for n in lab.emulator.notes)
    assert allowed.status_code == 200 and allowed.json()["label"] == "v1"


def test_a_stage_variable_naming_no_alias_answers_500(orders):
    orders.deploy("nowhere", variables={"alias": "missing"})
    orders.deploy("novar")  # ${stageVariables.alias} undefined: the ARN ends in `function:name:`

    assert get(orders, "nowhere").status_code == 500
    assert get(orders, "novar").status_code == 500


def test_a_literal_alias_in_the_uri(lab, service):
    api = RestApi(lab, "literal")
    api.method("/orders", "GET")
    api.integration(
        "/orders",
        "GET",
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=alias_uri(lab, service["arn"], "dev"),
    )
    allow_alias(lab, api, service["name"], "dev")
    api.deploy("prod")

    resp = get(api, "prod")

    assert resp.status_code == 200 and resp.json()["label"] == "v2"


def test_a_weighted_alias_splits_the_stage_traffic(lab, lambda_, service):
    """GIVEN alias `split` -> 1 with {"2": 0.5} WHEN 200 requests THEN both versions answer.

    200 draws of p = 0.5: mean 100, standard deviation 7.1; [65, 135] is 4.9 deviations wide.
    """
    lambda_.create_alias(
        FunctionName=service["name"],
        Name="split",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}},
    )
    api = RestApi(lab, "split")
    api.method("/orders", "GET")
    api.integration(
        "/orders",
        "GET",
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=alias_uri(lab, service["arn"], "${stageVariables.alias}"),
    )
    allow_alias(lab, api, service["name"], "split")
    api.deploy("prod", variables={"alias": "split"})

    seen = Counter(json.loads(get(api, "prod").text)["label"] for _ in range(200))

    assert set(seen) == {"v1", "v2"}
    assert 65 <= seen["v2"] <= 135, seen


def test_a_canary_override_of_the_alias_variable_sends_its_share_to_the_other_alias(
    orders, service
):
    """GIVEN prod (alias=prod -> v1) WHEN a canary of the same deployment overrides alias=dev at
    100 % THEN prod serves v2; removing the canary brings v1 back."""
    apigw = orders.apigw
    apigw.update_stage(
        restApiId=orders.id,
        stageName="prod",
        patchOperations=[
            {"op": "replace", "path": "/canarySettings/percentTraffic", "value": "100"},
            {
                "op": "replace",
                "path": "/canarySettings/stageVariableOverrides/alias",
                "value": "dev",
            },
        ],
    )
    try:
        canary = get(orders, "prod").json()
    finally:
        apigw.update_stage(
            restApiId=orders.id,
            stageName="prod",
            patchOperations=[{"op": "remove", "path": "/canarySettings"}],
        )

    assert (canary["label"], canary["invoked"]) == ("v2", f"{service['arn']}:dev")
    assert canary["stageVariables"] == {"alias": "dev"}
    assert get(orders, "prod").json()["label"] == "v1"
