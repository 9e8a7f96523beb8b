"""CloudFront's edge cache: TTLs, cache keys, error caching, invalidations, counters and metrics.

The TTL rules are AWS's ("Manage how long content stays in the cache (expiration)" and "Control
how long CloudFront caches errors"): s-maxage, then max-age, then Expires, clamped to
[MinTTL, MaxTTL]; no header: DefaultTTL; no-cache/no-store/private: not cached unless MinTTL > 0;
errors: 10 s, or the ErrorCachingMinTTL, or longer when the origin asks. Time is lab time.
"""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from email.utils import formatdate

import pytest
import requests
from requests.structures import CaseInsensitiveDict

from helpers.emulator.edge import Ttls, cache_ttl, error_ttl
from helpers.emulator.http import Response
from tests.emulator.edge_support import create_oac, oac_policy

BACKENDS = ("moto",)
BOTH = pytest.mark.backends("moto", "moto-server")
API_HOST = "f6g7h8i9j0.execute-api.us-east-1.amazonaws.com"
NOW = 1_700_000_000.0
DEFAULTS = Ttls(0, 86400, 31536000)


# ---- the rules, as functions ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("headers", "limits", "ttl"),
    [
        ({"Cache-Control": "max-age=600"}, DEFAULTS, 600),
        ({"Cache-Control": "public, max-age=3600"}, Ttls(0, 86400, 300), 300),  # <= MaxTTL
        ({"Cache-Control": "max-age=5"}, Ttls(60, 86400, 31536000), 60),  # >= MinTTL
        ({"Cache-Control": "max-age=600, s-maxage=60"}, DEFAULTS, 60),  # s-maxage is for CDNs
        ({}, Ttls(0, 300, 3600), 300),  # no header: DefaultTTL
        ({"Expires": formatdate(NOW + 120, usegmt=True)}, DEFAULTS, 120),
        (
            {"Cache-Control": "max-age=60", "Expires": formatdate(NOW + 999, usegmt=True)},
            DEFAULTS,
            60,
        ),
        ({"Expires": "0"}, DEFAULTS, 0),  # an invalid date means already expired
        ({"Cache-Control": "no-cache"}, DEFAULTS, None),
        ({"Cache-Control": "private, max-age=60"}, DEFAULTS, None),
        ({"Cache-Control": "no-store"}, Ttls(30, 86400, 31536000), 30),  # MinTTL wins
    ],
)
def test_how_long_a_successful_response_is_kept(headers, limits, ttl):
    assert cache_ttl(CaseInsensitiveDict(headers), limits, NOW) == ttl


@pytest.mark.parametrize(
    ("status", "headers", "error_min_ttl", "ttl"),
    [
        (403, {}, 10, 10),  # the default Error Caching Minimum TTL
        (404, {}, 0, 0),
        (404, {"Cache-Control": "max-age=300"}, 10, 300),  # the greater of header and minimum
        (404, {"Cache-Control": "max-age=5"}, 10, 10),
        (404, {"Cache-Control": "no-store"}, 10, 0),  # honoured for 404, 410, 414, 501
        (403, {"Cache-Control": "no-store"}, 10, 10),  # ignored for the other codes
        (503, {"Cache-Control": "max-age=99999999"}, 10, 31536000),  # header at most MaxTTL
        (401, {}, 10, 0),  # not a status CloudFront caches
    ],
)
def test_how_long_an_error_is_kept(status, headers, error_min_ttl, ttl):
    assert error_ttl(status, CaseInsensitiveDict(headers), error_min_ttl, DEFAULTS, NOW) == ttl


# ---- through the edge ----------------------------------------------------------------------------
def behaviour(origin_id: str = "s3", pattern: str | None = None, **extra) -> dict:
    methods = extra.pop("methods", ("GET", "HEAD"))
    cached = extra.pop("cached", ("GET", "HEAD"))
    forwarded = extra.pop("forwarded", {"QueryString": False, "Cookies": {"Forward": "none"}})
    out = {
        "TargetOriginId": origin_id,
        "ViewerProtocolPolicy": "allow-all",
        "AllowedMethods": {
            "Quantity": len(methods),
            "Items": list(methods),
            "CachedMethods": {"Quantity": len(cached), "Items": list(cached)},
        },
        "ForwardedValues": forwarded,
        "MinTTL": 0,
        **extra,
    }
    if pattern:
        out["PathPattern"] = pattern
    return out


