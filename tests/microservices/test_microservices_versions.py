"""Many versions of users at once: stages whose variable names a Lambda alias, the permission
each alias needs, a canary on a stage and its promotion, and the client generated from the
API's OpenAPI description.

Contract: API Gateway developer guide — stage variables in a Lambda integration URI
(`function:name:${stageVariables.alias}`: each stage runs the alias it names, and "you must
grant API Gateway permission to invoke" each alias, a permission on the function not covering a
qualified ARN),
https://docs.aws.amazon.com/apigateway/latest/developerguide/stage-variables.html; a missing
invoke permission answers 500 `{"message": "Internal server error"}` (x-amzn-ErrorType
InternalServerErrorException; the execution log says "Invalid permissions on Lambda function"),
https://repost.aws/knowledge-center/api-gateway-rest-api-lambda-integrations; canary releases
("total API traffic is separated at random into a production release and a canary release
with a pre-configured ratio"; the canary's stageVariableOverrides apply to its requests;
promoting copies the canary's deploymentId and variables to the stage),
https://docs.aws.amazon.com/apigateway/latest/developerguide/canary-release.html,
https://docs.aws.amazon.com/apigateway/latest/developerguide/promote-canary-deployment.html.
Lambda: `context.function_version` is the version that runs (the number, when invoked through
an alias), https://docs.aws.amazon.com/lambda/latest/dg/python-context.html.
helpers.clientgen's documented contract: a method per operationId in snake_case, BASE_URL the
description's server, ApiError(status, body) whose str() is "HTTP {status}: {the API's
message}".
"""

from __future__ import annotations

import json
import math
from collections import Counter

import pytest
import requests

from helpers import clientgen
from tests.microservices.support import build_users, register


def display_name(name: str) -> str:
    """Version 2's short name ("Ada Lovelace" → "Ada L."), as the notebook describes it."""
    words = name.split()
    return words[0] if len(words) == 1 else f"{words[0]} {words[-1][:1]}."


@pytest.fixture(scope="module")
def users(lab, deploy_app):
    """Section 1's users (prod → live → version 1), then section 5's: version 2 published with
    API_VERSION=2, aliases v1 and v2 with their permissions, stages v1 and v2."""
    users = build_users(lab, deploy_app)
    users.release("v1", users.versions["live"])
    users.release("v2", users.publish("2", "users API v2"))
    for alias in ("v1", "v2"):
        users.stage(alias, alias, description=f"users API {alias}")
    return users


@pytest.fixture(scope="module")
def grace(users):
    return register(users, "Grace Brewster Hopper", "grace@example.com")


def answered_by(resp: requests.Response) -> str:
    assert resp.status_code == 200, (resp.status_code, resp.text[:100])
    return resp.headers["X-Function-Version"]


def alias_version(lab, users, alias: str) -> str:
    return lab.client("lambda").get_alias(FunctionName=users.function, Name=alias)[
        "FunctionVersion"
    ]


# ---- stages and aliases -----------------------------------------------------------------------
def test_the_two_versions_are_distinct_lambda_versions(lab, users):
    lambda_ = lab.client("lambda")
    versions = lambda_.list_versions_by_function(FunctionName=users.function)["Versions"]
    settings = {
        v["Version"]: v["Environment"]["Variables"]["API_VERSION"]
        for v in versions
        if v["Version"] != "$LATEST"
    }

    assert settings == {alias_version(lab, users, "v1"): "1", alias_version(lab, users, "v2"): "2"}


@pytest.mark.parametrize("stage", ["v1", "v2", "prod"])
def test_each_stage_runs_the_version_its_alias_names(lab, users, grace, stage):
    alias = {"prod": "live"}.get(stage, stage)

    resp = requests.get(f"{users.url(stage)}/users/{grace}")

    assert answered_by(resp) == alias_version(lab, users, alias)
    expected_api = "2" if stage == "v2" else "1"
    assert resp.headers["X-Api-Version"] == expected_api
    user = resp.json()
    assert (user["user_id"], user["name"], user["email"]) == (
        grace,
        "Grace Brewster Hopper",
        "grace@example.com",
    )
    if expected_api == "2":
        assert user["display_name"] == display_name("Grace Brewster Hopper") == "Grace H."
        assert user["links"] == {"orders": f"https://orders.example.com/orders?user_id={grace}"}
    else:
        assert set(user) == {"user_id", "name", "email"}


def test_an_alias_without_a_permission_answers_500(lab, users, grace):
    """GIVEN a stage naming an alias the API may not invoke THEN API Gateway answers 500
    Internal server error; a permission on the unqualified function does not cover the alias,
    one on the alias does."""
    users.release("unpermitted", users.versions["v1"], allow=False)
    users.stage("nopermit", "unpermitted")
    url = f"{users.url('nopermit')}/users/{grace}"

    denied = requests.get(url)
    lab.client("lambda").add_permission(
        FunctionName=users.function,
        StatementId="users-api-unqualified",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:{lab.region}:{lab.account_id}:{users.api}/*/*/*",
    )
    still_denied = requests.get(url)
    users.allow("unpermitted")
    allowed = requests.get(url)

    for resp in (denied, still_denied):
        assert resp.status_code == 500
        assert resp.json() == {"message": "Internal server error"}
        assert resp.headers["x-amzn-ErrorType"] == "InternalServerErrorException"
    assert answered_by(allowed) == users.versions["v1"]


def test_a_stage_naming_an_alias_that_does_not_exist_answers_500(users, grace):
    users.stage("ghost", "no-such-alias")

    resp = requests.get(f"{users.url('ghost')}/users/{grace}")

    assert resp.status_code == 500
    assert resp.json() == {"message": "Internal server error"}


