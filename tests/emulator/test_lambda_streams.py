"""DynamoDB Streams and Kinesis event source mappings: order, batches, retries.

Contract: Lambda developer guide, "Using Lambda with Kinesis" / "... with DynamoDB": records of
a shard arrive in order, in batches of up to BatchSize; a failed batch is retried (blocking its
shard) up to MaximumRetryAttempts, then its details go to the OnFailure destination as a record
with `requestContext.condition == "RetryAttemptsExhausted"` and `KinesisBatchInfo` /
`DDBStreamBatchInfo` (shardId, start/end sequence numbers, batchSize, streamArn).
https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html
https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-errors.html
"""

from __future__ import annotations

import base64
import json

import pytest

BOTH = ("moto", "moto-server")


def _stream(lab, base):
    kinesis = lab.client("kinesis")
    name = lab.name(base)
    kinesis.create_stream(StreamName=name, ShardCount=1)
    arn = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
    return name, arn


@pytest.mark.backends(*BOTH)
def test_kinesis_records_arrive_in_order_in_batches(lab, deploy, events_of):
    """GIVEN 25 records put in order and BatchSize 10 WHEN settled THEN batches of at most 10,
    and the concatenated data is the 25 records in the order they were put."""
    name = deploy("kinesis-order", "recorder.py", handler="recorder.handler")
    stream, arn = _stream(lab, "kinesis-order")
    kinesis = lab.client("kinesis")
    sent = [f"event-{i:02d}".encode() for i in range(25)]
    sequence = [
        kinesis.put_record(StreamName=stream, Data=d, PartitionKey="device-1")["SequenceNumber"]
        for d in sent
    ]

    lab.client("lambda").create_event_source_mapping(
        EventSourceArn=arn, FunctionName=name, StartingPosition="TRIM_HORIZON", BatchSize=10
    )
    lab.settle()

    batches = [e["Records"] for e in events_of(name)]
    assert all(1 <= len(b) <= 10 for b in batches), [len(b) for b in batches]
    assert max(len(b) for b in batches) > 1  # batched, not one record per invocation
    received = [base64.b64decode(r["kinesis"]["data"]) for b in batches for r in b]
    assert received == sent
    assert [r["kinesis"]["sequenceNumber"] for b in batches for r in b] == sequence


def test_kinesis_latest_skips_records_put_before_the_mapping(lab, deploy, events_of):
    """StartingPosition LATEST: only records put after the mapping exists are delivered."""
    name = deploy("kinesis-latest", "recorder.py", handler="recorder.handler")
    stream, arn = _stream(lab, "kinesis-latest")
    kinesis = lab.client("kinesis")
    kinesis.put_record(StreamName=stream, Data=b"before", PartitionKey="k")
    lambda_ = lab.client("lambda")
    lambda_.create_event_source_mapping(
        EventSourceArn=arn, FunctionName=name, StartingPosition="LATEST"
    )
    lab.settle()

    kinesis.put_record(StreamName=stream, Data=b"after", PartitionKey="k")
    lab.settle()

    data = [base64.b64decode(r["kinesis"]["data"]) for e in events_of(name) for r in e["Records"]]
    assert data == [b"after"]


@pytest.mark.backends(*BOTH)
def test_dynamodb_stream_records_arrive_in_order_in_batches(lab, deploy, events_of):
    """GIVEN 12 writes and BatchSize 5 WHEN settled THEN batches of at most 5, in write order."""
    name = deploy("ddb-order", "recorder.py", handler="recorder.handler")
    ddb = lab.client("dynamodb")
    table = lab.name("ddb-order")
    stream_arn = ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "N"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]["LatestStreamArn"]
    for i in range(12):
        ddb.put_item(TableName=table, Item={"id": {"N": str(i)}})

    lab.client("lambda").create_event_source_mapping(
        EventSourceArn=stream_arn,
        FunctionName=name,
        StartingPosition="TRIM_HORIZON",
        BatchSize=5,
    )
    lab.settle()

    batches = [e["Records"] for e in events_of(name)]
    assert all(1 <= len(b) <= 5 for b in batches), [len(b) for b in batches]
    assert max(len(b) for b in batches) > 1
    ids = [int(r["dynamodb"]["Keys"]["id"]["N"]) for b in batches for r in b]
    assert ids == list(range(12))
    assert all(r["eventName"] == "INSERT" for b in batches for r in b)
    sequence = [int(r["dynamodb"]["SequenceNumber"]) for b in batches for r in b]
    assert sequence == sorted(sequence)


@pytest.mark.backends(*BOTH)
def test_a_failing_kinesis_batch_is_retried_then_sent_to_the_on_failure_destination(
    lab, deploy, events_of
):
    """GIVEN MaximumRetryAttempts=2 and a function that always fails WHEN settled THEN the same
    batch is tried 3 times, then an on-failure record describing it reaches the SQS queue."""
    name = deploy("kinesis-fails", "recorder.py", handler="recorder.handler", env={"MODE": "raise"})
    stream, arn = _stream(lab, "kinesis-fails")
    sqs = lab.client("sqs")
    failures_url = sqs.create_queue(QueueName=lab.name("kinesis-failures"))["QueueUrl"]
    failures_arn = sqs.get_queue_attributes(QueueUrl=failures_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    kinesis = lab.client("kinesis")
    puts = [
        kinesis.put_record(StreamName=stream, Data=d, PartitionKey="k") for d in (b"one", b"two")
    ]
    lab.client("lambda").create_event_source_mapping(
        EventSourceArn=arn,
        FunctionName=name,
        StartingPosition="TRIM_HORIZON",
        MaximumRetryAttempts=2,
        DestinationConfig={"OnFailure": {"Destination": failures_arn}},
    )

    lab.settle()

    batches = [[r["kinesis"]["sequenceNumber"] for r in e["Records"]] for e in events_of(name)]
    expected = [p["SequenceNumber"] for p in puts]
    assert batches == [expected] * 3
    messages = sqs.receive_message(QueueUrl=failures_url, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 1
    record = json.loads(messages[0]["Body"])
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    info = record["KinesisBatchInfo"]
    assert info["shardId"] == puts[0]["ShardId"]
    assert info["startSequenceNumber"] == expected[0]
    assert info["endSequenceNumber"] == expected[-1]
    assert info["batchSize"] == 2
    assert info["streamArn"] == arn