@pytest.fixture(scope="module")
def bucket(lab, s3):
    name = lab.name("cached")
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="module")
def distribution(lab, cf, s3, bucket):
    """distribution(default_behaviour=None, admit=True, **config) -> Distribution with OAC."""
    oac = create_oac(lab, cf)
    admitted: list[str] = []

    def create(default: dict | None = None, *, admit: bool = True, **config) -> dict:
        origin = {
            "Id": "s3",
            "DomainName": f"{bucket}.s3.us-east-1.amazonaws.com",
            "S3OriginConfig": {"OriginAccessIdentity": ""},
            "OriginAccessControlId": oac,
        }
        dist = cf.create_distribution(
            DistributionConfig={
                "CallerReference": str(uuid.uuid4()),
                "Comment": "",
                "Enabled": True,
                "Origins": {"Quantity": 1, "Items": [origin, *config.pop("extra_origins", [])]},
                "DefaultCacheBehavior": default or behaviour(),
                **config,
            }
        )["Distribution"]
        if admit:
            allow(dist)
        return dist

    def allow(dist: dict) -> None:
        admitted.append(dist["ARN"])
        s3.put_bucket_policy(Bucket=bucket, Policy=oac_policy(bucket, admitted))

    create.allow = allow
    return create


@pytest.fixture
def put(s3, bucket):
    """put(key, body, **put_object kwargs): an object in the cached bucket."""

    def upload(key: str, body: bytes = b"content", **kwargs) -> None:
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="text/plain", **kwargs)

    return upload


def get(dist: dict, path: str, **kwargs) -> requests.Response:
    return requests.get(f"https://{dist['DomainName']}{path}", timeout=10, **kwargs)


def x_cache(resp: requests.Response) -> str:
    return resp.headers["X-Cache"].removesuffix(" from cloudfront")


@BOTH
def test_a_repeated_request_is_a_hit_and_age_counts_lab_seconds(lab, distribution, put):
    dist = distribution()
    put("hit.txt", CacheControl="max-age=600")

    first = get(dist, "/hit.txt")
    lab.clock.advance(42)
    second = get(dist, "/hit.txt")

    assert (x_cache(first), x_cache(second)) == ("Miss", "Hit")
    assert "Age" not in first.headers
    assert second.headers["Age"] == "42"
    assert second.content == first.content == b"content"
    assert lab.emulator.edge.stats(dist["Id"]).origin_requests == 1


def test_max_ttl_caps_the_origins_max_age_then_the_edge_revalidates(lab, distribution, put):
    dist = distribution(behaviour(MaxTTL=60, DefaultTTL=60))
    put("capped.txt", CacheControl="max-age=3600")
    get(dist, "/capped.txt")

    lab.clock.advance(59)
    fresh = get(dist, "/capped.txt")
    lab.clock.advance(2)
    revalidated = get(dist, "/capped.txt")
    again = get(dist, "/capped.txt")

    assert x_cache(fresh) == "Hit"
    assert x_cache(revalidated) == "RefreshHit"  # the origin said 304: same ETag
    assert revalidated.content == b"content"
    assert x_cache(again) == "Hit"
    assert lab.emulator.edge.stats(dist["Id"]).origin_requests == 2


def test_after_expiry_a_changed_object_comes_back_as_a_miss(lab, distribution, put):
    dist = distribution()
    put("changing.txt", b"version 1", CacheControl="max-age=30")
    get(dist, "/changing.txt")
    put("changing.txt", b"version 2", CacheControl="max-age=30")

    stale_but_fresh = get(dist, "/changing.txt")
    lab.clock.advance(31)
    updated = get(dist, "/changing.txt")

    assert stale_but_fresh.content == b"version 1"  # CloudFront serves its copy until it expires
    assert (x_cache(updated), updated.content) == ("Miss", b"version 2")


def test_min_ttl_keeps_objects_the_origin_wants_expired_quickly(lab, distribution, put):
    dist = distribution(behaviour(MinTTL=120, DefaultTTL=300))
    put("min.txt", CacheControl="max-age=5")
    get(dist, "/min.txt")

    lab.clock.advance(100)

    assert x_cache(get(dist, "/min.txt")) == "Hit"


def test_without_caching_headers_the_default_ttl_applies(lab, distribution, put):
    dist = distribution(behaviour(DefaultTTL=100))
    put("default.txt")
    get(dist, "/default.txt")

    lab.clock.advance(99)
    within = get(dist, "/default.txt")
    lab.clock.advance(2)
    after = get(dist, "/default.txt")

    assert x_cache(within) == "Hit"
    assert x_cache(after) == "RefreshHit"


