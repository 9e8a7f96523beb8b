"""A Lambda target that answers with the event it received, so a test sees what the load
balancer sent. The query parameter `status` picks the answer's status code (default 200)."""

import json

REASONS = {200: "OK", 201: "Created", 418: "I'm a teapot"}


def handler(event, context):
    status = int((event.get("queryStringParameters") or {}).get("status", "200"))
    return {
        "statusCode": status,
        "statusDescription": f"{status} {REASONS.get(status, 'Unknown')}",
        "isBase64Encoded": False,
        "headers": {"Content-Type": "application/json", "X-Echo": "yes"},
        "body": json.dumps({"event": event, "function_version": context.function_version}),
    }
