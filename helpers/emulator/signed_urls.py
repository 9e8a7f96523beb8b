"""CloudFront signed URLs and signed cookies: the edge's check for behaviours with trusted key groups.

A behaviour whose `TrustedKeyGroups` is enabled serves only requests signed with the private key
of a public key in one of those groups. The signature comes in the query string (canned policy:
`Expires`, `Signature`, `Key-Pair-Id`; custom policy: `Policy`, `Signature`, `Key-Pair-Id`; with
`Hash-Algorithm=SHA256` for SHA-256) or in the cookies `CloudFront-Expires` or
`CloudFront-Policy`, `CloudFront-Signature`, `CloudFront-Key-Pair-Id` (and
`CloudFront-Hash-Algorithm`). The signature is RSA PKCS#1 v1.5 over the policy bytes, SHA-1 unless
SHA-256 is asked for; policy and signature travel in CloudFront's base64 (`+`→`-`, `=`→`_`,
`/`→`~`). Refusals are CloudFront's XML 403s: MissingKey, InvalidKey, AccessDenied.

"Restrict content with signed URLs and signed cookies":
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/PrivateContent.html
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .edge import _cookies, trusts_signers, xml_refusal
from .http import Request, Response

# the query parameters CloudFront reads for a signed URL; they are not part of the signed
# resource, the cache key or the origin request
SIGNING_PARAMS = ("Expires", "Policy", "Signature", "Key-Pair-Id", "Hash-Algorithm")
HASHES: dict[str, type[hashes.HashAlgorithm]] = {"SHA1": hashes.SHA1, "SHA256": hashes.SHA256}
_FROM_CLOUDFRONT = str.maketrans("-_~", "+=/")


def missing_key() -> Response:
    return xml_refusal("MissingKey", "Missing Key-Pair-Id query parameter or cookie value")


def invalid_key() -> Response:
    return xml_refusal("InvalidKey", "Unknown Key")


def access_denied() -> Response:
    return xml_refusal("AccessDenied", "Access denied")


# ---- the request's parts ------------------------------------------------------------------------
def _param_name(part: str) -> str:
    return unquote(part.split("=", 1)[0].replace("+", " "))


def strip_signing_params(query: str) -> str:
    """The raw query string without CloudFront's signing parameters (the rest kept as sent)."""
    return "&".join(p for p in query.split("&") if p and _param_name(p) not in SIGNING_PARAMS)


def unsigned_url(request: Request) -> str:
    """scheme://host/path?query as the viewer asked, without the signing parameters: the URL a
    policy's Resource names."""
    base = request.url.split("?", 1)[0].split("#", 1)[0]
    query = strip_signing_params(request.query)
    return f"{base}?{query}" if query else base


def without_signing_params(request: Request) -> Request:
    """The request the edge caches and forwards once its signature is checked."""
    query = strip_signing_params(request.query)
    base = request.url.split("?", 1)[0]
    return Request(
        request.method,
        f"{base}?{query}" if query else base,
        request.headers,
        request.body,
        request.source_ip,
    )


def _query_values(query: str) -> dict[str, str]:
    """The signing parameters' values (first occurrence; values are not percent-decoded, as
    CloudFront's base64 alphabet needs no escaping)."""
    out: dict[str, str] = {}
    for part in query.split("&"):
        name = _param_name(part)
        if name in SIGNING_PARAMS and name not in out:
            out[name] = unquote(part.split("=", 1)[1]) if "=" in part else ""
    return out


def signing_values(request: Request) -> dict[str, str]:
    """Expires/Policy/Signature/Key-Pair-Id/Hash-Algorithm from the query string when it carries
    a key id, else from the `CloudFront-*` cookies."""
    query = _query_values(request.query)
    if "Key-Pair-Id" in query:
        return query
    cookies = _cookies(request.headers)
    return {
        name: cookies[f"CloudFront-{name}"]
        for name in SIGNING_PARAMS
        if f"CloudFront-{name}" in cookies
    }


def cloudfront_b64decode(value: str) -> bytes:
    """Decode CloudFront's URL-safe base64 (`-` for `+`, `_` for `=`, `~` for `/`)."""
    return base64.b64decode(value.translate(_FROM_CLOUDFRONT), validate=True)


# ---- policies -----------------------------------------------------------------------------------
def canned_policy(resource: str, expires: int) -> bytes:
    """The canned policy CloudFront rebuilds, byte for byte, to verify a canned signature."""
    return (
        '{"Statement":[{"Resource":"' + resource + '","Condition":{"DateLessThan":'
        '{"AWS:EpochTime":' + str(expires) + "}}}]}"
    ).encode()


