"""MyBlog's public REST API: one function behind API Gateway REST API Lambda proxy integrations.

Routes (the API's resources; `{id}` is a path parameter):
    GET  /posts            newest first, from the posts table's `by-date` index
    GET  /posts/{id}       one post, or 404
    POST /posts            create a post from JSON {title, body, author?, summary?, tags?}
    POST /subscribers      subscribe {email, name?}: 201, or 409 when already subscribed
    POST /photos           a presigned S3 PUT URL for one image {filename}

Environment: POSTS_TABLE, SUBSCRIBERS_TABLE, PHOTOS_BUCKET; optional POSTS_INDEX (`by-date`),
UPLOAD_PREFIX (`uploads/`), ALLOWED_ORIGIN (`*`).
"""

import json
import os
import re
import secrets
import uuid
from datetime import datetime, timezone
from decimal import Decimal

import boto3
from botocore.config import Config

# clients are made once per execution environment (at init) and reused by warm invocations
dynamodb = boto3.resource("dynamodb")
posts = dynamodb.Table(os.environ["POSTS_TABLE"])
subscribers = dynamodb.Table(os.environ["SUBSCRIBERS_TABLE"])
s3 = boto3.client("s3", config=Config(signature_version="s3v4"))  # presigned URLs: SigV4

POSTS_INDEX = os.environ.get("POSTS_INDEX", "by-date")
UPLOAD_PREFIX = os.environ.get("UPLOAD_PREFIX", "uploads/")
ALLOWED_ORIGIN = os.environ.get("ALLOWED_ORIGIN", "*")
UPLOAD_EXPIRES_S = 300  # a presigned URL is good for 5 minutes
IMAGE_TYPES = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "gif": "image/gif",
}
EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")

# what CloudFront and browsers may cache: the list briefly (new posts show within a minute),
# one post longer, a missing post a little (so a new one soon appears); writes never
CACHE_LIST = "public, max-age=60"
CACHE_POST = "public, max-age=300"
CACHE_MISSING = "public, max-age=10"
NO_STORE = "no-store"


class BadRequest(Exception):
    """Input the client must fix: answered with 400 and this message."""


def handler(event, context):
    method, resource = event["httpMethod"], event["resource"]
    # one JSON line per request: the route API Gateway matched and the parameters it extracted
    request = {k: event.get(k) for k in ("resource", "path", "httpMethod", "pathParameters")}
    request["query"] = event.get("queryStringParameters")
    request["stage"] = (event.get("requestContext") or {}).get("stage")
    print(json.dumps({"request": request}))
    try:
        if method == "OPTIONS":  # a browser's CORS preflight before a cross-origin POST
            return respond(204, None, NO_STORE, preflight=True)
        route = ROUTES.get((method, resource))
        if route is None:
            allowed = any(r == resource for _, r in ROUTES)
            status = 405 if allowed else 404
            return respond(status, {"message": f"no route for {method} {event['path']}"}, NO_STORE)
        return route(event)
    except BadRequest as exc:
        return respond(400, {"message": str(exc)}, NO_STORE)


# ---- posts ------------------------------------------------------------------------------------
def list_posts(event):
    # Query, not Scan: the index keeps every post under one partition key ("kind" = "post")
    # sorted by published_at, so newest first is a read of just the items returned. One
    # partition is fine for a blog's few thousand posts; a busy feed would shard the key.
    limit = int_param(event, "limit", default=20, low=1, high=100)
    resp = posts.query(
        IndexName=POSTS_INDEX,
        KeyConditionExpression="kind = :kind",
        ExpressionAttributeValues={":kind": "post"},
        ScanIndexForward=False,  # descending sort key: newest first
        Limit=limit,
        ReturnConsumedCapacity="TOTAL",
    )
    log_read("Query", resp, event, items=len(resp["Items"]))
    summaries = [
        {k: v for k, v in item.items() if k not in ("body", "kind")} for item in resp["Items"]
    ]
    return respond(200, {"posts": summaries}, CACHE_LIST)


def get_post(event):
    post_id = event["pathParameters"]["id"]
    resp = posts.get_item(Key={"id": post_id}, ReturnConsumedCapacity="TOTAL")
    log_read("GetItem", resp, event, items=int("Item" in resp))
    if "Item" not in resp:
        return respond(404, {"message": f"post {post_id!r} not found"}, CACHE_MISSING)
    post = {k: v for k, v in resp["Item"].items() if k != "kind"}
    return respond(200, post, CACHE_POST)


def create_post(event):
    # A public API lets anyone post: on a real blog this route needs an authorizer (a Cognito
    # user pool or IAM) or an API key; chapter 3 adds one.
    data = json_body(event)
    title = text(data, "title", required=True, limit=200)
    body = text(data, "body", required=True, limit=20_000)
    tags = data.get("tags", [])
    if not (isinstance(tags, list) and len(tags) <= 10 and all(is_short_text(t) for t in tags)):
        raise BadRequest("tags must be a list of at most 10 strings of 1-30 characters")
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:50] or "post"
    post = {
        "id": f"{slug}-{secrets.token_hex(3)}",
        "kind": "post",
        "title": title,
        "author": text(data, "author", limit=100) or "Anonymous",
        "published_at": now(),
        "summary": text(data, "summary", limit=300) or body[:160],
        "body": body,
        "tags": tags,
    }
    # never overwrite: a (very unlikely) id collision fails instead of replacing a post
    posts.put_item(Item=post, ConditionExpression="attribute_not_exists(id)")
    del post["kind"]
    return respond(201, post, NO_STORE, location=f"/posts/{post['id']}")


