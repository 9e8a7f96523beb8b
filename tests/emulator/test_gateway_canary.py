"""API Gateway canary releases: a stage serves a canary deployment to a share of its traffic.

Contract: API Gateway developer guide, "Set up an API Gateway canary release deployment" and
its create, update and promote pages ("total API traffic is separated at random into a
production release and a canary release with a pre-configured ratio"; canary stage variables
override the stage's; the canary uses the stage cache only with useStageCache, and caches apart
when it serves another deployment),
https://docs.aws.amazon.com/apigateway/latest/developerguide/canary-release.html,
https://docs.aws.amazon.com/apigateway/latest/developerguide/create-canary-deployment.html,
https://docs.aws.amazon.com/apigateway/latest/developerguide/update-canary-deployment.html,
https://docs.aws.amazon.com/apigateway/latest/developerguide/promote-canary-deployment.html.
Stage shapes and error messages as AWS answered them in LocalStack's validated snapshots
(tests/aws/services/apigateway/test_apigateway_canary.snapshot.json).
"""

from __future__ import annotations

import json
from collections import Counter

import pytest
import requests
from botocore.exceptions import ClientError

from tests.emulator.gateway_support import RestApi

BACKENDS = ("moto",)
BOTH = ("moto", "moto-server")


def template(message: str) -> str:
    """A MOCK response naming the release, its stage variable and the request."""
    return json.dumps(
        {
            "message": message,
            "colour": "$stageVariables.colour",
            "newVar": "$stageVariables.newVar",
            "isCanary": "$context.isCanaryRequest",
            "deploymentId": "$context.deploymentId",
            "requestId": "$context.requestId",
        }
    )


def released(lab, name: str) -> tuple[RestApi, str]:
    """GET / deployed to prod as "base" (colour=blue), then changed (not deployed) to say
    "canary". Returns the API and the base deployment id."""
    api = RestApi(lab, name)
    api.mock("/", "GET", 200)
    api.response("/", "GET", "200", template("base"))
    base = api.apigw.create_deployment(
        restApiId=api.id, stageName="prod", variables={"colour": "blue"}
    )["id"]
    api.response("/", "GET", "200", template("canary"))
    return api, base


def canary_release(lab, name: str, percent: float, **settings) -> tuple[RestApi, str, str]:
    api, base = released(lab, name)
    canary = api.apigw.create_deployment(
        restApiId=api.id,
        stageName="prod",
        canarySettings={
            "percentTraffic": percent,
            "stageVariableOverrides": {"colour": "green", "newVar": "only-canary"},
            **settings,
        },
    )["id"]
    return api, base, canary


def stage(api: RestApi, name: str = "prod") -> dict:
    found = api.apigw.get_stage(restApiId=api.id, stageName=name)
    found.pop("ResponseMetadata")
    return found


def call(api: RestApi, path: str = "/", **kwargs) -> dict:
    resp = requests.get(api.url(path), **kwargs)
    assert resp.status_code == 200, resp.text
    return resp.json()


def error_of(caught: pytest.ExceptionInfo) -> tuple[str, str]:
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


# ---- the control plane ---------------------------------------------------------------------
@pytest.mark.backends(*BOTH)
def test_a_canary_deployment_keeps_the_stage_on_its_deployment(lab):
    """GIVEN prod on deployment A WHEN create_deployment(canarySettings) THEN the stage stays on
    A and canarySettings name the new deployment, as AWS shows them."""
    api, base, canary = canary_release(lab, "canary-settings", 10.5)

    found = stage(api)

    assert found["deploymentId"] == base
    assert found["variables"] == {"colour": "blue"}
    assert found["canarySettings"] == {
        "deploymentId": canary,
        "percentTraffic": 10.5,
        "stageVariableOverrides": {"colour": "green", "newVar": "only-canary"},
        "useStageCache": False,
    }


