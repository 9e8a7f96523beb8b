"""Who may read an S3 object over HTTP, and S3's answer to that read, as AWS decides them.

Shared by S3's REST endpoint and website endpoint (`website`) and CloudFront's S3 origins
(`edge`). It evaluates the bucket policy moto stores for a caller that is anonymous or a service
principal (CloudFront with Origin Access Control), applies S3 Block Public Access (bucket and
account level) and, where the bucket still uses ACLs, public-read ACLs. It also gives new buckets
the Block Public Access settings AWS gives them and refuses public policies while
`BlockPublicPolicy` is on, as S3 does.

IAM identity policies are not part of this: boto3 calls reach moto, not this module.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import formatdate, parsedate_to_datetime
from operator import eq, ge, gt, le, lt
from typing import Any
from xml.sax.saxutils import escape

from .http import Response

ALLOW, DENY, IMPLICIT = "Allow", "Deny", "Implicit"
CLOUDFRONT_SERVICE = "cloudfront.amazonaws.com"

# The meaning of "public" (S3 User Guide, "Blocking public access to your Amazon S3 storage",
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html):
# a statement that grants to a wildcard principal is not public when it is limited to fixed
# values of these condition keys, or to a set of CIDRs with aws:SourceIp.
_FIXED_VALUE_KEYS = {
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceowner",
    "aws:sourceaccount",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "aws:userid",
}
_POSITIVE_MATCH_OPERATORS = {
    "stringequals",
    "stringequalsignorecase",
    "stringlike",
    "arnequals",
    "arnlike",
}
# the object headers S3 returns on GET and HEAD (moto's metadata also keeps request-only ones)
_OBJECT_HEADERS = (
    "content-type",
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-language",
    "expires",
    "x-amz-website-redirect-location",
)
_HEADER_NAMES = {
    "content-type": "Content-Type",
    "cache-control": "Cache-Control",
    "content-disposition": "Content-Disposition",
    "content-encoding": "Content-Encoding",
    "content-language": "Content-Language",
    "expires": "Expires",
}


class UnsupportedCondition(ValueError):
    """A policy condition operator the emulator does not evaluate."""


@dataclass(frozen=True)
class Caller:
    """Who makes a request to S3: anonymous, a service principal, or an AWS principal ARN."""

    kind: str  # "anonymous" | "service" | "aws"
    principal: str = "*"
    context: dict[str, str] = field(default_factory=dict)  # condition keys, lower-cased

    @property
    def account(self) -> str | None:
        """The account of an AWS principal ARN (None for anonymous and services)."""
        parts = self.principal.split(":")
        return parts[4] if self.kind == "aws" and len(parts) > 4 else None


def _time_keys(now: float | None) -> dict[str, str]:
    if now is None:
        return {}
    stamp = datetime.fromtimestamp(now, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"aws:currenttime": stamp, "aws:epochtime": str(int(now))}


def anonymous(
    source_ip: str = "127.0.0.1", *, secure: bool = True, now: float | None = None
) -> Caller:
    """An unsigned request from a browser, curl or `requests` (at lab time `now`)."""
    return Caller(
        "anonymous",
        "*",
        {
            "aws:sourceip": source_ip,
            "aws:securetransport": "true" if secure else "false",
            **_time_keys(now),
        },
    )


def cloudfront(distribution_arn: str, *, now: float | None = None) -> Caller:
    """CloudFront signing an origin request with Origin Access Control for a distribution."""
    account = distribution_arn.split(":")[4]
    return Caller(
        "service",
        CLOUDFRONT_SERVICE,
        {
            "aws:sourcearn": distribution_arn,
            "aws:sourceaccount": account,
            "aws:securetransport": "true",
            **_time_keys(now),
        },
    )


def origin_access_identity(oai_id: str) -> Caller:
    """CloudFront's legacy origin access identity (OAI) as a bucket policy names it."""
    return Caller("aws", f"arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity {oai_id}")


