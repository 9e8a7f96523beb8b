"""AWS IoT Core topic rules that really run offline: SQL, topic filters, actions, errorAction.

Contract (AWS IoT developer guide): the SQL reference (iot-sql-reference, iot-sql-select,
iot-sql-where, iot-sql-data-types: "Undefined ... when serialized to JSON, the results are
Undefined" — left out; iot-sql-operators; iot-sql-functions: topic(n) 1-based, timestamp() in
milliseconds, clientid() "n/a" when not sent over MQTT, round() halves away from zero,
parse_time()'s example "1970.01.01 AD at 21:46:40 CST"), MQTT topic filters (`+` one level, `#`
any number of trailing levels), the rule actions (kinesis-rule-action: partitionKey with
substitution templates; lambda-rule-action: invoked asynchronously, needs a resource policy
for iot.amazonaws.com; sqs-rule-action; s3-rule-action), iot-substitution-templates (evaluated on
the original message), rule-error-handling (one error message per rule and message, its fields),
and CreateTopicRule's SqlParseException
(https://docs.aws.amazon.com/iot/latest/apireference/API_CreateTopicRule.html).
"""

from __future__ import annotations

import base64
import json
import time

import pytest
from botocore.exceptions import ClientError

from helpers.emulator.iot import rule_stats

BACKENDS = ("moto", "moto-server")

IOT_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "iot.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
RULE_PERMISSIONS = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "kinesis:PutRecord",
                    "sqs:SendMessage",
                    "s3:PutObject",
                    "dynamodb:PutItem",
                    "firehose:PutRecord*",
                ],
                "Resource": "*",
            }
        ],
    }
)


@pytest.fixture(scope="module")
def iot(lab):
    return lab.client("iot")


@pytest.fixture(scope="module")
def iot_data(lab):
    return lab.client("iot-data")


@pytest.fixture(scope="module")
def kinesis(lab):
    return lab.client("kinesis")


@pytest.fixture(scope="module")
def sqs(lab):
    return lab.client("sqs")


