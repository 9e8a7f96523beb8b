"""The transform deployed behind Firehose, offline: Kinesis → two delivery streams → S3.

Contract (Firehose developer guide): records the function returns Ok are delivered, Dropped ones
are counted and stored nowhere, ProcessingFailed ones go to the S3 error output prefix as error
records, one JSON object a line, with `errorCode` `Lambda.ProcessingFailedStatus` and `rawData`, the
original record base64-encoded ("data-transformation-failure-handling"); with dynamic
partitioning `!{partitionKeyFromLambda:dt}` in the Prefix is the key the function returned,
and `!{firehose:error-output-type}` in the ErrorOutputPrefix is `processing-failed`; with
record format conversion the objects are Parquet with the Glue table's columns and types.
The streams are the notebook's `json` and `parquet` ones.
https://docs.aws.amazon.com/firehose/latest/dev/data-transformation-status-model.html
https://docs.aws.amazon.com/firehose/latest/dev/data-transformation-failure-handling.html
https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning-partitioning-keys.html
https://docs.aws.amazon.com/firehose/latest/dev/s3-prefixes.html
https://docs.aws.amazon.com/firehose/latest/dev/record-format-conversion.html
"""

from __future__ import annotations

import base64
import json
import re
from collections import Counter

import pytest

from helpers.emulator import firehose as firehose_emulator
from tests.emulator.conftest import log_messages
from tests.ingestion.support import (
    COLUMNS,
    DUCKDB_TYPES,
    FIREHOSE_ACTIONS,
    as_parquet_row,
    delivery_destination,
    expected_row,
    objects,
    read_parquet,
    rows_key,
    service_role,
    telemetry_table,
    utc_day,
    utc_ms,
    verdict,
)


def _reading(device, ts, **changes):
    return {
        "kind": "reading",
        "ts": ts,
        "site": "greenhouse-a",
        "temperature": 21.5,
        "humidity": 64.0,
        "battery": 97.0,
        "firmware": "1.4.2",
        "device_id": device,
        "received_at": ts + 350,
        **changes,
    }


LATE = utc_ms(2026, 11, 2, 23, 59, 59, 999)
MIDNIGHT = utc_ms(2026, 11, 3)
OK = [
    _reading("ok-late", LATE, received_at=LATE + 2),  # received the next day
    _reading("ok-midnight", MIDNIGHT),
    _reading("ok-cold", utc_ms(2026, 11, 3, 4, 30), temperature=-40.0, humidity=0, battery=100),
    _reading("ok-hot", utc_ms(2026, 11, 2, 14, 45, 0, 7), temperature=60.0, battery=0.0),
    _reading("ok-plain", utc_ms(2026, 11, 2, 9), site="cold-store", temperature=3.4),
]
DROPPED = [
    _reading("drop-reset", LATE, temperature=85.0),
    _reading("drop-wire", MIDNIGHT, temperature=-127.0),
    _reading("drop-cold", MIDNIGHT, temperature=-41.0),
    _reading("drop-hot", MIDNIGHT, temperature=61.5),
    _reading("drop-wet", MIDNIGHT, humidity=100.5),
    _reading("drop-dry", MIDNIGHT, humidity=-1.0),
    _reading("drop-overcharged", MIDNIGHT, battery=100.1),
    _reading("drop-flat", MIDNIGHT, battery=-0.5),
]
FAILED = [
    b'{"kind": "reading", "ts": 17936',  # cut short
    b"[1, 2, 3]",
    json.dumps(_reading("fail-text", MIDNIGHT, temperature="21.4C")).encode(),
    json.dumps(
        {k: v for k, v in _reading("fail-nohum", MIDNIGHT).items() if k != "humidity"}
    ).encode(),
    json.dumps(_reading("fail-bool", MIDNIGHT, battery=True)).encode(),
    json.dumps(_reading("", MIDNIGHT)).encode(),
]
RECORDS = [json.dumps(m).encode() for m in OK] + [json.dumps(m).encode() for m in DROPPED] + FAILED


