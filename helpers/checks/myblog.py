"""Checks of lab 01 · MyBlog: photo uploads → S3 event → SNS topic → SQS queue → Lambda thumbnails,
with a dead-letter queue for what cannot become a thumbnail.

Each check finds the lab's resources by their lab names (`lab.name("photo-uploaded")`...), reads
them with the lab's boto3 clients and names the likely mistake. AWS contracts used:
S3 event notifications to SNS (https://docs.aws.amazon.com/AmazonS3/latest/userguide/
grant-destinations-permissions-to-s3.html), SNS to SQS (https://docs.aws.amazon.com/sns/latest/dg/
subscribe-sqs-queue-to-sns-topic.html), Lambda with SQS (https://docs.aws.amazon.com/lambda/
latest/dg/services-sqs-configure.html: visibility timeout at least six times the function's
timeout; ReportBatchItemFailures) and SQS dead-letter queues.
"""

from __future__ import annotations

import io
import json
from typing import Any
from urllib.parse import unquote_plus

from botocore.exceptions import ClientError

from . import Mistake, check, expect
from .policies import as_list, wildcard
from .policies import statements as policy_statements

LAB = "01-myblog"

# lab names (lab.name(<base>)) of what the lab's setup cells and exercises create
UPLOADS = "uploads"
THUMBNAILS = "thumbnails"
FUNCTION = "thumbnail"
TOPIC = "photo-uploaded"
QUEUE = "thumbnail-jobs"
DLQ = "thumbnail-dlq"

UPLOAD_PREFIX = "uploads/"
THUMBNAIL_PREFIX = "thumbnails/"
SUFFIX = ".jpg"
DEFAULT_SIZE = 256  # the function's THUMBNAIL_SIZE when its environment does not set one
VISIBILITY_FACTOR = 6  # AWS: a queue's visibility timeout ≥ 6 × the timeout of its function
NONEXISTENT_QUEUE = "AWS.SimpleQueueService.NonExistentQueue"
CONDITION_OPERATORS = ("ArnEquals", "ArnLike", "StringEquals", "StringLike")
SET_PREFIXES = ("ForAnyValue:", "ForAllValues:")
# condition keys that confine an anyone-principal ("*") to requests a service makes on behalf of
# a resource: AWS documents Principal "*" + aws:SourceArn / aws:SourceAccount as an alternative
# to a service principal (both keys exist only in service-to-service requests)
SOURCE_KEYS = ("aws:SourceArn", "aws:SourceAccount")


# ---- finding the lab's resources ---------------------------------------------------------------
def _topic_arn(lab: Any) -> str | None:
    """The ARN of the lab's photo topic, or None if it does not exist."""
    arn = f"arn:aws:sns:{lab.region}:{lab.account_id}:{lab.name(TOPIC)}"
    try:
        lab.client("sns").get_topic_attributes(TopicArn=arn)
    except ClientError as error:
        if error.response["Error"]["Code"] in ("NotFound", "NotFoundException"):
            return None
        raise
    return arn


def _queue_arn(lab: Any, base: str) -> str:
    return f"arn:aws:sqs:{lab.region}:{lab.account_id}:{lab.name(base)}"


def _queue_attributes(lab: Any, base: str) -> tuple[str, dict[str, str]] | None:
    """(url, attributes) of one of the lab's queues, or None if it does not exist."""
    sqs = lab.client("sqs")
    try:
        url = sqs.get_queue_url(QueueName=lab.name(base))["QueueUrl"]
    except ClientError as error:
        if error.response["Error"]["Code"] in (NONEXISTENT_QUEUE, "QueueDoesNotExist"):
            return None
        raise
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return url, attributes


def _function(lab: Any) -> dict[str, Any]:
    """The given thumbnail function's configuration (the setup cells deploy it)."""
    try:
        return lab.client("lambda").get_function_configuration(FunctionName=lab.name(FUNCTION))
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceNotFoundException":
            raise Mistake(
                f"there is no function {lab.name(FUNCTION)}: run the setup cells above the "
                "exercises first (they deploy the thumbnail function)"
            ) from None
        raise