# ---- moto's S3 state ----------------------------------------------------------------------------
def find_bucket(bucket_name: str) -> Any | None:
    """moto's bucket of that name in whichever account owns it, or None."""
    from moto.s3.models import s3_backends

    owner = s3_backends.bucket_accounts.get(bucket_name)
    if owner is None:
        return None
    partition, account = owner
    return s3_backends[account][partition].buckets.get(bucket_name)


def find_key(bucket: Any, key_name: str) -> Any | None:
    """The current version of an object (None when missing or a delete marker)."""
    from moto.s3.models import FakeKey

    key = bucket.keys.get(key_name) if key_name else None
    return key if isinstance(key, FakeKey) else None


@dataclass(frozen=True)
class PublicAccess:
    """The Block Public Access settings in force: the bucket's and the account's, combined."""

    block_public_acls: bool = False
    ignore_public_acls: bool = False
    block_public_policy: bool = False
    restrict_public_buckets: bool = False


def public_access(bucket: Any) -> PublicAccess:
    """The most restrictive combination of the bucket and account settings, as S3 applies them."""
    blocks = [bucket.public_access_block, _account_block(bucket.account_id)]
    blocks = [b for b in blocks if b is not None]
    return PublicAccess(
        *(
            any(getattr(b, name) for b in blocks)
            for name in (
                "block_public_acls",
                "ignore_public_acls",
                "block_public_policy",
                "restrict_public_buckets",
            )
        )
    )


def _account_block(account_id: str) -> Any | None:
    from moto.s3control.models import s3control_backends

    return s3control_backends[account_id]["aws"].public_access_block


def acls_enabled(bucket: Any) -> bool:
    """False under Object Ownership `BucketOwnerEnforced`, the default for new buckets since
    April 2023 (moto stores no rule then): ACLs grant nothing."""
    return bucket.ownership_rule in ("ObjectWriter", "BucketOwnerPreferred")


def bucket_policy(bucket: Any) -> dict[str, Any] | None:
    """The bucket policy as JSON, or None."""
    if not bucket.policy:
        return None
    raw = bucket.policy.decode() if isinstance(bucket.policy, bytes) else bucket.policy
    return json.loads(raw)


# ---- policy evaluation --------------------------------------------------------------------------
def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def wildcard(pattern: str, *, ignore_case: bool = False) -> re.Pattern[str]:
    """IAM wildcards: `*` any run of characters, `?` exactly one."""
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(f"^{body}$", re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def matches_any(patterns: list[str], value: str, *, ignore_case: bool = False) -> bool:
    return any(wildcard(p, ignore_case=ignore_case).match(value) for p in patterns)


def _principal_matches(spec: Any, caller: Caller) -> bool:
    if spec == "*":
        return True
    if not isinstance(spec, dict):
        return False
    for kind, values in spec.items():
        values = [str(v) for v in _as_list(values)]
        if kind == "AWS":
            if "*" in values:
                return True
            if caller.kind == "aws" and any(_aws_principal_is(v, caller) for v in values):
                return True
        elif kind == "Service" and caller.kind == "service" and caller.principal in values:
            return True
    return False


def _aws_principal_is(value: str, caller: Caller) -> bool:
    if value == caller.principal:
        return True
    account = caller.account
    return account is not None and value in (account, f"arn:aws:iam::{account}:root")


def _condition_value(context: dict[str, str], key: str) -> str | None:
    return context.get(key.lower())


_NEGATED = ("StringNot", "ArnNot", "NotIp", "NumericNot", "DateNot")


def _test(operator: str, key: str, expected: Any, context: dict[str, str]) -> bool:
    """One condition test; a missing key fails it, except for negated and ...IfExists ones."""
    op = operator.split(":", 1)[-1]  # ForAnyValue:/ForAllValues: on single-valued keys
    if_exists = op.endswith("IfExists")
    op = op.removesuffix("IfExists")
    if op != "Null" and op not in _CHECKS:
        raise UnsupportedCondition(
            f"condition operator {operator!r} is not evaluated by the offline emulator "
            "(supported: String*, Arn*, IpAddress, NotIpAddress, Numeric*, Date*, Bool, Null, "
            "...IfExists): rewrite the condition or try it on a real account"
        )
    wanted = [str(v) for v in _as_list(expected)]
    actual = _condition_value(context, key)
    if op == "Null":
        return (actual is None) == (wanted[0].lower() == "true")
    if actual is None:
        return if_exists or op.startswith(_NEGATED)
    return _CHECKS[op](actual, wanted)


def _number(value: str) -> float:
    return float(value)


def _instant(value: str) -> float:
    """A date condition value: epoch seconds or ISO 8601."""
    try:
        return float(value)
    except ValueError:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).timestamp()


