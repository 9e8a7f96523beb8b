"""The pure parts of the three services, in this process: orders.parse_order (the order's total
in decimal arithmetic, the 400s), users.shape and users.register's validation (versions 1 and 2
of the contract), notifier.order_placed (what is an OrderPlaced inside an SNS envelope).

Contract: the services' documented behaviour (the modules' docstrings and the notebook): an
order is {user_id, items: [{sku, quantity, unit_price}]} with at least one item, each of
quantity >= 1 and a price >= 0, and its total is computed in decimal (money is never a binary
float); the ALB sends a body that is not text as base64 with isBase64Encoded true
(https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html);
version 2 of a user adds display_name, first name and last initial ("Ada L."), and
links.orders; the notifier accepts an SQS record whose body is an SNS notification
(https://docs.aws.amazon.com/sns/latest/dg/http-notification-json.html) holding an OrderPlaced
with order_id, email and total, and reports anything else as a failure of that record only.
"""

from __future__ import annotations

import base64
import json
from types import SimpleNamespace

import pytest

from tests.microservices.support import (
    expected_total,
    order_placed,
    sns_envelope,
    sqs_record,
)

TOPIC = "arn:aws:sns:us-east-1:123456789012:order-events"


def alb_event(body: str, *, binary: bool = False) -> dict:
    """A POST /orders event as the load balancer sends it (body base64 when not text)."""
    return {
        "requestContext": {
            "elb": {"targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/o/1"}
        },
        "httpMethod": "POST",
        "path": "/orders",
        "queryStringParameters": {},
        "headers": {"content-type": "application/octet-stream" if binary else "application/json"},
        "body": base64.b64encode(body.encode()).decode() if binary else body,
        "isBase64Encoded": binary,
    }


def order_body(items, user_id="u-1") -> str:
    return json.dumps({"user_id": user_id, "items": items})


# ---- orders.parse_order -------------------------------------------------------------------------
BASKETS = {
    # binary floats get these wrong: 0.1 * 3 == 0.30000000000000004, 0.1 + 0.2 != 0.3
    "tenths": [{"sku": "pen", "quantity": 3, "unit_price": 0.1}],
    "tenth plus fifth": [
        {"sku": "a", "quantity": 1, "unit_price": 0.1},
        {"sku": "b", "quantity": 1, "unit_price": 0.2},
    ],
    "the notebook's basket": [
        {"sku": "book-sicp", "quantity": 2, "unit_price": 45.50},
        {"sku": "lamp-01", "quantity": 1, "unit_price": 39},
    ],
    "prices as strings": [{"sku": "mug", "quantity": 3, "unit_price": "19.99"}],
    "a hundred cents": [{"sku": f"c{i}", "quantity": 1, "unit_price": 0.01} for i in range(100)],
    "many of one": [{"sku": "bolt", "quantity": 1_000_000, "unit_price": 1.15}],
    "a free item": [{"sku": "sticker", "quantity": 1, "unit_price": 0}],
    # beyond 2**53 a float has no cents left: 0.01 * (10**17 + 1) is 1e15 in binary
    "a vast quantity": [{"sku": "grain", "quantity": 10**17 + 1, "unit_price": "0.01"}],
}


@pytest.mark.parametrize("basket", BASKETS.values(), ids=BASKETS.keys())
def test_an_order_total_is_decimal_with_two_places(orders_app, basket):
    """GIVEN items priced in JSON numbers or strings WHEN the order is parsed THEN the total is
    the decimal sum, written with exactly two places."""
    order = orders_app.parse_order(alb_event(order_body(basket)))

    assert order["total"] == expected_total(basket)
    assert order["user_id"] == "u-1"


def test_an_order_keeps_its_items_with_prices_in_cents(orders_app):
    basket = [
        {"sku": "book-sicp", "quantity": 2, "unit_price": 45.5},
        {"sku": 7, "quantity": "1", "unit_price": "39"},
    ]

    order = orders_app.parse_order(alb_event(order_body(basket, user_id=42)))

    assert order["items"] == [
        {"sku": "book-sicp", "quantity": 2, "unit_price": "45.50"},
        {"sku": "7", "quantity": 1, "unit_price": "39.00"},
    ]
    assert order["user_id"] == "42"
    assert order["total"] == "130.00"


