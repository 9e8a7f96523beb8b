"""Lab 04 · Software updates' checks: CloudFront in front of an unchanged Auto Scaling group.

Each check is run against the wrong states a learner is likely to build, made with boto3 on the
moto backend, and must name that mistake; against the right state, it passes. The states follow
AWS's documented contracts (CloudFront Developer Guide): a custom origin is a host name, reached
with the origin protocol policy (`http-only`, `https-only`, `match-viewer`) on HTTPPort or
HTTPSPort; `redirect-to-https` answers http:// with a 301 to https://; with no Cache-Control from
the origin an object is kept for the behaviour's DefaultTTL, and an object keeps the TTL it was
cached with; a path pattern matches with `*` and `?`; the first matching behaviour applies;
`X-Cache` says `Hit`, `RefreshHit` or `Miss from cloudfront`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

import helpers
from helpers.checks import CheckFailed
from helpers.checks import software_updates as check
from tests.labs import support
from tests.software_updates.support import behaviour, build_application

EXPECTED = {
    "distribution_origin": "there is no distribution of this lab",
    "update_caching": "no cache behaviour for `/updates/*`",
    "storm_offloaded": "the storm sent no downloads",
}


@pytest.mark.notebook
def test_untouched_student_notebook_fails_every_check(tmp_path: Path) -> None:
    support.assert_student_fails("04-software-updates", tmp_path, EXPECTED)


# ---- the lab's given application ----------------------------------------------------------------
USER_DATA = """#!/bin/bash
set -euo pipefail
mkdir -p /mnt/efs
until mount -t efs -o tls,ro {fs}:/ /mnt/efs; do sleep 5; done
nohup python3 -m http.server 80 --directory /mnt/efs/www > /var/log/updates-server.log 2>&1 &
"""
UPDATE = os.urandom(50_000)
UPDATE_PATH = "/updates/app-2.0.0.bin"
ONE_YEAR = check.ONE_YEAR


@pytest.fixture(scope="module")
def lab() -> Iterator[helpers.Lab]:
    """One offline lab with what the notebook's setup cells give: EFS holding release 2.0.0
    (written straight into the file system here), the launch template, the load balancer, the
    target group and the Auto Scaling group of two, all named lab.name("updates")."""
    lab = helpers.start("su-lab-checks", backend="moto")
    _, www = build_application(lab, user_data=USER_DATA)
    (www / UPDATE_PATH.lstrip("/")).write_bytes(UPDATE)
    manifest = {"version": "2.0.0", "url": UPDATE_PATH, "size": len(UPDATE)}
    manifest["sha256"] = hashlib.sha256(UPDATE).hexdigest()
    (www / "latest.json").write_text(json.dumps(manifest))
    yield lab
    lab.teardown()


@pytest.fixture
def dns_name(lab: helpers.Lab) -> str:
    return check._load_balancer(lab)["DNSName"]


@pytest.fixture
def distribution(lab: helpers.Lab, dns_name: str) -> Iterator[Callable[..., dict[str, Any]]]:
    """Make the lab's distribution: the right one of exercises 1 and 2 unless told otherwise
    (`origin=` changes to the origin, `default=` the default behaviour, `behaviours=` the
    others, `comment=`, `enabled=`); every distribution made is deleted after the test."""
    cloudfront = lab.client("cloudfront")
    made: list[str] = []

    def make(
        *,
        origin: dict[str, Any] | None = None,
        custom: dict[str, Any] | None = None,
        default: dict[str, Any] | None = None,
        behaviours: list[dict[str, Any]] | None = None,
        comment: str | None = None,
        enabled: bool = True,
    ) -> dict[str, Any]:
        items = [behaviour(ONE_YEAR, "/updates/*")] if behaviours is None else behaviours
        config = {
            "CallerReference": f"{lab.name('updates')}-{len(made)}-{os.urandom(4).hex()}",
            "Comment": lab.name("updates") if comment is None else comment,
            "Enabled": enabled,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "update-servers",
                        "DomainName": dns_name,
                        "CustomOriginConfig": {
                            "HTTPPort": 80,
                            "HTTPSPort": 443,
                            "OriginProtocolPolicy": "http-only",
                        }
                        | (custom or {}),
                    }
                    | (origin or {})
                ],
            },
            "DefaultCacheBehavior": default or behaviour(60),
            "CacheBehaviors": {"Quantity": len(items), "Items": items},
        }
        found = cloudfront.create_distribution(DistributionConfig=config)["Distribution"]
        made.append(found["Id"])
        return found

    yield make
    for dist_id in made:
        got = cloudfront.get_distribution_config(Id=dist_id)
        config = got["DistributionConfig"] | {"Enabled": False}
        etag = cloudfront.update_distribution(
            Id=dist_id, IfMatch=got["ETag"], DistributionConfig=config
        )["ETag"]
        cloudfront.delete_distribution(Id=dist_id, IfMatch=etag)


def fails(inspect: Any, lab: helpers.Lab, message: str, *args: Any) -> str:
    """Run a check that must fail with `message` in what it says; return what it said."""
    with pytest.raises(CheckFailed) as failed:
        inspect(lab, *args)
    assert message in failed.value.message, failed.value.message
    return failed.value.message


def get(url: str, **options: Any) -> requests.Response:
    return requests.get(url, timeout=20, **options)


# ---- exercise 1: the distribution and its origin ------------------------------------------------
def test_origin_without_a_distribution(lab):
    fails(check.distribution_origin, lab, "there is no distribution of this lab")


def test_origin_of_a_disabled_distribution(lab, distribution):
    distribution(enabled=False)
    fails(check.distribution_origin, lab, "the distribution is disabled")


def test_origin_elsewhere(lab, distribution):
    """A learner who points CloudFront at the file system, or anything but the load balancer."""
    distribution(origin={"DomainName": "updates.example.com"})
    fails(
        check.distribution_origin, lab, "the origin is updates.example.com, not the load balancer"
    )


def test_origin_given_as_a_url(lab, distribution, dns_name):
    """AWS wants a host name; a learner pastes the origin URL of the setup cells."""
    distribution(origin={"DomainName": f"http://{dns_name}"})
    fails(check.distribution_origin, lab, "without http://")


def test_origin_over_https_to_an_http_listener(lab, distribution):
    distribution(custom={"OriginProtocolPolicy": "https-only"})
    message = fails(check.distribution_origin, lab, "OriginProtocolPolicy is https-only")
    assert "listens on HTTP only (port 80)" in message and "http-only" in message


def test_origin_matching_https_viewers(lab, distribution):
    distribution(custom={"OriginProtocolPolicy": "match-viewer"})
    fails(check.distribution_origin, lab, "match-viewer follows them")


def test_origin_on_a_port_nothing_listens_on(lab, distribution):
    distribution(custom={"HTTPPort": 8080})
    fails(check.distribution_origin, lab, "the origin's HTTPPort is 8080")


def test_origin_that_lets_viewers_use_plain_http(lab, distribution):
    distribution(default=behaviour(60, ViewerProtocolPolicy="allow-all"))
    fails(check.distribution_origin, lab, "devices could download over plain HTTP")


def test_origin_that_refuses_plain_http(lab, distribution):
    distribution(default=behaviour(60, ViewerProtocolPolicy="https-only"))
    fails(check.distribution_origin, lab, "would be refused (403)")


def test_origin_right(lab, distribution):
    found = distribution()
    said = check.distribution_origin(lab)
    assert said.startswith("the origin is the load balancer over HTTP port 80")
    plain = get(f"http://{found['DomainName']}/latest.json", allow_redirects=False)
    assert plain.status_code == 301  # what the check relied on, as CloudFront answers it


def test_origin_found_by_its_load_balancer_without_the_comment(lab, distribution):
    distribution(comment="")
    assert "version 2.0.0" in check.distribution_origin(lab)


# ---- exercise 2: the cache behaviours -----------------------------------------------------------
def test_caching_without_a_distribution(lab):
    fails(check.update_caching, lab, "there is no distribution of this lab yet")


def test_caching_without_an_updates_behaviour(lab, distribution):
    distribution(behaviours=[])
    fails(check.update_caching, lab, "update files use the default behaviour")


def test_caching_with_a_pattern_that_matches_no_update(lab, distribution):
    """`/updates` matches that one path only: the files below it use the default behaviour."""
    distribution(behaviours=[behaviour(ONE_YEAR, "/updates")])
    fails(check.update_caching, lab, "the patterns ['/updates'] match no update file")


def test_caching_updates_for_an_hour(lab, distribution):
    distribution(behaviours=[behaviour(3600, "/updates/*")])
    message = fails(check.update_caching, lab, "`/updates/*` keeps an update 3,600 s")
    assert "re-download reaches the load balancer" in message


def test_caching_updates_with_a_short_max_ttl(lab, distribution):
    distribution(
        behaviours=[behaviour(ONE_YEAR, "/updates/*", MaxTTL=86400, DefaultTTL=86400)],
    )
    fails(check.update_caching, lab, "keeps an update 86,400 s")


def test_caching_updates_forwarding_every_header(lab, distribution):
    forwarded = {
        "QueryString": False,
        "Cookies": {"Forward": "none"},
        "Headers": {"Quantity": 1, "Items": ["*"]},
    }
    distribution(behaviours=[behaviour(ONE_YEAR, "/updates/*", ForwardedValues=forwarded)])
    fails(check.update_caching, lab, "forwards every header")


def test_caching_the_manifest_for_a_day(lab, distribution):
    distribution(default=behaviour(86400))
    message = fails(check.update_caching, lab, "keeps latest.json 86,400 s")
    assert "a new release would stay invisible" in message


def test_caching_the_manifest_not_at_all(lab, distribution):
    distribution(default=behaviour(0))
    fails(check.update_caching, lab, "every poll of every device reaches the instances")


def test_caching_the_manifest_with_a_copy_cached_under_the_old_ttl(lab, distribution):
    """An object keeps the TTL it was cached with: the learner shortens the manifest's TTL
    after the edge kept a copy for an hour, and the edge still serves that copy."""
    cloudfront = lab.client("cloudfront")
    found = distribution(default=behaviour(3600))
    get(f"https://{found['DomainName']}/latest.json")
    lab.clock.advance(120)
    got = cloudfront.get_distribution_config(Id=found["Id"])
    config = got["DistributionConfig"] | {"DefaultCacheBehavior": behaviour(60)}
    cloudfront.update_distribution(Id=found["Id"], IfMatch=got["ETag"], DistributionConfig=config)

    fails(check.update_caching, lab, "create_invalidation for /latest.json")

    cloudfront.create_invalidation(
        DistributionId=found["Id"],
        InvalidationBatch={
            "Paths": {"Quantity": 1, "Items": ["/latest.json"]},
            "CallerReference": "stale-manifest",
        },
    )
    assert "latest.json is kept 60 s" in check.update_caching(lab)


def test_caching_right(lab, distribution):
    distribution()
    said = check.update_caching(lab)
    assert said.startswith("`/updates/*` keeps an update 31,536,000 s (a year)")


def test_caching_accepts_a_pattern_without_the_leading_slash(lab, distribution):
    distribution(behaviours=[behaviour(ONE_YEAR, "updates/*")])
    assert "31,536,000 s" in check.update_caching(lab)


# ---- exercise 3: the storm ----------------------------------------------------------------------
def storm_of(url: str, count: int = check.STORM) -> list[requests.Response]:
    with ThreadPoolExecutor(10) as pool:
        return list(pool.map(lambda _: get(url), range(count)))


def test_storm_not_sent(lab):
    fails(check.storm_offloaded, lab, "the storm sent no downloads", [])


def test_storm_of_something_else_than_responses(lab, distribution):
    distribution()
    fails(check.storm_offloaded, lab, "should hold the responses", ["200 Hit"] * 50)


def test_storm_without_a_distribution(lab, dns_name):
    storm = storm_of(f"http://{dns_name}{UPDATE_PATH}", 3)
    fails(check.storm_offloaded, lab, "there is no distribution of this lab", storm)


def test_storm_straight_to_the_load_balancer(lab, distribution, dns_name):
    distribution()
    storm = storm_of(f"http://{dns_name}{UPDATE_PATH}")
    message = fails(check.storm_offloaded, lab, "50 of the 50 downloads went to", storm)
    assert dns_name in message and "not to the distribution" in message


def test_storm_of_a_missing_file(lab, distribution):
    found = distribution()
    storm = storm_of(f"https://{found['DomainName']}/updates/app-9.9.9.bin")
    fails(check.storm_offloaded, lab, "50 downloads did not answer 200 ({404: 50})", storm)


def test_storm_of_the_manifest(lab, distribution):
    found = distribution()
    storm = storm_of(f"https://{found['DomainName']}/latest.json")
    fails(check.storm_offloaded, lab, "the storm downloaded /latest.json, not the update", storm)


def test_storm_too_small(lab, distribution):
    found = distribution()
    storm = storm_of(f"https://{found['DomainName']}{UPDATE_PATH}", 10)
    fails(check.storm_offloaded, lab, "the storm sent 10 downloads: send 50", storm)


def test_storm_that_reaches_the_instances(lab, distribution):
    """Without the `/updates/*` behaviour kept (TTL 0), each download is revalidated with the
    load balancer: RefreshHit, not Hit."""
    found = distribution(behaviours=[behaviour(0, "/updates/*")])
    storm = storm_of(f"https://{found['DomainName']}{UPDATE_PATH}")
    message = fails(
        check.storm_offloaded, lab, "of the 50 downloads reached the load balancer", storm
    )
    assert "RefreshHit" in message and "exercise 2" in message


def test_storm_right(lab, distribution):
    found = distribution()
    storm = storm_of(f"https://{found['DomainName']}{UPDATE_PATH}")
    said = check.storm_offloaded(lab, storm)
    assert said.startswith("50 downloads through CloudFront")
    assert "the group still runs 2 instances from launch template version 1" in said


@pytest.fixture
def right_storm(lab: helpers.Lab, distribution: Callable[..., Any]) -> list[requests.Response]:
    found = distribution()
    get(f"https://{found['DomainName']}{UPDATE_PATH}")  # the edge keeps it from now
    return storm_of(f"https://{found['DomainName']}{UPDATE_PATH}")


def test_storm_with_the_group_scaled_out(lab, right_storm):
    autoscaling = lab.client("autoscaling")
    name = lab.name("updates")
    autoscaling.set_desired_capacity(AutoScalingGroupName=name, DesiredCapacity=4)
    try:
        message = fails(
            check.storm_offloaded, lab, "the Auto Scaling group was resized", right_storm
        )
        assert "DesiredCapacity 4" in message and "given DesiredCapacity 2" in message
    finally:
        autoscaling.set_desired_capacity(AutoScalingGroupName=name, DesiredCapacity=2)


def test_storm_with_a_new_launch_template_version(lab, right_storm):
    """A learner who 'fixes' the storm by changing the application (e.g. a Cache-Control header
    in the user data) makes a new version of the launch template."""
    ec2 = lab.client("ec2")
    name = lab.name("updates")
    given = ec2.describe_launch_template_versions(LaunchTemplateName=name)[
        "LaunchTemplateVersions"
    ][0]["LaunchTemplateData"]
    ec2.create_launch_template_version(
        LaunchTemplateName=name,
        SourceVersion="1",
        LaunchTemplateData={"UserData": base64.b64encode(b"#!/bin/bash\necho changed").decode()},
    )
    try:
        fails(check.storm_offloaded, lab, f"the launch template {name} has 2 versions", right_storm)
    finally:  # the given template again (moto has no DeleteLaunchTemplateVersions)
        ec2.delete_launch_template(LaunchTemplateName=name)
        ec2.create_launch_template(LaunchTemplateName=name, LaunchTemplateData=given)
    assert "launch template version 1" in check.storm_offloaded(lab, right_storm)


def test_caching_on_a_second_distribution(lab, distribution):
    """A learner who makes a new distribution for exercise 2 instead of updating the first."""
    distribution(behaviours=[])
    distribution()
    fails(check.update_caching, lab, "this lab has 2 distributions")
