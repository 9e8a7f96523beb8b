"""The whole chapter 5 pipeline, small: IoT rule → Kinesis → three Firehose streams (transform,
GZIP, Parquet with dynamic partitioning) → S3 → SQS → report function → Athena → S3.

Contract: nothing is lost, every message is accounted for by sources that exist on AWS too.
The rules engine runs the rule's WHERE on every message its FROM topic filter matches and the
actions on the rest (its CloudWatch metrics: TopicMatch, Success, Failure); `topic(2)` is the
topic's second level and `timestamp()` the time IoT Core received the message; the Kinesis
action puts the SELECT's output as one record. A Kinesis-sourced delivery stream reads every
record of the stream, and each one is delivered (Ok), dropped (Dropped: counted, stored
nowhere) or written to the error prefix (ProcessingFailed): records in = delivered + dropped +
failed, from the S3 objects, from the function's summary lines in CloudWatch Logs, and from the
stream's own accounting (the emulator's stand-in for its CloudWatch metrics). Each day's
report counts every reading stored for that day.
https://docs.aws.amazon.com/iot/latest/developerguide/iot-sql-functions.html (topic, timestamp)
https://docs.aws.amazon.com/iot/latest/developerguide/kinesis-rule-action.html
https://docs.aws.amazon.com/iot/latest/developerguide/metrics_dimensions.html
https://docs.aws.amazon.com/firehose/latest/dev/writing-with-kinesis-streams.html
https://docs.aws.amazon.com/firehose/latest/dev/data-transformation-status-model.html
https://docs.aws.amazon.com/firehose/latest/dev/monitoring-with-cloudwatch-metrics.html
"""

from __future__ import annotations

import base64
import csv
import gzip
import io
import json
from collections import Counter
from datetime import datetime, timezone

import pytest

from helpers.emulator import firehose as firehose_emulator
from helpers.emulator.iot import rule_stats
from tests.emulator.conftest import log_messages
from tests.ingestion.support import (
    FIREHOSE_ACTIONS,
    RULE_SQL,
    as_parquet_row,
    delivery_destination,
    drain,
    expected_row,
    objects,
    queue_arn,
    queue_depth,
    read_parquet,
    rows_key,
    service_role,
    telemetry_table,
    utc_day,
    verdict,
    wire_reports,
)

# twelve hours across a UTC midnight: 360 messages, two reading days; with this seed the fleet
# sends glitches and malformed readings in that window (checked below)
START = datetime(2026, 11, 2, 18, tzinfo=timezone.utc)
END = datetime(2026, 11, 3, 6, tzinfo=timezone.utc)
SEED = 2
KINDS = ("json", "json-gzip", "parquet")


def _kinesis_records(kinesis, stream):
    out = []
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
            out += page["Records"]
            if not page["Records"]:
                break
            iterator = page.get("NextShardIterator")
    return out


