"""Firehose data transformation: validate each reading, drop sensor glitches, shape the row.

Firehose calls this function with a batch of records (the IoT rule's output, read from Kinesis)
and expects every `recordId` back exactly once with a `result` from its status model
(https://docs.aws.amazon.com/firehose/latest/dev/data-transformation-status-model.html):

- `Ok`: the reading is valid; `data` is the row to store (one JSON object and a newline), and
  `metadata.partitionKeys.dt` is the reading's own day, for delivery streams that partition by
  event time (dynamic partitioning with `!{partitionKeyFromLambda:dt}`);
- `Dropped`: a valid message that should not be stored: a temperature outside what the probe
  can measure (its reset and disconnect values, 85.0 and -127.0 °C, are the usual culprits),
  humidity or battery outside 0-100 %. Firehose treats it as processed and publishes no count
  of it: this function logs its own verdicts, one line per batch;
- `ProcessingFailed`: a malformed reading (not JSON, a field missing or of the wrong type, a
  time that is not epoch milliseconds). Firehose writes the original record to the error
  prefix, so nothing is lost: fix and replay.

`Ok` is spelled exactly so: the status model names three values, and anything else breaks it.
"""

import base64
import json
from collections import Counter
from datetime import datetime, timezone

FIELDS = ("device_id", "site", "ts", "temperature", "humidity", "battery")
# the DS18B20 probe measures -55..125 °C; the sites never leave -40..60 °C
RANGES = {"temperature": (-40.0, 60.0), "humidity": (0.0, 100.0), "battery": (0.0, 100.0)}
GLITCHES = {85.0, -127.0}
# epoch milliseconds a reading may carry: 2000-01-01 to 2100-01-01 UTC (a device sending seconds
# or microseconds by mistake falls outside)
EPOCH_MS = (946_684_800_000, 4_102_444_800_000)


class Malformed(ValueError):
    """The message cannot be read as a reading."""


def handler(event, context):
    records = [transform(record) for record in event["records"]]
    # one line per batch, for the pipeline's accounting (CloudWatch Logs)
    results = Counter(record["result"] for record in records)
    summary = {kind: results[kind] for kind in ("Ok", "Dropped", "ProcessingFailed")}
    print(json.dumps({"deliveryStreamArn": event.get("deliveryStreamArn"), **summary}))
    return {"records": records}


def transform(record):
    answer = {"recordId": record["recordId"], "data": record["data"]}
    try:
        reading = parse(base64.b64decode(record["data"]))
    except Malformed as exc:
        print(json.dumps({"recordId": record["recordId"], "failed": str(exc)}))
        return {**answer, "result": "ProcessingFailed"}
    if out_of_range(reading):
        return {**answer, "result": "Dropped"}
    row = shape(reading)
    return {
        **answer,
        "result": "Ok",
        "data": base64.b64encode((json.dumps(row) + "\n").encode()).decode(),
        "metadata": {"partitionKeys": {"dt": row["event_time"][:10]}},
    }


def parse(raw):
    try:
        reading = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Malformed(f"not JSON: {exc}") from None
    if not isinstance(reading, dict):
        raise Malformed("not a JSON object")
    missing = [name for name in FIELDS if name not in reading]
    if missing:
        raise Malformed(f"missing {', '.join(missing)}")
    for name in ("ts", *RANGES, *(["received_at"] if "received_at" in reading else [])):
        value = reading[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise Malformed(f"{name} is {value!r}, not a number")
    for name in ("ts", *(["received_at"] if "received_at" in reading else [])):
        if not EPOCH_MS[0] <= reading[name] < EPOCH_MS[1]:
            raise Malformed(f"{name} is {reading[name]!r}, not epoch milliseconds of this century")
    for name in ("device_id", "site"):
        if not isinstance(reading[name], str) or not reading[name]:
            raise Malformed(f"{name} is {reading[name]!r}, not a name")
    return reading


def out_of_range(reading):
    if reading["temperature"] in GLITCHES:
        return True
    return any(not low <= reading[name] <= high for name, (low, high) in RANGES.items())


def shape(reading):
    """The stored row: names and types of the Glue table `telemetry`."""
    return {
        "device_id": reading["device_id"],
        "site": reading["site"],
        "event_time": _timestamp(reading["ts"]),
        "temperature": float(reading["temperature"]),
        "humidity": float(reading["humidity"]),
        "battery": float(reading["battery"]),
        "firmware": None if reading.get("firmware") is None else str(reading["firmware"]),
        "received_at": _timestamp(reading.get("received_at", reading["ts"])),
    }


def _timestamp(epoch_ms):
    """Hive's timestamp text, which Athena's JSON SerDes and Firehose's conversion read."""
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"
