"""Checks of lab 03 · Paid content: private videos behind OAC, a trusted key group, the signer.

Each check finds the lab's resources by their lab names (the videos bucket `videos`, the table
`premium-users`, the secret `cloudfront-signing-key`, the function `signer`; the distribution is
the one whose origin is the videos bucket), reads their configuration with boto3 and then asks
CloudFront over HTTPS, as a viewer would. On a real account a distribution change takes minutes to
reach the edge: the checks wait for it with `lab.settle`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from . import Mistake, check, expect
from .policies import as_list, wildcard

LAB = "03-paid-content"
VIDEO_KEY = "videos/intro.webp"  # the premium video, behind the `/videos/*` behaviour
VIDEO_ID = "intro"
TRAILER_KEY = "public/trailer.webp"  # free content, behind the default behaviour
PREMIUM, NOT_PREMIUM, STRANGER = "ana@example.com", "ben@example.com", "zed@example.com"
URL_TTL = 300  # the signer's links live five minutes
CLOCK_SLACK = 5  # seconds of clock difference tolerated between the check and the function
ERROR_CACHING_S = 10  # CloudFront caches a 403 from the origin for 10 s by default
DEPLOY_TIMEOUT = 1200  # on AWS a distribution change reaches every edge location in minutes
PUBLIC_CONDITION_KEYS = {"aws:sourcearn", "aws:sourceaccount", "aws:sourcevpce", "aws:sourceip"}


# ---- finding the lab's resources ----------------------------------------------------------------
def _bucket(lab: Any) -> str:
    bucket = lab.name("videos")
    try:
        lab.client("s3").head_bucket(Bucket=bucket)
    except Exception:
        raise Mistake(
            f"there is no bucket {bucket}: run the setup cells at the top of the notebook first"
        ) from None
    return bucket


def _distribution(lab: Any, bucket: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(id, summary, config) of the distribution whose origin is the videos bucket."""
    cf = lab.client("cloudfront")
    pages = cf.get_paginator("list_distributions").paginate()
    for summary in (s for page in pages for s in page["DistributionList"].get("Items") or []):
        origins = summary["Origins"].get("Items") or []
        if any(o["DomainName"].split(".s3.")[0] == bucket for o in origins):
            config = cf.get_distribution_config(Id=summary["Id"])["DistributionConfig"]
            return summary["Id"], summary, config
    raise Mistake(
        f"no distribution has the bucket {bucket} as its origin: run the setup cell that "
        "creates the distribution"
    )


def _videos_behaviour(config: dict[str, Any]) -> dict[str, Any]:
    for behaviour in (config.get("CacheBehaviors") or {}).get("Items") or []:
        if behaviour["PathPattern"].lstrip("/") == "videos/*":
            return behaviour
    raise Mistake(
        "the distribution has no cache behaviour for `/videos/*`: keep the one the setup cell "
        "made (update_distribution replaces the whole configuration: start from "
        "get_distribution_config and change only what the exercise asks)"
    )


def _signing_key(lab: Any) -> dict[str, str]:
    """The secret the signer reads: {"keyPairId", "privateKey"}."""
    name = lab.name("cloudfront-signing-key")
    try:
        value = lab.client("secretsmanager").get_secret_value(SecretId=name)["SecretString"]
    except Exception:
        raise Mistake(
            f"there is no secret {name}: run the setup cell that makes the signing key pair"
        ) from None
    return json.loads(value)


def _object(lab: Any, bucket: str, key: str) -> bytes:
    return lab.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()


# ---- HTTP, as a viewer ---------------------------------------------------------------------------
def _get(url: str) -> requests.Response:
    return requests.get(url, allow_redirects=False, timeout=30)


