"""Welcome each new subscriber: a DynamoDB Streams trigger that sends an SES templated email.

Event: DynamoDB Streams records of the subscribers table (any view type with NewImage). The
event source mapping should set FunctionResponseTypes=["ReportBatchItemFailures"], a
MaximumRetryAttempts and an OnFailure destination (the default retries until the record
expires, 24 hours later, and blocks the shard meanwhile).

Environment: SUBSCRIBERS_TABLE, SENDER (a verified SES identity), TEMPLATE_NAME.
"""

import json
import os
from datetime import datetime, timezone

import boto3

ses = boto3.client("sesv2")
table = boto3.resource("dynamodb").Table(os.environ["SUBSCRIBERS_TABLE"])
conditional_check_failed = table.meta.client.exceptions.ConditionalCheckFailedException


def handler(event, context):
    failures = []
    for record in event["Records"]:
        # only new subscriptions: this function's own updates (welcome_status...) come back
        # on the stream as MODIFY records; an event filter {"eventName": ["INSERT"]} on the
        # mapping saves those invocations altogether
        if record["eventName"] != "INSERT":
            continue
        try:
            welcome(record["dynamodb"]["NewImage"])
        except Exception as exc:
            log("ERROR", "welcome failed, will retry", record=record, error=repr(exc))
            failures.append({"itemIdentifier": record["dynamodb"]["SequenceNumber"]})
    # Lambda checkpoints before the lowest failed sequence number and retries from there: the
    # records after it come again too, and the claim below makes that harmless
    return {"batchItemFailures": failures}


def welcome(image):
    email = image["email"]["S"]
    name = image.get("name", {}).get("S") or "there"
    # Streams deliver at least once: the same INSERT may arrive twice (a retried batch, a
    # timeout after the send). Claim the welcome first with a conditional write, so only one
    # delivery ever sends. The item must still exist: an address that unsubscribed meanwhile
    # is not recreated.
    try:
        table.update_item(
            Key={"email": email},
            UpdateExpression="SET welcomed_at = :now, welcome_status = :sending",
            ConditionExpression="attribute_exists(email) AND attribute_not_exists(welcomed_at)",
            ExpressionAttributeValues={":now": now(), ":sending": "sending"},
        )
    except conditional_check_failed:
        log("INFO", "already welcomed (or unsubscribed): skipped", email=email)
        return
    try:
        resp = ses.send_email(
            FromEmailAddress=os.environ["SENDER"],
            Destination={"ToAddresses": [email]},
            Content={
                "Template": {
                    "TemplateName": os.environ["TEMPLATE_NAME"],
                    "TemplateData": json.dumps({"name": name, "email": email}),
                }
            },
        )
    except ses.exceptions.MessageRejected as exc:
        # SES will never accept this message (in the sandbox: an unverified recipient):
        # record why, and do not retry it
        reason = exc.response["Error"]["Message"]
        mark(email, "rejected", welcome_error=reason)
        log("WARNING", "SES rejected the welcome email", email=email, reason=reason)
        return
    except Exception:
        # anything else may pass (throttling, a template not created yet): release the claim
        # so that the retry sends; if this function dies before here, the subscriber gets no
        # welcome, the price of never sending two (SES has no idempotency token)
        table.update_item(
            Key={"email": email},
            UpdateExpression="REMOVE welcomed_at, welcome_status",
            ConditionExpression="welcome_status = :sending",
            ExpressionAttributeValues={":sending": "sending"},
        )
        raise
    mark(email, "sent", welcome_message_id=resp["MessageId"])
    log("INFO", "welcome email sent", email=email, message_id=resp["MessageId"])


def mark(email, status, **attributes):
    values = {":status": status, **{f":{k}": v for k, v in attributes.items()}}
    sets = ", ".join(["welcome_status = :status", *(f"{k} = :{k}" for k in attributes)])
    table.update_item(
        Key={"email": email}, UpdateExpression=f"SET {sets}", ExpressionAttributeValues=values
    )


def log(level, message, record=None, **fields):
    if record is not None:
        fields["sequence_number"] = record["dynamodb"]["SequenceNumber"]
    print(json.dumps({"level": level, "message": message, **fields}))


def now():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
