"""CloudFront in front of the chapter's unchanged application: the Auto Scaling group's
instances serve the EFS files through the ALB, and the distribution keeps them by its cache
behaviours' TTLs and forwards misses to the load balancer (its custom origin).

AWS's rules (CloudFront Developer Guide, "Manage how long content stays in the cache"): with no
Cache-Control or Expires from the origin, an object is kept for the behaviour's DefaultTTL; an
expired object that has a Last-Modified is revalidated with If-Modified-Since, and a 304 makes it
a `RefreshHit`; simultaneous requests for one object reach the origin once (request collapsing).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

import helpers
from tests.software_updates.support import build_site

BACKENDS = ("moto", "moto-server")


@pytest.fixture(scope="module")
def lab(backend):
    """A lab with a short name: load balancer and target group names are at most 32 characters."""
    lab = helpers.start("su-edge", backend=backend)
    yield lab
    lab.teardown()


@pytest.fixture(scope="module")
def site(lab):
    """The chapter's application with CloudFront in front: (cdn url, origin url, www folder)."""
    return build_site(lab)


def origin_requests(lab) -> int:
    """Requests the load balancer forwarded to the group's instances so far."""
    return sum(use["requests"] for use in lab.emulator.instances.usage().values())


def get(url: str) -> requests.Response:
    return requests.get(url, timeout=20)


def x_cache(response: requests.Response) -> str:
    return response.headers["X-Cache"].split(" ")[0]


def test_the_origin_serves_the_efs_files_without_cache_headers(site):
    _, origin, www = site
    answer = get(f"{origin}/updates/app-2.0.0.bin")

    assert answer.status_code == 200
    assert answer.content == (www / "updates" / "app-2.0.0.bin").read_bytes()
    assert "Cache-Control" not in answer.headers and "Last-Modified" in answer.headers


def test_a_miss_is_forwarded_to_the_load_balancer_and_then_served_from_the_edge(lab, site):
    cdn, _, www = site
    (www / "updates" / "app-2.0.1.bin").write_bytes(b"2.0.1 build")
    before = origin_requests(lab)

    first, second = get(f"{cdn}/updates/app-2.0.1.bin"), get(f"{cdn}/updates/app-2.0.1.bin")

    assert (x_cache(first), x_cache(second)) == ("Miss", "Hit")
    assert first.content == second.content == b"2.0.1 build"
    assert origin_requests(lab) == before + 1
    assert "cloudfront.net (CloudFront)" in first.headers["Via"]


def test_the_manifest_is_kept_for_its_behaviours_60_seconds(lab, site):
    cdn, _, www = site
    get(f"{cdn}/latest.json")
    manifest = www / "latest.json"
    manifest.write_text('{"version": "2.1.0"}')  # a release, a minute later: Last-Modified has
    later = manifest.stat().st_mtime + 60  # one-second resolution, so say it was written later
    os.utime(manifest, (later, later))
    before = origin_requests(lab)

    within = get(f"{cdn}/latest.json")
    lab.clock.advance(61)
    after = get(f"{cdn}/latest.json")

    assert (x_cache(within), within.json()["version"]) == ("Hit", "2.0.0")
    assert after.json()["version"] == "2.1.0"  # changed at the origin: a full answer
    assert x_cache(after) in ("Miss", "RefreshHit")
    assert origin_requests(lab) == before + 1


def test_an_expired_unchanged_object_is_revalidated_as_a_refresh_hit(lab, site):
    cdn, _, _ = site
    get(f"{cdn}/latest.json")
    lab.clock.advance(61)
    before = origin_requests(lab)

    again = get(f"{cdn}/latest.json")

    assert x_cache(again) == "RefreshHit"  # If-Modified-Since answered 304 by the origin
    assert origin_requests(lab) == before + 1


def test_update_files_stay_at_the_edge_for_their_behaviours_year(lab, site):
    cdn, _, www = site
    get(f"{cdn}/updates/app-2.0.0.bin")
    before = origin_requests(lab)

    lab.clock.advance(30 * 24 * 3600)
    later = get(f"{cdn}/updates/app-2.0.0.bin")

    assert x_cache(later) == "Hit"
    assert later.content == (www / "updates" / "app-2.0.0.bin").read_bytes()
    assert origin_requests(lab) == before


def test_a_storm_for_a_new_file_reaches_the_origin_once(lab, site):
    cdn, _, www = site
    (www / "updates" / "app-3.0.0.bin").write_bytes(os.urandom(2_000_000))
    before = origin_requests(lab)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(get, [f"{cdn}/updates/app-3.0.0.bin"] * 24))

    assert {a.status_code for a in answers} == {200}
    assert sorted(x_cache(a) for a in answers).count("Miss") == 1
    assert origin_requests(lab) == before + 1


def test_without_the_edge_every_request_reaches_the_instances_in_turn(lab, site):
    _, origin, _ = site
    before = lab.emulator.instances.usage()

    for _ in range(10):
        get(f"{origin}/latest.json").raise_for_status()

    after = lab.emulator.instances.usage()
    served = [after[i]["requests"] - before.get(i, {}).get("requests", 0) for i in after]
    assert sorted(n for n in served if n) == [5, 5]  # round robin over the two instances
