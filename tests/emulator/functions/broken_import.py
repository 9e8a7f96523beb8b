"""Fails while Lambda loads it, before any event arrives."""

raise RuntimeError("configuration missing at import time")


def handler(event, context):
    return "never reached"
