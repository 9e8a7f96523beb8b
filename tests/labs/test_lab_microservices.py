"""Lab 02 · Micro-services' checks: orders → SNS → SQS (+ dead-letter queue) → notifications.

Each check is run against the wrong states a learner is likely to build, made with boto3 on the
moto backend, and must name that mistake; against the right state, it passes. The states follow
AWS's documented contracts: the queue policy SNS needs to send to a queue
(https://docs.aws.amazon.com/sns/latest/dg/subscribe-sqs-queue-to-sns-topic.html), raw message
delivery and subscription filter policies on message attributes or the body
(https://docs.aws.amazon.com/sns/latest/dg/sns-subscription-filter-policies.html), an SQS event
source mapping's execution-role permissions, a visibility timeout of at least six times the
function's timeout and ReportBatchItemFailures
(https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html), and a redrive
policy's maxReceiveCount.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import helpers
from helpers.checks import CheckFailed
from helpers.checks import microservices as check
from tests.emulator.conftest import TRUST_POLICY
from tests.labs import support

LAB_DIR = Path(__file__).resolve().parents[2] / "labs" / "02-microservices"
GIVEN = LAB_DIR / "functions"
SOLUTION_ORDERS = LAB_DIR / "solution" / "my-functions" / "orders" / "app.py"

EXPECTED = {
    "order_events": "there is no SNS topic",
    "notifications_consumer": "notifications has no event source mapping",
    "orders_publish": "orders has no environment variable holding the topic's ARN",
    "none_lost": "`placed` is empty",
}


@pytest.mark.notebook
def test_untouched_student_notebook_fails_every_check(tmp_path: Path) -> None:
    support.assert_student_fails("02-microservices", tmp_path, EXPECTED)


# ---- the lab's given resources, and a clean slate for each test --------------------------------
def put_policy(lab: helpers.Lab, role: str, name: str, *statements: dict[str, Any]) -> None:
    lab.client("iam").put_role_policy(
        RoleName=lab.name(role),
        PolicyName=name,
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": list(statements)}),
    )


def table_arn(lab: helpers.Lab, base: str) -> str:
    return f"arn:aws:dynamodb:{lab.region}:{lab.account_id}:table/{lab.name(base)}"


def function_arn(lab: helpers.Lab, base: str) -> str:
    return f"arn:aws:lambda:{lab.region}:{lab.account_id}:function:{lab.name(base)}"


GIVEN_ORDERS_ENV: dict[str, str] = {}


@pytest.fixture(scope="module")
def lab() -> Iterator[helpers.Lab]:
    """One offline lab with what the notebook's setup cells give: two tables, two functions."""
    lab = helpers.start("ms-lab-checks", backend="moto")
    ddb, iam, lambda_ = (lab.client(s) for s in ("dynamodb", "iam", "lambda"))
    for table in ("orders", "deliveries"):
        ddb.create_table(
            TableName=lab.name(table),
            AttributeDefinitions=[{"AttributeName": "order_id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "order_id", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
    for base in ("notifications", "orders"):
        iam.create_role(RoleName=lab.name(f"{base}-role"), AssumeRolePolicyDocument=TRUST_POLICY)
    put_policy(
        lab,
        "notifications-role",
        "write-delivery-log",
        {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": table_arn(lab, "deliveries")},
    )
    put_policy(
        lab,
        "orders-role",
        "store-orders",
        {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": table_arn(lab, "orders")},
    )
    GIVEN_ORDERS_ENV.update(
        ORDERS_TABLE=lab.name("orders"), NOTIFICATIONS_FUNCTION=lab.name("notifications")
    )
    for base, env in (
        ("notifications", {"DELIVERIES_TABLE": lab.name("deliveries")}),
        ("orders", GIVEN_ORDERS_ENV),
    ):
        lambda_.create_function(
            FunctionName=lab.name(base),
            Runtime=lab.runtime,
            Role=f"arn:aws:iam::{lab.account_id}:role/{lab.name(f'{base}-role')}",
            Handler="app.handler",
            Code={"ZipFile": lab.package(GIVEN / base, handler="app.handler")},
            Environment={"Variables": env},
            Timeout=10,
        )
    yield lab
    lab.teardown()


@pytest.fixture(autouse=True)
def clean(lab: helpers.Lab) -> Iterator[None]:
    """Each test builds its own state: before it, the lab is as the setup cells leave it."""
    given_orders(lab)
    yield
    sns, sqs, lambda_, iam, ddb = (
        lab.client(s) for s in ("sns", "sqs", "lambda", "iam", "dynamodb")
    )
    for mapping in lambda_.list_event_source_mappings()["EventSourceMappings"]:
        lambda_.delete_event_source_mapping(UUID=mapping["UUID"])
    topic = check._topic_arn(lab)
    try:
        for sub in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]:
            sns.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])
        sns.delete_topic(TopicArn=topic)
    except sns.exceptions.NotFoundException:
        pass
    for base in ("notifications", "notifications-dlq", "elsewhere"):
        url = check._queue_url(lab, base)
        if url:
            sqs.delete_queue(QueueUrl=url)
    for role, keep in (
        ("orders-role", "store-orders"),
        ("notifications-role", "write-delivery-log"),
    ):
        for name in iam.list_role_policies(RoleName=lab.name(role))["PolicyNames"]:
            if name != keep:
                iam.delete_role_policy(RoleName=lab.name(role), PolicyName=name)
    for table in ("orders", "deliveries"):
        for item in ddb.scan(TableName=lab.name(table))["Items"]:
            ddb.delete_item(TableName=lab.name(table), Key={"order_id": item["order_id"]})


def fails(inspect: Any, lab: helpers.Lab, message: str, *args: Any) -> str:
    """Run a check that must fail with `message` in what it says; return what it said."""
    with pytest.raises(CheckFailed) as failed:
        inspect(lab, *args)
    assert message in failed.value.message, failed.value.message
    return failed.value.message


# ---- building the lab's state, right or with one mistake -----------------------------------------
def queue(lab: helpers.Lab, base: str, **attributes: str) -> tuple[str, str]:
    sqs = lab.client("sqs")
    url = sqs.create_queue(QueueName=lab.name(base), Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    return url, arn["QueueArn"]


def sns_may_send(queue_arn: str, topic_arn: str | None, **changes: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": queue_arn,
    }
    if topic_arn:
        statement["Condition"] = {"ArnEquals": {"aws:SourceArn": topic_arn}}
    statement.update(changes)
    return statement


def build_events(
    lab: helpers.Lab,
    *,
    dlq: bool = True,
    policy: Any = "right",
    subscribe: bool = True,
    raw: bool = True,
    filter_policy: Any = None,
    scope: str | None = None,
    visibility: int = 60,
) -> dict[str, str]:
    """Exercise 1, done right unless told otherwise."""
    sns, sqs = lab.client("sns"), lab.client("sqs")
    topic = sns.create_topic(Name=lab.name("order-events"))["TopicArn"]
    attributes = {"VisibilityTimeout": str(visibility)}
    dlq_url = None
    if dlq:
        dlq_url, dlq_arn = queue(lab, "notifications-dlq")
        attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"}
        )
    url, arn = queue(lab, "notifications", **attributes)
    if policy == "right":
        policy = [sns_may_send(arn, topic)]
    if policy:
        document = {"Version": "2012-10-17", "Statement": policy}
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(document)})
    if subscribe:
        sub_attributes = {"RawMessageDelivery": "true" if raw else "false"}
        filter_policy = {"event_type": ["OrderPlaced"]} if filter_policy is None else filter_policy
        if filter_policy:
            sub_attributes["FilterPolicy"] = json.dumps(filter_policy)
        if scope:
            sub_attributes["FilterPolicyScope"] = scope
        sns.subscribe(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint=arn,
            ReturnSubscriptionArn=True,
            Attributes=sub_attributes,
        )
    return {"topic": topic, "url": url, "arn": arn, "dlq_url": dlq_url or ""}


