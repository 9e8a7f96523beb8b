"""storm.simulate: what reaches the origin, what it sends, and when it answers.

Contract: storm.py's docstring. `served at the edge + served by the origin = requests` every
minute; the origin sends at most its in-service instances' baseline bandwidth a minute; what it
cannot send waits, first come first served, and is never dropped, so every origin request is
answered (the run goes on past the day until the queue has drained); the bytes sent are the
bytes of the requests that reached it (a manifest or an update file each).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from itertools import accumulate

import pytest

# (Release kwargs, Fleet kwargs, Edge kwargs or None for no CloudFront)
CONFIGS = {
    "no edge": ({}, {}, None),
    "edge, update TTL a day": ({}, {}, {}),
    "edge, update TTL 1 h, 7 files": ({"files": 7}, {}, {"update_ttl_s": 3600}),
    "edge, TTLs 90 s and 7 s, 7 files": (
        {"files": 7},
        {},
        {"update_ttl_s": 90, "manifest_ttl_s": 7},
    ),
    "edge, TTLs 0": ({"devices": 20_000}, {}, {"update_ttl_s": 0, "manifest_ttl_s": 0}),
    "origin shield, 100 files": ({"files": 100}, {}, {"caches": 1}),
    "one device, one instance": ({"devices": 1, "files": 7}, {"min_size": 1, "max_size": 1}, {}),
    "no devices": ({"devices": 0}, {}, None),
    "1 M devices on 3 instances": ({"devices": 1_000_000, "hours": 6}, {"max_size": 3}, None),
    "CPU metric, edge TTL 10 min": ({}, {"metric": "cpu"}, {"update_ttl_s": 600}),
    "1 GB builds, slow launches": (
        {"devices": 20_000, "update_bytes": 10**9},
        {"min_size": 1, "max_size": 4, "launch_s": 600},
        None,
    ),
}


@pytest.fixture(scope="module")
def days(storm):
    """config id -> (release, fleet, edge, day), each day played once for the module."""
    played = {}

    def day(config: str):
        if config not in played:
            release_kw, fleet_kw, edge_kw = CONFIGS[config]
            release, fleet = storm.Release(**release_kw), storm.Fleet(**fleet_kw)
            edge = None if edge_kw is None else storm.Edge(**edge_kw)
            played[config] = (release, fleet, edge, storm.simulate(release, fleet, edge))
        return played[config]

    return day


each_config = pytest.mark.parametrize("config", CONFIGS)


@each_config
def test_the_requests_are_the_polls_and_the_downloads(days, config):
    """GIVEN a release WHEN the day is played THEN every minute's requests are its polls plus
    its downloads, none after the day (the extra minutes only drain the origin's queue), and
    every series covers the same minutes."""
    release, _, _, day = days(config)
    polls, downloads = release.polls(), release.downloads()

    assert len(day.requests) >= release.minutes
    assert day.requests[: release.minutes] == [p + d for p, d in zip(polls, downloads, strict=True)]
    assert set(day.requests[release.minutes :]) <= {0}
    assert day.total_requests == sum(polls) + sum(downloads)
    lengths = {len(series) for series in vars(day).values()}
    assert lengths == {len(day.requests)}


@each_config
def test_edge_hits_and_origin_requests_add_up_to_the_requests(days, config):
    """GIVEN any distribution WHEN the day is played THEN each minute the requests served at the
    edge and those sent to the origin are whole, neither negative, and add up to the requests."""
    *_, day = days(config)

    for minute, (n, hits, origin) in enumerate(
        zip(day.requests, day.edge_hits, day.origin_requests, strict=True)
    ):
        assert isinstance(hits, int) and isinstance(origin, int), minute
        assert 0 <= origin <= n and hits >= 0, minute
        assert hits + origin == n, minute
    assert sum(day.edge_hits) + sum(day.origin_requests) == day.total_requests


@each_config
def test_every_origin_request_is_answered_and_never_before_it_arrives(days, config):
    """GIVEN any origin WHEN the day is played THEN by the end of each minute it has answered no
    more requests than had arrived, and by the end of the run every one (nothing is dropped)."""
    *_, day = days(config)
    arrived = list(accumulate(day.origin_requests))
    answered = list(accumulate(day.answered))
    slack = 1e-9 * max(1, arrived[-1])

    assert all(n >= 0 for n in day.answered)
    assert all(a <= r + slack for a, r in zip(answered, arrived, strict=True))
    assert answered[-1] == pytest.approx(arrived[-1], rel=1e-6, abs=1e-9)


@each_config
def test_the_origin_sends_a_manifest_or_an_update_file_per_request(days, config):
    """GIVEN any distribution WHEN the day is played THEN the bytes the origin sent are exactly
    polls × manifest_bytes + downloads × update_bytes for some whole split of its requests into
    polls and downloads that the viewers asked for (nothing lost, nothing invented)."""
    release, _, _, day = days(config)
    size_m, size_u = release.manifest_bytes, release.update_bytes
    requests, sent = sum(day.origin_requests), sum(day.origin_bytes)

    downloads = (sent - requests * size_m) / (size_u - size_m)  # sent = polls·m + downloads·u

    assert downloads == pytest.approx(round(downloads), abs=1e-4)
    assert 0 <= round(downloads) <= sum(release.downloads())
    assert 0 <= requests - round(downloads) <= sum(release.polls())


@each_config
def test_cloudfront_sends_every_viewer_its_response(days, config):
    """GIVEN a distribution WHEN the day is played THEN the bytes CloudFront sends viewers each
    minute are every poll's manifest and every download's file (hit or miss); none without."""
    release, _, edge, day = days(config)
    polls, downloads = release.polls(), release.downloads()

    if edge is None:
        assert set(day.edge_bytes) == {0}
    else:
        expected = [
            p * release.manifest_bytes + d * release.update_bytes
            for p, d in zip(polls, downloads, strict=True)
        ]
        assert day.edge_bytes[: release.minutes] == pytest.approx(expected, rel=1e-12)


@each_config
def test_the_origin_never_sends_more_than_its_bandwidth(days, config):
    """GIVEN any fleet WHEN the day is played THEN no minute's bytes exceed what the instances in
    service can send at their baseline bandwidth: in service × bandwidth_bps / 8 × 60."""
    _, fleet, _, day = days(config)

    for minute, (sent, n) in enumerate(zip(day.origin_bytes, day.in_service, strict=True)):
        assert 0 <= sent <= n * fleet.bandwidth_bps / 8 * 60 * (1 + 1e-12), minute


@each_config
def test_the_group_stays_within_its_minimum_and_maximum(days, config):
    """GIVEN any fleet WHEN the day is played THEN min_size <= in service <= running (in service
    plus launching) <= max_size, every minute."""
    _, fleet, _, day = days(config)

    for minute, (n, running) in enumerate(zip(day.in_service, day.running, strict=True)):
        assert fleet.min_size <= n <= running <= fleet.max_size, minute


@each_config
def test_waits_are_first_come_first_served(days, config):
    """GIVEN any origin WHEN a minute's answers are timed THEN their average wait lies between
    the age of the last request answered and the age of the earliest one still waiting when the
    minute began: under first come first served, those are the oldest and the newest answered.
    """
    *_, day = days(config)
    arrived = list(accumulate(day.origin_requests))  # by the end of each minute
    eps = 1e-9 * max(1, arrived[-1])  # float noise in the running totals
    before = 0.0
    for minute, (answered, wait) in enumerate(zip(day.answered, day.download_wait_s, strict=True)):
        if answered <= eps:
            assert wait == 0, minute
        else:
            oldest = bisect_right(arrived, before + eps)  # earliest arrival still waiting
            newest = bisect_left(arrived, before + answered - eps)  # the last one answered
            assert oldest <= newest <= minute
            slack = 60 * (minute + 1) * 2 * eps / answered  # what noise can shift the average
            assert (minute - newest) * 60 - slack <= wait <= (minute - oldest) * 60 + slack
        before += answered


def test_some_configurations_queue(days):
    """The waits above are checked on days that do queue (a check on an empty queue would pass
    vacuously): the saturated fleets wait minutes, the idle ones not at all."""
    assert max(days("1 M devices on 3 instances")[3].download_wait_s) > 3600
    assert max(days("1 GB builds, slow launches")[3].download_wait_s) > 60
    assert max(days("no edge")[3].download_wait_s) > 0
    assert set(days("no devices")[3].download_wait_s) == {0}


def test_an_origin_that_always_has_room_answers_at_once(storm):
    """GIVEN 40 instances in service from the start, more than the peak minute needs WHEN the
    storm comes THEN every request is answered in the minute it arrives, with no wait."""
    release = storm.Release()
    fleet = storm.Fleet(min_size=40, max_size=40)
    peak = max(
        p * release.manifest_bytes + d * release.update_bytes
        for p, d in zip(release.polls(), release.downloads(), strict=True)
    )
    assert 40 * fleet.bandwidth_bps / 8 * 60 > peak  # 40 × 5.86 GB = 234 GB > ~195 GB

    day = storm.simulate(release, fleet)

    assert len(day.requests) == release.minutes
    assert set(day.download_wait_s) == {0}
    assert day.answered == pytest.approx(day.origin_requests, rel=1e-12)
    assert day.running == [40] * release.minutes


def test_a_saturated_origin_sends_its_full_bandwidth(storm):
    """GIVEN one instance and far more demand than it can send WHEN the backlog drains THEN
    every minute but the last it sends exactly its bandwidth's worth: the queue drains at the
    rate the bandwidth allows, and the run lasts ceil(bytes / bandwidth-minute) minutes."""
    release = storm.Release(devices=100_000, hours=1)
    fleet = storm.Fleet(min_size=1, max_size=1)
    per_minute = fleet.bandwidth_bps / 8 * 60
    demand = sum(release.polls()) * release.manifest_bytes
    demand += sum(release.downloads()) * release.update_bytes

    day = storm.simulate(release, fleet)

    assert len(day.requests) == math.ceil(demand / per_minute)
    assert day.origin_bytes[:-1] == pytest.approx([per_minute] * (len(day.requests) - 1))
    assert sum(day.origin_bytes) == pytest.approx(demand, rel=1e-12)


def test_a_fleet_that_could_never_drain_the_storm_is_refused(storm):
    """GIVEN a storm one small instance would need more than MAX_DRAIN_DAYS to send WHEN it is
    simulated THEN a ValueError says what to raise, instead of running for ever."""
    release = storm.Release(devices=10_000_000, hours=1)
    fleet = storm.Fleet(min_size=1, max_size=1, bandwidth_bps=1e6)

    with pytest.raises(ValueError, match="max_size or bandwidth_bps"):
        storm.simulate(release, fleet)


def test_every_download_is_answered_and_counted_apart_from_the_polls(storm):
    """GIVEN a storm without a CDN WHEN it has drained THEN the downloads answered add up to the
    downloads asked for, and the polls to the rest: waits can be weighted by downloads alone."""
    release = storm.Release(devices=50_000, hours=3)
    day = storm.simulate(release, storm.Fleet(max_size=4))

    assert sum(day.answered_downloads) == pytest.approx(sum(release.downloads()), rel=1e-9)
    polls = sum(day.answered) - sum(day.answered_downloads)
    assert polls == pytest.approx(sum(release.polls()), rel=1e-9)
    assert all(d <= a + 1e-9 for d, a in zip(day.answered_downloads, day.answered, strict=True))