@pytest.fixture(scope="module")
def pipeline(lab, deploy_app, devices):
    """The notebook's pipeline, built as its cells build it, fed 12 hours of the fleet and
    settled; what every source says afterwards."""
    s3, sqs, glue, athena = (lab.client(s) for s in ("s3", "sqs", "glue", "athena"))
    iot, iot_data = lab.client("iot"), lab.client("iot-data")
    kinesis, firehose, lambda_ = lab.client("kinesis"), lab.client("firehose"), lab.client("lambda")
    ingest, reports = lab.name("ingestion"), lab.name("reporting")
    for bucket in (ingest, reports):
        s3.create_bucket(Bucket=bucket)

    # IoT rule → Kinesis
    topic_root = lab.name("sensors")
    stream = lab.name("telemetry")
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName=stream)
    stream_arn = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"][
        "StreamARN"
    ]
    rule_role = service_role(
        lab,
        "iot-rule",
        "iot.amazonaws.com",
        ["kinesis:PutRecord", "s3:PutObject"],
        [stream_arn, f"arn:aws:s3:::{ingest}/errors/iot/*"],
    )
    rule = lab.name("telemetry").replace("-", "_")
    iot.create_topic_rule(
        ruleName=rule,
        topicRulePayload={
            "sql": RULE_SQL.format(root=topic_root),
            "awsIotSqlVersion": "2016-03-23",
            "ruleDisabled": False,
            "actions": [
                {
                    "kinesis": {
                        "streamName": stream,
                        "partitionKey": "${topic(2)}",
                        "roleArn": rule_role,
                    }
                }
            ],
            "errorAction": {
                "s3": {
                    "bucketName": ingest,
                    "key": "errors/iot/${newuuid()}.json",
                    "roleArn": rule_role,
                }
            },
        },
    )

    # Glue table (projected from the start) and the transform
    database = lab.name("telemetry").replace("-", "_")
    glue.create_database(DatabaseInput={"Name": database})
    glue.create_table(
        DatabaseName=database,
        TableInput=telemetry_table(ingest, projection=("2026-11-01", "2026-11-30")),
    )
    transform = deploy_app("transform", Timeout=60, MemorySize=256)
    transform_arn = lambda_.get_function(FunctionName=transform)["Configuration"]["FunctionArn"]

    # three delivery streams
    firehose_role = service_role(
        lab,
        "firehose",
        "firehose.amazonaws.com",
        FIREHOSE_ACTIONS,
        "*",
    )

    def delivery_stream(kind, prefix, *, compression="UNCOMPRESSED", parquet=False):
        name = lab.name(kind)
        firehose.create_delivery_stream(
            DeliveryStreamName=name,
            DeliveryStreamType="KinesisStreamAsSource",
            KinesisStreamSourceConfiguration={
                "KinesisStreamARN": stream_arn,
                "RoleARN": firehose_role,
            },
            ExtendedS3DestinationConfiguration=delivery_destination(
                kind,
                prefix,
                role=firehose_role,
                bucket=ingest,
                transform_arn=transform_arn,
                database=database,
                region=lab.region,
                compression=compression,
                parquet=parquet,
            ),
        )
        return name

    deliveries = {
        "json": delivery_stream("json", "raw/json/!{timestamp:yyyy/MM/dd}/"),
        "json-gzip": delivery_stream(
            "json-gzip", "raw/json-gzip/!{timestamp:yyyy/MM/dd}/", compression="GZIP"
        ),
        "parquet": delivery_stream(
            "parquet", "telemetry/dt=!{partitionKeyFromLambda:dt}/", parquet=True
        ),
    }

    # S3 → SQS → report → Athena
    workgroup = lab.name("reports")
    athena.create_work_group(
        Name=workgroup,
        Configuration={
            "ResultConfiguration": {"OutputLocation": f"s3://{reports}/athena-results/"},
            "EnforceWorkGroupConfiguration": True,
        },
    )
    dlq = sqs.create_queue(QueueName=lab.name("reports-dlq"))["QueueUrl"]
    queue = sqs.create_queue(
        QueueName=lab.name("reports"),
        Attributes={
            "VisibilityTimeout": "360",
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": queue_arn(sqs, dlq), "maxReceiveCount": "3"}
            ),
        },
    )["QueueUrl"]
    report = deploy_app(
        "report",
        env={
            "DATABASE": database,
            "TABLE": "telemetry",
            "WORKGROUP": workgroup,
            "REPORTS_BUCKET": reports,
        },
        Timeout=60,
        MemorySize=256,
    )
    wire_reports(lab, ingest=ingest, queue=queue, function=report)

    # the fleet publishes
    sent = devices.messages(START, END, root=topic_root, seed=SEED)
    publishing = int(lab.clock.now() * 1000)
    for topic, payload in sent:
        iot_data.publish(topic=topic, qos=1, payload=json.dumps(payload))
    published = int(lab.clock.now() * 1000) + 1
    lab.settle()
    return {
        "root": topic_root,
        "sent": sent,
        "publishing": (publishing, published),
        "rule": rule,
        "rule_stats": rule_stats(lab.emulator, rule),
        "kinesis": _kinesis_records(kinesis, stream),
        "deliveries": deliveries,
        "metrics": {k: firehose_emulator.metrics(n) for k, n in deliveries.items()},
        "arns": {
            k: firehose.describe_delivery_stream(DeliveryStreamName=n)["DeliveryStreamDescription"][
                "DeliveryStreamARN"
            ]
            for k, n in deliveries.items()
        },
        "objects": objects(s3, ingest),
        "reports": objects(s3, reports, "reports/daily/"),
        "transform_logs": log_messages(lab, transform),
        "queue_depth": queue_depth(sqs, queue),
        "dead": drain(sqs, dlq),
    }


