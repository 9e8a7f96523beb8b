"""CloudFront's edge: distributions made with boto3 answer `https://{id}.cloudfront.net/...`.

GIVEN a distribution created as a learner creates it (an S3 origin with Origin Access Control, the
OAC bucket policy, cache behaviours, custom origins), WHEN a viewer sends HTTP requests to its
domain, THEN CloudFront's documented behaviour follows: the OAC policy admits the distribution and
nobody else, behaviours route by path pattern, disallowed methods and protocols get CloudFront's
403 page or 301, custom error responses replace errors, and origins' answers pass through.
"""

from __future__ import annotations

import json
import re
import uuid
import xml.etree.ElementTree as ET

import pytest
import requests

from helpers.emulator.http import Response
from tests.emulator.edge_support import create_oac, oac_policy
from tests.emulator.s3_support import public_read_policy

BACKENDS = ("moto", "moto-server")
API_HOST = "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"


# ---- building distributions the way a learner does ----------------------------------------------
def s3_origin(bucket: str, oac: str | None, origin_id: str = "s3", path: str = "") -> dict:
    origin = {
        "Id": origin_id,
        "DomainName": f"{bucket}.s3.us-east-1.amazonaws.com",
        "OriginPath": path,
        "S3OriginConfig": {"OriginAccessIdentity": ""},
    }
    if oac:
        origin["OriginAccessControlId"] = oac
    return origin


def custom_origin(origin_id: str, domain: str, protocol: str = "https-only", path: str = ""):
    return {
        "Id": origin_id,
        "DomainName": domain,
        "OriginPath": path,
        "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": protocol},
    }


def behaviour(
    origin_id: str,
    pattern: str | None = None,
    *,
    methods: tuple[str, ...] = ("GET", "HEAD"),
    viewer: str = "allow-all",
    query: bool = False,
    headers: tuple[str, ...] = (),
    **extra,
) -> dict:
    out = {
        "TargetOriginId": origin_id,
        "ViewerProtocolPolicy": viewer,
        "AllowedMethods": {
            "Quantity": len(methods),
            "Items": list(methods),
            "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]},
        },
        "ForwardedValues": {
            "QueryString": query,
            "Cookies": {"Forward": "none"},
            "Headers": {"Quantity": len(headers), "Items": list(headers)},
        },
        "MinTTL": 0,
        **extra,
    }
    if pattern is not None:
        out["PathPattern"] = pattern
    return out


@pytest.fixture(scope="module")
def oac(lab, cf):
    return create_oac(lab, cf)


@pytest.fixture(scope="module")
def bucket(lab, s3):
    """A private bucket (Block Public Access on) holding a small site."""
    name = lab.name("private-site")
    s3.create_bucket(Bucket=name)
    for key, body, kind in [
        ("index.html", b"<h1>Home</h1>", "text/html"),
        ("about.html", b"<h1>About</h1>", "text/html"),
        ("site/pages/page.html", b"<h1>Under /site</h1>", "text/html"),
        ("images/cat.JPG", b"JPEG", "image/jpeg"),
        ("app.js", b"console.log(1)", "application/javascript"),
    ]:
        s3.put_object(Bucket=name, Key=key, Body=body, ContentType=kind)
    return name


@pytest.fixture(scope="module")
def distribute(lab, cf):
    """distribute(origins, default, behaviours=(), **config) -> the Distribution (boto3 shape)."""

    def create(origins: list[dict], default: dict, behaviours: tuple = (), **config) -> dict:
        dist_config = {
            "CallerReference": str(uuid.uuid4()),
            "Comment": "",
            "Enabled": True,
            "Origins": {"Quantity": len(origins), "Items": origins},
            "DefaultCacheBehavior": default,
            **config,
        }
        if behaviours:
            dist_config["CacheBehaviors"] = {"Quantity": len(behaviours), "Items": list(behaviours)}
        return cf.create_distribution(DistributionConfig=dist_config)["Distribution"]

    return create


@pytest.fixture(scope="module")
def admit(bucket, s3):
    """admit(distribution): add its ARN to the bucket's OAC policy (keeping the others)."""
    admitted: list[str] = []

    def add(dist: dict) -> dict:
        admitted.append(dist["ARN"])
        s3.put_bucket_policy(Bucket=bucket, Policy=oac_policy(bucket, admitted))
        return dist

    return add


