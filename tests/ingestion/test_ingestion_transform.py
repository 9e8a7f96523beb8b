"""The transform (functions/transform/app.py), called in-process with Firehose's events.

Contract: Firehose's data-transformation status model. The function must return every
`recordId` it received, exactly once, each with `result` exactly `Ok`, `Dropped` or
`ProcessingFailed` (only Ok and Dropped count as "successfully processed") and `data`, "the
transformed data payload, after base64-encoding"; with dynamic partitioning,
`metadata.partitionKeys`.
The chapter's rules (the transform's docstring, the notebook's section 3): an Ok record's data is
one JSON object and a newline with the Glue table `telemetry`'s columns (device_id, site,
event_time and received_at as `yyyy-MM-dd HH:mm:ss.SSS` in UTC, temperature, humidity, battery
as doubles, firmware), its partition key `dt` the reading's UTC day; Dropped: the probe's glitch
values 85.0 and -127.0 °C, a temperature outside -40..60 °C, humidity or battery outside
0..100 %; ProcessingFailed: a malformed reading (not JSON, not an object, a field missing or of
the wrong type, an empty name). One summary line a batch for the pipeline's accounting.
https://docs.aws.amazon.com/firehose/latest/dev/data-transformation-status-model.html
https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning.html
https://docs.aws.amazon.com/athena/latest/ug/data-types.html (timestamp literal format)
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections import Counter

import pytest

from tests.ingestion.support import (
    COLUMNS,
    REQUIRED,
    expected_row,
    firehose_event,
    hive_timestamp,
    utc_day,
    utc_ms,
    verdict,
)

RESULTS = {"Ok", "Dropped", "ProcessingFailed"}
HIVE_TS = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}")

# a reading as the chapter's IoT rule passes it on: the device's message, its device id
# (topic(2)) and when IoT Core received it (timestamp())
READING = {
    "kind": "reading",
    "ts": utc_ms(2026, 11, 2, 6, 15),
    "site": "greenhouse-a",
    "temperature": 21.5,
    "humidity": 64.0,
    "battery": 97.0,
    "firmware": "1.4.2",
    "device_id": "gh-a-01",
    "received_at": utc_ms(2026, 11, 2, 6, 15, 0, 420),
}


def _without(name):
    return {k: v for k, v in READING.items() if k != name}


DROPPED = {
    "reset glitch 85.0": {**READING, "temperature": 85.0},
    "disconnected -127.0": {**READING, "temperature": -127.0},
    "below -40 °C": {**READING, "temperature": -40.01},
    "above 60 °C": {**READING, "temperature": 60.01},
    "humidity below 0": {**READING, "humidity": -0.1},
    "humidity above 100": {**READING, "humidity": 100.1},
    "battery below 0": {**READING, "battery": -1.0},
    "battery above 100": {**READING, "battery": 100.5},
}
FAILED = {
    "not JSON": b'{"kind": "reading", "ts": ',
    "not UTF-8": b"\xff\xfe\x00garbage",
    "empty": b"",
    "a JSON array": json.dumps([READING]).encode(),
    "a JSON string": json.dumps("21.4").encode(),
    "a JSON number": b"21.4",
    "JSON null": b"null",
    **{f"no {name}": json.dumps(_without(name)).encode() for name in REQUIRED},
    "temperature as text with its unit": json.dumps({**READING, "temperature": "21.4C"}).encode(),
    "temperature as text": json.dumps({**READING, "temperature": "21.4"}).encode(),
    "humidity null": json.dumps({**READING, "humidity": None}).encode(),
    "ts as text": json.dumps({**READING, "ts": str(READING["ts"])}).encode(),
    "temperature true": json.dumps({**READING, "temperature": True}).encode(),
    "humidity false": json.dumps({**READING, "humidity": False}).encode(),
    "battery true": json.dumps({**READING, "battery": True}).encode(),
    "ts true": json.dumps({**READING, "ts": True}).encode(),
    "received_at false": json.dumps({**READING, "received_at": False}).encode(),
    "empty device id": json.dumps({**READING, "device_id": ""}).encode(),
    "empty site": json.dumps({**READING, "site": ""}).encode(),
    "device id a number": json.dumps({**READING, "device_id": 42}).encode(),
}


def _call(transform_app, datas):
    event = firehose_event(datas)
    answer = transform_app.handler(event, None)
    return event, answer


def _answer_by_id(answer):
    return {r["recordId"]: r for r in answer["records"]}


def _row(record):
    return json.loads(base64.b64decode(record["data"], validate=True))


def test_every_record_id_comes_back_once_with_a_known_result_and_base64_data(transform_app):
    """GIVEN a batch of good, glitched and malformed records WHEN transformed THEN the answer
    holds each recordId exactly once, no other, each with result Ok, Dropped or
    ProcessingFailed (spelled so) and base64 data."""
    datas = [json.dumps(READING).encode()]
    datas += [json.dumps(m).encode() for m in DROPPED.values()]
    datas += list(FAILED.values())
    event, answer = _call(transform_app, datas)
    ids = [r["recordId"] for r in answer["records"]]
    assert sorted(ids) == sorted(r["recordId"] for r in event["records"])
    assert len(ids) == len(set(ids)) == len(datas)
    for record in answer["records"]:
        assert record["result"] in RESULTS, record
        assert isinstance(record["data"], str)
        base64.b64decode(record["data"], validate=True)  # raises binascii.Error if not base64


def test_an_empty_batch_gives_an_empty_answer(transform_app):
    assert transform_app.handler(firehose_event([]), None) == {"records": []}


def test_a_valid_reading_becomes_one_json_row_and_a_newline_with_the_tables_columns(
    transform_app,
):
    """GIVEN a valid reading WHEN transformed THEN it is Ok and its data is exactly one JSON
    object followed by a newline, with the Glue table's columns and nothing else, timestamps as
    Hive's UTC text with milliseconds, numbers as numbers."""
    _, answer = _call(transform_app, [json.dumps(READING).encode()])
    [record] = answer["records"]
    assert record["result"] == "Ok"
    text = base64.b64decode(record["data"], validate=True).decode()
    assert text.endswith("\n") and text.count("\n") == 1
    row = json.loads(text)
    assert isinstance(row, dict)
    assert set(row) == {name for name, _ in COLUMNS}
    assert row == expected_row(READING)
    assert row["event_time"] == "2026-11-02 06:15:00.000"
    assert row["received_at"] == "2026-11-02 06:15:00.420"
    for name, kind in COLUMNS:
        value = row[name]
        if kind == "string":
            assert isinstance(value, str), name
        elif kind == "timestamp":
            assert HIVE_TS.fullmatch(value), (name, value)
        else:
            assert isinstance(value, (int, float)) and not isinstance(value, bool), name