# ---- resource policies -------------------------------------------------------------------------
def _allows(statement: dict[str, Any], action: str) -> bool:
    """An Allow statement whose Action covers `action` (IAM actions are case-insensitive)."""
    if statement.get("Effect") != "Allow":
        return False
    service = action.split(":")[0]
    granted = {a.lower() for a in as_list(statement.get("Action"))}
    return bool(granted & {action.lower(), f"{service}:*".lower(), "*"})


def _services(statement: dict[str, Any]) -> set[str]:
    principal = statement.get("Principal")
    if isinstance(principal, dict):
        return set(as_list(principal.get("Service")))
    return set()


def _anyone(statement: dict[str, Any]) -> bool:
    principal = statement.get("Principal")
    if principal == "*":
        return True
    return isinstance(principal, dict) and "*" in as_list(principal.get("AWS"))


def _lets_in(statement: dict[str, Any], service: str) -> bool:
    """The statement admits `service`: by its service principal, or by an anyone-principal
    (`"*"`, `{"AWS": "*"}`) that a source condition confines to service requests."""
    if service in _services(statement):
        return True
    return _anyone(statement) and any(_condition(statement, key) for key in SOURCE_KEYS)


def _admitting(statements: list[dict[str, Any]], service: str) -> list[dict[str, Any]]:
    """The statements that admit `service`, those naming it as principal first."""
    admitting = [s for s in statements if _lets_in(s, service)]
    return sorted(admitting, key=lambda s: service not in _services(s))


def _operator(name: str) -> str:
    """A condition operator without its set prefix (ForAnyValue:, ForAllValues:) and its IfExists
    suffix: on the single-valued keys checked here (present in every S3/SNS delivery) they test
    what the bare operator tests."""
    for prefix in SET_PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix) :]
    return name.removesuffix("IfExists")


def _condition(statement: dict[str, Any], key: str) -> list[tuple[str, list[str]]]:
    """(operator, values) of every condition on `key` (condition keys are case-insensitive; a
    value may be a string or a list), the operator normalised by `_operator`."""
    found = []
    for operator, block in (statement.get("Condition") or {}).items():
        operator = _operator(operator)
        if operator not in CONDITION_OPERATORS or not isinstance(block, dict):
            continue
        for name, values in block.items():
            if name.lower() == key.lower():
                found.append((operator, [str(v) for v in as_list(values)]))
    return found


def _matches(operator: str, pattern: str, value: str) -> bool:
    if operator.endswith("Like"):
        return wildcard(pattern, value)
    return pattern == value


def _condition_lets(statement: dict[str, Any], key: str, value: str) -> bool:
    """Every condition on `key` accepts `value` (conditions are ANDed; values in one are ORed)."""
    return all(
        any(_matches(op, pattern, value) for pattern in patterns)
        for op, patterns in _condition(statement, key)
    )


def _covers_resource(statement: dict[str, Any], arn: str) -> bool:
    return any(wildcard(str(r), arn) for r in as_list(statement.get("Resource", "*")))


def _check_service_statement(
    statement: dict[str, Any], *, who: str, resource: str, key: str, source: str, source_what: str
) -> None:
    """The statement that lets a service act for `source` is scoped to it by `key`."""
    expect(
        _covers_resource(statement, resource),
        f"the statement that lets {who} in has Resource {statement.get('Resource')!r}: it must "
        f"be the resource it protects, {resource}",
    )
    conditions = _condition(statement, key)
    expect(
        conditions,
        f"the statement that lets {who} in has no `{key}` condition: any {source_what}, in any "
        f"account, could use it; add a condition such as "
        f'"ArnEquals": {{"{key}": "{source}"}}',
    )
    patterns = [p for _, values in conditions for p in values]
    expect(
        _condition_lets(statement, key, source),
        f"the `{key}` condition names {', '.join(patterns)}, not {source}",
    )
    other = source.rsplit(":", 1)[0] + ":" + "some-other-" + source.rsplit(":", 1)[1]
    expect(
        not _condition_lets(statement, key, other),
        f"the `{key}` condition ({', '.join(patterns)}) matches every {source_what}, not only "
        f"{source}: name it exactly",
    )


