"""Application Load Balancers: listeners, rules, actions, and Lambda, instance and IP targets.

Contract: User Guide for Application Load Balancers,
https://docs.aws.amazon.com/elasticloadbalancing/latest/application/ — "Listeners" (rule
priority, action types, redirect components and keywords, condition types),
"Lambda functions as targets" (the event, the response, multi-value headers, limits,
permissions), "Troubleshoot your Application Load Balancers" (HTTP 400, 413, 502, 503, 504),
"HTTP headers and Application Load Balancers" (X-Forwarded-For/-Proto/-Port).
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import socket
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from botocore.exceptions import ClientError

import helpers
from helpers.emulator.http import Request, Response, classify
from tests.emulator.vpc_support import two_zone_vpc

BOTH = pytest.mark.backends("moto", "moto-server")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TRACE_ID = r"Root=1-[0-9a-f]{8}-[0-9a-f]{24}"

# the Lambda target: echoes its event; the query parameter `mode` picks another answer
HANDLER = """
import base64
import json
import time

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def handler(event, context):
    single = event.get("queryStringParameters") or {}
    multi = event.get("multiValueQueryStringParameters") or {}
    mode = single.get("mode") or (multi.get("mode") or [None])[-1]
    if mode == "raise":
        raise RuntimeError("the handler failed")
    if mode == "sleep":
        time.sleep(3)
    if mode == "not-json":
        return "just text"
    if mode == "no-status":
        return {"headers": {}, "body": "no status"}
    if mode == "dict-body":
        return {"statusCode": 200, "body": {"not": "a string"}}
    if mode == "bad-base64":
        return {"statusCode": 200, "isBase64Encoded": True, "body": "not base64!"}
    if mode == "big":
        return {"statusCode": 200, "headers": {"Content-Type": "text/plain"}, "body": "x" * 1_100_000}
    if mode == "teapot":
        return {
            "statusCode": 418,
            "statusDescription": "418 I'm a teapot",
            "isBase64Encoded": False,
            "headers": {"Content-Type": "text/plain", "X-Single": "one"},
            "body": "short and stout",
        }
    if mode == "binary":
        return {
            "statusCode": 200,
            "statusDescription": "200 OK",
            "isBase64Encoded": True,
            "headers": {"Content-Type": "image/png"},
            "body": base64.b64encode(PNG).decode(),
        }
    if mode == "cookies":
        return {
            "statusCode": 200,
            "statusDescription": "200 OK",
            "isBase64Encoded": False,
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"], "Content-Type": ["text/plain"]},
            "body": "two cookies",
        }
    return {
        "statusCode": 200,
        "statusDescription": "200 OK",
        "isBase64Encoded": False,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"event": event}),
    }
"""
NOT_FOUND = {
    "Type": "fixed-response",
    "FixedResponseConfig": {
        "StatusCode": "404",
        "ContentType": "text/plain",
        "MessageBody": "none",
    },
}


def fixed(body: str, status: str = "200") -> list[dict[str, Any]]:
    """A fixed-response action whose body names the rule that answered."""
    config = {"StatusCode": status, "ContentType": "text/plain", "MessageBody": body}
    return [{"Type": "fixed-response", "FixedResponseConfig": config}]


class Alb:
    """An Application Load Balancer built with the calls a learner makes, and its URLs."""

    def __init__(self, lab, elb, subnets: list[str], base: str, scheme: str = "internet-facing"):
        self.elb = elb
        found = elb.create_load_balancer(Name=lab.name(base), Subnets=subnets, Scheme=scheme)
        self.arn = found["LoadBalancers"][0]["LoadBalancerArn"]
        elb.get_waiter("load_balancer_available").wait(LoadBalancerArns=[self.arn])
        self.dns = found["LoadBalancers"][0]["DNSName"]
        self.listeners: dict[int, str] = {}
        self.priority = 0

    def listen(self, port: int = 80, protocol: str = "HTTP", default=None, **kwargs) -> str:
        self.listeners[port] = self.elb.create_listener(
            LoadBalancerArn=self.arn,
            Protocol=protocol,
            Port=port,
            DefaultActions=default or [NOT_FOUND],
            **kwargs,
        )["Listeners"][0]["ListenerArn"]
        return self.listeners[port]

    def rule(self, conditions, actions, *, priority: int | None = None, port: int = 80) -> str:
        self.priority += 1
        return self.elb.create_rule(
            ListenerArn=self.listeners[port],
            Priority=priority or self.priority,
            Conditions=conditions,
            Actions=actions,
        )["Rules"][0]["RuleArn"]

    def url(self, path: str = "/", *, scheme: str = "http", port: int | None = None) -> str:
        netloc = self.dns + (f":{port}" if port else "")
        return f"{scheme}://{netloc}{path}"


@pytest.fixture(scope="module")
def elb(lab):
    return lab.client("elbv2")


@pytest.fixture(scope="module")
def network(lab) -> tuple[str, list[str]]:
    """A VPC with a subnet in each of two Availability Zones, as an ALB needs."""
    return two_zone_vpc(lab)


@pytest.fixture(scope="module")
def make_alb(lab, elb, network):
    def _make(base: str, **kwargs) -> Alb:
        return Alb(lab, elb, network[1], base, **kwargs)

    return _make


@pytest.fixture(scope="module")
def web(make_alb) -> Alb:
    """An internet-facing ALB with an HTTP:80 listener whose default answer is a fixed 404."""
    alb = make_alb("web")
    alb.listen(80)
    return alb


@pytest.fixture(scope="module")
def app_code(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("alb") / "alb_app.py"
    path.write_text(HANDLER)
    return helpers.package(path, handler="alb_app.handler")


@pytest.fixture(scope="module")
def app(lab, deploy, app_code) -> str:
    """The Lambda target's ARN."""
    name = deploy("alb-app", handler="alb_app.handler", code=app_code)
    return lab.client("lambda").get_function(FunctionName=name)["Configuration"]["FunctionArn"]


