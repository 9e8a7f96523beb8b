"""Every trigger reaches the function, with the event shape AWS documents.

Contract: the sample events in the Lambda developer guide ("Using AWS Lambda with Amazon S3",
"... with Amazon SNS", "... with Amazon SQS", "... with DynamoDB", "... with Kinesis") and the
S3 event message structure (the object key is URL-encoded as in a form: a space becomes `+`).
https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
"""

from __future__ import annotations

import base64
import hashlib
import json
import re

import pytest

BACKENDS = ("moto", "moto-server")
ISO_MS = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


@pytest.fixture(scope="module")
def recorder(deploy):
    """deploy a recorder function (prints each event) and return (name, arn)."""

    def _recorder(base, **env):
        name = deploy(base, "recorder.py", handler="recorder.handler", env=env or None)
        return name

    return _recorder


def _arn(lab, name):
    return lab.client("lambda").get_function(FunctionName=name)["Configuration"]["FunctionArn"]


def test_s3_object_created_event(lab, recorder, events_of):
    """GIVEN a bucket notifying a function on ObjectCreated WHEN `photos/my cat.jpg` is put
    THEN the function gets one aws:s3 ObjectCreated:Put record with the key form-encoded."""
    name = recorder("s3-target")
    bucket = lab.name("uploads")
    s3 = lab.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": _arn(lab, name), "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )

    put = s3.put_object(Bucket=bucket, Key="photos/my cat.jpg", Body=b"meow" * 10)
    lab.settle()

    events = events_of(name)  # Lambda gets no s3:TestEvent (SQS and SNS destinations do)
    assert len(events) == 1 and len(events[0]["Records"]) == 1
    record = events[0]["Records"][0]
    assert record["eventSource"] == "aws:s3"
    assert record["eventVersion"] == "2.1"
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["awsRegion"] == lab.region
    assert re.fullmatch(ISO_MS, record["eventTime"])
    assert record["s3"]["bucket"]["name"] == bucket
    assert record["s3"]["bucket"]["arn"] == f"arn:aws:s3:::{bucket}"
    obj = record["s3"]["object"]
    assert obj["key"] == "photos/my+cat.jpg"
    assert obj["size"] == 40
    assert obj["eTag"] == put["ETag"].strip('"')
    assert "sequencer" in obj
    assert "principalId" in record["userIdentity"]
    assert "sourceIPAddress" in record["requestParameters"]


def test_sns_notification_event(lab, recorder, events_of):
    """GIVEN a function subscribed to a topic WHEN a message with attributes is published THEN
    one aws:sns record carries the topic ARN, message, subject and attributes."""
    name = recorder("sns-target")
    sns = lab.client("sns")
    topic = sns.create_topic(Name=lab.name("news"))["TopicArn"]
    sub = sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=_arn(lab, name))[
        "SubscriptionArn"
    ]

    published = sns.publish(
        TopicArn=topic,
        Message="hello subscribers",
        Subject="greeting",
        MessageAttributes={"colour": {"DataType": "String", "StringValue": "blue"}},
    )
    lab.settle()

    records = [r for e in events_of(name) for r in e["Records"]]
    assert len(records) == 1
    record = records[0]
    assert record["EventSource"] == "aws:sns"
    assert record["EventVersion"] == "1.0"
    assert record["EventSubscriptionArn"] == sub
    message = record["Sns"]
    assert message["Type"] == "Notification"
    assert message["TopicArn"] == topic
    assert message["MessageId"] == published["MessageId"]
    assert message["Message"] == "hello subscribers"
    assert message["Subject"] == "greeting"
    assert message["MessageAttributes"] == {"colour": {"Type": "String", "Value": "blue"}}
    assert re.fullmatch(ISO_MS, message["Timestamp"])


