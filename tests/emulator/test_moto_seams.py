"""The private parts of moto the emulator patches or reads still exist, with compatible shapes.

moto is pinned to a tested minor (pyproject.toml). When an upgrade renames or reshapes one of
these, this file fails and names the seam, instead of the emulator failing somewhere deep in
a notebook. Each entry: (object, attribute, the leading parameter names the emulator relies on).
"""

from __future__ import annotations

import importlib
import inspect
import json

import boto3
import pytest
from moto import mock_aws

PATCHED = [
    # Lambda: every invoke, and CreateFunction / UpdateFunctionConfiguration checks
    (
        "moto.awslambda.models",
        "LambdaFunction.invoke",
        ["self", "body", "request_headers", "response_headers"],
    ),
    ("moto.awslambda.models", "LambdaFunction.__init__", ["self", "account_id", "spec", "region"]),
    ("moto.awslambda.models", "LambdaFunction.update_configuration", ["self", "config_updates"]),
    ("moto.awslambda.models", "LambdaFunction.get_configuration", ["self"]),
    ("moto.awslambda.models", "LambdaBackend.send_dynamodb_items", ["self"]),
    ("moto.awslambda.models", "LambdaBackend.send_kinesis_message", ["self"]),
    # event sources: SQS, DynamoDB Streams, Kinesis
    ("moto.sqs.models", "Queue.add_message", ["self", "message"]),
    ("moto.dynamodb.models.table", "StreamShard.add", ["self", "old", "new"]),
    ("moto.kinesis.models", "Stream.put_record", ["self"]),
    # S3 and SNS notifications
    (
        "moto.s3.notifications",
        "_invoke_awslambda",
        ["account_id", "event_body", "fn_arn", "region_name"],
    ),
    ("moto.s3.notifications", "_get_s3_event", ["event_name", "bucket", "key", "notification_id"]),
    (
        "moto.sns.models",
        "Subscription.publish",
        [
            "self",
            "message",
            "message_id",
            "subject",
            "message_attributes",
            "group_id",
            "deduplication_id",
            "message_structure",
        ],
    ),
    ("moto.sns.models", "Subscription._parse_message_structure", ["self", "message", "protocol"]),
    # SES
    ("moto.ses.responses", "EmailResponse.send_email", ["self"]),
    ("moto.ses.responses", "EmailResponse._get_param", ["self", "param_name"]),
    ("moto.sesv2.responses", "SESV2Response.send_email", ["self"]),
    # the lab clock
    ("moto.sqs.models", "unix_time", ["dt"]),
    ("moto.sqs.models", "unix_time_millis", ["dt"]),
]

CALLED = [
    (
        "moto.awslambda.models",
        "LambdaBackend.get_function",
        ["self", "function_name_or_arn", "qualifier"],
    ),
    (
        "moto.awslambda.models",
        "LambdaBackend.layers_versions_by_arn",
        ["self", "layer_version_arn"],
    ),
    ("moto.awslambda.utils", "get_backend", ["account_id", "region"]),
    (
        "moto.sqs.models",
        "SQSBackend.receive_message",
        [
            "self",
            "queue_name",
            "count",
            "wait_seconds_timeout",
            "visibility_timeout",
            "message_attribute_names",
        ],
    ),
    ("moto.sqs.models", "SQSBackend.delete_message", ["self", "queue_name", "receipt_handle"]),
    (
        "moto.sqs.models",
        "SQSBackend.send_message",
        ["self", "queue_name", "message_body", "message_attributes"],
    ),
    ("moto.sns.models", "SNSBackend.publish", ["self", "message", "arn"]),
    (
        "moto.ses.models",
        "SESBackend.send_email",
        ["self", "source", "subject", "body", "destinations"],
    ),
    (
        "moto.ses.models",
        "SESBackend.send_templated_email",
        ["self", "source", "template", "template_data", "destinations"],
    ),
    ("moto.logs.models", "LogsBackend.ensure_log_group", ["self", "log_group_name"]),
    (
        "moto.logs.models",
        "LogsBackend.create_log_stream",
        ["self", "log_group_name", "log_stream_name"],
    ),
    (
        "moto.logs.models",
        "LogsBackend.put_log_events",
        ["self", "log_group_name", "log_stream_name", "log_events"],
    ),
    ("moto.core.responses", "BaseResponse._get_param", ["self", "param_name"]),
]


def _resolve(module: str, dotted: str):
    obj = importlib.import_module(module)
    for part in dotted.split("."):
        assert hasattr(obj, part), f"moto seam gone: {module}.{dotted} (no {part!r})"
        obj = getattr(obj, part)
    return obj


@pytest.mark.parametrize(("module", "name", "params"), PATCHED + CALLED, ids=lambda v: str(v))
def test_seam_exists_with_a_compatible_signature(module, name, params):
    target = _resolve(module, name)
    assert callable(target), f"{module}.{name} is no longer callable"
    actual = list(inspect.signature(target).parameters)
    assert actual[: len(params)] == params, f"{module}.{name}{inspect.signature(target)}"


def test_moto_keeps_the_module_level_backends_the_emulator_reads():
    for module, name in [
        ("moto.awslambda.models", "lambda_backends"),
        ("moto.sqs.models", "sqs_backends"),
        ("moto.dynamodb.models", "dynamodb_backends"),
        ("moto.kinesis.models", "kinesis_backends"),
        ("moto.sns.models", "sns_backends"),
        ("moto.ses.models", "ses_backends"),
        ("moto.logs.models", "logs_backends"),
        ("moto.core.exceptions", "JsonRESTError"),
        ("moto.awslambda.exceptions", "UnknownFunctionException"),
    ]:
        _resolve(module, name)


