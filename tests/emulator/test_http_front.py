"""The HTTP front: AWS's data-plane hosts reach the emulator's services, over loopback HTTP.

GIVEN a lab, WHEN a notebook sends `requests` to an AWS URL (or curl sends the Host header to the
front), THEN the service registered for that host receives the request as the client sent it.
"""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

import pytest
import requests

from helpers.emulator.http import Request, Response, classify

BACKENDS = ("moto", "moto-server")


@pytest.mark.parametrize(
    ("host", "kind", "parts"),
    [
        # REST API invoke URL: https://{restapi_id}.execute-api.{region}.amazonaws.com/{stage}/
        (
            "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
            "gateway",
            {"api_id": "a1b2c3d4e5", "region": "us-east-1"},
        ),
        ("d111111abcdef8.cloudfront.net", "edge", {"domain": "d111111abcdef8.cloudfront.net"}),
        # both website endpoint forms AWS documents: s3-website-Region and s3-website.Region
        (
            "my-site.s3-website-us-east-1.amazonaws.com",
            "website",
            {"bucket": "my-site", "region": "us-east-1"},
        ),
        (
            "my-site.s3-website.eu-central-1.amazonaws.com",
            "website",
            {"bucket": "my-site", "region": "eu-central-1"},
        ),
        ("my-site.s3.amazonaws.com", "s3", {"bucket": "my-site", "region": None}),
        ("my-site.s3.us-west-2.amazonaws.com", "s3", {"bucket": "my-site", "region": "us-west-2"}),
        ("s3.us-west-2.amazonaws.com", "s3", {"region": "us-west-2"}),
        ("D111111ABCDEF8.CloudFront.net.", "edge", {"domain": "d111111abcdef8.cloudfront.net"}),
    ],
)
def test_aws_hosts_are_routed_to_their_service(host, kind, parts):
    assert classify(host) == (kind, parts)


@pytest.mark.parametrize("host", ["example.com", "127.0.0.1", "sqs.us-east-1.amazonaws.com"])
def test_other_hosts_are_not_routed(host):
    assert classify(host) is None


@pytest.fixture
def recorder(lab, monkeypatch):
    """Every edge request the front receives, answered with a fixed response."""
    seen: list[tuple[Request, dict]] = []

    def handler(request: Request, parts: dict) -> Response:
        seen.append((request, parts))
        return Response(
            201,
            [("Content-Type", "text/plain"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")],
            b"from the edge",
        )

    monkeypatch.setitem(lab.emulator.front.services, "edge", handler)
    return seen


def test_requests_to_an_aws_url_reach_the_service_as_sent(lab, recorder):
    url = "https://d111111abcdef8.cloudfront.net/images/a%20b.png?size=2&x=%2F"
    resp = requests.post(url, data=b"payload", headers={"X-Custom": "yes"}, timeout=10)

    assert resp.status_code == 201
    assert resp.text == "from the edge"
    assert resp.url == url  # the client sees AWS's URL, not the loopback address
    request, parts = recorder[-1]
    assert parts == {"domain": "d111111abcdef8.cloudfront.net"}
    assert request.method == "POST"
    assert request.url == url
    assert request.path == "/images/a%20b.png"
    assert request.query == "size=2&x=%2F"
    assert request.body == b"payload"
    assert request.headers["X-Custom"] == "yes"
    assert request.headers["Host"] == "d111111abcdef8.cloudfront.net"
    assert request.source_ip == "127.0.0.1"


def test_repeated_response_headers_are_kept(lab, recorder):
    conn = http.client.HTTPConnection(*_front(lab))
    conn.request("GET", "/", headers={"Host": "d111111abcdef8.cloudfront.net"})
    resp = conn.getresponse()
    assert resp.headers.get_all("Set-Cookie") == ["a=1", "b=2"]
    assert resp.read() == b"from the edge"


def test_curl_reaches_the_front_with_the_host_header(lab, recorder):
    # what `curl -H 'Host: d111111abcdef8.cloudfront.net' http://127.0.0.1:PORT/index.html` sends
    conn = http.client.HTTPConnection(*_front(lab))
    conn.request("HEAD", "/index.html", headers={"Host": "d111111abcdef8.cloudfront.net"})
    resp = conn.getresponse()
    assert resp.status == 201
    assert resp.read() == b""  # HEAD: headers only
    assert int(resp.headers["Content-Length"]) == len(b"from the edge")
    assert recorder[-1][0].url == "https://d111111abcdef8.cloudfront.net/index.html"


def test_a_browser_at_the_front_address_sees_the_default_host(lab, recorder, monkeypatch):
    monkeypatch.setattr(lab.emulator.front, "default_host", "d111111abcdef8.cloudfront.net")
    resp = requests.get(f"{lab.http_endpoint}/post.html?id=3", timeout=10)
    assert resp.status_code == 201
    assert recorder[-1][0].url.endswith("d111111abcdef8.cloudfront.net/post.html?id=3")


def test_an_unknown_distribution_is_a_404_naming_it(lab):
    # on AWS the name would not resolve; offline the front says which host answers nothing
    resp = requests.get("https://d000000unknown.cloudfront.net/", timeout=10)
    assert resp.status_code == 404
    assert "d000000unknown.cloudfront.net" in resp.text


def test_an_unknown_api_gets_api_gateways_forbidden(lab):
    resp = requests.get("https://abcdef0123.execute-api.us-east-1.amazonaws.com/prod/", timeout=10)
    assert resp.status_code == 403
    assert resp.json() == {"message": "Forbidden"}


def test_a_host_the_front_does_not_serve_is_a_404(lab):
    # the lab's own loopback endpoints stay reachable as they are
    resp = requests.get(f"{lab.http_endpoint}/", headers={"Host": "example.com"}, timeout=10)
    assert resp.status_code == 404


def _front(lab) -> tuple[str, int]:
    parts = urlsplit(lab.http_endpoint)
    return parts.hostname, parts.port


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_a_client_that_hangs_up_before_its_answer_is_no_error_of_the_front(capfd, tls):
    """A caller that times out (orders waiting for a slow users) closes its connection; the
    front drops the late answer without printing a traceback into the learner's notebook."""
    import socket
    import time

    from helpers.emulator.http import Front

    front = Front()

    def slow(request: Request, parts: dict) -> Response:
        time.sleep(0.5)
        return Response(200, [("Content-Type", "text/plain")], b"late\n" * 50_000)

    front.register("gateway", slow)
    front.start(0)
    try:
        host, port = front.address.split(":")
        if tls:
            import ssl

            context = ssl.create_default_context(cafile=front.authority.ca_file)
            context.check_hostname = False
            conn = http.client.HTTPSConnection(host, int(port), timeout=10, context=context)
        else:
            conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.request(
            "GET", "/prod/users/1", headers={"Host": "abc123.execute-api.us-east-1.amazonaws.com"}
        )
        # connected (and the TLS handshake done, on a busy machine too): now wait too little
        assert conn.sock is not None
        conn.sock.settimeout(0.1)
        with pytest.raises((TimeoutError, socket.timeout)):
            conn.getresponse()
        conn.close()
        time.sleep(0.8)  # the handler finishes and writes to the closed connection
    finally:
        front.stop()
    assert "Traceback" not in capfd.readouterr().err
