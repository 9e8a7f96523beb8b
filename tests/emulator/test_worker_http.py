"""A Lambda function's own HTTP requests to AWS's HTTP data planes, offline (http.py, "From
Lambda functions"; runtime/bootstrap.py; tls.py).

GIVEN a function whose code is what runs on AWS (stdlib urllib, or a packaged `requests`, with
certificate checks on), WHEN it requests an API Gateway stage's https URL or a load balancer's
DNS name, THEN the lab answers as AWS would: the API's status and body, the listener rule's fixed
response, a connection failure for a port with no listener (User Guide for Application Load
Balancers: a load balancer accepts connections only on its listeners' ports); a name the lab does
not serve fails to resolve, and the front's certificate is verified against the lab's CA.
"""

from __future__ import annotations

import json
import socket
import ssl
from pathlib import Path
from typing import Any

import pytest

import helpers
from helpers.emulator.tls import Authority
from tests.emulator.gateway_support import RestApi
from tests.emulator.vpc_support import two_zone_vpc

BACKENDS = ("moto", "moto-server")

# the function a lesson would deploy: it fetches the URL its event names with urllib
URLLIB_HANDLER = '''
"""Fetch event["url"] with the standard library; event["trust"] picks the TLS context."""
import socket
import ssl
import urllib.error
import urllib.request


def context(event):
    trust = event.get("trust", "default")
    if trust == "default":
        return None  # urllib's own: the default trust store, certificates and names checked
    if trust == "nothing":  # checks on, no authority trusted
        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    return ssl.create_default_context(cadata=trust)  # checks on, only this authority


def handler(event, context_):
    request = urllib.request.Request(event["url"], method=event.get("method", "GET"))
    try:
        with urllib.request.urlopen(request, timeout=10, context=context(event)) as resp:
            return {"status": resp.status, "body": resp.read().decode(), "server": resp.headers.get("Server")}
    except urllib.error.HTTPError as exc:
        return {"status": exc.code, "body": exc.read().decode()}
    except urllib.error.URLError as exc:
        reason = exc.reason
        return {"error": type(reason).__name__, "message": str(reason),
                "gaierror": isinstance(reason, socket.gaierror),
                "verify": isinstance(reason, ssl.SSLCertVerificationError)}
    except OSError as exc:  # http.client.RemoteDisconnected, ConnectionResetError...
        return {"error": type(exc).__name__, "message": str(exc),
                "connection": isinstance(exc, ConnectionError)}
'''

REQUESTS_HANDLER = '''
"""Fetch event["url"] with requests (packaged with the function), verification on."""
import requests


def handler(event, context):
    try:
        resp = requests.get(event["url"], timeout=10)
    except requests.exceptions.RequestException as exc:
        return {"error": type(exc).__name__, "message": str(exc)}
    return {"status": resp.status_code, "body": resp.text}
'''


def fixed(body: str, status: str = "200") -> list[dict[str, Any]]:
    config = {"StatusCode": status, "ContentType": "text/plain", "MessageBody": body}
    return [{"Type": "fixed-response", "FixedResponseConfig": config}]


