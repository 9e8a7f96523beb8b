"""Lab 01 · MyBlog's checks: S3 → SNS → SQS (+ dead-letter queue) → Lambda thumbnails.

Each check is run against the wrong states a learner is likely to build, made with boto3 on the
moto backend, and must name that mistake; against the right state, it passes. The states follow
AWS's documented contracts: the topic policy S3 needs to publish
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/grant-destinations-permissions-to-s3.html),
S3 notification filter rules (case-sensitive prefix/suffix), the queue policy SNS needs
(https://docs.aws.amazon.com/sns/latest/dg/subscribe-sqs-queue-to-sns-topic.html), a visibility
timeout of at least six times the function's timeout and ReportBatchItemFailures
(https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html), and the SNS
notification envelope around an S3 event that a dead-letter queue keeps.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import helpers
from helpers.checks import CheckFailed
from helpers.checks import myblog as check
from tests.emulator.conftest import TRUST_POLICY as TRUST
from tests.labs import support

FUNCTION_DIR = (
    Path(__file__).resolve().parents[2] / "labs" / "01-myblog" / "functions" / "thumbnail"
)

EXPECTED = {
    "thumbnail_trigger": "there is no SNS topic",
    "fanout_queue": "there is no SQS queue",
    "thumbnail_consumer": "the function has no event source mapping",
    "thumbnails_made": "there are no `.jpg` uploads under `uploads/`",
}


@pytest.mark.notebook
def test_untouched_student_notebook_fails_every_check(tmp_path: Path) -> None:
    support.assert_student_fails("01-myblog", tmp_path, EXPECTED)


# ---- the lab's given resources, and a clean slate for each test --------------------------------


@pytest.fixture(scope="module")
def lab() -> Iterator[helpers.Lab]:
    """One offline lab with what the notebook's setup cells give: two buckets, the function."""
    lab = helpers.start("myblog-lab-checks", backend="moto")
    s3 = lab.client("s3")
    for base in (check.UPLOADS, check.THUMBNAILS):
        s3.create_bucket(Bucket=lab.name(base))
    role = lab.client("iam").create_role(
        RoleName=lab.name("thumbnail-role"), AssumeRolePolicyDocument=TRUST
    )["Role"]["Arn"]
    lab.client("lambda").create_function(
        FunctionName=lab.name(check.FUNCTION),
        Runtime=lab.runtime,
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": lab.package(FUNCTION_DIR, handler="app.handler")},
        Environment={"Variables": {"THUMBNAILS_BUCKET": lab.name(check.THUMBNAILS)}},
        Timeout=10,
    )
    yield lab
    lab.teardown()


@pytest.fixture(autouse=True)
def clean(lab: helpers.Lab) -> Iterator[None]:
    """Each test builds its own state; remove what the exercises make afterwards."""
    yield
    s3, sns, sqs, lambda_ = (lab.client(s) for s in ("s3", "sns", "sqs", "lambda"))
    function = lab.name(check.FUNCTION)
    for mapping in lambda_.list_event_source_mappings(FunctionName=function)["EventSourceMappings"]:
        lambda_.delete_event_source_mapping(UUID=mapping["UUID"])
    lambda_.update_function_configuration(
        FunctionName=function,
        Environment={"Variables": {"THUMBNAILS_BUCKET": lab.name(check.THUMBNAILS)}},
    )
    for base in (check.UPLOADS, check.THUMBNAILS):
        bucket = lab.name(base)
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
        for obj in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
            s3.delete_object(Bucket=bucket, Key=obj["Key"])
    topic = check._topic_arn(lab)
    if topic:
        for sub in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]:
            sns.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])
        sns.delete_topic(TopicArn=topic)
    for base in (check.QUEUE, check.DLQ):
        found = check._queue_attributes(lab, base)
        if found:
            sqs.delete_queue(QueueUrl=found[0])


def fails(inspect: Any, lab: helpers.Lab, message: str) -> str:
    """Run a check that must fail with `message` in what it says; return what it said."""
    with pytest.raises(CheckFailed) as failed:
        inspect(lab)
    assert message in failed.value.message, failed.value.message
    return failed.value.message


# ---- exercise 1: the topic and the bucket's notification ---------------------------------------
def s3_publish_statement(lab: helpers.Lab, topic: str, **changes: Any) -> dict[str, Any]:
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "sns:Publish",
        "Resource": topic,
        "Condition": {
            "ArnEquals": {"aws:SourceArn": f"arn:aws:s3:::{lab.name(check.UPLOADS)}"},
            "StringEquals": {"aws:SourceAccount": lab.account_id},
        },
    }
    statement.update(changes)
    return statement