def _eventually(
    lab: Any,
    url: str | Callable[[], str],
    ok: Callable[[requests.Response], bool],
    *,
    timeout: float,
) -> requests.Response:
    """GET url until ok(response). On AWS: poll while a change reaches the edge. Offline: once,
    and once more when CloudFront's cached error of an earlier try has expired. A callable `url`
    is called for each attempt: a signed URL that expires is signed anew each time."""
    last: list[requests.Response] = []

    def attempt() -> bool:
        last[:] = [_get(url() if callable(url) else url)]
        return ok(last[0])

    if lab.offline:
        if not attempt():
            lab.clock.advance(ERROR_CACHING_S + 1)
            attempt()
        return last[0]
    try:
        lab.settle(until=attempt, timeout=timeout, interval=15)
    except TimeoutError:
        pass
    return last[0]


def _edge_code(response: requests.Response) -> str | None:
    """CloudFront's own refusal code (MissingKey, InvalidKey, AccessDenied), else None."""
    text = response.text
    if response.status_code != 403 or "<Code>" not in text:
        return None
    code = text.split("<Code>", 1)[1].split("</Code>", 1)[0]
    if code == "AccessDenied" and "<RequestId>" in text:
        return "S3:AccessDenied"  # S3's refusal, passed on by CloudFront
    return code


def _cf_base64(data: bytes) -> str:
    return base64.b64encode(data).decode().translate(str.maketrans("+=/", "-_~"))


def _signed_url(url: str, key: dict[str, str], expires: int) -> str:
    """A canned-policy signed URL (SHA-1), made with the signer's own key from the secret."""
    policy = (
        '{"Statement":[{"Resource":"' + url + '","Condition":{"DateLessThan":'
        '{"AWS:EpochTime":' + str(expires) + "}}}]}"
    ).encode()
    private = serialization.load_pem_private_key(key["privateKey"].encode(), password=None)
    signature = private.sign(policy, padding.PKCS1v15(), hashes.SHA1())  # type: ignore[union-attr]
    return (
        f"{url}?Expires={expires}&Signature={_cf_base64(signature)}&Key-Pair-Id={key['keyPairId']}"
    )


# ---- exercise 1 ---------------------------------------------------------------------------------
def _principals(statement: dict[str, Any]) -> tuple[bool, list[str]]:
    """(grants to everyone, the service principals named)."""
    principal = statement.get("Principal")
    if principal == "*":
        return True, []
    if not isinstance(principal, dict):
        return False, []
    everyone = "*" in as_list(principal.get("AWS", []))
    return everyone, [str(s) for s in as_list(principal.get("Service", []))]


def _positive(operator: str) -> bool:
    """An operator that a value must match (StringEquals, ArnLike, ...IfExists), not one that it
    must not (StringNotEquals, ArnNotLike)."""
    base = operator.lower().split(":")[-1].removesuffix("ifexists")
    return base in {"stringequals", "stringlike", "arnequals", "arnlike"}


def _condition_values(statement: dict[str, Any], key: str) -> list[str]:
    """The values `key` must match under a positive operator (StringNotEquals does not count)."""
    found = []
    for operator, block in (statement.get("Condition") or {}).items():
        if not _positive(str(operator)):
            continue
        for name, values in (block or {}).items():
            if name.lower() == key.lower():
                found += [str(v) for v in as_list(values)]
    return found


def _limited(statement: dict[str, Any]) -> bool:
    keys = {name.lower() for block in (statement.get("Condition") or {}).values() for name in block}
    return bool(keys & PUBLIC_CONDITION_KEYS)


def _allows_get(statement: dict[str, Any]) -> bool:
    actions = [str(a).lower() for a in as_list(statement.get("Action", []))]
    return any(wildcard(a, "s3:getobject") for a in actions)


def _covers(statement: dict[str, Any], arn: str) -> bool:
    return any(wildcard(str(r), arn) for r in as_list(statement.get("Resource", [])))