@pytest.fixture(scope="module")
def delivered(lab, deploy_app):
    """The notebook's `json` and `parquet` delivery streams fed the records above through a
    Kinesis stream, settled: what landed in S3, the streams' accounting and the function's logs."""
    s3, kinesis, firehose = (lab.client(s) for s in ("s3", "kinesis", "firehose"))
    bucket = lab.name("ingestion")
    s3.create_bucket(Bucket=bucket)
    database = lab.name("telemetry").replace("-", "_")
    glue = lab.client("glue")
    glue.create_database(DatabaseInput={"Name": database})
    glue.create_table(DatabaseName=database, TableInput=telemetry_table(bucket))
    transform = deploy_app("transform", Timeout=60, MemorySize=256)
    transform_arn = lab.client("lambda").get_function(FunctionName=transform)["Configuration"][
        "FunctionArn"
    ]
    stream = lab.name("telemetry")
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName=stream)
    stream_arn = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"][
        "StreamARN"
    ]
    role = service_role(
        lab,
        "firehose",
        "firehose.amazonaws.com",
        FIREHOSE_ACTIONS,
        "*",
    )

    def delivery_stream(kind, prefix, parquet=False):
        name = lab.name(kind)
        firehose.create_delivery_stream(
            DeliveryStreamName=name,
            DeliveryStreamType="KinesisStreamAsSource",
            KinesisStreamSourceConfiguration={"KinesisStreamARN": stream_arn, "RoleARN": role},
            ExtendedS3DestinationConfiguration=delivery_destination(
                kind,
                prefix,
                role=role,
                bucket=bucket,
                transform_arn=transform_arn,
                database=database,
                region=lab.region,
                parquet=parquet,
            ),
        )
        return name

    streams = {
        "json": delivery_stream("json", "raw/json/!{timestamp:yyyy/MM/dd}/"),
        "parquet": delivery_stream(
            "parquet", "telemetry/dt=!{partitionKeyFromLambda:dt}/", parquet=True
        ),
    }
    answer = kinesis.put_records(
        StreamName=stream,
        Records=[{"Data": data, "PartitionKey": f"device-{i}"} for i, data in enumerate(RECORDS)],
    )
    assert answer["FailedRecordCount"] == 0
    lab.settle()
    arns = {
        kind: firehose.describe_delivery_stream(DeliveryStreamName=name)[
            "DeliveryStreamDescription"
        ]["DeliveryStreamARN"]
        for kind, name in streams.items()
    }
    return {
        "bucket": bucket,
        "streams": streams,
        "arns": arns,
        "transform": transform,
        "transform_arn": transform_arn,
        "objects": objects(s3, bucket),
        "metrics": {kind: firehose_emulator.metrics(name) for kind, name in streams.items()},
        "logs": log_messages(lab, transform),
        "database": database,
        "role": role,
    }


def _under(delivered, prefix):
    return {k: v for k, v in delivered["objects"].items() if k.startswith(prefix)}


def _lines(bodies):
    return [line for body in bodies for line in body.decode().splitlines()]


def _error_records(delivered, kind):
    return [json.loads(line) for line in _lines(_under(delivered, f"errors/{kind}/").values())]


def test_the_records_are_what_the_rules_say():
    """(The test's own premise: the records sent are 5 Ok, 8 Dropped, 6 ProcessingFailed.)"""
    assert Counter(verdict(r) for r in RECORDS) == {
        "Ok": len(OK),
        "Dropped": len(DROPPED),
        "ProcessingFailed": len(FAILED),
    }


def test_the_json_objects_hold_exactly_the_ok_rows(delivered):
    """GIVEN the records through the `json` stream WHEN delivered THEN its objects, under
    raw/json/<yyyy/MM/dd>/, hold one line per Ok record, each its expected row, and nothing
    else."""
    bodies = _under(delivered, "raw/json/")
    assert bodies
    for key, body in bodies.items():
        assert re.fullmatch(r"raw/json/\d{4}/\d{2}/\d{2}/[^/]+", key), key
        assert body.endswith(b"\n")
    rows = [json.loads(line) for line in _lines(bodies.values())]
    assert sorted(rows, key=rows_key) == sorted((expected_row(m) for m in OK), key=rows_key)