@pytest.fixture(scope="module")
def blog(bucket, oac, distribute, admit):
    """The MyBlog shape: private bucket, OAC, DefaultRootObject, HTTPS redirect."""
    dist = distribute(
        [s3_origin(bucket, oac)],
        behaviour("s3", viewer="redirect-to-https"),
        DefaultRootObject="index.html",
    )
    return admit(dist)


def url(dist: dict, path: str = "/", scheme: str = "https") -> str:
    return f"{scheme}://{dist['DomainName']}{path}"


def assert_cloudfront_headers(resp: requests.Response, x_cache: str) -> None:
    assert resp.headers["X-Cache"] == f"{x_cache} from cloudfront"
    assert re.fullmatch(r"1\.1 [0-9a-f]{32}\.cloudfront\.net \(CloudFront\)", resp.headers["Via"])
    assert re.fullmatch(r"[A-Za-z0-9_-]{54}==", resp.headers["X-Amz-Cf-Id"])
    assert resp.headers["X-Amz-Cf-Pop"]


def assert_cloudfront_page(resp: requests.Response, status: int, message: str) -> None:
    assert resp.status_code == status
    assert "<TITLE>ERROR: The request could not be satisfied</TITLE>" in resp.text
    assert f"<H1>{status} ERROR</H1>" in resp.text
    assert message in resp.text
    assert f"Request ID: {resp.headers['X-Amz-Cf-Id']}" in resp.text
    assert resp.headers["X-Cache"] == "Error from cloudfront"


# ---- the control plane keeps what the learner sent ----------------------------------------------
def test_get_distribution_keeps_the_origin_access_control(cf, blog, oac):
    config = cf.get_distribution(Id=blog["Id"])["Distribution"]["DistributionConfig"]
    origin = config["Origins"]["Items"][0]

    assert origin["OriginAccessControlId"] == oac
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}


def test_left_out_ttls_read_back_as_awss_defaults(cf, blog):
    config = cf.get_distribution_config(Id=blog["Id"])["DistributionConfig"]
    default = config["DefaultCacheBehavior"]

    assert (default["MinTTL"], default["DefaultTTL"], default["MaxTTL"]) == (0, 86400, 31536000)


# ---- OAC: the distribution gets in, nobody else does --------------------------------------------
def test_the_oac_policy_lets_the_distribution_read_the_private_bucket(blog):
    resp = requests.get(url(blog, "/about.html"), timeout=10)

    assert resp.status_code == 200
    assert resp.text == "<h1>About</h1>"
    assert resp.headers["Content-Type"] == "text/html"
    assert_cloudfront_headers(resp, "Miss")


def test_direct_requests_to_the_bucket_stay_denied(blog, bucket):
    resp = requests.get(f"https://{bucket}.s3.amazonaws.com/about.html", timeout=10)

    assert resp.status_code == 403


def test_another_distribution_is_not_admitted_by_the_policy(bucket, oac, distribute):
    other = distribute([s3_origin(bucket, oac)], behaviour("s3"))

    resp = requests.get(url(other, "/about.html"), timeout=10)

    assert resp.status_code == 403
    assert ET.fromstring(resp.content).findtext("Code") == "AccessDenied"  # S3's body, as is
    assert resp.headers["Content-Type"] == "application/xml"
    assert resp.headers["X-Cache"] == "Error from cloudfront"


def test_an_origin_without_oac_reads_anonymously(bucket, distribute):
    no_oac = distribute([s3_origin(bucket, None)], behaviour("s3"))

    assert requests.get(url(no_oac, "/about.html"), timeout=10).status_code == 403


def test_a_missing_key_is_s3s_403_without_list_bucket(blog):
    resp = requests.get(url(blog, "/no-such-page.html"), timeout=10)

    assert resp.status_code == 403
    assert ET.fromstring(resp.content).findtext("Code") == "AccessDenied"


# ---- viewer-facing rules -------------------------------------------------------------------------
def test_the_default_root_object_answers_only_the_root(blog):
    root = requests.get(url(blog, "/"), timeout=10)
    folder = requests.get(url(blog, "/site/"), timeout=10)

    assert root.status_code == 200
    assert root.text == "<h1>Home</h1>"
    assert folder.status_code == 403  # no site/index.html lookup: that is S3 website behaviour