@check(LAB, "Private videos: only the distribution reads the bucket")
def private_videos(lab: Any) -> str:
    """Block Public Access on, no public statement, OAC on the origin, a bucket policy for this
    distribution only; CloudFront reads the bucket and S3 refuses everyone else."""
    s3, cf = lab.client("s3"), lab.client("cloudfront")
    bucket = _bucket(lab)
    dist_id, summary, config = _distribution(lab, bucket)
    dist_arn = summary["ARN"]

    try:
        policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    except s3.exceptions.ClientError:
        policy = {"Statement": []}
    statements = [s for s in as_list(policy.get("Statement", [])) if s.get("Effect") == "Allow"]
    for statement in statements:
        everyone, _ = _principals(statement)
        expect(
            not everyone or _limited(statement),
            "the bucket policy lets anyone read objects (Principal `*`): remove that statement; "
            "the only reader is the distribution, as the service principal "
            "cloudfront.amazonaws.com",
        )

    try:
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    except s3.exceptions.ClientError:
        block = {}
    off = [
        name
        for name in (
            "BlockPublicAcls",
            "IgnorePublicAcls",
            "BlockPublicPolicy",
            "RestrictPublicBuckets",
        )
        if not block.get(name)
    ]
    expect(
        not off,
        f"Block Public Access is off on {bucket} ({', '.join(off)}): turn all four settings back "
        "on with put_public_access_block; CloudFront with OAC does not need the bucket public",
    )
    origin = next(
        o for o in config["Origins"]["Items"] if o["DomainName"].split(".s3.")[0] == bucket
    )
    expect(
        not (origin.get("S3OriginConfig") or {}).get("OriginAccessIdentity"),
        f"the origin `{origin['Id']}` uses a legacy origin access identity (OAI): use an Origin "
        "Access Control instead, and set S3OriginConfig.OriginAccessIdentity to ''",
    )
    control_id = origin.get("OriginAccessControlId") or ""
    expect(
        control_id,
        f"the distribution's origin `{origin['Id']}` has no Origin Access Control: create one "
        "(create_origin_access_control, SigningProtocol sigv4, SigningBehavior always, "
        "OriginAccessControlOriginType s3) and set the origin's OriginAccessControlId with "
        "update_distribution",
    )
    control = cf.get_origin_access_control(Id=control_id)["OriginAccessControl"]
    control_config = control["OriginAccessControlConfig"]
    expect(
        control_config.get("OriginAccessControlOriginType") == "s3",
        "the Origin Access Control is not for S3: set OriginAccessControlOriginType to s3",
    )
    expect(
        control_config.get("SigningBehavior") == "always",
        f"the Origin Access Control's SigningBehavior is {control_config.get('SigningBehavior')}: "
        "with `always` CloudFront signs every request to the bucket, so a private bucket can "
        "let it in",
    )

    video_arn = f"arn:aws:s3:::{bucket}/{VIDEO_KEY}"
    for_cloudfront = [
        s for s in statements if "cloudfront.amazonaws.com" in _principals(s)[1] and _allows_get(s)
    ]
    expect(
        for_cloudfront,
        f"no statement of the bucket policy lets CloudFront read: allow Principal "
        f'{{"Service": "cloudfront.amazonaws.com"}} the Action s3:GetObject on '
        f"arn:aws:s3:::{bucket}/* (put_bucket_policy)",
    )
    covering = [s for s in for_cloudfront if _covers(s, video_arn)]
    expect(
        covering,
        f"CloudFront's statement does not cover the objects: s3:GetObject acts on objects, so "
        f"the Resource is arn:aws:s3:::{bucket}/* (with `/*`), not the bucket's ARN",
    )
    # every statement that lets CloudFront read must name this distribution: one without the
    # condition lets every distribution, anyone's, read, whatever the other statements say
    for statement in for_cloudfront:
        arns = _condition_values(statement, "AWS:SourceArn")
        expect(
            arns,
            "a statement lets every CloudFront distribution read the bucket, anyone's: add the "
            f'Condition {{"StringEquals": {{"AWS:SourceArn": "{dist_arn}"}}}} to each statement '
            "for cloudfront.amazonaws.com (StringNotEquals excludes one distribution, it does "
            "not limit the rest)",
        )
        expect(
            dist_arn in arns,
            f"the AWS:SourceArn condition names {', '.join(arns)}, not this distribution: use its "
            f"ARN {dist_arn}",
        )

    trailer = _eventually(
        lab,
        f"https://{summary['DomainName']}/{TRAILER_KEY}",
        lambda r: r.status_code == 200,
        timeout=DEPLOY_TIMEOUT,
    )
    expect(
        trailer.status_code == 200 and trailer.content == _object(lab, bucket, TRAILER_KEY),
        f"CloudFront could not read {TRAILER_KEY} from the bucket ({trailer.status_code}): check "
        "that update_distribution kept the OAC on the origin and that the distribution is "
        "deployed",
    )
    direct = _get(f"https://{bucket}.s3.{lab.region}.amazonaws.com/{TRAILER_KEY}")
    expect(
        direct.status_code == 403,
        f"S3 answered {direct.status_code} to an anonymous request that went around CloudFront: "
        "the bucket must stay private (Block Public Access on, no public ACL or policy)",
    )
    return "the OAC-signed distribution reads the bucket (200); S3 refuses everyone else (403)"