@pytest.fixture(scope="module")
def iot_role(lab) -> str:
    """A role AWS IoT can assume, allowed to write to Kinesis, SQS, S3, DynamoDB and Firehose."""
    iam = lab.client("iam")
    name = lab.name("iot-rules")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=IOT_TRUST)["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName="rules", PolicyDocument=RULE_PERMISSIONS)
    return arn


def rule_name(lab, base: str) -> str:
    return lab.name(base).replace("-", "_")  # rule names allow only letters, digits and _


def create_rule(iot, name: str, sql: str, actions: list, **payload) -> None:
    iot.create_topic_rule(
        ruleName=name,
        topicRulePayload={"sql": sql, "awsIotSqlVersion": "2016-03-23", "actions": actions}
        | payload,
    )


def publish(iot_data, topic: str, payload) -> None:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    iot_data.publish(topic=topic, qos=1, payload=body)


def new_stream(lab, kinesis, base: str) -> str:
    name = lab.name(base)
    kinesis.create_stream(StreamName=name, ShardCount=1)
    return name


def stream_records(kinesis, stream: str) -> list[dict]:
    shard = kinesis.describe_stream(StreamName=stream)["StreamDescription"]["Shards"][0]
    iterator = kinesis.get_shard_iterator(
        StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    return kinesis.get_records(ShardIterator=iterator)["Records"]


def new_queue(lab, sqs, base: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=lab.name(base))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


def drain(sqs, url: str) -> list[str]:
    bodies = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return bodies
        for message in got:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


# ---- SQL, topic filters and the Kinesis action ------------------------------------------------
def test_a_rule_selects_fields_filters_with_where_and_keys_kinesis_records_by_topic_segment(
    lab, iot, iot_data, kinesis, iot_role
):
    """GIVEN SELECT fields + aliases FROM 'sensors/+/telemetry' WHERE temperature > 20, a
    Kinesis action with partitionKey ${topic(2)}; WHEN devices publish; THEN only matching,
    accepted messages land in the stream, keyed by the device segment."""
    stream = new_stream(lab, kinesis, "telemetry")
    name = rule_name(lab, "telemetry")
    create_rule(
        iot,
        name,
        "SELECT temperature, humidity AS rh, topic(2) AS device, location.site AS site "
        "FROM 'sensors/+/telemetry' WHERE temperature > 20",
        [{"kinesis": {"streamName": stream, "partitionKey": "${topic(2)}", "roleArn": iot_role}}],
    )

    publish(iot_data, "sensors/dev-7/telemetry", {"temperature": 25.5, "humidity": 40, "x": 1})
    publish(
        iot_data,
        "sensors/dev-9/telemetry",
        {"temperature": 31, "humidity": 35, "location": {"site": "lyon"}},
    )
    publish(iot_data, "sensors/dev-8/telemetry", {"temperature": 12, "humidity": 50})  # WHERE
    publish(iot_data, "sensors/dev-7/status", {"temperature": 99})  # other topic
    publish(iot_data, "sensors/a/b/telemetry", {"temperature": 99})  # '+' is one level only

    records = stream_records(kinesis, stream)
    assert [json.loads(r["Data"]) for r in records] == [
        {"temperature": 25.5, "rh": 40, "device": "dev-7"},  # no location: site left out
        {"temperature": 31, "rh": 35, "device": "dev-9", "site": "lyon"},
    ]
    assert [r["PartitionKey"] for r in records] == ["dev-7", "dev-9"]
    stats = rule_stats(lab.emulator, name)
    assert (stats["matched"], stats["delivered"], stats["dropped"], stats["failed"]) == (3, 2, 1, 0)


def test_hash_matches_the_parent_and_every_level_below_and_sqs_gets_the_output(
    lab, iot, iot_data, sqs, iot_role
):
    url, _ = new_queue(lab, sqs, "fleet")
    prefix = lab.name("fleet")
    create_rule(
        iot,
        rule_name(lab, "fleet"),
        f"SELECT topic() AS t, clientid() AS client FROM '{prefix}/#'",
        [{"sqs": {"queueUrl": url, "roleArn": iot_role}}],
    )

    for topic in (prefix, f"{prefix}/a", f"{prefix}/a/b", f"{prefix}x/a", "elsewhere/a"):
        publish(iot_data, topic, {})

    bodies = sorted(drain(sqs, url))
    # clientid() is "n/a" for a message that did not come over MQTT (an HTTP/SDK publish)
    assert [json.loads(b) for b in bodies] == [
        {"t": t, "client": "n/a"} for t in sorted([prefix, f"{prefix}/a", f"{prefix}/a/b"])
    ]


def test_sqs_use_base64_encodes_the_message(lab, iot, iot_data, sqs, iot_role):
    url, _ = new_queue(lab, sqs, "b64")
    topic = f"{lab.name('b64')}/in"
    create_rule(
        iot,
        rule_name(lab, "b64"),
        f"SELECT * FROM '{topic}'",
        [{"sqs": {"queueUrl": url, "useBase64": True, "roleArn": iot_role}}],
    )

    publish(iot_data, topic, {"v": 1})

    assert [json.loads(base64.b64decode(b)) for b in drain(sqs, url)] == [{"v": 1}]


def test_timestamp_is_the_lab_clock_in_milliseconds(lab, iot, iot_data, kinesis, iot_role):
    stream = new_stream(lab, kinesis, "clock")
    topic = f"{lab.name('clock')}/t"
    create_rule(
        iot,
        rule_name(lab, "clock"),
        f"SELECT timestamp() AS ts, parse_time('yyyy-MM-dd', timestamp()) AS day FROM '{topic}'",
        [
            {
                "kinesis": {
                    "streamName": stream,
                    "partitionKey": "${timestamp()}",
                    "roleArn": iot_role,
                }
            }
        ],
    )
    lab.clock.advance(3 * 86400)  # three days later, instantly offline

    before = int(lab.clock.now() * 1000)
    publish(iot_data, topic, {})
    after = int(lab.clock.now() * 1000)

    [record] = stream_records(kinesis, stream)
    data = json.loads(record["Data"])
    assert before <= data["ts"] <= after
    assert data["ts"] > (time.time() + 2 * 86400) * 1000  # lab time, not the machine's
    assert record["PartitionKey"] == str(data["ts"])  # one timestamp per message
    assert data["day"] == lab.clock.datetime().strftime("%Y-%m-%d")


def test_undefined_attributes_are_left_out_and_a_where_on_them_is_false(
    lab, iot, iot_data, sqs, iot_role
):
    """Undefined is left out of the output; Null is kept; a WHERE that is Undefined (an
    operator on a missing attribute, or AND/OR with an Undefined operand, per AWS's operator
    tables) drops the message."""
    url, _ = new_queue(lab, sqs, "undef")
    topic = f"{lab.name('undef')}/t"
    selecting, on_missing, either = (
        rule_name(lab, "undef"),
        rule_name(lab, "undef_where"),
        rule_name(lab, "undef_or"),
    )
    action = [{"sqs": {"queueUrl": url, "roleArn": iot_role}}]
    create_rule(
        iot,
        selecting,
        "SELECT a, missing, nested.nope AS n, items[5] AS i, null AS explicit, "
        "isUndefined(missing) AS gone, round(-1.5) AS r, cast('12.7' AS Int) AS c, "
        f"concat(a, '-', b) AS joined FROM '{topic}' WHERE a = 'x'",
        action,
    )
    create_rule(iot, on_missing, f"SELECT a FROM '{topic}' WHERE missing > 1", action)
    create_rule(iot, either, f"SELECT a FROM '{topic}' WHERE missing > 1 OR a = 'x'", action)

    publish(iot_data, topic, {"a": "x", "b": 2, "items": [1]})

    [body] = drain(sqs, url)
    assert json.loads(body) == {
        "a": "x",
        "explicit": None,  # Null is a value; Undefined is left out
        "gone": True,
        "r": -2,  # round() halves away from zero
        "c": 12,  # cast to Int rounds down
        "joined": "x-2",
    }
    assert rule_stats(lab.emulator, selecting)["delivered"] == 1
    for name in (on_missing, either):
        stats = rule_stats(lab.emulator, name)
        assert (stats["matched"], stats["dropped"], stats["delivered"]) == (1, 1, 0)


def test_select_star_passes_a_binary_payload_but_a_json_attribute_fails_the_message(
    lab, iot, iot_data, kinesis, iot_role
):
    stream = new_stream(lab, kinesis, "binary")
    topic = f"{lab.name('binary')}/raw"
    star, field = rule_name(lab, "binary_star"), rule_name(lab, "binary_field")
    action = [{"kinesis": {"streamName": stream, "partitionKey": "k", "roleArn": iot_role}}]
    create_rule(iot, star, f"SELECT * FROM '{topic}'", action)
    create_rule(iot, field, f"SELECT temperature FROM '{topic}'", action)

    publish(iot_data, topic, b"\x00\x01not json")

    assert [r["Data"] for r in stream_records(kinesis, stream)] == [b"\x00\x01not json"]
    assert rule_stats(lab.emulator, star)["delivered"] == 1
    failed = rule_stats(lab.emulator, field)
    assert (failed["matched"], failed["failed"], failed["delivered"]) == (1, 1, 0)
    assert "not JSON" in failed["errors"][0]


# ---- Lambda ---------------------------------------------------------------------------------
def test_a_lambda_action_invokes_the_function_asynchronously_with_the_select_output(
    lab, iot, iot_data, deploy, events_of
):
    fn = deploy("iot-recorder", "recorder.py", handler="recorder.handler")
    lambda_ = lab.client("lambda")
    fn_arn = lambda_.get_function(FunctionName=fn)["Configuration"]["FunctionArn"]
    name = rule_name(lab, "to_lambda")
    rule_arn = f"arn:aws:iot:{lab.region}:{lab.emulator.account_id}:rule/{name}"
    lambda_.add_permission(
        FunctionName=fn,
        StatementId="iot",
        Action="lambda:InvokeFunction",
        Principal="iot.amazonaws.com",
        SourceArn=rule_arn,
        SourceAccount=lab.emulator.account_id,
    )
    topic = f"{lab.name('lambda')}/dev-3/alerts"
    create_rule(
        iot,
        name,
        f"SELECT level, topic(2) AS device FROM '{lab.name('lambda')}/+/alerts'",
        [{"lambda": {"functionArn": fn_arn}}],
    )

    publish(iot_data, topic, {"level": "high", "noise": True})
    lab.settle()

    assert events_of(fn) == [{"level": "high", "device": "dev-3"}]
    assert rule_stats(lab.emulator, name)["delivered"] == 1


def test_a_lambda_action_without_a_resource_policy_for_iot_fails(lab, iot, iot_data, deploy):
    fn = deploy("iot-denied", "recorder.py", handler="recorder.handler")
    fn_arn = lab.client("lambda").get_function(FunctionName=fn)["Configuration"]["FunctionArn"]
    name = rule_name(lab, "denied")
    topic = f"{lab.name('denied')}/t"
    create_rule(iot, name, f"SELECT * FROM '{topic}'", [{"lambda": {"functionArn": fn_arn}}])

    publish(iot_data, topic, {"x": 1})

    stats = rule_stats(lab.emulator, name)
    assert (stats["failed"], stats["delivered"]) == (1, 0)
    assert "iot.amazonaws.com" in stats["errors"][0]


# ---- errorAction ----------------------------------------------------------------------------
def test_a_failing_action_sends_one_error_message_to_the_error_action(
    lab, iot, iot_data, kinesis, sqs, iot_role
):
    """GIVEN a rule whose Kinesis action names a stream that does not exist and whose second
    action works; WHEN a message arrives; THEN the working action still runs and the errorAction
    receives AWS's error message for that rule and message."""
    errors_url, _ = new_queue(lab, sqs, "rule-errors")
    ok_url, _ = new_queue(lab, sqs, "rule-ok")
    name = rule_name(lab, "failing")
    topic = f"{lab.name('failing')}/t"
    create_rule(
        iot,
        name,
        f"SELECT * FROM '{topic}'",
        [
            {"kinesis": {"streamName": "no-such-stream", "partitionKey": "k", "roleArn": iot_role}},
            {"sqs": {"queueUrl": ok_url, "roleArn": iot_role}},
        ],
        errorAction={"sqs": {"queueUrl": errors_url, "roleArn": iot_role}},
    )

    publish(iot_data, topic, {"reading": 7})

    assert [json.loads(b) for b in drain(sqs, ok_url)] == [{"reading": 7}]
    [body] = drain(sqs, errors_url)
    error = json.loads(body)
    assert set(error) == {
        "ruleName",
        "topic",
        "cloudwatchTraceId",
        "clientId",
        "base64OriginalPayload",
        "failures",
    }
    assert (error["ruleName"], error["topic"], error["clientId"]) == (name, topic, "n/a")
    assert json.loads(base64.b64decode(error["base64OriginalPayload"])) == {"reading": 7}
    [failure] = error["failures"]
    assert failure["failedAction"] == "KinesisAction"
    assert failure["failedResource"] == "no-such-stream"
    assert failure["errorMessage"]
    stats = rule_stats(lab.emulator, name)
    assert (stats["matched"], stats["failed"], stats["delivered"]) == (1, 1, 0)


def test_a_role_without_permission_fails_the_action(lab, iot, iot_data, kinesis, sqs):
    iam = lab.client("iam")
    role = lab.name("iot-no-kinesis")
    role_arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=IOT_TRUST)["Role"]["Arn"]
    iam.put_role_policy(
        RoleName=role,
        PolicyName="sqs-only",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}],
            }
        ),
    )
    stream = new_stream(lab, kinesis, "no-perm")
    errors_url, _ = new_queue(lab, sqs, "no-perm-errors")
    topic = f"{lab.name('no-perm')}/t"
    create_rule(
        iot,
        rule_name(lab, "no_perm"),
        f"SELECT * FROM '{topic}'",
        [{"kinesis": {"streamName": stream, "partitionKey": "k", "roleArn": role_arn}}],
        errorAction={"sqs": {"queueUrl": errors_url, "roleArn": role_arn}},
    )

    publish(iot_data, topic, {"x": 1})

    assert stream_records(kinesis, stream) == []
    [failure] = json.loads(drain(sqs, errors_url)[0])["failures"]
    assert "kinesis:PutRecord" in failure["errorMessage"]