def _compare(convert: Any, test: Any) -> Any:
    return lambda actual, wanted: any(test(convert(actual), convert(w)) for w in wanted)


def _ordered(family: str, convert: Any) -> dict[str, Any]:
    """The operators of one family, e.g. NumericEquals ... NumericGreaterThanEquals, on converted
    values."""
    return {
        f"{family}Equals": _compare(convert, eq),
        f"{family}NotEquals": lambda a, w: not any(convert(a) == convert(x) for x in w),
        f"{family}LessThan": _compare(convert, lt),
        f"{family}LessThanEquals": _compare(convert, le),
        f"{family}GreaterThan": _compare(convert, gt),
        f"{family}GreaterThanEquals": _compare(convert, ge),
    }


def _lower(values: list[str]) -> list[str]:
    return [v.lower() for v in values]


_CHECKS: dict[str, Any] = {
    "StringEquals": lambda a, w: a in w,
    "StringNotEquals": lambda a, w: a not in w,
    "StringEqualsIgnoreCase": lambda a, w: a.lower() in _lower(w),
    "StringNotEqualsIgnoreCase": lambda a, w: a.lower() not in _lower(w),
    "StringLike": lambda a, w: matches_any(w, a),
    "StringNotLike": lambda a, w: not matches_any(w, a),
    "ArnEquals": lambda a, w: matches_any(w, a),
    "ArnLike": lambda a, w: matches_any(w, a),
    "ArnNotEquals": lambda a, w: not matches_any(w, a),
    "ArnNotLike": lambda a, w: not matches_any(w, a),
    "IpAddress": lambda a, w: _in_networks(a, w),
    "NotIpAddress": lambda a, w: not _in_networks(a, w),
    "Bool": lambda a, w: a.lower() in _lower(w),
    **_ordered("Numeric", _number),
    **_ordered("Date", _instant),
}


def _in_networks(address: str, cidrs: list[str]) -> bool:
    ip = ipaddress.ip_address(address)
    return any(ip in ipaddress.ip_network(c, strict=False) for c in cidrs)


def _conditions_hold(block: dict[str, Any], context: dict[str, str]) -> bool:
    return all(
        _test(operator, key, expected, context)
        for operator, tests in (block or {}).items()
        for key, expected in tests.items()
    )


def _statement_applies(stmt: dict[str, Any], caller: Caller, action: str, resource: str) -> bool:
    if "NotPrincipal" in stmt:
        if _principal_matches(stmt["NotPrincipal"], caller):
            return False
    elif not _principal_matches(stmt.get("Principal"), caller):
        return False
    if "NotAction" in stmt:
        if matches_any(_as_list(stmt["NotAction"]), action, ignore_case=True):
            return False
    elif not matches_any(_as_list(stmt.get("Action")), action, ignore_case=True):
        return False
    if "NotResource" in stmt:
        if matches_any(_as_list(stmt["NotResource"]), resource):
            return False
    elif not matches_any(_as_list(stmt.get("Resource")), resource):
        return False
    return _conditions_hold(stmt.get("Condition", {}), caller.context)