def test_expires_sets_the_lifetime_when_there_is_no_max_age(lab, distribution, put):
    dist = distribution()
    put("expires.txt", Expires=lab.clock.datetime() + timedelta(seconds=50))
    get(dist, "/expires.txt")

    lab.clock.advance(45)
    within = get(dist, "/expires.txt")
    lab.clock.advance(10)
    after = get(dist, "/expires.txt")

    assert x_cache(within) == "Hit"
    assert x_cache(after) != "Hit"


def test_no_cache_with_min_ttl_zero_is_never_cached(lab, distribution, put):
    dist = distribution()
    put("fresh.txt", CacheControl="no-cache")

    results = [x_cache(get(dist, "/fresh.txt")) for _ in range(3)]

    assert results == ["Miss", "Miss", "Miss"]
    assert lab.emulator.edge.stats(dist["Id"]).origin_requests == 3


def test_a_min_ttl_overrides_no_store(lab, distribution, put):
    dist = distribution(behaviour(MinTTL=30, DefaultTTL=60))
    put("nostore.txt", CacheControl="no-store")
    get(dist, "/nostore.txt")

    assert x_cache(get(dist, "/nostore.txt")) == "Hit"


@BOTH
def test_errors_are_cached_for_ten_seconds_by_default(lab, distribution, put):
    dist = distribution(admit=False)
    put("later.txt")
    denied = get(dist, "/later.txt")
    distribution.allow(dist)  # the learner fixes the bucket policy

    lab.clock.advance(9)
    still_cached = get(dist, "/later.txt")
    lab.clock.advance(2)
    served = get(dist, "/later.txt")

    assert (denied.status_code, x_cache(denied)) == (403, "Error")
    assert (still_cached.status_code, x_cache(still_cached)) == (403, "Error")
    assert (served.status_code, x_cache(served)) == (200, "Miss")
    assert lab.emulator.edge.stats(dist["Id"]).origin_requests == 2


def test_error_caching_min_ttl_comes_from_the_custom_error_response(lab, distribution, put):
    dist = distribution(
        admit=False,
        CustomErrorResponses={
            "Quantity": 1,
            "Items": [{"ErrorCode": 403, "ErrorCachingMinTTL": 60}],
        },
    )
    put("sixty.txt")
    get(dist, "/sixty.txt")
    distribution.allow(dist)

    lab.clock.advance(59)
    cached = get(dist, "/sixty.txt")
    lab.clock.advance(2)
    served = get(dist, "/sixty.txt")

    assert cached.status_code == 403
    assert served.status_code == 200


def test_query_strings_that_are_not_forwarded_share_one_cached_object(distribution, put):
    dist = distribution()
    put("q.txt")

    first = get(dist, "/q.txt?v=1")
    second = get(dist, "/q.txt?v=2")

    assert (x_cache(first), x_cache(second)) == ("Miss", "Hit")


def test_query_string_cache_keys_pick_the_parameters_in_the_key(distribution, put):
    keys = {"Quantity": 1, "Items": ["v"]}
    dist = distribution(
        behaviour(
            forwarded={
                "QueryString": True,
                "QueryStringCacheKeys": keys,
                "Cookies": {"Forward": "none"},
            }
        )
    )
    put("qk.txt")

    results = [x_cache(get(dist, f"/qk.txt?{q}")) for q in ("v=1&x=1", "v=1&x=2", "v=2&x=1")]

    assert results == ["Miss", "Hit", "Miss"]


def test_whitelisted_cookies_split_the_cache_and_others_do_not(distribution, put):
    cookies = {"Forward": "whitelist", "WhitelistedNames": {"Quantity": 1, "Items": ["lang"]}}
    dist = distribution(behaviour(forwarded={"QueryString": False, "Cookies": cookies}))
    put("c.txt")

    results = [
        x_cache(get(dist, "/c.txt", headers={"Cookie": cookie}))
        for cookie in ("lang=en; session=1", "lang=en; session=2", "lang=fr; session=1")
    ]

    assert results == ["Miss", "Hit", "Miss"]


def test_head_is_answered_from_the_object_a_get_cached(distribution, put):
    dist = distribution()
    put("head.txt", b"12345")
    get(dist, "/head.txt")

    head = requests.head(f"https://{dist['DomainName']}/head.txt", timeout=10)

    assert x_cache(head) == "Hit"
    assert head.content == b""
    assert head.headers["Content-Length"] == "5"


def test_a_viewer_with_a_current_etag_gets_304(distribution, put):
    dist = distribution()
    put("etag.txt")
    etag = get(dist, "/etag.txt").headers["ETag"]

    resp = get(dist, "/etag.txt", headers={"If-None-Match": etag})

    assert resp.status_code == 304
    assert resp.content == b""


