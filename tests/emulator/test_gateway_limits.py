"""API Gateway API keys, usage plans (throttle and quota) and stage method throttling.

Contract: "Usage plans and API keys for REST APIs",
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-usage-plans.html;
"Throttle requests to your REST APIs" (token bucket, 429),
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html;
403 bodies, https://repost.aws/knowledge-center/api-gateway-troubleshoot-403-forbidden
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests

from tests.emulator.gateway_support import RestApi

BOTH = ("moto", "moto-server")


class MockApi(RestApi):
    """GET /ping answered by a MOCK integration (200, a static body), on stage prod."""

    def __init__(self, lab, name: str, *, api_key_required: bool = False, auth: str = "NONE"):
        super().__init__(lab, name)
        self.mock("/ping", "GET", 200, auth=auth, apiKeyRequired=api_key_required)
        self.response("/ping", "GET", "200", '{"pong": true}')
        self.deploy()

    def get(self, **headers: str) -> requests.Response:
        return requests.get(self.url("/ping"), headers=headers)

    def key_in_plan(self, *, throttle=None, quota=None, enabled: bool = True) -> str:
        """An API key in a usage plan for this API's prod stage; returns the key's value."""
        key = self.apigw.create_api_key(name=self.lab.name("key"), enabled=enabled)
        plan_args = {"apiStages": [{"apiId": self.id, "stage": "prod"}]}
        if throttle:
            plan_args["throttle"] = throttle
        if quota:
            plan_args["quota"] = quota
        plan = self.apigw.create_usage_plan(name=self.lab.name("plan"), **plan_args)
        self.apigw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
        return key["value"]


def assert_refused(resp: requests.Response, status: int, message: str, error_type: str) -> None:
    assert resp.status_code == status, resp.text
    assert resp.json() == {"message": message}
    assert resp.headers["x-amzn-ErrorType"] == error_type


# ---- API keys ---------------------------------------------------------------------------------
@pytest.mark.backends(*BOTH)
def test_a_method_that_requires_a_key_refuses_a_request_without_one(lab):
    api = MockApi(lab, "keys", api_key_required=True)
    value = api.key_in_plan()

    assert_refused(api.get(), 403, "Forbidden", "ForbiddenException")
    assert_refused(api.get(**{"x-api-key": "x" * 40}), 403, "Forbidden", "ForbiddenException")
    ok = api.get(**{"x-api-key": value})
    assert ok.status_code == 200
    assert ok.json() == {"pong": True}


def test_a_key_outside_any_usage_plan_or_disabled_is_forbidden(lab):
    api = MockApi(lab, "keys-plan", api_key_required=True)
    loose = api.apigw.create_api_key(name=lab.name("loose"), enabled=True)["value"]
    disabled = api.key_in_plan(enabled=False)

    assert_refused(api.get(**{"x-api-key": loose}), 403, "Forbidden", "ForbiddenException")
    assert_refused(api.get(**{"x-api-key": disabled}), 403, "Forbidden", "ForbiddenException")


def test_a_method_without_api_key_required_ignores_keys(lab):
    api = MockApi(lab, "nokeys")

    assert api.get().status_code == 200


def test_the_function_sees_the_api_key_in_the_request_context(lab, deploy):
    fn = deploy("echo", "gateway_echo.py", handler="gateway_echo.handler")
    api = MockApi(lab, "keys-lambda", api_key_required=True)
    api.lambda_integration("/ping", "GET", fn)
    api.allow(fn, "*/GET/ping")
    api.deploy()
    value = api.key_in_plan()

    identity = api.get(**{"x-api-key": value}).json()["event"]["requestContext"]["identity"]

    assert identity["apiKey"] == value
    assert identity["apiKeyId"]


# ---- usage plans ------------------------------------------------------------------------------
@pytest.mark.backends(*BOTH)
def test_the_usage_plan_throttle_is_a_token_bucket_in_lab_time(lab):
    """GIVEN rateLimit 1/s, burstLimit 2 WHEN 3 requests at once THEN the third is 429;
    WHEN a second of lab time passes THEN one more goes through."""
    api = MockApi(lab, "throttle", api_key_required=True)
    value = api.key_in_plan(throttle={"rateLimit": 1.0, "burstLimit": 2})
    key = {"x-api-key": value}

    assert [api.get(**key).status_code for _ in range(2)] == [200, 200]
    assert_refused(api.get(**key), 429, "Too Many Requests", "TooManyRequestsException")
    lab.clock.advance(1)
    assert api.get(**key).status_code == 200


def test_the_usage_plan_quota_resets_with_its_period(lab):
    """GIVEN a quota of 3 a day WHEN a 4th request comes THEN 429 Limit Exceeded, until the
    next UTC day."""
    api = MockApi(lab, "quota", api_key_required=True)
    value = api.key_in_plan(quota={"limit": 3, "period": "DAY"})
    key = {"x-api-key": value}

    assert [api.get(**key).status_code for _ in range(3)] == [200, 200, 200]
    assert_refused(api.get(**key), 429, "Limit Exceeded", "LimitExceededException")
    lab.clock.advance(timedelta(days=1))
    assert api.get(**key).status_code == 200


def test_stage_method_throttling_applies_to_every_caller(lab):
    api = MockApi(lab, "stage-throttle")
    api.apigw.update_stage(
        restApiId=api.id,
        stageName="prod",
        patchOperations=[
            {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "1"},
            {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "1"},
        ],
    )

    assert api.get().status_code == 200
    assert_refused(api.get(), 429, "Too Many Requests", "TooManyRequestsException")
    lab.clock.advance(1)
    assert api.get().status_code == 200


# ---- authorization types ------------------------------------------------------------------------
def test_an_unsigned_request_to_an_aws_iam_method_is_missing_authentication_token(lab):
    api = MockApi(lab, "iam", auth="AWS_IAM")

    assert_refused(
        api.get(), 403, "Missing Authentication Token", "MissingAuthenticationTokenException"
    )


def test_the_authorizer_seam_puts_its_context_in_the_event(lab, deploy):
    """The seam a later authorizer plugs into: its result becomes requestContext.authorizer."""
    from helpers.emulator.gateway import Authorized

    fn = deploy("echo-auth", "gateway_echo.py", handler="gateway_echo.handler")
    api = RestApi(lab, "seam")
    api.lambda_proxy("/", "GET", fn, auth="CUSTOM")
    api.allow(fn, "*")
    api.deploy()
    url = api.url("/")

    assert requests.get(url).status_code == 500  # CUSTOM is not emulated yet
    gateway = lab.emulator.gateway
    gateway.authorizers["CUSTOM"] = lambda call: Authorized(context={"principalId": "ada"})
    try:
        event = requests.get(url).json()["event"]
    finally:
        del gateway.authorizers["CUSTOM"]

    assert event["requestContext"]["authorizer"] == {"principalId": "ada"}
