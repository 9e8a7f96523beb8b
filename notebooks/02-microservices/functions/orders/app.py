"""The orders service: takes orders. A Lambda target of an Application Load Balancer.

Routes (the load balancer's listener rules send `/orders` and `/orders/*` here):
    POST /orders                 place {user_id, items: [{sku, quantity, unit_price}]}: 201
    GET  /orders/{order_id}      one order: 200 (from the cache when it can), or 404
    GET  /orders?user_id=...     a user's orders, newest first: 200

Placing an order shows the two ways services talk:

- synchronously, it asks the users service (its REST API, over HTTPS) whether the user exists,
  and waits: when users is down or slow the order is refused with 503, since nothing can be
  promised without it (404 from users becomes 422);
- it stores the order in Aurora PostgreSQL through the RDS Data API;
- asynchronously, it publishes `OrderPlaced` to an SNS topic (with `event_type` and `total` as
  message attributes, for subscription filter policies) and puts it on a Kinesis stream for
  analytics, and does not wait for anyone to act on it.

Reads go through a cache-aside read cache in ElastiCache (Valkey): `X-Cache: Hit` or `Miss`.
A cache that cannot be reached is logged and skipped: the database still answers.

A call that finds the database paused (Aurora Serverless v2 with a minimum of 0 ACUs pauses when
idle) is answered 503 with `Retry-After`: the Data API says DatabaseResumingException and the
database takes seconds to resume.

Every answer carries `Server-Timing` (the users call, the database, the cache, the publish, in
ms), the W3C header browsers show in their network panel.

Environment: USERS_URL (the users API's base URL, e.g. https://{id}.execute-api.{region}.
amazonaws.com/prod), CLUSTER_ARN, SECRET_ARN, DATABASE, TOPIC_ARN, STREAM_NAME, CACHE_HOST,
CACHE_PORT; optional USERS_TIMEOUT (seconds, default 2), CACHE_TTL (seconds, default 300).
"""

import base64
import json
import os
import ssl
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

import boto3
import redis

rds_data = boto3.client("rds-data")
sns = boto3.client("sns")
kinesis = boto3.client("kinesis")

USERS_URL = os.environ["USERS_URL"].rstrip("/")
USERS_TIMEOUT = float(os.environ.get("USERS_TIMEOUT", "2"))
CACHE_TTL = int(os.environ.get("CACHE_TTL", "300"))
DATABASE = {
    "resourceArn": os.environ["CLUSTER_ARN"],
    "secretArn": os.environ["SECRET_ARN"],
    "database": os.environ["DATABASE"],
}
_cache = None
# one TLS context for every call to users: making one reads the whole trust store (tens of ms)
TLS = ssl.create_default_context()


