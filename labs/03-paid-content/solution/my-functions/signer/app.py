"""The signer: a five-minute CloudFront signed URL for a premium user's video, else 403."""

import base64
import json
import os
import re

import boto3
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

premium_users = boto3.resource("dynamodb").Table(os.environ["PREMIUM_TABLE"])
secrets = boto3.client("secretsmanager")
DOMAIN = os.environ["DISTRIBUTION_DOMAIN"]
URL_TTL = 300  # seconds
VIDEO_ID = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


def handler(event, context):
    email = event["requestContext"]["authorizer"]["claims"]["email"]
    video_id = (event.get("pathParameters") or {}).get("id") or ""
    if not VIDEO_ID.fullmatch(video_id):
        return respond(400, {"message": "a video id is lower-case letters, digits and dashes"})
    item = premium_users.get_item(Key={"email": email}).get("Item")
    if not item or item.get("premium") is not True:
        return respond(403, {"message": "videos are for premium members"})

    url = f"https://{DOMAIN}/videos/{video_id}.webp"
    expires = event["requestContext"]["requestTimeEpoch"] // 1000 + URL_TTL
    policy = (
        '{"Statement":[{"Resource":"' + url + '","Condition":{"DateLessThan":'
        '{"AWS:EpochTime":' + str(expires) + "}}}]}"
    )
    secret = json.loads(
        secrets.get_secret_value(SecretId=os.environ["KEY_SECRET_ID"])["SecretString"]
    )
    private_key = serialization.load_pem_private_key(secret["privateKey"].encode(), password=None)
    signature = private_key.sign(policy.encode(), padding.PKCS1v15(), hashes.SHA256())
    signature = base64.b64encode(signature).decode().translate(str.maketrans("+=/", "-_~"))
    signed = (
        f"{url}?Expires={expires}&Signature={signature}"
        f"&Key-Pair-Id={secret['keyPairId']}&Hash-Algorithm=SHA256"
    )
    return respond(200, {"url": signed, "expires": expires})


def respond(status, body):
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body),
    }