@pytest.mark.backends(*BOTH)
def test_a_canary_needs_an_existing_stage(lab):
    api, _ = released(lab, "canary-validation")
    apigw = api.apigw

    with pytest.raises(ClientError) as no_stage:
        apigw.create_deployment(restApiId=api.id, canarySettings={"percentTraffic": 50})
    with pytest.raises(ClientError) as missing:
        apigw.create_deployment(
            restApiId=api.id, stageName="non-existing", canarySettings={"percentTraffic": 50}
        )

    assert error_of(no_stage) == (
        "BadRequestException",
        "Invalid deployment content specified.Non null and non empty stageName must be provided "
        "for canary deployment. Provided value is null",
    )
    assert error_of(missing) == (
        "BadRequestException",
        "Invalid deployment content specified.Stage non-existing must already be created before "
        "making a canary release deployment",
    )
    assert "non-existing" not in {
        s["stageName"] for s in apigw.get_stages(restApiId=api.id)["item"]
    }


def test_create_stage_with_canary_settings(lab):
    api, base = released(lab, "canary-create-stage")
    second = api.apigw.create_deployment(restApiId=api.id)["id"]

    created = api.apigw.create_stage(
        restApiId=api.id,
        stageName="dev",
        deploymentId=base,
        variables={"colour": "blue"},
        canarySettings={"deploymentId": second, "percentTraffic": 50},
    )
    defaulted = api.apigw.create_stage(
        restApiId=api.id, stageName="qa", deploymentId=base, canarySettings={"percentTraffic": 5}
    )

    assert created["canarySettings"] == {
        "deploymentId": second,
        "percentTraffic": 50.0,
        "useStageCache": False,
    }
    assert defaulted["canarySettings"]["deploymentId"] == base  # the stage's own deployment
    with pytest.raises(ClientError) as caught:
        api.apigw.create_stage(
            restApiId=api.id,
            stageName="bad",
            deploymentId=base,
            canarySettings={"deploymentId": "deploy"},
        )
    assert error_of(caught) == ("BadRequestException", "Deployment id does not exist")


@pytest.mark.backends(*BOTH)
def test_update_stage_adds_changes_and_removes_a_canary(lab):
    """GIVEN a stage without canary WHEN replace /canarySettings/... THEN a canary of the
    stage's deployment with AWS's defaults; overrides replaced and removed; then removed."""
    api, base = released(lab, "canary-update")
    apigw = api.apigw

    def update(*ops):
        found = apigw.update_stage(restApiId=api.id, stageName="prod", patchOperations=list(ops))
        return found.get("canarySettings")

    added = update({"op": "replace", "path": "/canarySettings/percentTraffic", "value": "25.0"})
    changed = update(
        {"op": "replace", "path": "/canarySettings/stageVariableOverrides/colour", "value": "red"},
        {"op": "replace", "path": "/canarySettings/stageVariableOverrides/size", "value": "xl"},
        {"op": "replace", "path": "/canarySettings/useStageCache", "value": "true"},
    )
    trimmed = update({"op": "remove", "path": "/canarySettings/stageVariableOverrides/size"})
    removed = update({"op": "remove", "path": "/canarySettings"})

    assert added == {"deploymentId": base, "percentTraffic": 25.0, "useStageCache": False}
    assert changed["stageVariableOverrides"] == {"colour": "red", "size": "xl"}
    assert changed["useStageCache"] is True
    assert trimmed["stageVariableOverrides"] == {"colour": "red"}
    assert removed is None
    assert "canarySettings" not in stage(api)


