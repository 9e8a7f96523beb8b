"""The orders service: takes an order, stores it, and has the customer notified.

Invoked with {"email": ..., "items": [{"sku": ..., "quantity": 1, "unit_price": 9.99}]}, it
answers like an API would: 201 and the order, or 400 / 503 and a message.

Today it calls the notifications function synchronously (`InvocationType="RequestResponse"`)
and waits: when notifications fails, the order fails too, although it is already stored.

Environment: ORDERS_TABLE, NOTIFICATIONS_FUNCTION.
"""

import json
import os
import uuid
from decimal import Decimal

import boto3

orders = boto3.resource("dynamodb").Table(os.environ["ORDERS_TABLE"])
lambda_ = boto3.client("lambda")


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

    # the synchronous call: orders waits for notifications, and fails when it fails
    resp = lambda_.invoke(
        FunctionName=os.environ["NOTIFICATIONS_FUNCTION"],
        InvocationType="RequestResponse",
        Payload=json.dumps(order),
    )
    if "FunctionError" in resp:
        error = json.loads(resp["Payload"].read())
        return answer(503, {"message": f"notifications failed: {error.get('errorMessage')}"})
    return answer(201, order)


def answer(status, body):
    return {"statusCode": status, "body": json.dumps(body)}