@pytest.fixture(scope="module")
def lambda_group(lab, elb):
    """lambda_group(base, function_arn, multi=False) -> target group ARN, the function registered
    after the permission the user guide gives (add-permission with the group as SourceArn)."""

    def _make(base: str, function_arn: str, *, multi: bool = False) -> str:
        arn = elb.create_target_group(Name=lab.name(base), TargetType="lambda")["TargetGroups"][0][
            "TargetGroupArn"
        ]
        if multi:
            elb.modify_target_group_attributes(
                TargetGroupArn=arn,
                Attributes=[{"Key": "lambda.multi_value_headers.enabled", "Value": "true"}],
            )
        lab.client("lambda").add_permission(
            FunctionName=function_arn,
            StatementId=f"elb-{base}",
            Principal="elasticloadbalancing.amazonaws.com",
            Action="lambda:InvokeFunction",
            SourceArn=arn,
        )
        elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": function_arn}])
        return arn

    return _make


@pytest.fixture(scope="module")
def api(web, app, lambda_group) -> str:
    """GET/POST /api/* on `web` forwards to the Lambda target group; its ARN."""
    group = lambda_group("api", app)
    web.rule(
        [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*"]}}],
        [{"Type": "forward", "TargetGroupArn": group}],
        priority=100,
    )
    return group


def event_of(resp: requests.Response) -> dict[str, Any]:
    assert resp.status_code == 200, resp.text
    return json.loads(resp.text)["event"]


def assert_elb_page(resp: requests.Response, status: int, title: str) -> None:
    """The load balancer's own error page: status, `Server: awselb/2.0`, HTML naming it."""
    assert resp.status_code == status, resp.text
    assert resp.headers["Server"] == "awselb/2.0"
    assert resp.headers["Content-Type"] == "text/html"
    assert f"<title>{title}</title>" in resp.text
    assert f"<center><h1>{title}</h1></center>" in resp.text


# ---- the hosts, the listeners -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("host", "parts"),
    [
        (
            "my-load-balancer-1234567890.us-west-2.elb.amazonaws.com",
            {"name": "my-load-balancer-1234567890", "region": "us-west-2"},
        ),
        (
            "internal-my-lb-846800462.us-east-2.elb.amazonaws.com",
            {"name": "internal-my-lb-846800462", "region": "us-east-2"},
        ),
        (
            "dualstack.my-lb-1234567890.eu-west-1.elb.amazonaws.com",
            {"name": "my-lb-1234567890", "region": "eu-west-1"},
        ),
    ],
)
def test_load_balancer_hosts_are_routed_to_the_alb_service(host, parts):
    assert classify(host) == ("alb", parts)


def test_a_network_load_balancer_name_is_not_an_alb_host():
    # NLB names put `elb` before the region: my-nlb-1234567890abcdef.elb.us-west-2.amazonaws.com
    assert classify("my-nlb-1234567890abcdef.elb.us-west-2.amazonaws.com") is None


def test_dns_names_are_aws_shaped_and_internal_ones_say_so(lab, elb, web, make_alb):
    internal = make_alb("inside", scheme="internal")
    name = lab.name("web")
    assert re.fullmatch(rf"{name}-\d+\.{lab.region}\.elb\.amazonaws\.com", web.dns)
    assert re.fullmatch(
        rf"internal-{lab.name('inside')}-\d+\.{lab.region}\.elb\.amazonaws\.com", internal.dns
    )
    described = elb.describe_load_balancers(LoadBalancerArns=[internal.arn])["LoadBalancers"][0]
    assert described["DNSName"] == internal.dns
    assert described["Scheme"] == "internal"


