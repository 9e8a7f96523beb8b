"""What the paid-content tests share besides fixtures: paths, the chapter's sample events, calls
through lambda.invoke, and an independent reading of CloudFront's signing contract (canned
policy template, CloudFront base64, RSA PKCS#1 v1.5 verification) to check the signer against.
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-creating-signed-url-canned-policy.html
"""

from __future__ import annotations

import base64
import copy
import json
import sys
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

import helpers
from tests.emulator.edge_support import new_key, public_pem  # noqa: F401 (shared here)

CHAPTER = Path(__file__).resolve().parents[2] / "notebooks" / "03-paid-content"
FUNCTIONS = CHAPTER / "functions"
EVENTS = FUNCTIONS / "events"
# `cryptography` is a compiled wheel, bundled for the Python that runs the offline runtime
THIS_RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"

# the premium table as the tests seed it: one member, one lapsed member; nobody else is known
MEMBER = "ana@example.com"
LAPSED = "bo@example.com"
STRANGER = "zed@example.com"
ADMIN = "ops@example.com"
VIEWER_IP = "198.51.100.23"  # the sample events' identity.sourceIp


def sample_event(name: str) -> dict[str, Any]:
    """One of the chapter's sample events (functions/events/<name>)."""
    return json.loads((EVENTS / name).read_text())


def claims_for(email: str | None, *, groups: str | None = None, **extra: str) -> dict[str, str]:
    """Cognito ID-token claims as a COGNITO_USER_POOLS authorizer passes them: all strings."""
    claims = copy.deepcopy(sample_event("signer-video-url.json")["requestContext"]["authorizer"])[
        "claims"
    ]
    claims.pop("email")
    if email is not None:
        claims["email"] = email
    if groups is not None:
        claims["cognito:groups"] = groups
    claims.update(extra)
    return claims


def proxy_event(
    method: str,
    resource: str,
    *,
    path: str | None = None,
    path_params: dict[str, str] | None = None,
    body: Any = None,
    claims: dict[str, str] | None = None,
    epoch_ms: int | None = None,
    source_ip: str = VIEWER_IP,
) -> dict[str, Any]:
    """The chapter's REST proxy (v1) sample event, changed to this request. `claims=None` is a
    method without an authorizer (no `requestContext.authorizer`)."""
    event = sample_event("signer-video-url.json")
    event.update(
        httpMethod=method,
        resource=resource,
        path=path or resource,
        pathParameters=path_params,
        body=body if body is None or isinstance(body, str) else json.dumps(body),
    )
    context = event["requestContext"]
    context.update(httpMethod=method, resourcePath=resource, path=f"/api{path or resource}")
    context["identity"]["sourceIp"] = source_ip
    if epoch_ms is not None:
        context["requestTimeEpoch"] = epoch_ms
    if claims is None:
        del context["authorizer"]
        del event["headers"]["Authorization"]
        del event["multiValueHeaders"]["Authorization"]
    else:
        context["authorizer"] = {"claims": claims}
    return event


@dataclass
class Answer:
    """A Lambda proxy integration's answer, parsed."""

    status: int
    headers: dict[str, str]
    multi: dict[str, list[str]]
    body: Any
    raw: str


def invoke(lab: helpers.Lab, function: str, event: dict[str, Any]) -> Answer:
    """lambda.invoke with the event; fails the test on a function error."""
    resp = lab.client("lambda").invoke(FunctionName=function, Payload=json.dumps(event))
    payload = json.loads(resp["Payload"].read())
    assert "FunctionError" not in resp, payload
    assert isinstance(payload["statusCode"], int) and isinstance(payload["body"], str), payload
    body = json.loads(payload["body"]) if payload["body"] else None
    return Answer(
        payload["statusCode"],
        payload.get("headers") or {},
        payload.get("multiValueHeaders") or {},
        body,
        payload["body"],
    )


# ---- CloudFront's signing contract, written from the developer guide ---------------------------
def private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def secret_value(key: rsa.RSAPrivateKey, key_pair_id: str) -> str:
    """The Secrets Manager secret the signer reads: {"keyPairId", "privateKey"}."""
    return json.dumps({"keyPairId": key_pair_id, "privateKey": private_pem(key)})


def canned(resource: str, expires: int) -> bytes:
    """The canned policy, byte for byte as the developer guide prints it (no whitespace)."""
    return (
        '{"Statement":[{"Resource":"' + resource + '","Condition":{"DateLessThan":'
        '{"AWS:EpochTime":' + str(expires) + "}}}]}"
    ).encode()


def cf_b64decode(value: str) -> bytes:
    """CloudFront's base64 back to bytes (`-`→`+`, `_`→`=`, `~`→`/`)."""
    return base64.b64decode(value.translate(str.maketrans("-_~", "+=/")), validate=True)


def verifies(
    key: rsa.RSAPrivateKey, signature: str, message: bytes, algorithm=hashes.SHA256
) -> bool:
    """Whether a CloudFront-base64 signature is RSA PKCS#1 v1.5 over message with key's public
    half."""
    try:
        key.public_key().verify(cf_b64decode(signature), message, padding.PKCS1v15(), algorithm())
    except InvalidSignature:
        return False
    return True


def split_url(url: str) -> tuple[str, list[tuple[str, str]]]:
    """(scheme://host/path, [(name, value)...] in order) of a signed URL."""
    parts = urlsplit(url)
    pairs = [tuple(p.split("=", 1)) for p in parts.query.split("&")] if parts.query else []
    return f"{parts.scheme}://{parts.netloc}{parts.path}", pairs  # type: ignore[return-value]


def set_cookies(answer: Answer) -> dict[str, Any]:
    """name → Morsel for each `Set-Cookie` in the answer's multiValueHeaders."""
    out = {}
    for line in answer.multi.get("Set-Cookie", []):
        jar: SimpleCookie = SimpleCookie()
        jar.load(line)
        [(name, morsel)] = jar.items()
        out[name] = morsel
    return out