@BOTH
def test_an_invalidation_purges_its_paths_at_once_and_reads_completed(lab, cf, distribution, put):
    dist = distribution()
    for key in ("about.html", "css/a.css", "css/b.css", "index.html"):
        put(key, CacheControl="max-age=86400")
        get(dist, f"/{key}")

    created = cf.create_invalidation(
        DistributionId=dist["Id"],
        InvalidationBatch={
            "Paths": {"Quantity": 2, "Items": ["/about.html", "/css/*"]},
            "CallerReference": str(uuid.uuid4()),
        },
    )["Invalidation"]
    read_back = cf.get_invalidation(DistributionId=dist["Id"], Id=created["Id"])["Invalidation"]

    assert created["Status"] == read_back["Status"] == "Completed"
    assert x_cache(get(dist, "/about.html")) == "Miss"
    assert x_cache(get(dist, "/css/b.css")) == "Miss"
    assert x_cache(get(dist, "/index.html")) == "Hit"


def test_the_default_root_object_is_cached_under_the_path_the_viewer_asked_for(
    cf, distribution, put
):
    # CloudFront caches by the viewer's request URI; DefaultRootObject only rewrites the request
    # to the origin, so `/` and `/index.html` are two objects and each is invalidated by its path
    dist = distribution(DefaultRootObject="index.html")
    put("index.html", b"v1", CacheControl="max-age=86400")
    assert x_cache(get(dist, "/")) == "Miss"
    assert x_cache(get(dist, "/index.html")) == "Miss"
    put("index.html", b"v2", CacheControl="max-age=86400")

    cf.create_invalidation(
        DistributionId=dist["Id"],
        InvalidationBatch={
            "Paths": {"Quantity": 1, "Items": ["/"]},
            "CallerReference": str(uuid.uuid4()),
        },
    )

    root, named = get(dist, "/"), get(dist, "/index.html")
    assert (x_cache(root), root.content) == ("Miss", b"v2")
    assert (x_cache(named), named.content) == ("Hit", b"v1")


@BOTH
def test_counters_and_cloudwatch_metrics(lab, distribution, put):
    dist = distribution()
    put("m.txt", b"0123456789", CacheControl="max-age=600")
    for _ in range(3):
        get(dist, "/m.txt")

    stats = lab.emulator.edge.stats(dist["Id"])
    cloudwatch = lab.client("cloudwatch", "us-east-1")
    start = lab.clock.datetime() - timedelta(minutes=5)

    def stat(metric: str, statistic: str) -> float:
        points = cloudwatch.get_metric_statistics(
            Namespace="AWS/CloudFront",
            MetricName=metric,
            Dimensions=[
                {"Name": "DistributionId", "Value": dist["Id"]},
                {"Name": "Region", "Value": "Global"},
            ],
            StartTime=start,
            EndTime=start + timedelta(minutes=10),
            Period=600,
            Statistics=[statistic],
        )["Datapoints"]
        assert len(points) == 1, points
        return points[0][statistic]

    assert (stats.requests, stats.misses, stats.hits, stats.origin_requests) == (3, 1, 2, 1)
    assert stats.bytes_downloaded == 30
    assert stat("Requests", "Sum") == 3
    assert stat("BytesDownloaded", "Sum") == 30
    assert stat("CacheHitRate", "Average") == pytest.approx(200 / 3)
    assert stat("TotalErrorRate", "Average") == 0


def test_metric_timestamps_are_lab_time(lab, distribution, put):
    dist = distribution()
    put("later-metric.txt")
    lab.clock.advance(3 * 3600)
    get(dist, "/later-metric.txt")

    listed = lab.client("cloudwatch", "us-east-1").get_metric_statistics(
        Namespace="AWS/CloudFront",
        MetricName="Requests",
        Dimensions=[
            {"Name": "DistributionId", "Value": dist["Id"]},
            {"Name": "Region", "Value": "Global"},
        ],
        StartTime=lab.clock.datetime() - timedelta(minutes=2),
        EndTime=lab.clock.datetime() + timedelta(minutes=2),
        Period=300,
        Statistics=["Sum"],
    )["Datapoints"]

    assert [p["Sum"] for p in listed] == [1]
    assert abs(listed[0]["Timestamp"] - lab.clock.datetime()) < timedelta(minutes=2)
    assert lab.clock.datetime() - datetime.now(timezone.utc) > timedelta(hours=2)


