"""The orders load balancer of the chapter, with a probe in the orders function's place: the
listener's rules, the event a Lambda target receives, and how its answer is mapped back.

Contract: User Guide for Application Load Balancers,
https://docs.aws.amazon.com/elasticloadbalancing/latest/application/ — "Listener rules" (rules
are evaluated in priority order, lowest value first, the default rule last; path patterns are
case-sensitive, `*` matches any characters including `/`), "Fixed-response actions", "Lambda
functions as targets" (the event: requestContext.elb.targetGroupArn, httpMethod, path,
queryStringParameters as sent — "If the query parameters are URL-encoded, the load balancer does
not decode them" —, headers, body, isBase64Encoded: the body is base64 unless its content type
is text/*, application/json, application/javascript or application/xml; the response:
statusCode, statusDescription, headers, body, isBase64Encoded), "HTTP headers and Application
Load Balancers" (X-Forwarded-For, -Proto, -Port; X-Amzn-Trace-Id `Root=1-{8 hex}-{24 hex}`).
"""

from __future__ import annotations

import base64
import ipaddress
import json

import pytest
import requests

from tests.microservices.support import (
    NOT_A_SERVICE,
    TRACE_ID,
    build_load_balancer,
    build_network,
)


@pytest.fixture(scope="module")
def alb(lab, deploy_probe):
    """The notebook's load balancer and listener, its target group holding the echo probe."""
    probe = deploy_probe("echo", MemorySize=128)
    return build_load_balancer(lab, build_network(lab), probe)


def echoed(resp: requests.Response) -> dict:
    """The event the probe received, from its answer."""
    assert resp.status_code == 200, (resp.status_code, resp.text[:200])
    assert resp.headers["X-Echo"] == "yes"
    return resp.json()["event"]


def test_the_listener_has_the_notebooks_rules_in_priority_order(lab, alb):
    rules = lab.client("elbv2").describe_rules(ListenerArn=alb.listener)["Rules"]

    summary = [
        (
            r["Priority"],
            [c["PathPatternConfig"]["Values"] for c in r["Conditions"]],
            [a["Type"] for a in r["Actions"]],
        )
        for r in rules
    ]

    assert summary == [
        ("10", [["/orders", "/orders/*"]], ["forward"]),
        ("20", [["/health"]], ["fixed-response"]),
        ("default", [], ["fixed-response"]),
    ]


@pytest.mark.parametrize("path", ["/orders", "/orders/", "/orders/abc", "/orders/a/b/c"])
def test_orders_paths_are_forwarded_to_the_function(alb, path):
    event = echoed(requests.get(f"{alb.url}{path}"))

    assert event["path"] == path
    assert event["requestContext"] == {"elb": {"targetGroupArn": alb.target_group}}


def test_health_is_answered_by_the_load_balancer(alb):
    resp = requests.get(f"{alb.url}/health")

    assert resp.status_code == 200
    assert resp.text == "ok"
    assert resp.headers["Content-Type"].startswith("text/plain")
    assert "X-Echo" not in resp.headers


@pytest.mark.parametrize(
    "path",
    ["/", "/payments", "/ordersx", "/Orders", "/ORDERS/1", "/health/deep", "/api/orders"],
)
def test_anything_else_gets_the_default_json_404(alb, path):
    """Path patterns are case-sensitive and match the whole path."""
    resp = requests.get(f"{alb.url}{path}")

    assert resp.status_code == 404
    assert resp.headers["Content-Type"].startswith("application/json")
    assert resp.json() == json.loads(NOT_A_SERVICE)
    assert "X-Echo" not in resp.headers


def test_a_lower_priority_value_wins_whatever_the_order_rules_were_made_in(lab, alb):
    """GIVEN a rule made after the others, priority 5, for /orders/admin* THEN it answers
    /orders/admin before the priority-10 forward; one of priority 30 for /health never does."""
    elbv2 = lab.client("elbv2")
    made = [
        elbv2.create_rule(
            ListenerArn=alb.listener,
            Priority=priority,
            Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": [path]}}],
            Actions=[
                {
                    "Type": "fixed-response",
                    "FixedResponseConfig": {"StatusCode": status, "ContentType": "text/plain"},
                }
            ],
        )["Rules"][0]["RuleArn"]
        for priority, path, status in ((5, "/orders/admin*", "403"), (30, "/health", "500"))
    ]
    try:
        admin = requests.get(f"{alb.url}/orders/admin/users")
        order = requests.get(f"{alb.url}/orders/o-1")
        health = requests.get(f"{alb.url}/health")
    finally:
        for arn in made:
            elbv2.delete_rule(RuleArn=arn)

    assert admin.status_code == 403
    assert echoed(order)["path"] == "/orders/o-1"
    assert (health.status_code, health.text) == (200, "ok")


def test_the_event_carries_the_request_as_aws_documents_it(alb):
    """GIVEN a JSON POST with an encoded query and mixed-case headers THEN the event has the
    method, the path, the query as sent (not decoded), lowercased headers plus the load
    balancer's, and the body as text."""
    body = json.dumps({"user_id": "u-1", "items": []})
    resp = requests.post(
        f"{alb.url}/orders?user_id=a%20b&tag=x%2By&plus=1+2",
        data=body,
        headers={"Content-Type": "application/json", "X-Client-Name": "Shop-App"},
    )

    event = echoed(resp)

    assert set(event) == {
        "requestContext",
        "httpMethod",
        "path",
        "queryStringParameters",
        "headers",
        "body",
        "isBase64Encoded",
    }
    assert event["httpMethod"] == "POST"
    assert event["path"] == "/orders"
    assert event["queryStringParameters"] == {"user_id": "a%20b", "tag": "x%2By", "plus": "1+2"}
    headers = event["headers"]
    assert all(name == name.lower() for name in headers)
    assert headers["x-client-name"] == "Shop-App"
    assert headers["content-type"] == "application/json"
    assert headers["host"] == alb.dns
    ipaddress.ip_address(headers["x-forwarded-for"].split(",")[-1].strip())
    assert headers["x-forwarded-port"] == "80"
    assert headers["x-forwarded-proto"] == "http"
    assert TRACE_ID.match(headers["x-amzn-trace-id"])
    assert event["isBase64Encoded"] is False
    assert event["body"] == body


def test_a_body_that_is_not_text_arrives_base64_encoded(alb):
    raw = bytes(range(256))

    event = echoed(
        requests.post(
            f"{alb.url}/orders", data=raw, headers={"Content-Type": "application/octet-stream"}
        )
    )

    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == raw


def test_a_get_without_a_body_has_an_empty_one(alb):
    event = echoed(requests.get(f"{alb.url}/orders/o-1"))

    assert event["httpMethod"] == "GET"
    assert (event["body"], event["isBase64Encoded"]) == ("", False)


def test_every_request_gets_its_own_trace_id(alb):
    ids = {
        echoed(requests.get(f"{alb.url}/orders"))["headers"]["x-amzn-trace-id"] for _ in range(3)
    }

    assert len(ids) == 3


def test_the_functions_answer_is_mapped_back(alb):
    """GIVEN the function answers statusCode 418, statusDescription "418 I'm a teapot", its
    headers and a JSON body THEN the client gets that status, reason phrase, headers and body."""
    resp = requests.get(f"{alb.url}/orders?status=418")

    assert resp.status_code == 418
    assert resp.reason == "I'm a teapot"
    assert resp.headers["X-Echo"] == "yes"
    assert resp.headers["Content-Type"] == "application/json"
    assert resp.json()["event"]["queryStringParameters"] == {"status": "418"}
