"""Checks of lab 02 · Micro-services: make notifications asynchronous without losing a message.

The lab's resources, by their lab names: the topic `order-events`, the queues `notifications`
and `notifications-dlq`, the functions `orders` and `notifications`, the tables `orders` and
`deliveries` (notifications' delivery log: one item per order notified, with `via` = invoke or
queue and, from the queue, `queued_ms`).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from botocore.exceptions import ClientError

from . import Mistake, check, expect
from .policies import as_list, grants, role_documents

LAB = "02-microservices"
EVENT_ATTRIBUTE = "event_type"  # the message attribute orders publishes and the filter reads
VISIBILITY_FACTOR = 6  # AWS: a queue's visibility timeout at least 6x the function's timeout
SQS_CONSUMER_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
TRANSITIONS = ("Creating", "Enabling", "Updating", "Disabling")
WAITED_S = 5  # an order that waited less than this in the queue met a running consumer


# ---- what the lab is made of ----------------------------------------------------------------
def _topic_arn(lab: Any) -> str:
    return f"arn:aws:sns:{lab.region}:{lab.account_id}:{lab.name('order-events')}"


def _queue_arn(lab: Any, base: str) -> str:
    return f"arn:aws:sqs:{lab.region}:{lab.account_id}:{lab.name(base)}"


def _queue_url(lab: Any, base: str) -> str | None:
    try:
        return lab.client("sqs").get_queue_url(QueueName=lab.name(base))["QueueUrl"]
    except ClientError as error:
        if "NonExistentQueue" in str(error) or "QueueDoesNotExist" in str(error):
            return None
        raise


def _queue_attributes(lab: Any, url: str) -> dict[str, str]:
    return lab.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])[
        "Attributes"
    ]


def _depth(lab: Any, url: str) -> int:
    attrs = lab.client("sqs").get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(
        attrs["ApproximateNumberOfMessagesNotVisible"]
    )


def _peek(lab: Any, url: str) -> list[str]:
    """The bodies of the messages a queue holds now, left in the queue (a dead-letter queue)."""
    bodies: dict[str, str] = {}
    for _ in range(3):
        got = lab.client("sqs").receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=1
        )
        for message in got.get("Messages", []):
            bodies[message["MessageId"]] = message["Body"]
    return list(bodies.values())


def _function(lab: Any, base: str) -> dict[str, Any]:
    try:
        return lab.client("lambda").get_function_configuration(FunctionName=lab.name(base))
    except ClientError as error:
        if "ResourceNotFound" in str(error):
            raise Mistake(
                f"there is no function {lab.name(base)!r}: run the lab's setup cells first"
            ) from None
        raise


def _delivery(lab: Any, order_id: str) -> dict[str, Any] | None:
    item = (
        lab.client("dynamodb")
        .get_item(
            TableName=lab.name("deliveries"),
            Key={"order_id": {"S": order_id}},
            ConsistentRead=True,
        )
        .get("Item")
    )
    return {k: next(iter(v.values())) for k, v in item.items()} if item else None


def _forget(lab: Any, table: str, order_id: str) -> None:
    lab.client("dynamodb").delete_item(TableName=lab.name(table), Key={"order_id": {"S": order_id}})


def _mappings(lab: Any) -> list[dict[str, Any]]:
    """The event source mappings of the notifications function (named either way)."""
    lambda_ = lab.client("lambda")
    arn = _function(lab, "notifications")["FunctionArn"]
    found: dict[str, dict[str, Any]] = {}
    for name in (lab.name("notifications"), arn):
        pages = lambda_.get_paginator("list_event_source_mappings").paginate(FunctionName=name)
        for page in pages:
            for mapping in page["EventSourceMappings"]:
                found[mapping["UUID"]] = mapping
    return list(found.values())


def _queue_mapping(lab: Any) -> dict[str, Any] | None:
    queue_arn = _queue_arn(lab, "notifications")
    return next((m for m in _mappings(lab) if m["EventSourceArn"] == queue_arn), None)


def _settled_state(lab: Any, mapping_uuid: str) -> str:
    """A mapping's state once it has finished changing (Enabled, Disabled...)."""
    lambda_ = lab.client("lambda")

    def state() -> str:
        return lambda_.get_event_source_mapping(UUID=mapping_uuid)["State"]

    try:
        lab.settle(until=lambda: state() not in TRANSITIONS, timeout=120)
    except TimeoutError:
        pass
    return state()


