"""storm.py's inputs and its one statistic: what Release, Fleet and Edge refuse, and percentile.

Contract: the docstrings. A release has at least 0 devices, sizes above 0, a share in [0, 1],
at least one file, a poll interval of at least a minute and a late mean and a day above 0; a
fleet tracks 'network' or 'cpu' with 1 <= min_size <= max_size, a target in (0, 1], bandwidth
and vCPUs above 0 and a launch time of at least 0; an edge has TTLs of at least 0 and at least
one cache. Each refusal names the parameter to fix (STYLE.md: errors a learner can act on).
`percentile(values, weights, share)` is the weighted `share` quantile: the smallest value whose
cumulative weight reaches share × the total weight.
"""

from __future__ import annotations

import pytest

REFUSED = {
    "Release": [
        ("devices", -1),
        ("update_bytes", 0),
        ("manifest_bytes", 0),
        ("manifest_bytes", -600),
        ("online_share", 1.5),
        ("online_share", -0.1),
        ("files", 0),
        ("poll_interval_s", 59),
        ("late_mean_s", 0),
        ("hours", 0),
    ],
    "Fleet": [
        ("metric", "memory"),
        ("min_size", 0),
        ("max_size", 1),  # below the default min_size of 2
        ("target", 0),
        ("target", 1.5),
        ("bandwidth_bps", 0),
        ("vcpus", 0),
        ("launch_s", -1),
    ],
    "Edge": [("update_ttl_s", -1), ("manifest_ttl_s", -1), ("caches", 0)],
}
CASES = [(cls, name, value) for cls, bad in REFUSED.items() for name, value in bad]


@pytest.mark.parametrize("cls, name, value", CASES, ids=[f"{c}.{n}={v!r}" for c, n, v in CASES])
def test_a_bad_parameter_is_refused_by_name(storm, cls, name, value):
    """GIVEN one parameter out of its documented range WHEN the object is made THEN ValueError,
    with a message that names the class and the parameter."""
    with pytest.raises(ValueError) as refused:
        getattr(storm, cls)(**{name: value})

    assert str(refused.value).startswith(f"{cls}:")
    assert name in str(refused.value)


@pytest.mark.parametrize(
    "cls, kwargs",
    [
        ("Release", {"devices": 0, "online_share": 0.0, "poll_interval_s": 60}),
        ("Release", {"online_share": 1.0, "files": 1, "hours": 1, "late_mean_s": 1}),
        ("Fleet", {"metric": "cpu", "min_size": 1, "max_size": 1, "target": 1, "launch_s": 0}),
        ("Edge", {"update_ttl_s": 0, "manifest_ttl_s": 0, "caches": 1}),
    ],
    ids=["Release lows", "Release highs", "Fleet edges", "Edge zeros"],
)
def test_the_edges_of_each_range_are_accepted(storm, cls, kwargs):
    """GIVEN every parameter at the edge of its documented range WHEN made THEN accepted."""
    made = getattr(storm, cls)(**kwargs)

    assert {k: getattr(made, k) for k in kwargs} == kwargs


def test_the_targets_are_the_policys_target_values(storm):
    """GIVEN a target of 60 % WHEN the policy's TargetValue is asked THEN for the network metric
    it is 60 % of the baseline bandwidth in bytes a minute (0.781 Gbit/s = 5.8575 GB a minute),
    for CPU it is 60 (%)."""
    assert storm.Fleet().target_value == pytest.approx(0.6 * 0.781e9 / 8 * 60)
    assert storm.Fleet().bytes_per_minute == pytest.approx(5.8575e9)
    assert storm.Fleet(metric="cpu").target_value == pytest.approx(60)


# ---- percentile ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "share, expected",
    [(0.0, 10), (0.25, 10), (0.26, 20), (0.5, 20), (0.51, 30), (0.75, 30), (0.95, 30), (1.0, 30)],
)
def test_the_weighted_quantile_of_three_values(storm, share, expected):
    """GIVEN 10, 20 and 30 weighing 1, 1 and 2 (a quarter, a quarter, a half) WHEN a quantile is
    asked THEN it is the first value whose cumulative weight reaches share × 4."""
    assert storm.percentile([30, 10, 20], [2, 1, 1], share) == expected


def test_values_without_weight_do_not_count(storm):
    """GIVEN waits of minutes in which nothing was answered (weight 0) WHEN the median is asked
    THEN those waits are ignored."""
    assert storm.percentile([0, 900, 5], [0, 0, 3], 0.5) == 5
    assert storm.percentile([0, 900, 5], [4, 0, 0], 1.0) == 0


def test_the_95th_percentile_of_a_skewed_day(storm):
    """GIVEN 94 requests answered at once and 6 after 120 s WHEN the 95th percentile is asked
    THEN it is 120 s (the 95th request waited), while the median is 0."""
    values, weights = [0.0, 120.0], [94.0, 6.0]

    assert storm.percentile(values, weights, 0.95) == 120
    assert storm.percentile(values, weights, 0.9) == 0
    assert storm.percentile(values, weights, 0.5) == 0


def test_no_weight_at_all_gives_zero(storm):
    """GIVEN no requests answered WHEN a percentile is asked THEN 0 (nobody waited)."""
    assert storm.percentile([], [], 0.95) == 0
    assert storm.percentile([60, 120], [0, 0], 0.95) == 0


def test_values_and_weights_must_pair_up(storm):
    """GIVEN more values than weights WHEN a percentile is asked THEN ValueError."""
    with pytest.raises(ValueError):
        storm.percentile([1, 2, 3], [1, 1], 0.5)


@pytest.mark.parametrize("share", [-0.1, 1.5])
def test_percentile_refuses_a_share_outside_0_to_1(storm, share):
    with pytest.raises(ValueError, match="share"):
        storm.percentile([1.0, 2.0], [1.0, 1.0], share)


def test_percentile_needs_one_weight_per_value(storm):
    with pytest.raises(ValueError, match="weight"):
        storm.percentile([1.0, 2.0], [1.0], 0.5)
