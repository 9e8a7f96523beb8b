"""MyBlog's welcome function: subscribers table → DynamoDB Stream → Lambda → SESv2 template.

Contract: stream records arrive at least once, in batches; an INSERT gets exactly one welcome
email (the function claims the subscriber with a conditional update first); an address SES
rejects (MessageRejected: in the sandbox, an unverified recipient) is recorded on the item and
not retried; any other failure is reported in `batchItemFailures` by the record's
SequenceNumber, so Lambda retries from that record while the others keep their email.
https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html
https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html
https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html
"""

from __future__ import annotations

import json

import pytest

from tests.myblog.support import FUNCTIONS, json_logs, sample_event

SENDER = "hello@myblog.example"
READERS = "readers.example"  # a verified domain: the sandbox lets mail reach its addresses
TEMPLATE = json.loads((FUNCTIONS / "welcome" / "template.json").read_text())


def _subscribers_table(lab, base):
    ddb = lab.client("dynamodb")
    name = lab.name(base)
    stream_arn = ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "email", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "email", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]["LatestStreamArn"]
    return name, stream_arn


@pytest.fixture(scope="module")
def ses(lab):
    ses = lab.client("ses")
    ses.verify_email_identity(EmailAddress=SENDER)
    ses.verify_domain_identity(Domain=READERS)
    return ses