@pytest.mark.parametrize(
    ("operation", "message"),
    [
        (
            {"op": "add", "path": "/canarySettings/deploymentId", "value": "x"},
            "Invalid add operation with path: /canarySettings/deploymentId",
        ),
        (
            {"op": "remove", "path": "/canarySettings/stageVariableOverrides"},
            "Cannot remove method setting canarySettings/stageVariableOverrides because there is "
            "no method setting for this method ",
        ),
        (
            {"op": "remove", "path": "/canarySettings/badPath"},
            "Cannot remove method setting canarySettings/badPath because there is no method "
            "setting for this method ",
        ),
        (
            {"op": "replace", "path": "/canarySettings/badPath", "value": "badPath"},
            "Invalid method setting path: /canarySettings/badPath. Must be one of: "
            "[/deploymentId, /description,",
        ),
        (
            {"op": "replace", "path": "/canarySettings/deploymentId", "value": "deploy"},
            "Deployment id does not exist",
        ),
        (
            {"op": "copy", "from": "/canarySettings/deploymentId", "path": "/deploymentId"},
            "Promotion not available. Canary does not exist.",
        ),
        (
            {"op": "copy", "from": "/variables", "path": "/canarySettings/stageVariableOverrides"},
            "Invalid copy operation with path: /canarySettings/stageVariableOverrides and from "
            "/variables. Valid copy:path are [/deploymentId, /variables]",
        ),
    ],
    ids=[
        "add",
        "remove-overrides",
        "remove-bad",
        "replace-bad",
        "no-deployment",
        "copy-none",
        "copy-bad",
    ],
)
def test_update_stage_refuses_what_aws_refuses(lab, request, operation, message):
    api, _ = released(lab, f"canary-refuse-{request.node.callspec.id}")

    with pytest.raises(ClientError) as caught:
        api.apigw.update_stage(restApiId=api.id, stageName="prod", patchOperations=[operation])

    code, text = error_of(caught)
    assert code == "BadRequestException"
    assert text.startswith(message)
    assert "canarySettings" not in stage(api)


# ---- the data plane ------------------------------------------------------------------------
def test_no_canary_traffic_at_0_percent_and_all_of_it_at_100(lab):
    api, base, canary = canary_release(lab, "canary-extremes", 0)

    at_zero = [call(api) for _ in range(30)]
    api.apigw.update_stage(
        restApiId=api.id,
        stageName="prod",
        patchOperations=[
            {"op": "replace", "path": "/canarySettings/percentTraffic", "value": "100.0"}
        ],
    )
    at_hundred = [call(api) for _ in range(30)]

    assert {(r["message"], r["isCanary"], r["deploymentId"]) for r in at_zero} == {
        ("base", "false", base)
    }
    assert {(r["message"], r["isCanary"], r["deploymentId"]) for r in at_hundred} == {
        ("canary", "true", canary)
    }


def test_canary_requests_see_the_overridden_stage_variables(lab):
    """The canary sees its overrides on top of the stage's variables; the base only the stage's
    (a variable the stage lacks renders empty, as in AWS's mapping templates)."""
    api, _, _ = canary_release(lab, "canary-variables", 0)

    base = call(api)
    api.apigw.update_stage(
        restApiId=api.id,
        stageName="prod",
        patchOperations=[
            {"op": "replace", "path": "/canarySettings/percentTraffic", "value": "100"}
        ],
    )
    canary = call(api)

    assert (base["colour"], base["newVar"]) == ("blue", "")
    assert (canary["colour"], canary["newVar"]) == ("green", "only-canary")


@pytest.mark.backends(*BOTH)
def test_percent_traffic_splits_requests_at_random(lab):
    """GIVEN 30 % to the canary WHEN 300 requests THEN about 90 reach it.

    300 draws of p = 0.3: mean 90, standard deviation 7.9; [55, 125] is 4.4 deviations wide."""
    api, _, _ = canary_release(lab, "canary-split", 30)

    seen = Counter(
        (r["message"], r["colour"], r["isCanary"]) for r in (call(api) for _ in range(300))
    )

    assert set(seen) == {("base", "blue", "false"), ("canary", "green", "true")}
    assert 55 <= seen[("canary", "green", "true")] <= 125, seen