def test_a_change_to_the_roles_policies_applies_from_the_next_message(lab, iot, iot_data, kinesis):
    iam = lab.client("iam")
    role = lab.name("iot-changing")
    role_arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=IOT_TRUST)["Role"]["Arn"]
    stream = new_stream(lab, kinesis, "changing")
    topic = f"{lab.name('changing')}/t"
    name = rule_name(lab, "changing")
    create_rule(
        iot,
        name,
        f"SELECT * FROM '{topic}'",
        [{"kinesis": {"streamName": stream, "partitionKey": "k", "roleArn": role_arn}}],
    )

    def delivered_after_publishing() -> int:
        before = rule_stats(lab.emulator, name)["delivered"]
        publish(iot_data, topic, {"x": 1})
        return rule_stats(lab.emulator, name)["delivered"] - before

    assert delivered_after_publishing() == 0  # no policy yet
    allow = iam.create_policy(
        PolicyName=lab.name("iot-kinesis"),
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "kinesis:Put*", "Resource": "*"}],
            }
        ),
    )["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=role, PolicyArn=allow)
    assert delivered_after_publishing() == 1
    deny = {"Effect": "Deny", "Action": "kinesis:PutRecord", "Resource": "*"}
    iam.put_role_policy(
        RoleName=role,
        PolicyName="deny",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [deny]}),
    )
    assert delivered_after_publishing() == 0
    assert "explicitly denied" in rule_stats(lab.emulator, name)["errors"][-1]
    iam.delete_role_policy(RoleName=role, PolicyName="deny")
    assert delivered_after_publishing() == 1
    iam.detach_role_policy(RoleName=role, PolicyArn=allow)
    assert delivered_after_publishing() == 0
    assert len(stream_records(kinesis, stream)) == 2