def evaluate(policy: dict[str, Any] | None, caller: Caller, action: str, resource: str) -> str:
    """ALLOW, DENY (an explicit deny, which always wins) or IMPLICIT (nothing applies)."""
    decision = IMPLICIT
    for stmt in _as_list((policy or {}).get("Statement")):
        if not _statement_applies(stmt, caller, action, resource):
            continue
        if stmt.get("Effect") == "Deny":
            return DENY
        if stmt.get("Effect") == "Allow":
            decision = ALLOW
    return decision


def policy_is_public(policy: dict[str, Any] | None) -> bool:
    """True when an Allow statement grants to everyone without a fixed limiting condition."""
    return any(
        stmt.get("Effect") == "Allow" and _statement_is_public(stmt)
        for stmt in _as_list((policy or {}).get("Statement"))
    )


def _statement_is_public(stmt: dict[str, Any]) -> bool:
    if "NotPrincipal" in stmt:
        return True
    if not _grants_to_wildcard(stmt.get("Principal")):
        return False
    return not _limited_by_fixed_values(stmt.get("Condition") or {})


def _grants_to_wildcard(spec: Any) -> bool:
    if spec == "*":
        return True
    if isinstance(spec, dict):
        return any("*" in str(v) for values in spec.values() for v in _as_list(values))
    return False


def _limited_by_fixed_values(conditions: dict[str, Any]) -> bool:
    for operator, tests in conditions.items():
        op = operator.split(":", 1)[-1].removesuffix("IfExists").lower()
        for key, values in tests.items():
            values = [str(v) for v in _as_list(values)]
            if not values:
                continue
            if key.lower() == "aws:sourceip" and op == "ipaddress":
                if all(_narrow_cidr(v) for v in values):
                    return True
            elif key.lower() in _FIXED_VALUE_KEYS and op in _POSITIVE_MATCH_OPERATORS:
                if not any(c in v for v in values for c in ("*", "?", "${")):
                    return True
    return False


def _narrow_cidr(cidr: str) -> bool:
    """A CIDR no wider than /8 (IPv4) or /32 (IPv6): wider ranges count as public."""
    try:
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
    return network.prefixlen >= (8 if network.version == 4 else 32)


# ---- the access decision ------------------------------------------------------------------------
def bucket_arn(bucket_name: str) -> str:
    return f"arn:aws:s3:::{bucket_name}"


def object_arn(bucket_name: str, key_name: str) -> str:
    return f"arn:aws:s3:::{bucket_name}/{key_name}"


def may(bucket: Any, caller: Caller, action: str, key_name: str | None = None) -> bool:
    """Whether S3 lets `caller` do `action` (s3:GetObject on a key, s3:ListBucket on the bucket).

    Order: an explicit deny in the bucket policy wins; an allow counts unless Block Public Access
    `RestrictPublicBuckets` is on and the policy is public (then only service principals and
    the account's own principals get in); otherwise a public-read ACL grants reads, unless the
    bucket has ACLs disabled (Object Ownership) or `IgnorePublicAcls` is on.
    """
    resource = bucket_arn(bucket.name) if key_name is None else object_arn(bucket.name, key_name)
    policy = bucket_policy(bucket)
    decision = evaluate(policy, caller, action, resource)
    if decision == DENY:
        return False
    block = public_access(bucket)
    if decision == ALLOW:
        if block.restrict_public_buckets and policy_is_public(policy):
            return caller.kind == "service" or caller.account == bucket.account_id
        return True
    if not acls_enabled(bucket) or block.ignore_public_acls:
        return False
    return _acl_grants(bucket, action, key_name)


def _acl_grants(bucket: Any, action: str, key_name: str | None) -> bool:
    if action.lower() == "s3:getobject" and key_name is not None:
        key = find_key(bucket, key_name)
        return bool(key is not None and key.acl is not None and key.acl.public_read)
    if action.lower() == "s3:listbucket":
        return bool(bucket.acl is not None and bucket.acl.public_read)
    return False


