"""API Gateway REST APIs: routing, the Lambda proxy event, the response mapping and AWS's errors.

Contract: API Gateway developer guide, "Lambda proxy integrations" (input and output formats),
https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html;
"Troubleshoot HTTP 403 errors", https://repost.aws/knowledge-center/api-gateway-troubleshoot-403-forbidden;
binary payloads, https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-payload-encodings-workflow.html
"""

from __future__ import annotations

import base64
import re

import pytest
import requests

from tests.emulator.gateway_support import RestApi, lambda_uri

BACKENDS = ("moto", "moto-server")
REQUEST_ID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def echo(deploy):
    return deploy("echo", "gateway_echo.py", handler="gateway_echo.handler")


@pytest.fixture(scope="module")
def blog(lab, echo):
    """GET /posts/{id}, GET /posts/latest, ANY /files/{proxy+}, POST + ANY /posts, GET /."""
    api = RestApi(lab, "blog")
    api.lambda_proxy("/posts/{id}", "GET", echo)
    api.lambda_proxy("/posts/latest", "GET", echo)
    api.lambda_proxy("/files/{proxy+}", "ANY", echo)
    api.lambda_proxy("/posts", "POST", echo)
    api.lambda_proxy("/posts", "ANY", echo)
    api.lambda_proxy("/", "GET", echo)
    api.allow(echo)
    api.deploy("prod", variables={"table": "posts-prod"})
    return api


def event_of(resp: requests.Response) -> dict:
    assert resp.status_code == 200, resp.text
    return resp.json()["event"]


# ---- the proxy event ------------------------------------------------------------------------
def test_a_get_reaches_the_function_with_the_rest_proxy_event(lab, blog):
    """GIVEN GET /posts/{id} WHEN /prod/posts/42?x=1&x=2&y= THEN the v1 proxy event, as on AWS."""
    before = lab.clock.now()
    resp = requests.get(blog.url("/posts/42?x=1&x=2&y="), headers={"X-Custom": "hello"})
    event = event_of(resp)

    assert event["resource"] == "/posts/{id}"
    assert event["path"] == "/posts/42"
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"id": "42"}
    assert event["queryStringParameters"] == {"x": "2", "y": ""}
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"], "y": [""]}
    assert event["stageVariables"] == {"table": "posts-prod"}
    assert event["body"] is None
    assert event["isBase64Encoded"] is False
    assert event["headers"]["X-Custom"] == "hello"
    assert event["headers"]["Host"] == f"{blog.id}.execute-api.{lab.region}.amazonaws.com"
    assert event["multiValueHeaders"]["X-Custom"] == ["hello"]
    assert event["headers"]["X-Forwarded-Proto"] == "https"
    assert re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24}", event["headers"]["X-Amzn-Trace-Id"])

    ctx = event["requestContext"]
    assert ctx["resourcePath"] == "/posts/{id}"
    assert ctx["resourceId"] == blog.ids["/posts/{id}"]
    assert ctx["httpMethod"] == "GET"
    assert ctx["path"] == "/prod/posts/42"
    assert ctx["stage"] == "prod"
    assert ctx["apiId"] == ctx["domainPrefix"] == blog.id
    assert ctx["domainName"] == f"{blog.id}.execute-api.{lab.region}.amazonaws.com"
    assert ctx["accountId"] == lab.account_id
    assert ctx["protocol"] == "HTTP/1.1"
    assert ctx["requestId"] == resp.headers["x-amzn-RequestId"]
    assert re.fullmatch(REQUEST_ID, ctx["requestId"])
    assert ctx["extendedRequestId"] == resp.headers["x-amz-apigw-id"]
    assert re.fullmatch(r"\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000", ctx["requestTime"])
    assert before * 1000 - 1 <= ctx["requestTimeEpoch"] <= lab.clock.now() * 1000 + 1
    identity = ctx["identity"]
    assert identity["sourceIp"] == "127.0.0.1"
    assert identity["userAgent"] == requests.utils.default_user_agent()
    for name in ("cognitoIdentityPoolId", "accountId", "caller", "user", "userArn", "accessKey"):
        assert identity[name] is None
    assert "authorizer" not in ctx  # authorizationType NONE