@BOTH
def test_a_fixed_response_answers_with_its_status_type_and_body(make_alb, lab):
    """GIVEN a default fixed-response WHEN requests or curl (Host header) ask THEN its answer."""
    alb = make_alb("fixed")
    alb.listen(80, default=fixed("maintenance until noon", status="503"))

    resp = requests.get(alb.url("/anything?x=1"), timeout=10)
    assert resp.status_code == 503
    assert resp.text == "maintenance until noon"
    assert resp.headers["Content-Type"].split(";")[0] == "text/plain"
    assert resp.headers["Server"] == "awselb/2.0"

    front = urlsplit(lab.http_endpoint)
    conn = http.client.HTTPConnection(front.hostname, front.port, timeout=10)
    conn.request("GET", "/", headers={"Host": alb.dns})  # curl -H 'Host: ...' http://front/
    answer = conn.getresponse()
    assert (answer.status, answer.read()) == (503, b"maintenance until noon")


def test_a_port_without_a_listener_fails_to_connect(web):
    """No listener on 8080: nothing accepts the connection, so the client gets no answer."""
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(web.url("/", port=8080), timeout=10)


def test_https_to_an_http_listener_fails_to_connect(web):
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(web.url("/", scheme="https", port=80), timeout=10)


def test_an_https_listener_answers_https_and_refuses_plain_http(lab, make_alb):
    acm = lab.client("acm")
    cert = acm.request_certificate(DomainName="www.example.com")["CertificateArn"]
    alb = make_alb("tls")
    alb.listen(443, "HTTPS", default=fixed("secure"), Certificates=[{"CertificateArn": cert}])

    assert requests.get(alb.url("/", scheme="https"), timeout=10).text == "secure"
    plain = requests.get(alb.url("/", port=443), timeout=10)  # "plain HTTP sent to HTTPS port"
    assert_elb_page(plain, 400, "400 Bad Request")


def test_an_unknown_load_balancer_name_is_a_404_naming_it(lab):
    host = f"nobody-1234567890.{lab.region}.elb.amazonaws.com"
    resp = requests.get(f"http://{host}/", timeout=10)
    assert resp.status_code == 404
    assert host in resp.text


