"""The users service: people who place orders. API Gateway REST API, Lambda proxy integration.

Routes (the API's resources; `{user_id}` is a path parameter):
    GET  /users              list the users (at most 100): 200
    POST /users              register {name, email}: 201 with the record, 400 if invalid
    GET  /users/{user_id}    look one up: 200, or 404

Two versions of the API's contract live side by side, chosen by the function's configuration
(API_VERSION), which a published Lambda version freezes with the code:
    1  a user is {user_id, name, email}
    2  adds `display_name` ("Ada L.") and `links.orders`, the address of the user's orders

Every answer carries `X-Api-Version` and `X-Function-Version` (the Lambda version that ran it),
so a client sees which version answered, as a canary deployment needs.

Environment: USERS_TABLE; API_VERSION (1 or 2, default 1); optional ORDERS_URL (version 2's
links) and FAULT_DELAY_MS, a delay injected before every answer — what AWS Fault Injection
Service's `aws:lambda:invocation-add-delay` action does — to play a slow release.
"""

import json
import os
import re
import time
import uuid

import boto3

users = boto3.resource("dynamodb").Table(os.environ["USERS_TABLE"])

API_VERSION = os.environ.get("API_VERSION", "1")
ORDERS_URL = os.environ.get("ORDERS_URL", "")
FAULT_DELAY_MS = int(os.environ.get("FAULT_DELAY_MS", "0"))
EMAIL = re.compile(r"^[^@\s/]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


class Refused(Exception):
    """A request answered with `status` and this message."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def handler(event, context):
    method, resource = event["httpMethod"], event["resource"]
    route = ROUTES.get((method, resource))
    print(json.dumps({"route": f"{method} {resource}", "api_version": API_VERSION}))
    if FAULT_DELAY_MS:
        time.sleep(FAULT_DELAY_MS / 1000)
    try:
        if route is None:
            raise Refused(404, f"no route for {method} {event['path']}")
        status, body = route(event)
    except Refused as exc:
        status, body = exc.status, {"message": str(exc)}
    return {
        "statusCode": status,
        "headers": {
            "Content-Type": "application/json",
            "X-Api-Version": API_VERSION,
            "X-Function-Version": context.function_version,
        },
        "body": json.dumps(body),
    }


def list_users(event):
    items = users.scan(Limit=100)["Items"]
    return 200, {"users": [shape(item) for item in items]}


def register(event):
    try:
        body = json.loads(event.get("body") or "")
    except ValueError:
        raise Refused(400, 'the body must be JSON: {"name": ..., "email": ...}') from None
    if not isinstance(body, dict):
        raise Refused(400, 'the body must be a JSON object: {"name": ..., "email": ...}')
    name = str(body.get("name") or "").strip()
    email = str(body.get("email") or "").strip().lower()
    if not name or len(name) > 100:
        raise Refused(400, "name is required (1 to 100 characters)")
    if not EMAIL.match(email):
        raise Refused(400, f"email {email!r} is not an email address")
    item = {"user_id": uuid.uuid4().hex[:12], "name": name, "email": email}
    users.put_item(Item=item)
    return 201, shape(item)


def get_user(event):
    user_id = event["pathParameters"]["user_id"]
    item = users.get_item(Key={"user_id": user_id}).get("Item")
    if item is None:
        raise Refused(404, f"no user {user_id!r}")
    return 200, shape(item)


def shape(item):
    """A user as this version of the API shows it."""
    user = {"user_id": item["user_id"], "name": item["name"], "email": item["email"]}
    if API_VERSION == "2":
        first, *rest = item["name"].split()
        user["display_name"] = f"{first} {rest[-1][0]}." if rest else first
        user["links"] = {"orders": f"{ORDERS_URL}/orders?user_id={item['user_id']}"}
    return user


ROUTES = {
    ("GET", "/users"): list_users,
    ("POST", "/users"): register,
    ("GET", "/users/{user_id}"): get_user,
}
