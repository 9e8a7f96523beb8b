"""What CloudFront does with the origin's `Set-Cookie` headers, by the behaviour's cookie setting.

Contract ("Cache content based on cookies", legacy ForwardedValues): with cookie forwarding
`none`, CloudFront "removes the Cookie header from requests that it forwards to your origin and
removes the Set-Cookie header from responses that it returns to your viewers"; with `all` or a
whitelist it returns the origin's cookies to the viewer, also those not on the whitelist.
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/Cookies.html
"""

from __future__ import annotations

import uuid

import pytest
import requests

from helpers.emulator.http import Response

API_HOST = "cookies0api.execute-api.us-east-1.amazonaws.com"


@pytest.fixture
def origin(lab, monkeypatch) -> list:
    """An API Gateway stage stand-in on the lab's front that sets two cookies."""
    seen: list = []

    def handler(request, parts):
        seen.append(request)
        headers = [
            ("Content-Type", "text/plain"),
            ("Cache-Control", "no-store"),
            ("Set-Cookie", "session=s1; Path=/; Secure; HttpOnly"),
            ("Set-Cookie", "theme=dark; Path=/"),
        ]
        return Response(200, headers, b"ok")

    monkeypatch.setitem(lab.emulator.front.services, "gateway", handler)
    return seen


def distribution(cf, cookies: dict) -> str:
    behaviour = {
        "TargetOriginId": "api",
        "ViewerProtocolPolicy": "https-only",
        "AllowedMethods": {
            "Quantity": 2,
            "Items": ["GET", "HEAD"],
            "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]},
        },
        "ForwardedValues": {"QueryString": False, "Cookies": cookies},
        "MinTTL": 0,
        "DefaultTTL": 0,
        "MaxTTL": 0,
    }
    origin = {
        "Id": "api",
        "DomainName": API_HOST,
        "CustomOriginConfig": {
            "HTTPPort": 80,
            "HTTPSPort": 443,
            "OriginProtocolPolicy": "https-only",
        },
    }
    dist = cf.create_distribution(
        DistributionConfig={
            "CallerReference": str(uuid.uuid4()),
            "Comment": "",
            "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [origin]},
            "DefaultCacheBehavior": behaviour,
        }
    )["Distribution"]
    return f"https://{dist['DomainName']}/session"


def set_cookies(resp: requests.Response) -> list[str]:
    return sorted(c.name for c in resp.cookies)


def test_forwarding_no_cookies_drops_set_cookie_and_the_cookie_header(cf, origin):
    url = distribution(cf, {"Forward": "none"})

    resp = requests.get(url, headers={"Cookie": "session=old"}, timeout=10)

    assert resp.status_code == 200
    assert "Set-Cookie" not in resp.headers
    assert "Cookie" not in origin[-1].headers


def test_forwarding_all_cookies_returns_every_set_cookie(cf, origin):
    url = distribution(cf, {"Forward": "all"})

    resp = requests.get(url, timeout=10)

    assert set_cookies(resp) == ["session", "theme"]


def test_a_whitelist_returns_the_cookies_not_on_it_too(cf, origin):
    url = distribution(
        cf, {"Forward": "whitelist", "WhitelistedNames": {"Quantity": 1, "Items": ["session"]}}
    )

    resp = requests.get(url, timeout=10)

    assert set_cookies(resp) == ["session", "theme"]
