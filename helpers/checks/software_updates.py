"""Checks of lab 04 · Software updates: CloudFront in front of an unchanged Auto Scaling group.

The given application (names from the lab): the load balancer, target group, launch template and
Auto Scaling group `lab.name("updates")`, serving the files a release published onto EFS
(`/latest.json`, the manifest, and the update it names under `/updates/`). The learner's
distribution carries `Comment=lab.name("updates")` (or has the load balancer as an origin).
Each check reads AWS with the lab's clients and asks the distribution over HTTPS, so it works
offline and on a real account.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import requests

from . import Mistake, check, expect

LAB = "04-software-updates"
ONE_MINUTE = 60
ONE_YEAR = 365 * 24 * 3600
STORM = 50  # downloads in exercise 3's storm
HANDFUL = 3  # downloads of the storm that may reach the load balancer (a miss per edge cache)
GROUP = {"MinSize": 2, "MaxSize": 4, "DesiredCapacity": 2}  # the given group's sizes
TIMEOUT = 60


# ---- what the lab gave ------------------------------------------------------------------------
def _load_balancer(lab: Any) -> dict[str, Any]:
    """The given load balancer (`lab.name("updates")`)."""
    elbv2 = lab.client("elbv2")
    try:
        return elbv2.describe_load_balancers(Names=[lab.name("updates")])["LoadBalancers"][0]
    except elbv2.exceptions.LoadBalancerNotFoundException:
        raise Mistake(
            f"the given load balancer {lab.name('updates')} does not exist: run the setup cells "
            "at the top of the notebook first"
        ) from None


def _listeners(lab: Any, load_balancer: dict[str, Any]) -> dict[int, str]:
    """The load balancer's listeners: port -> protocol."""
    found = lab.client("elbv2").describe_listeners(LoadBalancerArn=load_balancer["LoadBalancerArn"])
    return {int(item["Port"]): item["Protocol"] for item in found["Listeners"]}


def _distribution(lab: Any, dns_name: str) -> dict[str, Any] | None:
    """The lab's distribution (Comment = lab.name("updates"), else one whose origin is the load
    balancer), as get_distribution returns it; None if there is none."""
    cloudfront = lab.client("cloudfront")
    comment, named, by_origin = lab.name("updates"), [], []
    for page in cloudfront.get_paginator("list_distributions").paginate():
        for item in page["DistributionList"].get("Items") or []:
            origins = (item.get("Origins") or {}).get("Items") or []
            if item.get("Comment") == comment:
                named.append(item)
            elif any(o["DomainName"] == dns_name for o in origins):
                by_origin.append(item)
    found = named or by_origin
    if not found:
        return None
    if len(found) > 1:
        raise Mistake(
            f"this lab has {len(found)} distributions ({', '.join(d['Id'] for d in found)}): "
            "keep the one of exercise 1 and change it with update_distribution; disable and "
            "delete the others"
        )
    return cloudfront.get_distribution(Id=found[0]["Id"])["Distribution"]


def _deployed(lab: Any, distribution: dict[str, Any]) -> None:
    """Wait for the distribution's last change to reach the edge (minutes on AWS)."""
    cloudfront = lab.client("cloudfront")
    lab.settle(
        until=lambda: (
            cloudfront.get_distribution(Id=distribution["Id"])["Distribution"]["Status"]
            == "Deployed"
        ),
        timeout=1800,
        interval=20,
    )


def _get(url: str, **options: Any) -> requests.Response | None:
    """GET url; None while its name does not resolve or nothing answers (a new distribution)."""
    try:
        return requests.get(url, timeout=TIMEOUT, **options)
    except (requests.ConnectionError, requests.Timeout):
        return None


def _answer(lab: Any, url: str) -> requests.Response:
    """GET url once the name answers (on AWS a new distribution's name takes a while)."""
    lab.settle(until=lambda: _get(url) is not None, timeout=600, interval=10)
    response = _get(url)
    expect(response is not None, f"nothing answers at {url}")
    assert response is not None
    return response


