"""MyBlog's API function, invoked with API Gateway REST API proxy events (payload v1).

Contract: a proxy integration response is {statusCode, headers, body, isBase64Encoded}; the API
answers JSON with a CORS header and a Cache-Control suited to its content; posts list newest
first; a missing post is 404; bad input is 400 with a message; a second subscription of one
address is 409 (a conditional put, not a duplicate); photo uploads get a SigV4 presigned S3
PUT URL that signs the Content-Type and expires in 300 s; each DynamoDB read logs its consumed
capacity as one JSON line.
https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
"""

from __future__ import annotations

import copy
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.myblog.support import SITE, json_logs, sample_event

SEED = json.loads((SITE / "posts.json").read_text())
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"


@pytest.fixture(scope="module")
def blog(lab, deploy_app):
    """The posts table (with its by-date index) seeded from site/posts.json, the subscribers
    table, the photos bucket and the API function."""
    ddb = lab.client("dynamodb")
    posts_table = lab.name("posts")
    ddb.create_table(
        TableName=posts_table,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "id", "AttributeType": "S"},
            {"AttributeName": "kind", "AttributeType": "S"},
            {"AttributeName": "published_at", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-date",
                "KeySchema": [
                    {"AttributeName": "kind", "KeyType": "HASH"},
                    {"AttributeName": "published_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    subscribers_table = lab.name("subscribers")
    ddb.create_table(
        TableName=subscribers_table,
        KeySchema=[{"AttributeName": "email", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "email", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    table = lab.client("dynamodb")
    for post in SEED:
        item = {k: {"S": v} for k, v in post.items() if isinstance(v, str)}
        item["tags"] = {"L": [{"S": t} for t in post["tags"]]}
        table.put_item(TableName=posts_table, Item=item)
    bucket = lab.name("photos")
    lab.client("s3").create_bucket(Bucket=bucket)
    name = deploy_app(
        "api",
        env={
            "POSTS_TABLE": posts_table,
            "SUBSCRIBERS_TABLE": subscribers_table,
            "PHOTOS_BUCKET": bucket,
        },
    )
    return {
        "function": name,
        "posts": posts_table,
        "subscribers": subscribers_table,
        "bucket": bucket,
    }


@pytest.fixture(scope="module")
def call(lab, blog):
    """call(method, resource, path=..., body=..., query=...) -> (status, headers, parsed body):
    the API Gateway sample event, changed to this request, through lambda.invoke."""
    lambda_ = lab.client("lambda")

    def _call(method, resource, *, path=None, path_params=None, body=None, query=None):
        event = copy.deepcopy(sample_event("api-get-post.json"))
        event.update(
            httpMethod=method,
            resource=resource,
            path=path or resource,
            pathParameters=path_params,
            queryStringParameters=query,
            multiValueQueryStringParameters={k: [v] for k, v in query.items()} if query else None,
            body=body if body is None or isinstance(body, str) else json.dumps(body),
        )
        event["requestContext"].update(httpMethod=method, resourcePath=resource)
        resp = lambda_.invoke(FunctionName=blog["function"], Payload=json.dumps(event))
        payload = json.loads(resp["Payload"].read())
        assert "FunctionError" not in resp, payload
        assert set(payload) == {"statusCode", "headers", "body", "isBase64Encoded"}
        assert payload["isBase64Encoded"] is False
        parsed = json.loads(payload["body"]) if payload["body"] else None
        return payload["statusCode"], payload["headers"], parsed

    return _call


def _newest_first():
    return [p["id"] for p in sorted(SEED, key=lambda p: p["published_at"], reverse=True)]


def test_list_posts_newest_first_without_their_bodies(call):
    status, headers, body = call("GET", "/posts")

    assert status == 200
    assert [p["id"] for p in body["posts"]] == _newest_first()
    first = body["posts"][0]
    seed = next(p for p in SEED if p["id"] == first["id"])
    assert first["title"] == seed["title"] and first["summary"] == seed["summary"]
    assert first["tags"] == seed["tags"]
    assert "body" not in first and "kind" not in first
    assert headers["Cache-Control"] == "public, max-age=60"


def test_list_posts_honours_limit(call):
    status, _, body = call("GET", "/posts", query={"limit": "2"})

    assert status == 200
    assert [p["id"] for p in body["posts"]] == _newest_first()[:2]


@pytest.mark.parametrize("limit", ["0", "101", "two", "-1"])
def test_list_posts_rejects_a_bad_limit(call, limit):
    status, headers, body = call("GET", "/posts", query={"limit": limit})

    assert status == 400
    assert body == {"message": "limit must be a whole number from 1 to 100"}
    assert headers["Cache-Control"] == "no-store"


def test_get_one_post(call):
    seed = SEED[1]

    status, headers, body = call(
        "GET", "/posts/{id}", path=f"/posts/{seed['id']}", path_params={"id": seed["id"]}
    )

    assert status == 200
    assert body == {k: v for k, v in seed.items() if k != "kind"}
    assert headers["Cache-Control"] == "public, max-age=300"


def test_a_missing_post_is_404_json(call):
    status, headers, body = call(
        "GET", "/posts/{id}", path="/posts/no-such-post", path_params={"id": "no-such-post"}
    )

    assert status == 404
    assert body == {"message": "post 'no-such-post' not found"}
    assert headers["Content-Type"] == "application/json"
    assert headers["Cache-Control"] == "public, max-age=10"


@pytest.mark.parametrize(
    ("method", "resource", "body"),
    [
        ("GET", "/posts", None),
        ("POST", "/subscribers", {"email": "not-an-address"}),
        ("POST", "/photos", {"filename": "x.bmp"}),
        ("GET", "/nowhere", None),
    ],
)
def test_every_response_is_json_with_a_cors_header(call, method, resource, body):
    _, headers, parsed = call(method, resource, body=body)

    assert headers["Content-Type"] == "application/json"
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert "Cache-Control" in headers
    assert isinstance(parsed, dict)


def test_each_dynamodb_read_logs_its_consumed_capacity(lab, call, blog):
    """GIVEN reads through both read routes WHEN the function's log is read THEN one JSON line
    per read, with the table, the operation and the consumed RCUs, which add up."""
    before = len([r for r in json_logs(lab, blog["function"]) if r.get("metric")])
    call("GET", "/posts")
    call("GET", "/posts/{id}", path="/posts/x", path_params={"id": "x"})

    lab.settle(until=lambda: len(_reads(lab, blog)) >= before + 2)
    reads = _reads(lab, blog)[before:]

    assert [(r["operation"], r["route"]) for r in reads] == [
        ("Query", "GET /posts"),
        ("GetItem", "GET /posts/{id}"),
    ]
    assert all(r["table"] == blog["posts"] for r in reads)
    assert all(r["consumed_rcu"] > 0 for r in reads)
    assert reads[0]["items"] == len(SEED) and reads[1]["items"] == 0
    assert sum(r["consumed_rcu"] for r in reads) > 0


def _reads(lab, blog):
    return [r for r in json_logs(lab, blog["function"]) if r.get("metric") == "dynamodb_read"]


def test_create_a_post_then_it_is_listed_first(lab, call, blog):
    status, headers, post = call(
        "POST",
        "/posts",
        body={"title": "Hello, API Gateway!", "body": "First words.", "tags": ["news"]},
    )

    assert status == 201
    assert re.fullmatch(r"hello-api-gateway-[0-9a-f]{6}", post["id"])
    assert headers["Location"] == f"/posts/{post['id']}"
    assert headers["Cache-Control"] == "no-store"
    assert post["author"] == "Anonymous" and post["summary"] == "First words."
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", post["published_at"])
    _, _, listed = call("GET", "/posts")
    assert listed["posts"][0]["id"] == post["id"]
    lab.client("dynamodb").delete_item(TableName=blog["posts"], Key={"id": {"S": post["id"]}})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{not json", "the request body must be valid JSON"),
        ("", "the request body must be valid JSON"),
        ("[1, 2]", "the request body must be a JSON object"),
        ({"body": "text"}, "title must be a non-empty string of at most 200 characters"),
        (
            {"title": "  ", "body": "text"},
            "title must be a non-empty string of at most 200 characters",
        ),
        ({"title": "t", "body": 7}, "body must be a non-empty string of at most 20000 characters"),
        (
            {"title": "t" * 201, "body": "b"},
            "title must be a non-empty string of at most 200 characters",
        ),
        (
            {"title": "t", "body": "b", "tags": "news"},
            "tags must be a list of at most 10 strings of 1-30 characters",
        ),
    ],
)
def test_create_post_rejects_bad_input_with_a_clear_message(lab, call, blog, body, message):
    status, _, parsed = call("POST", "/posts", body=body)

    assert (status, parsed) == (400, {"message": message})
    scanned = lab.client("dynamodb").scan(TableName=blog["posts"], Select="COUNT")
    assert scanned["Count"] == len(SEED)


def test_subscribe_once_then_409(lab, call, blog):
    """GIVEN a new address WHEN it subscribes twice (in other capitals) THEN 201 then 409,
    and the table keeps the first subscription, unchanged."""
    status, headers, body = call(
        "POST", "/subscribers", body={"email": " Grace@Example.com ", "name": "Grace"}
    )
    assert (status, body) == (201, {"email": "grace@example.com", "subscribed": True})
    assert headers["Cache-Control"] == "no-store"
    table = lab.client("dynamodb")
    first = table.get_item(
        TableName=blog["subscribers"], Key={"email": {"S": "grace@example.com"}}
    )["Item"]
    assert first["name"] == {"S": "Grace"}

    status, _, body = call("POST", "/subscribers", body={"email": "GRACE@example.com"})

    assert (status, body) == (409, {"message": "grace@example.com is already subscribed"})
    again = table.get_item(
        TableName=blog["subscribers"], Key={"email": {"S": "grace@example.com"}}
    )["Item"]
    assert again == first


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "email must be an email address, e.g. ada@example.com"),
        ({"email": "ada"}, "email must be an email address, e.g. ada@example.com"),
        ({"email": "ada@localhost"}, "email must be an email address, e.g. ada@example.com"),
        ({"email": "a b@example.com"}, "email must be an email address, e.g. ada@example.com"),
        ({"email": ["ada@example.com"]}, "email must be an email address, e.g. ada@example.com"),
        ({"email": "ada@example.com", "name": "<b>Ada</b>"}, "name must not contain < or >"),
    ],
)
def test_subscribe_rejects_bad_input(call, body, message):
    status, _, parsed = call("POST", "/subscribers", body=body)

    assert (status, parsed) == (400, {"message": message})


@pytest.mark.backends("moto", "moto-server")
@pytest.mark.parametrize(
    ("filename", "content_type"),
    [
        ("beach.jpg", "image/jpeg"),
        ("IMG_0042.JPEG", "image/jpeg"),
        ("diagram.png", "image/png"),
        ("cat.webp", "image/webp"),
        ("dance.gif", "image/gif"),
    ],
)
def test_photos_returns_a_presigned_put_url_that_uploads(lab, call, blog, filename, content_type):
    """GIVEN an image file name WHEN POST /photos THEN a SigV4 URL for uploads/<uuid>.<ext>
    that signs the Content-Type and expires in 300 s; a PUT to it stores the upload."""
    status, headers, body = call("POST", "/photos", body={"filename": filename})

    assert status == 200
    assert headers["Cache-Control"] == "no-store"
    ext = filename.rsplit(".", 1)[1].lower()
    assert re.fullmatch(rf"uploads/{UUID}\.{ext}", body["key"])
    assert body["name"] == body["key"].removeprefix("uploads/")
    assert body["method"] == "PUT" and body["headers"] == {"Content-Type": content_type}
    assert body["expires_in"] == 300
    url = urlsplit(body["upload_url"])
    query = parse_qs(url.query)
    assert url.path.endswith(body["key"])
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Expires"] == ["300"]
    assert "content-type" in query["X-Amz-SignedHeaders"][0].split(";")

    put = requests.put(body["upload_url"], data=b"image bytes", headers=body["headers"], timeout=10)

    assert put.status_code == 200, put.text
    stored = lab.client("s3").head_object(Bucket=blog["bucket"], Key=body["key"])
    assert stored["ContentType"] == content_type


@pytest.mark.parametrize(
    "body",
    [{"filename": "logo.svg"}, {"filename": "run.exe"}, {"filename": "photo"}, {}, {"filename": 3}],
)
def test_photos_accepts_only_web_images(call, body):
    status, _, parsed = call("POST", "/photos", body=body)

    assert status == 400
    assert parsed == {"message": "filename must end in one of: .jpg, .jpeg, .png, .webp, .gif"}


def test_unknown_route_is_404_and_unknown_method_405(call):
    assert call("GET", "/nowhere")[0] == 404
    status, _, body = call("DELETE", "/posts")
    assert status == 405
    assert body == {"message": "no route for DELETE /posts"}


def test_cors_preflight(call):
    status, headers, body = call("OPTIONS", "/subscribers")

    assert (status, body) == (204, None)
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in headers["Access-Control-Allow-Methods"]
    assert headers["Access-Control-Allow-Headers"] == "Content-Type"


def test_the_sample_subscribe_event_subscribes(lab, blog):
    """functions/events/api-post-subscriber.json, as API Gateway sends it, gives 201."""
    event = sample_event("api-post-subscriber.json")

    resp = lab.client("lambda").invoke(FunctionName=blog["function"], Payload=json.dumps(event))

    payload = json.loads(resp["Payload"].read())
    assert payload["statusCode"] == 201, payload
    assert json.loads(payload["body"]) == {"email": "ada@example.com", "subscribed": True}