@pytest.fixture(scope="module")
def welcome(lab, ses, deploy_app):
    """The welcome function on its own table and stream, with the template created, mapped
    with partial batch responses, two retries and an on-failure queue."""
    table, stream_arn = _subscribers_table(lab, "subscribers")
    template = lab.name("welcome")
    lab.client("sesv2").create_email_template(TemplateName=template, TemplateContent=TEMPLATE)
    name = deploy_app(
        "welcome", env={"SUBSCRIBERS_TABLE": table, "SENDER": SENDER, "TEMPLATE_NAME": template}
    )
    sqs = lab.client("sqs")
    failures = sqs.create_queue(QueueName=lab.name("welcome-failures"))["QueueUrl"]
    failures_arn = sqs.get_queue_attributes(QueueUrl=failures, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    lab.client("lambda").create_event_source_mapping(
        EventSourceArn=stream_arn,
        FunctionName=name,
        StartingPosition="TRIM_HORIZON",
        BatchSize=10,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        MaximumRetryAttempts=2,
        DestinationConfig={"OnFailure": {"Destination": failures_arn}},
    )
    return {"function": name, "table": table, "template": template, "failures": failures}


def _subscribe(lab, table, email, name=None):
    item = {"email": {"S": email}, "subscribed_at": {"S": "2026-11-02T09:14:08Z"}}
    if name:
        item["name"] = {"S": name}
    lab.client("dynamodb").put_item(TableName=table, Item=item)


def _item(lab, table, email):
    return lab.client("dynamodb").get_item(TableName=table, Key={"email": {"S": email}}).get("Item")


def _mails_to(lab, email):
    return [m for m in lab.outbox() if m["destinations"]["ToAddresses"] == [email]]


def _stream_records(lab, table):
    """Every record of the table's stream, as Lambda delivers them (with eventSourceARN)."""
    ddb, streams = lab.client("dynamodb"), lab.client("dynamodbstreams")
    arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    records = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records += streams.get_records(ShardIterator=iterator)["Records"]
    for record in records:
        record["eventSourceARN"] = arn
        created = record["dynamodb"].get("ApproximateCreationDateTime")
        if created is not None and not isinstance(created, (int, float)):
            record["dynamodb"]["ApproximateCreationDateTime"] = int(created.timestamp())
    return records


def _invoke(lab, function, records):
    resp = lab.client("lambda").invoke(
        FunctionName=function, Payload=json.dumps({"Records": records}, default=str)
    )
    body = json.loads(resp["Payload"].read())
    assert "FunctionError" not in resp, body
    return body


@pytest.mark.backends("moto", "moto-server")
def test_each_new_subscriber_gets_one_templated_welcome(lab, welcome):
    """GIVEN two new subscribers (one without a name) WHEN the stream is processed THEN each
    gets one welcome, rendered from the template, and the item records the message id."""
    _subscribe(lab, welcome["table"], f"ada@{READERS}", "Ada")
    _subscribe(lab, welcome["table"], "success@simulator.amazonses.com")

    lab.settle()

    [ada] = _mails_to(lab, f"ada@{READERS}")
    assert ada["source"] == SENDER
    assert ada["subject"] == "Welcome to MyBlog, Ada!"
    assert ada["text"].startswith("Hello Ada,\n\nThank you for subscribing to MyBlog.")
    assert f"You subscribed as ada@{READERS}." in ada["text"]
    assert '<h1 style="font-size:24px;margin:0 0 16px">Welcome, Ada!</h1>' in ada["html"]
    [anonymous] = _mails_to(lab, "success@simulator.amazonses.com")
    assert anonymous["subject"] == "Welcome to MyBlog, there!"
    item = _item(lab, welcome["table"], f"ada@{READERS}")
    assert item["welcome_status"] == {"S": "sent"}
    assert item["welcome_message_id"] == {"S": ada["id"]}
    assert "welcomed_at" in item


def test_a_record_delivered_twice_sends_one_email(lab, welcome):
    """GIVEN a subscriber already welcomed through the stream WHEN Lambda delivers the same
    INSERT record again, twice THEN no second email, and no failure reported."""
    email = f"twice@{READERS}"
    _subscribe(lab, welcome["table"], email, "Twice")
    lab.settle()
    assert len(_mails_to(lab, email)) == 1
    [insert] = [
        r
        for r in _stream_records(lab, welcome["table"])
        if r["eventName"] == "INSERT" and r["dynamodb"]["Keys"]["email"]["S"] == email
    ]

    first = _invoke(lab, welcome["function"], [insert])
    second = _invoke(lab, welcome["function"], [insert])

    assert first == second == {"batchItemFailures": []}
    assert len(_mails_to(lab, email)) == 1
    skipped = [r for r in json_logs(lab, welcome["function"]) if r.get("email") == email]
    assert [r["message"] for r in skipped].count("already welcomed (or unsubscribed): skipped") == 2


def test_a_rejected_address_is_recorded_and_not_retried(lab, welcome):
    """GIVEN the SES sandbox and a batch with an unverified address between two good ones
    WHEN processed THEN the unverified one is marked rejected with SES's reason, the others
    get their email, and nothing is retried or sent to the on-failure queue."""
    emails = [f"first@{READERS}", "stranger@elsewhere.example", f"last@{READERS}"]
    for email in emails:
        _subscribe(lab, welcome["table"], email)

    lab.settle()

    item = _item(lab, welcome["table"], "stranger@elsewhere.example")
    assert item["welcome_status"] == {"S": "rejected"}
    assert item["welcome_error"] == {
        "S": "Email address is not verified. The following identities failed the check in "
        "region US-EAST-1: stranger@elsewhere.example"
    }
    assert _mails_to(lab, "stranger@elsewhere.example") == []
    assert len(_mails_to(lab, f"first@{READERS}")) == len(_mails_to(lab, f"last@{READERS}")) == 1
    # handled once: no retry of the record, nothing for the on-failure destination
    logged = [r for r in json_logs(lab, welcome["function"]) if r.get("email") == emails[1]]
    assert [r["message"] for r in logged] == ["SES rejected the welcome email"]
    assert logged[0]["reason"] == item["welcome_error"]["S"]
    sqs = lab.client("sqs")
    assert "Messages" not in sqs.receive_message(QueueUrl=welcome["failures"])


def test_an_unsubscribed_address_is_not_recreated(lab, welcome):
    """GIVEN a subscriber deleted before the stream is processed WHEN the INSERT arrives THEN
    no email, and the item stays deleted."""
    email = f"gone@{READERS}"
    _subscribe(lab, welcome["table"], email)
    lab.client("dynamodb").delete_item(TableName=welcome["table"], Key={"email": {"S": email}})

    lab.settle()

    assert _mails_to(lab, email) == []
    assert _item(lab, welcome["table"], email) is None


def test_a_failing_send_is_retried_by_lambda_and_sends_once(lab, ses, deploy_app):
    """GIVEN a mapping with partial batch responses and a template not created yet WHEN the
    first attempt fails THEN the claim is released and the record is retried; once the
    template exists the retry sends exactly one email."""
    table, stream_arn = _subscribers_table(lab, "late-subscribers")
    template = lab.name("late-welcome")
    name = deploy_app(
        "welcome",
        base="late-welcome",
        env={"SUBSCRIBERS_TABLE": table, "SENDER": SENDER, "TEMPLATE_NAME": template},
    )
    lab.client("lambda").create_event_source_mapping(
        EventSourceArn=stream_arn,
        FunctionName=name,
        StartingPosition="TRIM_HORIZON",
        FunctionResponseTypes=["ReportBatchItemFailures"],
        MaximumRetryAttempts=5,
    )
    email = f"patient@{READERS}"
    _subscribe(lab, table, email, "Pat")

    lab.settle(max_wait=0)  # the first attempt only: no waiting for Lambda's retry

    assert _mails_to(lab, email) == []
    assert "welcomed_at" not in _item(lab, table, email)  # the claim was released
    failed = [r for r in json_logs(lab, name) if r["message"] == "welcome failed, will retry"]
    assert len(failed) == 1 and "NotFoundException" in failed[0]["error"]

    lab.client("sesv2").create_email_template(TemplateName=template, TemplateContent=TEMPLATE)
    lab.settle()

    [mail] = _mails_to(lab, email)
    assert mail["subject"] == "Welcome to MyBlog, Pat!"
    assert _item(lab, table, email)["welcome_status"] == {"S": "sent"}


def test_one_bad_record_does_not_block_the_others(lab, welcome):
    """GIVEN a batch whose middle record cannot be processed WHEN invoked THEN only that
    record's SequenceNumber is in batchItemFailures and the others are welcomed; Lambda's
    retry from the failed record does not welcome the later one twice."""
    for email in (f"before@{READERS}", f"after@{READERS}"):
        _subscribe(lab, welcome["table"], email)
    lab.settle()  # the real stream welcomes both; replay their records around a broken one
    records = {
        r["dynamodb"]["Keys"]["email"]["S"]: r
        for r in _stream_records(lab, welcome["table"])
        if r["eventName"] == "INSERT"
    }
    broken = sample_event("welcome-insert.json")["Records"][0]
    broken["dynamodb"]["NewImage"] = {}  # no attributes: a record this function cannot read
    broken["dynamodb"]["SequenceNumber"] = "999000000000000000000001"
    batch = [records[f"before@{READERS}"], broken, records[f"after@{READERS}"]]

    result = _invoke(lab, welcome["function"], batch)
    retry = _invoke(lab, welcome["function"], batch[1:])  # Lambda retries from the failure

    assert (
        result == retry == {"batchItemFailures": [{"itemIdentifier": "999000000000000000000001"}]}
    )
    assert len(_mails_to(lab, f"before@{READERS}")) == 1
    assert len(_mails_to(lab, f"after@{READERS}")) == 1


def test_the_sample_event_has_the_stream_record_shape(lab, welcome):
    """The chapter's sample event and a record from the real stream have the same fields."""
    _subscribe(lab, welcome["table"], f"shape@{READERS}", "Shape")
    real = next(r for r in _stream_records(lab, welcome["table"]) if r["eventName"] == "INSERT")
    sample = sample_event("welcome-insert.json")["Records"][0]

    assert set(sample) <= set(real) | {"eventSourceARN"}
    assert set(sample["dynamodb"]) - {"ApproximateCreationDateTime"} <= set(real["dynamodb"])
    lab.settle()
