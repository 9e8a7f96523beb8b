"""A handler that reports what it sees (context, environment, module state); the event says
what else to do: sleep, allocate memory, raise, or write an S3 object with boto3."""

import logging
import os
import time

logger = logging.getLogger()
logger.setLevel(logging.INFO)

INVOCATIONS = 0  # module state: survives warm invocations, reset by a cold start
HOARD = []  # memory a handler keeps, as a leaking function would


def handler(event, context):
    global INVOCATIONS
    INVOCATIONS += 1
    first_remaining = context.get_remaining_time_in_millis()
    print(f"probe print {context.aws_request_id}")
    logger.info("probe logging %s", context.aws_request_id)
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("allocate_mb"):
        HOARD.append(b"\x01" * (event["allocate_mb"] << 20))
    if event.get("raise"):
        raise ValueError(event["raise"])
    if event.get("put_object"):
        import boto3

        boto3.client("s3").put_object(**event["put_object"])
    while context.get_remaining_time_in_millis() == first_remaining:
        pass  # at most 1 ms: lets the test see the remaining time go down
    return {
        "invocations": INVOCATIONS,
        "request_id": context.aws_request_id,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining_ms": [first_remaining, context.get_remaining_time_in_millis()],
        "env": {k: v for k, v in os.environ.items() if k.startswith("LAB_")},
        "aws_region": os.environ.get("AWS_REGION"),
        "function_name_env": os.environ.get("AWS_LAMBDA_FUNCTION_NAME"),
    }