def _records(pipeline):
    """The Kinesis records' data, as bytes."""
    return [bytes(r["Data"]) for r in pipeline["kinesis"]]


def _by_verdict(pipeline):
    out: dict[str, list[bytes]] = {"Ok": [], "Dropped": [], "ProcessingFailed": []}
    for data in _records(pipeline):
        out[verdict(data)].append(data)
    return out


def _under(pipeline, prefix):
    return {k: v for k, v in pipeline["objects"].items() if k.startswith(prefix)}


def _json_rows(pipeline, prefix):
    rows = []
    for key, body in _under(pipeline, prefix).items():
        if key.endswith(".gz"):
            body = gzip.decompress(body)
        rows += [json.loads(line) for line in body.decode().splitlines()]
    return rows


def _parquet_rows(pipeline):
    """dt → rows of the Parquet objects under telemetry/dt=<day>/."""
    out: dict[str, list] = {}
    for key, body in _under(pipeline, "telemetry/").items():
        out.setdefault(key.split("/")[1].removeprefix("dt="), []).extend(read_parquet(body)[1])
    return out


def _error_lines(pipeline, kind):
    return [
        json.loads(line)
        for body in _under(pipeline, f"errors/{kind}/").values()
        for line in body.decode().splitlines()
    ]


def _summaries(pipeline):
    """Delivery stream ARN → the transform's summed Ok / Dropped / ProcessingFailed."""
    totals: dict[str, Counter] = {}
    for message in pipeline["transform_logs"]:
        if message.startswith("{") and '"deliveryStreamArn"' in message:
            line = json.loads(message)
            arn = line.pop("deliveryStreamArn")
            totals[arn] = totals.get(arn, Counter()) + Counter(line)
    return totals


def test_the_window_has_every_kind_of_message(pipeline):
    """(The test's premise: the 12 hours hold readings, heartbeats, glitches and malformed
    readings, over two UTC days.)"""
    kinds = Counter(p["kind"] for _, p in pipeline["sent"])
    assert kinds == {"reading": 288, "heartbeat": 72}
    verdicts = {k: len(v) for k, v in _by_verdict(pipeline).items()}
    assert all(verdicts.values()), verdicts
    days = {utc_day(p["ts"]) for _, p in pipeline["sent"]}
    assert days == {"2026-11-02", "2026-11-03"}


def test_published_is_dropped_by_the_where_plus_records_in_kinesis(pipeline):
    """GIVEN every message published on {root}/<device>/telemetry WHEN settled THEN published =
    heartbeats left out by WHERE kind = 'reading' + records in the stream, and the rule's own
    accounting says the same: matched = published, dropped = heartbeats, delivered = readings,
    failed = 0 (nothing went to the error action)."""
    published = len(pipeline["sent"])
    heartbeats = sum(1 for _, p in pipeline["sent"] if p["kind"] == "heartbeat")
    in_stream = len(pipeline["kinesis"])
    assert published == heartbeats + in_stream
    stats = pipeline["rule_stats"]
    assert (stats["matched"], stats["dropped"], stats["delivered"], stats["failed"]) == (
        published,
        heartbeats,
        in_stream,
        0,
    )
    assert not _under(pipeline, "errors/iot/")


def test_each_kinesis_record_is_the_reading_plus_its_device_and_arrival_time(pipeline):
    """GIVEN the readings published WHEN read back from Kinesis THEN each record is its message
    with device_id = topic(2) and received_at = IoT Core's clock (the lab's) in ms while they were
    published, partition key ${topic(2)}, in the order they were published."""
    first, last = pipeline["publishing"]
    readings = [(t, p) for t, p in pipeline["sent"] if p["kind"] == "reading"]
    records = pipeline["kinesis"]
    assert len(records) == len(readings)
    for (topic, payload), record in zip(readings, records, strict=True):
        device = topic.split("/")[1]
        data = json.loads(record["Data"])
        received = data.pop("received_at")
        assert data == {**payload, "device_id": device}
        assert isinstance(received, int) and first <= received <= last
        assert record["PartitionKey"] == device