def _hit(url: str, tries: int = 3) -> requests.Response | None:
    """GET url until the edge answers from its cache (on AWS a location has several caches)."""
    response = None
    for _ in range(tries):
        response = _get(url)
        if response is None or _x_cache(response) == "Hit":
            break
    return response


def _x_cache(response: requests.Response) -> str:
    """The first word of X-Cache (Hit, RefreshHit, Miss, Error, Redirect), or '' without one."""
    return (response.headers.get("X-Cache") or "").split(" ")[0]


def _behaviours(config: dict[str, Any]) -> list[dict[str, Any]]:
    """The ordered cache behaviours, the default last."""
    return [
        *((config.get("CacheBehaviors") or {}).get("Items") or []),
        config["DefaultCacheBehavior"],
    ]


def _pattern_matches(pattern: str, path: str) -> bool:
    """CloudFront's path patterns: `*` any characters, `?` one, case-sensitive, the leading
    slash optional."""
    regex = "".join(
        ".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern.lstrip("/")
    )
    return re.fullmatch(regex, path.lstrip("/"), flags=re.DOTALL) is not None


def _behaviour_for(config: dict[str, Any], path: str) -> dict[str, Any]:
    """The behaviour CloudFront uses for `path`: the first matching pattern, else the default."""
    for behaviour in _behaviours(config)[:-1]:
        if _pattern_matches(behaviour["PathPattern"], path):
            return behaviour
    return config["DefaultCacheBehavior"]


def _ttl(lab: Any, behaviour: dict[str, Any]) -> int:
    """How long the behaviour keeps an object the origin sends without Cache-Control (as the
    given servers do): its DefaultTTL, from the legacy settings or its cache policy."""
    policy_id = behaviour.get("CachePolicyId")
    if policy_id:
        config = lab.client("cloudfront").get_cache_policy(Id=policy_id)["CachePolicy"]
        limits = config["CachePolicyConfig"]
        return int(limits.get("DefaultTTL", 86400))
    return int(behaviour.get("DefaultTTL", 86400))


def _manifest(lab: Any, base: str) -> dict[str, Any]:
    """The manifest the distribution serves (latest.json)."""
    response = _answer(lab, f"{base}/latest.json")
    expect(
        response.status_code == 200,
        f"the distribution answers {response.status_code} for /latest.json: do exercise 1 first",
    )
    return response.json()


def _says(seconds: float) -> str:
    return f"{seconds:,.0f} s" + (" (a year)" if seconds == ONE_YEAR else "")