# ---- subscribers ------------------------------------------------------------------------------
def subscribe(event):
    data = json_body(event)
    email = data.get("email")
    if not isinstance(email, str) or len(email) > 254 or not EMAIL.match(email.strip()):
        raise BadRequest("email must be an email address, e.g. ada@example.com")
    email = email.strip().lower()  # one subscription per mailbox, whatever the capitals
    item = {"email": email, "subscribed_at": now()}
    name = text(data, "name", limit=100)
    if name and ("<" in name or ">" in name):  # it goes into the welcome email's HTML
        raise BadRequest("name must not contain < or >")
    if name:
        item["name"] = name
    try:
        # the condition makes the put atomic: a second subscription of the same address fails
        # instead of silently replacing the first (and its welcome state)
        subscribers.put_item(Item=item, ConditionExpression="attribute_not_exists(email)")
    except subscribers.meta.client.exceptions.ConditionalCheckFailedException:
        # 409 tells the caller the address is known; a stricter site would answer 202 to all
        # so that nobody can probe who subscribed
        return respond(409, {"message": f"{email} is already subscribed"}, NO_STORE)
    return respond(201, {"email": email, "subscribed": True}, NO_STORE)


# ---- photo uploads ----------------------------------------------------------------------------
def upload_url(event):
    data = json_body(event)
    filename = data.get("filename")
    ext = (
        filename.rsplit(".", 1)[-1].lower() if isinstance(filename, str) and "." in filename else ""
    )
    if ext not in IMAGE_TYPES:
        raise BadRequest(f"filename must end in one of: .{', .'.join(IMAGE_TYPES)}")
    content_type = IMAGE_TYPES[ext]
    key = f"{UPLOAD_PREFIX}{uuid.uuid4()}.{ext}"  # our name, never the user's: no clashes
    # The URL signs the Content-Type header: a PUT with any other type fails with 403
    # SignatureDoesNotMatch. It expires after 5 minutes, or earlier when the function's own
    # temporary credentials expire (the URL is signed with them).
    url = s3.generate_presigned_url(
        "put_object",
        Params={"Bucket": os.environ["PHOTOS_BUCKET"], "Key": key, "ContentType": content_type},
        ExpiresIn=UPLOAD_EXPIRES_S,
        HttpMethod="PUT",
    )
    return respond(
        200,
        {
            "upload_url": url,
            "method": "PUT",
            "headers": {"Content-Type": content_type},
            "key": key,
            "name": key.removeprefix(UPLOAD_PREFIX),
            "expires_in": UPLOAD_EXPIRES_S,
        },
        NO_STORE,
    )


ROUTES = {
    ("GET", "/posts"): list_posts,
    ("GET", "/posts/{id}"): get_post,
    ("POST", "/posts"): create_post,
    ("POST", "/subscribers"): subscribe,
    ("POST", "/photos"): upload_url,
}


# ---- helpers ----------------------------------------------------------------------------------
def respond(status, body, cache_control, *, preflight=False, location=None):
    """A Lambda proxy integration response: API Gateway sends statusCode, headers and body."""
    headers = {
        "Content-Type": "application/json",
        "Cache-Control": cache_control,
        "Access-Control-Allow-Origin": ALLOWED_ORIGIN,
    }
    if preflight:
        headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        headers["Access-Control-Allow-Headers"] = "Content-Type"
        headers["Access-Control-Max-Age"] = "600"
    if location:
        headers["Location"] = location
    payload = "" if body is None else json.dumps(body, default=from_decimal)
    return {"statusCode": status, "headers": headers, "body": payload, "isBase64Encoded": False}


def log_read(operation, resp, event, *, items):
    """One JSON line per DynamoDB read: CloudWatch Logs Insights (or a notebook) sums the RCUs."""
    consumed = resp.get("ConsumedCapacity", {})
    record = {
        "metric": "dynamodb_read",
        "operation": operation,
        "table": consumed.get("TableName"),
        "consumed_rcu": consumed.get("CapacityUnits", 0),
        "items": items,
        "route": f"{event['httpMethod']} {event['resource']}",
        "request_id": event.get("requestContext", {}).get("requestId"),
    }
    print(json.dumps(record))


def json_body(event):
    raw = event.get("body") or ""
    if event.get("isBase64Encoded"):
        raise BadRequest("send the body as JSON text (Content-Type: application/json)")
    try:
        data = json.loads(raw)
    except ValueError:
        raise BadRequest("the request body must be valid JSON") from None
    if not isinstance(data, dict):
        raise BadRequest("the request body must be a JSON object")
    return data


def text(data, field, *, required=False, limit):
    value = data.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise BadRequest(f"{field} must be a non-empty string of at most {limit} characters")
    return value.strip()


def is_short_text(value):
    return isinstance(value, str) and 1 <= len(value) <= 30


def int_param(event, name, *, default, low, high):
    raw = (event.get("queryStringParameters") or {}).get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise BadRequest(f"{name} must be a whole number from {low} to {high}")
    return int(raw)


def from_decimal(value):
    """DynamoDB numbers arrive as Decimal: JSON gets int or float."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def now():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
