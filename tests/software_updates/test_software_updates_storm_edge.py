"""storm.simulate and storm.hit_ratio with CloudFront in front: what the caches absorb.

Contract: storm.py's docstring. Requests reach `caches` caches (13 regional edge caches, 1 with
Origin Shield); each cache fetches an object from the origin at most once per TTL window and
never more often than it is asked; a TTL of 0 sends every request to the origin; update files
are asked for evenly. The manifest's TTL is 60 s, the update files' a day, unless a test says.

The expected counts are worked out by hand from those rules: with 200 000 devices polling hourly
every minute holds 3 333 polls, far more than 13, so each minute the manifest reaches the
origin exactly `caches` times; and the first minute's ~1 944 downloads ask every file at least
13 times even with 100 files, so a day-long TTL sends each file to the origin exactly `caches`
times, all in minute 0.
"""

from __future__ import annotations

from itertools import pairwise

import pytest

DAY = 86_400
YEAR = 365 * DAY


def play(storm, release_kw=None, edge_kw=None, fleet_kw=None):
    release = storm.Release(**(release_kw or {}))
    edge = None if edge_kw is None else storm.Edge(**edge_kw)
    return release, storm.simulate(release, storm.Fleet(**(fleet_kw or {})), edge)


def test_without_cloudfront_every_request_reaches_the_origin(storm):
    """GIVEN no distribution WHEN the storm comes THEN the origin gets every request."""
    release, day = play(storm)

    assert day.origin_requests == day.requests
    assert set(day.edge_hits) == {0}


@pytest.mark.parametrize("ttl", [DAY, YEAR], ids=["TTL a day", "TTL a year"])
@pytest.mark.parametrize("files", [1, 7, 100])
def test_a_day_long_ttl_fetches_each_file_once_per_cache(storm, files, ttl):
    """GIVEN 13 regional caches, the manifest's TTL 60 s and the files' at least a day WHEN the
    storm comes THEN minute 0 sends the origin 13 manifests and 13 copies of each file, every
    later minute 13 manifests, and the origin sends exactly those bytes."""
    release, day = play(storm, {"files": files}, {"update_ttl_s": ttl})
    assert min(release.polls()) >= 13  # every minute asks for the manifest more than 13 times
    assert release.downloads()[0] >= 13 * files  # and minute 0 for each file more than 13 times

    assert day.origin_requests[0] == 13 + 13 * files
    assert set(day.origin_requests[1 : release.minutes]) == {13}
    expected_bytes = 13 * release.minutes * release.manifest_bytes
    expected_bytes += 13 * files * release.update_bytes
    assert sum(day.origin_bytes) == pytest.approx(expected_bytes, rel=1e-12)


@pytest.mark.parametrize("files", [1, 7, 100])
def test_the_hit_ratio_counts_the_same_misses_as_the_day(storm, files):
    """GIVEN a day-long TTL WHEN the hit ratio is computed THEN it is 1 − 13 × files / downloads:
    the same update misses the played day sends the origin."""
    release = storm.Release(files=files)
    downloads = sum(release.downloads())

    assert storm.hit_ratio(release, storm.Edge()) == pytest.approx(1 - 13 * files / downloads)


def test_a_ttl_of_zero_sends_every_request_to_the_origin(storm):
    """GIVEN both TTLs 0 WHEN the storm comes THEN the caches answer nothing."""
    release, day = play(storm, {"devices": 20_000}, {"update_ttl_s": 0, "manifest_ttl_s": 0})

    assert day.origin_requests == day.requests
    assert set(day.edge_hits) == {0}
    assert storm.hit_ratio(release, storm.Edge(update_ttl_s=0)) == 0


def test_a_ttl_of_zero_on_the_files_only_sends_every_download(storm):
    """GIVEN the files' TTL 0 and the manifest's 60 s WHEN the storm comes THEN each minute the
    origin gets every download and 13 manifests."""
    release, day = play(storm, {}, {"update_ttl_s": 0})

    expected = [d + 13 for d in release.downloads()]
    assert day.origin_requests[: release.minutes] == expected


def test_a_10_s_manifest_ttl_refreshes_each_cache_6_times_a_minute(storm):
    """GIVEN the manifest's TTL 10 s WHEN thousands poll each minute THEN each of the 13 caches
    fetches it 60 / 10 = 6 times a minute: 78 origin requests a minute after minute 0."""
    release, day = play(storm, {}, {"manifest_ttl_s": 10})

    assert set(day.origin_requests[1 : release.minutes]) == {78}


