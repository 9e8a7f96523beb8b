"""storm.simulate's Auto Scaling group: target tracking on network out or CPU.

Contract: storm.py's docstring, after the alarms an EC2 Auto Scaling target-tracking policy
creates (https://docs.aws.amazon.com/autoscaling/ec2/userguide/as-scaling-target-tracking.html):
with one-minute datapoints the high alarm fires after 3 consecutive minutes above the target,
the low alarm after 15 consecutive minutes below 90 % of it; the new capacity is
ceil(in service × metric / target) within [min_size, max_size]; scale-out launches at once and
the new instances serve ceil(launch_s / 60) minutes later; scale-in happens only when the low
alarm fires. The metric is the average over the instances in service (warming ones left out):
bytes sent a minute (network) or CPU % from the measured CPU seconds per GB and per request.

The hand-made scenarios use a tiny instance, 1 000 bytes a minute (bandwidth 8 000 / 60 bit/s),
so the target (60 %) is 600 bytes an instance a minute and the numbers can be worked on paper.
"""

from __future__ import annotations

import math

import pytest

TINY = {"bandwidth_bps": 8000 / 60, "min_size": 2, "max_size": 10}  # 1 000 bytes a minute


def overload(storm, launch_s: int):
    """Polls and downloads of 160 000 bytes a minute for an hour: far more than even 10 tiny
    instances send (10 000 a minute), so the origin is saturated for hours."""
    release = storm.Release(devices=6000, hours=1, online_share=1.0, update_bytes=1000)
    assert release.polls()[0] * 600 + release.downloads()[0] * 1000 == 160_000
    return storm.simulate(release, storm.Fleet(**TINY, launch_s=launch_s))


@pytest.mark.parametrize("launch_s, delay", [(240, 4), (150, 3), (600, 10)])
def test_a_constant_overload_scales_out_in_proportional_steps(storm, launch_s, delay):
    """GIVEN a saturated origin, each instance sending its whole 1 000 bytes (the metric, per
    instance, is 1 000 > 600) WHEN the policy tracks it THEN the alarm fires on the 3rd minute
    (minute 2) and asks ceil(2 × 1000/600) = 4; those serve `delay` = ceil(launch_s / 60)
    minutes later, when ceil(4 × 1000/600) = 7 are asked, then ceil(7 × 1000/600) = 12, held to
    the maximum of 10."""
    day = overload(storm, launch_s)
    d, end = delay, 2 + 3 * delay + 5

    expected_in_service = [2] * (2 + d) + [4] * d + [7] * d + [10] * 5
    expected_running = [2] * 2 + [4] * d + [7] * d + [10] * (d + 5)
    assert day.in_service[:end] == expected_in_service
    assert day.running[:end] == expected_running
    highs = [m for m, alarm in enumerate(day.alarms[:end]) if alarm]
    assert highs == [2, 2 + d, 2 + 2 * d]
    assert {day.alarms[m] for m in highs} == {"high"}
    assert max(day.running) == 10


def burst(storm, minutes: int):
    """10 downloads of 150 bytes and 10 polls of 1 byte a minute during the first `minutes`
    minutes (the online devices' poll interval), then only the polls: 1 510 bytes a minute,
    755 for each of the 2 instances (above 600, below their 1 000), then 10 (5 each)."""
    release = storm.Release(
        devices=10 * minutes,
        poll_interval_s=60 * minutes,
        online_share=1.0,
        update_bytes=150,
        manifest_bytes=1,
        hours=1,
    )
    assert release.downloads()[: minutes + 1] == [10] * minutes + [0]
    assert set(release.polls()) == {10}
    return storm.simulate(release, storm.Fleet(**TINY))


def test_two_minutes_above_the_target_do_not_scale_out(storm):
    """GIVEN the metric above the target for 2 minutes only WHEN the policy tracks it THEN the
    high alarm never fires (it needs 3) and the group keeps its 2 instances."""
    day = burst(storm, 2)

    assert day.metric[:2] == pytest.approx([755, 755])
    assert set(day.alarms) == {""}
    assert set(day.running) == {2}


def test_three_minutes_above_then_fifteen_quiet_minutes_scale_out_then_in(storm):
    """GIVEN the metric above the target for 3 minutes, then far below it WHEN the policy
    tracks it THEN minute 2 asks ceil(2 × 755/600) = 3 instances, the third serves from minute
    6, and the low alarm fires on the 15th quiet minute (minutes 3 to 17) back to the minimum of
    2 (ceil(3 × (10/3)/600) = 1, held to 2)."""
    day = burst(storm, 3)

    assert day.alarms[2] == "high"
    assert day.running[2:6] == [3] * 4
    assert day.in_service[:6] == [2] * 6
    assert day.in_service[6:17] == [3] * 11
    assert day.alarms[3:17] == [""] * 14
    assert day.alarms[17] == "low"
    assert set(day.in_service[18:]) == set(day.running[18:]) == {2}
    assert set(day.alarms[18:]) == {""}


def test_a_cpu_metric_with_cheap_bytes_never_scales_out_where_the_network_metric_does(storm):
    """GIVEN the same storm of 1 GB-a-minute-per-instance downloads WHEN one group tracks CPU,
    each GB and request costing next to no CPU, and another tracks network out THEN the CPU group
    stays at its minimum (and queues), the network group scales out."""
    release = storm.Release(devices=20_000)
    cpu = storm.Fleet(metric="cpu", cpu_s_per_gb=1e-6, cpu_s_per_request=1e-9)
    network = storm.Fleet(metric="network")

    by_cpu, by_network = storm.simulate(release, cpu), storm.simulate(release, network)

    assert max(by_cpu.cpu_pct) < 1
    assert "high" not in by_cpu.alarms
    assert set(by_cpu.running) == {cpu.min_size}
    assert max(by_cpu.download_wait_s) > max(by_network.download_wait_s)
    assert "high" in by_network.alarms
    assert max(by_network.running) > network.min_size


