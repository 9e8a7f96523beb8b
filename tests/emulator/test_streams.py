"""Kinesis Data Streams shard limits and Firehose delivery to S3, offline, in lab time.

Contract: Kinesis quotas, https://docs.aws.amazon.com/streams/latest/dev/service-sizes-and-limits.html
(per shard 1 MiB/s or 1,000 records/s in, 2 MiB/s and 5 GetRecords calls/s out); PutRecords
result entries, https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecordsResultEntry.html
(ErrorCode ProvisionedThroughputExceededException, a message naming account, stream and shard);
routing by MD5 of the partition key into a shard's hash key range,
https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecord.html. Firehose: buffering
hints (1-128 MiB, default 5; 0-900 s, default 300), the object name format
`<prefix><stream>-<version>-YYYY-MM-dd-HH-MM-SS-<uuid>` and custom prefixes,
https://docs.aws.amazon.com/firehose/latest/dev/s3-object-name.html and s3-prefixes.html; the
transform's event and status model, data-transformation.html and
data-transformation-status-model.html; error records, data-transformation-failure-handling.html
and record-format-conversion-error-handling.html.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import re
import zipfile
from datetime import datetime, timezone

import boto3
import duckdb
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from helpers.emulator import firehose as firehose_piece
from helpers.emulator import streams

ROLE = "arn:aws:iam::123456789012:role/firehose"
NAME_TIME = r"\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

TRANSFORM = """
import base64, json, os

def handler(event, context):
    print("EVENT " + json.dumps(event))
    mode = os.environ.get("MODE", "ok")
    if mode == "raise":
        raise RuntimeError("transform was told to fail")
    out = []
    for record in event["records"]:
        body = json.loads(base64.b64decode(record["data"]))
        entry = {"recordId": record["recordId"]}
        if mode == "OK":
            entry.update(result="OK", data=record["data"])
        elif mode == "badb64":
            entry.update(result="Ok", data="%%% not base64 %%%")
        elif body.get("reading", 0) < 0:
            entry.update(result="Dropped", data=record["data"])
        elif body.get("broken"):
            entry.update(result="ProcessingFailed", data=record["data"])
        else:
            body["celsius"] = round((body["reading"] - 32) * 5 / 9, 1)
            data = (json.dumps(body) + "\\n").encode()
            entry.update(result="Ok", data=base64.b64encode(data).decode())
            entry["metadata"] = {"partitionKeys": {"device": body["device"]}}
        out.append(entry)
    if mode == "missing":
        out = out[1:]
    return {"records": out}