def make_topic(lab: helpers.Lab, *statements: dict[str, Any], policy: bool = True) -> str:
    """The topic; with policy, its Policy set to `statements` (default: the right statement)."""
    sns = lab.client("sns")
    topic = sns.create_topic(Name=lab.name(check.TOPIC))["TopicArn"]
    if policy:
        document = {"Version": "2012-10-17", "Statement": list(statements)}
        if not statements:
            document["Statement"] = [s3_publish_statement(lab, topic)]
        sns.set_topic_attributes(
            TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(document)
        )
    return topic


def notify(
    lab: helpers.Lab,
    topic: str,
    *,
    events: tuple[str, ...] = ("s3:ObjectCreated:*",),
    rules: dict[str, str] | None = None,
) -> None:
    rules = {"prefix": "uploads/", "suffix": ".jpg"} if rules is None else rules
    configuration: dict[str, Any] = {"TopicArn": topic, "Events": list(events)}
    if rules:
        configuration["Filter"] = {
            "Key": {"FilterRules": [{"Name": k, "Value": v} for k, v in rules.items()]}
        }
    lab.client("s3").put_bucket_notification_configuration(
        Bucket=lab.name(check.UPLOADS),
        NotificationConfiguration={"TopicConfigurations": [configuration]},
    )


def test_trigger_without_a_topic(lab):
    fails(check.thumbnail_trigger, lab, f"there is no SNS topic {lab.name(check.TOPIC)}")


def test_trigger_with_the_default_topic_policy(lab):
    """SNS's default policy lets the account's own principals publish, not the S3 service."""
    make_topic(lab, policy=False)
    fails(check.thumbnail_trigger, lab, "the topic's policy does not let S3 publish")


def test_trigger_with_a_policy_open_to_anyone(lab):
    topic = make_topic(lab)
    open_to_all = {"Effect": "Allow", "Principal": "*", "Action": "sns:Publish", "Resource": topic}
    make_topic(lab, open_to_all)
    fails(check.thumbnail_trigger, lab, "the topic's policy lets anyone publish")


def test_trigger_with_a_policy_for_another_service(lab):
    topic = make_topic(lab)
    make_topic(lab, s3_publish_statement(lab, topic, Principal={"Service": "events.amazonaws.com"}))
    fails(check.thumbnail_trigger, lab, "the topic's policy does not let S3 publish")


def test_trigger_with_a_policy_for_another_resource(lab):
    topic = make_topic(lab)
    make_topic(lab, s3_publish_statement(lab, topic, Resource=f"{topic}-other"))
    fails(check.thumbnail_trigger, lab, "has Resource")


def test_trigger_without_a_source_arn_condition(lab):
    topic = make_topic(lab)
    statement = s3_publish_statement(lab, topic)
    del statement["Condition"]["ArnEquals"]
    make_topic(lab, statement)
    fails(check.thumbnail_trigger, lab, "has no `aws:SourceArn` condition")


def test_trigger_with_the_thumbnails_bucket_as_source(lab):
    topic = make_topic(lab)
    statement = s3_publish_statement(lab, topic)
    thumbnails_arn = f"arn:aws:s3:::{lab.name(check.THUMBNAILS)}"
    statement["Condition"]["ArnEquals"]["aws:SourceArn"] = thumbnails_arn
    make_topic(lab, statement)
    said = fails(check.thumbnail_trigger, lab, f"names {thumbnails_arn}, not")
    assert f"arn:aws:s3:::{lab.name(check.UPLOADS)}" in said


def test_trigger_with_a_source_arn_for_every_bucket(lab):
    topic = make_topic(lab)
    statement = s3_publish_statement(lab, topic)
    statement["Condition"]["ArnEquals"] = {}
    statement["Condition"]["ArnLike"] = {"aws:SourceArn": "arn:aws:s3:::*"}
    make_topic(lab, statement)
    fails(check.thumbnail_trigger, lab, "matches every bucket")


def test_trigger_accepts_a_list_of_source_arns_and_case_insensitive_keys(lab):
    topic = make_topic(lab)
    statement = s3_publish_statement(lab, topic, Action=["SNS:Publish"])
    statement["Condition"] = {
        "ArnLike": {"AWS:SourceArn": [f"arn:aws:s3:::{lab.name(check.UPLOADS)}"]},
        "StringEquals": {"AWS:SourceAccount": lab.account_id},
    }
    make_topic(lab, statement)
    notify(lab, topic)
    check.thumbnail_trigger(lab)


