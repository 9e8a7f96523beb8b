"""Asynchronous invocation: retries, destinations and the dead-letter queue.

Contract: Lambda developer guide, "Invoking a Lambda function asynchronously" and "Handling
errors in asynchronous invocations": a failing event is tried 3 times in all (two retries,
about 1 and 2 minutes apart; `MaximumRetryAttempts` 0-2), with the same request id; then the
invocation record goes to the OnFailure destination (`version`, `timestamp`,
`requestContext{requestId, functionArn, condition: RetriesExhausted, approximateInvokeCount}`,
`requestPayload`, `responseContext{statusCode, executedVersion, functionError}`,
`responsePayload`), and the event itself to the function's DeadLetterConfig queue with
message attributes RequestID, ErrorCode and ErrorMessage.
https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html
https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
"""

from __future__ import annotations

import json
import re

import pytest

BOTH = ("moto", "moto-server")
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@pytest.fixture
def queue(lab):
    sqs = lab.client("sqs")

    def _queue(base):
        url = sqs.create_queue(QueueName=lab.name(base))["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        return url, arn

    return _queue


def _receive(lab, url):
    return (
        lab.client("sqs")
        .receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
            WaitTimeSeconds=0,
        )
        .get("Messages", [])
    )


def _request_ids(starts):
    return [re.match(rf"START RequestId: ({UUID})", s).group(1) for s in starts]


@pytest.mark.backends(*BOTH)
def test_a_failing_event_is_tried_three_times_then_reaches_on_failure(
    lab, deploy, queue, starts_of
):
    """GIVEN an OnFailure SQS destination and a function that always raises WHEN invoked with
    InvocationType=Event and settled THEN 3 attempts with one request id, 1 then 2 minutes
    apart in lab time, and one invocation record in the queue."""
    name = deploy("async-fails", "recorder.py", handler="recorder.handler", env={"MODE": "raise"})
    url, arn = queue("async-on-failure")
    lambda_ = lab.client("lambda")
    lambda_.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnFailure": {"Destination": arn}}
    )
    event = {"order": 42}

    resp = lambda_.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps(event))
    report = lab.settle()

    assert resp["StatusCode"] == 202
    ids = _request_ids(starts_of(name))
    assert len(ids) == 3 and len(set(ids)) == 1
    assert report.advanced_s >= 60 + 120
    messages = _receive(lab, url)
    assert len(messages) == 1
    record = json.loads(messages[0]["Body"])
    function_arn = lambda_.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    assert record["version"] == "1.0"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record["timestamp"])
    assert record["requestContext"] == {
        "requestId": ids[0],
        "functionArn": f"{function_arn}:$LATEST",
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 3,
    }
    assert record["requestPayload"] == event
    assert record["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert record["responsePayload"]["errorType"] == "RuntimeError"
    assert record["responsePayload"]["errorMessage"] == "recorder was told to fail"


@pytest.mark.backends(*BOTH)
def test_a_failing_event_goes_to_the_dead_letter_queue(lab, deploy, queue, starts_of):
    """GIVEN DeadLetterConfig on the function WHEN an async event fails 3 times THEN the DLQ
    gets the original event as the body, with RequestID, ErrorCode and ErrorMessage."""
    url, arn = queue("async-dlq")
    name = deploy(
        "async-dlq-fn",
        "recorder.py",
        handler="recorder.handler",
        env={"MODE": "raise"},
        DeadLetterConfig={"TargetArn": arn},
    )
    lambda_ = lab.client("lambda")
    assert lambda_.get_function_configuration(FunctionName=name)["DeadLetterConfig"] == {
        "TargetArn": arn
    }
    event = {"photo": "cat.jpg"}

    lambda_.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps(event))
    lab.settle()

    ids = _request_ids(starts_of(name))
    assert len(ids) == 3
    messages = _receive(lab, url)
    assert len(messages) == 1
    assert json.loads(messages[0]["Body"]) == event
    attributes = messages[0]["MessageAttributes"]
    assert attributes["RequestID"] == {"StringValue": ids[0], "DataType": "String"}
    assert attributes["ErrorCode"]["DataType"] == "Number"
    assert attributes["ErrorCode"]["StringValue"] == "200"
    assert attributes["ErrorMessage"]["StringValue"] == "recorder was told to fail"


def test_maximum_retry_attempts_zero_means_one_attempt(lab, deploy, queue, starts_of):
    name = deploy(
        "async-no-retry", "recorder.py", handler="recorder.handler", env={"MODE": "raise"}
    )
    url, arn = queue("async-no-retry")
    lambda_ = lab.client("lambda")
    lambda_.put_function_event_invoke_config(
        FunctionName=name,
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": arn}},
    )

    lambda_.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"once": true}')
    lab.settle()

    assert len(starts_of(name)) == 1
    record = json.loads(_receive(lab, url)[0]["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 1


def test_maximum_retry_attempts_one_means_two_attempts(lab, deploy, starts_of):
    name = deploy(
        "async-one-retry", "recorder.py", handler="recorder.handler", env={"MODE": "raise"}
    )
    lambda_ = lab.client("lambda")
    lambda_.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1)

    lambda_.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")
    lab.settle()

    assert len(starts_of(name)) == 2


def test_a_successful_event_reaches_on_success_once(lab, deploy, queue, starts_of):
    """GIVEN an OnSuccess destination WHEN an async event succeeds THEN one attempt and a
    record with condition Success and the function's return value."""
    name = deploy("async-ok", "recorder.py", handler="recorder.handler")
    url, arn = queue("async-on-success")
    lambda_ = lab.client("lambda")
    lambda_.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": arn}}
    )

    lambda_.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"fine": 1}')
    lab.settle()

    assert len(starts_of(name)) == 1
    record = json.loads(_receive(lab, url)[0]["Body"])
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["requestPayload"] == {"fine": 1}
    assert record["responsePayload"] == {"records": 0}
    assert "functionError" not in record["responseContext"]


def test_an_s3_triggered_function_is_retried_as_an_async_invoke(lab, deploy, starts_of):
    """S3 invokes asynchronously: a failing function is tried 3 times for one upload."""
    name = deploy("s3-fails", "recorder.py", handler="recorder.handler", env={"MODE": "raise"})
    bucket = lab.name("s3-fails")
    s3 = lab.client("s3")
    s3.create_bucket(Bucket=bucket)
    arn = lab.client("lambda").get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )

    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"a")
    lab.settle()

    assert len(starts_of(name)) == 3


def test_dead_letter_config_can_be_set_by_update(lab, deploy, queue):
    name = deploy("async-dlq-update", "recorder.py", handler="recorder.handler")
    _, arn = queue("async-dlq-update")
    lambda_ = lab.client("lambda")

    lambda_.update_function_configuration(FunctionName=name, DeadLetterConfig={"TargetArn": arn})

    config = lambda_.get_function_configuration(FunctionName=name)
    assert config["DeadLetterConfig"] == {"TargetArn": arn}
