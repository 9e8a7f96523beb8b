"""Nothing lost on the asynchronous path: the consumer stopped while orders keep coming, a
message delivered twice, a message that can never be handled.

Contract: Lambda developer guide, "Using Lambda with Amazon SQS" (a disabled event source
mapping stops polling and the messages wait in the queue; with ReportBatchItemFailures only the
messages listed in batchItemFailures return to the queue, the rest of the batch is deleted),
https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html,
https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html; Amazon SQS
developer guide, dead-letter queues (a message received maxReceiveCount times without being
deleted moves to the DLQ), message attributes SentTimestamp and
ApproximateFirstReceiveTimestamp (epoch ms, the queue's clock),
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html;
SNS and SQS standard queues deliver at least once, so a consumer must be idempotent
(https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html). The chapter's
promise: every order accepted (201) is in Aurora, notified exactly once (the delivery log, and
one "notified" line per order in the consumer's log) and on the analytics stream.
"""

from __future__ import annotations

import json
import uuid

import pytest
import requests

from tests.emulator.conftest import log_messages
from tests.microservices.support import (
    build_notifications,
    build_orders,
    build_users,
    drain,
    order_attributes,
    order_placed,
    queue_depth,
    register,
    scan_all,
    sns_envelope,
    sqs_record,
    stream_events,
)

OUTAGE_ORDERS = 12
BETWEEN_ORDERS_S = 20


@pytest.fixture(scope="module")
def shop(lab, deploy_app):
    """The three services: users, notifications with its consumer, orders behind its ALB."""
    users = build_users(lab, deploy_app)
    events = build_notifications(lab, deploy_app)
    orders = build_orders(
        lab, deploy_app, users_url=users.url(), topic=events.topic, stream=events.stream
    )
    customers = [
        register(users, "Ada Lovelace", "ada@example.com"),
        register(users, "Alan Turing", "alan@example.com"),
    ]
    return {"users": users, "events": events, "orders": orders, "customers": customers}


def consumer_log(lab, shop) -> list[dict]:
    """The JSON lines the notifier printed, oldest first."""
    logs = lab.client("logs")
    try:
        messages = log_messages(lab, shop["events"].notifier)
    except logs.exceptions.ResourceNotFoundException:  # not invoked yet: no log group
        return []
    out = []
    for message in messages:
        text = message.strip()
        if text.startswith("{"):
            out.append(json.loads(text))
    return out


def deliveries(lab, shop) -> dict[str, dict]:
    """order_id → the delivery log's item (plain values)."""
    items = scan_all(lab.client("dynamodb"), shop["events"].deliveries)
    return {
        item["order_id"]["S"]: {k: next(iter(v.values())) for k, v in item.items()}
        for item in items
    }


def set_consumer(lab, shop, enabled: bool) -> None:
    lambda_ = lab.client("lambda")
    uuid_ = shop["events"].mapping
    lambda_.update_event_source_mapping(UUID=uuid_, Enabled=enabled)
    state = "Enabled" if enabled else "Disabled"
    lab.settle(until=lambda: lambda_.get_event_source_mapping(UUID=uuid_)["State"] == state)


def publish(lab, shop, event: dict, total: str | None) -> str:
    return lab.client("sns").publish(
        TopicArn=shop["events"].topic,
        Message=json.dumps(event),
        MessageAttributes=order_attributes(total, event_type=event.get("type", "?")),
    )["MessageId"]


def test_nothing_is_lost_while_the_consumer_is_down(lab, shop):
    """GIVEN the event source mapping disabled WHEN orders are placed THEN all are accepted and
    wait in the queue; WHEN it is enabled again THEN each is notified exactly once, none is in
    the DLQ, and each is in Aurora and on the stream."""
    sqs, events = lab.client("sqs"), shop["events"]
    lab.settle()
    stream_before = len(stream_events(lab, events.stream))
    log_before = len(consumer_log(lab, shop))
    set_consumer(lab, shop, enabled=False)

    placed = []
    for i in range(OUTAGE_ORDERS):
        user = shop["customers"][i % 2]
        items = [{"sku": f"sku-{i}", "quantity": 1 + i % 3, "unit_price": 9.5 + i}]
        resp = requests.post(f"{shop['orders'].url}/orders", json={"user_id": user, "items": items})
        assert resp.status_code == 201, resp.text
        placed.append(resp.json())
        lab.clock.advance(BETWEEN_ORDERS_S)
    waiting = queue_depth(sqs, events.queue)
    notified_during_outage = set(deliveries(lab, shop)) & {o["order_id"] for o in placed}

    set_consumer(lab, shop, enabled=True)
    lab.settle()

    assert waiting == OUTAGE_ORDERS
    assert notified_during_outage == set()
    log = deliveries(lab, shop)
    for order in placed:
        assert (log[order["order_id"]]["email"], log[order["order_id"]]["total"]) == (
            order["email"],
            order["total"],
        )
    notified = [
        line["order_id"]
        for line in consumer_log(lab, shop)[log_before:]
        if "notified" in line and "order_id" in line
    ]
    assert sorted(notified) == sorted(o["order_id"] for o in placed)  # each exactly once
    assert (queue_depth(sqs, events.queue), queue_depth(sqs, events.dlq)) == (0, 0)
    # the first order waited in the queue through the whole outage, by the queue's clock
    first = log[placed[0]["order_id"]]
    assert int(first["queued_ms"]) >= (OUTAGE_ORDERS - 1) * BETWEEN_ORDERS_S * 1000
    streamed = stream_events(lab, events.stream)[stream_before:]
    assert [(r["type"], r["partition_key"], r["order_id"]) for r in streamed] == [
        ("OrderPlaced", o["user_id"], o["order_id"]) for o in placed
    ]
    in_aurora = shop["orders"].sql(lab, "SELECT order_id FROM orders")
    assert {o["order_id"] for o in placed} <= {row["order_id"] for row in in_aurora}