ANYONE = ("*", {"AWS": "*"}, {"AWS": ["*"]})


@pytest.mark.parametrize("principal", ANYONE)
def test_trigger_accepts_anyone_confined_by_source_conditions(lab, principal):
    """AWS documents Principal "*" + aws:SourceArn/aws:SourceAccount as a way to let S3 publish."""
    topic = make_topic(lab)
    make_topic(lab, s3_publish_statement(lab, topic, Principal=principal))
    notify(lab, topic)
    check.thumbnail_trigger(lab)


@pytest.mark.parametrize("principal", ANYONE)
def test_trigger_with_anyone_and_no_condition(lab, principal):
    topic = make_topic(lab)
    statement = s3_publish_statement(lab, topic, Principal=principal)
    del statement["Condition"]
    make_topic(lab, statement)
    fails(check.thumbnail_trigger, lab, "the topic's policy lets anyone publish")


def test_trigger_with_anyone_confined_to_another_bucket(lab):
    topic = make_topic(lab)
    statement = s3_publish_statement(lab, topic, Principal="*")
    thumbnails_arn = f"arn:aws:s3:::{lab.name(check.THUMBNAILS)}"
    statement["Condition"]["ArnEquals"]["aws:SourceArn"] = thumbnails_arn
    make_topic(lab, statement)
    fails(check.thumbnail_trigger, lab, f"names {thumbnails_arn}, not")


@pytest.mark.parametrize(
    ("arn_operator", "account_operator"),
    [
        ("ArnLikeIfExists", "StringEqualsIfExists"),
        ("ArnEqualsIfExists", "StringLikeIfExists"),
        ("ForAnyValue:ArnLike", "ForAnyValue:StringEquals"),
        ("ForAllValues:ArnEquals", "ForAllValues:StringEquals"),
    ],
)
def test_trigger_accepts_operator_variants(lab, arn_operator, account_operator):
    topic = make_topic(lab)
    statement = s3_publish_statement(lab, topic)
    statement["Condition"] = {
        arn_operator: {"aws:SourceArn": f"arn:aws:s3:::{lab.name(check.UPLOADS)}"},
        account_operator: {"aws:SourceAccount": [lab.account_id]},
    }
    make_topic(lab, statement)
    notify(lab, topic)
    check.thumbnail_trigger(lab)


def test_trigger_with_an_if_exists_condition_for_every_bucket(lab):
    topic = make_topic(lab)
    statement = s3_publish_statement(lab, topic)
    del statement["Condition"]["ArnEquals"]
    statement["Condition"]["ArnLikeIfExists"] = {"aws:SourceArn": "arn:aws:s3:::*"}
    make_topic(lab, statement)
    fails(check.thumbnail_trigger, lab, "matches every bucket")


def test_trigger_accepts_lower_case_condition_keys(lab):
    topic = make_topic(lab)
    statement = s3_publish_statement(lab, topic)
    statement["Condition"] = {
        "ArnEquals": {"aws:sourcearn": f"arn:aws:s3:::{lab.name(check.UPLOADS)}"},
        "StringEquals": {"aws:sourceaccount": lab.account_id},
    }
    make_topic(lab, statement)
    notify(lab, topic)
    check.thumbnail_trigger(lab)


def test_trigger_without_a_source_account_condition(lab):
    topic = make_topic(lab)
    statement = s3_publish_statement(lab, topic)
    del statement["Condition"]["StringEquals"]
    make_topic(lab, statement)
    fails(check.thumbnail_trigger, lab, "has no `aws:SourceAccount` condition")


def test_trigger_with_another_account(lab):
    topic = make_topic(lab)
    statement = s3_publish_statement(lab, topic)
    statement["Condition"]["StringEquals"]["aws:SourceAccount"] = "111122223333"
    make_topic(lab, statement)
    fails(check.thumbnail_trigger, lab, "names 111122223333, not your account")


def test_trigger_without_a_notification(lab):
    make_topic(lab)
    fails(check.thumbnail_trigger, lab, "the bucket has no notification for `.jpg` uploads")


