"""Sends a welcome email with SES from inside Lambda (the handler's own boto3 client)."""

import os

import boto3


def handler(event, context):
    ses = boto3.client("ses")
    resp = ses.send_email(
        Source=os.environ["SENDER"],
        Destination={"ToAddresses": [event["to"]]},
        Message={
            "Subject": {"Data": f"Welcome, {event['name']}"},
            "Body": {
                "Text": {"Data": f"Hello {event['name']}, thanks for subscribing."},
                "Html": {"Data": f"<p>Hello <b>{event['name']}</b>, thanks for subscribing.</p>"},
            },
        },
    )
    return {"MessageId": resp["MessageId"]}
