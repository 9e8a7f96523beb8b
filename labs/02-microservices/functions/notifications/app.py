"""The notifications service: tells a customer their order is placed.

It is called two ways, and writes one item per order to its delivery log (the DynamoDB table
DELIVERIES_TABLE, key `order_id`), the record a real service keeps beside the email it sends:

- directly, `lambda invoke` with the OrderPlaced event as the payload (how orders calls it
  today): a failure raises, so the caller sees it;
- from its SQS queue, through an event source mapping: a batch of records whose bodies are
  OrderPlaced events (the SNS subscription delivers them raw). A record it cannot handle is
  reported in `batchItemFailures`, so only that record returns to the queue (and, after the
  queue's maxReceiveCount, moves to the dead-letter queue).

Each item says how the event came (`via`: invoke or queue) and, from the queue, how long the
message waited there (`queued_ms`, by SQS's own timestamps). Delivery is at least once, so the
write is conditional: a second copy of an order is recognised and skipped.

Environment: DELIVERIES_TABLE.
"""

import json
import os

import boto3

deliveries = boto3.resource("dynamodb").Table(os.environ["DELIVERIES_TABLE"])


def handler(event, context):
    if "Records" not in event:  # invoked directly: fail loudly, the caller is waiting
        notify(order_placed(event), via="invoke")
        return {"notified": event["order_id"]}
    failures = []
    for record in event["Records"]:
        try:
            order = order_placed(json.loads(record["body"]))
            notify(order, via="queue", record=record)
        except Exception as error:  # this record comes back alone; the rest of the batch is done
            print(json.dumps({"message_id": record["messageId"], "refused": str(error)}))
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


def order_placed(event):
    """The OrderPlaced event, checked: a message that is not one is refused."""
    if isinstance(event, dict) and event.get("Type") == "Notification" and "Message" in event:
        raise ValueError("an SNS envelope, not the event: the subscription needs raw delivery")
    if not isinstance(event, dict) or event.get("type") != "OrderPlaced":
        raise ValueError(f"not an OrderPlaced event: {str(event)[:80]}")
    missing = {"order_id", "email", "total"} - set(event)
    if missing:
        raise ValueError(f"OrderPlaced without {sorted(missing)}")
    return event


def notify(order, via, record=None):
    """Send (here: record) the notification once; a second copy of an order is skipped."""
    item = {"order_id": order["order_id"], "email": order["email"], "total": str(order["total"])}
    item["via"] = via
    if record is not None:
        sent_ms = int(record["attributes"]["SentTimestamp"])
        first_ms = int(record["attributes"]["ApproximateFirstReceiveTimestamp"])
        item.update(message_id=record["messageId"], queued_ms=first_ms - sent_ms)
    try:
        deliveries.put_item(Item=item, ConditionExpression="attribute_not_exists(order_id)")
    except deliveries.meta.client.exceptions.ConditionalCheckFailedException:
        print(json.dumps({"duplicate": order["order_id"]}))
        return
    print(json.dumps({"notified": order["email"], "order_id": order["order_id"], "via": via}))