def test_trigger_with_a_queue_notification_instead_of_the_topic(lab):
    make_topic(lab)
    queue = lab.client("sqs").create_queue(QueueName=lab.name(check.QUEUE))["QueueUrl"]
    arn = lab.client("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    lab.client("s3").put_bucket_notification_configuration(
        Bucket=lab.name(check.UPLOADS),
        NotificationConfiguration={
            "QueueConfigurations": [
                {"QueueArn": arn["Attributes"]["QueueArn"], "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )
    fails(check.thumbnail_trigger, lab, "the bucket notifies a queue directly")


def test_trigger_with_a_notification_to_another_topic(lab):
    make_topic(lab)
    other = lab.client("sns").create_topic(Name=lab.name("other-topic"))["TopicArn"]
    notify(lab, other)
    try:
        fails(check.thumbnail_trigger, lab, f"the bucket notifies {other}, not the topic")
    finally:
        lab.client("sns").delete_topic(TopicArn=other)


def test_trigger_for_deletions(lab):
    notify(lab, make_topic(lab), events=("s3:ObjectRemoved:*",))
    fails(check.thumbnail_trigger, lab, "is for s3:ObjectRemoved:*, not for new objects")


def test_trigger_for_post_uploads_only(lab):
    """put_object and presigned PUT URLs make s3:ObjectCreated:Put events, not Post."""
    notify(lab, make_topic(lab), events=("s3:ObjectCreated:Post",))
    fails(check.thumbnail_trigger, lab, "are s3:ObjectCreated:Put")


def test_trigger_for_put_uploads_passes(lab):
    notify(lab, make_topic(lab), events=("s3:ObjectCreated:Put",))
    check.thumbnail_trigger(lab)


def test_trigger_without_a_suffix(lab):
    notify(lab, make_topic(lab), rules={"prefix": "uploads/"})
    fails(check.thumbnail_trigger, lab, "has no suffix filter")


def test_trigger_without_any_filter(lab):
    notify(lab, make_topic(lab), rules={})
    fails(check.thumbnail_trigger, lab, "has no suffix filter")


def test_trigger_with_an_upper_case_suffix(lab):
    notify(lab, make_topic(lab), rules={"prefix": "uploads/", "suffix": ".JPG"})
    fails(check.thumbnail_trigger, lab, "filter rules are case-sensitive")


def test_trigger_with_another_suffix(lab):
    notify(lab, make_topic(lab), rules={"prefix": "uploads/", "suffix": ".png"})
    fails(check.thumbnail_trigger, lab, "the suffix filter is `.png`, expected `.jpg`")


def test_trigger_without_a_prefix(lab):
    notify(lab, make_topic(lab), rules={"suffix": ".jpg"})
    fails(check.thumbnail_trigger, lab, "has no prefix filter")


def test_trigger_with_a_leading_slash(lab):
    notify(lab, make_topic(lab), rules={"prefix": "/uploads/", "suffix": ".jpg"})
    fails(check.thumbnail_trigger, lab, "S3 keys do not start with `/`")


def test_trigger_on_the_thumbnails_prefix(lab):
    notify(lab, make_topic(lab), rules={"prefix": "thumbnails/", "suffix": ".jpg"})
    fails(check.thumbnail_trigger, lab, "the prefix filter is `thumbnails/`")


def test_trigger_right(lab, capsys):
    notify(lab, make_topic(lab))
    said = check.thumbnail_trigger(lab)
    assert f"publishes uploads/*.jpg uploads to {lab.name(check.TOPIC)}" in said
    assert capsys.readouterr().out.startswith("✓ S3 → SNS: uploads notify the topic: ")


# ---- exercise 2: the queue, its dead-letter queue, policy and subscription ---------------------
def queue_arn(lab: helpers.Lab, url: str) -> str:
    attributes = lab.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return attributes["Attributes"]["QueueArn"]


def make_queues(
    lab: helpers.Lab,
    *,
    visibility: int = 60,
    receives: int = 3,
    redrive: bool = True,
    dlq_retention: int | None = None,
) -> tuple[str, str]:
    """The DLQ and the queue (with the given settings); their URLs."""
    sqs = lab.client("sqs")
    dlq_attributes = {} if dlq_retention is None else {"MessageRetentionPeriod": str(dlq_retention)}
    dlq = sqs.create_queue(QueueName=lab.name(check.DLQ), Attributes=dlq_attributes)["QueueUrl"]
    attributes = {"VisibilityTimeout": str(visibility)}
    if redrive:
        attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": queue_arn(lab, dlq), "maxReceiveCount": receives}
        )
    queue = sqs.create_queue(QueueName=lab.name(check.QUEUE), Attributes=attributes)["QueueUrl"]
    return queue, dlq


def sns_send_statement(lab: helpers.Lab, queue: str, topic: str, **changes: Any) -> dict:
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": queue_arn(lab, queue),
        "Condition": {"ArnEquals": {"aws:SourceArn": topic}},
    }
    statement.update(changes)
    return statement


def allow(lab: helpers.Lab, queue: str, *statements: dict[str, Any]) -> None:
    policy = {"Version": "2012-10-17", "Statement": list(statements)}
    lab.client("sqs").set_queue_attributes(
        QueueUrl=queue, Attributes={"Policy": json.dumps(policy)}
    )


def topic_arn(lab: helpers.Lab) -> str:
    return f"arn:aws:sns:{lab.region}:{lab.account_id}:{lab.name(check.TOPIC)}"


def fan_out(lab: helpers.Lab, *, trigger: bool = True) -> tuple[str, str, str]:
    """The right state of exercises 1 and 2: (topic ARN, queue URL, DLQ URL). Without trigger,
    no notification: a test's uploads then put nothing in the queue."""
    topic = make_topic(lab)
    if trigger:
        notify(lab, topic)
    queue, dlq = make_queues(lab)
    allow(lab, queue, sns_send_statement(lab, queue, topic))
    lab.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn(lab, queue))
    return topic, queue, dlq


def test_fanout_without_a_queue(lab):
    fails(check.fanout_queue, lab, f"there is no SQS queue {lab.name(check.QUEUE)}")


def test_fanout_without_a_dead_letter_queue(lab):
    make_queues(lab, redrive=False)  # the DLQ exists, the queue does not name it
    said = fails(check.fanout_queue, lab, "the queue has no dead-letter queue: set the queue's")
    assert "create the queue" not in said


def test_fanout_without_any_dead_letter_queue(lab):
    lab.client("sqs").create_queue(
        QueueName=lab.name(check.QUEUE), Attributes={"VisibilityTimeout": "60"}
    )
    fails(check.fanout_queue, lab, f"create the queue {lab.name(check.DLQ)} and set")


def test_fanout_with_the_queue_as_its_own_dead_letter_queue(lab):
    queue, _ = make_queues(lab, redrive=False)
    lab.client("sqs").set_queue_attributes(
        QueueUrl=queue,
        Attributes={
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": queue_arn(lab, queue), "maxReceiveCount": 3}
            )
        },
    )
    fails(check.fanout_queue, lab, "the queue is its own dead-letter queue")


