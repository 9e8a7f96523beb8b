"""The orders service: takes an order, stores it, and publishes OrderPlaced to SNS.

Invoked with {"email": ..., "items": [{"sku": ..., "quantity": 1, "unit_price": 9.99}]}, it
answers like an API would: 201 and the order, or 400 and a message. It does not wait for
anyone to act on the event: notifications reads it from its queue, when it can.

Environment: ORDERS_TABLE, TOPIC_ARN.
"""

import json
import os
import uuid
from decimal import Decimal

import boto3

orders = boto3.resource("dynamodb").Table(os.environ["ORDERS_TABLE"])
sns = boto3.client("sns")


def handler(event, context):
    try:
        items = [
            (i["sku"], int(i["quantity"]), Decimal(str(i["unit_price"]))) for i in event["items"]
        ]
        order = {
            "type": "OrderPlaced",
            "order_id": uuid.uuid4().hex[:12],
            "email": event["email"],
            "total": str(sum(price * quantity for _, quantity, price in items)),
        }
    except (KeyError, TypeError, ValueError, ArithmeticError):
        return answer(
            400,
            {"message": 'expected {"email": ..., "items": [{"sku", "quantity", "unit_price"}]}'},
        )
    orders.put_item(
        Item={"order_id": order["order_id"], "email": order["email"], "total": order["total"]}
    )

    # the asynchronous call: publish the event and move on
    sns.publish(
        TopicArn=os.environ["TOPIC_ARN"],
        Message=json.dumps(order),
        MessageAttributes={"event_type": {"DataType": "String", "StringValue": "OrderPlaced"}},
    )
    return answer(201, order)


def answer(status, body):
    return {"statusCode": status, "body": json.dumps(body)}