# ---- the control plane ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "sql",
    [
        "SELECT FROM 'a/b'",
        "SELECT temperature FROM a/b",
        "SELECT temperature FROM 'a/#/b'",
        "SELECT temperature, FROM 'a/b'",
        "SELECT temperature FROM 'a/b' WHERE",
        "SELECT temperature FROM 'a/b' WHERE temperature > ",
        "SELECT nosuchfunction(temperature) FROM 'a/b'",
    ],
)
def test_invalid_sql_is_refused_at_creation_with_sql_parse_exception(lab, iot, sql):
    name = rule_name(lab, "invalid")
    with pytest.raises(ClientError) as exc:
        create_rule(iot, name, sql, [])

    response = exc.value.response
    assert response["Error"]["Code"] == "SqlParseException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["Error"]["Message"]
    with pytest.raises(ClientError) as missing:
        iot.get_topic_rule(ruleName=name)
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_disabled_rule_is_ignored_until_enabled(lab, iot, iot_data, sqs, iot_role):
    url, _ = new_queue(lab, sqs, "disabled")
    name = rule_name(lab, "disabled")
    topic = f"{lab.name('disabled')}/t"
    create_rule(
        iot,
        name,
        f"SELECT n FROM '{topic}'",
        [{"sqs": {"queueUrl": url, "roleArn": iot_role}}],
        ruleDisabled=True,
    )

    publish(iot_data, topic, {"n": 1})
    iot.enable_topic_rule(ruleName=name)
    publish(iot_data, topic, {"n": 2})
    iot.disable_topic_rule(ruleName=name)
    publish(iot_data, topic, {"n": 3})

    assert [json.loads(b) for b in drain(sqs, url)] == [{"n": 2}]
    assert rule_stats(lab.emulator, name)["matched"] == 1