@dataclass
class Read:
    """S3's decision on a read of one key: 200 with the object, 403, or 404 (with the code)."""

    status: int
    code: str | None = None
    bucket: Any = None
    key: Any = None


def read(bucket_name: str, key_name: str, caller: Caller) -> Read:
    """Look the object up as S3 does for `caller`.

    A missing key answers 404 NoSuchKey only when the caller may also s3:ListBucket, else 403
    (GetObject, "Permissions": https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html).
    """
    bucket = find_bucket(bucket_name)
    if bucket is None:
        return Read(404, "NoSuchBucket")
    if not may(bucket, caller, "s3:GetObject", key_name):
        return Read(403, "AccessDenied", bucket)
    key = find_key(bucket, key_name)
    if key is None:
        if may(bucket, caller, "s3:ListBucket"):
            return Read(404, "NoSuchKey", bucket)
        return Read(403, "AccessDenied", bucket)
    return Read(200, None, bucket, key)


# ---- S3's HTTP answers --------------------------------------------------------------------------
def request_id() -> str:
    """An S3 request id: 16 upper-case hex digits."""
    return os.urandom(8).hex().upper()


def host_id() -> str:
    """An S3 extended request id (x-amz-id-2)."""
    return base64.b64encode(os.urandom(56)).decode()


def s3_headers(rid: str, hid: str) -> list[tuple[str, str]]:
    return [("x-amz-request-id", rid), ("x-amz-id-2", hid), ("Server", "AmazonS3")]


def xml_error(
    status: int,
    code: str,
    message: str,
    *,
    extra: dict[str, str] | None = None,
    method: str = "GET",
) -> Response:
    """S3's REST error: the XML body AWS sends, `application/xml` (no body for HEAD)."""
    rid, hid = request_id(), host_id()
    fields = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in (extra or {}).items())
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{escape(message)}</Message>{fields}"
        f"<RequestId>{rid}</RequestId><HostId>{hid}</HostId></Error>"
    ).encode()
    headers = [("Content-Type", "application/xml"), *s3_headers(rid, hid)]
    return Response(status, headers, b"" if method == "HEAD" else body)


ERROR_MESSAGES = {
    "AccessDenied": "Access Denied",
    "NoSuchKey": "The specified key does not exist.",
    "NoSuchBucket": "The specified bucket does not exist",
}


def read_error(result: Read, bucket_name: str, key_name: str, method: str = "GET") -> Response:
    """The REST endpoint's XML answer for a Read that is not a 200."""
    assert result.code is not None
    extra = {"Key": key_name} if result.code == "NoSuchKey" else {}
    if result.code == "NoSuchBucket":
        extra = {"BucketName": bucket_name}
    return xml_error(
        result.status, result.code, ERROR_MESSAGES[result.code], extra=extra, method=method
    )


def object_headers(key: Any) -> list[tuple[str, str]]:
    """The headers S3 sends with an object: its stored ones, ETag, Last-Modified, length."""
    headers = [
        ("Last-Modified", formatdate(key.last_modified.timestamp(), usegmt=True)),
        ("ETag", key.etag),
        ("Accept-Ranges", "bytes"),
        ("Content-Length", str(key.size)),
    ]
    metadata = {k.lower(): v for k, v in key.metadata.items()}
    headers.append(("Content-Type", metadata.get("content-type", "binary/octet-stream")))
    for name in _OBJECT_HEADERS[1:]:
        if name in metadata:
            headers.append((_HEADER_NAMES.get(name, name), metadata[name]))
    headers.extend((k, v) for k, v in metadata.items() if k.startswith("x-amz-meta-"))
    if key.encryption:
        headers.append(("x-amz-server-side-encryption", key.encryption))
    if getattr(key, "_version_id", None) and key.version_id != "null":
        headers.append(("x-amz-version-id", str(key.version_id)))
    return headers


