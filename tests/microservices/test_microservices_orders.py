"""The orders service through its load balancer: placing, refusing and reading orders, against
the real users API, Aurora (Data API), the cache, the topic and the stream.

Contract: the orders service's documented behaviour (its module docstring and the notebook):
POST /orders answers 201 with the order (its total the decimal sum, two places), 400 for a body
that is not an order or has no item, 422 when users answers 404 for the user, 503 when users
fails or answers 5xx — and then nothing is stored and nothing published; an order placed is a
row in Aurora, one OrderPlaced on the topic (message attributes event_type and total, a Number)
and one record on the stream (partition key: the user). GET /orders/{id} is cache-aside
(`X-Cache: Miss`, then `Hit`), 404 for an unknown order; GET /orders?user_id= lists a user's
orders, newest first. Every answer carries Server-Timing, whose syntax is the W3C's
(https://www.w3.org/TR/server-timing/). The load balancer hands the function the query string
undecoded and maps statusCode and statusDescription back
(https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html).
API Gateway answers 502 when the function fails and 500 when it may not invoke it
(https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html).
"""

from __future__ import annotations

import json
import re
import time
from contextlib import contextmanager
from datetime import datetime, timezone

import pytest
import requests

from tests.microservices.support import (
    REASONS,
    build_notifications,
    build_orders,
    build_users,
    drain,
    expected_total,
    notifications,
    register,
    server_timing,
    stream_events,
)

BASKET = [
    {"sku": "book-sicp", "quantity": 2, "unit_price": 45.50},
    {"sku": "lamp-01", "quantity": 1, "unit_price": 39},
]
SMALL = [{"sku": "pen-fine", "quantity": 3, "unit_price": 4.20}]


@pytest.fixture(scope="module")
def shop(lab, deploy_app):
    """users (prod → live → version 1), the topic and stream with the notification queues (no
    consumer: the queue shows what was published), and orders behind its load balancer."""
    users = build_users(lab, deploy_app)
    events = build_notifications(lab)
    orders = build_orders(
        lab, deploy_app, users_url=users.url(), topic=events.topic, stream=events.stream
    )
    ada = register(users, "Ada Lovelace", "Ada@Example.com")
    return {"users": users, "events": events, "orders": orders, "ada": ada}


def place(shop, items=BASKET, user_id=None) -> requests.Response:
    return requests.post(
        f"{shop['orders'].url}/orders",
        json={"user_id": shop["ada"] if user_id is None else user_id, "items": items},
    )


def published(lab, shop) -> list[dict]:
    """The OrderPlaced events published since the last call (the unfiltered queue's)."""
    return notifications(drain(lab.client("sqs"), shop["events"].queue))


def stored(lab, shop) -> int:
    return shop["orders"].sql(lab, "SELECT count(*) AS n FROM orders")[0]["n"]


def on_stream(lab, shop) -> int:
    return len(stream_events(lab, shop["events"].stream))


def send_as_is(url: str) -> requests.Response:
    """GET a URL exactly as written (requests would decode %-escapes of unreserved characters)."""
    prepared = requests.Request("GET", url).prepare()
    prepared.url = url
    with requests.Session() as session:
        return session.send(prepared)


def reason_is(resp: requests.Response, status: int) -> bool:
    expected = {REASONS[status]} | ({"Unprocessable Entity"} if status == 422 else set())
    return resp.status_code == status and resp.reason in expected


