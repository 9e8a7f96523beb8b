"""devices.py: the fleet's recorded telemetry, as its docstring and the notebook document it.

Contract (devices.py's docstring, the notebook's section 1): six devices; a reading every 15
minutes and a heartbeat every hour per device, on `{root}/{device}/telemetry` (the device id is
the topic's second level, not in the payload, as is usual with AWS IoT topics); the same seed
gives the same messages in the same order (by time, then device); about 1 % of readings carry a
DS18B20 glitch (85.0 °C after a power-on reset, -127.0 °C when the wire is loose, the probe's
datasheet values); the device on old firmware (1.2.0) sometimes sends its temperature as text
with its unit ("21.4C") and sometimes leaves out the humidity. Nothing else is wrong.
https://docs.aws.amazon.com/iot/latest/developerguide/topics.html
https://www.analog.com/media/en/technical-documentation/data-sheets/DS18B20.pdf (power-on reset
value +85 °C)
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from tests.ingestion.support import GLITCHES, verdict

READINGS_PER_DAY = 24 * 4  # one every 15 minutes
HEARTBEATS_PER_DAY = 24
LONG = 30  # days: enough readings (17,280) to measure a 1 % rate within ±0.25 %


def _kinds(messages):
    return Counter(payload["kind"] for _, payload in messages)


def _readings(messages):
    return [(topic, p) for topic, p in messages if p["kind"] == "reading"]


def _with_device(topic, payload):
    """The message as the chapter's rule passes it on: the payload plus topic(2)."""
    return {**payload, "device_id": topic.split("/")[1]}


def _is_glitch(payload):
    return payload["temperature"] in GLITCHES


def _is_malformed(payload):
    return isinstance(payload["temperature"], str) or "humidity" not in payload


@pytest.fixture(scope="module")
def month(devices):
    """30 days of the fleet with the notebook's seed."""
    start, end = devices.recorded_days(days=LONG)
    return devices.messages(start, end)


def test_the_same_seed_gives_the_same_messages_in_the_same_order(devices):
    """GIVEN a seed WHEN the messages are made twice, whatever the global random state THEN they
    are equal, message for message; another seed gives other readings."""
    start, end = devices.recorded_days()
    random.seed(1)
    first = devices.messages(start, end, seed=11)
    random.seed(2)
    again = devices.messages(start, end, seed=11)
    other = devices.messages(start, end, seed=12)
    assert first == again
    assert [t for t, _ in first] == [t for t, _ in other]  # the same schedule...
    assert first != other  # ...and other values


@pytest.mark.parametrize("days", [1, 2, 3])
def test_six_devices_send_96_readings_and_24_heartbeats_a_day(devices, days):
    """GIVEN `days` recorded days WHEN the messages are made THEN there are 6 × 96 × days
    readings and 6 × 24 × days heartbeats, 96 and 24 a day for each device."""
    start, end = devices.recorded_days("2026-11-02", days=days)
    messages = devices.messages(start, end)
    assert len(devices.FLEET) == 6
    assert _kinds(messages) == {
        "reading": 6 * READINGS_PER_DAY * days,
        "heartbeat": 6 * HEARTBEATS_PER_DAY * days,
    }
    per_device = Counter((topic.split("/")[1], p["kind"]) for topic, p in messages)
    for device in devices.FLEET:
        assert per_device[device.device_id, "reading"] == READINGS_PER_DAY * days
        assert per_device[device.device_id, "heartbeat"] == HEARTBEATS_PER_DAY * days


def test_the_recording_spans_utc_midnights(devices):
    """GIVEN the default recording WHEN asked for its bounds THEN it is 2026-11-02 00:00 UTC to
    two days later, and every message's ts (epoch ms) falls in [start, end)."""
    start, end = devices.recorded_days()
    assert start == datetime(2026, 11, 2, tzinfo=timezone.utc)
    assert end == datetime(2026, 11, 4, tzinfo=timezone.utc)
    first_ms, end_ms = int(start.timestamp()) * 1000, int(end.timestamp()) * 1000
    assert all(first_ms <= p["ts"] < end_ms for _, p in devices.messages(start, end))


def test_readings_every_15_minutes_and_heartbeats_on_the_hour(devices):
    """GIVEN one day WHEN the messages are made THEN each device reads at every quarter hour
    exactly once and beats at every full hour exactly once."""
    start, end = devices.recorded_days(days=1)
    first_ms = int(start.timestamp()) * 1000
    quarter, hour = 15 * 60 * 1000, 3600 * 1000
    seen = Counter()
    for topic, p in devices.messages(start, end):
        seen[topic.split("/")[1], p["kind"], p["ts"]] += 1
    for device in devices.FLEET:
        readings = sorted(ts for (d, k, ts) in seen if d == device.device_id and k == "reading")
        beats = sorted(ts for (d, k, ts) in seen if d == device.device_id and k == "heartbeat")
        assert readings == [first_ms + i * quarter for i in range(READINGS_PER_DAY)]
        assert beats == [first_ms + i * hour for i in range(HEARTBEATS_PER_DAY)]
    assert set(seen.values()) == {1}