# ---- exercise 1 --------------------------------------------------------------------------------
@check(LAB, "S3 → SNS: uploads notify the topic")
def thumbnail_trigger(lab: Any) -> str:
    """The topic lets the uploads bucket (of this account) publish, and the bucket notifies it of
    every `.jpg` created under uploads/."""
    bucket = lab.name(UPLOADS)
    bucket_arn = f"arn:aws:s3:::{bucket}"
    topic = _topic_arn(lab)
    expect(
        topic,
        f"there is no SNS topic {lab.name(TOPIC)}: create it with "
        f'sns.create_topic(Name=lab.name("{TOPIC}"))',
    )
    policy = lab.client("sns").get_topic_attributes(TopicArn=topic)["Attributes"].get("Policy")
    publish = [s for s in policy_statements(policy) if _allows(s, "sns:Publish")]
    for statement in publish:
        expect(
            not (_anyone(statement) and not statement.get("Condition")),
            "the topic's policy lets anyone publish (Principal *, no condition): allow only "
            'Principal {"Service": "s3.amazonaws.com"}',
        )
    by_s3 = _admitting(publish, "s3.amazonaws.com")
    expect(
        by_s3,
        "the topic's policy does not let S3 publish: set its Policy attribute "
        "(sns.set_topic_attributes) to a statement that allows Principal "
        '{"Service": "s3.amazonaws.com"} the action sns:Publish on the topic, on condition '
        f"aws:SourceArn = {bucket_arn} and aws:SourceAccount = your account",
    )
    statement = by_s3[0]
    _check_service_statement(
        statement,
        who="S3",
        resource=topic,
        key="aws:SourceArn",
        source=bucket_arn,
        source_what="bucket",
    )
    accounts = _condition(statement, "aws:SourceAccount")
    expect(
        accounts,
        "the statement that lets S3 publish has no `aws:SourceAccount` condition: bucket names "
        "are global, so once you delete yours, a bucket of that name in another account could "
        f'publish to your topic; add "StringEquals": {{"aws:SourceAccount": "{lab.account_id}"}}',
    )
    expect(
        _condition_lets(statement, "aws:SourceAccount", lab.account_id),
        f"the `aws:SourceAccount` condition names "
        f"{', '.join(v for _, values in accounts for v in values)}, not your account "
        f"{lab.account_id}",
    )

    config = lab.client("s3").get_bucket_notification_configuration(Bucket=bucket)
    topics = config.get("TopicConfigurations", [])
    elsewhere = [
        kind
        for kind, key in (
            ("a queue", "QueueConfigurations"),
            ("a function", "LambdaFunctionConfigurations"),
        )
        if config.get(key)
    ]
    expect(
        topics or not elsewhere,
        f"the bucket notifies {' and '.join(elsewhere)} directly: here S3 notifies the topic, "
        "which fans out (TopicConfigurations in put_bucket_notification_configuration)",
    )
    expect(
        topics,
        f"the bucket has no notification for `{SUFFIX}` uploads: call "
        "s3.put_bucket_notification_configuration with a TopicConfiguration: the topic's ARN, "
        f'Events ["s3:ObjectCreated:*"] and filter rules prefix `{UPLOAD_PREFIX}`, suffix '
        f"`{SUFFIX}`",
    )
    ours = [t for t in topics if t["TopicArn"] == topic]
    expect(
        ours,
        f"the bucket notifies {', '.join(t['TopicArn'] for t in topics)}, not the topic {topic}",
    )
    notification = ours[0]
    events = notification.get("Events", [])
    if not any(e in ("s3:ObjectCreated:*", "s3:ObjectCreated:Put") for e in events):
        created = [e for e in events if e.startswith("s3:ObjectCreated:")]
        expect(
            not created,
            f"the notification is for {', '.join(created)} only: uploads with put_object or a "
            'presigned URL are s3:ObjectCreated:Put; use Events ["s3:ObjectCreated:*"]',
        )
        raise Mistake(
            f"the notification is for {', '.join(events)}, not for new objects: use Events "
            '["s3:ObjectCreated:*"]'
        )
    rules = {
        rule["Name"].lower(): rule["Value"]
        for rule in notification.get("Filter", {}).get("Key", {}).get("FilterRules", [])
    }
    expect(
        "suffix" in rules,
        f"the notification has no suffix filter: every upload (a .png, a .txt) would reach the "
        f'function; add the filter rule {{"Name": "suffix", "Value": "{SUFFIX}"}}',
    )
    suffix = rules["suffix"]
    expect(
        suffix.lower() != SUFFIX or suffix == SUFFIX,
        f"the suffix filter is `{suffix}`: filter rules are case-sensitive, and the photos end "
        f"in `{SUFFIX}`",
    )
    expect(suffix == SUFFIX, f"the suffix filter is `{suffix}`, expected `{SUFFIX}`")
    expect(
        "prefix" in rules,
        f"the notification has no prefix filter: add {{'Name': 'prefix', 'Value': "
        f"'{UPLOAD_PREFIX}'}}; the photos arrive under `{UPLOAD_PREFIX}`, the only place the "
        "function makes thumbnails from",
    )
    prefix = rules["prefix"]
    expect(
        not prefix.startswith("/"),
        f"the prefix filter is `{prefix}`: S3 keys do not start with `/`; use `{UPLOAD_PREFIX}`",
    )
    expect(
        prefix == UPLOAD_PREFIX,
        f"the prefix filter is `{prefix}`; the photos arrive under `{UPLOAD_PREFIX}`",
    )
    return (
        f"{bucket} publishes {UPLOAD_PREFIX}*{SUFFIX} uploads to {lab.name(TOPIC)}, "
        "and only that bucket, in this account, may publish"
    )