"""


@pytest.fixture(scope="module")
def kinesis(lab):
    return lab.client("kinesis")


@pytest.fixture(scope="module")
def kinesis_once(lab, kinesis):
    """A Kinesis client that does not retry: boto3 retries ProvisionedThroughputExceeded with
    back-off, which (in lab time as on AWS) can outlast the one-second window."""
    return boto3.session.Session().client(
        "kinesis",
        region_name=lab.region,
        endpoint_url=lab.endpoint_url,
        config=kinesis.meta.config.merge(Config(retries={"total_max_attempts": 1})),
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture(scope="module")
def fh(lab):
    return lab.client("firehose")


@pytest.fixture(scope="module")
def bucket(lab, s3):
    name = lab.name("landing")
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="module")
def transform_code():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("transform.py", TRANSFORM)
    return buf.getvalue()


@pytest.fixture(scope="module")
def transform(lab, deploy, transform_code):
    """deploy a transform function in MODE; returns its ARN."""
    lambda_ = lab.client("lambda")

    made: dict[str, str] = {}

    def _transform(mode: str) -> str:
        if mode not in made:
            base = "transform-" + ("spelled-ok" if mode == "OK" else mode)
            name = deploy(
                base, code=transform_code, handler="transform.handler", env={"MODE": mode}
            )
            made[mode] = lambda_.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
        return made[mode]

    return _transform


def new_stream(lab, kinesis, base: str, shards: int = 1) -> str:
    name = lab.name(base)
    kinesis.create_stream(StreamName=name, ShardCount=shards)
    return name


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


def keys_under(s3, bucket: str, prefix: str = "") -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def body(s3, bucket: str, key: str) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def delivery_stream(lab, fh, bucket: str, base: str, **destination) -> str:
    """A Direct PUT delivery stream to `bucket`; destination keys override the defaults."""
    name = lab.name(base)
    config = {"RoleARN": ROLE, "BucketARN": f"arn:aws:s3:::{bucket}"}
    config.update(destination)
    fh.create_delivery_stream(
        DeliveryStreamName=name,
        DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration=config,
    )
    return name


def lambda_processing(arn: str, **params) -> dict:
    parameters = [{"ParameterName": "LambdaArn", "ParameterValue": arn}]
    parameters += [{"ParameterName": k, "ParameterValue": str(v)} for k, v in params.items()]
    return {"Enabled": True, "Processors": [{"Type": "Lambda", "Parameters": parameters}]}


def reading(device: str, value: float, **extra) -> bytes:
    return json.dumps({"device": device, "reading": value, **extra}).encode()


# ---- Kinesis: shard limits -------------------------------------------------------------------
def test_put_record_over_a_shards_megabyte_per_second_is_refused_until_a_second_passes(
    lab, kinesis_once
):
    kinesis = kinesis_once
    name = new_stream(lab, kinesis, "limits-put")
    big = b"x" * (600 * 1024)  # two of these are more than 1 MiB in one second
    first = kinesis.put_record(StreamName=name, Data=big, PartitionKey="device-1")

    with pytest.raises(ClientError) as exc:
        kinesis.put_record(StreamName=name, Data=big, PartitionKey="device-1")

    code, message = error_of(exc)
    assert code == "ProvisionedThroughputExceededException"
    assert message == (
        f"Rate exceeded for shard {first['ShardId']} in stream {name} "
        f"under account {lab.account_id}."
    )
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    lab.clock.advance(1)
    again = kinesis.put_record(StreamName=name, Data=big, PartitionKey="device-1")
    assert again["ShardId"] == first["ShardId"]
    assert streams.throttled(name) == 1


def test_put_records_reports_each_refused_record_and_stores_the_others(lab, kinesis):
    name = new_stream(lab, kinesis, "limits-batch")
    data = b"r" * 4000  # 500 records of ~4 KB: about 2 MB, twice what one shard takes a second
    records = [{"Data": data, "PartitionKey": f"k{i}"} for i in range(500)]

    resp = kinesis.put_records(StreamName=name, Records=records)

    failed = [e for e in resp["Records"] if "ErrorCode" in e]
    stored = [e for e in resp["Records"] if "SequenceNumber" in e]
    assert resp["FailedRecordCount"] == len(failed) > 0
    assert len(failed) + len(stored) == 500
    # 1 MiB / (4,000 data + 2-4 key bytes) records fit
    assert len(stored) == sum(
        1 for i in range(500) if (i + 1) * 4000 + sum(len(f"k{j}") for j in range(i + 1)) <= 2**20
    )
    for entry in failed:
        assert entry["ErrorCode"] == "ProvisionedThroughputExceededException"
        assert lab.account_id in entry["ErrorMessage"]
        assert name in entry["ErrorMessage"] and "shardId-000000000000" in entry["ErrorMessage"]
        assert "SequenceNumber" not in entry and "ShardId" not in entry
    iterator = kinesis.get_shard_iterator(
        StreamName=name, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    assert len(kinesis.get_records(ShardIterator=iterator, Limit=10000)["Records"]) == len(stored)


def test_a_thousand_records_a_second_per_shard(lab, kinesis):
    name = new_stream(lab, kinesis, "limits-count")
    tiny = [{"Data": b"t", "PartitionKey": "p"} for _ in range(500)]

    first = kinesis.put_records(StreamName=name, Records=tiny)
    second = kinesis.put_records(StreamName=name, Records=tiny)
    third = kinesis.put_records(StreamName=name, Records=tiny)

    assert (first["FailedRecordCount"], second["FailedRecordCount"]) == (0, 0)
    assert third["FailedRecordCount"] == 500
    lab.clock.advance(1)
    assert kinesis.put_records(StreamName=name, Records=tiny)["FailedRecordCount"] == 0


def test_resharding_routes_by_md5_to_the_open_shards_and_raises_capacity(lab, kinesis):
    name = new_stream(lab, kinesis, "limits-reshard")
    data = b"r" * 4000
    records = [{"Data": data, "PartitionKey": f"device-{i}"} for i in range(400)]  # ~1.6 MB
    assert kinesis.put_records(StreamName=name, Records=records)["FailedRecordCount"] > 0

    kinesis.update_shard_count(StreamName=name, TargetShardCount=2, ScalingType="UNIFORM_SCALING")
    resp = kinesis.put_records(StreamName=name, Records=records)  # same second of lab time

    shards = kinesis.list_shards(StreamName=name)["Shards"]
    open_shards = {
        s["ShardId"]: (
            int(s["HashKeyRange"]["StartingHashKey"]),
            int(s["HashKeyRange"]["EndingHashKey"]),
        )
        for s in shards
        if "EndingSequenceNumber" not in s["SequenceNumberRange"]
    }
    assert len(open_shards) == 2
    per_shard = dict.fromkeys(open_shards, 0)
    for record in records:  # where MD5 sends each record: each half stays under 1 MiB
        key = int(hashlib.md5(record["PartitionKey"].encode()).hexdigest(), 16)
        shard = next(s for s, (low, high) in open_shards.items() if low <= key <= high)
        per_shard[shard] += len(data) + len(record["PartitionKey"])
    assert max(per_shard.values()) <= 2**20
    assert resp["FailedRecordCount"] == 0
    for record, entry in zip(records, resp["Records"], strict=True):
        key = int(hashlib.md5(record["PartitionKey"].encode()).hexdigest(), 16)
        low, high = open_shards[entry["ShardId"]]
        assert low <= key <= high


def test_update_shard_count_may_at_most_double_or_halve(lab, kinesis):
    name = new_stream(lab, kinesis, "limits-double", shards=2)

    def scale(target: int) -> None:
        kinesis.update_shard_count(
            StreamName=name, TargetShardCount=target, ScalingType="UNIFORM_SCALING"
        )

    with pytest.raises(ClientError) as exc:
        scale(5)
    assert error_of(exc)[0] == "LimitExceededException"
    scale(4)
    with pytest.raises(ClientError) as exc:
        scale(1)
    assert error_of(exc)[0] == "LimitExceededException"
    summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    assert summary["OpenShardCount"] == 4


def test_split_shard_keeps_the_parents_records_in_the_parent(lab, kinesis):
    name = new_stream(lab, kinesis, "limits-split")
    kinesis.put_record(StreamName=name, Data=b"before", PartitionKey="a")
    kinesis.split_shard(
        StreamName=name, ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2**127)
    )
    after = kinesis.put_record(StreamName=name, Data=b"after", PartitionKey="a")

    assert after["ShardId"] != "shardId-000000000000"

    def read(shard_id: str) -> list[bytes]:
        it = kinesis.get_shard_iterator(
            StreamName=name, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        return [r["Data"] for r in kinesis.get_records(ShardIterator=it)["Records"]]

    assert read("shardId-000000000000") == [b"before"]
    assert read(after["ShardId"]) == [b"after"]


def test_more_than_five_get_records_calls_a_second_are_refused(lab, kinesis_once):
    kinesis = kinesis_once
    name = new_stream(lab, kinesis, "limits-read")
    kinesis.put_record(StreamName=name, Data=b"d", PartitionKey="p")
    iterator = kinesis.get_shard_iterator(
        StreamName=name, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    for _ in range(5):
        kinesis.get_records(ShardIterator=iterator)

    with pytest.raises(ClientError) as exc:
        kinesis.get_records(ShardIterator=iterator)

    assert error_of(exc)[0] == "ProvisionedThroughputExceededException"
    lab.clock.advance(1)
    assert kinesis.get_records(ShardIterator=iterator)["Records"][0]["Data"] == b"d"


def test_reading_more_than_two_megabytes_a_second_refuses_the_next_calls(lab, kinesis_once):
    kinesis = kinesis_once
    name = new_stream(lab, kinesis, "limits-read-bytes")
    for _ in range(3):  # 2.7 MB, one record a second (the write limit is 1 MiB/s)
        kinesis.put_record(StreamName=name, Data=b"m" * 900_000, PartitionKey="p")
        lab.clock.advance(1)
    iterator = kinesis.get_shard_iterator(
        StreamName=name, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]

    first = kinesis.get_records(ShardIterator=iterator)  # one call may return more than 2 MiB
    assert len(first["Records"]) == 3
    with pytest.raises(ClientError) as exc:
        kinesis.get_records(ShardIterator=first["NextShardIterator"])

    assert error_of(exc)[0] == "ProvisionedThroughputExceededException"
    lab.clock.advance(1)
    assert kinesis.get_records(ShardIterator=first["NextShardIterator"])["Records"] == []


# ---- Firehose: buffering -----------------------------------------------------------------------
def test_nothing_is_written_before_the_buffer_interval_then_one_object(lab, fh, s3, bucket):
    name = delivery_stream(
        lab, fh, bucket, "by-interval", BufferingHints={"SizeInMBs": 5, "IntervalInSeconds": 60}
    )
    put_at = lab.clock.datetime()
    for i in range(3):
        fh.put_record(DeliveryStreamName=name, Record={"Data": reading(f"d{i}", 70 + i)})

    lab.clock.advance(59)
    assert keys_under(s3, bucket, f"{put_at:%Y/%m/%d/%H}/{name}") == []
    lab.clock.advance(1)

    keys = [k for k in keys_under(s3, bucket) if f"/{name}-" in k]
    assert len(keys) == 1
    assert re.fullmatch(rf"{put_at:%Y/%m/%d/%H}/{name}-1-{NAME_TIME}-{UUID}", keys[0])
    assert keys[0].split(f"{name}-1-")[1][:13] == f"{put_at:%Y-%m-%d-%H}"
    assert body(s3, bucket, keys[0]) == b"".join(reading(f"d{i}", 70 + i) for i in range(3))
    assert firehose_piece.metrics(name) | {"bytes_delivered": 0} == {
        "records_in": 3,
        "delivered": 3,
        "dropped": 0,
        "failed": 0,
        "buffered": 0,
        "objects": 1,
        "bytes_delivered": 0,
        "transform_invocations": 0,
    }


def test_a_full_buffer_is_delivered_without_waiting_for_the_interval(lab, fh, s3, bucket):
    name = delivery_stream(
        lab,
        fh,
        bucket,
        "by-size",
        Prefix="size/",
        BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 900},
    )
    chunk = b"s" * (300 * 1024)
    fh.put_record_batch(DeliveryStreamName=name, Records=[{"Data": chunk}] * 4)  # 1.2 MB

    lab.settle(max_wait=0)  # runs what is due now; the lab clock does not move

    keys = keys_under(s3, bucket, "size/")
    assert len(keys) == 1 and len(body(s3, bucket, keys[0])) == 3 * len(chunk)
    assert firehose_piece.metrics(name)["buffered"] == 1
    lab.clock.advance(900)
    assert len(keys_under(s3, bucket, "size/")) == 2


def test_what_a_full_buffer_leaves_waits_for_its_own_oldest_record(lab, fh, s3, bucket):
    name = delivery_stream(
        lab,
        fh,
        bucket,
        "rest",
        Prefix="rest/",
        BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 60},
    )
    chunk = b"r" * (300 * 1024)
    fh.put_record(DeliveryStreamName=name, Record={"Data": chunk})
    lab.clock.advance(30)
    fh.put_record_batch(DeliveryStreamName=name, Records=[{"Data": chunk}] * 3)  # 1.2 MB: full
    lab.settle(max_wait=0)
    assert len(keys_under(s3, bucket, "rest/")) == 1  # the oldest three records: 900 KB

    lab.clock.advance(55)  # the first record's interval is long over, not the fourth's
    assert len(keys_under(s3, bucket, "rest/")) == 1
    lab.clock.advance(5)
    assert len(keys_under(s3, bucket, "rest/")) == 2
    assert firehose_piece.metrics(name)["delivered"] == 4


def test_buffering_hints_out_of_range_are_refused(lab, fh, bucket):
    with pytest.raises(ClientError) as exc:
        delivery_stream(
            lab, fh, bucket, "too-big", BufferingHints={"SizeInMBs": 129, "IntervalInSeconds": 60}
        )
    assert error_of(exc)[0] == "ValidationException"
    with pytest.raises(ClientError) as exc:
        delivery_stream(
            lab, fh, bucket, "too-long", BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 901}
        )
    assert error_of(exc)[0] == "ValidationException"


@pytest.mark.parametrize(
    "feature",
    [
        {
            "DataFormatConversionConfiguration": {
                "Enabled": True,
                "InputFormatConfiguration": {"Deserializer": {"OpenXJsonSerDe": {}}},
                "OutputFormatConfiguration": {"Serializer": {"ParquetSerDe": {}}},
                "SchemaConfiguration": {"RoleARN": ROLE, "DatabaseName": "d", "TableName": "t"},
            }
        },
        {
            "DynamicPartitioningConfiguration": {"Enabled": True},
            "Prefix": "p/!{partitionKeyFromQuery:k}/",
            "ErrorOutputPrefix": "e/",
        },
    ],
    ids=["format-conversion", "dynamic-partitioning"],
)
def test_conversion_and_dynamic_partitioning_need_a_64_mib_buffer(lab, fh, bucket, feature):
    """Firehose guide (record-format-conversion, dynamic-partitioning): with either feature the
    buffer size is at least 64 MiB; a smaller SizeInMBs is refused at creation."""
    with pytest.raises(ClientError) as exc:
        delivery_stream(
            lab,
            fh,
            bucket,
            "small-buffer",
            BufferingHints={"SizeInMBs": 5, "IntervalInSeconds": 60},
            **feature,
        )
    code, message = error_of(exc)
    assert code == "InvalidArgumentException"
    assert "64" in message


def test_a_missing_bucket_keeps_the_records_until_it_exists(lab, fh, s3):
    missing = lab.name("late-bucket")
    name = delivery_stream(
        lab, fh, missing, "late", BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 60}
    )
    fh.put_record(DeliveryStreamName=name, Record={"Data": b"kept"})
    lab.clock.advance(60)
    assert firehose_piece.metrics(name)["buffered"] == 1

    s3.create_bucket(Bucket=missing)
    lab.settle()

    assert [body(s3, missing, k) for k in keys_under(s3, missing)] == [b"kept"]
    assert firehose_piece.metrics(name)["delivered"] == 1


def test_settle_delivers_what_the_buffers_hold(lab, fh, s3, bucket):
    name = delivery_stream(lab, fh, bucket, "settled", Prefix="settled/")  # defaults: 5 MiB, 300 s
    fh.put_record(DeliveryStreamName=name, Record={"Data": b"one"})

    report = lab.settle()

    assert report.advanced_s >= 299
    assert [body(s3, bucket, k) for k in keys_under(s3, bucket, "settled/")] == [b"one"]


def test_each_delivered_object_raises_the_buckets_object_created_event(lab, fh, s3):
    sqs = lab.client("sqs")
    queue_url = sqs.create_queue(QueueName=lab.name("landed"))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    notified = lab.name("notified")
    s3.create_bucket(Bucket=notified)
    s3.put_bucket_notification_configuration(
        Bucket=notified,
        NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )
    name = delivery_stream(
        lab, fh, notified, "notify", BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 60}
    )
    fh.put_record(DeliveryStreamName=name, Record={"Data": b"n"})
    lab.clock.advance(60)

    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    events = [json.loads(m["Body"]) for m in messages]
    records = [r for e in events for r in e.get("Records", [])]  # after moto's s3:TestEvent
    assert [r["eventName"] for r in records] == ["ObjectCreated:Put"]
    assert records[0]["s3"]["object"]["key"] == keys_under(s3, notified)[0]


# ---- Firehose: prefixes and compression ----------------------------------------------------------
def test_prefix_expressions_are_evaluated_with_the_oldest_records_arrival(lab, fh, s3, bucket):
    name = delivery_stream(
        lab,
        fh,
        bucket,
        "exprs",
        Prefix="expr/year=!{timestamp:yyyy}/day=!{timestamp:yyyy-MM-dd}/!{firehose:random-string}/",
        ErrorOutputPrefix="expr-errors/!{firehose:error-output-type}/",
        BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 0},
    )
    put_at = lab.clock.datetime()
    fh.put_record(DeliveryStreamName=name, Record={"Data": b"x"})
    lab.settle(max_wait=0)

    (key,) = keys_under(s3, bucket, "expr/")
    match = re.fullmatch(
        rf"expr/year=(\d{{4}})/day=([\d-]+)/([a-z0-9]{{11}})/{name}-1-{NAME_TIME}-{UUID}", key
    )
    assert match, key
    assert match.group(1) == f"{put_at:%Y}" and match.group(2) == f"{put_at:%Y-%m-%d}"


def test_a_prefix_with_expressions_needs_an_error_output_prefix(lab, fh, bucket):
    with pytest.raises(ClientError) as exc:
        delivery_stream(lab, fh, bucket, "no-error-prefix", Prefix="p/!{timestamp:yyyy}/")
    assert error_of(exc)[0] == "InvalidArgumentException"
    with pytest.raises(ClientError) as exc:
        delivery_stream(
            lab,
            fh,
            bucket,
            "error-type-in-prefix",
            Prefix="!{firehose:error-output-type}/",
            ErrorOutputPrefix="e/",
        )
    assert error_of(exc)[0] == "InvalidArgumentException"


def test_gzip_objects_round_trip_and_end_in_gz(lab, fh, s3, bucket):
    name = delivery_stream(
        lab,
        fh,
        bucket,
        "gzip",
        Prefix="gz/",
        CompressionFormat="GZIP",
        BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 60},
    )
    lines = [reading(f"d{i}", i) + b"\n" for i in range(100)]
    fh.put_record_batch(DeliveryStreamName=name, Records=[{"Data": line} for line in lines])
    lab.clock.advance(60)

    (key,) = keys_under(s3, bucket, "gz/")
    assert key.endswith(".gz")
    raw = body(s3, bucket, key)
    assert raw[:2] == b"\x1f\x8b"
    assert gzip.decompress(raw) == b"".join(lines)


def test_put_record_to_a_kinesis_sourced_stream_is_refused(lab, fh, kinesis, bucket):
    source = new_stream(lab, kinesis, "src-refuse")
    arn = kinesis.describe_stream_summary(StreamName=source)["StreamDescriptionSummary"][
        "StreamARN"
    ]
    name = lab.name("from-kinesis-refuse")
    fh.create_delivery_stream(
        DeliveryStreamName=name,
        DeliveryStreamType="KinesisStreamAsSource",
        KinesisStreamSourceConfiguration={"KinesisStreamARN": arn, "RoleARN": ROLE},
        ExtendedS3DestinationConfiguration={"RoleARN": ROLE, "BucketARN": f"arn:aws:s3:::{bucket}"},
    )
    with pytest.raises(ClientError) as exc:
        fh.put_record(DeliveryStreamName=name, Record={"Data": b"x"})
    assert error_of(exc)[0] == "InvalidArgumentException"


# ---- Firehose: the Lambda transform ------------------------------------------------------------
def test_transform_ok_dropped_and_processing_failed(lab, fh, s3, bucket, transform, events_of):
    arn = transform("ok")
    name = delivery_stream(
        lab,
        fh,
        bucket,
        "transform",
        Prefix="clean/",
        ErrorOutputPrefix="bad/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/",
        BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 60},
        ProcessingConfiguration=lambda_processing(arn, BufferIntervalInSeconds=60),
    )
    put_at = lab.clock.now()
    records = [reading("a", 68), reading("b", -1), reading("c", 50, broken=True)]
    fh.put_record_batch(DeliveryStreamName=name, Records=[{"Data": r} for r in records])

    lab.clock.advance(60)  # the function's buffer: invoked; the S3 buffer starts now
    assert keys_under(s3, bucket, "clean/") == []
    lab.clock.advance(60)

    (event,) = [
        e for e in events_of(arn.split(":")[6]) if e["deliveryStreamArn"].endswith(f"/{name}")
    ]
    assert set(event) == {"invocationId", "deliveryStreamArn", "region", "records"}
    assert event["deliveryStreamArn"].endswith(f":deliverystream/{name}")
    assert event["region"] == lab.region
    assert [base64.b64decode(r["data"]) for r in event["records"]] == records
    for record in event["records"]:
        assert set(record) == {"recordId", "approximateArrivalTimestamp", "data"}
        assert abs(record["approximateArrivalTimestamp"] - put_at * 1000) < 5000
    (clean,) = keys_under(s3, bucket, "clean/")
    assert json.loads(body(s3, bucket, clean)) == {"device": "a", "reading": 68, "celsius": 20.0}
    (bad,) = keys_under(s3, bucket, "bad/")
    assert bad.startswith(
        f"bad/processing-failed/{datetime.fromtimestamp(put_at, timezone.utc):%Y/%m/%d}/"
    )
    (error,) = [json.loads(line) for line in body(s3, bucket, bad).splitlines()]
    # as AWS writes it (a captured record: the function's own ProcessingFailed verdict)
    assert error["errorCode"] == "Lambda.ProcessingFailedStatus"
    assert error["errorMessage"] == "ProcessingFailed status set for record"
    assert error["attemptsMade"] == 1
    assert error["lambdaARN"] == arn
    assert base64.b64decode(error["rawData"]) == records[2]
    assert abs(error["arrivalTimestamp"] - put_at * 1000) < 5000
    assert {"errorMessage", "attemptEndingTimestamp"} <= set(error)
    assert firehose_piece.metrics(name) | {"bytes_delivered": 0} == {
        "records_in": 3,
        "delivered": 1,
        "dropped": 1,
        "failed": 1,
        "buffered": 0,
        "objects": 1,
        "bytes_delivered": 0,
        "transform_invocations": 1,
    }


def test_a_result_spelled_OK_fails_every_record(lab, fh, s3, bucket, transform):
    arn = transform("OK")
    name = delivery_stream(
        lab,
        fh,
        bucket,
        "spelled-ok",
        Prefix="spelled/",
        BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 0},
        ProcessingConfiguration=lambda_processing(arn, BufferIntervalInSeconds=0),
    )
    fh.put_record_batch(
        DeliveryStreamName=name, Records=[{"Data": reading(f"d{i}", i)} for i in range(3)]
    )
    lab.settle(max_wait=0)

    assert [k for k in keys_under(s3, bucket, "spelled/") if "processing-failed" not in k] == []
    # no ErrorOutputPrefix: <Prefix>processing-failed/YYYY/MM/dd/HH/
    (key,) = keys_under(s3, bucket, "spelled/processing-failed/")
    assert re.fullmatch(
        rf"spelled/processing-failed/\d{{4}}/\d{{2}}/\d{{2}}/\d{{2}}/{name}-1-{NAME_TIME}-{UUID}",
        key,
    )
    errors = [json.loads(line) for line in body(s3, bucket, key).splitlines()]
    assert [e["errorCode"] for e in errors] == ["Lambda.ProcessingFailed"] * 3
    assert firehose_piece.metrics(name)["failed"] == 3


@pytest.mark.parametrize(
    ("mode", "code", "attempts"),
    [
        ("missing", "Lambda.MissingRecordId", 4),
        ("raise", "Lambda.FunctionError", 4),
        ("badb64", "Lambda.ProcessingFailed", 1),
    ],
)
def test_answers_that_break_the_status_model_fail_the_records(
    lab, fh, s3, bucket, transform, mode, code, attempts
):
    arn = transform(mode)
    prefix = f"model-{mode}/"
    name = delivery_stream(
        lab,
        fh,
        bucket,
        f"model-{mode}",
        Prefix=prefix,
        ErrorOutputPrefix=f"{prefix}errors/!{{firehose:error-output-type}}/",
        BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 0},
        ProcessingConfiguration=lambda_processing(arn, BufferIntervalInSeconds=0),
    )
    fh.put_record_batch(DeliveryStreamName=name, Records=[{"Data": reading("d", 1)}] * 2)
    lab.settle(max_wait=0)

    (key,) = keys_under(s3, bucket, f"{prefix}errors/processing-failed/")
    errors = [json.loads(line) for line in body(s3, bucket, key).splitlines()]
    assert [(e["errorCode"], e["attemptsMade"]) for e in errors] == [(code, attempts)] * 2
    assert firehose_piece.metrics(name)["transform_invocations"] == attempts
    assert keys_under(s3, bucket, prefix) == [key]


# ---- Firehose: Kinesis source, dynamic partitioning, Parquet ----------------------------------
@pytest.mark.backends("moto", "moto-server")
def test_kinesis_source_end_to_end(lab, kinesis, fh, s3, bucket, transform, events_of):
    source = new_stream(lab, kinesis, "telemetry", shards=2)
    stream_arn = kinesis.describe_stream_summary(StreamName=source)["StreamDescriptionSummary"][
        "StreamARN"
    ]
    kinesis.put_record(StreamName=source, Data=reading("early", 1), PartitionKey="early")
    arn = transform("ok")
    name = lab.name("ingest")
    fh.create_delivery_stream(
        DeliveryStreamName=name,
        DeliveryStreamType="KinesisStreamAsSource",
        KinesisStreamSourceConfiguration={"KinesisStreamARN": stream_arn, "RoleARN": ROLE},
        ExtendedS3DestinationConfiguration={
            "RoleARN": ROLE,
            "BucketARN": f"arn:aws:s3:::{bucket}",
            "Prefix": "ingest/device=!{partitionKeyFromLambda:device}/",
            "ErrorOutputPrefix": "ingest-errors/!{firehose:error-output-type}/",
            "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 60},
            "DynamicPartitioningConfiguration": {"Enabled": True},
            "ProcessingConfiguration": lambda_processing(arn, BufferIntervalInSeconds=0),
        },
    )
    sent = [reading(d, 70) for d in ("alpha", "beta", "alpha")]
    for data in sent:
        kinesis.put_record(StreamName=source, Data=data, PartitionKey=json.loads(data)["device"])

    lab.settle()

    keys = keys_under(s3, bucket, "ingest/")
    assert sorted(k.split("/")[1] for k in keys) == ["device=alpha", "device=beta"]
    delivered = b"".join(body(s3, bucket, k) for k in keys)
    assert sorted(json.loads(line)["device"] for line in delivered.splitlines()) == [
        "alpha",
        "alpha",
        "beta",
    ]  # the record put before the delivery stream existed is not read (LATEST)
    events = [
        e for e in events_of(arn.split(":")[6]) if e["deliveryStreamArn"].endswith(f"/{name}")
    ]
    assert events
    assert all(e["sourceKinesisStreamArn"] == stream_arn for e in events)
    metadata = [r["kinesisRecordMetadata"] for e in events for r in e["records"]]
    assert {m["partitionKey"] for m in metadata} == {"alpha", "beta"}
    assert all(m["shardId"].startswith("shardId-") and m["sequenceNumber"] for m in metadata)
    assert firehose_piece.metrics(name)["delivered"] == 3


def test_dynamic_partitioning_from_a_jq_query(lab, fh, s3, bucket):
    name = delivery_stream(
        lab,
        fh,
        bucket,
        "jq",
        Prefix="jq/site=!{partitionKeyFromQuery:site}/",
        ErrorOutputPrefix="jq-errors/!{firehose:error-output-type}/",
        BufferingHints={"SizeInMBs": 64, "IntervalInSeconds": 60},
        DynamicPartitioningConfiguration={"Enabled": True},
        ProcessingConfiguration={
            "Enabled": True,
            "Processors": [
                {
                    "Type": "MetadataExtraction",
                    "Parameters": [
                        {
                            "ParameterName": "MetadataExtractionQuery",
                            "ParameterValue": "{site: .where.site}",
                        },
                        {"ParameterName": "JsonParsingEngine", "ParameterValue": "JQ-1.6"},
                    ],
                },
                {"Type": "AppendDelimiterToRecord", "Parameters": []},
            ],
        },
    )
    data = [{"where": {"site": "lyon"}}, {"where": {"site": "oslo"}}, {"nowhere": 1}]
    fh.put_record_batch(
        DeliveryStreamName=name, Records=[{"Data": json.dumps(d).encode()} for d in data]
    )
    lab.clock.advance(60)

    keys = keys_under(s3, bucket, "jq/")
    assert [k.split("/")[1] for k in keys] == ["site=lyon", "site=oslo"]
    assert body(s3, bucket, keys[0]) == json.dumps(data[0]).encode() + b"\n"
    assert len(keys_under(s3, bucket, "jq-errors/partitioning-failed/")) == 1


def test_parquet_conversion_with_the_glue_tables_columns(lab, fh, s3, bucket, tmp_path):
    glue = lab.client("glue")
    database = lab.name("telemetry-db").replace("-", "_")
    glue.create_database(DatabaseInput={"Name": database})
    glue.create_table(
        DatabaseName=database,
        TableInput={
            "Name": "readings",
            "StorageDescriptor": {
                "Columns": [
                    {"Name": "device", "Type": "string"},
                    {"Name": "reading", "Type": "double"},
                    {"Name": "count", "Type": "int"},
                    {"Name": "ts", "Type": "timestamp"},
                ]
            },
        },
    )
    name = delivery_stream(
        lab,
        fh,
        bucket,
        "parquet",
        Prefix="parquet/",
        ErrorOutputPrefix="parquet-errors/!{firehose:error-output-type}/",
        BufferingHints={"SizeInMBs": 64, "IntervalInSeconds": 60},
        DataFormatConversionConfiguration={
            "Enabled": True,
            "SchemaConfiguration": {
                "RoleARN": ROLE,
                "DatabaseName": database,
                "TableName": "readings",
                "Region": lab.region,
            },
            "InputFormatConfiguration": {"Deserializer": {"OpenXJsonSerDe": {}}},
            "OutputFormatConfiguration": {"Serializer": {"ParquetSerDe": {}}},
        },
    )
    good = [
        {"device": "a", "reading": 1.5, "count": 3, "ts": "2024-05-01T12:00:00Z", "extra": 1},
        {"Device": "b", "reading": 2, "count": None, "ts": "2024-05-01T13:00:00Z"},
    ]
    bad = [b"not json", json.dumps({"device": "c", "count": "many"}).encode()]
    records = [json.dumps(g).encode() for g in good] + bad
    fh.put_record_batch(DeliveryStreamName=name, Records=[{"Data": r} for r in records])
    lab.clock.advance(60)

    (key,) = keys_under(s3, bucket, "parquet/")
    assert key.endswith(".parquet")
    path = tmp_path / "out.parquet"
    path.write_bytes(body(s3, bucket, key))
    con = duckdb.connect()
    columns = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM '{path}'").fetchall()]
    assert columns == ["device", "reading", "count", "ts"]
    rows = con.execute(
        f"SELECT device, reading, count, ts FROM '{path}' ORDER BY device"
    ).fetchall()
    assert rows == [
        ("a", 1.5, 3, datetime(2024, 5, 1, 12, 0)),
        ("b", 2.0, None, datetime(2024, 5, 1, 13, 0)),
    ]
    (error_key,) = keys_under(s3, bucket, "parquet-errors/format-conversion-failed/")
    errors = [json.loads(line) for line in body(s3, bucket, error_key).splitlines()]
    assert [base64.b64decode(e["rawData"]) for e in errors] == bad
    for error in errors:
        assert error["ErrorCode"].startswith("DataFormatConversion.")
        assert error["dataCatalogTable"]["databaseName"] == database
        assert error["dataCatalogTable"]["tableName"] == "readings"
    metrics = firehose_piece.metrics(name)
    assert (metrics["records_in"], metrics["delivered"], metrics["failed"]) == (4, 2, 2)
