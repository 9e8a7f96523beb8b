"""SQS event source mappings: batches, failures, partial batch responses, the DLQ.

Contract: Lambda developer guide, "Using Lambda with Amazon SQS": the poller reads up to
BatchSize messages per invocation; on success Lambda deletes the batch; when the function
errors the whole batch becomes visible again after the queue's visibility timeout; with
`FunctionResponseTypes=["ReportBatchItemFailures"]` only the messages named in
`batchItemFailures[].itemIdentifier` return; after `maxReceiveCount` receives the queue's redrive
policy moves a message to its dead-letter queue (same MessageId and body).
https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html
https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from tests.emulator.sqs_support import queue_depth

BOTH = ("moto", "moto-server")


@pytest.fixture
def queue(lab):
    """make a queue (optionally with a DLQ); returns (url, arn, dlq_url or None)."""
    sqs = lab.client("sqs")
    count = Counter()

    def _queue(base, *, max_receive=None, visibility=30):
        count[base] += 1
        name = lab.name(f"{base}-{count[base]}")
        attributes = {"VisibilityTimeout": str(visibility)}
        dlq_url = None
        if max_receive:
            dlq_url = sqs.create_queue(QueueName=name + "-dlq")["QueueUrl"]
            dlq_arn = _arn(sqs, dlq_url)
            attributes["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive)}
            )
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        return url, _arn(sqs, url), dlq_url

    return _queue


def _arn(sqs, url):
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]


def _drain(sqs, url):
    out = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        if not got.get("Messages"):
            return out
        out.extend(got["Messages"])


@pytest.mark.backends(*BOTH)
def test_batch_size_is_honoured_and_nothing_is_lost(lab, deploy, queue, events_of):
    """GIVEN 25 messages and a mapping with BatchSize 10 WHEN settled THEN every invocation
    gets at most 10 records, all 25 arrive exactly once, and the queue is empty."""
    name = deploy("batches", "recorder.py", handler="recorder.handler")
    url, arn, _ = queue("batches")
    sqs = lab.client("sqs")
    bodies = [f"message {i}" for i in range(25)]
    for start in range(0, 25, 10):
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies[start : start + 10])
            ],
        )

    lab.client("lambda").create_event_source_mapping(
        EventSourceArn=arn, FunctionName=name, BatchSize=10
    )
    lab.settle()

    batches = [e["Records"] for e in events_of(name)]
    assert all(1 <= len(b) <= 10 for b in batches), [len(b) for b in batches]
    assert max(len(b) for b in batches) > 1  # records are batched, not sent one by one
    seen = [r["body"] for b in batches for r in b]
    assert sorted(seen) == sorted(bodies)
    assert queue_depth(sqs, url) == 0


@pytest.mark.backends(*BOTH)
def test_an_error_returns_the_whole_batch_after_the_visibility_timeout(
    lab, deploy, queue, events_of
):
    """GIVEN a function that raises on a batch's first receive WHEN settled THEN the same
    three messages come back together (ApproximateReceiveCount 2) once the 30 s visibility
    timeout has passed in lab time, then they are deleted."""
    name = deploy(
        "whole-batch", "recorder.py", handler="recorder.handler", env={"MODE": "raise-first"}
    )
    url, arn, _ = queue("whole-batch", visibility=30)
    sqs = lab.client("sqs")
    sqs.send_message_batch(
        QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"job {i}"} for i in range(3)]
    )
    lab.client("lambda").create_event_source_mapping(
        EventSourceArn=arn, FunctionName=name, BatchSize=10
    )

    report = lab.settle()

    batches = [e["Records"] for e in events_of(name)]
    first = [r for b in batches for r in b if r["attributes"]["ApproximateReceiveCount"] == "1"]
    second = [r for b in batches for r in b if r["attributes"]["ApproximateReceiveCount"] == "2"]
    assert sorted(r["body"] for r in first) == ["job 0", "job 1", "job 2"]
    assert sorted(r["body"] for r in second) == ["job 0", "job 1", "job 2"]
    assert {r["messageId"] for r in first} == {r["messageId"] for r in second}
    assert report.failed >= 1
    assert report.advanced_s >= 30
    assert queue_depth(sqs, url) == 0


@pytest.mark.backends(*BOTH)
def test_report_batch_item_failures_returns_only_the_named_message(lab, deploy, queue, events_of):
    """GIVEN ReportBatchItemFailures and a handler that names the poison message WHEN settled
    THEN the good messages are delivered once and deleted; only the poison one comes back
    (until the redrive policy moves it to the DLQ after 2 receives)."""
    name = deploy("partial", "recorder.py", handler="recorder.handler", env={"MODE": "partial"})
    url, arn, dlq_url = queue("partial", max_receive=2)
    sqs = lab.client("sqs")
    sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "a", "MessageBody": "good a"},
            {"Id": "p", "MessageBody": "poison pill"},
            {"Id": "b", "MessageBody": "good b"},
        ],
    )
    lab.client("lambda").create_event_source_mapping(
        EventSourceArn=arn,
        FunctionName=name,
        BatchSize=10,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )

    lab.settle()

    seen = Counter(r["body"] for e in events_of(name) for r in e["Records"])
    assert seen == {"good a": 1, "good b": 1, "poison pill": 2}
    assert queue_depth(sqs, url) == 0
    assert [m["Body"] for m in _drain(sqs, dlq_url)] == ["poison pill"]


def test_an_empty_batch_item_failures_list_means_success(lab, deploy, queue, events_of):
    """`{"batchItemFailures": []}` is a full success: nothing comes back."""
    name = deploy(
        "partial-none", "recorder.py", handler="recorder.handler", env={"MODE": "partial"}
    )
    url, arn, _ = queue("partial-none")
    sqs = lab.client("sqs")
    sqs.send_message(QueueUrl=url, MessageBody="all good")
    lab.client("lambda").create_event_source_mapping(
        EventSourceArn=arn, FunctionName=name, FunctionResponseTypes=["ReportBatchItemFailures"]
    )

    lab.settle()

    assert [r["body"] for e in events_of(name) for r in e["Records"]] == ["all good"]
    assert queue_depth(sqs, url) == 0


@pytest.mark.backends(*BOTH)
def test_a_message_that_always_fails_moves_to_the_dlq_after_max_receivequeue_depth(
    lab, deploy, queue, events_of
):
    """GIVEN maxReceiveCount 3 and a function that always raises WHEN settled THEN the handler
    sees the message 3 times (receive counts 1, 2, 3) and it lands in the DLQ, same id and body."""
    name = deploy("always-fails", "recorder.py", handler="recorder.handler", env={"MODE": "raise"})
    url, arn, dlq_url = queue("always-fails", max_receive=3, visibility=20)
    sqs = lab.client("sqs")
    sent = sqs.send_message(QueueUrl=url, MessageBody="doomed")
    lab.client("lambda").create_event_source_mapping(EventSourceArn=arn, FunctionName=name)

    report = lab.settle()

    records = [r for e in events_of(name) for r in e["Records"]]
    assert [r["attributes"]["ApproximateReceiveCount"] for r in records] == ["1", "2", "3"]
    assert report.advanced_s >= 2 * 20  # two visibility timeouts of lab time
    assert queue_depth(sqs, url) == 0
    dead = _drain(sqs, dlq_url)
    assert [(m["MessageId"], m["Body"]) for m in dead] == [(sent["MessageId"], "doomed")]


def test_a_disabled_mapping_delivers_nothing(lab, deploy, queue, events_of):
    name = deploy("disabled", "recorder.py", handler="recorder.handler")
    url, arn, _ = queue("disabled")
    sqs = lab.client("sqs")
    lab.client("lambda").create_event_source_mapping(
        EventSourceArn=arn, FunctionName=name, Enabled=False
    )

    sqs.send_message(QueueUrl=url, MessageBody="waits")
    lab.settle()

    assert queue_depth(sqs, url) == 1
    logs = lab.client("logs")
    groups = logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{name}")["logGroups"]
    assert groups == []  # never invoked


@pytest.mark.backends(*BOTH)
def test_concurrent_senders_lose_no_mapping_and_no_message(lab, deploy, queue, events_of):
    """GIVEN a mapped queue WHEN eight threads send 200 messages at once THEN Lambda's poller
    delivers each exactly once, on its first receive, in batches (never one moto record at a
    time), and the mapping still delivers a message sent afterwards."""
    import hashlib
    import sys
    import threading

    name = deploy("concurrent", "recorder.py", handler="recorder.handler")
    url, arn, _ = queue("concurrent")
    lab.client("lambda").create_event_source_mapping(
        EventSourceArn=arn, FunctionName=name, BatchSize=10
    )
    sqs = lab.client("sqs")
    barrier = threading.Barrier(8)

    def send(n: int) -> None:
        barrier.wait()
        for i in range(25):
            sqs.send_message(QueueUrl=url, MessageBody=f"t{n}-{i}")

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: races show up
    try:
        threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    sqs.send_message(QueueUrl=url, MessageBody="after")
    lab.settle()

    records = [r for e in events_of(name) for r in e["Records"]]
    bodies = sorted(r["body"] for r in records)
    assert bodies == sorted([f"t{n}-{i}" for n in range(8) for i in range(25)] + ["after"])
    assert {r["attributes"]["ApproximateReceiveCount"] for r in records} == {"1"}
    # moto's own synchronous delivery would send fixed attributes and md5OfBody
    assert all(r["md5OfBody"] == hashlib.md5(r["body"].encode()).hexdigest() for r in records)
    assert queue_depth(sqs, url) == 0


@pytest.mark.backends(*BOTH)
def test_a_mapping_whose_function_was_deleted_leaves_the_queue_alone(lab, deploy, queue):
    """GIVEN a mapping whose function was deleted WHEN messages arrive and the lab settles THEN
    nothing receives them (the first consumer sees ApproximateReceiveCount 1) and settle()
    does not skip lab time waiting on them."""
    name = deploy("orphaned", "recorder.py", handler="recorder.handler")
    url, arn, _ = queue("orphaned", visibility=30)
    lambda_ = lab.client("lambda")
    lambda_.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, BatchSize=10)
    lambda_.delete_function(FunctionName=name)
    sqs = lab.client("sqs")

    sqs.send_message(QueueUrl=url, MessageBody="nobody listens")
    skipped = lab.clock.skipped
    report = lab.settle()

    assert lab.clock.skipped == skipped, report  # no lab time skipped
    got = sqs.receive_message(
        QueueUrl=url, AttributeNames=["ApproximateReceiveCount"], WaitTimeSeconds=0
    )["Messages"]
    assert [(m["Body"], m["Attributes"]["ApproximateReceiveCount"]) for m in got] == [
        ("nobody listens", "1")
    ]