def test_fanout_with_another_dead_letter_queue(lab):
    queue, _ = make_queues(lab, redrive=False)
    sqs = lab.client("sqs")
    other = sqs.create_queue(QueueName=lab.name("other-dlq"))["QueueUrl"]
    try:
        sqs.set_queue_attributes(
            QueueUrl=queue,
            Attributes={
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": queue_arn(lab, other), "maxReceiveCount": 3}
                )
            },
        )
        fails(check.fanout_queue, lab, "not to the dead-letter queue")
    finally:
        sqs.delete_queue(QueueUrl=other)


def test_fanout_when_the_dead_letter_queue_was_deleted(lab):
    _, dlq = make_queues(lab)
    lab.client("sqs").delete_queue(QueueUrl=dlq)
    fails(check.fanout_queue, lab, "but there is no such queue")


def test_fanout_with_a_single_receive(lab):
    make_queues(lab, receives=1)
    fails(check.fanout_queue, lab, "maxReceiveCount is 1")


def test_fanout_with_the_default_visibility_timeout(lab):
    """30 s, SQS's default, is less than 6 × the function's 10 s."""
    make_queues(lab, visibility=30)
    fails(check.fanout_queue, lab, "visibility timeout is 30 s, less than 6 × the function's")


def test_fanout_with_a_visibility_timeout_equal_to_the_function_timeout(lab):
    make_queues(lab, visibility=10)
    said = fails(check.fanout_queue, lab, "visibility timeout is 10 s")
    assert '"VisibilityTimeout": "60"' in said


def test_fanout_with_a_dead_letter_queue_that_expires_first(lab):
    make_queues(lab, dlq_retention=60)
    fails(check.fanout_queue, lab, "the dead-letter queue keeps messages 60 s, less than")


def test_fanout_without_a_queue_policy(lab):
    make_queues(lab)
    fails(check.fanout_queue, lab, "the queue has no access policy")


def test_fanout_with_a_policy_open_to_anyone(lab):
    queue, _ = make_queues(lab)
    allow(lab, queue, {"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": "*"})
    fails(check.fanout_queue, lab, "the queue's policy lets anyone send messages")