def build_consumer(
    lab: helpers.Lab,
    made: dict[str, str],
    *,
    report: bool = True,
    permissions: bool = True,
    source: str | None = None,
    enabled: bool = True,
) -> str:
    """Exercise 2 (the visibility timeout is build_events's), done right unless told otherwise."""
    if permissions:
        put_policy(
            lab,
            "notifications-role",
            "consume-queue",
            {
                "Effect": "Allow",
                "Action": list(check.SQS_CONSUMER_ACTIONS),
                "Resource": made["arn"],
            },
        )
    lambda_ = lab.client("lambda")
    mapping = lambda_.create_event_source_mapping(
        FunctionName=lab.name("notifications"),
        EventSourceArn=source or made["arn"],
        BatchSize=10,
        FunctionResponseTypes=["ReportBatchItemFailures"] if report else [],
        Enabled=enabled,
    )["UUID"]
    return mapping


def given_orders(lab: helpers.Lab) -> None:
    """orders as the setup cells make it: synchronous, allowed to invoke notifications."""
    lambda_ = lab.client("lambda")
    lambda_.update_function_configuration(
        FunctionName=lab.name("orders"), Environment={"Variables": GIVEN_ORDERS_ENV}
    )
    lambda_.update_function_code(
        FunctionName=lab.name("orders"),
        ZipFile=lab.package(GIVEN / "orders", handler="app.handler"),
    )
    put_policy(
        lab,
        "orders-role",
        "call-notifications",
        {
            "Effect": "Allow",
            "Action": "lambda:InvokeFunction",
            "Resource": function_arn(lab, "notifications"),
        },
    )