# ---- IAM, read as AWS evaluates the simple cases --------------------------------------------
def _role_allows(lab: Any, role_arn: str, action: str, resource: str) -> bool:
    """Whether the role's policies allow `action` on `resource` (no Deny, conditions ignored)."""
    statements = [s for doc in role_documents(lab, role_arn) for s in as_list(doc["Statement"])]
    if any(s.get("Effect") == "Deny" and grants(s, action, resource) for s in statements):
        return False
    return any(s.get("Effect") == "Allow" and grants(s, action, resource) for s in statements)


# ---- SNS filter policies, for the operators a learner uses ----------------------------------
def _condition_matches(condition: Any, value: Any) -> bool:
    """One condition of a filter policy's list against a value (None when absent)."""
    if not isinstance(condition, dict):
        return value is not None and str(condition) == str(value)
    if "exists" in condition:
        return (value is not None) == bool(condition["exists"])
    if value is None:
        return False
    if "prefix" in condition:
        return str(value).startswith(condition["prefix"])
    if "suffix" in condition:
        return str(value).endswith(condition["suffix"])
    if "equals-ignore-case" in condition:
        return str(value).lower() == str(condition["equals-ignore-case"]).lower()
    if "anything-but" in condition:
        but = condition["anything-but"]
        if isinstance(but, dict):
            return not _condition_matches(but, value)
        return str(value) not in {str(v) for v in as_list(but)}
    return True  # an operator this check does not evaluate (numeric, cidr...): assume it matches


def _policy_matches(policy: dict[str, Any], values: dict[str, Any]) -> bool:
    """A filter policy (attributes, or a body's nested keys) against a message."""
    for key, rule in policy.items():
        if key == "$or":
            if not any(_policy_matches(branch, values) for branch in rule):
                return False
        elif isinstance(rule, dict):  # a nested key of the message body
            inner = values.get(key)
            if not _policy_matches(rule, inner if isinstance(inner, dict) else {}):
                return False
        elif not any(_condition_matches(c, values.get(key)) for c in as_list(rule)):
            return False
    return True