def test_the_lambda_proxy_event_of_a_canary_request(lab, deploy):
    """A canary request reaches the canary's integration with the overridden stageVariables."""
    echo = deploy("canary-echo", "gateway_echo.py", handler="gateway_echo.handler")
    api = RestApi(lab, "canary-proxy")
    api.mock("/", "GET", 200)
    api.response("/", "GET", "200", '{"from": "mock"}')
    api.allow(echo)
    api.apigw.create_deployment(restApiId=api.id, stageName="prod", variables={"colour": "blue"})
    api.apigw.delete_integration(restApiId=api.id, resourceId=api.ids["/"], httpMethod="GET")
    api.lambda_integration("/", "GET", echo)
    canary = api.apigw.create_deployment(
        restApiId=api.id,
        stageName="prod",
        canarySettings={"percentTraffic": 100, "stageVariableOverrides": {"colour": "green"}},
    )["id"]

    event = call(api)["event"]

    assert event["stageVariables"] == {"colour": "green"}
    assert event["requestContext"]["deploymentId"] == canary
    assert event["requestContext"]["stage"] == "prod"


def test_promoting_the_canary_serves_it_to_everyone(lab):
    """promote-canary-deployment.html: copy the canary's deployment and variables to the stage,
    then remove the canary."""
    api, base, canary = canary_release(lab, "canary-promote", 10)

    promoted = api.apigw.update_stage(
        restApiId=api.id,
        stageName="prod",
        patchOperations=[
            {"op": "replace", "path": "/canarySettings/percentTraffic", "value": "0.0"},
            {"op": "copy", "from": "/canarySettings/deploymentId", "path": "/deploymentId"},
            {"op": "copy", "from": "/canarySettings/stageVariableOverrides", "path": "/variables"},
            {"op": "remove", "path": "/canarySettings"},
        ],
    )
    answers = {
        (r["message"], r["colour"], r["newVar"], r["isCanary"])
        for r in (call(api) for _ in range(20))
    }

    assert promoted["deploymentId"] == canary != base
    assert promoted["variables"] == {"colour": "green", "newVar": "only-canary"}
    assert "canarySettings" not in promoted
    assert answers == {("canary", "green", "only-canary", "")}


def test_promoting_by_replacing_the_deployment_id(lab):
    api, _, canary = canary_release(lab, "canary-replace", 50)

    api.apigw.update_stage(
        restApiId=api.id,
        stageName="prod",
        patchOperations=[
            {"op": "replace", "path": "/deploymentId", "value": canary},
            {"op": "remove", "path": "/canarySettings"},
        ],
    )

    assert {call(api)["message"] for _ in range(20)} == {"canary"}
    with pytest.raises(ClientError) as caught:
        api.apigw.update_stage(
            restApiId=api.id,
            stageName="prod",
            patchOperations=[{"op": "replace", "path": "/deploymentId", "value": "nope"}],
        )
    assert error_of(caught) == ("BadRequestException", "Deployment id does not exist")


def cached_release(lab, name: str, *, use_stage_cache: bool) -> RestApi:
    api, _, _ = canary_release(lab, name, 50, useStageCache=use_stage_cache)
    api.apigw.update_stage(
        restApiId=api.id,
        stageName="prod",
        patchOperations=[
            {"op": "replace", "path": "/cacheClusterEnabled", "value": "true"},
            {"op": "replace", "path": "/*/*/caching/enabled", "value": "true"},
        ],
    )
    return api


def test_canary_requests_skip_the_stage_cache_without_use_stage_cache(lab):
    """GIVEN a cached stage and a canary without useStageCache WHEN 40 requests THEN every base
    answer is one cached response and every canary answer is fresh."""
    api = cached_release(lab, "canary-nocache", use_stage_cache=False)

    answers = [call(api) for _ in range(40)]

    base = {r["requestId"] for r in answers if r["message"] == "base"}
    canary = [r["requestId"] for r in answers if r["message"] == "canary"]
    assert len(base) == 1
    assert len(canary) == len(set(canary)) > 1


def test_a_canary_with_use_stage_cache_caches_its_own_responses_apart(lab):
    """GIVEN useStageCache and another deployment WHEN 40 requests THEN one cached answer each."""
    api = cached_release(lab, "canary-cache", use_stage_cache=True)

    answers = [call(api) for _ in range(40)]

    by_release = {(r["message"], r["requestId"]) for r in answers}
    assert {message for message, _ in by_release} == {"base", "canary"}
    assert len(by_release) == 2