def test_s3_key_templates_read_the_original_message(lab, iot, iot_data, s3, iot_role):
    bucket = lab.name("iot-archive")
    s3.create_bucket(Bucket=bucket)
    topic = f"{lab.name('archive')}/dev-1/data"
    create_rule(
        iot,
        rule_name(lab, "archive"),
        f"SELECT reading AS r FROM '{lab.name('archive')}/+/data'",
        [
            {
                "s3": {
                    "bucketName": bucket,
                    # `${reading}` is the payload's field: a SELECT alias is not visible here
                    "key": "${topic(2)}/${reading}-${r}.json",
                    "roleArn": iot_role,
                }
            }
        ],
    )

    publish(iot_data, topic, {"reading": 42})

    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == ["dev-1/42-.json"]
    body = s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read()
    assert json.loads(body) == {"r": 42}


def test_the_https_data_endpoint_publishes_signed_requests_and_refuses_unsigned_ones(
    lab, iot, sqs, iot_role
):
    """POST https://<describe_endpoint host>/topics/<topic>?qos=1, signed with SigV4 for the
    service 'iotdevicegateway' (AWS IoT's HTTPS publish), runs the rules like an SDK publish."""
    import requests
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    url_queue, _ = new_queue(lab, sqs, "https")
    topic = f"{lab.name('https')}/dev-1"
    create_rule(
        iot,
        rule_name(lab, "https"),
        f"SELECT n, clientid() AS client FROM '{topic}'",
        [{"sqs": {"queueUrl": url_queue, "roleArn": iot_role}}],
    )
    endpoint = iot.describe_endpoint(endpointType="iot:Data-ATS")["endpointAddress"]
    url = f"https://{endpoint}/topics/{topic}?qos=1"

    unsigned = requests.post(url, data=b'{"n": 0}', timeout=10)
    signed = AWSRequest(method="POST", url=url, data=b'{"n": 1}')
    SigV4Auth(Credentials("testing", "testing"), "iotdevicegateway", lab.region).add_auth(signed)
    accepted = requests.post(url, data=b'{"n": 1}', headers=dict(signed.headers), timeout=10)

    assert unsigned.status_code == 403
    assert accepted.status_code == 200 and accepted.json()["message"] == "OK"
    assert [json.loads(b) for b in drain(sqs, url_queue)] == [{"n": 1, "client": "n/a"}]