def build_orders(
    lab: helpers.Lab,
    tmp_path: Path,
    made: dict[str, str],
    *,
    code: str | None = None,
    env: dict[str, str] | None = None,
    publish: bool = True,
    drop_call: bool = True,
) -> None:
    """Exercise 3, done right unless told otherwise (`code`: orders' app.py)."""
    lambda_ = lab.client("lambda")
    if publish:
        put_policy(
            lab,
            "orders-role",
            "publish-order-events",
            {"Effect": "Allow", "Action": "sns:Publish", "Resource": made["topic"]},
        )
    if drop_call:
        lab.client("iam").delete_role_policy(
            RoleName=lab.name("orders-role"), PolicyName="call-notifications"
        )
    env = {"ORDERS_TABLE": lab.name("orders"), "TOPIC_ARN": made["topic"]} if env is None else env
    lambda_.update_function_configuration(
        FunctionName=lab.name("orders"), Environment={"Variables": env}
    )
    folder = tmp_path / "orders"
    folder.mkdir(exist_ok=True)
    (folder / "app.py").write_text(SOLUTION_ORDERS.read_text() if code is None else code)
    lambda_.update_function_code(
        FunctionName=lab.name("orders"), ZipFile=lab.package(folder, handler="app.handler")
    )


def place(lab: helpers.Lab, n: int = 1) -> list[str]:
    """Invoke orders n times; the order_id of each order it accepted."""
    placed = []
    for i in range(n):
        order = {
            "email": f"c{i}@example.com",
            "items": [{"sku": "mug", "quantity": 1, "unit_price": 9.9}],
        }
        resp = lab.client("lambda").invoke(
            FunctionName=lab.name("orders"), Payload=json.dumps(order).encode()
        )
        answer = json.loads(resp["Payload"].read())
        assert answer["statusCode"] == 201, answer
        placed.append(json.loads(answer["body"])["order_id"])
    return placed


# ---- exercise 1: topic, queues, queue policy, subscription -------------------------------------
def test_events_without_a_topic(lab):
    fails(check.order_events, lab, f"there is no SNS topic {lab.name('order-events')!r}")


def test_events_without_a_queue(lab):
    lab.client("sns").create_topic(Name=lab.name("order-events"))
    fails(check.order_events, lab, f"there is no queue {lab.name('notifications')!r}")