# ---- rules ------------------------------------------------------------------------------------
def test_rules_are_evaluated_by_priority_then_the_default_rule(make_alb, elb):
    alb = make_alb("order")
    alb.listen(80)
    everything = [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/p/*"]}}]
    low = alb.rule(everything, fixed("priority 20"), priority=20)
    high = alb.rule(everything, fixed("priority 10"), priority=10)

    assert requests.get(alb.url("/p/x"), timeout=10).text == "priority 10"
    assert requests.get(alb.url("/q"), timeout=10).text == "none"  # the default rule

    elb.set_rule_priorities(
        RulePriorities=[{"RuleArn": low, "Priority": 5}, {"RuleArn": high, "Priority": 30}]
    )
    assert requests.get(alb.url("/p/x"), timeout=10).text == "priority 20"


def test_path_patterns_use_wildcards_and_are_case_sensitive(make_alb):
    alb = make_alb("paths")
    alb.listen(80)
    alb.rule(
        [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/img/*.png"]}}], fixed("img")
    )
    alb.rule([{"Field": "path-pattern", "Values": ["/v?/items"]}], fixed("versioned"))

    def answer(path: str) -> str:
        return requests.get(alb.url(path), timeout=10).text

    assert answer("/img/a/b.png") == "img"  # * spans '/'
    assert answer("/img/a.png?size=2") == "img"  # the query is not part of the path
    assert answer("/IMG/a.png") == "none"  # case-sensitive
    assert answer("/img/a.jpg") == "none"
    assert answer("/v1/items") == "versioned"  # ? is exactly one character
    assert answer("/v10/items") == "none"
    assert answer("/v/items") == "none"


def test_host_header_conditions_ignore_case_and_the_port(make_alb):
    alb = make_alb("hosts")
    alb.listen(80)
    alb.listen(8080)
    alb.rule(
        [{"Field": "host-header", "HostHeaderConfig": {"Values": ["api.example.com"]}}],
        fixed("api"),
    )
    upper = "*." + alb.dns.split(".", 1)[1].upper()  # *.US-EAST-1.ELB.AMAZONAWS.COM
    for port in (80, 8080):
        alb.rule(
            [{"Field": "host-header", "HostHeaderConfig": {"Values": [upper]}}],
            fixed("elb"),
            port=port,
        )

    assert requests.get(alb.url("/"), timeout=10).text == "elb"
    assert requests.get(alb.url("/", port=8080), timeout=10).text == "elb"  # Host: ...:8080


def test_http_header_conditions_ignore_case_in_name_and_value(make_alb):
    alb = make_alb("headers")
    alb.listen(80)
    alb.rule(
        [
            {
                "Field": "http-header",
                "HttpHeaderConfig": {
                    "HttpHeaderName": "User-Agent",
                    "Values": ["*Chrome*", "*Safari*"],
                },
            }
        ],
        fixed("browser"),
    )

    def answer(agent: str | None) -> str:
        headers = {"user-agent": agent} if agent else {"User-Agent": None}
        return requests.get(alb.url("/"), headers=headers, timeout=10).text

    assert answer("Mozilla/5.0 AppleWebKit CHROME/126.0") == "browser"
    assert answer("Mozilla/5.0 Version/17.5 Safari/605.1.15") == "browser"
    assert answer("curl/8.5.0") == "none"
    assert answer(None) == "none"  # no such header


def test_http_request_method_conditions_match_exactly(make_alb):
    alb = make_alb("methods")
    alb.listen(80)
    alb.rule(
        [
            {
                "Field": "http-request-method",
                "HttpRequestMethodConfig": {"Values": ["PUT", "DELETE"]},
            }
        ],
        fixed("write"),
    )
    assert requests.put(alb.url("/x"), timeout=10).text == "write"
    assert requests.delete(alb.url("/x"), timeout=10).text == "write"
    assert requests.get(alb.url("/x"), timeout=10).text == "none"
    assert requests.post(alb.url("/x"), timeout=10).text == "none"


def test_query_string_conditions_match_pairs_or_values_ignoring_case(make_alb):
    alb = make_alb("queries")
    alb.listen(80)
    # the user guide's example: "version=v1" or any key set to "example"
    alb.rule(
        [
            {
                "Field": "query-string",
                "QueryStringConfig": {
                    "Values": [{"Key": "version", "Value": "v1"}, {"Value": "example"}]
                },
            }
        ],
        fixed("v1-or-example"),
    )
    alb.rule(
        [
            {
                "Field": "query-string",
                "QueryStringConfig": {"Values": [{"Key": "q", "Value": "a\\*"}]},
            }
        ],
        fixed("literal-star"),
    )
    alb.rule(
        [
            {
                "Field": "query-string",
                "QueryStringConfig": {"Values": [{"Key": "lang", "Value": "e?"}]},
            }
        ],
        fixed("wildcard"),
    )

    def answer(query: str) -> str:
        return requests.get(alb.url(f"/search?{query}"), timeout=10).text

    assert answer("version=v1") == "v1-or-example"
    assert answer("Version=V1&page=2") == "v1-or-example"  # case-insensitive
    assert answer("version=%76%31") == "v1-or-example"  # percent-encoded characters
    assert answer("anything=example") == "v1-or-example"
    assert answer("version=v2") == "none"
    assert answer("q=a*") == "literal-star"
    assert answer("q=abc") == "none"  # an escaped * is no wildcard
    assert answer("lang=en") == "wildcard"
    assert answer("lang=eng") == "none"


def test_source_ip_conditions_match_cidr_blocks_not_x_forwarded_for(make_alb):
    alb = make_alb("sources")
    alb.listen(80)
    alb.rule(
        [
            {
                "Field": "source-ip",
                "SourceIpConfig": {"Values": ["192.0.2.0/24", "198.51.100.10/32"]},
            }
        ],
        fixed("office"),
    )

    def answer(source: str, **headers: str) -> str:
        # the front takes the connection's source address from X-Labbook-Source-Ip, for tests
        headers = {"X-Labbook-Source-Ip": source, **headers}
        return requests.get(alb.url("/"), headers=headers, timeout=10).text

    assert answer("192.0.2.77") == "office"
    assert answer("198.51.100.10") == "office"
    assert answer("198.51.100.11") == "none"
    assert answer("203.0.113.9", **{"X-Forwarded-For": "192.0.2.77"}) == "none"


def test_several_values_are_or_and_several_conditions_are_and(make_alb):
    alb = make_alb("logic")
    alb.listen(80)
    alb.rule(
        [
            {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/a", "/b"]}},
            {"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": ["POST"]}},
        ],
        fixed("both"),
    )
    assert requests.post(alb.url("/a"), timeout=10).text == "both"
    assert requests.post(alb.url("/b"), timeout=10).text == "both"
    assert requests.get(alb.url("/a"), timeout=10).text == "none"  # one condition fails
    assert requests.post(alb.url("/c"), timeout=10).text == "none"


# ---- redirects --------------------------------------------------------------------------------
def test_a_redirect_keeps_the_parts_it_does_not_change_and_names_the_port(make_alb):
    """The user guide's HTTP to HTTPS redirect: 301 to https://#{host}:443/#{path}?#{query}."""
    alb = make_alb("redirect")
    alb.listen(
        80,
        default=[
            {
                "Type": "redirect",
                "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"},
            }
        ],
    )
    resp = requests.get(alb.url("/docs/a%20b.html?lang=en&x=1"), allow_redirects=False, timeout=10)
    assert resp.status_code == 301
    assert resp.headers["Location"] == f"https://{alb.dns}:443/docs/a%20b.html?lang=en&x=1"
    assert resp.headers["Server"] == "awselb/2.0"
    assert "<title>301 Moved Permanently</title>" in resp.text

    bare = requests.get(alb.url("/"), allow_redirects=False, timeout=10)
    assert bare.headers["Location"] == f"https://{alb.dns}:443/"  # no query: no '?'


def test_redirect_keywords_rebuild_the_url(make_alb):
    alb = make_alb("rewrite")
    alb.listen(80)
    alb.rule(
        [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/old/*"]}}],
        [
            {
                "Type": "redirect",
                "RedirectConfig": {
                    "Host": "www.example.com",
                    "Path": "/new/#{path}",
                    "Query": "from=#{host}&port=#{port}&#{query}",
                    "StatusCode": "HTTP_302",
                },
            }
        ],
    )
    resp = requests.get(alb.url("/old/page?id=7"), allow_redirects=False, timeout=10)
    assert resp.status_code == 302
    assert resp.headers["Location"] == (
        f"http://www.example.com:80/new/old/page?from={alb.dns}&port=80&id=7"
    )


# ---- Lambda targets ---------------------------------------------------------------------------
@BOTH
def test_the_function_receives_the_documented_alb_event(lab, web, api):
    """GIVEN a forward to a Lambda target group WHEN GET with a repeated, encoded query THEN
    the event of "Receive events from the load balancer"."""
    resp = requests.get(
        web.url("/api/posts/42?x=1&x=2&q=%3FshowAll%3Dtrue"),
        headers={"X-Custom": "Hello", "Cookie": "name1=value1"},
        timeout=30,
    )
    event = event_of(resp)

    assert set(event) == {
        "requestContext",
        "httpMethod",
        "path",
        "queryStringParameters",
        "headers",
        "isBase64Encoded",
        "body",
    }
    assert event["requestContext"] == {"elb": {"targetGroupArn": api}}
    assert event["httpMethod"] == "GET"
    assert event["path"] == "/api/posts/42"
    # the last value of a repeated key; percent-encoding kept, as the guide says
    assert event["queryStringParameters"] == {"x": "2", "q": "%3FshowAll%3Dtrue"}
    headers = event["headers"]
    assert all(name == name.lower() for name in headers)
    assert headers["x-custom"] == "Hello"
    assert headers["cookie"] == "name1=value1"
    assert headers["host"] == web.dns
    assert headers["x-forwarded-for"] == "127.0.0.1"
    assert headers["x-forwarded-port"] == "80"
    assert headers["x-forwarded-proto"] == "http"
    assert re.fullmatch(TRACE_ID, headers["x-amzn-trace-id"])
    assert event["body"] == ""
    assert event["isBase64Encoded"] is False

    assert resp.headers["Content-Type"] == "application/json"
    assert resp.headers["Server"] == "awselb/2.0"


def test_an_empty_query_is_an_empty_object_and_x_forwarded_for_is_appended(web, api):
    resp = requests.get(web.url("/api/"), headers={"X-Forwarded-For": "203.0.113.7"}, timeout=30)
    event = event_of(resp)
    assert event["queryStringParameters"] == {}
    assert event["headers"]["x-forwarded-for"] == "203.0.113.7, 127.0.0.1"


@pytest.mark.parametrize(
    ("content_type", "encoded"),
    [
        ("application/json", False),
        ("text/plain; charset=utf-8", False),
        ("application/xml", False),
        ("application/javascript", False),
        ("application/octet-stream", True),
        ("image/png", True),
    ],
)
def test_text_bodies_arrive_as_sent_and_other_types_in_base64(web, api, content_type, encoded):
    body = b'{"title": "hello"}'
    resp = requests.post(
        web.url("/api/posts"), data=body, headers={"Content-Type": content_type}, timeout=30
    )
    event = event_of(resp)
    assert event["httpMethod"] == "POST"
    assert event["isBase64Encoded"] is encoded
    assert event["body"] == (base64.b64encode(body).decode() if encoded else body.decode())
    assert event["headers"]["content-type"] == content_type


def test_multi_value_headers_switch_the_event_and_response_fields(make_alb, app, lambda_group):
    """lambda.multi_value_headers.enabled: arrays in, multiValueHeaders out (only)."""
    alb = make_alb("multi")
    alb.listen(
        80, default=[{"Type": "forward", "TargetGroupArn": lambda_group("multi", app, multi=True)}]
    )

    event = event_of(
        requests.get(alb.url("/m?myKey=val1&myKey=val2&e=%20"), headers={"X-A": "1"}, timeout=30)
    )
    assert "queryStringParameters" not in event and "headers" not in event
    assert event["multiValueQueryStringParameters"] == {"myKey": ["val1", "val2"], "e": ["%20"]}
    assert event["multiValueHeaders"]["x-a"] == ["1"]
    assert event["multiValueHeaders"]["x-forwarded-proto"] == ["http"]

    cookies = requests.get(alb.url("/m?mode=cookies"), timeout=30)
    assert cookies.status_code == 200
    assert cookies.raw.headers.getlist("Set-Cookie") == ["a=1", "b=2"]
    assert cookies.headers["Content-Type"] == "text/plain"
    assert cookies.text == "two cookies"


def test_the_functions_status_description_headers_and_body_make_the_response(web, api):
    resp = requests.get(web.url("/api/x?mode=teapot"), timeout=30)
    assert resp.status_code == 418
    assert resp.reason == "I'm a teapot"  # statusDescription: "418 I'm a teapot"
    assert resp.headers["X-Single"] == "one"
    assert resp.headers["Content-Type"] == "text/plain"
    assert resp.text == "short and stout"


def test_a_base64_body_is_decoded_into_binary(web, api):
    resp = requests.get(web.url("/api/x?mode=binary"), timeout=30)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "image/png"
    assert resp.content.startswith(PNG_SIGNATURE)


@pytest.mark.parametrize("mode", ["raise", "not-json", "no-status", "dict-body", "bad-base64"])
def test_a_function_error_or_an_unusable_response_is_502(web, api, mode):
    assert_elb_page(
        requests.get(web.url(f"/api/x?mode={mode}"), timeout=30), 502, "502 Bad Gateway"
    )


def test_a_response_over_1_mb_is_502(web, api):
    assert_elb_page(requests.get(web.url("/api/x?mode=big"), timeout=30), 502, "502 Bad Gateway")


def test_a_request_body_over_1_mb_is_413_and_the_function_is_not_invoked(web, api, app, events_of):
    before = len(events_of(app.rsplit(":", 1)[1]))
    resp = requests.post(
        web.url("/api/upload"),
        data=b"x" * (1_048_576 + 1),
        headers={"Content-Type": "text/plain"},
        timeout=30,
    )
    assert_elb_page(resp, 413, "413 Request Entity Too Large")
    assert len(events_of(app.rsplit(":", 1)[1])) == before


def test_a_function_that_times_out_is_502(lab, make_alb, deploy, app_code, lambda_group):
    """The troubleshooting guide lists a Lambda target that "did not respond before its
    configured timeout" under HTTP 502."""
    name = deploy("alb-slow", handler="alb_app.handler", code=app_code, Timeout=1)
    arn = lab.client("lambda").get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    alb = make_alb("slow")
    alb.listen(80, default=[{"Type": "forward", "TargetGroupArn": lambda_group("slow", arn)}])
    assert_elb_page(requests.get(alb.url("/?mode=sleep"), timeout=30), 502, "502 Bad Gateway")


def test_a_target_group_without_a_registered_target_is_503(lab, elb, make_alb):
    empty = elb.create_target_group(Name=lab.name("empty"), TargetType="lambda")["TargetGroups"][0]
    alb = make_alb("empty")
    alb.listen(80, default=[{"Type": "forward", "TargetGroupArn": empty["TargetGroupArn"]}])
    resp = requests.get(alb.url("/"), timeout=10)
    assert_elb_page(resp, 503, "503 Service Temporarily Unavailable")


@BOTH
def test_register_targets_needs_the_functions_permission(lab, elb, app):
    lambda_ = lab.client("lambda")
    group = elb.create_target_group(Name=lab.name("guarded"), TargetType="lambda")["TargetGroups"][
        0
    ]
    arn = group["TargetGroupArn"]
    other = elb.create_target_group(Name=lab.name("other"), TargetType="lambda")["TargetGroups"][0]

    with pytest.raises(ClientError) as refused:
        elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": app}])
    error = refused.value.response
    assert error["Error"]["Code"] == "AccessDenied"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error["Error"]["Message"] == (
        f"elasticloadbalancing principal does not have permission to invoke {app} "
        f"from target group {arn}"
    )

    # a permission for another target group does not do
    lambda_.add_permission(
        FunctionName=app,
        StatementId="elb-other",
        Principal="elasticloadbalancing.amazonaws.com",
        Action="lambda:InvokeFunction",
        SourceArn=other["TargetGroupArn"],
    )
    with pytest.raises(ClientError):
        elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": app}])

    lambda_.add_permission(
        FunctionName=app,
        StatementId="elb-guarded",
        Principal="elasticloadbalancing.amazonaws.com",
        Action="lambda:InvokeFunction",
        SourceArn=arn,
    )
    elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": app}])
    health = elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
    assert [h["Target"]["Id"] for h in health] == [app]


# ---- instance and IP targets: stand-ins -------------------------------------------------------
@pytest.fixture(scope="module")
def ip_group(lab, elb, network):
    """ip_group(base, *ips) -> target group ARN with those IPs registered on port 80."""

    def _make(base: str, *ips: str, port: int = 80) -> str:
        arn = elb.create_target_group(
            Name=lab.name(base), TargetType="ip", Protocol="HTTP", Port=port, VpcId=network[0]
        )["TargetGroups"][0]["TargetGroupArn"]
        if ips:
            elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": ip} for ip in ips])
        return arn

    return _make


def text_server(text: str, seen: list[Request] | None = None):
    """A stand-in answering 200 with `text`, keeping the requests it receives."""

    def handler(request: Request) -> Response:
        if seen is not None:
            seen.append(request)
        return Response(200, [("Content-Type", "text/plain"), ("X-Served-By", text)], text.encode())

    return handler


def test_requests_take_turns_among_the_targets_stand_ins(lab, make_alb, ip_group):
    stand_ins = lab.emulator.alb.stand_ins
    seen: list[Request] = []
    stand_ins.serve("10.0.1.11", text_server("one", seen))
    stand_ins.serve("10.0.1.12", text_server("two", seen), port=80)
    alb = make_alb("turns")
    alb.listen(
        80,
        default=[
            {"Type": "forward", "TargetGroupArn": ip_group("turns", "10.0.1.11", "10.0.1.12")}
        ],
    )

    answers = [requests.get(alb.url(f"/page?n={n}"), timeout=10).text for n in range(4)]
    assert answers == ["one", "two", "one", "two"]

    first = seen[0]
    assert first.method == "GET"
    assert first.path == "/page" and first.query == "n=0"  # the path is not rewritten
    assert first.headers["Host"] == alb.dns
    assert first.headers["X-Forwarded-For"] == "127.0.0.1"
    assert first.headers["X-Forwarded-Proto"] == "http"
    assert first.headers["X-Forwarded-Port"] == "80"
    assert re.fullmatch(TRACE_ID, first.headers["X-Amzn-Trace-Id"])
    assert first.source_ip.startswith("10.0.1.")  # a load balancer node in its subnet


def test_targets_without_a_stand_in_are_skipped_and_with_none_it_is_503(lab, make_alb, ip_group):
    lab.emulator.alb.stand_ins.serve("10.0.2.21", text_server("served"))
    alb = make_alb("partial")
    alb.listen(
        80,
        default=[
            {"Type": "forward", "TargetGroupArn": ip_group("partial", "10.0.2.20", "10.0.2.21")}
        ],
    )
    assert {requests.get(alb.url("/"), timeout=10).text for _ in range(4)} == {"served"}

    nobody = make_alb("nobody")
    nobody.listen(
        80, default=[{"Type": "forward", "TargetGroupArn": ip_group("nobody", "10.0.2.30")}]
    )
    assert_elb_page(
        requests.get(nobody.url("/"), timeout=10), 503, "503 Service Temporarily Unavailable"
    )


def test_a_stopped_instance_gets_no_requests(lab, elb, network, make_alb):
    ec2 = lab.client("ec2")
    instances = ec2.run_instances(
        ImageId="ami-12c6146b",
        InstanceType="t3.micro",
        MinCount=2,
        MaxCount=2,
        SubnetId=network[1][0],
    )["Instances"]
    first, second = (i["InstanceId"] for i in instances)
    group = elb.create_target_group(
        Name=lab.name("fleet"), TargetType="instance", Protocol="HTTP", Port=80, VpcId=network[0]
    )["TargetGroups"][0]["TargetGroupArn"]
    elb.register_targets(TargetGroupArn=group, Targets=[{"Id": first}, {"Id": second}])
    lab.emulator.alb.stand_ins.serve(first, text_server("first"))
    lab.emulator.alb.stand_ins.serve(second, text_server("second"))
    alb = make_alb("fleet")
    alb.listen(80, default=[{"Type": "forward", "TargetGroupArn": group}])
    assert Counter(requests.get(alb.url("/"), timeout=10).text for _ in range(4)) == {
        "first": 2,
        "second": 2,
    }

    ec2.stop_instances(InstanceIds=[first])  # its target becomes `unused`
    assert {requests.get(alb.url("/"), timeout=10).text for _ in range(4)} == {"second"}


def test_forward_weights_split_the_requests_between_target_groups(lab, make_alb, ip_group):
    stand_ins = lab.emulator.alb.stand_ins
    stand_ins.serve("10.0.1.41", text_server("blue"))
    stand_ins.serve("10.0.1.42", text_server("green"))
    stand_ins.serve("10.0.1.43", text_server("grey"))
    blue, green, grey = (
        ip_group(n, ip)
        for n, ip in (("blue", "10.0.1.41"), ("green", "10.0.1.42"), ("grey", "10.0.1.43"))
    )
    alb = make_alb("canary")
    weighted = {
        "Type": "forward",
        "ForwardConfig": {
            "TargetGroups": [
                {"TargetGroupArn": blue, "Weight": 3},
                {"TargetGroupArn": green, "Weight": 1},
                {"TargetGroupArn": grey, "Weight": 0},
            ]
        },
    }
    alb.listen(80, default=[weighted])
    counts = Counter(requests.get(alb.url("/"), timeout=10).text for _ in range(400))
    assert abs(counts["blue"] - 300) <= 30
    assert abs(counts["green"] - 100) <= 30
    assert counts["blue"] + counts["green"] == 400
    assert counts["grey"] == 0  # weight 0: no traffic


class _Slow(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = f"{self.path} via {self.headers['X-Forwarded-For']}".encode()
        self.send_response(201, "Made It")
        self.send_header("Content-Type", "text/plain")
        self.send_header("Set-Cookie", "a=1")
        self.send_header("Set-Cookie", "b=2")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def loopback_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_loopback_url_stand_in_receives_the_request_over_http(
    lab, make_alb, ip_group, loopback_server
):
    lab.emulator.alb.stand_ins.serve("10.0.1.51", loopback_server)
    alb = make_alb("loopback")
    alb.listen(
        80, default=[{"Type": "forward", "TargetGroupArn": ip_group("loopback", "10.0.1.51")}]
    )

    resp = requests.get(alb.url("/files/a?b=1"), timeout=10)
    assert (resp.status_code, resp.reason) == (201, "Made It")
    assert resp.text == "/files/a?b=1 via 127.0.0.1"
    assert resp.raw.headers.getlist("Set-Cookie") == ["a=1", "b=2"]


def test_a_refused_connection_is_502_and_no_answer_in_time_is_504(lab, make_alb, ip_group):
    with socket.socket() as probe:  # a loopback port with nothing listening
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    stand_ins = lab.emulator.alb.stand_ins
    stand_ins.serve("10.0.1.61", f"http://127.0.0.1:{closed}")

    def never_answers(request: Request) -> Response:
        raise TimeoutError("no answer before the idle timeout")

    stand_ins.serve("10.0.1.62", never_answers)
    refused, silent = make_alb("refused"), make_alb("silent")
    refused.listen(
        80, default=[{"Type": "forward", "TargetGroupArn": ip_group("refused", "10.0.1.61")}]
    )
    silent.listen(
        80, default=[{"Type": "forward", "TargetGroupArn": ip_group("silent", "10.0.1.62")}]
    )

    assert_elb_page(requests.get(refused.url("/"), timeout=10), 502, "502 Bad Gateway")
    assert_elb_page(requests.get(silent.url("/"), timeout=10), 504, "504 Gateway Time-out")


def test_a_stand_in_url_must_be_loopback(lab):
    with pytest.raises(ValueError, match="loopback"):
        lab.emulator.alb.stand_ins.serve("10.0.1.70", "http://example.com:80")


def test_cloudfront_in_front_of_an_alb_port_without_a_listener_answers_502(lab, web):
    """CloudFront developer guide (http-502-bad-gateway): when the origin does not accept the
    connection, CloudFront answers the viewer 502, never a connection error."""
    from tests.emulator.edge_support import behaviour, create_distribution

    cf = lab.client("cloudfront")
    origin = {
        "Id": "alb",
        "DomainName": web.dns,
        "CustomOriginConfig": {
            "HTTPPort": 8080,  # the ALB listens on 80 only
            "HTTPSPort": 443,
            "OriginProtocolPolicy": "http-only",
        },
    }
    dist = create_distribution(cf, [origin], behaviour("alb"), [])
    resp = requests.get(f"https://{dist['DomainName']}/anything", timeout=10)
    assert resp.status_code == 502
    assert resp.headers.get("X-Cache") == "Error from cloudfront"