def test_an_order_delivered_twice_is_notified_once(lab, shop):
    """GIVEN the same OrderPlaced published twice (an at-least-once redelivery) THEN one
    delivery item, one notification, and both messages deleted (none comes back, none in the
    DLQ)."""
    sqs, events = lab.client("sqs"), shop["events"]
    lab.settle()
    log_before = len(consumer_log(lab, shop))
    order_id = f"twice-{uuid.uuid4().hex[:8]}"
    event = order_placed(order_id, "75.00")

    publish(lab, shop, event, "75.00")
    publish(lab, shop, event, "75.00")
    lab.settle()

    assert deliveries(lab, shop)[order_id]["email"] == "ada@example.com"
    lines = consumer_log(lab, shop)[log_before:]
    notified = [line["order_id"] for line in lines if "notified" in line and "order_id" in line]
    assert notified == [order_id]
    batches = [line for line in lines if "batch" in line]
    assert sum(b["notified"] for b in batches) == 1
    assert sum(b["duplicate"] for b in batches) == 1
    assert sum(b["failed"] for b in batches) == 0
    assert (queue_depth(sqs, events.queue), queue_depth(sqs, events.dlq)) == (0, 0)


def test_a_poison_message_goes_to_the_dlq_and_its_batch_is_done(lab, shop):
    """GIVEN a message that is not an OrderPlaced queued with three orders THEN the orders are
    notified on their first receive, and the poison is refused maxReceiveCount (3) times, then
    moves to the DLQ, alone."""
    sqs, events = lab.client("sqs"), shop["events"]
    lab.settle()
    log_before = len(consumer_log(lab, shop))
    set_consumer(lab, shop, enabled=False)
    orders = [order_placed(f"batch-{i}-{uuid.uuid4().hex[:6]}", "20.00") for i in range(3)]
    publish(lab, shop, orders[0], "20.00")
    publish(lab, shop, {"type": "Gossip", "text": "not an order"}, "0")
    for order in orders[1:]:
        publish(lab, shop, order, "20.00")

    set_consumer(lab, shop, enabled=True)
    lab.settle()

    log = deliveries(lab, shop)
    assert [int(log[o["order_id"]]["receive_count"]) for o in orders] == [1, 1, 1]
    lines = consumer_log(lab, shop)[log_before:]
    refused = [line["message_id"] for line in lines if "refused" in line]
    assert len(refused) == 3 and len(set(refused)) == 1
    # the poison shared a batch with orders, which were done there
    assert any(b["failed"] == 1 and b["notified"] >= 1 for b in lines if "batch" in b)
    (dead,) = drain(sqs, events.dlq)
    assert json.loads(json.loads(dead["Body"])["Message"]) == {
        "type": "Gossip",
        "text": "not an order",
    }
    assert queue_depth(sqs, events.queue) == 0


def test_an_order_placed_it_cannot_store_fails_alone(lab, shop):
    topic = shop["events"].topic
    good = order_placed(f"good-{uuid.uuid4().hex[:6]}", "20.00")
    odd = order_placed(f"odd-{uuid.uuid4().hex[:6]}", 150.5)
    batch = {
        "Records": [
            sqs_record(sns_envelope(good, topic, str(uuid.uuid4())), "m0"),
            sqs_record(sns_envelope(odd, topic, str(uuid.uuid4())), "m1"),
        ]
    }

    resp = lab.client("lambda").invoke(
        FunctionName=shop["events"].notifier, Payload=json.dumps(batch).encode()
    )

    answer = json.loads(resp["Payload"].read())
    assert "FunctionError" not in resp, answer
    assert answer["batchItemFailures"] in ([], [{"itemIdentifier": "m1"}])