@pytest.mark.parametrize(
    "when, day",
    [
        ((2026, 11, 2, 23, 59, 59, 999), "2026-11-02"),
        ((2026, 11, 3, 0, 0, 0, 0), "2026-11-03"),
        ((2026, 12, 31, 23, 59, 59, 999), "2026-12-31"),
        ((2027, 1, 1, 0, 0, 0, 0), "2027-01-01"),
    ],
)
def test_the_partition_key_dt_is_the_readings_utc_day(transform_app, when, day):
    """GIVEN a reading taken at the last millisecond of a UTC day or the first of the next, and
    received by IoT Core in another day WHEN transformed THEN metadata.partitionKeys.dt is the
    day the reading was taken (UTC), and event_time keeps the millisecond."""
    ts = utc_ms(*when)
    received = ts + (1500 if when[3] == 23 else -1500)  # across midnight the other way
    message = {**READING, "ts": ts, "received_at": received}
    _, answer = _call(transform_app, [json.dumps(message).encode()])
    [record] = answer["records"]
    assert record["result"] == "Ok"
    assert record["metadata"] == {"partitionKeys": {"dt": day}}
    assert utc_day(ts) == day
    row = _row(record)
    assert row["event_time"] == hive_timestamp(ts)
    assert row["received_at"] == hive_timestamp(received)
    assert row["event_time"][:10] == day != row["received_at"][:10]


def test_a_reading_without_received_at_still_becomes_a_row(transform_app):
    """GIVEN a reading sent straight to the stream (no IoT rule, so no received_at) WHEN
    transformed THEN it is Ok and received_at is a timestamp of the same format."""
    _, answer = _call(transform_app, [json.dumps(_without("received_at")).encode()])
    [record] = answer["records"]
    assert record["result"] == "Ok"
    assert HIVE_TS.fullmatch(_row(record)["received_at"])


def test_a_null_firmware_stays_null_not_the_text_none(transform_app):
    """GIVEN a valid reading whose firmware is JSON null (firmware is not a required field)
    WHEN transformed THEN the row's firmware is null, which the string column reads as NULL, not
    the text "None".

    KNOWN BUG (functions/transform/app.py, minor): `shape` stores `str(reading.get("firmware",
    ""))`, so a null becomes Python's "None" in the data."""
    _, answer = _call(transform_app, [json.dumps({**READING, "firmware": None}).encode()])
    [record] = answer["records"]
    assert record["result"] == "Ok"
    assert _row(record)["firmware"] in (None, "")


@pytest.mark.parametrize(
    "field, value",
    [
        ("temperature", -40.0),
        ("temperature", 60.0),
        ("humidity", 0),
        ("humidity", 100),
        ("battery", 0.0),
        ("battery", 100.0),
    ],
)
def test_values_at_the_edges_of_their_ranges_are_kept(transform_app, field, value):
    """GIVEN a value at an end of its range (ints included) WHEN transformed THEN it is Ok and
    stored as a double."""
    _, answer = _call(transform_app, [json.dumps({**READING, field: value}).encode()])
    [record] = answer["records"]
    assert record["result"] == "Ok"
    stored = _row(record)[field]
    assert stored == value and isinstance(stored, float)