def test_no_query_string_path_parameters_or_stage_variables_are_nulls(lab, echo):
    """GIVEN GET / on a stage without variables WHEN called bare THEN those fields are null."""
    api = RestApi(lab, "bare")
    api.lambda_proxy("/", "GET", echo)
    api.allow(echo)
    api.deploy("dev")

    event = event_of(requests.get(api.url("/", stage="dev")))

    assert event["resource"] == "/"
    assert event["path"] == "/"
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["pathParameters"] is None
    assert event["stageVariables"] is None
    assert event["requestContext"]["path"] == "/dev/"


def test_a_post_body_reaches_the_function_as_text(blog):
    resp = requests.post(blog.url("/posts"), json={"title": "Hello"})
    event = event_of(resp)

    assert event["httpMethod"] == "POST"
    assert event["resource"] == "/posts"
    assert event["body"] == '{"title": "Hello"}'
    assert event["isBase64Encoded"] is False
    assert event["headers"]["Content-Type"] == "application/json"


# ---- routing --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "resource", "params"),
    [
        ("/posts/latest", "/posts/latest", None),  # a literal part beats {id}
        ("/posts/7", "/posts/{id}", {"id": "7"}),
        ("/files/a/b/c.txt", "/files/{proxy+}", {"proxy": "a/b/c.txt"}),  # greedy
        ("/posts/hello%20world", "/posts/{id}", {"id": "hello world"}),  # decoded
        ("/", "/", None),
    ],
)
def test_routing_picks_the_resource_as_aws_does(blog, path, resource, params):
    event = event_of(requests.get(blog.url(path)))

    assert event["resource"] == resource
    assert event["pathParameters"] == params
    assert event["path"] == path  # the path as sent (REST APIs keep its percent-encoding)


def test_a_method_matches_before_any(blog):
    """GIVEN POST /posts and ANY /posts WHEN POST and DELETE THEN each finds its method."""
    post = event_of(requests.post(blog.url("/posts"), data=b"x"))
    delete = event_of(requests.delete(blog.url("/posts")))

    assert post["httpMethod"] == "POST"
    assert delete["httpMethod"] == "DELETE"
    assert delete["resource"] == "/posts"


@pytest.mark.parametrize(
    "url_path",
    ["/prod/nothing/here", "/prod/posts/1/comments", "/staging/posts/1", "/", "/prod/files"],
)
def test_a_missing_route_or_stage_is_403_missing_authentication_token(blog, url_path):
    resp = requests.get(f"https://{blog.id}.execute-api.us-east-1.amazonaws.com{url_path}")

    assert resp.status_code == 403
    assert resp.text == '{"message":"Missing Authentication Token"}'
    assert resp.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert resp.headers["Content-Type"] == "application/json"
    assert re.fullmatch(REQUEST_ID, resp.headers["x-amzn-RequestId"])


def test_a_method_the_resource_lacks_is_403_missing_authentication_token(blog):
    resp = requests.put(blog.url("/posts/1"))

    assert resp.status_code == 403
    assert resp.json() == {"message": "Missing Authentication Token"}


def test_an_unknown_api_id_is_403_forbidden(lab):
    resp = requests.get(f"https://nosuchapi1.execute-api.{lab.region}.amazonaws.com/prod/")

    assert resp.status_code == 403
    assert resp.text == '{"message":"Forbidden"}'
    assert resp.headers["x-amzn-ErrorType"] == "ForbiddenException"


def test_a_stage_serves_its_deployment_until_the_api_is_redeployed(lab, echo):
    """GIVEN a deployed API WHEN a method is added THEN it answers only after a new deployment."""
    api = RestApi(lab, "redeploy")
    api.lambda_proxy("/a", "GET", echo)
    api.allow(echo)
    api.deploy()
    api.lambda_proxy("/b", "GET", echo)

    assert requests.get(api.url("/b")).status_code == 403
    api.deploy()
    assert requests.get(api.url("/b")).status_code == 200
    assert requests.get(api.url("/a")).status_code == 200