def test_basic_ingest_reaches_one_rule_and_topic_omits_the_prefix(
    lab, iot, iot_data, sqs, iot_role
):
    url, _ = new_queue(lab, sqs, "ingest")
    name = rule_name(lab, "ingest")
    create_rule(
        iot,
        name,
        "SELECT topic() AS t, topic(1) AS first FROM 'unused/by/basic/ingest'",
        [{"sqs": {"queueUrl": url, "roleArn": iot_role}}],
    )

    publish(iot_data, f"$aws/rules/{name}/plant-4/line-2", {"x": 1})

    assert [json.loads(b) for b in drain(sqs, url)] == [{"t": "plant-4/line-2", "first": "plant-4"}]


def test_republish_feeds_rules_on_the_new_topic_and_dynamodbv2_writes_the_output(
    lab, iot, iot_data, iot_role
):
    iam = lab.client("iam")
    iam.put_role_policy(
        RoleName=iot_role.split("/")[-1],
        PolicyName="republish",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "iot:Publish", "Resource": "*"}],
            }
        ),
    )
    ddb = lab.client("dynamodb")
    table = lab.name("readings")
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "device", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "device", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    base = lab.name("republish")
    create_rule(
        iot,
        rule_name(lab, "republish_in"),
        f"SELECT topic(2) AS device, value * 10 AS scaled FROM '{base}/+/raw'",
        [{"republish": {"topic": "${topic()}/scaled", "roleArn": iot_role}}],
    )
    create_rule(
        iot,
        rule_name(lab, "republish_out"),
        f"SELECT device, scaled, {{'ok': true, 'tags': ['a']}} AS meta FROM '{base}/+/raw/scaled'",
        [{"dynamoDBv2": {"putItem": {"tableName": table}, "roleArn": iot_role}}],
    )

    publish(iot_data, f"{base}/dev-5/raw", {"value": 4})

    item = ddb.get_item(TableName=table, Key={"device": {"S": "dev-5"}})["Item"]
    assert item == {
        "device": {"S": "dev-5"},
        "scaled": {"N": "40"},
        "meta": {"M": {"ok": {"BOOL": True}, "tags": {"L": [{"S": "a"}]}}},
    }