def resource_matches(pattern: str, url: str) -> bool:
    """A policy's Resource against the request URL: `*` any characters (also none), `?` one."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, url, flags=re.DOTALL) is not None


def _epoch(condition: dict[str, Any], name: str) -> int | None:
    block = condition.get(name)
    if block is None:
        return None
    value = block["AWS:EpochTime"]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} AWS:EpochTime must be an integer")
    return value


def policy_allows(policy: bytes, url: str, source_ip: str, now: float) -> bool:
    """Whether a (custom or canned) policy admits this URL, viewer address and moment.

    Times are compared with the lab clock: a policy holds absolute deadlines, not a signing time,
    so there is no real-clock timestamp to map with `lab_time_of`. Sign with deadlines taken from
    the lab clock (`lab.clock.datetime() + timedelta(...)`), as a real signer takes them from its
    own clock; then `lab.clock.advance` expires the URL as time passing would on AWS.
    """
    try:
        document = json.loads(policy)
        statements = document["Statement"]
        if not isinstance(statements, list) or len(statements) != 1:
            return False
        statement = statements[0]
        condition = statement["Condition"]
        less_than = _epoch(condition, "DateLessThan")
        greater_than = _epoch(condition, "DateGreaterThan")
        source = (condition.get("IpAddress") or {}).get("AWS:SourceIp")
        resource = statement.get("Resource")
    except (ValueError, KeyError, TypeError, AttributeError):
        return False
    if less_than is None or not now < less_than:
        return False  # DateLessThan is required; the URL is valid until (not at) that second
    if greater_than is not None and not now >= greater_than:
        return False
    # AWS: a signed URL's custom policy may leave out Resource (then it covers every file)
    if resource is not None and not (isinstance(resource, str) and resource_matches(resource, url)):
        return False
    if source is not None:
        try:
            network = ipaddress.IPv4Network(source, strict=False)
            return ipaddress.IPv4Address(source_ip) in network
        except ValueError:
            return False
    return True


def signature_valid(pem: str, policy: bytes, signature: bytes, algorithm: str) -> bool:
    """RSA PKCS#1 v1.5 over the policy bytes with SHA-1 or SHA-256."""
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except ValueError:
        return False
    if not isinstance(key, rsa.RSAPublicKey):
        return False
    try:
        key.verify(signature, policy, padding.PKCS1v15(), HASHES[algorithm]())
    except InvalidSignature:
        return False
    return True


# ---- the key groups as moto stores them ---------------------------------------------------------
def trusted_public_key(account_id: str, behaviour: Any, key_id: str) -> str | None:
    """The PEM of `key_id` when it is in one of the behaviour's trusted key groups, else None.

    Legacy trusted signers (an account's CloudFront key pairs) have no keys offline: their key
    ids are unknown here.
    """
    from moto.cloudfront.models import cloudfront_backends

    backend = cloudfront_backends[account_id]["aws"]
    if not behaviour.trusted_key_groups.enabled:
        return None
    for group_id in behaviour.trusted_key_groups.items or []:
        group = backend.key_groups.get(group_id)
        if group is None or key_id not in (group.items or []):
            continue
        key = backend.public_keys.get(key_id)
        if key is not None:
            return key.encoded_key
    return None


# ---- the check ----------------------------------------------------------------------------------
def check_signed_request(
    request: Request, behaviour: Any, *, account_id: str, now: float
) -> Response | None:
    """None when the behaviour is public or the request's signature admits it, else the 403."""
    if not trusts_signers(behaviour):
        return None
    values = signing_values(request)
    key_id = values.get("Key-Pair-Id")
    if not key_id:
        return missing_key()
    pem = trusted_public_key(account_id, behaviour, key_id)
    if pem is None:
        return invalid_key()
    algorithm = (values.get("Hash-Algorithm") or "SHA1").upper()
    if algorithm not in HASHES or "Signature" not in values:
        return access_denied()
    url = unsigned_url(request)
    try:
        signature = cloudfront_b64decode(values["Signature"])
        if "Policy" in values:
            policy = cloudfront_b64decode(values["Policy"])
        elif "Expires" in values and values["Expires"].isdigit():
            policy = canned_policy(url, int(values["Expires"]))
        else:
            return access_denied()
    except (binascii.Error, ValueError):
        return access_denied()
    if not signature_valid(pem, policy, signature, algorithm):
        return access_denied()
    if not policy_allows(policy, url, request.source_ip, now):
        return access_denied()
    return None


def signed_request_check(emulator: Any) -> Callable[[Any, Any, Request], Response | None]:
    """The edge's `signed_request_check` for this lab (its account, its clock)."""

    def check(distribution: Any, behaviour: Any, request: Request) -> Response | None:
        return check_signed_request(
            request, behaviour, account_id=emulator.account_id, now=emulator.clock.now()
        )

    return check