# ---- the response mapping ---------------------------------------------------------------------
def test_the_function_result_becomes_the_response(blog):
    """statusCode, headers, multiValueHeaders (which win over headers) and body."""
    resp = requests.get(blog.url("/posts/1?mode=teapot"))

    assert resp.status_code == 418
    assert resp.text == "short and stout"
    assert resp.headers["X-Single"] == "one"
    assert resp.raw.headers.getlist("X-Both") == ["from-multi"]
    assert resp.raw.headers.getlist("Set-Cookie") == ["a=1", "b=2"]
    assert resp.headers["Content-Type"] == "application/json"  # the default
    assert re.fullmatch(REQUEST_ID, resp.headers["x-amzn-RequestId"])


@pytest.mark.parametrize("mode", ["raise", "malformed", "extra-key"])
def test_a_function_error_or_malformed_result_is_502(blog, mode):
    resp = requests.get(blog.url(f"/posts/1?mode={mode}"))

    assert resp.status_code == 502
    assert resp.text == '{"message":"Internal server error"}'
    assert resp.headers["x-amzn-ErrorType"] == "InternalServerErrorException"


# ---- permissions and configuration errors ------------------------------------------------------
def test_without_a_resource_policy_the_method_answers_500(lab, echo):
    api = RestApi(lab, "noperm")
    api.lambda_proxy("/x", "GET", echo)
    api.deploy()

    resp = requests.get(api.url("/x"))

    assert resp.status_code == 500
    assert resp.text == '{"message":"Internal server error"}'
    assert any("add_permission" in note for note in lab.emulator.notes)


def test_the_permission_source_arn_must_match_stage_method_and_path(lab, echo):
    """GIVEN permission for .../prod/POST/x only WHEN GET /x THEN 500; POST /x THEN 200."""
    api = RestApi(lab, "narrowperm")
    api.lambda_proxy("/x", "GET", echo)
    api.lambda_proxy("/x", "POST", echo)
    api.allow(echo, "prod/POST/x")
    api.deploy()

    assert requests.get(api.url("/x")).status_code == 500
    assert requests.post(api.url("/x")).status_code == 200


def test_a_function_that_does_not_exist_answers_500(lab, echo):
    api = RestApi(lab, "nofn")
    arn = lambda_uri(lab, echo).split("/functions/")[1].removesuffix("/invocations")
    api.lambda_proxy("/x", "GET", arn.replace(echo, echo + "-gone"))
    api.deploy()

    resp = requests.get(api.url("/x"))

    assert resp.status_code == 500
    assert resp.json() == {"message": "Internal server error"}


def test_stage_variables_name_the_function_in_the_uri(lab, echo):
    """GIVEN a uri with ${stageVariables.fn} WHEN the stage sets fn THEN that function runs."""
    api = RestApi(lab, "stagevars")
    template = lambda_uri(lab, echo).replace(
        f":function:{echo}/", ":function:${stageVariables.fn}/"
    )
    api.method("/v", "GET")
    api.integration("/v", "GET", type="AWS_PROXY", integrationHttpMethod="POST", uri=template)
    api.allow(echo)
    api.deploy("prod", variables={"fn": echo})

    event = event_of(requests.get(api.url("/v")))

    assert event["stageVariables"] == {"fn": echo}


# ---- binary media types -----------------------------------------------------------------------
def test_binary_bodies_follow_binary_media_types(lab, echo):
    """GIVEN binaryMediaTypes image/png WHEN a png is posted THEN the event body is base64;
    WHEN the function returns isBase64Encoded THEN Accept: image/png gets bytes, else base64."""
    api = RestApi(lab, "binary", binaryMediaTypes=["image/png"])
    api.lambda_proxy("/img", "ANY", echo)
    api.allow(echo)
    api.deploy()

    posted = event_of(
        requests.post(api.url("/img"), data=PNG_SIGNATURE, headers={"Content-Type": "image/png"})
    )
    as_png = requests.get(api.url("/img?mode=binary"), headers={"Accept": "image/png"})
    as_json = requests.get(api.url("/img?mode=binary"), headers={"Accept": "application/json"})

    assert posted["isBase64Encoded"] is True
    assert base64.b64decode(posted["body"]) == PNG_SIGNATURE
    assert as_png.content.startswith(PNG_SIGNATURE)
    assert as_png.headers["Content-Type"] == "image/png"
    assert base64.b64decode(as_json.content).startswith(PNG_SIGNATURE)
