"""The video signer: short-lived CloudFront signed URLs and cookies, for premium users only.

Routes (behind the API's Cognito authorizer, so the caller is the token's `email` claim):
    GET  /videos                the catalogue: every object under videos/
    GET  /videos/{id}/url       a signed URL (canned policy) for one video, e.g. id serverless-01
    POST /series/{series}/url   a custom policy for every video of a series (`videos/{series}/*`),
                                usable only from one network: {"network": "203.0.113.0/24"}, by
                                default the caller's own address
    POST /session               signed cookies (custom policy on `videos/*`) for multi-file playback

The private key never leaves AWS Secrets Manager: the secret holds {"keyPairId", "privateKey"}
(PEM), read on each signing, so a rotated key is used at once. Signatures are RSA PKCS#1 v1.5 over
the policy's bytes, with SHA-256 (`Hash-Algorithm=SHA256`) unless HASH_ALGORITHM is SHA1.
Deadlines count from `requestContext.requestTimeEpoch`, when API Gateway received the request.

Environment: PREMIUM_TABLE, VIDEOS_BUCKET, KEY_SECRET_ID, DISTRIBUTION_DOMAIN; optional
URL_TTL (300 s), COOKIE_TTL (3600 s), HASH_ALGORITHM (SHA256), ALLOWED_ORIGIN (`*`).
"""

import base64
import ipaddress
import json
import os
import re

import boto3
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

dynamodb = boto3.resource("dynamodb")
premium_users = dynamodb.Table(os.environ["PREMIUM_TABLE"])
s3 = boto3.client("s3")
secrets = boto3.client("secretsmanager")

BUCKET = os.environ["VIDEOS_BUCKET"]
SECRET_ID = os.environ["KEY_SECRET_ID"]
DOMAIN = os.environ["DISTRIBUTION_DOMAIN"]
URL_TTL = int(os.environ.get("URL_TTL", "300"))
COOKIE_TTL = int(os.environ.get("COOKIE_TTL", "3600"))
HASH_ALGORITHM = os.environ.get("HASH_ALGORITHM", "SHA256").upper()
if HASH_ALGORITHM not in ("SHA256", "SHA1"):
    raise ValueError(f"HASH_ALGORITHM must be SHA256 or SHA1, not {HASH_ALGORITHM!r}")
ALLOWED_ORIGIN = os.environ.get("ALLOWED_ORIGIN", "*")

VIDEO_ID = re.compile(r"(?P<series>[a-z0-9]+(?:-[a-z0-9]+)*)-(?P<episode>[0-9]{2})")
SERIES = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
VIDEO_SUFFIX = ".webp"
NARROWEST_PREFIX = 16  # a network is at most a /16: a link pinned to "anywhere" is not pinned


