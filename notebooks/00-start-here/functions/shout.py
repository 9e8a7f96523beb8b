"""Triggered by S3 uploads of .txt files: writes an upper-cased copy and a word count as JSON."""

import json
import logging
import os
from urllib.parse import unquote_plus

import boto3

logger = logging.getLogger()
logger.setLevel(logging.INFO)
s3 = boto3.client("s3")  # created once per execution environment, reused while warm
RESULT_PREFIX = os.environ.get("RESULT_PREFIX", "results/")


def handler(event, context):
    written = []
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        key = unquote_plus(record["s3"]["object"]["key"])  # keys arrive URL-encoded
        text = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
        result = {
            "source": key,
            "words": len(text.split()),
            "shouted": text.upper(),
            "request_id": context.aws_request_id,
        }
        name = key.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        out_key = f"{RESULT_PREFIX}{name}.json"
        s3.put_object(
            Bucket=bucket,
            Key=out_key,
            Body=json.dumps(result).encode(),
            ContentType="application/json",
        )
        logger.info("wrote s3://%s/%s (%d words)", bucket, out_key, result["words"])
        written.append(out_key)
    return {"written": written}