def test_a_base64_body_from_the_load_balancer_is_decoded(orders_app):
    """GIVEN a client that posts without a text Content-Type (the ALB then base64-encodes the
    body and sets isBase64Encoded) THEN the order is the same as for a JSON body."""
    basket = BASKETS["the notebook's basket"]

    plain = orders_app.parse_order(alb_event(order_body(basket)))
    encoded = orders_app.parse_order(alb_event(order_body(basket), binary=True))

    assert encoded == plain


MALFORMED = {
    "no body": "",
    "not JSON": "user_id=u-1&sku=pen",
    "JSON null": "null",
    "a JSON array": "[]",
    "no items": json.dumps({"user_id": "u-1"}),
    "no user_id": json.dumps({"items": [{"sku": "a", "quantity": 1, "unit_price": 1}]}),
    "items is a string": json.dumps({"user_id": "u-1", "items": "pen"}),
    "items is a number": json.dumps({"user_id": "u-1", "items": 3}),
    "an item without sku": order_body([{"quantity": 1, "unit_price": 1}]),
    "an item without a price": order_body([{"sku": "a", "quantity": 1}]),
    "quantity is a word": order_body([{"sku": "a", "quantity": "two", "unit_price": 1}]),
    "price is a word": order_body([{"sku": "a", "quantity": 1, "unit_price": "cheap"}]),
    "price is infinite": order_body([{"sku": "a", "quantity": 1, "unit_price": "Infinity"}]),
    "no item at all": order_body([]),
    "quantity zero": order_body([{"sku": "a", "quantity": 0, "unit_price": 1}]),
    "negative quantity": order_body([{"sku": "a", "quantity": -2, "unit_price": 1}]),
    "negative price": order_body([{"sku": "a", "quantity": 1, "unit_price": -0.01}]),
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_order_is_refused_with_400(orders_app, body):
    with pytest.raises(orders_app.Refused) as refused:
        orders_app.parse_order(alb_event(body))

    assert refused.value.status == 400
    assert str(refused.value)


@pytest.mark.parametrize("price", ['"NaN"', "NaN"], ids=["the string NaN", "the JSON NaN"])
def test_a_price_that_is_not_a_number_is_refused_with_400(orders_app, price):
    item = '{"sku": "a", "quantity": 1, "unit_price": ' + price + "}"
    body = '{"user_id": "u-1", "items": [' + item + "]}"

    with pytest.raises(orders_app.Refused) as refused:
        orders_app.parse_order(alb_event(body))

    assert refused.value.status == 400


def test_a_fractional_quantity_is_refused_with_400(orders_app):
    body = order_body([{"sku": "cable-m", "quantity": 2.5, "unit_price": 10}])

    with pytest.raises(orders_app.Refused) as refused:
        orders_app.parse_order(alb_event(body))

    assert refused.value.status == 400


# ---- users: shape and validation ---------------------------------------------------------------
def display_name(name: str) -> str:
    """Version 2's short name, from the notebook: the first name and the last name's initial
    ("Ada Lovelace" → "Ada L."); a single name stays as it is."""
    words = name.split()
    return words[0] if len(words) == 1 else f"{words[0]} {words[-1][:1]}."


USER = {"user_id": "a1b2c3d4e5f6", "name": "Ada Lovelace", "email": "ada@example.com"}


def test_version_1_shows_a_user_as_id_name_and_email(users_v1):
    assert users_v1.shape(dict(USER, extra="stored but not shown")) == USER


@pytest.mark.parametrize(
    "name",
    ["Ada Lovelace", "Grace Brewster Hopper", "Plato", "Alan  Turing", "Émile Zola"],
)
def test_version_2_adds_the_display_name_and_the_orders_link(users_v2, name):
    user = dict(USER, name=name)

    shown = users_v2.shape(user)

    assert shown == {
        **user,
        "display_name": display_name(name),
        "links": {"orders": f"https://orders.example.com/orders?user_id={user['user_id']}"},
    }


REGISTRATIONS = {
    "no body": None,
    "not JSON": "name=Ada",
    "a JSON list": json.dumps(["Ada", "ada@example.com"]),
    "no name": json.dumps({"email": "ada@example.com"}),
    "a blank name": json.dumps({"name": "   ", "email": "ada@example.com"}),
    "a name of 101 characters": json.dumps({"name": "A" * 101, "email": "ada@example.com"}),
    "no email": json.dumps({"name": "Ada"}),
    "no @": json.dumps({"name": "Ada", "email": "ada.example.com"}),
    "no domain dot": json.dumps({"name": "Ada", "email": "ada@localhost"}),
    "a space": json.dumps({"name": "Ada", "email": "ada lovelace@example.com"}),
    "two @": json.dumps({"name": "Ada", "email": "ada@home@example.com"}),
}


@pytest.mark.parametrize("body", REGISTRATIONS.values(), ids=REGISTRATIONS.keys())
def test_an_invalid_registration_is_refused_with_400(users_v1, body):
    """Validation happens before the table is touched (its client is never called here)."""
    with pytest.raises(users_v1.Refused) as refused:
        users_v1.register({"body": body})

    assert refused.value.status == 400


def test_users_answers_404_for_a_route_it_does_not_serve(users_v1):
    event = {"httpMethod": "DELETE", "resource": "/users/{user_id}", "path": "/users/a1"}

    answer = users_v1.handler(event, SimpleNamespace(function_version="7"))

    assert answer["statusCode"] == 404
    assert answer["headers"]["X-Function-Version"] == "7"
    assert answer["headers"]["X-Api-Version"] == "1"
    assert json.loads(answer["body"])["message"]


# ---- notifier.order_placed ----------------------------------------------------------------------
def test_an_order_placed_is_read_from_its_sns_envelope(notifier_app):
    event = order_placed("o-1", "150.00")
    record = sqs_record(sns_envelope(event, TOPIC, "5f1a-1"))

    assert notifier_app.order_placed(record) == event


NOT_ORDERS = {
    "not JSON": "OrderPlaced o-1",
    "a JSON string": json.dumps("OrderPlaced"),
    "no Message": json.dumps({"Type": "Notification", "MessageId": "1", "TopicArn": TOPIC}),
    "a Message that is not JSON": sns_envelope("order o-1 placed", TOPIC, "1"),
    "a Message that is a list": sns_envelope(json.dumps([order_placed("o-1")]), TOPIC, "1"),
    "another event": sns_envelope({**order_placed("o-1"), "type": "OrderCancelled"}, TOPIC, "1"),
    "no type": sns_envelope({"order_id": "o-1", "email": "a@b.c", "total": "1.00"}, TOPIC, "1"),
    "no order_id": sns_envelope(
        {"type": "OrderPlaced", "email": "a@b.c", "total": "1"}, TOPIC, "1"
    ),
    "no email": sns_envelope({"type": "OrderPlaced", "order_id": "o", "total": "1"}, TOPIC, "1"),
    "no total": sns_envelope(
        {"type": "OrderPlaced", "order_id": "o", "email": "a@b.c"}, TOPIC, "1"
    ),
    "the raw event, without envelope": json.dumps(order_placed("o-1")),
}


@pytest.mark.parametrize("body", NOT_ORDERS.values(), ids=NOT_ORDERS.keys())
def test_a_record_that_is_not_an_order_placed_is_refused(notifier_app, body):
    with pytest.raises(ValueError):
        notifier_app.order_placed(sqs_record(body))


def test_records_that_cannot_be_handled_are_reported_one_by_one(notifier_app):
    """GIVEN a batch of records none of which is an OrderPlaced THEN each is reported in
    batchItemFailures by its messageId (and the table is never called)."""
    records = [sqs_record(body, f"m{i}") for i, body in enumerate(list(NOT_ORDERS.values())[:3])]

    answer = notifier_app.handler({"Records": records}, None)

    assert answer == {"batchItemFailures": [{"itemIdentifier": f"m{i}"} for i in range(3)]}