def test_fanout_with_a_policy_for_s3(lab):
    queue, _ = make_queues(lab)
    statement = sns_send_statement(
        lab, queue, topic_arn(lab), Principal={"Service": "s3.amazonaws.com"}
    )
    allow(lab, queue, statement)
    fails(check.fanout_queue, lab, "the queue's policy does not let SNS send")


def test_fanout_with_a_policy_without_a_source(lab):
    queue, _ = make_queues(lab)
    statement = sns_send_statement(lab, queue, topic_arn(lab))
    del statement["Condition"]
    allow(lab, queue, statement)
    fails(check.fanout_queue, lab, "has no `aws:SourceArn` condition: any topic")


def test_fanout_with_a_policy_for_another_topic(lab):
    queue, _ = make_queues(lab)
    other = topic_arn(lab) + "-other"
    allow(lab, queue, sns_send_statement(lab, queue, other))
    fails(check.fanout_queue, lab, f"names {other}, not {topic_arn(lab)}")


@pytest.mark.parametrize("principal", ANYONE)
def test_fanout_accepts_anyone_confined_to_the_topic(lab, principal):
    """AWS documents Principal "*" + aws:SourceArn = the topic as a way to let SNS send."""
    topic, queue, _ = fan_out(lab)
    allow(lab, queue, sns_send_statement(lab, queue, topic, Principal=principal))
    check.fanout_queue(lab)


@pytest.mark.parametrize("principal", ANYONE)
def test_fanout_with_anyone_and_no_condition(lab, principal):
    queue, _ = make_queues(lab)
    statement = sns_send_statement(lab, queue, topic_arn(lab), Principal=principal)
    del statement["Condition"]
    allow(lab, queue, statement)
    fails(check.fanout_queue, lab, "the queue's policy lets anyone send messages")


def test_fanout_with_anyone_confined_to_another_topic(lab):
    queue, _ = make_queues(lab)
    other = topic_arn(lab) + "-other"
    allow(lab, queue, sns_send_statement(lab, queue, other, Principal="*"))
    fails(check.fanout_queue, lab, f"names {other}, not {topic_arn(lab)}")


@pytest.mark.parametrize(
    "operator",
    ["ArnLikeIfExists", "ArnEqualsIfExists", "StringEqualsIfExists", "ForAnyValue:ArnEquals"],
)
def test_fanout_accepts_operator_variants(lab, operator):
    topic, queue, _ = fan_out(lab)
    statement = sns_send_statement(
        lab, queue, topic, Condition={operator: {"aws:SourceArn": topic}}
    )
    allow(lab, queue, statement)
    check.fanout_queue(lab)


def test_fanout_accepts_a_lower_case_condition_key(lab):
    topic, queue, _ = fan_out(lab)
    condition = {"ArnEquals": {"aws:sourcearn": [topic]}}
    allow(lab, queue, sns_send_statement(lab, queue, topic, Condition=condition))
    check.fanout_queue(lab)


def test_fanout_with_a_policy_on_the_dead_letter_queue(lab):
    queue, dlq = make_queues(lab)
    allow(lab, queue, sns_send_statement(lab, queue, topic_arn(lab), Resource=queue_arn(lab, dlq)))
    fails(check.fanout_queue, lab, "has Resource")


def test_fanout_before_the_topic_exists(lab):
    queue, _ = make_queues(lab)
    allow(lab, queue, sns_send_statement(lab, queue, topic_arn(lab)))
    fails(check.fanout_queue, lab, "to subscribe to: do exercise 1 first")


def test_fanout_without_a_subscription(lab):
    topic = make_topic(lab)
    queue, _ = make_queues(lab)
    allow(lab, queue, sns_send_statement(lab, queue, topic))
    fails(check.fanout_queue, lab, "the queue is not subscribed to the topic")


def test_fanout_with_the_dead_letter_queue_subscribed(lab):
    topic = make_topic(lab)
    queue, dlq = make_queues(lab)
    allow(lab, queue, sns_send_statement(lab, queue, topic))
    lab.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn(lab, dlq))
    fails(check.fanout_queue, lab, "the dead-letter queue is subscribed to the topic")


def test_fanout_right(lab):
    fan_out(lab)
    said = check.fanout_queue(lab)
    assert "(visibility 60 s ≥ 6 × 10 s); after 3 receives" in said


# ---- exercise 3: the event source mapping ------------------------------------------------------
def map_queue(lab: helpers.Lab, url: str, **options: Any) -> dict[str, Any]:
    return lab.client("lambda").create_event_source_mapping(
        EventSourceArn=queue_arn(lab, url), FunctionName=lab.name(check.FUNCTION), **options
    )