# ---- exercise 2 --------------------------------------------------------------------------------
@check(LAB, "SNS → SQS: the topic fans out to a queue with a dead-letter queue")
def fanout_queue(lab: Any) -> str:
    """The queue has a DLQ and a visibility timeout ≥ 6 × the function's, lets the topic send,
    and is subscribed to it."""
    name, dlq_name = lab.name(QUEUE), lab.name(DLQ)
    queue_arn, dlq_arn = _queue_arn(lab, QUEUE), _queue_arn(lab, DLQ)
    found = _queue_attributes(lab, QUEUE)
    expect(
        found,
        f"there is no SQS queue {name}: create it with "
        f'sqs.create_queue(QueueName=lab.name("{QUEUE}"), Attributes={{...}})',
    )
    _, attributes = found
    redrive = attributes.get("RedrivePolicy")
    first = "" if _queue_attributes(lab, DLQ) else f"create the queue {dlq_name} and "
    expect(
        redrive,
        f"the queue has no dead-letter queue: {first}set the queue's RedrivePolicy attribute "
        f'to {{"deadLetterTargetArn": <the ARN of {dlq_name}>, "maxReceiveCount": 3}}',
    )
    redrive = json.loads(redrive)
    target = redrive.get("deadLetterTargetArn")
    expect(target != queue_arn, "the queue is its own dead-letter queue: use the queue " + dlq_name)
    expect(
        target == dlq_arn,
        f"the redrive policy sends failures to {target}, not to the dead-letter queue {dlq_name}",
    )
    dead = _queue_attributes(lab, DLQ)
    expect(dead, f"the redrive policy names {dlq_name}, but there is no such queue: create it")
    receives = int(redrive.get("maxReceiveCount", 0))
    expect(
        receives >= 2,
        f"maxReceiveCount is {receives}: a message that fails once (a throttled call, a "
        "timeout) goes straight to the dead-letter queue; allow a few receives (3; AWS "
        "suggests 5 where throttling is likely)",
    )
    timeout = _function(lab)["Timeout"]
    visibility = int(attributes["VisibilityTimeout"])
    least = VISIBILITY_FACTOR * timeout
    expect(
        visibility >= least,
        f"the queue's visibility timeout is {visibility} s, less than {VISIBILITY_FACTOR} × the "
        f"function's timeout ({timeout} s) = {least} s, AWS's advice for a queue that Lambda "
        "reads: a message could reappear, and be processed again, while its batch is still "
        f'running; set "VisibilityTimeout": "{least}" (or more)',
    )
    kept, dead_kept = (
        int(attributes["MessageRetentionPeriod"]),
        int(dead[1]["MessageRetentionPeriod"]),
    )
    expect(
        dead_kept >= kept,
        f"the dead-letter queue keeps messages {dead_kept} s, less than the queue ({kept} s): "
        "a message keeps its first enqueue time when it moves, so it would expire early; give "
        "the dead-letter queue the longer MessageRetentionPeriod",
    )

    policy = attributes.get("Policy")
    expect(
        policy,
        "the queue has no access policy, so SNS may not send to it (on AWS the deliveries fail "
        "silently): set its Policy attribute to a statement that allows Principal "
        '{"Service": "sns.amazonaws.com"} the action sqs:SendMessage on the queue, on condition '
        "aws:SourceArn = the topic's ARN",
    )
    send = [s for s in policy_statements(policy) if _allows(s, "sqs:SendMessage")]
    for statement in send:
        expect(
            not (_anyone(statement) and not statement.get("Condition")),
            "the queue's policy lets anyone send messages (Principal *, no condition): allow "
            'only Principal {"Service": "sns.amazonaws.com"}, on condition aws:SourceArn = the '
            "topic's ARN",
        )
    by_sns = _admitting(send, "sns.amazonaws.com")
    expect(
        by_sns,
        "the queue's policy does not let SNS send: allow Principal "
        '{"Service": "sns.amazonaws.com"} the action sqs:SendMessage, on condition '
        "aws:SourceArn = the topic's ARN",
    )
    topic_arn = f"arn:aws:sns:{lab.region}:{lab.account_id}:{lab.name(TOPIC)}"
    _check_service_statement(
        by_sns[0],
        who="SNS",
        resource=queue_arn,
        key="aws:SourceArn",
        source=topic_arn,
        source_what="topic",
    )

    topic = _topic_arn(lab)
    expect(topic, f"there is no topic {lab.name(TOPIC)} to subscribe to: do exercise 1 first")
    subscriptions = lab.client("sns").list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    endpoints = {s["Endpoint"] for s in subscriptions if s["Protocol"] == "sqs"}
    expect(
        dlq_arn not in endpoints or queue_arn in endpoints,
        "the dead-letter queue is subscribed to the topic, not the queue: subscribe the queue "
        f"{name}; the dead-letter queue only receives what the queue gives up on",
    )
    expect(
        queue_arn in endpoints,
        "the queue is not subscribed to the topic: "
        'sns.subscribe(TopicArn=<the topic ARN>, Protocol="sqs", Endpoint=<the queue ARN>)',
    )
    return (
        f"{lab.name(TOPIC)} → {name} (visibility {visibility} s ≥ {VISIBILITY_FACTOR} × "
        f"{timeout} s); after {receives} receives a message moves to {dlq_name}"
    )


