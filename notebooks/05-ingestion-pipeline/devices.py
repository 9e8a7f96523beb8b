"""A fleet of greenhouse and cold-store sensors: two recorded days of telemetry, seeded.

Each device publishes MQTT messages on `{root}/{device}/telemetry` (`root` is `sensors`, or
the lab's own name so that two labs in one account never read each other's devices):

- a **reading** every 15 minutes: `{"kind": "reading", "ts": <epoch ms>, "site": ...,
  "temperature": °C, "humidity": %, "battery": %, "firmware": ...}`. The device's id is not in
  the payload: it is the topic's second level, as is usual with AWS IoT;
- a **heartbeat** every hour: `{"kind": "heartbeat", "ts": ..., "uptime_s": ...}`.

What real fleets send too, at seeded places:

- **sensor glitches**: a DS18B20 temperature probe reads 85.0 °C right after a power-on reset
  and -127.0 °C when its wire is loose (its datasheet's values); about 1 % of readings;
- **malformed readings** from a device on old firmware (1.2.0), which sends the temperature as
  text with its unit (`"21.4C"`) and sometimes leaves out the humidity.

The same seed gives the same messages, in the same order (by time, then device).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

READING_EVERY = timedelta(minutes=15)
HEARTBEAT_EVERY = timedelta(hours=1)
GLITCH_VALUES = (85.0, -127.0)


@dataclass(frozen=True)
class Device:
    device_id: str
    site: str
    base_temperature: float  # °C, the site's daily mean
    swing: float  # °C, half the day-night difference
    base_humidity: float  # %
    firmware: str = "1.4.2"


FLEET = (
    Device("gh-a-01", "greenhouse-a", 22.0, 4.0, 68.0),
    Device("gh-a-02", "greenhouse-a", 22.5, 4.5, 66.0),
    Device("gh-b-01", "greenhouse-b", 19.0, 3.0, 74.0),
    Device("gh-b-02", "greenhouse-b", 19.5, 3.5, 72.0, firmware="1.2.0"),
    Device("cold-01", "cold-store", 3.5, 0.6, 88.0),
    Device("cold-02", "cold-store", 4.0, 0.8, 86.0),
)


def recorded_days(first: str = "2026-11-02", days: int = 2) -> tuple[datetime, datetime]:
    """The recording's start and end (UTC midnights)."""
    start = datetime.fromisoformat(first).replace(tzinfo=timezone.utc)
    return start, start + timedelta(days=days)


def messages(
    start: datetime, end: datetime, *, root: str = "sensors", fleet=FLEET, seed: int = 5
) -> list[tuple[str, dict]]:
    """(topic, payload) for every message the fleet sent in [start, end), oldest first, on
    topics `{root}/{device}/telemetry`."""
    rng = random.Random(seed)
    out = []
    battery = {d.device_id: 100.0 - 6 * i for i, d in enumerate(fleet)}
    t = start
    while t < end:
        for device in fleet:
            topic = f"{root}/{device.device_id}/telemetry"
            ts = int(t.timestamp() * 1000)
            if (t - start) % HEARTBEAT_EVERY == timedelta(0):
                uptime = int((t - start).total_seconds()) + 3600 * (1 + fleet.index(device))
                out.append((topic, {"kind": "heartbeat", "ts": ts, "uptime_s": uptime}))
            battery[device.device_id] = max(0.0, battery[device.device_id] - rng.uniform(0, 0.03))
            out.append((topic, _reading(device, t, ts, battery[device.device_id], rng)))
        t += READING_EVERY
    return out


def _reading(device: Device, t: datetime, ts: int, battery: float, rng: random.Random) -> dict:
    hour = t.hour + t.minute / 60
    # warmest mid-afternoon, coolest before dawn
    daily = math.sin((hour - 9) / 24 * 2 * math.pi)
    temperature = device.base_temperature + device.swing * daily + rng.gauss(0, 0.3)
    humidity = device.base_humidity - 2.5 * daily + rng.gauss(0, 1.0)
    reading = {
        "kind": "reading",
        "ts": ts,
        "site": device.site,
        "temperature": round(temperature, 2),
        "humidity": round(min(humidity, 100.0), 1),
        "battery": round(battery, 1),
        "firmware": device.firmware,
    }
    roll = rng.random()
    if roll < 0.01:
        reading["temperature"] = rng.choice(GLITCH_VALUES)
    elif device.firmware == "1.2.0" and roll < 0.05:
        reading["temperature"] = f"{reading['temperature']}C"
        if rng.random() < 0.5:
            del reading["humidity"]
    return reading
