"""The premium-user service: who has paid. API Gateway REST API Lambda proxy integrations.

Routes (the API's resources; `{email}` is a path parameter):
    POST /users            register {email, premium}: 201 with the record
    GET  /users/{email}    look one up: 200, or 404
    GET  /me               the signed-in caller's own record (needs the Cognito authorizer)

Without an authorizer anyone may register or look up anyone: that is the "start simple" step.
Once the API has a COGNITO_USER_POOLS authorizer, API Gateway puts the verified token's claims
in `requestContext.authorizer.claims`, and this function uses them: only members of the
Cognito group `admins` (the shop's back office) may register, and a customer may read only
their own record.

Environment: PREMIUM_TABLE; optional ADMIN_GROUP (`admins`), ALLOWED_ORIGIN (`*`).
"""

import json
import os
import re
from datetime import datetime, timezone

import boto3

dynamodb = boto3.resource("dynamodb")
premium_users = dynamodb.Table(os.environ["PREMIUM_TABLE"])

ADMIN_GROUP = os.environ.get("ADMIN_GROUP", "admins")
ALLOWED_ORIGIN = os.environ.get("ALLOWED_ORIGIN", "*")
EMAIL = re.compile(r"^[^@\s/]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


class Refused(Exception):
    """A request answered with `status` and this message."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def handler(event, context):
    method, resource = event["httpMethod"], event["resource"]
    claims = caller_claims(event)
    print(json.dumps({"route": f"{method} {resource}", "caller": claims.get("email")}))
    try:
        if method == "OPTIONS":
            return respond(204, None)
        route = ROUTES.get((method, resource))
        if route is None:
            raise Refused(404, f"no route for {method} {event['path']}")
        return route(event, claims)
    except Refused as exc:
        return respond(exc.status, {"message": str(exc)})


def caller_claims(event):
    """The verified token's claims when the method has a Cognito authorizer, else {}."""
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    return authorizer.get("claims") or {}


def groups_of(claims):
    """`cognito:groups` as API Gateway passes it: a string such as "[admins]" or "admins"."""
    raw = claims.get("cognito:groups") or ""
    if isinstance(raw, list):
        return set(raw)
    return {g for g in re.split(r"[\s,\[\]]+", raw) if g}


def register(event, claims):
    if claims and ADMIN_GROUP not in groups_of(claims):
        raise Refused(403, f"only the {ADMIN_GROUP} group may register premium users")
    body = parse_body(event)
    email = valid_email(body.get("email"))
    premium = body.get("premium", True)
    if not isinstance(premium, bool):
        raise Refused(400, "premium must be true or false")
    item = {
        "email": email,
        "premium": premium,
        "since": datetime.fromtimestamp(request_time(event), timezone.utc).isoformat(),
    }
    premium_users.put_item(Item=item)
    return respond(201, item)


def look_up(event, claims):
    email = valid_email((event.get("pathParameters") or {}).get("email"))
    if claims and email != claims_email(claims) and ADMIN_GROUP not in groups_of(claims):
        raise Refused(403, "you may look up only your own record")
    item = premium_users.get_item(Key={"email": email}).get("Item")
    if item is None:
        raise Refused(404, f"{email} is not registered")
    return respond(200, item)


def me(event, claims):
    if not claims:
        raise Refused(401, "sign in first: this route needs the Cognito authorizer")
    email = claims_email(claims)
    if not email:
        raise Refused(403, "send the ID token of a verified email address")
    item = premium_users.get_item(Key={"email": email}).get("Item") or {"premium": False}
    return respond(200, {"email": email, "sub": claims.get("sub"), "premium": item["premium"]})


ROUTES = {
    ("POST", "/users"): register,
    ("GET", "/users/{email}"): look_up,
    ("GET", "/me"): me,
}


# ---- small helpers ------------------------------------------------------------------------------
def claims_email(claims):
    """The caller's email, trusted only once verified: an unverified address is a claim anyone
    could make about themselves."""
    if claims.get("email_verified") not in ("true", True):
        return ""
    return (claims.get("email") or "").lower()


def valid_email(value):
    if not isinstance(value, str) or not EMAIL.match(value.strip()):
        raise Refused(400, "email must be an address such as ana@example.com")
    return value.strip().lower()


def parse_body(event):
    try:
        body = json.loads(event.get("body") or "{}")
    except ValueError:
        raise Refused(400, "the body must be JSON") from None
    if not isinstance(body, dict):
        raise Refused(400, "the body must be a JSON object")
    return body


def request_time(event):
    """When API Gateway received the request, in seconds: the clock this answer is stamped by."""
    return event["requestContext"]["requestTimeEpoch"] / 1000


def respond(status, body):
    headers = {
        "Content-Type": "application/json",
        "Cache-Control": "no-store",
        "Access-Control-Allow-Origin": ALLOWED_ORIGIN,
        "Access-Control-Allow-Headers": "Authorization, Content-Type",
    }
    payload = "" if body is None else json.dumps(body)
    return {"statusCode": status, "headers": headers, "body": payload}