def test_http_is_redirected_to_https(blog):
    resp = requests.get(url(blog, "/about.html?x=1", "http"), allow_redirects=False, timeout=10)

    assert resp.status_code == 301
    assert resp.headers["Location"] == f"https://{blog['DomainName']}/about.html?x=1"
    assert resp.headers["X-Cache"] == "Redirect from cloudfront"


def test_https_only_refuses_http(bucket, oac, distribute):
    dist = distribute([s3_origin(bucket, oac)], behaviour("s3", viewer="https-only"))

    resp = requests.get(url(dist, "/about.html", "http"), allow_redirects=False, timeout=10)

    assert_cloudfront_page(resp, 403, "Bad request.")


def test_a_method_the_behaviour_does_not_allow_is_403(blog):
    resp = requests.post(url(blog, "/about.html"), data=b"x", timeout=10)

    assert_cloudfront_page(
        resp,
        403,
        "This distribution is not configured to allow the HTTP request method that was used "
        "for this request. The distribution supports only cachable requests.",
    )


def test_a_disabled_distribution_answers_403(bucket, oac, distribute, cf):
    dist = distribute([s3_origin(bucket, oac)], behaviour("s3"))
    current = cf.get_distribution_config(Id=dist["Id"])
    config = current["DistributionConfig"]
    config["Enabled"] = False
    cf.update_distribution(Id=dist["Id"], IfMatch=current["ETag"], DistributionConfig=config)

    resp = requests.get(url(dist, "/about.html"), timeout=10)

    assert_cloudfront_page(resp, 403, "Bad request.")


def test_behaviours_match_path_patterns_in_order_case_sensitively(bucket, oac, distribute, admit):
    dist = distribute(
        [s3_origin(bucket, oac), s3_origin(bucket, oac, origin_id="site", path="/site")],
        behaviour("s3"),
        (
            behaviour("site", "/pages/*"),  # first match wins over the broader one below
            behaviour("s3", "/pages/*.html", methods=("GET", "HEAD", "OPTIONS")),
            behaviour("s3", "images/*.jpg", viewer="https-only"),
        ),
    )
    admit(dist)

    page = requests.get(url(dist, "/pages/page.html"), timeout=10)
    options = requests.options(url(dist, "/pages/page.html"), timeout=10)
    upper = requests.get(url(dist, "/images/cat.JPG", "http"), allow_redirects=False, timeout=10)

    assert page.text == "<h1>Under /site</h1>"  # the first match: origin "site", OriginPath /site
    assert options.status_code == 403  # the first match allows GET and HEAD only
    assert upper.status_code == 200  # *.jpg does not match .JPG: the default behaviour serves it


def test_a_behaviour_with_trusted_key_groups_refuses_unsigned_requests(
    lab, cf, bucket, oac, distribute
):
    pem = (
        "-----BEGIN PUBLIC KEY-----\n"
        "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo\n"
        "-----END PUBLIC KEY-----\n"
    )
    key_id = cf.create_public_key(
        PublicKeyConfig={
            "CallerReference": lab.name("key"),
            "Name": lab.name("key"),
            "EncodedKey": pem,
        }
    )["PublicKey"]["Id"]
    group = cf.create_key_group(KeyGroupConfig={"Name": lab.name("group"), "Items": [key_id]})
    trusted = {"Enabled": True, "Quantity": 1, "Items": [group["KeyGroup"]["Id"]]}
    dist = distribute(
        [s3_origin(bucket, oac)],
        behaviour("s3"),
        (behaviour("s3", "/premium/*", TrustedKeyGroups=trusted),),
    )

    resp = requests.get(url(dist, "/premium/video.mp4"), timeout=10)

    assert resp.status_code == 403
    assert resp.headers["Content-Type"] == "text/xml"
    root = ET.fromstring(resp.content)
    assert root.findtext("Code") == "MissingKey"
    assert root.findtext("Message") == "Missing Key-Pair-Id query parameter or cookie value"