# ---- exercise 1 ---------------------------------------------------------------------------------
@check(LAB, "CloudFront in front of the load balancer")
def distribution_origin(lab: Any) -> str:
    """A distribution of this lab whose origin is the load balancer, reached over HTTP, with
    viewers redirected to HTTPS; it answers the manifest."""
    load_balancer = _load_balancer(lab)
    dns_name = load_balancer["DNSName"]
    distribution = _distribution(lab, dns_name)
    expect(
        distribution is not None,
        "there is no distribution of this lab: create one with "
        "Comment=lab.name('updates') and the load balancer as its origin",
    )
    assert distribution is not None
    config = distribution["DistributionConfig"]
    expect(config["Enabled"], "the distribution is disabled: set Enabled=True")
    default = config["DefaultCacheBehavior"]
    origins = {o["Id"]: o for o in config["Origins"].get("Items") or []}
    origin = origins.get(default["TargetOriginId"])
    expect(
        origin is not None,
        f"the default behaviour targets origin {default['TargetOriginId']!r}, which the "
        f"distribution does not have (it has {sorted(origins)}): make TargetOriginId the Id of "
        "the load balancer's origin",
    )
    assert origin is not None
    domain = origin["DomainName"]
    if domain != dns_name and dns_name in domain:
        raise Mistake(
            f"the origin's DomainName is {domain!r}: give the load balancer's host name alone, "
            "alb['DNSName'], without http:// or a path"
        )
    expect(
        domain == dns_name,
        f"the origin is {domain}, not the load balancer: the application stays as it is and "
        "CloudFront asks the load balancer, so DomainName is alb['DNSName']",
    )
    custom = origin.get("CustomOriginConfig")
    expect(
        custom is not None,
        "the origin has no CustomOriginConfig: a load balancer is a custom origin "
        "(CustomOriginConfig with HTTPPort, HTTPSPort and OriginProtocolPolicy), not an S3 origin",
    )
    assert custom is not None
    listeners = _listeners(lab, load_balancer)
    http = [p for p, protocol in listeners.items() if protocol == "HTTP"]
    policy = custom["OriginProtocolPolicy"]
    if policy in ("https-only", "match-viewer"):
        port = int(custom.get("HTTPSPort", 443))
        why = (
            ""
            if policy == "https-only"
            else " (viewers are on HTTPS, and match-viewer follows them)"
        )
        expect(
            listeners.get(port) == "HTTPS",
            f"OriginProtocolPolicy is {policy}: CloudFront would connect to the load balancer over "
            f"HTTPS on port {port}{why}, but it listens on HTTP only (port "
            f"{', '.join(map(str, sorted(http)))}): set OriginProtocolPolicy to http-only",
        )
    else:
        port = int(custom.get("HTTPPort", 80))
        expect(
            listeners.get(port) == "HTTP",
            f"the origin's HTTPPort is {port}, but the load balancer listens on HTTP port "
            f"{', '.join(map(str, sorted(http)))}: set HTTPPort to 80",
        )
    viewers = default["ViewerProtocolPolicy"]
    expect(
        viewers == "redirect-to-https",
        f"ViewerProtocolPolicy is {viewers}: "
        + (
            "devices could download over plain HTTP"
            if viewers == "allow-all"
            else "devices that still ask over http:// would be refused (403)"
        )
        + "; redirect them to HTTPS with redirect-to-https",
    )

    _deployed(lab, distribution)
    base = f"https://{distribution['DomainName']}"
    response = _answer(lab, f"{base}/latest.json")
    expect(
        response.status_code == 200,
        f"the distribution answers {response.status_code} for /latest.json"
        + (
            ": CloudFront cannot reach the load balancer; check the origin's protocol and port"
            if response.status_code in (502, 504)
            else ""
        ),
    )
    try:
        version = response.json()["version"]
    except (ValueError, KeyError, TypeError):
        raise Mistake(
            "/latest.json through the distribution is not the application's manifest: the "
            "origin must be the load balancer"
        ) from None
    plain = _get(f"http://{distribution['DomainName']}/latest.json", allow_redirects=False)
    expect(
        plain is not None
        and plain.status_code == 301
        and (plain.headers.get("Location") or "").startswith("https://"),
        "a request over http:// is not redirected to https:// (301)",
    )
    return (
        f"the origin is the load balancer over HTTP port {port}; http:// is redirected to "
        f"https://, which serves the manifest of version {version}"
    )