# ---- a canary -------------------------------------------------------------------------------
def binomial_bounds(n: int, p: float, sigmas: float = 5.0) -> tuple[int, int]:
    """The counts a Binomial(n, p) stays within but with probability < 1e-6 (5 sigma)."""
    mean, sd = n * p, math.sqrt(n * p * (1 - p))
    return math.floor(mean - sigmas * sd), math.ceil(mean + sigmas * sd)


def canary(lab, users, stage: str, percent: float) -> str:
    """Stage `stage` on alias v1, then a canary deployment with `percent` % of its traffic and
    the variable override alias=v2; the canary's deployment id."""
    users.stage(stage, "v1")
    return lab.client("apigateway").create_deployment(
        restApiId=users.api,
        stageName=stage,
        description="users v2, canary",
        canarySettings={
            "percentTraffic": percent,
            "stageVariableOverrides": {"alias": "v2"},
            "useStageCache": False,
        },
    )["id"]


def test_a_canary_takes_its_share_of_the_traffic(lab, users, grace):
    """GIVEN a canary with percentTraffic 10 THEN, of 400 requests, the v2 version answers a
    count within the binomial bounds of 10 %, and v1 the rest."""
    canary(lab, users, "canary", 10.0)
    n = 400

    answered = Counter(
        answered_by(requests.get(f"{users.url('canary')}/users/{grace}")) for _ in range(n)
    )

    v1, v2 = users.versions["v1"], users.versions["v2"]
    assert set(answered) <= {v1, v2}
    low, high = binomial_bounds(n, 0.10)
    assert low <= answered[v2] <= high, (answered, (low, high))
    assert answered[v1] + answered[v2] == n


def test_promoting_the_canary_moves_all_traffic_to_it(lab, users, grace):
    apigw = lab.client("apigateway")
    canary_deployment = canary(lab, users, "promote", 10.0)

    apigw.update_stage(
        restApiId=users.api,
        stageName="promote",
        patchOperations=[
            {"op": "copy", "from": "/canarySettings/deploymentId", "path": "/deploymentId"},
            {"op": "copy", "from": "/canarySettings/stageVariableOverrides", "path": "/variables"},
            {"op": "remove", "path": "/canarySettings"},
        ],
    )

    stage = apigw.get_stage(restApiId=users.api, stageName="promote")
    assert stage["deploymentId"] == canary_deployment
    assert stage["variables"] == {"alias": "v2"}
    assert "canarySettings" not in stage
    answered = Counter(
        answered_by(requests.get(f"{users.url('promote')}/users/{grace}")) for _ in range(40)
    )
    assert answered == {users.versions["v2"]: 40}


# ---- the generated client ---------------------------------------------------------------------
def generated_client(lab, users, stage: str):
    """The module clientgen makes from the stage's OpenAPI 3 export."""
    export = lab.client("apigateway").get_export(
        restApiId=users.api, stageName=stage, exportType="oas30", accepts="application/json"
    )
    source = clientgen.generate(json.loads(export["body"].read()), module_name="users_client")
    return clientgen.load(source)


@pytest.fixture(scope="module")
def client_stage(users):
    """A stage of its own for the client tests (alias v1), which one test repoints."""
    users.stage("client", "v1")
    return "client"


def test_the_generated_client_calls_the_running_api(lab, users, client_stage):
    module = generated_client(lab, users, client_stage)
    client = module.Client()

    me = client.register_user({"name": "Barbara Liskov", "email": "Barbara@Example.com"})
    fetched = client.get_user(me["user_id"])
    listed = client.list_users()

    assert module.BASE_URL == users.url(client_stage)
    assert me == {
        "user_id": me["user_id"],
        "name": "Barbara Liskov",
        "email": "barbara@example.com",
    }
    assert fetched == me
    assert me in listed["users"]
    direct = requests.get(f"{users.url(client_stage)}/users/{me['user_id']}").json()
    assert direct == fetched


def test_the_generated_client_raises_the_apis_errors(lab, users, client_stage):
    module = generated_client(lab, users, client_stage)
    client = module.Client()
    missing = requests.get(f"{users.url(client_stage)}/users/nobody")

    with pytest.raises(module.ApiError) as not_found:
        client.get_user("nobody")
    with pytest.raises(module.ApiError) as invalid:
        client.register_user({"name": "Nobody", "email": "not-an-email"})

    assert missing.status_code == 404
    assert not_found.value.status == 404
    assert not_found.value.body == missing.json()
    assert str(not_found.value) == f"HTTP 404: {missing.json()['message']}"
    assert invalid.value.status == 400
    assert isinstance(invalid.value.body["message"], str)


def test_version_2_fields_appear_when_the_stage_points_at_v2(lab, users, client_stage):
    """The same generated client, before and after its stage's variable moves to alias v2."""
    client = generated_client(lab, users, client_stage).Client()
    me = client.register_user({"name": "Edsger Wybe Dijkstra", "email": "ewd@example.com"})
    apigw = lab.client("apigateway")

    def point_at(alias):
        apigw.update_stage(
            restApiId=users.api,
            stageName=client_stage,
            patchOperations=[{"op": "replace", "path": "/variables/alias", "value": alias}],
        )

    before = client.get_user(me["user_id"])
    point_at("v2")
    try:
        after = client.get_user(me["user_id"])
    finally:
        point_at("v1")

    assert "display_name" not in before and "links" not in before
    assert after == {
        **before,
        "display_name": display_name("Edsger Wybe Dijkstra"),
        "links": {"orders": f"https://orders.example.com/orders?user_id={me['user_id']}"},
    }