# ---- exercise 3 --------------------------------------------------------------------------------
@check(LAB, "SQS → Lambda: the function consumes the queue")
def thumbnail_consumer(lab: Any) -> str:
    """An enabled event source mapping from the queue to the function reports failures per item."""
    function = _function(lab)["FunctionName"]
    queue_arn, dlq_arn = _queue_arn(lab, QUEUE), _queue_arn(lab, DLQ)
    mappings = lab.client("lambda").list_event_source_mappings(FunctionName=function)[
        "EventSourceMappings"
    ]
    expect(
        mappings,
        "the function has no event source mapping: lambda_.create_event_source_mapping("
        "EventSourceArn=<the queue ARN>, FunctionName=<the function>, "
        'FunctionResponseTypes=["ReportBatchItemFailures"])',
    )
    sources = [m["EventSourceArn"] for m in mappings]
    expect(
        queue_arn in sources or dlq_arn not in sources,
        f"the function reads the dead-letter queue, not the queue: map {lab.name(QUEUE)}; the "
        "dead-letter queue keeps failures for a human to look at",
    )
    expect(queue_arn in sources, f"the function reads {', '.join(sources)}, not {queue_arn}")
    mapping = next(m for m in mappings if m["EventSourceArn"] == queue_arn)
    state = mapping.get("State", "Enabled")
    expect(
        state not in ("Disabled", "Disabling"),
        f"the event source mapping is {state}: enable it with "
        "lambda_.update_event_source_mapping(UUID=..., Enabled=True)",
    )
    expect(
        "ReportBatchItemFailures" in mapping.get("FunctionResponseTypes", []),
        "the mapping does not report partial batch failures: the function returns the failed "
        "messages in `batchItemFailures`, but without "
        'FunctionResponseTypes=["ReportBatchItemFailures"] Lambda ignores that list, counts '
        "the batch a success and deletes every message: a corrupt photo would never reach the "
        "dead-letter queue",
    )
    return (
        f"{lab.name(QUEUE)} → {function} in batches of up to {mapping['BatchSize']}, "
        "failures reported message by message"
    )