def test_sqs_event_source_mapping_event(lab, recorder, events_of):
    """GIVEN an SQS mapping WHEN a message is sent THEN one aws:sqs record with the body,
    message id, receipt handle, attributes and the queue ARN."""
    name = recorder("sqs-target")
    sqs = lab.client("sqs")
    url = sqs.create_queue(QueueName=lab.name("jobs"))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    lab.client("lambda").create_event_source_mapping(
        EventSourceArn=queue_arn, FunctionName=name, BatchSize=10
    )

    sent = sqs.send_message(
        QueueUrl=url,
        MessageBody='{"job": 1}',
        MessageAttributes={
            "kind": {"DataType": "String", "StringValue": "resize"},
            "raw": {"DataType": "Binary", "BinaryValue": b"\x00\xff"},
        },
    )
    lab.settle()

    records = [r for e in events_of(name) for r in e["Records"]]
    assert len(records) == 1
    record = records[0]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == queue_arn
    assert record["awsRegion"] == lab.region
    assert record["messageId"] == sent["MessageId"]
    assert record["body"] == '{"job": 1}'
    assert record["md5OfBody"] == hashlib.md5(b'{"job": 1}').hexdigest()
    assert record["receiptHandle"]
    attributes = record["attributes"]
    assert attributes["ApproximateReceiveCount"] == "1"
    assert attributes["SentTimestamp"].isdigit()
    assert attributes["ApproximateFirstReceiveTimestamp"].isdigit()
    assert "SenderId" in attributes
    assert record["messageAttributes"]["kind"] == {
        "stringValue": "resize",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    assert record["messageAttributes"]["raw"]["dataType"] == "Binary"
    assert base64.b64decode(record["messageAttributes"]["raw"]["binaryValue"]) == b"\x00\xff"
    # the function succeeded: the message was deleted
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages", []) == []


def test_dynamodb_stream_events(lab, recorder, events_of):
    """GIVEN a stream (NEW_AND_OLD_IMAGES) mapped to a function WHEN an item is put, updated
    and deleted THEN INSERT, MODIFY, REMOVE records with Keys, NewImage and OldImage."""
    name = recorder("ddb-target")
    ddb = lab.client("dynamodb")
    table = lab.name("subscribers")
    desc = ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "email", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "email", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]
    stream_arn = desc["LatestStreamArn"]
    lab.client("lambda").create_event_source_mapping(
        EventSourceArn=stream_arn, FunctionName=name, StartingPosition="TRIM_HORIZON"
    )
    key = {"email": {"S": "ada@example.com"}}

    ddb.put_item(TableName=table, Item={**key, "name": {"S": "Ada"}})
    ddb.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET #n = :n",
        ExpressionAttributeNames={"#n": "name"},
        ExpressionAttributeValues={":n": {"S": "Ada Lovelace"}},
    )
    ddb.delete_item(TableName=table, Key=key)
    lab.settle()

    records = [r for e in events_of(name) for r in e["Records"]]
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    insert, modify, remove = records
    for r in records:
        assert r["eventSource"] == "aws:dynamodb"
        assert r["eventVersion"] == "1.1"
        assert r["eventSourceARN"] == stream_arn
        assert r["awsRegion"] == lab.region
        assert r["dynamodb"]["Keys"] == key
        assert r["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        assert r["dynamodb"]["SequenceNumber"]
        assert isinstance(r["dynamodb"]["SizeBytes"], int)
    assert insert["dynamodb"]["NewImage"] == {**key, "name": {"S": "Ada"}}
    assert "OldImage" not in insert["dynamodb"]
    assert modify["dynamodb"]["OldImage"] == {**key, "name": {"S": "Ada"}}
    assert modify["dynamodb"]["NewImage"] == {**key, "name": {"S": "Ada Lovelace"}}
    assert remove["dynamodb"]["OldImage"] == {**key, "name": {"S": "Ada Lovelace"}}
    assert "NewImage" not in remove["dynamodb"]


def test_kinesis_events(lab, recorder, events_of):
    """GIVEN a Kinesis stream mapped to a function WHEN a record is put THEN an aws:kinesis
    record whose data is the base64 of what was put, with its partition key and sequence."""
    name = recorder("kinesis-target")
    kinesis = lab.client("kinesis")
    stream = lab.name("clicks")
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    stream_arn = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"][
        "StreamARN"
    ]
    lab.client("lambda").create_event_source_mapping(
        EventSourceArn=stream_arn, FunctionName=name, StartingPosition="TRIM_HORIZON"
    )

    put = kinesis.put_record(StreamName=stream, Data=b'{"click": 1}', PartitionKey="user-7")
    lab.settle()

    records = [r for e in events_of(name) for r in e["Records"]]
    assert len(records) == 1
    record = records[0]
    assert record["eventSource"] == "aws:kinesis"
    assert record["eventName"] == "aws:kinesis:record"
    assert record["eventVersion"] == "1.0"
    assert record["eventSourceARN"] == stream_arn
    assert record["awsRegion"] == lab.region
    assert record["eventID"] == f"{put['ShardId']}:{put['SequenceNumber']}"
    data = record["kinesis"]
    assert base64.b64decode(data["data"]) == b'{"click": 1}'
    assert data["partitionKey"] == "user-7"
    assert data["sequenceNumber"] == put["SequenceNumber"]
    assert data["kinesisSchemaVersion"] == "1.0"
    assert isinstance(data["approximateArrivalTimestamp"], (int, float))


def test_direct_invoke_passes_the_payload_unchanged(lab, recorder, events_of):
    name = recorder("direct-target")
    event = {"any": ["json", 1, None, True], "nested": {"k": "v"}}

    lab.client("lambda").invoke(FunctionName=name, Payload=json.dumps(event))

    assert events_of(name) == [event]
