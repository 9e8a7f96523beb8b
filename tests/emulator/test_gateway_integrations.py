"""API Gateway MOCK and HTTP_PROXY integrations, and customised gateway responses.

Contract: "Set up mock integrations in API Gateway",
https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-mock-integration.html;
integration responses and selectionPattern,
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-integration-settings-integration-response.html;
gateway responses, https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-gatewayResponse-definition.html
"""

from __future__ import annotations

import pytest
import requests

from tests.emulator.gateway_support import RestApi

BOTH = ("moto", "moto-server")


@pytest.mark.backends(*BOTH)
def test_a_mock_options_method_answers_a_cors_preflight(lab):
    """The usual CORS set-up: OPTIONS, MOCK {"statusCode": 200}, static header mappings."""
    api = RestApi(lab, "cors")
    api.mock("/posts", "OPTIONS", 200)
    api.response(
        "/posts",
        "OPTIONS",
        "200",
        "",
        parameters={
            "method.response.header.Access-Control-Allow-Origin": "'*'",
            "method.response.header.Access-Control-Allow-Methods": "'GET,OPTIONS'",
        },
    )
    api.deploy()

    resp = requests.options(api.url("/posts"), headers={"Origin": "https://a.example"})

    assert resp.status_code == 200
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert resp.headers["Access-Control-Allow-Methods"] == "GET,OPTIONS"
    assert resp.content == b""


def test_the_selection_pattern_picks_the_integration_response(lab):
    """GIVEN MOCK returning statusCode 404 and responses default→200, '4\\d{2}'→404 THEN 404."""
    api = RestApi(lab, "select")
    api.mock("/", "GET", 404)
    for status, pattern, body in (("200", "", '{"ok": true}'), ("404", r"4\d{2}", '{"gone": 1}')):
        api.response("/", "GET", status, body, selectionPattern=pattern)
    api.deploy()

    resp = requests.get(api.url("/"))

    assert resp.status_code == 404
    assert resp.json() == {"gone": 1}


def test_http_proxy_forwards_to_another_api_of_the_lab(lab):
    """GIVEN API B with ANY /{proxy+} HTTP_PROXY to API A's stage WHEN GET B/x?y=1 THEN A's
    answer (A is a MOCK here), with status and body passed through."""
    upstream = RestApi(lab, "upstream")
    upstream.mock("/thing", "GET", 201)
    upstream.response("/thing", "GET", "201", '{"from": "upstream"}')
    upstream.deploy("v1")

    front = RestApi(lab, "front-door")
    front.method("/{proxy+}", "ANY", requestParameters={"method.request.path.proxy": True})
    front.integration(
        "/{proxy+}",
        "ANY",
        type="HTTP_PROXY",
        integrationHttpMethod="ANY",
        uri=upstream.url("/{proxy}", stage="v1"),
        requestParameters={"integration.request.path.proxy": "method.request.path.proxy"},
    )
    front.deploy()

    resp = requests.get(front.url("/thing?y=1"))

    assert resp.status_code == 201
    assert resp.json() == {"from": "upstream"}


def test_http_proxy_to_the_internet_is_not_made_offline(lab):
    api = RestApi(lab, "outside")
    api.method("/", "GET")
    api.integration(
        "/", "GET", type="HTTP_PROXY", integrationHttpMethod="GET", uri="https://example.com/"
    )
    api.deploy()

    resp = requests.get(api.url("/"))

    assert resp.status_code == 500
    assert any("HTTP_PROXY to https://example.com/" in note for note in lab.emulator.notes)


def test_a_customised_gateway_response_changes_error_headers_and_body(lab):
    """GIVEN put_gateway_response(DEFAULT_4XX) with a CORS header and a template THEN a missing
    route answers with them (after a deployment, as on AWS)."""
    api = RestApi(lab, "gwresp")
    api.mock("/", "GET", 200)
    api.apigw.put_gateway_response(
        restApiId=api.id,
        responseType="DEFAULT_4XX",
        responseParameters={"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"},
        responseTemplates={
            "application/json": '{"error": $context.error.messageString, "kind": "4xx"}'
        },
    )
    api.deploy()

    resp = requests.get(api.url("/missing"))

    assert resp.status_code == 403
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert resp.json() == {"error": "Missing Authentication Token", "kind": "4xx"}
    assert resp.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