# ---- exercise 4 --------------------------------------------------------------------------------
def _is_image(data: bytes) -> bool:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
    except Exception:
        return False
    return True


def _announced(body: str) -> list[dict[str, Any]]:
    """The S3 records an SQS message announces (an SNS Notification around an S3 event, or the
    S3 event itself with raw message delivery)."""
    try:
        message = json.loads(body)
        if message.get("Type") == "Notification":
            message = json.loads(message["Message"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return []
    return [r for r in message.get("Records", []) if isinstance(r, dict) and "s3" in r]


def _waiting(attributes: dict[str, str]) -> int:
    return int(attributes.get("ApproximateNumberOfMessages", 0)) + int(
        attributes.get("ApproximateNumberOfMessagesNotVisible", 0)
    )


def _dead_letters(lab: Any, url: str, expected: int) -> list[dict[str, Any]]:
    """The messages in the dead-letter queue, left there (received with visibility timeout 0)."""
    sqs = lab.client("sqs")
    seen: dict[str, dict[str, Any]] = {}
    for _ in range(max(3, expected)):
        resp = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=1
        )
        fresh = {m["MessageId"]: m for m in resp.get("Messages", []) if m["MessageId"] not in seen}
        seen.update(fresh)
        if len(seen) >= expected and not fresh:
            break
    return list(seen.values())


@check(LAB, "photos have thumbnails, the corrupt file is in the dead-letter queue")
def thumbnails_made(lab: Any) -> str:
    """Each uploaded photo has a JPEG thumbnail within the function's size; each corrupt `.jpg`
    has its message in the DLQ, its original unchanged."""
    s3 = lab.client("s3")
    uploads, thumbnails = lab.name(UPLOADS), lab.name(THUMBNAILS)
    listed = s3.list_objects_v2(Bucket=uploads, Prefix=UPLOAD_PREFIX).get("Contents", [])
    keys = sorted(o["Key"] for o in listed if o["Key"].endswith(SUFFIX))
    expect(
        keys,
        f"there are no `{SUFFIX}` uploads under `{UPLOAD_PREFIX}` in {uploads}: upload the photos "
        "and the corrupt file with s3.put_object(Bucket=uploads_bucket, "
        f'Key=f"{UPLOAD_PREFIX}{{name}}", Body=data)',
    )
    good, bad = [], []
    for key in keys:
        data = s3.get_object(Bucket=uploads, Key=key)["Body"].read()
        (good if _is_image(data) else bad).append(key)
    expect(good, "none of the uploads is a photo: upload the sample photos too")
    expect(
        bad,
        "every upload is a good photo: upload the corrupt `.jpg` too, to see a failure end in "
        "the dead-letter queue",
    )
    function = _function(lab)
    size = int(function.get("Environment", {}).get("Variables", {}).get("THUMBNAIL_SIZE", 0))
    size = size or DEFAULT_SIZE
    queue = _queue_attributes(lab, QUEUE)
    expect(queue, f"there is no queue {lab.name(QUEUE)}: do exercise 2 first")
    in_flight = _waiting(queue[1])

    from PIL import Image

    for key in good:
        target = THUMBNAIL_PREFIX + key[len(UPLOAD_PREFIX) :]
        try:
            obj = s3.get_object(Bucket=thumbnails, Key=target)
        except ClientError as error:
            if error.response["Error"]["Code"] not in ("NoSuchKey", "404"):
                raise
            expect(
                not in_flight,
                f"no thumbnail yet for {key}: {in_flight} message(s) are still in the queue; wait "
                "for them with lab.settle(until=...)",
            )
            raise Mistake(
                f"no thumbnail for {key} (expected {thumbnails}/{target}) and nothing waits in "
                "the queue: do checks 1-3 pass? The function's log group "
                f"/aws/lambda/{function['FunctionName']} says what it did"
            ) from None
        with Image.open(io.BytesIO(obj["Body"].read())) as thumb:
            fmt, (width, height) = thumb.format, thumb.size
        expect(fmt == "JPEG", f"the thumbnail of {key} is {fmt}, not JPEG")
        expect(
            max(width, height) <= size,
            f"the thumbnail of {key} is {width} × {height}, larger than the {size} px the "
            "function promises",
        )

    dlq = _queue_attributes(lab, DLQ)
    expect(dlq, f"there is no dead-letter queue {lab.name(DLQ)}: do exercise 2 first")
    url, attributes = dlq
    waiting = int(attributes.get("ApproximateNumberOfMessages", 0))
    expect(
        waiting or not in_flight,
        f"the dead-letter queue is still empty and {in_flight} message(s) are being retried: "
        "wait with lab.settle(until=...) until the dead-letter queue has a message (after "
        "maxReceiveCount receives, each a visibility timeout apart)",
    )
    expect(
        waiting,
        "the dead-letter queue is empty: the corrupt file's message never got there; is "
        "ReportBatchItemFailures set on the mapping (check 3)?",
    )
    records = {}
    for message in _dead_letters(lab, url, waiting):
        for record in _announced(message["Body"]):
            records[unquote_plus(record["s3"]["object"]["key"])] = record["s3"]["object"]
    for key in bad:
        thumbnail = THUMBNAIL_PREFIX + key[len(UPLOAD_PREFIX) :]
        made = s3.list_objects_v2(Bucket=thumbnails, Prefix=thumbnail).get("KeyCount", 0)
        expect(not made, f"{key} is not a photo, yet {thumbnails}/{thumbnail} exists")
        expect(
            key in records,
            f"the dead-letter queue has no message for {key}: "
            f"{', '.join(sorted(records)) or 'its messages announce no upload'}",
        )
        head = s3.head_object(Bucket=uploads, Key=key)
        announced = records[key]
        expect(
            head["ETag"].strip('"') == str(announced.get("eTag", "")).strip('"')
            and head["ContentLength"] == announced.get("size"),
            f"{key} is not the object its event announced: the original must stay as uploaded",
        )
    return (
        f"{len(good)} photos have JPEG thumbnails of at most {size} px; {len(bad)} corrupt "
        f"upload(s) in {lab.name(DLQ)}, the original(s) untouched"
    )
