"""storm.Release: who asks for what, and when.

Contract: storm.py's docstring. Every device asks for the manifest every `poll_interval_s`,
spread evenly: devices × 60 / poll_interval_s requests a minute. At release the online devices
(`online_share`) all download within one poll interval, evenly; the others come online
exponentially with mean `late_mean_s`. Both series are whole requests whose running totals stay
within 1 of the exact ones.

The expectations are closed forms worked out from those rules: by the end of minute t (in
minutes), online × min(t, W) / W + late × (1 − e^(−t / mean)) devices have downloaded, W the poll
interval and mean the late mean, both in minutes.
"""

from __future__ import annotations

import math
from itertools import accumulate

import pytest

POLLS = {
    "default fleet": dict(devices=200_000, poll_interval_s=3600, hours=24),
    "16 2/3 a minute": dict(devices=1000, poll_interval_s=3600, hours=24),
    "7 devices every 90 s": dict(devices=7, poll_interval_s=90, hours=3),
    "one device": dict(devices=1, poll_interval_s=3600, hours=24),
    "every minute": dict(devices=5, poll_interval_s=60, hours=2),
    "no devices": dict(devices=0, poll_interval_s=600, hours=1),
}


@pytest.mark.parametrize("kwargs", POLLS.values(), ids=POLLS.keys())
def test_polls_are_whole_and_add_up_to_one_per_device_per_interval(storm, kwargs):
    """GIVEN a fleet polling every poll_interval_s WHEN the day's polls are counted THEN each
    minute is a whole number, and by the end of every minute the running total is within 1 of
    devices × elapsed seconds / poll_interval_s."""
    release = storm.Release(**kwargs)
    polls = release.polls()

    assert len(polls) == kwargs["hours"] * 60
    assert all(isinstance(n, int) and n >= 0 for n in polls)
    per_second = kwargs["devices"] / kwargs["poll_interval_s"]
    for minute, total in enumerate(accumulate(polls), start=1):
        assert abs(total - per_second * 60 * minute) <= 1, minute
    assert abs(sum(polls) - per_second * kwargs["hours"] * 3600) <= 1


def downloaded_by(kwargs: dict, t: float) -> float:
    """Devices that have downloaded by minute t, from the docstring's rules (see above)."""
    devices = kwargs.get("devices", 200_000)
    online = devices * kwargs.get("online_share", 0.5)
    window = kwargs.get("poll_interval_s", 3600) / 60
    mean = kwargs.get("late_mean_s", 6 * 3600) / 60
    return online * min(t, window) / window + (devices - online) * (1 - math.exp(-t / mean))


DOWNLOADS = {
    "the notebook's release": dict(),
    "everyone online": dict(devices=10_000, online_share=1.0),
    "everyone late, mean 1 h": dict(devices=100_000, online_share=0.0, late_mean_s=3600),
    "a 90 s poll interval": dict(devices=3000, poll_interval_s=90, hours=2),
    "a poll interval longer than the day": dict(devices=50_000, poll_interval_s=7200, hours=1),
    "a few devices": dict(devices=3, online_share=0.3, late_mean_s=1800, hours=4),
    "no devices": dict(devices=0),
}


@pytest.mark.parametrize("kwargs", DOWNLOADS.values(), ids=DOWNLOADS.keys())
def test_downloads_follow_the_online_and_late_devices(storm, kwargs):
    """GIVEN a release WHEN its downloads are counted THEN each minute is whole, the running
    total is within 1 of the devices that have downloaded by then (online ones evenly over the
    first poll interval, late ones exponentially), and the day's total is that at the day's end:
    every online device (if the poll interval fits in the day) and the late ones who came."""
    release = storm.Release(**kwargs)
    downloads = release.downloads()

    assert len(downloads) == release.minutes
    assert all(isinstance(n, int) and n >= 0 for n in downloads)
    for minute, total in enumerate(accumulate(downloads), start=1):
        assert abs(total - downloaded_by(kwargs, minute)) <= 1, minute
    assert abs(sum(downloads) - downloaded_by(kwargs, release.minutes)) <= 1


def test_the_notebooks_release_reaches_the_online_half_and_most_late_devices(storm):
    """GIVEN 200 000 devices, half online, the rest late with a 6 h mean WHEN the day ends THEN
    100 000 + 100 000 × (1 − e^−4) = 198 168.4 have downloaded (e^−4 = 0.0183156)."""
    assert abs(sum(storm.Release().downloads()) - 198_168.4) <= 1


def test_online_devices_download_evenly_within_the_first_poll_interval(storm):
    """GIVEN 6 000 devices all online, polling hourly WHEN the update is released THEN 100
    download in each of the first 60 minutes and none after (nobody is late)."""
    downloads = storm.Release(devices=6000, online_share=1.0).downloads()

    assert downloads[:60] == [100] * 60
    assert set(downloads[60:]) == {0}


def test_a_poll_interval_of_90_s_splits_the_online_devices_two_to_one(storm):
    """GIVEN a 90 s poll interval WHEN 3 000 online devices learn of the update THEN the first
    minute holds 60 of the 90 s (2 000 downloads), the second the other 30 s (1 000)."""
    downloads = storm.Release(devices=3000, online_share=1.0, poll_interval_s=90).downloads()

    assert downloads[:3] == [2000, 1000, 0]


def test_late_devices_arrive_with_the_stated_mean(storm):
    """GIVEN 100 000 late devices with a mean delay of 1 h WHEN an hour has passed THEN
    100 000 × (1 − 1/e) = 63 212.06 have downloaded; after 24 h all but 100 000 × e^−24 ≈ 0."""
    downloads = storm.Release(devices=100_000, online_share=0.0, late_mean_s=3600).downloads()

    assert abs(sum(downloads[:60]) - 63_212.06) <= 1
    assert abs(sum(downloads) - 100_000) <= 1