# ---- exercise 2 ---------------------------------------------------------------------------------
@check(LAB, "Key group: `/videos/*` serves only signed requests")
def key_group(lab: Any) -> str:
    """The `/videos/*` behaviour trusts a key group holding the signer's public key, HTTPS only;
    unsigned requests get MissingKey and a URL signed with the signer's key gets the video."""
    cf = lab.client("cloudfront")
    bucket = _bucket(lab)
    dist_id, summary, config = _distribution(lab, bucket)
    videos = _videos_behaviour(config)
    trusted = videos.get("TrustedKeyGroups") or {}
    groups = trusted.get("Items") or []
    if not (trusted.get("Enabled") and groups):
        default_groups = (config["DefaultCacheBehavior"].get("TrustedKeyGroups") or {}).get("Items")
        expect(
            not default_groups,
            "the default behaviour trusts a key group, but the behaviour for `/videos/*` does "
            "not: requests for videos match `/videos/*` first; set TrustedKeyGroups there (and "
            "leave the default behaviour public, for the trailer)",
        )
        legacy = (videos.get("TrustedSigners") or {}).get("Enabled")
        raise Mistake(
            "the behaviour for `/videos/*` trusts no key group"
            + (" (TrustedSigners are the legacy root-account key pairs)" if legacy else "")
            + ": create a key group with the signing public key (create_key_group) and set the "
            'behaviour\'s TrustedKeyGroups {"Enabled": True, "Quantity": 1, "Items": [group id]} '
            "with update_distribution"
        )
    key = _signing_key(lab)
    members: list[str] = []
    for group_id in groups:
        group = cf.get_key_group(Id=group_id)["KeyGroup"]["KeyGroupConfig"]
        members += group.get("Items") or []
    expect(
        key["keyPairId"] in members,
        f"the key group holds public key {', '.join(members) or '(none)'}, but the signer's "
        f"private key (in Secrets Manager) belongs to public key {key['keyPairId']}: put that key "
        "in the group (a key group trusts public keys; each verifies only its own private key's "
        "signatures)",
    )
    expect(
        videos["ViewerProtocolPolicy"] != "allow-all",
        "the behaviour for `/videos/*` allows HTTP (ViewerProtocolPolicy allow-all): a signed URL "
        "sent in clear text can be copied and replayed until it expires; set it to "
        "redirect-to-https or https-only",
    )

    domain = summary["DomainName"]
    video_url = f"https://{domain}/{VIDEO_KEY}"
    unsigned = _eventually(
        lab, video_url, lambda r: _edge_code(r) == "MissingKey", timeout=DEPLOY_TIMEOUT
    )
    expect(
        _edge_code(unsigned) == "MissingKey",
        f"an unsigned request for the video got {unsigned.status_code}, not CloudFront's 403 "
        "MissingKey: wait until the distribution is deployed "
        "(cf.get_waiter('distribution_deployed')), then run the check again",
    )
    signed = _eventually(  # signed anew for each attempt: on AWS the wait outlasts a URL
        lab,
        lambda: _signed_url(video_url, key, int(lab.clock.now()) + 120),
        lambda r: r.status_code == 200,
        timeout=DEPLOY_TIMEOUT,
    )
    code = _edge_code(signed)
    expect(
        code != "InvalidKey",
        f"a URL signed with the signer's key got 403 InvalidKey: CloudFront does not trust public "
        f"key {key['keyPairId']} on `/videos/*` yet",
    )
    expect(
        code != "S3:AccessDenied",
        "a correctly signed request passed the edge, but S3 refused CloudFront: finish "
        "exercise 1 (the OAC on the origin and the bucket policy)",
    )
    expect(
        signed.status_code == 200 and signed.content == _object(lab, bucket, VIDEO_KEY),
        f"a URL signed with the signer's key got {signed.status_code} {signed.text[:200]}",
    )
    plain = _get(f"http://{domain}/{VIDEO_KEY}")
    expect(
        plain.status_code in (301, 403),
        f"the video answered {plain.status_code} over HTTP: set the behaviour's "
        "ViewerProtocolPolicy to redirect-to-https or https-only",
    )
    return (
        "`/videos/*` trusts the signer's public key over HTTPS only: unsigned requests get 403 "
        "MissingKey, a signed URL gets the video"
    )