# storms in which the group does scale, checked against the rules minute by minute
SCALING = {
    "network, no edge": ({}, {}, None),
    "network, edge with 100 files": ({"files": 100}, {}, {}),
    "network, 2 M devices, 3 minute launches": ({"devices": 2_000_000}, {"launch_s": 180}, None),
    "network, target 90 %, min 1 max 5": ({}, {"target": 0.9, "min_size": 1, "max_size": 5}, None),
    "cpu, 15 CPU s per GB": ({}, {"metric": "cpu", "cpu_s_per_gb": 15}, None),
    "cpu, per request, edge TTL 0": (
        {"devices": 2_000_000, "update_bytes": 10_000},
        {"metric": "cpu", "cpu_s_per_request": 0.05},
        {"update_ttl_s": 0, "manifest_ttl_s": 0},
    ),
    "hand-made burst": (
        {
            "devices": 30,
            "poll_interval_s": 180,
            "online_share": 1.0,
            "update_bytes": 150,
            "manifest_bytes": 1,
            "hours": 1,
        },
        TINY,
        None,
    ),
}


@pytest.fixture(scope="module", params=SCALING, ids=SCALING)
def scaled(storm, request):
    release_kw, fleet_kw, edge_kw = SCALING[request.param]
    release, fleet = storm.Release(**release_kw), storm.Fleet(**fleet_kw)
    edge = None if edge_kw is None else storm.Edge(**edge_kw)
    return release, fleet, storm.simulate(release, fleet, edge)


def test_these_storms_do_scale_out_and_in(scaled):
    """The rules below are checked on days where both alarms fire (else they pass vacuously)."""
    *_, day = scaled

    assert "high" in day.alarms and "low" in day.alarms


def test_the_metric_is_the_average_of_the_instances_in_service(scaled):
    """GIVEN any storm WHEN a minute's metric is recorded THEN it is that minute's bytes sent per
    in-service instance (network), or CPU seconds (bytes × s/GB + requests × s/request) over the
    in-service vCPU-seconds, in % (cpu): instances still launching are left out."""
    _, fleet, day = scaled

    for m in range(len(day.requests)):
        serving = day.in_service[m] if day.alarms[m] != "low" else day.running[m - 1]
        cpu_s = day.origin_bytes[m] / 1e9 * fleet.cpu_s_per_gb
        cpu_s += day.answered[m] * fleet.cpu_s_per_request
        assert day.cpu_pct[m] == pytest.approx(100 * cpu_s / (serving * fleet.vcpus * 60))
        mine = day.origin_bytes[m] / serving if fleet.metric == "network" else day.cpu_pct[m]
        assert day.metric[m] == pytest.approx(mine), m


def test_the_high_alarm_needs_3_minutes_above_and_asks_proportional_capacity(scaled):
    """GIVEN any storm WHEN the group scales out at minute m THEN minutes m-2..m were all above
    the target, and the group now runs min(max_size, ceil(in service × metric / target))."""
    _, fleet, day = scaled

    for m, alarm in enumerate(day.alarms):
        if alarm == "high":
            assert m >= 2
            assert all(v > fleet.target_value for v in day.metric[m - 2 : m + 1]), m
            wanted = math.ceil(day.in_service[m] * day.metric[m] / fleet.target_value)
            assert day.running[m] == min(fleet.max_size, wanted) > day.running[m - 1], m


def test_the_low_alarm_needs_15_quiet_minutes_and_scales_in_gradually(scaled):
    """GIVEN any storm WHEN the group scales in at minute m THEN minutes m-14..m were all below
    90 % of the target, no instance was launching, and the group moves toward
    max(min_size, ceil(in service × metric / target)) by at most a tenth of its size (at least
    one instance): target tracking "scales in more gradually" than it scales out."""
    _, fleet, day = scaled

    for m, alarm in enumerate(day.alarms):
        if alarm == "low":
            assert m >= 14
            assert all(v < 0.9 * fleet.target_value for v in day.metric[m - 14 : m + 1]), m
            serving = day.running[m - 1]  # in service at the start of m: nothing was launching
            wanted = max(fleet.min_size, math.ceil(serving * day.metric[m] / fleet.target_value))
            step = min(serving - wanted, max(1, serving // 10))
            assert day.in_service[m] == day.running[m] == serving - step, m
            assert wanted <= day.in_service[m] < serving


def test_capacity_changes_only_through_the_alarms(scaled):
    """GIVEN any storm WHEN the group's size changes THEN the running count grows only when the
    high alarm fires and shrinks only when the low one does, and instances come into service
    exactly ceil(launch_s / 60) minutes after the alarm that launched them, as many as it did."""
    _, fleet, day = scaled
    delay = math.ceil(fleet.launch_s / 60)

    for m in range(1, len(day.requests)):
        grew, shrank = day.running[m] > day.running[m - 1], day.running[m] < day.running[m - 1]
        assert grew == (day.alarms[m] == "high"), m
        assert shrank == (day.alarms[m] == "low"), m
        if day.alarms[m] != "low":
            h = m - delay
            launched = (
                day.running[h] - day.running[h - 1] if h >= 1 and day.alarms[h] == "high" else 0
            )
            assert day.in_service[m] - day.in_service[m - 1] == launched, m