@pytest.mark.parametrize("kind", ["json", "parquet"])
def test_failed_records_are_in_the_error_prefix_as_firehose_error_records(delivered, kind):
    """GIVEN the records WHEN delivered THEN each ProcessingFailed record is one line under
    errors/<stream>/processing-failed/<yyyy/MM/dd>/, with errorCode Lambda.ProcessingFailedStatus and
    rawData the original record's bytes, base64, and lambdaARN the function; no other error
    output exists."""
    found = _under(delivered, f"errors/{kind}/")
    assert found
    for key in found:
        assert re.fullmatch(rf"errors/{kind}/processing-failed/\d{{4}}/\d{{2}}/\d{{2}}/[^/]+", key)
    records = _error_records(delivered, kind)
    assert {r["errorCode"] for r in records} == {"Lambda.ProcessingFailedStatus"}
    raws = [base64.b64decode(r["rawData"], validate=True) for r in records]
    assert sorted(raws) == sorted(FAILED)
    for record in records:
        assert record["lambdaARN"] == delivered["transform_arn"]
        assert isinstance(record["errorMessage"], str)
        assert isinstance(record["attemptsMade"], int) and record["attemptsMade"] >= 1
        assert isinstance(record["arrivalTimestamp"], int)


def test_dropped_records_are_stored_nowhere(delivered):
    """GIVEN the Dropped records WHEN delivered THEN no object (rows, Parquet or error records'
    rawData) holds any of them."""
    seen = []
    for key, body in delivered["objects"].items():
        if key.endswith(".parquet"):
            _, rows = read_parquet(body)
            seen += [row[0] for row in rows]
        elif key.startswith("errors/"):
            for line in body.decode().splitlines():
                seen.append(base64.b64decode(json.loads(line)["rawData"]).decode("latin-1"))
        else:
            seen.append(body.decode())
    dropped_ids = [m["device_id"] for m in DROPPED]
    assert not [d for d in dropped_ids for text in seen if d in text]
    assert any("ok-late" in text for text in seen)  # the search does find what is there


def test_parquet_objects_are_partitioned_by_the_readings_utc_day(delivered):
    """GIVEN dynamic partitioning by !{partitionKeyFromLambda:dt} WHEN delivered THEN the Parquet
    objects are under telemetry/dt=<day>/ for exactly the days of the Ok readings (the 23:59:59.999
    reading under its own day, the 00:00:00 one under the next), named .parquet."""
    keys = list(_under(delivered, "telemetry/"))
    assert keys
    for key in keys:
        assert re.fullmatch(r"telemetry/dt=\d{4}-\d{2}-\d{2}/[^/]+\.parquet", key), key
    assert {k.split("/")[1] for k in keys} == {f"dt={utc_day(m['ts'])}" for m in OK}
    assert {k.split("/")[1] for k in keys} == {"dt=2026-11-02", "dt=2026-11-03"}


def test_parquet_reads_back_to_the_ok_rows_with_the_glue_types(delivered):
    """GIVEN the Parquet objects WHEN read with DuckDB THEN their columns are the Glue table's,
    in order, with its types (string → VARCHAR, timestamp → TIMESTAMP, double → DOUBLE), and
    each dt=<day>/ holds exactly the Ok rows of that day, milliseconds kept."""
    expected_columns = [(name, DUCKDB_TYPES[kind]) for name, kind in COLUMNS]
    by_day: dict[str, list] = {}
    for key, body in _under(delivered, "telemetry/").items():
        columns, rows = read_parquet(body)
        assert columns == expected_columns, key
        by_day.setdefault(key.split("/")[1].removeprefix("dt="), []).extend(rows)
    want: dict[str, list] = {}
    for m in OK:
        want.setdefault(utc_day(m["ts"]), []).append(as_parquet_row(expected_row(m)))
    assert {d: sorted(r, key=rows_key) for d, r in by_day.items()} == {
        d: sorted(r, key=rows_key) for d, r in want.items()
    }
    late = next(r for r in by_day["2026-11-02"] if r[0] == "ok-late")
    assert late[2].isoformat(timespec="milliseconds") == "2026-11-02T23:59:59.999"