class Refused(Exception):
    """A request answered with `status` and this message (and `Retry-After`, in seconds)."""

    def __init__(self, status, message, retry_after=None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


def handler(event, context):
    timings = {}
    method, path = event["httpMethod"], event["path"].rstrip("/")
    headers = {"Content-Type": "application/json"}
    try:
        if method == "POST" and path == "/orders":
            status, body = 201, place(event, timings)
        elif method == "GET" and path == "/orders":
            status, body = 200, list_orders(event, timings)
        elif method == "GET" and path.startswith("/orders/") and path.count("/") == 2:
            body, hit = get_order(path.rsplit("/", 1)[1], timings)
            status, headers["X-Cache"] = 200, "Hit" if hit else "Miss"
        else:
            raise Refused(404, f"no route for {method} {event['path']}")
    except Refused as exc:
        status, body = exc.status, {"message": str(exc)}
        if exc.retry_after:
            headers["Retry-After"] = str(exc.retry_after)
    print(json.dumps({"route": f"{method} {path}", "status": status, "timings_ms": timings}))
    headers["Server-Timing"] = ", ".join(f"{k};dur={v}" for k, v in timings.items())
    return {
        "statusCode": status,
        "statusDescription": f"{status} {STATUS_TEXT.get(status, '')}".strip(),
        "headers": headers,
        "body": json.dumps(body, default=str),
        "isBase64Encoded": False,
    }


# ---- placing an order -------------------------------------------------------------------------
def place(event, timings):
    order = parse_order(event)
    with timed(timings, "users"):
        user = fetch_user(order["user_id"])
    order.update(order_id=uuid.uuid4().hex[:16], email=user["email"], placed_at=now_iso())
    with timed(timings, "db"):
        sql(
            "INSERT INTO orders (order_id, user_id, total, items, placed_at)"
            " VALUES (:order_id, :user_id, :total, CAST(:items AS JSONB), :placed_at)",
            order_id=order["order_id"],
            user_id=order["user_id"],
            total=Decimal(order["total"]),
            items=json.dumps(order["items"]),
            placed_at=order["placed_at"],
        )
    with timed(timings, "publish"):
        announce(order)
    return order


def parse_order(event):
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8", "replace")
    try:
        request = json.loads(body)
        items = [
            {
                "sku": str(item["sku"]),
                "quantity": whole(item["quantity"]),
                "unit_price": str(price(item["unit_price"])),
            }
            for item in request["items"]
        ]
        user_id = str(request["user_id"]).strip()
    except (ValueError, KeyError, TypeError, InvalidOperation):
        raise Refused(
            400,
            'the body must be JSON: {"user_id": ..., "items": [{"sku": ..., "quantity": 1,'
            ' "unit_price": 9.99}]}',
        ) from None
    if not user_id:
        raise Refused(400, "user_id must name a user")
    if not items or any(i["quantity"] < 1 or Decimal(i["unit_price"]) < 0 for i in items):
        raise Refused(400, "an order needs at least one item, each with quantity >= 1")
    total = sum(Decimal(i["unit_price"]) * i["quantity"] for i in items)
    return {"user_id": user_id, "items": items, "total": str(total)}


def whole(value):
    """A quantity: a whole number (2 or 2.0), never a bool or 2.5."""
    if isinstance(value, bool) or not float(value).is_integer():
        raise ValueError(f"quantity {value!r} is not a whole number")
    return int(value)


def price(value):
    """A finite, non-negative amount, to the cent (Decimal, never float arithmetic)."""
    amount = Decimal(str(value))
    if not amount.is_finite():
        raise ValueError(f"unit_price {value!r} is not a number")
    return amount.quantize(Decimal("0.01"))


def fetch_user(user_id):
    """The synchronous call: GET {USERS_URL}/users/{id}, waiting at most USERS_TIMEOUT s."""
    url = f"{USERS_URL}/users/{urllib.request.quote(user_id, safe='')}"
    try:
        with urllib.request.urlopen(url, timeout=USERS_TIMEOUT, context=TLS) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        if error.code == 404:
            raise Refused(
                422, f"no user {user_id!r}: the users service does not know them"
            ) from None
        reason = f"answered {error.code}"
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = f"did not answer ({getattr(error, 'reason', error)})"
    raise Refused(503, f"the users service {reason}; the order was not placed, try again later")


def announce(order):
    """The asynchronous part: tell whoever listens, without waiting for them."""
    event = {
        "type": "OrderPlaced",
        "order_id": order["order_id"],
        "user_id": order["user_id"],
        "email": order["email"],
        "total": order["total"],
        "placed_at": order["placed_at"],
        "published_ms": int(time.time() * 1000),
    }
    sns.publish(
        TopicArn=os.environ["TOPIC_ARN"],
        Message=json.dumps(event),
        MessageAttributes={
            "event_type": {"DataType": "String", "StringValue": "OrderPlaced"},
            "total": {"DataType": "Number", "StringValue": order["total"]},
        },
    )
    kinesis.put_record(
        StreamName=os.environ["STREAM_NAME"], Data=json.dumps(event), PartitionKey=order["user_id"]
    )


# ---- reading orders ---------------------------------------------------------------------------
def get_order(order_id, timings):
    """Cache-aside: the cache first; on a miss, the database, then fill the cache."""
    key = f"order:{order_id}"
    with timed(timings, "cache"):
        cached = cache_call("get", key)
    if cached is not None:
        return json.loads(cached), True
    with timed(timings, "db"):
        rows = sql(
            "SELECT order_id, user_id, total, items, placed_at FROM orders WHERE order_id = :id",
            id=order_id,
        )
    if not rows:
        raise Refused(404, f"no order {order_id!r}")
    order = rows[0]
    order["items"] = json.loads(order["items"])  # the Data API answers JSONB as its text
    with timed(timings, "cache"):
        cache_call("set", key, json.dumps(order, default=str), ex=CACHE_TTL)
    return order, False


def list_orders(event, timings):
    user_id = (event.get("queryStringParameters") or {}).get("user_id")
    if not user_id:
        raise Refused(400, "say whose orders: GET /orders?user_id=...")
    with timed(timings, "db"):
        rows = sql(
            "SELECT order_id, total, placed_at FROM orders WHERE user_id = :user_id"
            " ORDER BY placed_at DESC LIMIT 50",
            user_id=urllib.request.unquote(user_id),
        )
    return {"orders": rows}


# ---- the plumbing -----------------------------------------------------------------------------
def sql(statement, **values):
    """Run one statement through the RDS Data API; rows as dicts."""
    parameters = [typed(name, value) for name, value in values.items()]
    try:
        result = rds_data.execute_statement(
            **DATABASE, sql=statement, parameters=parameters, formatRecordsAs="JSON"
        )
    except rds_data.exceptions.DatabaseResumingException:
        # Aurora Serverless v2 paused (minimum 0 ACUs): it resumes in about 15 s
        raise Refused(503, "the database is resuming; try again shortly", retry_after=15) from None
    return json.loads(result.get("formattedRecords") or "[]")


def typed(name, value):
    if isinstance(value, Decimal):
        return {"name": name, "value": {"stringValue": str(value)}, "typeHint": "DECIMAL"}
    if name.endswith("_at"):
        stamp = value.replace("T", " ").rstrip("Z")
        return {"name": name, "value": {"stringValue": stamp}, "typeHint": "TIMESTAMP"}
    return {"name": name, "value": {"stringValue": str(value)}}


def cache_call(command, *args, **options):
    """A cache command, or None when the cache cannot be reached (logged; the database answers)."""
    global _cache
    try:
        if _cache is None:
            _cache = redis.Redis(
                host=os.environ["CACHE_HOST"],
                port=int(os.environ["CACHE_PORT"]),
                ssl=True,
                socket_timeout=0.5,
                socket_connect_timeout=0.5,
            )
        return getattr(_cache, command)(*args, **options)
    except redis.RedisError as error:
        print(json.dumps({"cache_error": f"{type(error).__name__}: {error}"}))
        _cache = None
        return None


class timed:
    """Adds the block's duration, in ms, to timings[name]."""

    def __init__(self, timings, name):
        self.timings, self.name = timings, name

    def __enter__(self):
        self.start = time.perf_counter()

    def __exit__(self, *exc):
        spent = (time.perf_counter() - self.start) * 1000
        self.timings[self.name] = round(self.timings.get(self.name, 0) + spent, 1)


def now_iso():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


STATUS_TEXT = {
    200: "OK",
    201: "Created",
    400: "Bad Request",
    404: "Not Found",
    422: "Unprocessable Entity",
    503: "Service Unavailable",
}