@pytest.mark.parametrize("kind", KINDS)
def test_records_in_are_delivered_plus_dropped_plus_failed(pipeline, kind):
    """GIVEN the records in Kinesis WHEN each delivery stream has delivered THEN records in =
    delivered + dropped + failed, where delivered is counted from the S3 objects' rows, failed
    from the error prefix's lines, dropped from the function's log summaries; the figures are
    the verdicts' (computed here from the records); the stream's accounting agrees, with
    nothing left in its buffers."""
    in_stream = len(pipeline["kinesis"])
    if kind == "parquet":
        delivered = sum(len(rows) for rows in _parquet_rows(pipeline).values())
    else:
        delivered = len(_json_rows(pipeline, f"raw/{kind}/"))
    failed = len(_error_lines(pipeline, kind))
    summary = _summaries(pipeline)[pipeline["arns"][kind]]
    assert in_stream == delivered + summary["Dropped"] + failed
    verdicts = {k: len(v) for k, v in _by_verdict(pipeline).items()}
    assert (delivered, summary["Dropped"], failed) == (
        verdicts["Ok"],
        verdicts["Dropped"],
        verdicts["ProcessingFailed"],
    )
    assert summary["Ok"] == delivered and summary["ProcessingFailed"] == failed
    metrics = pipeline["metrics"][kind]
    assert metrics["records_in"] == in_stream
    assert (metrics["delivered"], metrics["dropped"], metrics["failed"]) == (
        delivered,
        summary["Dropped"],
        failed,
    )
    assert metrics["buffered"] == 0


@pytest.mark.parametrize("kind", KINDS)
def test_the_error_records_are_the_malformed_readings(pipeline, kind):
    """GIVEN the malformed readings WHEN delivered THEN each stream's error prefix holds them,
    as Lambda.ProcessingFailedStatus records whose rawData is the Kinesis record's data."""
    errors = _error_lines(pipeline, kind)
    assert {e["errorCode"] for e in errors} == {"Lambda.ProcessingFailedStatus"}
    raws = sorted(base64.b64decode(e["rawData"]) for e in errors)
    assert raws == sorted(_by_verdict(pipeline)["ProcessingFailed"])


@pytest.mark.parametrize("prefix", ["raw/json/", "raw/json-gzip/"])
def test_the_json_streams_hold_the_rows_of_the_valid_readings(pipeline, prefix):
    want = [expected_row(json.loads(d)) for d in _by_verdict(pipeline)["Ok"]]
    got = _json_rows(pipeline, prefix)
    assert sorted(got, key=rows_key) == sorted(want, key=rows_key)


def test_the_parquet_stream_holds_each_days_valid_readings_under_its_dt(pipeline):
    """GIVEN readings over two UTC days WHEN delivered as Parquet THEN telemetry/dt=<day>/ holds
    exactly the valid readings taken that day (not the day they arrived)."""
    want: dict[str, list] = {}
    for data in _by_verdict(pipeline)["Ok"]:
        message = json.loads(data)
        want.setdefault(utc_day(message["ts"]), []).append(as_parquet_row(expected_row(message)))
    got = _parquet_rows(pipeline)
    assert set(got) == set(want) == {"2026-11-02", "2026-11-03"}
    for day in want:
        assert sorted(got[day], key=rows_key) == sorted(want[day], key=rows_key), day


def test_each_days_report_counts_every_stored_reading(pipeline):
    """GIVEN the Parquet objects' notifications WHEN the report function has run THEN there is
    one report per reading day, its readings add up to that day's stored rows, and no
    notification is left in the queue or dead-lettered."""
    stored = {day: len(rows) for day, rows in _parquet_rows(pipeline).items()}
    counted = {}
    for key, body in pipeline["reports"].items():
        day = key.split("/")[2].removeprefix("dt=")
        rows = list(csv.DictReader(io.StringIO(body.decode())))
        counted[day] = sum(int(r["readings"]) for r in rows)
        assert {r["hour"][:10] for r in rows} == {day}
    assert counted == stored
    assert pipeline["queue_depth"] == 0
    assert pipeline["dead"] == []