@pytest.mark.parametrize("case", DROPPED)
def test_glitches_and_out_of_range_values_are_dropped(transform_app, case):
    """GIVEN a well-formed reading with a glitch or a value out of its range WHEN transformed
    THEN its result is Dropped (Firehose counts it and stores it nowhere)."""
    message = DROPPED[case]
    assert verdict(json.dumps(message).encode()) == "Dropped"
    _, answer = _call(transform_app, [json.dumps(message).encode()])
    [record] = answer["records"]
    assert record["result"] == "Dropped"
    assert "metadata" not in record


@pytest.mark.parametrize("case", FAILED)
def test_malformed_readings_fail_processing_and_keep_their_original_data(transform_app, case):
    """GIVEN a malformed record WHEN transformed THEN its result is ProcessingFailed and its data
    is still base64 (Firehose writes the original record to the error prefix)."""
    raw = FAILED[case]
    assert verdict(raw) == "ProcessingFailed"
    _, answer = _call(transform_app, [raw])
    [record] = answer["records"]
    assert record["result"] == "ProcessingFailed"
    try:
        base64.b64decode(record["data"], validate=True)
    except binascii.Error:
        pytest.fail(f"ProcessingFailed record's data is not base64: {record['data']!r}")


@pytest.mark.parametrize(
    "case, ts",
    [
        ("ts in microseconds (firmware bug)", READING["ts"] * 1000),
        ("ts in nanoseconds", READING["ts"] * 1_000_000),
        ("ts 1e300", 1e300),
    ],
)
def test_a_ts_that_is_no_representable_time_fails_that_record_not_the_batch(
    transform_app, case, ts
):
    """GIVEN a batch with a good reading and a reading whose ts is a number but no time a
    timestamp column can hold (a device sending microseconds) WHEN transformed THEN the
    function still answers for every record (a record it cannot shape is ProcessingFailed):
    one raised exception would fail the whole batch, good readings included, with
    Lambda.FunctionError after Firehose's retries.

    KNOWN BUG (functions/transform/app.py): `_timestamp` calls datetime.fromtimestamp on any
    number and the ValueError / OverflowError it raises is not a `Malformed`, so it escapes
    `handler`."""
    datas = [json.dumps(READING).encode(), json.dumps({**READING, "ts": ts}).encode()]
    try:
        _, answer = _call(transform_app, datas)
    except (ValueError, OverflowError, OSError) as exc:
        pytest.fail(f"the handler raised {exc!r} for {case}: the whole batch would fail")
    by_id = _answer_by_id(answer)
    assert by_id["r0"]["result"] == "Ok"
    assert by_id["r1"]["result"] == "ProcessingFailed"


def test_a_mixed_batch_gets_each_verdict_and_logs_one_summary_line(transform_app, capsys):
    """GIVEN a batch mixing every case WHEN transformed THEN each record gets the verdict the
    rules give it, and the function prints one JSON line naming the delivery stream with the
    counts of Ok, Dropped and ProcessingFailed (which add up to the batch)."""
    datas = [json.dumps({**READING, "ts": READING["ts"] + i * 900_000}).encode() for i in range(5)]
    datas += [json.dumps(m).encode() for m in DROPPED.values()]
    datas += list(FAILED.values())
    capsys.readouterr()
    event, answer = _call(transform_app, datas)
    printed = capsys.readouterr().out.splitlines()
    by_id = _answer_by_id(answer)
    expected = Counter()
    for record, raw in zip(event["records"], datas, strict=True):
        want = verdict(raw)
        expected[want] += 1
        assert by_id[record["recordId"]]["result"] == want, raw
    summaries = [
        json.loads(line)
        for line in printed
        if line.startswith("{") and "deliveryStreamArn" in json.loads(line)
    ]
    assert summaries == [
        {
            "deliveryStreamArn": event["deliveryStreamArn"],
            "Ok": 5,
            "Dropped": len(DROPPED),
            "ProcessingFailed": len(FAILED),
        }
    ]
    assert expected == {"Ok": 5, "Dropped": len(DROPPED), "ProcessingFailed": len(FAILED)}


def test_the_ok_rows_are_exactly_the_valid_readings(transform_app):
    """GIVEN the fleet's day of readings as the rule passes them on WHEN transformed THEN the Ok
    rows are the expected rows of exactly the readings the rules keep."""
    messages = [
        {**READING, "ts": READING["ts"] + i * 60_000, "temperature": 20 + i / 10, "battery": 90.0}
        for i in range(50)
    ]
    datas = [json.dumps(m).encode() for m in messages] + [
        json.dumps(DROPPED["reset glitch 85.0"]).encode()
    ]
    _, answer = _call(transform_app, datas)
    rows = [_row(r) for r in answer["records"] if r["result"] == "Ok"]
    assert rows == [expected_row(m) for m in messages]


def test_a_big_batch_answers_every_record(transform_app):
    """GIVEN 2,000 records (Firehose's 1 MB transform buffer holds thousands) WHEN transformed
    THEN 2,000 distinct record ids come back."""
    datas = [json.dumps(READING).encode()] * 2000
    _, answer = _call(transform_app, datas)
    assert len({r["recordId"] for r in answer["records"]}) == 2000