# ---- placing an order ---------------------------------------------------------------------------
def test_placing_an_order_answers_201_with_the_order(lab, shop):
    """GIVEN a registered user WHEN they order two books and a lamp THEN 201 Created with the
    order: its items, its total (2 × 45.50 + 39 = 130.00), the user's email as registered."""
    resp = place(shop)

    assert reason_is(resp, 201), (resp.status_code, resp.reason, resp.text)
    assert resp.headers["Content-Type"] == "application/json"
    order = resp.json()
    assert order["user_id"] == shop["ada"]
    assert order["total"] == expected_total(BASKET) == "130.00"
    assert order["items"] == [
        {"sku": "book-sicp", "quantity": 2, "unit_price": "45.50"},
        {"sku": "lamp-01", "quantity": 1, "unit_price": "39.00"},
    ]
    assert order["email"] == "ada@example.com"
    assert re.fullmatch(r"[0-9a-f]{16}", order["order_id"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", order["placed_at"])
    placed = datetime.fromisoformat(order["placed_at"].replace("Z", "+00:00")).timestamp()
    now = (time.time(), lab.clock.now())  # the function's clock is one of the two
    assert min(now) - 60 < placed < max(now) + 60


def test_an_order_placed_is_stored_published_and_streamed_once(lab, shop):
    published(lab, shop)
    before = on_stream(lab, shop)

    order = place(shop).json()

    rows = shop["orders"].sql(
        lab, "SELECT user_id, total FROM orders WHERE order_id = :id", id=order["order_id"]
    )
    assert rows == [{"user_id": shop["ada"], "total": "130.00"}]
    messages = drain(lab.client("sqs"), shop["events"].queue)
    assert len(messages) == 1
    envelope = json.loads(messages[0]["Body"])
    assert envelope["MessageAttributes"] == {
        "event_type": {"Type": "String", "Value": "OrderPlaced"},
        "total": {"Type": "Number", "Value": "130.00"},
    }
    event = json.loads(envelope["Message"])
    assert {k: event[k] for k in ("type", "order_id", "user_id", "email", "total")} == {
        "type": "OrderPlaced",
        "order_id": order["order_id"],
        "user_id": shop["ada"],
        "email": "ada@example.com",
        "total": "130.00",
    }
    records = stream_events(lab, shop["events"].stream)[before:]
    assert [(r["partition_key"], r["order_id"]) for r in records] == [
        (shop["ada"], order["order_id"])
    ]


def test_the_large_orders_queue_gets_only_orders_of_100_or_more(lab, shop):
    sqs = lab.client("sqs")
    drain(sqs, shop["events"].large)

    big, small = place(shop).json(), place(shop, SMALL).json()

    assert small["total"] == expected_total(SMALL) == "12.60"
    large = notifications(drain(sqs, shop["events"].large))
    assert [e["order_id"] for e in large] == [big["order_id"]]


def test_every_answer_has_a_well_formed_server_timing(lab, shop):
    """Server-Timing: `name;dur=ms` metrics, comma-separated: the users call, the database and
    the publish when placing; the cache (and the database on a miss) when reading."""
    placed = place(shop)
    order_id = placed.json()["order_id"]
    miss = requests.get(f"{shop['orders'].url}/orders/{order_id}")
    hit = requests.get(f"{shop['orders'].url}/orders/{order_id}")
    listed = requests.get(f"{shop['orders'].url}/orders", params={"user_id": shop["ada"]})

    assert set(server_timing(placed.headers["Server-Timing"])) == {"users", "db", "publish"}
    assert set(server_timing(miss.headers["Server-Timing"])) == {"cache", "db"}
    assert set(server_timing(hit.headers["Server-Timing"])) == {"cache"}
    assert set(server_timing(listed.headers["Server-Timing"])) == {"db"}


# ---- refusing an order --------------------------------------------------------------------------
MALFORMED = {
    "not JSON": "user_id=u-1",
    "a JSON list": "[]",
    "no items": json.dumps({"user_id": "someone"}),
    "an item without a price": json.dumps({"user_id": "u", "items": [{"sku": "a", "quantity": 1}]}),
    "no item": json.dumps({"user_id": "someone", "items": []}),
    "quantity zero": json.dumps(
        {"user_id": "someone", "items": [{"sku": "a", "quantity": 0, "unit_price": 1}]}
    ),
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_order_is_refused_with_400_and_nothing_happens(lab, shop, body):
    published(lab, shop)
    rows, records = stored(lab, shop), on_stream(lab, shop)

    resp = requests.post(
        f"{shop['orders'].url}/orders", data=body, headers={"Content-Type": "application/json"}
    )

    assert reason_is(resp, 400), (resp.status_code, resp.reason, resp.text)
    assert isinstance(resp.json()["message"], str)
    assert server_timing(resp.headers["Server-Timing"]) == {}
    assert (stored(lab, shop), on_stream(lab, shop), published(lab, shop)) == (rows, records, [])


def test_an_order_for_an_unknown_user_is_refused_with_422(lab, shop):
    published(lab, shop)
    rows, records = stored(lab, shop), on_stream(lab, shop)

    resp = place(shop, user_id="nobody")

    assert reason_is(resp, 422), (resp.status_code, resp.reason, resp.text)
    assert isinstance(resp.json()["message"], str)
    assert set(server_timing(resp.headers["Server-Timing"])) == {"users"}
    assert (stored(lab, shop), on_stream(lab, shop), published(lab, shop)) == (rows, records, [])


def publish_users_with(lab, users, **variables) -> str:
    """Publish a users version whose environment adds `variables`, leaving $LATEST as it was."""
    lambda_ = lab.client("lambda")
    config = lambda_.get_function_configuration(FunctionName=users.function)["Environment"]
    lambda_.update_function_configuration(
        FunctionName=users.function,
        Environment={"Variables": {**config["Variables"], **variables}},
    )
    lambda_.get_waiter("function_updated_v2").wait(FunctionName=users.function)
    version = lambda_.publish_version(FunctionName=users.function)["Version"]
    lambda_.update_function_configuration(FunctionName=users.function, Environment=config)
    lambda_.get_waiter("function_updated_v2").wait(FunctionName=users.function)
    return version


@contextmanager
def prod_running(lab, users, alias):
    """users' prod stage runs `alias` for the block, then `live` again."""

    def point_prod_at(name):
        lab.client("apigateway").update_stage(
            restApiId=users.api,
            stageName="prod",
            patchOperations=[{"op": "replace", "path": "/variables/alias", "value": name}],
        )

    point_prod_at(alias)
    try:
        yield
    finally:
        point_prod_at("live")


@pytest.fixture(scope="module")
def failing_users(lab, shop):
    """Two aliases of users that fail behind API Gateway: `broken` runs a version configured
    with a table that does not exist (the function fails: 502), `locked` runs version 1 but has
    no invoke permission for the API (500)."""
    users = shop["users"]
    users.release("broken", publish_users_with(lab, users, USERS_TABLE=lab.name("userz")))
    users.release("locked", users.versions["live"], allow=False)
    return users


@pytest.mark.parametrize("alias, status", [("broken", 502), ("locked", 500)])
def test_an_order_is_refused_with_503_when_users_fails(lab, shop, failing_users, alias, status):
    """GIVEN prod's stage variable naming an alias that fails (API Gateway answers 5xx) WHEN an
    order is placed THEN 503, and nothing is stored, published or streamed."""
    ada_url = f"{failing_users.url()}/users/{shop['ada']}"
    published(lab, shop)
    rows, records = stored(lab, shop), on_stream(lab, shop)

    with prod_running(lab, failing_users, alias):
        users_answer = requests.get(ada_url)
        resp = place(shop)

    assert users_answer.status_code == status
    assert reason_is(resp, 503), (resp.status_code, resp.reason, resp.text)
    assert isinstance(resp.json()["message"], str)
    assert (stored(lab, shop), on_stream(lab, shop), published(lab, shop)) == (rows, records, [])
    assert place(shop).status_code == 201  # users is back: so is orders


def test_an_order_is_refused_with_503_when_users_does_not_answer(lab, shop, deploy_app):
    """GIVEN orders configured with a users URL where nothing listens (a connection refused)
    WHEN it is invoked with the load balancer's event THEN 503, and nothing is stored or
    published."""
    lambda_ = lab.client("lambda")
    config = lambda_.get_function_configuration(FunctionName=shop["orders"].function)
    variables = {**config["Environment"]["Variables"], "USERS_URL": "http://127.0.0.1:9/prod"}
    lost = deploy_app("orders", base="orders-lost", requirements=("redis>=5",), env=variables)
    event = {
        "requestContext": {"elb": {"targetGroupArn": shop["orders"].alb.target_group}},
        "httpMethod": "POST",
        "path": "/orders",
        "queryStringParameters": {},
        "headers": {"content-type": "application/json", "x-forwarded-proto": "http"},
        "body": json.dumps({"user_id": shop["ada"], "items": BASKET}),
        "isBase64Encoded": False,
    }
    published(lab, shop)
    rows, records = stored(lab, shop), on_stream(lab, shop)

    resp = lambda_.invoke(FunctionName=lost, Payload=json.dumps(event).encode())

    answer = json.loads(resp["Payload"].read())
    assert "FunctionError" not in resp, answer
    assert (answer["statusCode"], answer["statusDescription"]) == (503, "503 Service Unavailable")
    assert isinstance(json.loads(answer["body"])["message"], str)
    assert (stored(lab, shop), on_stream(lab, shop), published(lab, shop)) == (rows, records, [])


def test_an_order_is_refused_with_503_when_users_is_slower_than_its_timeout(lab, shop):
    """GIVEN prod running a users version delayed by 2.5 s (fault injection) and orders waiting
    at most USERS_TIMEOUT = 2 s WHEN an order is placed THEN 503 saying users did not answer,
    and nothing is stored, published or streamed."""
    users = shop["users"]
    users.release("slow", publish_users_with(lab, users, FAULT_DELAY_MS="2500"))
    published(lab, shop)
    rows, records = stored(lab, shop), on_stream(lab, shop)

    with prod_running(lab, users, "slow"):
        resp = place(shop)

    assert reason_is(resp, 503), (resp.status_code, resp.text)
    assert resp.json()["message"].startswith("the users service did not answer")
    assert (stored(lab, shop), on_stream(lab, shop), published(lab, shop)) == (rows, records, [])


def test_an_order_finding_the_database_paused_is_503_with_retry_after(lab, shop):
    """GIVEN Aurora Serverless v2 with a minimum of 0 ACUs, idle for longer than its
    SecondsUntilAutoPause WHEN an order is placed THEN the Data API's DatabaseResumingException
    becomes 503 with Retry-After, and once the database has resumed orders are taken again."""
    rds = lab.client("rds")
    cluster = rds.describe_db_clusters(DBClusterIdentifier=shop["orders"].cluster_arn)
    idle = cluster["DBClusters"][0]["ServerlessV2ScalingConfiguration"]["SecondsUntilAutoPause"]
    lab.clock.advance(idle + 1)

    paused = place(shop)
    lab.clock.advance(30)  # Aurora resumes in about 15 s
    resumed = place(shop)

    assert reason_is(paused, 503), (paused.status_code, paused.text)
    assert int(paused.headers["Retry-After"]) > 0
    assert "resuming" in paused.json()["message"]
    assert resumed.status_code == 201, resumed.text


def test_an_order_with_an_empty_user_id_is_refused_with_a_4xx(lab, shop):
    resp = place(shop, user_id="")

    assert 400 <= resp.status_code < 500, (resp.status_code, resp.text[:80])


def test_an_order_priced_nan_is_refused_with_400(lab, shop):
    resp = place(shop, [{"sku": "a", "quantity": 1, "unit_price": "NaN"}])

    assert resp.status_code == 400, (resp.status_code, resp.text[:80])


# ---- reading orders -----------------------------------------------------------------------------
def test_reading_an_order_misses_the_cache_then_hits_it(shop):
    order = place(shop).json()
    url = f"{shop['orders'].url}/orders/{order['order_id']}"

    first, second = requests.get(url), requests.get(url)

    assert [(r.status_code, r.headers["X-Cache"]) for r in (first, second)] == [
        (200, "Miss"),
        (200, "Hit"),
    ]
    assert first.json() == second.json()
    read = first.json()
    assert (read["order_id"], read["user_id"], read["total"]) == (
        order["order_id"],
        shop["ada"],
        "130.00",
    )
    # the same instant, whatever its spelling
    placed = datetime.fromisoformat(order["placed_at"].replace("Z", "+00:00"))
    stamp = datetime.fromisoformat(read["placed_at"].replace("Z", "+00:00"))
    assert (stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)) == placed


def test_reading_an_order_gives_its_items_as_placed(shop):
    order = place(shop).json()

    read = requests.get(f"{shop['orders'].url}/orders/{order['order_id']}").json()

    assert read["items"] == order["items"]


def test_an_unknown_order_is_404(shop):
    resp = requests.get(f"{shop['orders'].url}/orders/0000000000000000")

    assert reason_is(resp, 404)
    assert isinstance(resp.json()["message"], str)


def test_a_users_orders_are_listed_newest_first(lab, shop):
    """GIVEN a new user with three orders THEN GET /orders?user_id= lists exactly those, newest
    first; the id percent-encoded in the query (the load balancer does not decode it) gives the
    same list."""
    grace = register(shop["users"], "Grace Hopper", "grace@example.com")
    placed = [place(shop, SMALL, user_id=grace).json() for _ in range(3)]
    url = f"{shop['orders'].url}/orders"

    listed = requests.get(url, params={"user_id": grace})
    encoded = send_as_is(f"{url}?user_id={''.join(f'%{b:02X}' for b in grace.encode())}")

    assert listed.status_code == 200
    orders = listed.json()["orders"]
    assert [o["order_id"] for o in orders] == [o["order_id"] for o in reversed(placed)]
    assert {o["total"] for o in orders} == {"12.60"}
    assert encoded.json() == listed.json()


def test_listing_without_a_user_is_400(shop):
    resp = requests.get(f"{shop['orders'].url}/orders")

    assert reason_is(resp, 400)


def test_a_path_the_function_does_not_serve_is_its_404(shop):
    """/orders/a/b reaches the function (the rule's `/orders/*`), which has no such route."""
    resp = requests.get(f"{shop['orders'].url}/orders/o-1/items")

    assert reason_is(resp, 404)
    assert resp.headers["Content-Type"] == "application/json"
    assert resp.json() != {"message": "no such service"}  # not the listener's default