def not_modified(key: Any, request_headers: Any) -> bool:
    """If-None-Match / If-Modified-Since say the caller's copy is current (RFC 9110)."""
    etag = key.etag
    if_none_match = request_headers.get("If-None-Match")
    if if_none_match:
        tags = [t.strip() for t in if_none_match.split(",")]
        return "*" in tags or etag in tags or etag.strip('"') in tags
    since = request_headers.get("If-Modified-Since")
    if since:
        try:
            return int(key.last_modified.timestamp()) <= parsedate_to_datetime(since).timestamp()
        except (TypeError, ValueError):
            return False
    return False


def object_response(key: Any, method: str, request_headers: Any) -> Response:
    """200 (or 206 for a byte range, 304 when not modified) with the object, as S3 answers."""
    rid, hid = request_id(), host_id()
    headers = object_headers(key)
    if not_modified(key, request_headers):
        kept = [(k, v) for k, v in headers if k in ("Last-Modified", "ETag", "Cache-Control")]
        return Response(304, [*kept, *s3_headers(rid, hid)], b"")
    body = key.value
    status = 200
    span = _byte_range(request_headers.get("Range"), len(body))
    if span is not None:
        start, end = span
        headers = [(k, v) for k, v in headers if k != "Content-Length"]
        headers += [
            ("Content-Range", f"bytes {start}-{end}/{len(body)}"),
            ("Content-Length", str(end - start + 1)),
        ]
        body, status = body[start : end + 1], 206
    headers += [("Date", formatdate(usegmt=True)), *s3_headers(rid, hid)]
    return Response(status, headers, b"" if method == "HEAD" else body)


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """A single `bytes=a-b`, `a-` or `-n` range inside the object; anything else: whole body."""
    match = re.fullmatch(r"bytes=(\d*)-(\d*)", (header or "").strip())
    if not match or size == 0 or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":
        start, end = max(size - int(last), 0), size - 1
    else:
        start, end = int(first), min(int(last) if last else size - 1, size - 1)
    return (start, end) if start <= end else None


# ---- S3's control plane, where moto is more permissive than AWS ---------------------------------
def install(emulator: Any) -> None:
    """New buckets get Block Public Access on, and public policies are refused while it is."""
    from moto.s3 import models as s3_models

    original_create = s3_models.S3Backend.create_bucket

    def create_bucket(backend: Any, bucket_name: str, *args: Any, **kwargs: Any) -> Any:
        bucket = original_create(backend, bucket_name, *args, **kwargs)
        # since April 2023 every new bucket starts with all four settings on
        # (https://docs.aws.amazon.com/AmazonS3/latest/userguide/create-bucket-overview.html)
        bucket.public_access_block = s3_models.PublicAccessBlock(True, True, True, True)
        return bucket

    original_put_policy = s3_models.S3Backend.put_bucket_policy

    def put_bucket_policy(backend: Any, bucket_name: str, policy: bytes) -> None:
        bucket = backend.get_bucket(bucket_name)
        text = policy.decode() if isinstance(policy, bytes) else policy
        try:
            document = json.loads(text)
        except ValueError:
            document = None
        if public_access(bucket).block_public_policy and policy_is_public(document):
            raise _public_policy_blocked(bucket)
        return original_put_policy(backend, bucket_name, policy)

    emulator._patch(s3_models.S3Backend, "create_bucket", create_bucket)
    emulator._patch(s3_models.S3Backend, "put_bucket_policy", put_bucket_policy)


def _public_policy_blocked(bucket: Any) -> Exception:
    from moto.s3.exceptions import S3ClientError

    error = S3ClientError(
        "AccessDenied",
        f"User: arn:aws:iam::{bucket.account_id}:root is not authorized to perform: "
        f's3:PutBucketPolicy on resource: "arn:aws:s3:::{bucket.name}" because public policies '
        "are blocked by the BlockPublicPolicy block public access setting.",
    )
    return error