def _attrs(obj, names):
    missing = [n for n in names if not hasattr(obj, n)]
    assert not missing, f"{type(obj).__module__}.{type(obj).__name__} lost {missing}"


@pytest.fixture
def aws():
    """Plain moto (no lab, no emulator): the objects as moto builds them."""
    with mock_aws():
        yield lambda service: boto3.client(
            service,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


def test_the_instance_attributes_the_emulator_reads(aws):
    """Build one of each object through the API, then check the attributes the emulator uses."""
    import io
    import zipfile

    from moto.awslambda.models import lambda_backends
    from moto.dynamodb.models import dynamodb_backends
    from moto.kinesis.models import kinesis_backends
    from moto.sns.models import sns_backends
    from moto.sqs.models import sqs_backends

    account, region = "123456789012", "us-east-1"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", "def handler(e, c): return e\n")
    code = buf.getvalue()
    role = aws("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lambda_ = aws("lambda")
    layer = lambda_.publish_layer_version(LayerName="lib", Content={"ZipFile": code})
    fn_arn = lambda_.create_function(
        FunctionName="f",
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": code},
        Layers=[layer["LayerVersionArn"]],
    )["FunctionArn"]
    lambda_.put_function_event_invoke_config(FunctionName="f", MaximumRetryAttempts=1)
    sqs = aws("sqs")
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    sqs.send_message(
        QueueUrl=url,
        MessageBody="b",
        MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}},
    )
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    lambda_.create_event_source_mapping(EventSourceArn=queue_arn, FunctionName="f", Enabled=False)
    ddb = aws("dynamodb")
    ddb.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    kinesis = aws("kinesis")
    kinesis.create_stream(StreamName="s", ShardCount=1)
    kinesis.put_record(StreamName="s", Data=b"d", PartitionKey="p")
    sns = aws("sns")
    topic = sns.create_topic(Name="t")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=fn_arn)

    backend = lambda_backends[account][region]
    fn = backend.get_function("f")
    _attrs(
        fn,
        [
            "function_name",
            "function_arn",
            "version",
            "handler",
            "run_time",
            "memory_size",
            "timeout",
            "environment_vars",
            "code_bytes",
            "region",
            "account_id",
            "layers",
            "event_invoke_config",
            "role",
        ],
    )
    assert fn.layers[0]["Arn"] == layer["LayerVersionArn"]
    assert backend.layers_versions_by_arn(layer["LayerVersionArn"]).code_bytes == code
    assert fn.event_invoke_config[-1].config["MaximumRetryAttempts"] == 1
    esm = next(iter(backend._event_source_mappings.values()))
    _attrs(
        esm,
        [
            "uuid",
            "enabled",
            "event_source_arn",
            "function_arn",
            "batch_size",
            "starting_position",
            "function_response_types",
            "max_retry_attempts",
            "destination_config",
        ],
    )

    queue = sqs_backends[account][region].queues["q"]
    _attrs(queue, ["_messages", "name", "visibility_timeout", "lambda_event_source_mappings"])
    message = queue._messages[0]
    _attrs(
        message,
        [
            "id",
            "body",
            "receipt_handle",
            "approximate_receive_count",
            "sent_timestamp",
            "sender_id",
            "approximate_first_receive_timestamp",
            "message_attributes",
            "group_id",
            "deduplication_id",
            "visible_at",
            "delayed_until",
        ],
    )
    assert message.message_attributes == {"k": {"DataType": "String", "StringValue": "v"}}

    table = dynamodb_backends[account][region].tables["t"]
    ddb.put_item(TableName="t", Item={"k": {"S": "x"}})
    _attrs(table.stream_shard, ["id", "items"])
    record = table.stream_shard.items[0].record
    assert {"eventName", "dynamodb"} <= set(record)
    assert "SequenceNumber" in record["dynamodb"]

    stream = kinesis_backends[account][region].streams["s"]
    shard = next(iter(stream.shards.values()))
    _attrs(shard, ["shard_id", "records"])
    _attrs(
        next(iter(shard.records.values())),
        ["partition_key", "sequence_number", "data", "created_at"],
    )

    subscription = next(iter(sns_backends[account][region].subscriptions.values()))
    _attrs(subscription, ["protocol", "endpoint", "arn", "topic", "_filter_policy_matcher"])
    json.dumps(fn.get_configuration(), default=str)  # still serialisable


def test_the_emulator_removes_every_patch_on_teardown():
    """A lab's teardown leaves moto exactly as it found it."""
    from moto.awslambda import models as lambda_models
    from moto.sqs import models as sqs_models

    import helpers

    before = (
        lambda_models.LambdaFunction.invoke,
        lambda_models.LambdaFunction.__init__,
        sqs_models.Queue.add_message,
        sqs_models.unix_time,
    )
    lab = helpers.start("seams")
    try:
        assert lambda_models.LambdaFunction.invoke is not before[0]
    finally:
        lab.teardown()

    after = (
        lambda_models.LambdaFunction.invoke,
        lambda_models.LambdaFunction.__init__,
        sqs_models.Queue.add_message,
        sqs_models.unix_time,
    )
    assert after == before


def test_teardown_forgets_the_mail_it_kept():
    """The outbox's copies of sent mail go with the lab, as moto's own sent mail does."""
    import helpers
    from helpers.emulator import mail

    lab = helpers.start("seams-mail")
    try:
        ses = lab.client("ses")
        ses.verify_email_identity(EmailAddress="news@example.com")
        ses.send_email(
            Source="news@example.com",
            Destination={"ToAddresses": ["ada@example.com"]},
            Message={
                "Subject": {"Data": "Both parts"},
                "Body": {"Text": {"Data": "plain"}, "Html": {"Data": "<p>rich</p>"}},
            },
        )
        assert mail._PARTS
    finally:
        lab.teardown()

    assert mail._PARTS == {}
