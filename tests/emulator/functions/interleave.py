"""Interleaves print(), logging and stderr ROUNDS times (default 20), in that order each round."""

import logging
import sys

logger = logging.getLogger()
logger.setLevel(logging.INFO)


def handler(event, context):
    for i in range(event.get("rounds", 20)):
        print(f"print {i}")
        logger.info("log %d", i)
        sys.stderr.write(f"stderr {i}\n")
    return {"request_id": context.aws_request_id}