@pytest.mark.parametrize("kind", ["json", "parquet"])
def test_each_stream_accounts_for_every_record(delivered, kind):
    """GIVEN the records WHEN delivered THEN the stream's accounting (the emulator's stand-in for
    its CloudWatch metrics) says: records in = delivered + dropped + failed, with the verdicts'
    counts, nothing buffered; and the rows and error lines in S3 agree."""
    metrics = delivered["metrics"][kind]
    assert metrics["records_in"] == len(RECORDS)
    assert (metrics["delivered"], metrics["dropped"], metrics["failed"]) == (
        len(OK),
        len(DROPPED),
        len(FAILED),
    )
    assert metrics["buffered"] == 0
    assert len(_error_records(delivered, kind)) == metrics["failed"]
    if kind == "json":
        rows = len(_lines(_under(delivered, "raw/json/").values()))
    else:
        rows = sum(len(read_parquet(b)[1]) for b in _under(delivered, "telemetry/").values())
    assert rows == metrics["delivered"]


def test_the_functions_summary_lines_count_each_streams_verdicts(delivered):
    """GIVEN the function's CloudWatch Logs WHEN its batch summaries are added up per delivery
    stream THEN each stream's Ok, Dropped and ProcessingFailed are the verdicts' counts."""
    totals: dict[str, Counter] = {}
    for message in delivered["logs"]:
        if not message.startswith("{"):
            continue
        line = json.loads(message)
        if "deliveryStreamArn" in line:
            arn = line.pop("deliveryStreamArn")
            totals[arn] = totals.get(arn, Counter()) + Counter(line)
    want = {"Ok": len(OK), "Dropped": len(DROPPED), "ProcessingFailed": len(FAILED)}
    assert totals == {arn: Counter(want) for arn in delivered["arns"].values()}


def test_a_reading_with_an_impossible_ts_does_not_take_the_batch_down(lab, delivered):
    """GIVEN a Direct PUT stream with the transform, and one batch of a good reading and a
    reading whose ts is in microseconds (a firmware bug) WHEN delivered THEN the good reading
    is delivered and only the bad one is in the error prefix, as Lambda.ProcessingFailedStatus.

    KNOWN BUG (functions/transform/app.py): the function raises on that ts, so Firehose retries
    the batch and then fails every record of it with Lambda.FunctionError: the good reading is
    lost from the data (it sits in the error prefix)."""
    firehose, s3 = lab.client("firehose"), lab.client("s3")
    name = lab.name("direct")
    firehose.create_delivery_stream(
        DeliveryStreamName=name,
        DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": delivered["role"],
            "BucketARN": f"arn:aws:s3:::{delivered['bucket']}",
            "Prefix": "direct/",
            "ErrorOutputPrefix": "direct-errors/",
            "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 60},
            "ProcessingConfiguration": delivery_destination(
                "direct",
                "direct/",
                role=delivered["role"],
                bucket=delivered["bucket"],
                transform_arn=delivered["transform_arn"],
                database=delivered["database"],
                region=lab.region,
            )["ProcessingConfiguration"],
        },
    )
    good = _reading("good-neighbour", MIDNIGHT)
    bad = _reading("micro-ts", MIDNIGHT * 1000)
    firehose.put_record_batch(
        DeliveryStreamName=name,
        Records=[{"Data": json.dumps(good).encode()}, {"Data": json.dumps(bad).encode()}],
    )
    lab.settle()
    rows = [
        json.loads(line) for line in _lines(objects(s3, delivered["bucket"], "direct/").values())
    ]
    errors = [
        json.loads(line)
        for line in _lines(objects(s3, delivered["bucket"], "direct-errors/").values())
    ]
    codes = Counter(e["errorCode"] for e in errors)
    assert [r["device_id"] for r in rows] == ["good-neighbour"], f"error records: {codes}"
    assert [json.loads(base64.b64decode(e["rawData"]))["device_id"] for e in errors] == ["micro-ts"]
    assert codes == {"Lambda.ProcessingFailedStatus": 1}