@pytest.fixture(scope="module")
def fetcher(lab: helpers.Lab, role_arn: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """fetch(event, **function settings) -> what the urllib function returned."""
    folder = tmp_path_factory.mktemp("fetcher")
    (folder / "app.py").write_text(URLLIB_HANDLER)
    code = lab.package(folder, handler="app.handler")
    lambda_ = lab.client("lambda")
    made: dict[str, str] = {}

    def _fetch(event: dict[str, Any], env: dict[str, str] | None = None) -> dict[str, Any]:
        key = json.dumps(env, sort_keys=True)
        if key not in made:
            made[key] = lab.name(f"fetcher-{len(made)}")
            lambda_.create_function(
                FunctionName=made[key],
                Runtime=lab.runtime,
                Role=role_arn,
                Handler="app.handler",
                Code={"ZipFile": code},
                Timeout=20,
                Environment={"Variables": env or {}},
            )
        resp = lambda_.invoke(FunctionName=made[key], Payload=json.dumps(event).encode())
        out = json.loads(resp["Payload"].read())
        assert "FunctionError" not in resp, out
        return out

    return _fetch


@pytest.fixture(scope="module")
def api(lab: helpers.Lab, deploy: Any) -> RestApi:
    """A REST API: GET /users/{id} proxies to an echo function; its prod stage is deployed."""
    echo = deploy("echo", "gateway_echo.py", handler="gateway_echo.handler")
    api = RestApi(lab, "users")
    api.lambda_proxy("/users/{id}", "GET", echo)
    api.allow(echo)
    api.deploy("prod")
    return api


@pytest.fixture(scope="module")
def alb(lab: helpers.Lab) -> str:
    """An internet-facing ALB with an HTTP:80 listener: /orders answers a fixed 200; its DNS."""
    elb = lab.client("elbv2")
    _, subnets = two_zone_vpc(lab)
    found = elb.create_load_balancer(Name=lab.name("orders"), Subnets=subnets)["LoadBalancers"][0]
    listener = elb.create_listener(
        LoadBalancerArn=found["LoadBalancerArn"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=fixed("no such page", "404"),
    )["Listeners"][0]["ListenerArn"]
    elb.create_rule(
        ListenerArn=listener,
        Priority=1,
        Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/orders"]}}],
        Actions=fixed("the orders", "200"),
    )
    return found["DNSName"]


# ---- stdlib urllib, default verification --------------------------------------------------
def test_an_api_gateway_https_url_reaches_the_api_and_its_function(fetcher, api):
    out = fetcher({"url": api.url("/users/42")})
    assert out["status"] == 200, out
    event = json.loads(out["body"])["event"]
    assert event["resource"] == "/users/{id}"
    assert event["pathParameters"] == {"id": "42"}
    assert event["requestContext"]["stage"] == "prod"
    assert event["headers"]["Host"] == api.url("/").split("/")[2]


def test_an_api_gateway_error_status_reaches_the_function(fetcher, api):
    """A path with no resource: API Gateway's 403 Missing Authentication Token, as an HTTP
    status (not a connection failure)."""
    out = fetcher({"url": api.url("/nothing/here")})
    assert out["status"] == 403, out
    assert json.loads(out["body"]) == {"message": "Missing Authentication Token"}


def test_an_alb_dns_name_over_http_answers_its_listener_rule(fetcher, alb):
    assert fetcher({"url": f"http://{alb}/orders"}) == {
        "status": 200,
        "body": "the orders",
        "server": "awselb/2.0",
    }
    assert fetcher({"url": f"http://{alb}/other"})["status"] == 404  # the default action


@pytest.mark.parametrize("url", ["http://{dns}:8080/orders", "https://{dns}/orders"])
def test_an_alb_port_without_a_listener_fails_to_connect(fetcher, alb, url):
    """Port 8080 and 443 (https) have no listener: a connection failure, no HTTP status."""
    out = fetcher({"url": url.format(dns=alb)})
    assert "status" not in out, out
    assert out.get("connection") or out["error"] in ("RemoteDisconnected", "SSLEOFError"), out


def test_a_name_the_lab_does_not_serve_does_not_resolve(fetcher):
    """Nothing else is redirected: a name under .invalid (RFC 2606) fails to resolve."""
    out = fetcher({"url": "https://orders.example.invalid/orders"})
    assert out["gaierror"], out


def test_an_s3_website_endpoint_answers_no_https(fetcher, lab):
    """S3 website endpoints speak HTTP only: the front's certificate does not name them."""
    out = fetcher({"url": f"https://site.s3-website-{lab.region}.amazonaws.com/"})
    assert out["verify"], out


# ---- the certificate is checked ------------------------------------------------------------
def test_a_context_that_trusts_no_authority_fails_verification(fetcher, api):
    out = fetcher({"url": api.url("/users/1"), "trust": "nothing"})
    assert out["verify"], out
    assert "unable to get local issuer certificate" in out["message"]


def test_a_context_that_trusts_another_authority_fails_verification(fetcher, api):
    other = Authority("another CA")
    try:
        pem = Path(other.ca_file).read_text()
    finally:
        other.close()
    out = fetcher({"url": api.url("/users/1"), "trust": pem})
    assert out["verify"], out


def test_a_function_that_sets_ssl_cert_file_keeps_its_own_trust_store(fetcher, api, tmp_path):
    """SSL_CERT_FILE is the function's to set: then the lab CA is not in the default store."""
    other = Authority("the function's own CA")
    try:
        own = tmp_path / "own-ca.pem"
        own.write_bytes(Path(other.ca_file).read_bytes())
    finally:
        other.close()
    out = fetcher({"url": api.url("/users/7")}, env={"SSL_CERT_FILE": str(own)})
    assert out["verify"], out


def test_the_front_presents_the_lab_cas_certificate_for_the_aws_host(lab, api):
    """From outside a function: the lab CA verifies the certificate for the API's host; a
    client trusting only this machine's authorities, or expecting another name, refuses it."""
    front = lab.emulator.front
    host = api.url("/").split("/")[2]

    def handshake(context: ssl.SSLContext, name: str) -> None:
        with socket.create_connection(("127.0.0.1", front.port), timeout=5) as raw:
            with context.wrap_socket(raw, server_hostname=name):
                pass

    handshake(ssl.create_default_context(cafile=front.authority.ca_file), host)
    for region in ("eu-west-3", "ap-southeast-2", "us-gov-west-1"):
        handshake(
            ssl.create_default_context(cafile=front.authority.ca_file),
            f"abc123.execute-api.{region}.amazonaws.com",
        )
    with pytest.raises(ssl.SSLCertVerificationError, match="local issuer"):
        handshake(ssl.create_default_context(), host)
    with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
        handshake(ssl.create_default_context(cafile=front.authority.ca_file), "example.com")


# ---- requests, packaged with the function ---------------------------------------------------
@pytest.fixture(scope="module")
def requests_fetcher(lab: helpers.Lab, role_arn: str, tmp_path_factory: Any) -> str:
    folder = tmp_path_factory.mktemp("requests-fetcher")
    (folder / "app.py").write_text(REQUESTS_HANDLER)
    code = lab.package(folder, handler="app.handler", requirements=["requests"])
    name = lab.name("requests-fetcher")
    lab.client("lambda").create_function(
        FunctionName=name,
        Runtime=lab.runtime,
        Role=role_arn,
        Handler="app.handler",
        Code={"ZipFile": code},
        Timeout=20,
    )
    return name


def invoke(lab: helpers.Lab, name: str, event: dict[str, Any]) -> dict[str, Any]:
    resp = lab.client("lambda").invoke(FunctionName=name, Payload=json.dumps(event).encode())
    out = json.loads(resp["Payload"].read())
    assert "FunctionError" not in resp, out
    return out


def test_requests_with_certifis_trust_store_reaches_the_api(lab, requests_fetcher, api):
    """requests verifies against certifi's bundle, not SSL_CERT_FILE: it trusts the lab CA too."""
    out = invoke(lab, requests_fetcher, {"url": api.url("/users/9")})
    assert out["status"] == 200, out
    assert json.loads(out["body"])["event"]["pathParameters"] == {"id": "9"}


def test_requests_reaches_an_alb_and_fails_on_a_port_without_listener(lab, requests_fetcher, alb):
    assert invoke(lab, requests_fetcher, {"url": f"http://{alb}/orders"}) == {
        "status": 200,
        "body": "the orders",
    }
    out = invoke(lab, requests_fetcher, {"url": f"http://{alb}:8080/orders"})
    assert out["error"] == "ConnectionError", out


# ---- one certificate authority per lab ------------------------------------------------------
def test_a_tls_cache_and_the_front_share_the_labs_authority(lab):
    """An ElastiCache cache with TransitEncryptionEnabled presents a certificate for 127.0.0.1
    that the same lab CA signs."""
    ec = lab.client("elasticache")
    name = lab.name("tls-cache")
    ec.create_cache_cluster(
        CacheClusterId=name,
        Engine="redis",
        CacheNodeType="cache.t3.micro",
        NumCacheNodes=1,
        TransitEncryptionEnabled=True,
    )
    cluster = ec.describe_cache_clusters(CacheClusterId=name, ShowCacheNodeInfo=True)
    endpoint = cluster["CacheClusters"][0]["CacheNodes"][0]["Endpoint"]
    context = ssl.create_default_context(cafile=lab.emulator.front.authority.ca_file)
    with socket.create_connection((endpoint["Address"], endpoint["Port"]), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=endpoint["Address"]) as tls:
            tls.sendall(b"*1\r\n$4\r\nPING\r\n")
            assert tls.recv(64) == b"+PONG\r\n"
    ec.delete_cache_cluster(CacheClusterId=name)