# ---- exercise 3 ---------------------------------------------------------------------------------
def api_event(lab: Any, email: str, video_id: str = VIDEO_ID) -> dict[str, Any]:
    """What API Gateway passes the signer for GET /videos/{id}/url once its Cognito authorizer
    has verified the caller (the fields the signer reads)."""
    return {
        "resource": "/videos/{id}/url",
        "path": f"/videos/{video_id}/url",
        "httpMethod": "GET",
        "headers": {"Accept": "application/json"},
        "queryStringParameters": None,
        "pathParameters": {"id": video_id},
        "requestContext": {
            "resourcePath": "/videos/{id}/url",
            "httpMethod": "GET",
            "stage": "api",
            "identity": {"sourceIp": "198.51.100.23"},
            "authorizer": {"claims": {"email": email, "email_verified": "true"}},
            "requestTimeEpoch": int(lab.clock.now() * 1000),
        },
        "body": None,
        "isBase64Encoded": False,
    }


def _invoke(
    lab: Any, name: str, email: str, who: str, hint: str = ""
) -> tuple[int, dict[str, Any], float]:
    """(statusCode, parsed body, the request's epoch seconds) of the signer for `email`."""
    event = api_event(lab, email)
    resp = lab.client("lambda").invoke(FunctionName=name, Payload=json.dumps(event).encode())
    raw = resp["Payload"].read()
    try:
        answer = json.loads(raw or b"null")
    except ValueError:
        answer = raw.decode(errors="replace")
    if resp.get("FunctionError"):
        error = answer if isinstance(answer, dict) else {}
        kind, message = error.get("errorType", "Error"), error.get("errorMessage", str(answer))
        if "HandlerNotFound" in kind or "ImportModuleError" in kind:
            hint = ": write handler(event, context) in my-functions/signer/app.py"
        elif kind == "KeyError" and not hint:
            hint = (
                " (the event is API Gateway's: the caller's email is in "
                "requestContext.authorizer.claims.email, the video id in pathParameters.id)"
            )
        raise Mistake(f"for {who} the signer raised {kind}: {message[:300]}{hint}")
    expect(
        isinstance(answer, dict) and isinstance(answer.get("statusCode"), int),
        f"for {who} the signer returned {str(answer)[:200]}: return an API Gateway proxy "
        '(Lambda proxy) response, {"statusCode": 200, "body": json.dumps({"url": ...})}',
    )
    body = answer.get("body")
    if body in (None, ""):
        parsed: Any = {}
    elif isinstance(body, str):
        try:
            parsed = json.loads(body)
        except ValueError:
            raise Mistake(f"for {who} the body is not JSON: {body[:200]}") from None
    else:
        raise Mistake(
            f"for {who} the body is a {type(body).__name__}: API Gateway sends `body` as it is, "
            "a string; use json.dumps(...)"
        )
    return (
        answer["statusCode"],
        parsed if isinstance(parsed, dict) else {},
        event["requestContext"]["requestTimeEpoch"] / 1000,
    )