def test_events_without_a_dead_letter_queue(lab):
    build_events(lab, dlq=False)
    fails(check.order_events, lab, "the queue has no dead-letter queue")


def test_events_with_a_redrive_to_a_missing_queue(lab):
    made = build_events(lab)
    lab.client("sqs").delete_queue(QueueUrl=made["dlq_url"])
    fails(check.order_events, lab, "which does not exist")


def test_events_without_a_queue_policy(lab):
    """SQS's default: only the owner's principals may send; SNS's deliveries are dropped."""
    build_events(lab, policy=None)
    fails(check.order_events, lab, "the queue has no access policy, so SNS may not send")


def test_events_with_a_policy_for_another_service(lab):
    made = build_events(lab)
    wrong = sns_may_send(made["arn"], made["topic"], Principal={"Service": "s3.amazonaws.com"})
    document = {"Version": "2012-10-17", "Statement": [wrong]}
    lab.client("sqs").set_queue_attributes(
        QueueUrl=made["url"], Attributes={"Policy": json.dumps(document)}
    )
    fails(check.order_events, lab, "does not let SNS send")


def test_events_with_a_policy_for_another_action(lab):
    made = build_events(lab)
    wrong = sns_may_send(made["arn"], made["topic"], Action="sqs:ReceiveMessage")
    document = {"Version": "2012-10-17", "Statement": [wrong]}
    lab.client("sqs").set_queue_attributes(
        QueueUrl=made["url"], Attributes={"Policy": json.dumps(document)}
    )
    fails(check.order_events, lab, "does not let SNS send")


@pytest.mark.parametrize("principal", [{"Service": "sns.amazonaws.com"}, "*", {"AWS": "*"}])
def test_events_with_a_policy_without_the_topic_condition(lab, principal):
    made = build_events(lab)
    open_policy = sns_may_send(made["arn"], None, Principal=principal)
    document = {"Version": "2012-10-17", "Statement": [open_policy]}
    lab.client("sqs").set_queue_attributes(
        QueueUrl=made["url"], Attributes={"Policy": json.dumps(document)}
    )
    fails(check.order_events, lab, "lets any topic (of any account) send")


def test_events_with_a_condition_on_another_topic(lab):
    made = build_events(lab)
    other = sns_may_send(made["arn"], made["topic"] + "-other")
    document = {"Version": "2012-10-17", "Statement": [other]}
    lab.client("sqs").set_queue_attributes(
        QueueUrl=made["url"], Attributes={"Policy": json.dumps(document)}
    )
    fails(check.order_events, lab, "lets any topic")


def test_events_without_a_subscription(lab):
    build_events(lab, subscribe=False)
    fails(check.order_events, lab, "the topic has no subscription for the queue")


def test_events_without_raw_delivery(lab):
    build_events(lab, raw=False)
    fails(check.order_events, lab, "wraps each event in SNS's JSON envelope")


def test_events_without_a_filter_policy(lab):
    build_events(lab, filter_policy={})
    fails(check.order_events, lab, "the subscription has no filter policy")


@pytest.mark.parametrize(
    "wrong",
    [
        {"type": ["OrderPlaced"]},  # the body's key, matched against the attributes
        {"event_type": ["order_placed"]},  # string matching is case-sensitive
        {"event_type": [{"anything-but": ["OrderPlaced"]}]},
    ],
)
def test_events_with_a_filter_that_drops_order_placed(lab, wrong):
    build_events(lab, filter_policy=wrong)
    fails(check.order_events, lab, "drops OrderPlaced events")


@pytest.mark.parametrize(
    "loose",
    [{"event_type": [{"exists": True}]}, {"event_type": [{"prefix": "Order"}]}],
)
def test_events_with_a_filter_that_lets_others_through(lab, loose):
    build_events(lab, filter_policy=loose)
    fails(check.order_events, lab, "also lets other events through")


def test_events_built_right(lab):
    build_events(lab)
    assert "OrderPlaced only" in check.order_events(lab)


