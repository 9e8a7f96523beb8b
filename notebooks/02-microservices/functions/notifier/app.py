"""The notifications service: tells customers their order is placed. An SQS event source.

The orders service publishes `OrderPlaced` to an SNS topic; the topic delivers each message to
this service's queue, wrapped in SNS's envelope (`Type`, `MessageId`, `TopicArn`, `Message`,
`Timestamp`, `MessageAttributes`...); Lambda polls the queue and calls this function with
batches of records.

For each order it writes one item to the delivery log table (`order_id` is the key), the
record a real service would keep beside the email or push message it sends, with how long the
message waited in the queue (`ApproximateFirstReceiveTimestamp - SentTimestamp`, both stamped by
SQS). Delivery is at
least once (SNS and SQS may both deliver a message twice), so the write is conditional: a
second copy of an order is recognised and skipped, and no customer hears twice.

A record that cannot be handled (not an SNS envelope, not an `OrderPlaced`) is reported in
`batchItemFailures` (the event source mapping has `ReportBatchItemFailures`): only it returns
to the queue, and after the queue's maxReceiveCount it moves to the dead-letter queue; the rest
of the batch is done.

Environment: DELIVERIES_TABLE.
"""

import json
import os

import boto3

deliveries = boto3.resource("dynamodb").Table(os.environ["DELIVERIES_TABLE"])


def handler(event, context):
    failures, outcome = [], {"notified": 0, "duplicate": 0, "failed": 0}
    for record in event["Records"]:
        try:
            order = order_placed(record)
        except ValueError as error:
            print(json.dumps({"message_id": record["messageId"], "refused": str(error)}))
            failures.append({"itemIdentifier": record["messageId"]})
            outcome["failed"] += 1
            continue
        try:
            outcome["notified" if notify(order, record) else "duplicate"] += 1
        except Exception as error:  # throttled, or not storable: this record comes back alone
            print(json.dumps({"message_id": record["messageId"], "failed": repr(error)}))
            failures.append({"itemIdentifier": record["messageId"]})
            outcome["failed"] += 1
    print(json.dumps({"batch": len(event["Records"]), **outcome}))
    return {"batchItemFailures": failures}


def order_placed(record):
    """The OrderPlaced event inside an SQS record holding an SNS notification."""
    try:
        envelope = json.loads(record["body"])
        event = json.loads(envelope["Message"])
    except (ValueError, KeyError, TypeError):
        raise ValueError("the body is not an SNS notification holding JSON") from None
    if not isinstance(event, dict) or event.get("type") != "OrderPlaced":
        raise ValueError(f"not an OrderPlaced event: {str(event)[:80]}")
    missing = {"order_id", "email", "total"} - set(event)
    if missing:
        raise ValueError(f"OrderPlaced without {sorted(missing)}")
    return event


def notify(order, record):
    """Send (here: log) the notification once; False when this order was already notified."""
    attributes = record["attributes"]
    sent_ms = int(attributes["SentTimestamp"])
    try:
        deliveries.put_item(
            Item={
                "order_id": order["order_id"],
                "email": order["email"],
                "total": str(order["total"]),
                # how long the message waited in the queue, by the queue's own clock
                "sent_ms": sent_ms,
                "queued_ms": int(attributes["ApproximateFirstReceiveTimestamp"]) - sent_ms,
                "receive_count": int(attributes["ApproximateReceiveCount"]),
            },
            ConditionExpression="attribute_not_exists(order_id)",
        )
    except deliveries.meta.client.exceptions.ConditionalCheckFailedException:
        return False
    print(json.dumps({"notified": order["email"], "order_id": order["order_id"]}))
    return True