# ---- methods CloudFront does not cache -----------------------------------------------------------
@pytest.fixture
def api(lab, monkeypatch):
    """A stand-in API origin on the lab's front, counting the requests that reach it."""
    seen: list = []

    def handler(request, parts):
        seen.append(request.method)
        return Response(
            200, [("Content-Type", "text/plain"), ("Cache-Control", "max-age=600")], b"ok"
        )

    monkeypatch.setitem(lab.emulator.front.services, "gateway", handler)
    return seen


def api_distribution(distribution, cached: tuple[str, ...]) -> dict:
    methods = ("GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE")
    origin = {
        "Id": "api",
        "DomainName": API_HOST,
        "CustomOriginConfig": {
            "HTTPPort": 80,
            "HTTPSPort": 443,
            "OriginProtocolPolicy": "https-only",
        },
    }
    return distribution(
        behaviour("api", methods=methods, cached=cached), extra_origins=[origin], admit=False
    )


def test_post_is_always_sent_to_the_origin(api, distribution):
    dist = api_distribution(distribution, ("GET", "HEAD"))

    for _ in range(2):
        requests.post(f"https://{dist['DomainName']}/orders", data=b"{}", timeout=10)

    assert api == ["POST", "POST"]


@pytest.mark.parametrize(
    ("cached", "origin_calls"), [(("GET", "HEAD"), 2), (("GET", "HEAD", "OPTIONS"), 1)]
)
def test_options_is_cached_only_when_a_cached_method(api, distribution, cached, origin_calls):
    dist = api_distribution(distribution, cached)

    for _ in range(2):
        requests.options(f"https://{dist['DomainName']}/orders", timeout=10)

    assert api == ["OPTIONS"] * origin_calls


def test_the_managed_caching_disabled_policy_sends_every_request_to_the_origin(distribution, put):
    default = behaviour(CachePolicyId="4135ea2d-6df8-44a3-9df3-4b5a84be39ad")  # CachingDisabled
    del default["ForwardedValues"], default["MinTTL"]
    dist = distribution(default)
    put("disabled.txt", CacheControl="max-age=600")

    results = [x_cache(get(dist, "/disabled.txt")) for _ in range(2)]

    assert results == ["Miss", "Miss"]


def collapsed_storm(lab, distribution, monkeypatch, path: str, cache_control: str, viewers: int):
    """`viewers` concurrent GETs of `path` while a slow origin answers the first with
    `cache_control`: (paths the origin was asked for, the viewers' answers)."""
    seen: list[str] = []
    release = threading.Event()

    def slow(request, parts):
        seen.append(request.path)
        release.wait(10)
        headers = [("Content-Type", "text/plain"), ("Cache-Control", cache_control)]
        return Response(200, headers, b"answer")

    monkeypatch.setitem(lab.emulator.front.services, "gateway", slow)
    dist = api_distribution(distribution, ("GET", "HEAD"))
    url = f"https://{dist['DomainName']}{path}"
    with ThreadPoolExecutor(viewers) as pool:
        answers = [pool.submit(requests.get, url, timeout=20) for _ in range(viewers)]
        while not seen:
            time.sleep(0.01)
        time.sleep(0.3)  # the others are waiting at the edge by now
        release.set()
        results = [a.result() for a in answers]
    return seen, results, url


def test_simultaneous_misses_for_one_object_make_one_origin_request(lab, distribution, monkeypatch):
    """Request collapsing: viewers that ask for an object while CloudFront is fetching it wait
    for that fetch and are served from the cache ("Simultaneous requests for the same object")."""
    seen, results, _ = collapsed_storm(
        lab, distribution, monkeypatch, "/updates/app.bin", "max-age=600", 6
    )

    assert seen == ["/updates/app.bin"]
    assert {(r.status_code, r.content) for r in results} == {(200, b"answer")}
    assert sorted(x_cache(r) for r in results) == ["Hit"] * 5 + ["Miss"]


def test_viewers_waiting_on_an_uncacheable_answer_get_that_answer(lab, distribution, monkeypatch):
    """CloudFront "sends the response from the original request to all the requests that it
    received while it was paused", even when it does not cache it (no-store): one origin request,
    and nothing left waiting afterwards."""
    seen, results, url = collapsed_storm(
        lab, distribution, monkeypatch, "/live/status", "no-store", 5
    )

    assert seen == ["/live/status"]
    assert {(r.status_code, r.content) for r in results} == {(200, b"answer")}
    assert sorted(x_cache(r) for r in results) == ["Hit"] * 4 + ["Miss"]
    assert not lab.emulator.edge._fetching  # no viewer waits any more

    requests.get(url, timeout=20)  # a later viewer is not served the old answer
    assert seen == ["/live/status"] * 2