def test_events_with_a_body_scoped_filter(lab):
    build_events(lab, filter_policy={"type": ["OrderPlaced"]}, scope="MessageBody")
    assert "OrderPlaced only" in check.order_events(lab)


@pytest.mark.parametrize(
    "policy",
    [
        {"event_type": ["OrderPlaced"]},
        {"event_type": ["OrderShipped"]},
        {"event_type": [{"prefix": "Order"}]},
        {"event_type": [{"anything-but": "OrderShipped"}]},
        {"type": ["OrderPlaced"]},
    ],
)
def test_filter_evaluation_agrees_with_sns(lab, policy):
    """The check's reading of a filter policy is what SNS does with a published event."""
    made = build_events(lab, filter_policy=policy)
    sns, sqs = lab.client("sns"), lab.client("sqs")
    delivered = {}
    for event_type in ("OrderPlaced", "OrderShipped"):
        sns.publish(
            TopicArn=made["topic"],
            Message=json.dumps({"type": event_type}),
            MessageAttributes={"event_type": {"DataType": "String", "StringValue": event_type}},
        )
        got = sqs.receive_message(QueueUrl=made["url"], MaxNumberOfMessages=10)
        delivered[event_type] = bool(got.get("Messages"))
        for message in got.get("Messages", []):
            sqs.delete_message(QueueUrl=made["url"], ReceiptHandle=message["ReceiptHandle"])
        assert delivered[event_type] == check._filter_passes(
            policy, "MessageAttributes", event_type
        ), (policy, event_type)


# ---- exercise 2: the consumer ------------------------------------------------------------------
def test_consumer_without_a_mapping(lab):
    build_events(lab)
    fails(check.notifications_consumer, lab, "notifications has no event source mapping")


def test_consumer_mapping_another_queue(lab):
    made = build_events(lab)
    _, other = queue(lab, "elsewhere")
    build_consumer(lab, made, source=other)
    fails(check.notifications_consumer, lab, f"reads {lab.name('elsewhere')!r}, not the queue")


def test_consumer_without_partial_batch_responses(lab):
    made = build_events(lab)
    build_consumer(lab, made, report=False)
    fails(check.notifications_consumer, lab, "the mapping does not report batch item failures")


def test_consumer_without_sqs_permissions(lab):
    made = build_events(lab)
    build_consumer(lab, made, permissions=False)
    fails(check.notifications_consumer, lab, "notifications' role may not sqs:ReceiveMessage")


def test_consumer_with_a_partial_sqs_policy(lab):
    made = build_events(lab)
    build_consumer(lab, made, permissions=False)
    put_policy(
        lab,
        "notifications-role",
        "consume-queue",
        {"Effect": "Allow", "Action": "sqs:ReceiveMessage", "Resource": made["arn"]},
    )
    message = fails(check.notifications_consumer, lab, "may not sqs:DeleteMessage")
    assert "sqs:ReceiveMessage," not in message.split("on the queue")[0]


def test_consumer_with_the_aws_managed_sqs_policy(lab):
    """AWSLambdaSQSQueueExecutionRole grants the three actions on every queue."""
    made = build_events(lab)
    build_consumer(lab, made, permissions=False)
    lab.client("iam").attach_role_policy(
        RoleName=lab.name("notifications-role"),
        PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole",
    )
    try:
        assert "notified from the queue" in check.notifications_consumer(lab)
    finally:
        lab.client("iam").detach_role_policy(
            RoleName=lab.name("notifications-role"),
            PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole",
        )


def test_consumer_with_the_default_visibility_timeout(lab):
    made = build_events(lab, visibility=30)
    build_consumer(lab, made)
    fails(
        check.notifications_consumer,
        lab,
        "the queue's visibility timeout (30 s) is less than six times the function's timeout (10 s)",
    )


def test_consumer_disabled(lab):
    made = build_events(lab)
    build_consumer(lab, made, enabled=False)
    fails(check.notifications_consumer, lab, "the mapping is Disabled")


