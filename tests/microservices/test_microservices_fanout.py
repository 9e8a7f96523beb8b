"""OrderPlaced fanned out by SNS to the two queues of section 2, through the filter policy.

The events are published by the orders service's own `announce` (imported in this process,
its SNS and Kinesis clients swapped for the lab's), so the message attributes under test are
the ones the function sends.

Contract: Amazon SNS developer guide — "Amazon SNS subscription filter policies" (a subscription
accepts a message when each property name of the policy matches a message attribute and at
least one of its values matches; an attribute the policy names but the message lacks means no
match), "Numeric value matching" (`{"numeric": [">=", 100]}` on attributes of type Number),
https://docs.aws.amazon.com/sns/latest/dg/sns-subscription-filter-policies.html,
https://docs.aws.amazon.com/sns/latest/dg/numeric-value-matching.html; "Fanout to Amazon SQS
queues" and the notification's JSON (Type "Notification", MessageId, TopicArn, Message,
Timestamp, SignatureVersion, Signature, SigningCertURL, UnsubscribeURL, and MessageAttributes
as {name: {Type, Value}}), https://docs.aws.amazon.com/sns/latest/dg/sns-sqs-as-subscriber.html,
https://docs.aws.amazon.com/sns/latest/dg/http-notification-json.html.
"""

from __future__ import annotations

import json
import uuid

import pytest

from tests.microservices.support import (
    LARGE_ORDERS_POLICY,
    SNS_ENVELOPE_KEYS,
    build_notifications,
    drain,
    is_sns_timestamp,
    notifications,
    order_attributes,
    stream_events,
)


@pytest.fixture(scope="module")
def events(lab):
    """The topic, the stream and the two queues of section 2 (no consumer)."""
    return build_notifications(lab)


@pytest.fixture
def announce(lab, events, orders_app, monkeypatch):
    """orders' announce(order), publishing to the lab's topic and stream."""
    monkeypatch.setattr(orders_app, "sns", lab.client("sns"))
    monkeypatch.setattr(orders_app, "kinesis", lab.client("kinesis"))
    monkeypatch.setenv("TOPIC_ARN", events.topic)
    monkeypatch.setenv("STREAM_NAME", events.stream)

    def _announce(total: str) -> dict:
        order = {
            "order_id": uuid.uuid4().hex[:16],
            "user_id": "u-ada",
            "email": "ada@example.com",
            "total": total,
            "placed_at": "2026-11-03T12:00:00.000Z",
        }
        orders_app.announce(order)
        return order

    return _announce


def received(lab, events) -> dict[str, list[str]]:
    """queue → the order ids it holds now (the queues are emptied)."""
    sqs = lab.client("sqs")
    return {
        name: [e.get("order_id", e.get("type")) for e in notifications(drain(sqs, url))]
        for name, url in (("notifications", events.queue), ("large-orders", events.large))
    }


def test_the_large_orders_subscription_has_the_notebooks_filter_policy(lab, events):
    sns = lab.client("sns")
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=events.topic)["Subscriptions"]

    policies = {
        s["Endpoint"].rsplit(":", 1)[1]: sns.get_subscription_attributes(
            SubscriptionArn=s["SubscriptionArn"]
        )["Attributes"].get("FilterPolicy")
        for s in subscriptions
    }

    assert {name.removeprefix(f"{lab.prefix}-"): p for name, p in policies.items()} == {
        "notifications": None,
        "large-orders": json.dumps(LARGE_ORDERS_POLICY),
    }


@pytest.mark.parametrize(
    "total, large",
    [("150.00", True), ("100.00", True), ("100.01", True), ("99.99", False), ("0.50", False)],
)
def test_an_order_reaches_large_orders_only_from_100(lab, events, announce, total, large):
    """GIVEN OrderPlaced with total as a Number attribute THEN notifications gets every order,
    large-orders those with total >= 100 (the bound included)."""
    received(lab, events)

    order = announce(total)

    assert received(lab, events) == {
        "notifications": [order["order_id"]],
        "large-orders": [order["order_id"]] if large else [],
    }


def test_an_order_placed_without_a_total_attribute_does_not_match(lab, events):
    """A policy property the message lacks as an attribute never matches, even if the message
    body has a total."""
    received(lab, events)
    body = {"type": "OrderPlaced", "order_id": "no-attribute", "total": "500.00"}

    lab.client("sns").publish(
        TopicArn=events.topic, Message=json.dumps(body), MessageAttributes=order_attributes(None)
    )

    assert received(lab, events) == {"notifications": ["no-attribute"], "large-orders": []}


def test_another_event_type_does_not_match(lab, events):
    received(lab, events)

    lab.client("sns").publish(
        TopicArn=events.topic,
        Message=json.dumps({"type": "OrderCancelled", "order_id": "cancelled"}),
        MessageAttributes=order_attributes("250.00", event_type="OrderCancelled"),
    )

    assert received(lab, events) == {"notifications": ["cancelled"], "large-orders": []}


def test_the_queue_receives_the_sns_envelope(lab, events, announce):
    """The SQS body is SNS's notification JSON, its Message the published event verbatim."""
    sqs = lab.client("sqs")
    drain(sqs, events.queue)

    order = announce("120.00")

    (message,) = drain(sqs, events.queue)
    envelope = json.loads(message["Body"])
    assert SNS_ENVELOPE_KEYS <= set(envelope)
    assert envelope["Type"] == "Notification"
    assert envelope["TopicArn"] == events.topic
    uuid.UUID(envelope["MessageId"])
    assert is_sns_timestamp(envelope["Timestamp"]), envelope["Timestamp"]
    assert envelope["SignatureVersion"] in ("1", "2")
    assert envelope["UnsubscribeURL"].startswith("https://")
    assert envelope["MessageAttributes"] == {
        "event_type": {"Type": "String", "Value": "OrderPlaced"},
        "total": {"Type": "Number", "Value": "120.00"},
    }
    event = json.loads(envelope["Message"])
    assert event["type"] == "OrderPlaced"
    assert {k: event[k] for k in order} == order
    assert isinstance(event["published_ms"], int)


def test_the_message_id_is_the_one_publish_answered(lab, events):
    sqs = lab.client("sqs")
    drain(sqs, events.queue)

    message_id = lab.client("sns").publish(
        TopicArn=events.topic,
        Message=json.dumps({"type": "OrderPlaced", "order_id": "o-id"}),
        MessageAttributes=order_attributes("10.00"),
    )["MessageId"]

    (message,) = drain(sqs, events.queue)
    assert json.loads(message["Body"])["MessageId"] == message_id


def test_each_order_placed_is_also_on_the_stream_keyed_by_user(lab, events, announce):
    before = len(stream_events(lab, events.stream))

    orders = [announce(total) for total in ("10.00", "200.00")]

    records = stream_events(lab, events.stream)[before:]
    assert [(r["partition_key"], r["order_id"], r["total"]) for r in records] == [
        ("u-ada", o["order_id"], o["total"]) for o in orders
    ]