def test_messages_come_by_time_then_device(devices):
    """GIVEN a day WHEN the messages are made THEN ts never goes back, and within one ts the
    devices come in the fleet's order."""
    start, end = devices.recorded_days(days=1)
    order = {d.device_id: i for i, d in enumerate(devices.FLEET)}
    keys = [(p["ts"], order[topic.split("/")[1]]) for topic, p in devices.messages(start, end)]
    assert keys == sorted(keys)


@pytest.mark.parametrize("root", ["sensors", "ingestion-d5816e-sensors"])
def test_topics_are_root_device_telemetry_and_the_payload_has_no_device_id(devices, root):
    """GIVEN a topic root WHEN the messages are made THEN every topic is
    `{root}/{device}/telemetry` for a device of the fleet, and no payload names the device."""
    start, end = devices.recorded_days(days=1)
    messages = devices.messages(start, end, root=root)
    fleet = {d.device_id for d in devices.FLEET}
    topics = Counter(topic for topic, _ in messages)
    assert set(topics) == {f"{root}/{device}/telemetry" for device in fleet}
    assert all(re.fullmatch(r"[A-Za-z0-9-]+/[a-z0-9-]+/telemetry", t) for t in topics)
    assert not any("device_id" in p or "device" in p for _, p in messages)


def test_a_reading_and_a_heartbeat_carry_the_documented_fields(devices):
    """GIVEN a day WHEN the messages are made THEN a reading has kind, ts, site (its device's),
    temperature, humidity, battery and firmware (its device's); a heartbeat has kind, ts and a
    whole number of seconds of uptime."""
    start, end = devices.recorded_days(days=1)
    fleet = {d.device_id: d for d in devices.FLEET}
    for topic, p in devices.messages(start, end):
        device = fleet[topic.split("/")[1]]
        assert isinstance(p["ts"], int) and not isinstance(p["ts"], bool)
        if p["kind"] == "heartbeat":
            assert set(p) == {"kind", "ts", "uptime_s"}
            assert isinstance(p["uptime_s"], int) and p["uptime_s"] >= 0
            continue
        assert p["kind"] == "reading"
        assert set(p) - {"humidity"} == {"kind", "ts", "site", "temperature", "battery", "firmware"}
        assert (p["site"], p["firmware"]) == (device.site, device.firmware)


def test_about_one_reading_in_a_hundred_is_a_probe_glitch(devices, month):
    """GIVEN 30 days WHEN the readings are counted THEN 0.75-1.25 % read 85.0 or -127.0 °C,
    both values occur, and on every device (the probe's faults, not a device's)."""
    readings = _readings(month)
    glitches = [(t, p) for t, p in readings if _is_glitch(p)]
    assert 0.0075 <= len(glitches) / len(readings) <= 0.0125, len(glitches)
    assert {p["temperature"] for _, p in glitches} == set(GLITCHES)
    assert {t.split("/")[1] for t, _ in glitches} == {d.device_id for d in devices.FLEET}


def test_only_the_old_firmware_sends_malformed_readings_of_the_documented_kinds(devices, month):
    """GIVEN 30 days WHEN the readings are examined THEN malformed ones come only from devices on
    firmware 1.2.0 and occur there (a minority); their temperature is text with a unit ("21.4C")
    whose number is the site's climate; the humidity is left out sometimes, and only in a
    malformed reading."""
    old = {d.device_id for d in devices.FLEET if d.firmware == "1.2.0"}
    assert old
    fleet = {d.device_id: d for d in devices.FLEET}
    readings = _readings(month)
    malformed = [(t, p) for t, p in readings if _is_malformed(p)]
    by_device = Counter(t.split("/")[1] for t, _ in malformed)
    assert set(by_device) == old
    old_readings = sum(1 for t, _ in readings if t.split("/")[1] in old)
    assert 0 < len(malformed) / old_readings < 0.10
    for topic, p in malformed:
        text = p["temperature"]
        assert isinstance(text, str) and re.fullmatch(r"-?\d+(\.\d+)?C", text), text
        device = fleet[topic.split("/")[1]]
        assert abs(float(text[:-1]) - device.base_temperature) <= device.swing + 2
    missing = [p for _, p in malformed if "humidity" not in p]
    assert 0 < len(missing) < len(malformed)
    assert all(isinstance(p["temperature"], str) for _, p in readings if "humidity" not in p)


def test_the_documented_faults_are_the_only_ones(devices, month):
    """GIVEN 30 days, each reading as the rule passes it on (plus its device id) WHEN judged by
    the chapter's rules THEN a reading is Dropped exactly when it is a glitch, ProcessingFailed
    exactly when it is malformed, and Ok otherwise: every other value is in range."""
    for topic, payload in _readings(month):
        expected = (
            "Dropped"
            if _is_glitch(payload)
            else "ProcessingFailed"
            if _is_malformed(payload)
            else "Ok"
        )
        assert verdict(json.dumps(_with_device(topic, payload)).encode()) == expected, payload


def test_two_recorded_days_are_the_notebooks_1440_messages(devices):
    """GIVEN the notebook's defaults WHEN the messages are made THEN 1,440 of them: 1,152
    readings and 288 heartbeats (the counts the notebook prints)."""
    start, end = devices.recorded_days()
    assert _kinds(devices.messages(start, end)) == {"reading": 1152, "heartbeat": 288}
    assert end - start == timedelta(days=2)