def test_consumer_behind_an_enveloping_subscription(lab):
    """Without raw delivery the function refuses SNS's envelope: the test event is not logged."""
    made = build_events(lab, raw=False)
    build_consumer(lab, made)
    fails(
        check.notifications_consumer, lab, "an OrderPlaced published to the topic was not notified"
    )


def test_consumer_built_right(lab):
    made = build_events(lab)
    build_consumer(lab, made)
    assert "notified from the queue" in check.notifications_consumer(lab)
    # its test event leaves nothing behind
    assert lab.client("dynamodb").scan(TableName=lab.name("deliveries"))["Items"] == []


# ---- exercise 3: orders publishes --------------------------------------------------------------
def built_through_consumer(lab: helpers.Lab) -> dict[str, str]:
    made = build_events(lab)
    build_consumer(lab, made)
    return made


def test_orders_untouched(lab):
    built_through_consumer(lab)
    fails(check.orders_publish, lab, "orders has no environment variable holding the topic's ARN")


def test_orders_without_permission_to_publish(lab, tmp_path):
    made = built_through_consumer(lab)
    build_orders(lab, tmp_path, made, publish=False)
    fails(check.orders_publish, lab, "orders' role may not publish to the topic")


def test_orders_environment_replaced_without_its_table(lab, tmp_path):
    """update_function_configuration replaces every variable: ORDERS_TABLE is gone."""
    made = built_through_consumer(lab)
    build_orders(lab, tmp_path, made, env={"TOPIC_ARN": made["topic"]})
    message = fails(check.orders_publish, lab, "placing an order fails: KeyError")
    assert "replaces the whole Environment" in message


def test_orders_code_not_deployed(lab, tmp_path):
    """Environment and permission done, but the old code still invokes notifications."""
    made = built_through_consumer(lab)
    build_orders(
        lab,
        tmp_path,
        made,
        code=(GIVEN / "orders" / "app.py").read_text(),
        env={**GIVEN_ORDERS_ENV, "TOPIC_ARN": made["topic"]},
        drop_call=False,
    )
    fails(check.orders_publish, lab, "orders still calls notifications directly (lambda invoke)")


def test_orders_invoking_asynchronously(lab, tmp_path):
    """InvocationType=Event decouples availability, but bypasses the queue and its DLQ."""
    made = built_through_consumer(lab)
    code = (GIVEN / "orders" / "app.py").read_text()
    code = code.replace('"RequestResponse"', '"Event"')
    env = {**GIVEN_ORDERS_ENV, "TOPIC_ARN": made["topic"]}
    build_orders(lab, tmp_path, made, code=code, env=env, drop_call=False)
    fails(check.orders_publish, lab, "orders still calls notifications directly")


def test_orders_publishing_without_the_event_type(lab, tmp_path):
    """The subscription's filter drops a message without the event_type attribute."""
    made = built_through_consumer(lab)
    code = SOLUTION_ORDERS.read_text()
    start = code.index("        MessageAttributes=")
    end = code.index("\n", start)
    build_orders(lab, tmp_path, made, code=code[:start] + code[end + 1 :])
    fails(check.orders_publish, lab, "its OrderPlaced never reached notifications")


def test_orders_publishing_another_shape(lab, tmp_path):
    """A message notifications cannot read ends in the dead-letter queue."""
    made = built_through_consumer(lab)
    code = SOLUTION_ORDERS.read_text().replace(
        "Message=json.dumps(order)", 'Message=json.dumps({"order": order})'
    )
    assert code != SOLUTION_ORDERS.read_text()
    build_orders(lab, tmp_path, made, code=code)
    fails(check.orders_publish, lab, "notifications refused it (it is in the dead-letter queue)")


def test_orders_keeping_the_invoke_permission(lab, tmp_path):
    made = built_through_consumer(lab)
    build_orders(lab, tmp_path, made, drop_call=False)
    fails(check.orders_publish, lab, "orders' role may still invoke notifications")