# ---- exercise 2 ---------------------------------------------------------------------------------
@check(LAB, "Cache behaviours: updates a year, the manifest a minute")
def update_caching(lab: Any) -> str:
    """`/updates/*` keeps an update a year and the default behaviour keeps the manifest at most a
    minute; a re-download of the update is a Hit, and a minute later the manifest is fetched
    again while the update is still a Hit."""
    load_balancer = _load_balancer(lab)
    distribution = _distribution(lab, load_balancer["DNSName"])
    expect(
        distribution is not None,
        "no cache behaviour for `/updates/*`: there is no distribution of this lab yet "
        "(exercise 1 creates it)",
    )
    assert distribution is not None
    config = distribution["DistributionConfig"]
    update_path = "/updates/app-0.0.0.bin"  # any update file
    updates = _behaviour_for(config, update_path)
    patterns = [b["PathPattern"] for b in _behaviours(config)[:-1]]
    expect(
        updates is not config["DefaultCacheBehavior"],
        "no cache behaviour for `/updates/*`: update files use the default behaviour, the "
        "manifest's; add a CacheBehaviors item with PathPattern '/updates/*'"
        + (f" (the patterns {patterns} match no update file)" if patterns else ""),
    )
    forwarded = updates.get("ForwardedValues") or {}
    headers = (forwarded.get("Headers") or {}).get("Items") or []
    expect(
        "*" not in headers,
        "the `/updates/*` behaviour forwards every header, so CloudFront caches nothing: "
        "forward none",
    )
    kept = _ttl(lab, updates)
    expect(
        kept >= ONE_YEAR,
        f"`/updates/*` keeps an update {_says(kept)} (DefaultTTL; the servers send no "
        "Cache-Control): after that a re-download reaches the load balancer again. A published "
        f"file never changes: keep it a year, DefaultTTL and MaxTTL {ONE_YEAR}",
    )
    if not updates.get("CachePolicyId"):
        expect(
            int(updates.get("MaxTTL", ONE_YEAR)) >= ONE_YEAR,
            f"`/updates/*` has MaxTTL {updates.get('MaxTTL')}: set it to {ONE_YEAR} too",
        )
    manifest_ttl = _ttl(lab, config["DefaultCacheBehavior"])
    expect(
        manifest_ttl <= ONE_MINUTE,
        f"the default behaviour keeps latest.json {_says(manifest_ttl)}: a new release would "
        f"stay invisible to devices for up to {_says(manifest_ttl)}. Keep the manifest a "
        f"minute: DefaultTTL {ONE_MINUTE}",
    )
    expect(
        manifest_ttl > 0,
        "the default behaviour keeps latest.json 0 s: every poll of every device reaches the "
        f"instances. Keep it a minute: DefaultTTL {ONE_MINUTE}",
    )

    _deployed(lab, distribution)
    base = f"https://{distribution['DomainName']}"
    manifest = _manifest(lab, base)
    update_url = base + manifest["url"]
    first = _answer(lab, update_url)
    expect(
        first.status_code == 200,
        f"the update {manifest['url']} answers {first.status_code} through the distribution",
    )
    again = _hit(update_url)
    expect(
        again is not None and _x_cache(again) == "Hit",
        "a second download of the update reached the load balancer (X-Cache: "
        f"{again.headers.get('X-Cache') if again is not None else None}): the `/updates/*` "
        "behaviour does not keep it",
    )
    polled = _hit(f"{base}/latest.json")
    expect(
        polled is not None and _x_cache(polled) == "Hit",
        "a second poll of latest.json reached the load balancer: the default behaviour does "
        "not keep the manifest",
    )
    assert polled is not None
    age = int(polled.headers.get("Age") or 0)
    expect(
        age <= manifest_ttl,
        f"the edge serves a copy of latest.json cached {age} s ago: an object keeps the TTL it "
        "was cached with, so the copy cached under the old setting stays. Remove it with "
        "create_invalidation for /latest.json (or wait until it expires)",
    )

    lab.clock.advance(ONE_MINUTE + 1)  # on AWS: really wait a minute
    later = _get(f"{base}/latest.json")
    expect(
        later is not None and _x_cache(later) in ("Miss", "RefreshHit"),
        "a minute later, latest.json still comes from the edge's copy "
        f"(X-Cache: {later.headers.get('X-Cache') if later is not None else None})",
    )
    redownload = _hit(update_url)
    expect(
        redownload is not None and _x_cache(redownload) == "Hit",
        "a minute later, a re-download of the update reached the load balancer (X-Cache: "
        f"{redownload.headers.get('X-Cache') if redownload is not None else None})",
    )
    return (
        f"`/updates/*` keeps an update {_says(kept)}: a re-download a minute later is a Hit; "
        f"latest.json is kept {_says(manifest_ttl)}: a minute later the edge asks the load "
        "balancer again"
    )