def test_consumer_without_a_mapping(lab):
    fan_out(lab)
    fails(check.thumbnail_consumer, lab, "the function has no event source mapping")


def test_consumer_reading_the_dead_letter_queue(lab):
    _, _, dlq = fan_out(lab)
    map_queue(lab, dlq, FunctionResponseTypes=["ReportBatchItemFailures"])
    fails(check.thumbnail_consumer, lab, "the function reads the dead-letter queue")


def test_consumer_disabled(lab):
    _, queue, _ = fan_out(lab)
    map_queue(lab, queue, Enabled=False, FunctionResponseTypes=["ReportBatchItemFailures"])
    fails(check.thumbnail_consumer, lab, "the event source mapping is Disabled")


def test_consumer_without_partial_batch_failures(lab):
    _, queue, _ = fan_out(lab)
    map_queue(lab, queue, BatchSize=5)
    fails(check.thumbnail_consumer, lab, "the mapping does not report partial batch failures")


def test_consumer_right(lab):
    _, queue, _ = fan_out(lab)
    map_queue(lab, queue, BatchSize=5, FunctionResponseTypes=["ReportBatchItemFailures"])
    said = check.thumbnail_consumer(lab)
    assert said.endswith("in batches of up to 5, failures reported message by message")


# ---- exercise 4: thumbnails and the dead-letter queue ------------------------------------------
def jpeg(size: tuple[int, int], fmt: str = "JPEG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(out, fmt)
    return out.getvalue()


GOOD = {"a.jpg": jpeg((600, 400)), "b.jpg": jpeg((300, 500))}
CORRUPT = {"broken.jpg": jpeg((600, 400))[:300]}


def upload(lab: helpers.Lab, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        lab.client("s3").put_object(
            Bucket=lab.name(check.UPLOADS), Key=f"uploads/{name}", Body=data
        )


def make_thumbnail(lab: helpers.Lab, name: str, data: bytes) -> None:
    lab.client("s3").put_object(
        Bucket=lab.name(check.THUMBNAILS), Key=f"thumbnails/{name}", Body=data
    )


def s3_event(lab: helpers.Lab, name: str, **changes: Any) -> str:
    """The SQS body SNS delivers for an S3 ObjectCreated event of uploads/<name> (raw delivery
    off): a Notification whose Message is the S3 event, its key URL-encoded."""
    head = lab.client("s3").head_object(Bucket=lab.name(check.UPLOADS), Key=f"uploads/{name}")
    obj = {"key": f"uploads/{name}", "size": head["ContentLength"], "eTag": head["ETag"].strip('"')}
    obj.update(changes)
    event = {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": lab.name(check.UPLOADS)}, "object": obj},
            }
        ]
    }
    return json.dumps(
        {"Type": "Notification", "TopicArn": topic_arn(lab), "Message": json.dumps(event)}
    )


def dead_letter(lab: helpers.Lab, dlq: str, body: str) -> None:
    lab.client("sqs").send_message(QueueUrl=dlq, MessageBody=body)


def ran(lab: helpers.Lab, *, thumbnail: bytes | None = None) -> tuple[str, str]:
    """The right end state: photos and the corrupt file uploaded, thumbnails made, the corrupt
    file's message in the DLQ. (queue URL, DLQ URL)"""
    _, queue, dlq = fan_out(lab, trigger=False)
    upload(lab, {**GOOD, **CORRUPT})
    for name in GOOD:
        make_thumbnail(lab, name, thumbnail or jpeg((256, 171)))
    dead_letter(lab, dlq, s3_event(lab, "broken.jpg"))
    return queue, dlq


def test_made_without_uploads(lab):
    fan_out(lab, trigger=False)
    fails(check.thumbnails_made, lab, "there are no `.jpg` uploads under `uploads/`")


def test_made_without_a_corrupt_upload(lab):
    fan_out(lab, trigger=False)
    upload(lab, GOOD)
    fails(check.thumbnails_made, lab, "every upload is a good photo")


def test_made_with_only_the_corrupt_upload(lab):
    fan_out(lab, trigger=False)
    upload(lab, CORRUPT)
    fails(check.thumbnails_made, lab, "none of the uploads is a photo")


def test_made_while_messages_wait_in_the_queue(lab):
    _, queue, _ = fan_out(lab, trigger=False)
    upload(lab, {**GOOD, **CORRUPT})
    lab.client("sqs").send_message(QueueUrl=queue, MessageBody=s3_event(lab, "a.jpg"))
    fails(check.thumbnails_made, lab, "no thumbnail yet for uploads/a.jpg: 1 message(s)")


