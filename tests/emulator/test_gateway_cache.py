"""API Gateway stage cache and CloudWatch metrics.

Contract: "Cache settings for REST APIs in API Gateway" (only GET cached by default, TTL 300 s
default and 3600 s maximum, cache keys, Cache-Control: max-age=0, flushing),
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-caching.html;
path parameters are not in the key unless listed (https://github.com/aws-amplify/amplify-cli/issues/1399);
"Amazon API Gateway dimensions and metrics",
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-metrics-and-dimensions.html
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests

from tests.emulator.gateway_support import RestApi

BOTH = ("moto", "moto-server")


class CachedApi(RestApi):
    """GET /posts/{id} (id in the cache key), GET /tags/{tag} (no key), POST /posts, on prod."""

    def __init__(self, lab, function: str, name: str, *, cluster: bool = True):
        super().__init__(lab, name)
        self._method("/posts/{id}", "GET", function, ["method.request.path.id"])
        self._method("/tags/{tag}", "GET", function, [])
        self._method("/posts", "POST", function, [])
        self.allow(function, "*")
        self.deploy()
        ops = [{"op": "replace", "path": "/*/*/caching/enabled", "value": "true"}]
        if cluster:
            ops.insert(0, {"op": "replace", "path": "/cacheClusterEnabled", "value": "true"})
        self.update(ops)

    def _method(self, path: str, method: str, function: str, keys: list[str]) -> None:
        self.method(path, method, requestParameters=dict.fromkeys(keys, True))
        self.lambda_integration(path, method, function, cacheKeyParameters=keys)

    def update(self, ops: list[dict[str, str]]) -> None:
        self.apigw.update_stage(restApiId=self.id, stageName="prod", patchOperations=ops)

    def get(self, path: str, **kwargs) -> requests.Response:
        return requests.get(self.url(path), **kwargs)

    def post(self, path: str) -> requests.Response:
        return requests.post(self.url(path), data=b"{}")


def invocation(resp: requests.Response) -> str:
    """The Lambda request id that produced the response (the same one when it came from cache)."""
    assert resp.status_code == 200, resp.text
    return resp.json()["request_id"]


@pytest.fixture(scope="module")
def echo(deploy):
    return deploy("echo", "gateway_echo.py", handler="gateway_echo.handler")


@pytest.fixture
def api(lab, echo, request):
    return CachedApi(lab, echo, f"cache-{request.node.name[:12]}")


@pytest.mark.backends(*BOTH)
def test_a_cached_get_does_not_invoke_the_function_again(api, echo, starts_of):
    first = invocation(api.get("/posts/1"))
    starts = len(starts_of(echo))
    second = invocation(api.get("/posts/1"))

    assert second == first
    assert len(starts_of(echo)) == starts


def test_the_entry_expires_after_the_ttl_in_lab_time(lab, api):
    """GIVEN ttl 60 s WHEN 59 s pass THEN still cached; WHEN 61 s THEN the function runs."""
    api.update([{"op": "replace", "path": "/*/*/caching/ttlInSeconds", "value": "60"}])
    first = invocation(api.get("/posts/1"))
    lab.clock.advance(59)
    assert invocation(api.get("/posts/1")) == first
    lab.clock.advance(2)
    assert invocation(api.get("/posts/1")) != first


def test_the_default_ttl_is_300_seconds(lab, api):
    first = invocation(api.get("/posts/1"))
    lab.clock.advance(299)
    assert invocation(api.get("/posts/1")) == first
    lab.clock.advance(2)
    assert invocation(api.get("/posts/1")) != first


def test_a_listed_path_parameter_is_part_of_the_key(api):
    assert invocation(api.get("/posts/1")) != invocation(api.get("/posts/2"))


def test_query_strings_and_unlisted_path_parameters_are_not_part_of_the_key(api):
    """GIVEN GET /tags/{tag} with no cacheKeyParameters THEN /tags/a and /tags/b share an entry,
    and so do ?page=1 and ?page=2 (AWS keys only on the parameters you list)."""
    first = invocation(api.get("/tags/a?page=1"))

    assert invocation(api.get("/tags/b?page=2")) == first
    assert invocation(api.get("/posts/1?page=1")) == invocation(api.get("/posts/1?page=2"))


def test_any_function_status_is_cached_but_not_the_gateways_own_errors(api):
    """GIVEN /posts/8?mode=teapot (the function answers 418) THEN /posts/8 gets that 418 from
    the cache (the query is not in the key); a 502 (function error) is not cached."""
    assert api.get("/posts/8?mode=teapot").status_code == 418
    assert api.get("/posts/8").status_code == 418

    assert api.get("/posts/9?mode=raise").status_code == 502
    assert api.get("/posts/9").status_code == 200


def test_only_get_is_cached_by_default(api):
    assert invocation(api.post("/posts")) != invocation(api.post("/posts"))


def test_a_method_override_turns_caching_off_for_one_method(api):
    api.update([{"op": "replace", "path": "/~1posts~1{id}/GET/caching/enabled", "value": "false"}])

    assert invocation(api.get("/posts/1")) != invocation(api.get("/posts/1"))
    assert invocation(api.get("/tags/a")) == invocation(api.get("/tags/a"))


def test_without_a_cache_cluster_nothing_is_cached(lab, echo):
    api = CachedApi(lab, echo, "nocluster", cluster=False)

    assert invocation(api.get("/posts/1")) != invocation(api.get("/posts/1"))


@pytest.mark.backends(*BOTH)
def test_flush_stage_cache_empties_the_cache(api):
    first = invocation(api.get("/posts/1"))

    api.apigw.flush_stage_cache(restApiId=api.id, stageName="prod")

    assert invocation(api.get("/posts/1")) != first


def test_a_redeployment_keeps_the_stage_cache_settings(api):
    first = invocation(api.get("/posts/1"))

    api.apigw.create_deployment(restApiId=api.id, stageName="prod")
    stage = api.apigw.get_stage(restApiId=api.id, stageName="prod")

    assert stage["cacheClusterEnabled"] is True
    assert stage["methodSettings"]["*/*"]["cachingEnabled"] is True
    assert invocation(api.get("/posts/1")) == first


# ---- Cache-Control: max-age=0 -------------------------------------------------------------
def test_an_unauthorized_max_age_0_is_ignored_with_a_warning_by_default(api):
    """requireAuthorizationForCacheControl defaults to true; the strategy to
    SUCCEED_WITH_RESPONSE_HEADER: served from cache, with a warning header."""
    first = invocation(api.get("/posts/1"))
    resp = api.get("/posts/1", headers={"Cache-Control": "max-age=0"})

    assert invocation(resp) == first
    assert "Warning" in resp.headers


def test_fail_with_403_refuses_an_unauthorized_invalidation(api):
    api.update(
        [
            {
                "op": "replace",
                "path": "/*/*/caching/unauthorizedCacheControlHeaderStrategy",
                "value": "FAIL_WITH_403",
            }
        ]
    )
    api.get("/posts/1")

    assert api.get("/posts/1", headers={"Cache-Control": "max-age=0"}).status_code == 403


def test_without_required_authorization_max_age_0_refreshes_the_entry(api):
    api.update(
        [
            {
                "op": "replace",
                "path": "/*/*/caching/requireAuthorizationForCacheControl",
                "value": "false",
            }
        ]
    )
    first = invocation(api.get("/posts/1"))
    fresh = invocation(api.get("/posts/1", headers={"Cache-Control": "max-age=0"}))

    assert fresh != first
    assert invocation(api.get("/posts/1")) == fresh  # the entry was replaced


# ---- CloudWatch metrics -----------------------------------------------------------------------
def stats(lab, api, metric: str, *extra_dimensions: dict[str, str]) -> dict[str, float]:
    cloudwatch = lab.client("cloudwatch")
    now = lab.clock.datetime()
    points = cloudwatch.get_metric_statistics(
        Namespace="AWS/ApiGateway",
        MetricName=metric,
        Dimensions=[{"Name": "ApiName", "Value": api.name}, *extra_dimensions],
        StartTime=now - timedelta(minutes=10),
        EndTime=now + timedelta(minutes=1),
        Period=3600,
        Statistics=["Sum", "SampleCount"],
    )["Datapoints"]
    return {
        "Sum": sum(p["Sum"] for p in points),
        "SampleCount": sum(p["SampleCount"] for p in points),
    }


@pytest.mark.backends(*BOTH)
def test_requests_publish_aws_apigateway_metrics(lab, api):
    """GIVEN 3 GETs (1 miss, 2 hits) and one 403 THEN Count 4, CacheHitCount 2,
    CacheMissCount 1, 4XXError 1, 5XXError 0, per ApiName + Stage, in lab time."""
    lab.clock.advance(3600)  # metrics carry lab-clock timestamps
    for _ in range(3):
        api.get("/posts/1")
    api.get("/nothing")
    stage = {"Name": "Stage", "Value": "prod"}

    assert stats(lab, api, "Count", stage)["SampleCount"] == 4
    assert stats(lab, api, "CacheHitCount", stage)["Sum"] == 2
    assert stats(lab, api, "CacheMissCount", stage)["Sum"] == 1
    assert stats(lab, api, "4XXError", stage) == {"Sum": 1, "SampleCount": 4}
    assert stats(lab, api, "5XXError", stage)["Sum"] == 0
    assert stats(lab, api, "Latency", stage)["SampleCount"] == 4
    assert stats(lab, api, "IntegrationLatency", stage)["SampleCount"] == 1


def test_detailed_metrics_add_method_and_resource_dimensions(lab, api):
    method = [
        {"Name": "Method", "Value": "GET"},
        {"Name": "Resource", "Value": "/posts/{id}"},
        {"Name": "Stage", "Value": "prod"},
    ]
    api.get("/posts/1")
    assert stats(lab, api, "Count", *method)["SampleCount"] == 0

    api.update([{"op": "replace", "path": "/*/*/metrics/enabled", "value": "true"}])
    api.get("/posts/1")

    assert stats(lab, api, "Count", *method)["SampleCount"] == 1