# ---- custom error responses ----------------------------------------------------------------------
def test_a_custom_error_response_serves_a_page_with_its_status(bucket, oac, distribute, admit):
    dist = distribute(
        [s3_origin(bucket, oac)],
        behaviour("s3"),
        CustomErrorResponses={
            "Quantity": 1,
            "Items": [
                {
                    "ErrorCode": 403,
                    "ResponsePagePath": "/index.html",
                    "ResponseCode": "200",
                    "ErrorCachingMinTTL": 0,
                }
            ],
        },
    )
    admit(dist)

    resp = requests.get(url(dist, "/app/route/42"), timeout=10)

    assert resp.status_code == 200
    assert resp.text == "<h1>Home</h1>"
    assert resp.headers["X-Cache"] == "Error from cloudfront"


# ---- custom origins ------------------------------------------------------------------------------
@pytest.fixture
def api_origin(lab, monkeypatch):
    """A stand-in for an API Gateway stage on the lab's front: records what reaches it."""
    seen: list = []

    def handler(request, parts):
        seen.append(request)
        return Response(
            201,
            [("Content-Type", "application/json"), ("Cache-Control", "no-store")],
            json.dumps({"path": request.path}).encode(),
        )

    monkeypatch.setitem(lab.emulator.front.services, "gateway", handler)
    return seen


def test_a_custom_origin_gets_the_forwarded_parts_of_the_request(api_origin, distribute):
    dist = distribute(
        [custom_origin("api", API_HOST, path="/prod")],
        behaviour(
            "api",
            methods=("GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"),
            query=True,
            headers=("Authorization",),
        ),
    )

    resp = requests.post(
        url(dist, "/items?limit=5"),
        data=b'{"name": "x"}',
        headers={
            "Authorization": "Bearer t0ken",
            "Content-Type": "application/json",
            "X-Not-Forwarded": "1",
            "User-Agent": "my-browser",
        },
        timeout=10,
    )

    assert resp.status_code == 201
    assert resp.json() == {"path": "/prod/items"}
    request = api_origin[-1]
    assert request.url == f"https://{API_HOST}/prod/items?limit=5"
    assert request.method == "POST"
    assert request.body == b'{"name": "x"}'
    assert request.headers["Authorization"] == "Bearer t0ken"
    assert request.headers["Content-Type"] == "application/json"
    assert "X-Not-Forwarded" not in request.headers
    assert request.headers["User-Agent"] == "Amazon CloudFront"
    assert request.headers["X-Forwarded-For"] == "127.0.0.1"  # the viewer's address
    assert request.headers["Via"] == resp.headers["Via"]
    assert resp.headers["X-Cache"] == "Miss from cloudfront"


def test_query_strings_are_not_forwarded_unless_the_behaviour_says_so(api_origin, distribute):
    dist = distribute([custom_origin("api", API_HOST)], behaviour("api"))

    requests.get(url(dist, "/items?limit=5"), timeout=10)

    assert api_origin[-1].url == f"https://{API_HOST}/items"


def test_an_s3_website_origin_is_reached_over_http(lab, s3, distribute):
    site = lab.name("website-origin")
    s3.create_bucket(Bucket=site)
    s3.put_object(
        Bucket=site, Key="docs/index.html", Body=b"<h1>Docs</h1>", ContentType="text/html"
    )
    s3.put_bucket_website(
        Bucket=site, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}}
    )
    s3.delete_public_access_block(Bucket=site)
    s3.put_bucket_policy(Bucket=site, Policy=public_read_policy(site))
    domain = f"{site}.s3-website-us-east-1.amazonaws.com"
    over_http = distribute([custom_origin("web", domain, "http-only")], behaviour("web"))
    over_https = distribute([custom_origin("web", domain, "https-only")], behaviour("web"))

    page = requests.get(url(over_http, "/docs/"), timeout=10)
    refused = requests.get(url(over_https, "/docs/"), timeout=10)

    assert page.status_code == 200
    assert page.text == "<h1>Docs</h1>"  # the website endpoint's index document
    assert refused.status_code == 502  # website endpoints do not speak HTTPS


def test_an_origin_the_lab_does_not_serve_is_a_clear_502(distribute):
    dist = distribute([custom_origin("ext", "origin.example.com")], behaviour("ext"))

    resp = requests.get(url(dist, "/x"), timeout=10)

    assert_cloudfront_page(resp, 502, "CloudFront wasn't able to connect to the origin.")
    assert "origin.example.com" in resp.text