class Refused(Exception):
    """A request answered with `status` and this message."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def handler(event, context):
    method, resource = event["httpMethod"], event["resource"]
    email = caller_email(event)
    print(json.dumps({"route": f"{method} {resource}", "caller": email}))
    try:
        if method == "OPTIONS":
            return respond(204, None)
        route = ROUTES.get((method, resource))
        if route is None:
            raise Refused(404, f"no route for {method} {event['path']}")
        return route(event, email)
    except Refused as exc:
        return respond(exc.status, {"message": str(exc)})


# ---- routes -------------------------------------------------------------------------------------
def catalogue(event, email):
    videos = [
        {"id": match.group(0), "series": match["series"], "bytes": obj["Size"]}
        for obj in objects("videos/")
        if (match := video_of(obj["Key"]))
    ]
    return respond(200, {"videos": sorted(videos, key=lambda v: v["id"])})


def video_url(event, email):
    video_id = (event.get("pathParameters") or {}).get("id") or ""
    match = VIDEO_ID.fullmatch(video_id)
    if not match:
        raise Refused(400, "a video id is a series and a two-digit episode, e.g. serverless-01")
    require_premium(email)
    key = f"videos/{match['series']}/{video_id}{VIDEO_SUFFIX}"
    if not exists(key):
        raise Refused(404, f"no video {video_id}")
    expires = int(request_time(event)) + URL_TTL
    url = f"https://{DOMAIN}/{key}"
    policy = canned_policy(url, expires)
    signature, key_pair_id = sign(policy)
    params = {"Expires": str(expires), "Signature": signature, "Key-Pair-Id": key_pair_id}
    return respond(200, {"url": with_query(url, params), "expires": expires})


def series_url(event, email):
    series = (event.get("pathParameters") or {}).get("series") or ""
    if not SERIES.fullmatch(series):
        raise Refused(400, "a series name is lower-case letters, digits and dashes")
    body = parse_body(event)
    caller_ip = event["requestContext"]["identity"]["sourceIp"]
    network = valid_network(body.get("network") or f"{caller_ip}/32")
    require_premium(email)
    videos = [
        obj["Key"]
        for obj in objects(f"videos/{series}/")
        if (match := video_of(obj["Key"])) and match["series"] == series
    ]
    if not videos:
        raise Refused(404, f"no series {series}")
    expires = int(request_time(event)) + URL_TTL
    resource = f"https://{DOMAIN}/videos/{series}/*"
    policy = custom_policy(resource, expires, network=network)
    signature, key_pair_id = sign(policy)
    params = {"Policy": cf_base64(policy), "Signature": signature, "Key-Pair-Id": key_pair_id}
    urls = [with_query(f"https://{DOMAIN}/{key}", params) for key in videos]
    return respond(
        200, {"resource": resource, "network": network, "expires": expires, "urls": urls}
    )


def session(event, email):
    require_premium(email)
    expires = int(request_time(event)) + COOKIE_TTL
    policy = custom_policy(f"https://{DOMAIN}/videos/*", expires)
    signature, key_pair_id = sign(policy)
    values = {
        "CloudFront-Policy": cf_base64(policy),
        "CloudFront-Signature": signature,
        "CloudFront-Key-Pair-Id": key_pair_id,
    }
    if HASH_ALGORITHM == "SHA256":
        values["CloudFront-Hash-Algorithm"] = "SHA256"
    # host-only cookies for the distribution's domain (this API is served under it, at /api/*),
    # sent back only over HTTPS and only for the videos
    cookies = [
        f"{name}={value}; Path=/videos/; Max-Age={COOKIE_TTL}; Secure; HttpOnly; SameSite=Strict"
        for name, value in values.items()
    ]
    response = respond(200, {"expires": expires, "cookies": sorted(values)})
    response["multiValueHeaders"] = {"Set-Cookie": cookies}
    return response


ROUTES = {
    ("GET", "/videos"): catalogue,
    ("GET", "/videos/{id}/url"): video_url,
    ("POST", "/series/{series}/url"): series_url,
    ("POST", "/session"): session,
}


# ---- policies and signatures --------------------------------------------------------------------
def canned_policy(url, expires):
    """The canned policy CloudFront rebuilds from the URL and Expires: byte-exact, no spaces."""
    condition = '{"DateLessThan":{"AWS:EpochTime":' + str(int(expires)) + "}}"
    return ('{"Statement":[{"Resource":"' + url + '","Condition":' + condition + "}]}").encode()


def custom_policy(resource, expires, *, network=None, starts=None):
    condition = {"DateLessThan": {"AWS:EpochTime": expires}}
    if starts is not None:
        condition["DateGreaterThan"] = {"AWS:EpochTime": starts}
    if network is not None:
        condition["IpAddress"] = {"AWS:SourceIp": network}
    statement = {"Resource": resource, "Condition": condition}
    return json.dumps({"Statement": [statement]}, separators=(",", ":")).encode()


def sign(policy):
    """(signature, key pair id): RSA PKCS#1 v1.5 with the key in Secrets Manager."""
    secret = json.loads(secrets.get_secret_value(SecretId=SECRET_ID)["SecretString"])
    private_key = serialization.load_pem_private_key(secret["privateKey"].encode(), password=None)
    digest = hashes.SHA256() if HASH_ALGORITHM == "SHA256" else hashes.SHA1()
    signature = private_key.sign(policy, padding.PKCS1v15(), digest)
    return cf_base64(signature), secret["keyPairId"]


def cf_base64(data):
    """Base64 made URL-safe CloudFront's way: + becomes -, = becomes _, / becomes ~."""
    return base64.b64encode(data).decode().translate(str.maketrans("+=/", "-_~"))


def with_query(url, params):
    if HASH_ALGORITHM == "SHA256":
        params = {**params, "Hash-Algorithm": "SHA256"}
    return url + "?" + "&".join(f"{k}={v}" for k, v in params.items())


# ---- premium users, videos, input ---------------------------------------------------------------
def caller_email(event):
    """The caller's email from the verified token, trusted only once the address is verified
    (an unverified address is a claim anyone could make about themselves)."""
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    claims = authorizer.get("claims") or {}
    if not claims:
        return None  # no authorizer: nobody signed in
    if claims.get("email_verified") not in ("true", True):
        return ""
    return (claims.get("email") or "").lower()


def require_premium(email):
    if email is None:
        raise Refused(401, "sign in first")
    if not email:
        raise Refused(403, "send the ID token of a verified email address")
    item = premium_users.get_item(Key={"email": email}).get("Item")
    if not item or item.get("premium") is not True:
        raise Refused(403, "videos are for premium members: buy a membership first")


def objects(prefix):
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return [obj for page in pages for obj in page.get("Contents", [])]


def video_of(key):
    """The id match of a video stored where the signer looks for it, else None: only
    videos/{series}/{series}-{nn}.webp is a video."""
    name = key.rsplit("/", 1)[-1]
    match = VIDEO_ID.fullmatch(name.removesuffix(VIDEO_SUFFIX))
    if not name.endswith(VIDEO_SUFFIX) or not match:
        return None
    return match if key == f"videos/{match['series']}/{name}" else None


def exists(key):
    found = s3.list_objects_v2(Bucket=BUCKET, Prefix=key, MaxKeys=1).get("Contents", [])
    return bool(found) and found[0]["Key"] == key


def valid_network(value):
    try:
        network = ipaddress.IPv4Network(str(value), strict=False)
    except ValueError:
        raise Refused(400, "network must be an IPv4 range such as 203.0.113.0/24") from None
    if network.prefixlen < NARROWEST_PREFIX:
        raise Refused(400, f"network must be a /{NARROWEST_PREFIX} or narrower, e.g. /24")
    return str(network)


def parse_body(event):
    try:
        body = json.loads(event.get("body") or "{}")
    except ValueError:
        raise Refused(400, "the body must be JSON") from None
    if not isinstance(body, dict):
        raise Refused(400, "the body must be a JSON object")
    return body


def request_time(event):
    """When API Gateway received the request, in seconds: deadlines count from it."""
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