# ---- exercise 3 ---------------------------------------------------------------------------------
@check(LAB, "The storm, offloaded to the edge")
def storm_offloaded(lab: Any, storm: Any) -> str:
    """`storm` holds the responses of at least STORM downloads of the update through the
    distribution; nearly all were answered at the edge, and the application is as it was."""
    responses = list(storm or [])
    expect(
        responses,
        f"the storm sent no downloads: download the update {STORM} times through the "
        "distribution and keep the responses in `storm`",
    )
    expect(
        all(isinstance(r, requests.Response) for r in responses),
        "`storm` should hold the responses of requests.get, one per download",
    )
    load_balancer = _load_balancer(lab)
    distribution = _distribution(lab, load_balancer["DNSName"])
    expect(
        distribution is not None,
        "the storm did not go through CloudFront: there is no distribution of this lab "
        "(exercise 1 creates it)",
    )
    assert distribution is not None
    domain = distribution["DomainName"]
    elsewhere = Counter(
        urlsplit(r.url).hostname for r in responses if urlsplit(r.url).hostname != domain
    )
    expect(
        not elsewhere,
        f"{sum(elsewhere.values())} of the {len(responses)} downloads went to "
        f"{', '.join(sorted(h or '?' for h in elsewhere))}, not to the distribution: the "
        "devices now use the distribution's domain name, https://" + domain,
    )
    failed = Counter(r.status_code for r in responses if r.status_code != 200)
    expect(
        not failed,
        f"{sum(failed.values())} downloads did not answer 200 ({dict(failed)}): ask for the "
        "path the manifest names",
    )
    manifest = _manifest(lab, f"https://{domain}")
    others = sorted({urlsplit(r.url).path for r in responses} - {manifest["url"]})
    expect(
        not others,
        f"the storm downloaded {', '.join(others)}, not the update the manifest names "
        f"({manifest['url']})",
    )
    corrupt = sum(hashlib.sha256(r.content).hexdigest() != manifest["sha256"] for r in responses)
    expect(not corrupt, f"{corrupt} downloads do not match the manifest's sha256")
    expect(
        len(responses) >= STORM,
        f"the storm sent {len(responses)} downloads: send {STORM}",
    )
    words = Counter(_x_cache(r) for r in responses)
    reached = len(responses) - words["Hit"]
    expect(
        reached <= HANDFUL,
        f"{reached} of the {len(responses)} downloads reached the load balancer (X-Cache "
        f"{', '.join(f'{w or None}: {n}' for w, n in sorted(words.items()) if w != 'Hit')}): "
        "the edge should answer all but a handful; does `/updates/*` keep the update "
        "(exercise 2)?",
    )

    # the application did not change
    ec2, autoscaling = lab.client("ec2"), lab.client("autoscaling")
    name = lab.name("updates")
    groups = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])
    expect(
        groups["AutoScalingGroups"],
        f"the given Auto Scaling group {name} is gone: the application stays as it is",
    )
    group = groups["AutoScalingGroups"][0]
    resized = {k: group[k] for k, v in GROUP.items() if group[k] != v}
    expect(
        not resized,
        f"the Auto Scaling group was resized ({', '.join(f'{k} {v}' for k, v in resized.items())},"
        f" given {', '.join(f'{k} {GROUP[k]}' for k in resized)}): CloudFront takes the storm, "
        "the group stays as it was; set it back",
    )
    template = (group.get("LaunchTemplate") or {}).get("LaunchTemplateName")
    expect(
        template == name,
        f"the group launches from {template or 'something else'}, not the given launch "
        f"template {name}: the application stays as it is",
    )
    versions = ec2.describe_launch_template_versions(LaunchTemplateName=name)[
        "LaunchTemplateVersions"
    ]
    expect(
        len(versions) == 1,
        f"the launch template {name} has {len(versions)} versions: the application does not "
        "change (its user data, its image); CloudFront in front is the whole fix. Delete the "
        "new versions",
    )
    serving = [i for i in group["Instances"] if i["LifecycleState"] == "InService"]
    return (
        f"{len(responses)} downloads through CloudFront, {words['Hit']} answered at the edge, "
        f"{reached} reached the load balancer; the group still runs {len(serving)} instances "
        "from launch template version 1"
    )