def test_made_without_thumbnails_and_nothing_waiting(lab):
    fan_out(lab, trigger=False)
    upload(lab, {**GOOD, **CORRUPT})
    said = fails(check.thumbnails_made, lab, "no thumbnail for uploads/a.jpg")
    assert f"/aws/lambda/{lab.name(check.FUNCTION)}" in said


def test_made_with_a_png_thumbnail(lab):
    ran(lab, thumbnail=jpeg((256, 171), "PNG"))
    fails(check.thumbnails_made, lab, "the thumbnail of uploads/a.jpg is PNG, not JPEG")


def test_made_with_a_thumbnail_too_large(lab):
    ran(lab, thumbnail=jpeg((600, 400)))
    fails(check.thumbnails_made, lab, "is 600 × 400, larger than the 256 px")


def test_made_holds_the_function_to_its_configured_size(lab):
    ran(lab)
    lab.client("lambda").update_function_configuration(
        FunctionName=lab.name(check.FUNCTION),
        Environment={
            "Variables": {"THUMBNAILS_BUCKET": lab.name(check.THUMBNAILS), "THUMBNAIL_SIZE": "128"}
        },
    )
    fails(check.thumbnails_made, lab, "larger than the 128 px")


def test_made_with_an_empty_dead_letter_queue(lab):
    fan_out(lab, trigger=False)
    upload(lab, {**GOOD, **CORRUPT})
    for name in GOOD:
        make_thumbnail(lab, name, jpeg((256, 171)))
    fails(check.thumbnails_made, lab, "the dead-letter queue is empty")


def test_made_while_the_corrupt_file_is_retried(lab):
    _, queue, _ = fan_out(lab, trigger=False)
    upload(lab, {**GOOD, **CORRUPT})
    for name in GOOD:
        make_thumbnail(lab, name, jpeg((256, 171)))
    sqs = lab.client("sqs")
    sqs.send_message(QueueUrl=queue, MessageBody=s3_event(lab, "broken.jpg"))
    sqs.receive_message(QueueUrl=queue, VisibilityTimeout=60)  # in flight, as Lambda holds it
    fails(check.thumbnails_made, lab, "the dead-letter queue is still empty and 1 message(s)")


def test_made_with_another_message_in_the_dead_letter_queue(lab):
    fan_out(lab, trigger=False)
    upload(lab, {**GOOD, **CORRUPT})
    for name in GOOD:
        make_thumbnail(lab, name, jpeg((256, 171)))
    dlq = check._queue_attributes(lab, check.DLQ)[0]
    dead_letter(lab, dlq, s3_event(lab, "a.jpg"))
    fails(check.thumbnails_made, lab, "the dead-letter queue has no message for uploads/broken.jpg")


def test_made_with_a_replaced_original(lab):
    _, dlq = ran(lab)
    lab.client("sqs").purge_queue(QueueUrl=dlq)
    dead_letter(lab, dlq, s3_event(lab, "broken.jpg", eTag="0" * 32, size=12))
    fails(check.thumbnails_made, lab, "uploads/broken.jpg is not the object its event announced")


def test_made_with_a_thumbnail_of_the_corrupt_file(lab):
    ran(lab)
    make_thumbnail(lab, "broken.jpg", jpeg((256, 171)))
    fails(check.thumbnails_made, lab, "uploads/broken.jpg is not a photo, yet")


def test_made_reads_raw_delivery_and_url_encoded_keys(lab):
    """With raw message delivery the body is the S3 event itself; keys are URL-encoded."""
    _, dlq = ran(lab)
    lab.client("sqs").purge_queue(QueueUrl=dlq)
    upload(lab, {"my broken.jpg": CORRUPT["broken.jpg"]})
    for name in ("broken.jpg", "my broken.jpg"):
        body = json.loads(s3_event(lab, name, key=f"uploads/{name}".replace(" ", "+")))["Message"]
        dead_letter(lab, dlq, body)
    said = check.thumbnails_made(lab)
    assert "2 corrupt upload(s)" in said


def test_made_right(lab):
    ran(lab)
    said = check.thumbnails_made(lab)
    assert said == (
        f"2 photos have JPEG thumbnails of at most 256 px; 1 corrupt upload(s) in "
        f"{lab.name(check.DLQ)}, the original(s) untouched"
    )
    dlq = check._queue_attributes(lab, check.DLQ)[1]
    assert dlq["ApproximateNumberOfMessages"] == "1"  # the check left the message where it was