def _expiry(params: dict[str, str]) -> int | None:
    if params.get("Expires", "").isdigit():
        return int(params["Expires"])
    if "Policy" in params:
        try:
            policy = json.loads(
                base64.b64decode(params["Policy"].translate(str.maketrans("-_~", "+=/")))
            )
            return int(policy["Statement"][0]["Condition"]["DateLessThan"]["AWS:EpochTime"])
        except (ValueError, KeyError, IndexError, TypeError):
            return None
    return None


def _tampered(url: str, params: dict[str, str]) -> str:
    """The URL with a later Expires (canned) or one changed signature character (custom)."""
    base = url.split("?", 1)[0]
    changed = dict(params)
    if "Expires" in changed:
        changed["Expires"] = str(int(changed["Expires"]) + 3600)
    else:
        sig = changed["Signature"]
        changed["Signature"] = sig[:-6] + ("A" if sig[-6] != "A" else "B") + sig[-5:]
    return base + "?" + "&".join(f"{k}={v}" for k, v in changed.items())


@check(LAB, "The signer: five-minute links for premium users only")
def signer(lab: Any) -> str:
    """Premium user: a signed CloudFront URL (the signer's key, five minutes) that gets the
    video; non-premium and unknown users: 403; tampered and expired links: CloudFront's 403."""
    name = lab.name("signer")
    try:
        lab.client("lambda").get_function(FunctionName=name)
    except Exception:
        raise Mistake(
            f"there is no function {name}: write handler(event, context) in "
            "my-functions/signer/app.py, then run the cell that deploys it"
        ) from None
    bucket = _bucket(lab)
    _, summary, _ = _distribution(lab, bucket)
    domain = summary["DomainName"]
    key = _signing_key(lab)

    status, body, requested = _invoke(lab, name, PREMIUM, f"premium user {PREMIUM}")
    expect(
        status == 200,
        f"{PREMIUM} is premium, but the signer answered {status} {body}: look the caller's email "
        "up in the table and sign when the item's `premium` attribute is true (a boolean; "
        'the low-level client shows it as {"premium": {"BOOL": true}})',
    )
    url = body.get("url")
    expect(
        isinstance(url, str) and url.startswith("http"),
        f'the signer\'s body {json.dumps(body)[:200]} has no "url": answer {{"url": signed_url}}',
    )
    parts = urlsplit(url)
    expect(
        "amazonaws.com" not in parts.netloc,
        f"the signer signed the S3 URL ({parts.netloc}): the bucket is private and only CloudFront "
        f"checks these signatures; sign https://{domain}/{VIDEO_KEY}",
    )
    expect(
        parts.scheme == "https" and parts.netloc == domain and parts.path == f"/{VIDEO_KEY}",
        f"the signer signed {parts.scheme}://{parts.netloc}{parts.path}: sign "
        f"https://{domain}/{VIDEO_KEY} (the distribution's domain, the video's key)",
    )
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    missing = [p for p in ("Signature", "Key-Pair-Id") if p not in params]
    if "Expires" not in params and "Policy" not in params:
        missing.insert(0, "Expires")
    expect(
        not missing,
        f"the URL lacks {', '.join(missing)}: a canned-policy signed URL ends in "
        "?Expires=...&Signature=...&Key-Pair-Id=...",
    )
    group_ids = {
        g["KeyGroup"]["Id"]
        for g in (lab.client("cloudfront").list_key_groups()["KeyGroupList"].get("Items") or [])
    }
    expect(
        params["Key-Pair-Id"] not in group_ids,
        f"the URL's Key-Pair-Id {params['Key-Pair-Id']} is a key group's id: CloudFront wants "
        f"the public key's id, {key['keyPairId']} (the secret's keyPairId)",
    )
    expect(
        params["Key-Pair-Id"] == key["keyPairId"],
        f"the URL's Key-Pair-Id is {params['Key-Pair-Id']}, not the id of the public key that "
        f"matches the signer's private key: use {key['keyPairId']}, the secret's keyPairId",
    )
    expires = _expiry(params)
    expect(expires is not None, "the URL's Expires is not a whole number of seconds")
    expect(
        expires < 10**11,
        f"Expires={expires} is in milliseconds: CloudFront wants seconds since the epoch "
        "(requestTimeEpoch is in milliseconds: divide by 1000)",
    )
    lifetime = expires - requested
    expect(
        lifetime > 0,
        f"the link expired {-lifetime:.0f} s before it was sent: count the five minutes from the "
        "event's requestContext.requestTimeEpoch (milliseconds), when API Gateway received the "
        "request",
    )
    expect(
        lifetime <= URL_TTL + CLOCK_SLACK,
        f"the link lives {lifetime / 60:.0f} minutes ({lifetime:.0f} s): links to paid videos "
        "must expire within 5 minutes (Expires = request time + 300)",
    )
    # the raw query: parse_qsl would read a plain-base64 `+` as a space
    raw = dict(p.partition("=")[::2] for p in parts.query.split("&") if p)
    expect(
        not any(c in unquote(raw.get("Signature", "")) for c in "+/="),
        "the Signature is plain base64: CloudFront's URL-safe base64 replaces + with -, = with _ "
        "and / with ~",
    )

    video = _eventually(lab, url, lambda r: r.status_code == 200, timeout=DEPLOY_TIMEOUT)
    code = _edge_code(video)
    expect(
        code != "AccessDenied",
        "CloudFront refused the signed URL (403 AccessDenied): the signature does not verify. "
        "Sign the canned policy exactly as CloudFront rebuilds it, no spaces: "
        '{"Statement":[{"Resource":"<url>","Condition":{"DateLessThan":{"AWS:EpochTime":'
        "<Expires>}}}]}, with RSA PKCS#1 v1.5 and SHA-1 (or SHA-256 and &Hash-Algorithm=SHA256)",
    )
    expect(
        video.status_code == 200 and video.content == _object(lab, bucket, VIDEO_KEY),
        f"the signed URL got {video.status_code} {video.text[:200]}"
        + (": finish exercises 1 and 2 first" if code else ""),
    )
    tampered = _get(_tampered(url, params))
    expect(
        tampered.status_code == 403,
        f"a tampered URL (a later Expires) got {tampered.status_code}: the behaviour for "
        "`/videos/*` does not check signatures; trust the key group there (exercise 2)",
    )

    unknown = " (an unknown user has no item: get_item's answer then has no `Item`; answer 403)"
    for email, who, hint in (
        (NOT_PREMIUM, "non-premium user", ""),
        (STRANGER, "unknown user", unknown),
    ):
        status, body, _ = _invoke(lab, name, email, f"{who} {email}", hint)
        expect(
            status == 403 and "url" not in body,
            f"the {who} {email} got {status} {json.dumps(body)[:120]}: only premium users get a "
            'link; answer 403 (e.g. {"message": "videos are for premium members"})',
        )

    if lab.offline:  # five minutes pass at once offline; on AWS, Expires was checked above
        lab.clock.advance(URL_TTL + 1)
        expired = _get(url)
        expect(
            expired.status_code == 403,
            f"the link still works {URL_TTL + 1} s later ({expired.status_code}): set Expires "
            "to the request time + 300 s",
        )
    return (
        "premium users get a 5-minute link that CloudFront serves; others get 403; tampered and "
        "expired links are refused"
    )