def test_rule_stats_names_a_missing_rule(lab):
    with pytest.raises(KeyError, match="no topic rule named"):
        rule_stats(lab.emulator, "never_created")


# ---- the SQL on its own (no lab): AWS's documented examples ---------------------------------
@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # iot-sql-functions examples
        ("abs(-5)", 5),
        ("round(1.5)", 2),
        ("round(-1.1)", -1),
        ("ceil(-1.2)", -1),
        ("floor(-1.2)", -2),
        ("concat([1, 2, 3], 'hello', [4, 5, 6])", [1, 2, 3, "hello", 4, 5, 6]),
        ("concat(1, 'hello')", "1hello"),
        ("lower('HELLO')", "hello"),
        ("upper(['hello'])", '["HELLO"]'),
        ("cast(true AS Int)", 1),
        ("substring('012345', 1, 3)", "12"),
        ("substring('012345', -50, 50)", "012345"),
        ("isUndefined(floor([1, 2, 3]))", True),
        ("mod(8, 3)", 2),
        ("regexp_replace('abcd', 'b(.*)d', '$1')", "ac"),
        ("md5('hello')", "5d41402abc4b2a76b9719d911017c592"),
        ("get(['a', 'b', 'c'], 1)", "b"),
        (
            'parse_time("yyyy.MM.dd G \'at\' HH:mm:ss z", 100000000, "America/Belize")',
            "1970.01.01 AD at 21:46:40 CST",
        ),
        # iot-sql-operators tables
        ("'5' + 1", "51"),
        ("'5' - 1", 4.0),
        ("7 / 2", 3),
        ("'a' = 1", False),
        ("1 = 1.0", True),
        ("null <> null", False),
        ("true AND 'TRUE'", True),
        ("topic(2)", "dev-1"),
        ("topic(9)", "<undefined>"),
        ("nope = 1", "<undefined>"),
        ("CASE temperature WHEN 20 THEN 'cool' ELSE 'other' END", "cool"),
    ],
)
def test_sql_expressions_follow_the_documented_examples(expression, expected):
    from helpers.emulator.iot_sql import UNDEFINED, Message, parse_expression

    evaluate, _ = parse_expression(expression)
    message = Message(
        topic="sensors/dev-1/data",
        payload=b'{"temperature": 20}',
        timestamp_ms=0,
        account_id="123456789012",
    )
    value = evaluate(message)
    assert (value if value is not UNDEFINED else "<undefined>") == expected
