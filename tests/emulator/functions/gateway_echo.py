"""An API Gateway proxy handler: echoes the event it got; the query string `mode` picks a
misbehaviour (raise, malformed result, binary body, custom status and headers)."""

import base64
import json

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def handler(event, context):
    mode = (event.get("queryStringParameters") or {}).get("mode")
    if mode == "raise":
        raise RuntimeError("the handler failed")
    if mode == "malformed":
        return {"statusCode": 200, "body": {"not": "a string"}}
    if mode == "extra-key":
        return {"statusCode": 200, "body": "ok", "message": "not allowed here"}
    if mode == "binary":
        return {
            "statusCode": 200,
            "headers": {"Content-Type": "image/png"},
            "body": base64.b64encode(PNG).decode(),
            "isBase64Encoded": True,
        }
    if mode == "teapot":
        return {
            "statusCode": 418,
            "headers": {"X-Single": "one", "X-Both": "from-headers"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"], "X-Both": ["from-multi"]},
            "body": "short and stout",
        }
    body = {"event": event, "request_id": context.aws_request_id}
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body),
    }