def test_origin_shield_fetches_each_object_once_per_ttl_window(storm):
    """GIVEN Origin Shield (one cache), the files' TTL 1 h, 7 files WHEN the storm comes THEN
    each hour the origin gets the manifest once a minute (60) and each file once (7): even the
    last hour asks for every file (its ~330 downloads, dealt evenly, are ~47 a file)."""
    release, day = play(storm, {"files": 7}, {"caches": 1, "update_ttl_s": 3600})
    assert min(sum(release.downloads()[h * 60 : h * 60 + 60]) for h in range(24)) >= 7 * 30

    hourly = [sum(day.origin_requests[h * 60 : h * 60 + 60]) for h in range(24)]

    assert hourly == [60 + 7] * 24


def test_update_files_are_asked_for_evenly(storm):
    """GIVEN 50 devices, all online, and 7 files behind Origin Shield WHEN they download THEN
    every file is asked for (50 ≥ 7, each some 7 times), so each reaches the origin once: 7
    misses, a hit ratio of 1 − 7/50 (not 1 − 1/50, as if every device wanted the same file)."""
    release = storm.Release(devices=50, online_share=1.0, files=7)
    edge = storm.Edge(caches=1)

    assert storm.hit_ratio(release, edge) == pytest.approx(1 - 7 / 50)
    day = storm.simulate(release, storm.Fleet(), edge)
    assert sum(day.origin_requests) == sum(release.polls()) + 7  # under 1 poll a minute


def test_a_few_devices_are_not_absorbed_by_13_caches(storm):
    """GIVEN 3 devices and 7 files WHEN they poll and download THEN no object is asked more than
    13 times in its window, so every request is a cache's first: all reach the origin."""
    release, day = play(storm, {"devices": 3, "files": 7}, {})

    assert day.origin_requests == day.requests
    assert storm.hit_ratio(release, storm.Edge()) == 0


def test_the_hit_ratio_of_a_release_worked_by_hand(storm):
    """GIVEN 10 000 devices all online (10 000 downloads in the first hour) and 7 files WHEN the
    13 regional caches keep them a day THEN 7 × 13 = 91 downloads miss: 1 − 91/10 000."""
    release = storm.Release(devices=10_000, online_share=1.0, files=7)

    assert sum(release.downloads()) == 10_000
    assert storm.hit_ratio(release, storm.Edge()) == pytest.approx(0.9909)


def test_the_hit_ratio_behind_origin_shield_worked_by_hand(storm):
    """GIVEN 10 000 downloads over the first hour and one cache keeping the file 10 minutes WHEN
    the hit ratio is computed THEN the 6 ten-minute windows of that hour miss once each."""
    release = storm.Release(devices=10_000, online_share=1.0)

    assert storm.hit_ratio(release, storm.Edge(caches=1, update_ttl_s=600)) == pytest.approx(
        1 - 6 / 10_000
    )


TTLS = [0, 1, 10, 30, 60, 300, 900, 3600, DAY, YEAR]  # each window nests in the next


@pytest.mark.parametrize("files", [1, 7, 100])
def test_the_hit_ratio_rises_with_the_ttl(storm, files):
    """GIVEN the notebook's release WHEN the files' TTL grows THEN the hit ratio never falls,
    from 0 (TTL 0) to 1 − 13 × files / downloads (a day or more)."""
    release = storm.Release(files=files)

    ratios = [storm.hit_ratio(release, storm.Edge(update_ttl_s=t)) for t in TTLS]

    assert ratios == sorted(ratios)
    assert ratios[0] == 0
    assert ratios[-1] == pytest.approx(1 - 13 * files / sum(release.downloads()))
    assert ratios[TTLS.index(60)] < ratios[TTLS.index(3600)] < ratios[TTLS.index(DAY)]


@pytest.mark.parametrize("ttl", [60, 3600, DAY])
@pytest.mark.parametrize("caches", [1, 13])
def test_the_hit_ratio_falls_with_the_number_of_files(storm, ttl, caches):
    """GIVEN a TTL and caches WHEN the same downloads are spread over more files THEN more of them
    miss: the hit ratio falls strictly from 1 to 2, 7, 25 and 100 files."""
    edge = storm.Edge(update_ttl_s=ttl, caches=caches)

    ratios = [storm.hit_ratio(storm.Release(files=f), edge) for f in (1, 2, 7, 25, 100)]

    assert all(a > b for a, b in pairwise(ratios)), ratios