def test_orders_built_right(lab, tmp_path):
    made = built_through_consumer(lab)
    build_orders(lab, tmp_path, made)
    assert "notified from the queue" in check.orders_publish(lab)
    ddb = lab.client("dynamodb")
    assert ddb.scan(TableName=lab.name("orders"))["Items"] == []  # its test order is removed


# ---- exercise 4: nothing lost ------------------------------------------------------------------
def outage(lab: helpers.Lab, tmp_path: Path, *, stop: bool = True, malformed: bool = True):
    """Exercise 4 up to the restart: (made, mapping, placed)."""
    made = build_events(lab)
    mapping = build_consumer(lab, made)
    build_orders(lab, tmp_path, made)
    lambda_ = lab.client("lambda")
    if stop:
        lambda_.update_event_source_mapping(UUID=mapping, Enabled=False)
        lab.settle(
            until=lambda: lambda_.get_event_source_mapping(UUID=mapping)["State"] == "Disabled"
        )
    placed = place(lab, 3)
    if malformed:
        lab.client("sns").publish(
            TopicArn=made["topic"],
            Message=json.dumps({"type": "OrderPlaced", "order_id": "malformed-1", "total": "5"}),
            MessageAttributes={"event_type": {"DataType": "String", "StringValue": "OrderPlaced"}},
        )
    lab.clock.advance(60)
    return made, mapping, placed


def restart(lab: helpers.Lab, mapping: str) -> None:
    lab.client("lambda").update_event_source_mapping(UUID=mapping, Enabled=True)
    lab.settle()


def test_none_lost_with_nothing_placed(lab):
    fails(check.none_lost, lab, "`placed` is empty", [])


def test_none_lost_with_the_consumer_still_stopped(lab, tmp_path):
    _, _, placed = outage(lab, tmp_path)
    fails(check.none_lost, lab, "the consumer is still stopped", placed)


def test_none_lost_with_an_order_that_was_not_placed(lab, tmp_path):
    _, mapping, placed = outage(lab, tmp_path)
    restart(lab, mapping)
    fails(check.none_lost, lab, "'nope' is not an order orders accepted", [*placed, "nope"])


def test_none_lost_with_the_consumer_never_stopped(lab, tmp_path):
    _, _, placed = outage(lab, tmp_path, stop=False)
    fails(check.none_lost, lab, "the consumer was not stopped when it was placed", placed)


def test_none_lost_with_orders_still_invoking(lab, tmp_path):
    made = build_events(lab)
    build_consumer(lab, made)
    placed = place(lab, 1)  # the given, synchronous orders
    fails(check.none_lost, lab, "notified by a direct invoke", placed)


def test_none_lost_without_the_malformed_event(lab, tmp_path):
    _, mapping, placed = outage(lab, tmp_path, malformed=False)
    restart(lab, mapping)
    fails(check.none_lost, lab, "the dead-letter queue is empty", placed)


def test_none_lost_when_orders_went_to_the_dead_letter_queue(lab, tmp_path):
    """A consumer that fails every order, restarted: three receives later they are dead."""
    _, mapping, placed = outage(lab, tmp_path)
    lambda_ = lab.client("lambda")
    lambda_.update_function_configuration(
        FunctionName=lab.name("notifications"),
        Environment={"Variables": {"DELIVERIES_TABLE": lab.name("no-such-table")}},
    )
    try:
        restart(lab, mapping)
        fails(check.none_lost, lab, "placed order(s) went to the dead-letter queue", placed)
    finally:
        lambda_.update_function_configuration(
            FunctionName=lab.name("notifications"),
            Environment={"Variables": {"DELIVERIES_TABLE": lab.name("deliveries")}},
        )


def test_none_lost_done_right(lab, tmp_path):
    _, mapping, placed = outage(lab, tmp_path)
    restart(lab, mapping)
    verified = check.none_lost(lab, placed)
    assert verified.startswith("3 orders placed while the consumer was stopped, 3 notified once")