def _sample(event_type: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(message attributes, body) of an event as orders publishes it."""
    body = {"type": event_type, "order_id": "o-1", "email": "ada@example.com", "total": "12.30"}
    return {EVENT_ATTRIBUTE: event_type}, body


def _filter_passes(policy: dict[str, Any], scope: str, event_type: str) -> bool:
    attributes, body = _sample(event_type)
    return _policy_matches(policy, body if scope == "MessageBody" else attributes)


# ---- queue access policy ---------------------------------------------------------------------
def _lets_sns_send(statement: dict[str, Any], queue_arn: str) -> bool:
    principal = statement.get("Principal")
    services = (
        as_list(principal.get("Service", [])) + as_list(principal.get("AWS", []))
        if isinstance(principal, dict)
        else as_list(principal)
    )
    return (
        statement.get("Effect") == "Allow"
        and any(p in ("sns.amazonaws.com", "*") for p in services)
        and grants(
            {**statement, "Resource": statement.get("Resource", "*")}, "sqs:SendMessage", queue_arn
        )
    )


def _names_topic(statement: dict[str, Any], topic_arn: str) -> bool:
    for operator, pairs in (statement.get("Condition") or {}).items():
        if operator.removesuffix("IfExists") not in (
            "ArnEquals",
            "ArnLike",
            "StringEquals",
            "StringLike",
        ):
            continue
        for key, value in pairs.items():
            if key.lower() == "aws:sourcearn" and topic_arn in as_list(value):
                return True
    return False


# ---- the checks ------------------------------------------------------------------------------
@check(LAB, "order events fan out to the notifications queue")
def order_events(lab: Any) -> str:
    """Exercise 1: topic, queue with a DLQ, queue policy, raw subscription with a filter."""
    sns = lab.client("sns")
    topic_arn = _topic_arn(lab)
    try:
        subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    except ClientError as error:
        if "NotFound" not in str(error):
            raise
        raise Mistake(
            f"there is no SNS topic {lab.name('order-events')!r}: create it with "
            "sns.create_topic(Name=lab.name('order-events'))"
        ) from None
    url = _queue_url(lab, "notifications")
    expect(
        url,
        f"there is no queue {lab.name('notifications')!r}: create it with "
        "sqs.create_queue(QueueName=lab.name('notifications'), ...)",
    )
    attrs = _queue_attributes(lab, url)
    queue_arn = attrs["QueueArn"]

    redrive = json.loads(attrs.get("RedrivePolicy") or "{}")
    expect(
        redrive.get("deadLetterTargetArn"),
        "the queue has no dead-letter queue: a message the consumer can never handle would come "
        "back for the whole retention period. Create the queue "
        f"{lab.name('notifications-dlq')!r} and set the RedrivePolicy attribute "
        '{"deadLetterTargetArn": <its ARN>, "maxReceiveCount": "3"}',
    )
    dlq_name = redrive["deadLetterTargetArn"].rsplit(":", 1)[-1]
    try:
        lab.client("sqs").get_queue_url(QueueName=dlq_name)
    except ClientError:
        raise Mistake(
            f"the redrive policy names the queue {dlq_name!r}, which does not exist: create the "
            "dead-letter queue first and use the QueueArn get_queue_attributes gives"
        ) from None

    policy = json.loads(attrs.get("Policy") or "{}")
    statements = as_list(policy.get("Statement", []))
    expect(
        statements,
        "the queue has no access policy, so SNS may not send to it (on AWS the topic's messages "
        "are dropped without an error): set the queue's Policy attribute to allow "
        'sqs:SendMessage to the principal {"Service": "sns.amazonaws.com"}',
    )
    senders = [s for s in statements if _lets_sns_send(s, queue_arn)]
    expect(
        senders,
        "the queue's access policy does not let SNS send: add a statement that allows "
        'sqs:SendMessage on the queue to the principal {"Service": "sns.amazonaws.com"}',
    )
    expect(
        all(_names_topic(s, topic_arn) for s in senders),
        "the queue's access policy lets any topic (of any account) send to the queue: add the "
        'condition {"ArnEquals": {"aws:SourceArn": <the topic ARN>}} to the statement',
    )

    mine = [s for s in subscriptions if s["Protocol"] == "sqs" and s["Endpoint"] == queue_arn]
    expect(
        mine,
        "the topic has no subscription for the queue: sns.subscribe(TopicArn=topic_arn, "
        "Protocol='sqs', Endpoint=<the queue ARN>, ReturnSubscriptionArn=True, Attributes=...)",
    )
    sub = sns.get_subscription_attributes(SubscriptionArn=mine[0]["SubscriptionArn"])["Attributes"]
    expect(
        sub.get("RawMessageDelivery", "false").lower() == "true",
        "the subscription wraps each event in SNS's JSON envelope (Type, MessageId, Message...), "
        "and the notifications function expects the event itself: set the subscription "
        "attribute RawMessageDelivery to 'true'",
    )
    raw_policy = sub.get("FilterPolicy")
    expect(
        raw_policy,
        "the subscription has no filter policy, so the queue receives every event on the topic "
        "(OrderShipped, OrderCancelled...): set FilterPolicy to "
        f'{{"{EVENT_ATTRIBUTE}": ["OrderPlaced"]}}',
    )
    filter_policy = json.loads(raw_policy)
    scope = sub.get("FilterPolicyScope", "MessageAttributes")
    where = "body's" if scope == "MessageBody" else "message attribute"
    expect(
        _filter_passes(filter_policy, scope, "OrderPlaced"),
        f"the filter policy {raw_policy} drops OrderPlaced events: orders publishes them with "
        f"the message attribute {EVENT_ATTRIBUTE} = OrderPlaced (scope {scope}); match "
        f'{{"{EVENT_ATTRIBUTE}": ["OrderPlaced"]}}',
    )
    expect(
        not _filter_passes(filter_policy, scope, "OrderShipped"),
        f"the filter policy {raw_policy} also lets other events through (an OrderShipped, for "
        f"one): match the {where} {EVENT_ATTRIBUTE if scope != 'MessageBody' else 'type'} "
        'exactly, with the list ["OrderPlaced"]',
    )
    return (
        "topic → queue (raw, OrderPlaced only), SNS alone may send to the queue, "
        f"dead-letter queue after {redrive.get('maxReceiveCount')} receives"
    )


@check(LAB, "notifications consumes its queue")
def notifications_consumer(lab: Any) -> str:
    """Exercise 2: the event source mapping, its settings, the role and the visibility timeout."""
    function = _function(lab, "notifications")
    mappings = _mappings(lab)
    expect(
        mappings,
        "notifications has no event source mapping, so Lambda does not poll the queue: "
        "lambda_.create_event_source_mapping(EventSourceArn=<the queue ARN>, "
        "FunctionName=lab.name('notifications'), ...)",
    )
    queue_arn = _queue_arn(lab, "notifications")
    mapping = next((m for m in mappings if m["EventSourceArn"] == queue_arn), None)
    expect(
        mapping,
        f"notifications' mapping reads {mappings[0]['EventSourceArn'].rsplit(':', 1)[-1]!r}, not "
        f"the queue {lab.name('notifications')!r}: map the notifications queue",
    )
    expect(
        "ReportBatchItemFailures" in (mapping.get("FunctionResponseTypes") or []),
        "the mapping does not report batch item failures: Lambda ignores the batchItemFailures "
        "the function returns and deletes the whole batch, so a message it could not handle is "
        "lost instead of going to the dead-letter queue. Set "
        "FunctionResponseTypes=['ReportBatchItemFailures'] (update_event_source_mapping)",
    )
    missing = [
        a for a in SQS_CONSUMER_ACTIONS if not _role_allows(lab, function["Role"], a, queue_arn)
    ]
    expect(
        not missing,
        f"notifications' role may not {', '.join(missing)} on the queue (AWS refuses the mapping "
        "without them): put a role policy that allows sqs:ReceiveMessage, sqs:DeleteMessage and "
        "sqs:GetQueueAttributes on the queue ARN",
    )
    url = _queue_url(lab, "notifications")
    visibility = int(_queue_attributes(lab, url)["VisibilityTimeout"])
    timeout = int(function["Timeout"])
    expect(
        visibility >= VISIBILITY_FACTOR * timeout,
        f"the queue's visibility timeout ({visibility} s) is less than six times the function's "
        f"timeout ({timeout} s): a batch Lambda is still retrying can become visible again and "
        "be handled twice. sqs.set_queue_attributes(..., Attributes={'VisibilityTimeout': "
        f"'{VISIBILITY_FACTOR * timeout}'}})",
    )
    state = _settled_state(lab, mapping["UUID"])
    expect(
        state == "Enabled",
        f"the mapping is {state}: update_event_source_mapping(UUID=..., Enabled=True)",
    )

    # behaviour: an OrderPlaced published to the topic is notified, from the queue
    order_id = f"check-{uuid.uuid4().hex[:8]}"
    event = {
        "type": "OrderPlaced",
        "order_id": order_id,
        "email": "check@example.com",
        "total": "1.00",
    }
    try:
        lab.client("sns").publish(
            TopicArn=_topic_arn(lab),
            Message=json.dumps(event),
            MessageAttributes={
                EVENT_ATTRIBUTE: {"DataType": "String", "StringValue": "OrderPlaced"}
            },
        )
        lab.settle(until=lambda: _delivery(lab, order_id), timeout=120)
    except (ClientError, TimeoutError):
        raise Mistake(
            "an OrderPlaced published to the topic was not notified: the path topic → queue → "
            "function is broken before the consumer. Run check.order_events(lab) and fix what "
            "it says"
        ) from None
    finally:
        _forget(lab, "deliveries", order_id)
    return (
        "queue → notifications with ReportBatchItemFailures, visibility timeout "
        f"≥ {VISIBILITY_FACTOR} × function timeout; an OrderPlaced was notified from the queue"
    )


@check(LAB, "orders publishes OrderPlaced instead of calling notifications")
def orders_publish(lab: Any) -> str:
    """Exercise 3: orders' environment, permission, and behaviour."""
    topic_arn = _topic_arn(lab)
    orders = _function(lab, "orders")
    variables = (orders.get("Environment") or {}).get("Variables") or {}
    expect(
        topic_arn in variables.values(),
        "orders has no environment variable holding the topic's ARN: "
        "update_function_configuration(FunctionName=lab.name('orders'), Environment="
        "{'Variables': {'ORDERS_TABLE': ..., 'TOPIC_ARN': topic_arn}}) (it replaces every "
        "variable: keep ORDERS_TABLE)",
    )
    expect(
        _role_allows(lab, orders["Role"], "sns:Publish", topic_arn),
        "orders' role may not publish to the topic (on AWS, sns.publish fails with "
        "AuthorizationError; offline nothing enforces it): put a role policy that allows "
        "sns:Publish on the topic's ARN",
    )
    order = {
        "email": "check@example.com",
        "items": [{"sku": "check", "quantity": 1, "unit_price": 1}],
    }
    resp = lab.client("lambda").invoke(
        FunctionName=lab.name("orders"), Payload=json.dumps(order).encode()
    )
    answer = json.loads(resp["Payload"].read() or b"null")
    if "FunctionError" in resp:
        message = f"{answer.get('errorType')}: {answer.get('errorMessage')}"
        hint = ""
        if answer.get("errorType") == "KeyError":
            hint = (
                " — the code reads an environment variable the function does not have "
                "(update_function_configuration replaces the whole Environment)"
            )
        elif "Authoriz" in message or "AccessDenied" in message:
            hint = " — give orders' role sns:Publish on the topic"
        raise Mistake(f"placing an order fails: {message}{hint}")
    expect(
        isinstance(answer, dict) and answer.get("statusCode") == 201,
        f"placing an order answered {answer!r}, not 201 and the order: did notifications fail? "
        "orders must not depend on it any more",
    )
    order_id = json.loads(answer["body"])["order_id"]
    try:
        stored = lab.client("dynamodb").get_item(
            TableName=lab.name("orders"), Key={"order_id": {"S": order_id}}
        )
        expect(
            "Item" in stored,
            "orders answered 201 but did not store the order: keep the put_item into ORDERS_TABLE",
        )
        try:
            delivery = lab.settle(until=lambda: _delivery(lab, order_id), timeout=120)
        except TimeoutError:
            delivery = None
        if delivery is None:
            dlq = _queue_url(lab, "notifications-dlq")
            if dlq and any(order_id in body for body in _peek(lab, dlq)):
                raise Mistake(
                    "the OrderPlaced event reached the queue but notifications refused it (it is "
                    "in the dead-letter queue): publish the order itself as the Message, JSON "
                    "with type, order_id, email and total"
                )
            raise Mistake(
                "the order was placed, but its OrderPlaced never reached notifications: publish "
                f"it to the topic with the message attribute {EVENT_ATTRIBUTE} = OrderPlaced (the "
                "subscription's filter policy drops a message without it)"
            )
        expect(
            delivery["via"] == "queue",
            "orders still calls notifications directly (lambda invoke), so an outage of "
            "notifications still fails orders: deploy your new code "
            "(update_function_code with lab.package('my-functions/orders', ...)) that publishes "
            "to the topic instead",
        )
    finally:
        _forget(lab, "orders", order_id)
        _forget(lab, "deliveries", order_id)
    notifications_arn = _function(lab, "notifications")["FunctionArn"]
    expect(
        not _role_allows(lab, orders["Role"], "lambda:InvokeFunction", notifications_arn),
        "orders' role may still invoke notifications, which it no longer calls: least "
        "privilege — delete the role's call-notifications policy (iam.delete_role_policy)",
    )
    return "an order placed → 201 at once → OrderPlaced on the topic → notified from the queue"


@check(LAB, "nothing lost while notifications was stopped")
def none_lost(lab: Any, placed: list[str]) -> str:
    """Exercise 4: every order placed during the outage notified once; the bad event kept."""
    expect(
        placed,
        "`placed` is empty: disable the mapping, place a few orders, and append each order's "
        "order_id to `placed`",
    )
    mapping = _queue_mapping(lab)
    expect(mapping, "notifications has no mapping from its queue: do Exercise 2 first")
    expect(
        _settled_state(lab, mapping["UUID"]) == "Enabled",
        "the consumer is still stopped: lambda_.update_event_source_mapping(UUID=..., "
        "Enabled=True), then wait for the state Enabled",
    )
    queue = _queue_url(lab, "notifications")
    dlq = _queue_url(lab, "notifications-dlq")
    expect(
        queue and dlq, "the notifications queue or its dead-letter queue is gone: redo Exercise 1"
    )
    try:
        lab.settle(
            until=lambda: (
                all(_delivery(lab, o) for o in placed)
                and _depth(lab, queue) == 0
                and _depth(lab, dlq) > 0
            ),
            timeout=600,
        )
    except TimeoutError:
        pass
    deliveries = {o: _delivery(lab, o) for o in placed}
    missing = [o for o, d in deliveries.items() if d is None]
    if missing:
        ddb = lab.client("dynamodb")
        unknown = [
            o
            for o in missing
            if "Item" not in ddb.get_item(TableName=lab.name("orders"), Key={"order_id": {"S": o}})
        ]
        if unknown:
            raise Mistake(
                f"{unknown[0]!r} is not an order orders accepted: put in `placed` the order_id "
                "of each order answered 201"
            )
        dead = [o for o in missing if any(o in body for body in _peek(lab, dlq))]
        expect(
            not dead,
            f"{len(dead)} placed order(s) went to the dead-letter queue instead of being "
            "notified: the consumer failed them maxReceiveCount times (is the visibility "
            "timeout long enough, the function healthy?)",
        )
        raise Mistake(
            f"{len(missing)} of {len(placed)} placed orders were never notified (still in the "
            "queue?): is the mapping enabled, and did you wait (lab.settle) for the queue to drain?"
        )
    direct = [o for o, d in deliveries.items() if d["via"] != "queue"]
    expect(
        not direct,
        "some orders were notified by a direct invoke, not from the queue: orders still calls "
        "notifications (Exercise 3)",
    )
    waited_s = min(int(d.get("queued_ms", 0)) for d in deliveries.values()) / 1000
    expect(
        waited_s >= WAITED_S,
        f"an order waited only {waited_s:.1f} s in the queue: the consumer was not stopped "
        "when it was placed, or not for long. Disable the mapping (and wait for the state "
        "Disabled) before you place the orders, and keep it stopped a minute "
        "(lab.clock.advance(60)) before you enable it again",
    )
    expect(
        _depth(lab, dlq) > 0,
        "the dead-letter queue is empty: the malformed OrderPlaced published during the outage "
        "should be there after maxReceiveCount failed receives (is ReportBatchItemFailures on?)",
    )
    n = len(placed)
    return (
        f"{n} orders placed while the consumer was stopped, {n} notified once each after it "
        "resumed; the malformed event is kept in the dead-letter queue"
    )
