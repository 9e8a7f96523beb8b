"""The video signer, invoked with API Gateway REST proxy events as a Cognito authorizer passes them.

Contract (CloudFront developer guide, "Create a signed URL using a canned policy" / "... custom
policy", "Set signed cookies"): a canned-policy URL carries `Expires`, `Signature`, `Key-Pair-Id`
and its signature is RSA PKCS#1 v1.5 over the canned policy's exact bytes (SHA-1, or SHA-256 with
`Hash-Algorithm=SHA256`), in CloudFront's base64; a custom-policy URL carries `Policy` instead of
`Expires`; signed cookies are `CloudFront-Policy`, `CloudFront-Signature`, `CloudFront-Key-Pair-Id`
(and `CloudFront-Hash-Algorithm`). The reference implementation is botocore's `CloudFrontSigner`
(SHA-1), and the canned-policy template is rebuilt here from the guide. Deadlines count from
`requestContext.requestTimeEpoch`; only premium members get signatures.
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-signed-urls.html
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-setting-signed-cookie-custom-policy.html
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from tests.paid_content.support import (
    LAPSED,
    MEMBER,
    STRANGER,
    VIEWER_IP,
    canned,
    cf_b64decode,
    claims_for,
    invoke,
    new_key,
    sample_event,
    secret_value,
    set_cookies,
    split_url,
    verifies,
)

WHEN_MS = 1793610847123  # 2026-11-02 09:14:07.123 UTC: a request time with milliseconds
WHEN = WHEN_MS // 1000
SHORT_URL_TTL, SHORT_COOKIE_TTL = 120, 600
EXTRA = {  # objects the catalogue must leave out, beside conftest's videos
    "videos/serverless/serverless-04.mp4": b"not a webp",
    "videos/serverless/Serverless-05.webp": b"upper case",
    "videos/serverless/serverless-6.webp": b"one digit",
    "videos/serverless/notes.txt": b"notes",
    "videos/readme.webp": b"no episode",
    "videos/serverless/serverless-07.webp.bak": b"a backup",
}


@pytest.fixture(scope="module")
def videos():
    from tests.paid_content.conftest import VIDEOS

    return {**VIDEOS, **EXTRA}


@pytest.fixture(scope="module")
def sha1_signer(deploy_app, signer_env):
    """The signer with HASH_ALGORITHM=SHA1 and shorter deadlines: botocore's algorithm."""
    env = {
        **signer_env,
        "HASH_ALGORITHM": "SHA1",
        "URL_TTL": str(SHORT_URL_TTL),
        "COOKIE_TTL": str(SHORT_COOKIE_TTL),
    }
    return deploy_app("signer", base="signer-sha1", requirements=("cryptography",), env=env)


@pytest.fixture
def botocore_signer(key, key_pair_id):
    """AWS's documented boto3 recipe, with `cryptography` as the RSA (SHA-1) signer."""
    return CloudFrontSigner(
        key_pair_id, lambda message: key.sign(message, padding.PKCS1v15(), hashes.SHA1())
    )


def at(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, tz=timezone.utc)


def video_url(call_signer, video_id="serverless-01", *, email=MEMBER, email_verified="true", **kw):
    return call_signer(
        "GET",
        "/videos/{id}/url",
        path=f"/videos/{video_id}/url",
        path_params={"id": video_id},
        claims=claims_for(email, email_verified=email_verified),
        **kw,
    )


def series_url(
    call_signer, series="serverless", body=None, *, email=MEMBER, email_verified="true", **kw
):
    return call_signer(
        "POST",
        "/series/{series}/url",
        path=f"/series/{series}/url",
        path_params={"series": series},
        body=body,
        claims=claims_for(email, email_verified=email_verified),
        **kw,
    )


def session(call_signer, *, email=MEMBER, email_verified="true", **kw):
    claims = claims_for(email, email_verified=email_verified)
    return call_signer("POST", "/session", claims=claims, **kw)


def address(domain: str, video_id: str) -> str:
    series = video_id.rsplit("-", 1)[0]
    return f"https://{domain}/videos/{series}/{video_id}.webp"


# ---- the chapter's sample events ----------------------------------------------------------------
def test_the_sample_events_get_signed_urls(lab, signer, distribution_domain):
    """functions/events/signer-*.json as they are: ana (premium) from 198.51.100.23 at
    2026-11-02 09:14:07 UTC."""
    video = invoke(lab, signer, sample_event("signer-video-url.json"))
    series = invoke(lab, signer, sample_event("signer-series-url.json"))

    assert video.status == 200
    assert video.body["expires"] == 1793610847 + 300
    assert split_url(video.body["url"])[0] == address(distribution_domain, "serverless-01")
    assert series.status == 200
    assert series.body["network"] == "198.51.100.0/24"


# ---- canned policies: one video ----------------------------------------------------------------
def test_a_sha1_canned_url_is_byte_identical_to_botocores(
    call_signer, sha1_signer, botocore_signer, distribution_domain
):
    """GIVEN HASH_ALGORITHM=SHA1 and a fixed request time WHEN a member asks for a URL THEN it is
    exactly what botocore's CloudFrontSigner makes for that video and deadline."""
    expires = WHEN + SHORT_URL_TTL

    answer = video_url(call_signer, function=sha1_signer, epoch_ms=WHEN_MS)

    assert answer.status == 200
    assert answer.body == {
        "url": botocore_signer.generate_presigned_url(
            address(distribution_domain, "serverless-01"), date_less_than=at(expires)
        ),
        "expires": expires,
    }


def test_a_sha256_canned_url_verifies_over_the_canned_policy(
    call_signer, key, key_pair_id, distribution_domain
):
    expires = WHEN + 300
    resource = address(distribution_domain, "security-01")

    answer = video_url(call_signer, "security-01", epoch_ms=WHEN_MS)

    assert answer.status == 200
    base, params = split_url(answer.body["url"])
    values = dict(params)
    assert base == resource
    assert sorted(values) == ["Expires", "Hash-Algorithm", "Key-Pair-Id", "Signature"]
    assert len(params) == 4
    assert values["Expires"] == str(expires) and answer.body["expires"] == expires
    assert values["Hash-Algorithm"] == "SHA256"
    assert values["Key-Pair-Id"] == key_pair_id
    assert verifies(key, values["Signature"], canned(resource, expires), hashes.SHA256)
    assert not verifies(key, values["Signature"], canned(resource, expires), hashes.SHA1)
    assert not verifies(key, values["Signature"], canned(resource, expires + 1), hashes.SHA256)


@pytest.mark.parametrize(
    ("epoch_ms", "expires"),
    [
        (1793610847000, 1793610847 + 300),
        (1793610847999, 1793610847 + 300),  # whole seconds: the milliseconds never round up
        (1800000000500, 1800000000 + 300),
    ],
)
def test_expires_is_request_time_plus_url_ttl(call_signer, epoch_ms, expires):
    answer = video_url(call_signer, epoch_ms=epoch_ms)

    assert answer.status == 200
    assert answer.body["expires"] == expires
    assert dict(split_url(answer.body["url"])[1])["Expires"] == str(expires)


def test_url_ttl_comes_from_the_environment(call_signer, sha1_signer):
    answer = video_url(call_signer, function=sha1_signer, epoch_ms=WHEN_MS)

    assert answer.body["expires"] == WHEN + SHORT_URL_TTL
    assert "Hash-Algorithm" not in answer.body["url"]  # SHA-1 is CloudFront's default


def test_an_email_claim_in_another_case_is_the_same_member(call_signer):
    answer = video_url(call_signer, email=MEMBER.upper())

    assert answer.status == 200


# ---- custom policies: a series, from one network -----------------------------------------------
def _policy_of(url: str) -> tuple[bytes, dict[str, str]]:
    values = dict(split_url(url)[1])
    return cf_b64decode(values["Policy"]), values


def test_a_series_url_is_a_custom_policy_for_the_callers_address(
    call_signer, key, key_pair_id, distribution_domain
):
    """GIVEN no network in the body WHEN a member asks for a series THEN one custom policy (no
    whitespace) covers `videos/<series>/*` from the caller's /32 until request time + URL_TTL,
    signed with SHA-256, and every URL of the series carries it."""
    expires = WHEN + 300
    resource = f"https://{distribution_domain}/videos/serverless/*"

    answer = series_url(call_signer, epoch_ms=WHEN_MS)

    assert answer.status == 200
    assert answer.body["resource"] == resource
    assert answer.body["network"] == f"{VIEWER_IP}/32"
    assert answer.body["expires"] == expires
    bases = [split_url(u)[0] for u in answer.body["urls"]]
    assert set(bases) >= {address(distribution_domain, f"serverless-0{n}") for n in (1, 2, 3)}
    assert all(b.startswith(resource[:-1]) and b.endswith(".webp") for b in bases)
    policies = {_policy_of(u)[0] for u in answer.body["urls"]}
    assert len(policies) == 1
    policy, values = _policy_of(answer.body["urls"][0])
    assert not any(c in policy for c in b" \t\r\n")
    assert json.loads(policy) == {
        "Statement": [
            {
                "Resource": resource,
                "Condition": {
                    "DateLessThan": {"AWS:EpochTime": expires},
                    "IpAddress": {"AWS:SourceIp": f"{VIEWER_IP}/32"},
                },
            }
        ]
    }
    assert sorted(values) == ["Hash-Algorithm", "Key-Pair-Id", "Policy", "Signature"]
    assert values["Hash-Algorithm"] == "SHA256" and values["Key-Pair-Id"] == key_pair_id
    assert verifies(key, values["Signature"], policy, hashes.SHA256)


@pytest.mark.parametrize(
    ("asked", "network"),
    [
        ("203.0.113.0/24", "203.0.113.0/24"),
        ("203.0.113.77/24", "203.0.113.0/24"),  # host bits cleared: the network's own address
        ("192.0.2.10", "192.0.2.10/32"),
    ],
)
def test_a_series_url_for_a_requested_network(call_signer, asked, network):
    answer = series_url(call_signer, body={"network": asked})

    assert answer.status == 200
    assert answer.body["network"] == network
    policy, _ = _policy_of(answer.body["urls"][0])
    assert json.loads(policy)["Statement"][0]["Condition"]["IpAddress"] == {"AWS:SourceIp": network}


def test_a_sha1_series_url_is_byte_identical_to_botocores(
    call_signer, sha1_signer, botocore_signer, distribution_domain
):
    """botocore's build_policy + generate_presigned_url(policy=...) make the same URLs."""
    resource = f"https://{distribution_domain}/videos/serverless/*"
    policy = botocore_signer.build_policy(
        resource, at(WHEN + SHORT_URL_TTL), ip_address="203.0.113.0/24"
    )

    answer = series_url(
        call_signer, body={"network": "203.0.113.0/24"}, function=sha1_signer, epoch_ms=WHEN_MS
    )

    assert answer.status == 200
    for url in answer.body["urls"]:
        assert url == botocore_signer.generate_presigned_url(split_url(url)[0], policy=policy)
    assert (
        botocore_signer.generate_presigned_url(
            address(distribution_domain, "serverless-02"), policy=policy
        )
        in answer.body["urls"]
    )


def test_a_series_url_lists_the_catalogues_videos_of_that_series(call_signer, distribution_domain):
    listed = call_signer("GET", "/videos", claims=claims_for(MEMBER)).body["videos"]

    answer = series_url(call_signer)

    assert [split_url(u)[0] for u in answer.body["urls"]] == [
        address(distribution_domain, v["id"]) for v in listed if v["series"] == "serverless"
    ]


# ---- signed cookies ----------------------------------------------------------------------------
def test_session_sets_signed_cookies_for_the_videos_path(
    call_signer, key, key_pair_id, distribution_domain
):
    """Four `Set-Cookie` headers (multiValueHeaders, as a proxy integration must send repeated
    headers): host-only, Path=/videos/, Secure, HttpOnly; the policy covers `videos/*` until
    request time + COOKIE_TTL and the signature verifies with SHA-256."""
    answer = session(call_signer, epoch_ms=WHEN_MS)

    assert answer.status == 200
    cookies = set_cookies(answer)
    assert sorted(cookies) == [
        "CloudFront-Hash-Algorithm",
        "CloudFront-Key-Pair-Id",
        "CloudFront-Policy",
        "CloudFront-Signature",
    ]
    assert len(answer.multi["Set-Cookie"]) == 4
    for morsel in cookies.values():
        assert morsel["path"] == "/videos/"
        assert morsel["secure"] is True and morsel["httponly"] is True
        assert not morsel["domain"]  # host-only: the distribution's own domain
        assert morsel["max-age"] == "3600"
    policy = cf_b64decode(cookies["CloudFront-Policy"].value)
    assert json.loads(policy) == {
        "Statement": [
            {
                "Resource": f"https://{distribution_domain}/videos/*",
                "Condition": {"DateLessThan": {"AWS:EpochTime": WHEN + 3600}},
            }
        ]
    }
    assert not any(c in policy for c in b" \t\r\n")
    assert cookies["CloudFront-Key-Pair-Id"].value == key_pair_id
    assert cookies["CloudFront-Hash-Algorithm"].value == "SHA256"
    assert verifies(key, cookies["CloudFront-Signature"].value, policy, hashes.SHA256)
    assert answer.body["expires"] == WHEN + 3600


def test_sha1_session_cookies_are_three_and_verify_with_sha1(call_signer, sha1_signer, key):
    answer = session(call_signer, function=sha1_signer, epoch_ms=WHEN_MS)

    cookies = set_cookies(answer)
    assert sorted(cookies) == [
        "CloudFront-Key-Pair-Id",
        "CloudFront-Policy",
        "CloudFront-Signature",
    ]
    policy = cf_b64decode(cookies["CloudFront-Policy"].value)
    assert json.loads(policy)["Statement"][0]["Condition"]["DateLessThan"] == {
        "AWS:EpochTime": WHEN + SHORT_COOKIE_TTL
    }
    assert verifies(key, cookies["CloudFront-Signature"].value, policy, hashes.SHA1)


# ---- premium members only ----------------------------------------------------------------------
SIGNING_ROUTES = {
    "video": lambda call, **kw: video_url(call, **kw),
    "series": lambda call, **kw: series_url(call, **kw),
    "session": lambda call, **kw: session(call, **kw),
}


def _nothing_signed(answer) -> None:
    assert set(answer.body) == {"message"}
    assert "Signature" not in answer.raw and not answer.multi.get("Set-Cookie")


@pytest.mark.parametrize("route", sorted(SIGNING_ROUTES))
@pytest.mark.parametrize("email", [LAPSED, STRANGER])
def test_a_caller_who_is_not_premium_gets_403_and_nothing_signed(call_signer, route, email):
    answer = SIGNING_ROUTES[route](call_signer, email=email)

    assert answer.status == 403
    assert answer.body == {"message": "videos are for premium members: buy a membership first"}
    _nothing_signed(answer)


@pytest.mark.parametrize("route", sorted(SIGNING_ROUTES))
def test_claims_without_an_email_are_403(call_signer, route):
    """An access token's claims (no `email`): the caller must send the ID token."""
    answer = SIGNING_ROUTES[route](call_signer, email=None)

    assert answer.status == 403
    assert answer.body == {"message": "send the ID token of a verified email address"}
    _nothing_signed(answer)


@pytest.mark.parametrize("route", sorted(SIGNING_ROUTES))
def test_an_unverified_email_of_a_member_gets_nothing(call_signer, route):
    """GIVEN a token whose email is a paying member's but not verified (anyone may claim an
    address) WHEN it asks for a link THEN 403 and nothing signed."""
    answer = SIGNING_ROUTES[route](call_signer, email=MEMBER, email_verified="false")

    assert answer.status == 403
    assert answer.body == {"message": "send the ID token of a verified email address"}
    _nothing_signed(answer)


@pytest.mark.parametrize("route", sorted(SIGNING_ROUTES))
def test_no_authorizer_at_all_is_401(call_signer, route):
    """A method without the Cognito authorizer: the event has no requestContext.authorizer."""
    resource, path, params = {
        "video": ("/videos/{id}/url", "/videos/serverless-01/url", {"id": "serverless-01"}),
        "series": ("/series/{series}/url", "/series/serverless/url", {"series": "serverless"}),
        "session": ("/session", "/session", None),
    }[route]
    method = "GET" if route == "video" else "POST"

    answer = call_signer(method, resource, path=path, path_params=params, claims=None)

    assert answer.status == 401
    assert answer.body == {"message": "sign in first"}
    _nothing_signed(answer)


# ---- input -------------------------------------------------------------------------------------
ID_MESSAGE = "a video id is a series and a two-digit episode, e.g. serverless-01"


@pytest.mark.parametrize(
    "video_id",
    [
        "../x",
        "..%2Fx",
        "..%2F..%2Fsecurity%2Fsecurity-01",
        "serverless/../security-01",
        "Serverless-01",
        "serverless-01.webp",
        "serverless-1",
        "serverless-001",
        "serverless",
        "-01",
        "serverless--01",
        "serverless-01 ",
        "",
    ],
)
def test_a_malformed_video_id_is_400(call_signer, video_id):
    answer = video_url(call_signer, video_id)

    assert answer.status == 400
    assert answer.body == {"message": ID_MESSAGE}


@pytest.mark.parametrize("route", ["video", "series"])
def test_a_name_with_a_trailing_newline_is_400(call_signer, route):
    if route == "video":
        answer = video_url(call_signer, "serverless-01\n")
    else:
        answer = series_url(call_signer, "serverless\n")

    assert answer.status == 400


def test_a_missing_id_path_parameter_is_400(call_signer):
    answer = call_signer("GET", "/videos/{id}/url", path_params=None, claims=claims_for(MEMBER))

    assert answer.status == 400


def test_an_unknown_video_is_404(call_signer):
    answer = video_url(call_signer, "serverless-09")

    assert answer.status == 404
    assert answer.body == {"message": "no video serverless-09"}


def test_a_video_under_another_name_is_404(call_signer):
    """serverless-04 exists only as an .mp4 and serverless-07 only as a .webp.bak."""
    assert video_url(call_signer, "serverless-04").status == 404
    assert video_url(call_signer, "serverless-07").status == 404


@pytest.mark.parametrize("series", ["Serverless", "../videos", "serverless/", "a_b", "-x", ""])
def test_a_malformed_series_is_400(call_signer, series):
    answer = series_url(call_signer, series)

    assert answer.status == 400
    assert answer.body == {"message": "a series name is lower-case letters, digits and dashes"}


def test_an_unknown_series_is_404(call_signer):
    answer = series_url(call_signer, "cooking")

    assert answer.status == 404
    assert answer.body == {"message": "no series cooking"}


@pytest.mark.parametrize(
    "network", ["10.0.0.0/33", "not-a-network", "2001:db8::/32", "300.1.2.3", 42, ["10.0.0.0/8"]]
)
def test_a_bad_network_is_400(call_signer, network):
    answer = series_url(call_signer, body={"network": network})

    assert answer.status == 400
    assert answer.body == {"message": "network must be an IPv4 range such as 203.0.113.0/24"}


@pytest.mark.parametrize("network", ["0.0.0.0/0", "10.0.0.0/8", "172.16.0.0/15"])
def test_a_network_wider_than_a_16_is_refused(call_signer, network):
    """GIVEN a range so wide it pins nothing WHEN a member asks for it THEN 400, nothing signed."""
    answer = series_url(call_signer, body={"network": network})

    assert answer.status == 400
    assert answer.body == {"message": "network must be a /16 or narrower, e.g. /24"}
    assert "urls" not in answer.body


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{network", "the body must be JSON"),
        ("network=10.0.0.0/8", "the body must be JSON"),
        ("[]", "the body must be a JSON object"),
        ('"10.0.0.0/8"', "the body must be a JSON object"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_400(call_signer, body, message):
    answer = series_url(call_signer, body=body)

    assert answer.status == 400
    assert answer.body == {"message": message}


def test_an_unknown_route_is_404_and_options_is_204(call_signer):
    missing = call_signer("DELETE", "/session", claims=claims_for(MEMBER))
    preflight = call_signer("OPTIONS", "/session", claims=None)

    assert missing.status == 404
    assert missing.body == {"message": "no route for DELETE /session"}
    assert preflight.status == 204 and preflight.raw == ""
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]


def test_answers_are_json_and_never_cached(call_signer):
    for answer in (video_url(call_signer), video_url(call_signer, email=LAPSED)):
        assert answer.headers["Content-Type"] == "application/json"
        assert answer.headers["Cache-Control"] == "no-store"


# ---- the catalogue -----------------------------------------------------------------------------
def _catalogued(videos, *keys):
    return [
        {
            "id": k.rsplit("/", 1)[1].removesuffix(".webp"),
            "series": k.split("/")[1],
            "bytes": len(videos[k]),
        }
        for k in keys
    ]


def test_the_catalogue_lists_only_well_named_webp_videos(call_signer, videos):
    """Only `videos/<series>/<series>-<two digits>.webp`, sorted by id, with its size."""
    answer = call_signer("GET", "/videos", claims=claims_for(MEMBER))

    assert answer.status == 200
    assert answer.body == {
        "videos": _catalogued(
            videos,
            "videos/security/security-01.webp",
            "videos/serverless/serverless-01.webp",
            "videos/serverless/serverless-02.webp",
            "videos/serverless/serverless-03.webp",
        )
    }


def test_every_catalogued_video_gets_a_url(call_signer):
    listed = call_signer("GET", "/videos", claims=claims_for(MEMBER)).body["videos"]

    assert listed
    for video in listed:
        assert video_url(call_signer, video["id"]).status == 200, video


def test_an_episode_outside_its_series_folder_is_not_catalogued(s3, videos_bucket, call_signer):
    misplaced = ["videos/security/serverless-05.webp", "videos/serverless/old/serverless-06.webp"]
    for key in misplaced:
        s3.put_object(Bucket=videos_bucket, Key=key, Body=b"RIFF misplaced")
    try:
        listed = call_signer("GET", "/videos", claims=claims_for(MEMBER)).body["videos"]
    finally:
        for key in misplaced:
            s3.delete_object(Bucket=videos_bucket, Key=key)

    assert {v["id"] for v in listed}.isdisjoint({"serverless-05", "serverless-06"})


# ---- key rotation ------------------------------------------------------------------------------
def test_a_rotated_key_is_used_at_once(lab, call_signer, key, key_pair_id, key_secret):
    """GIVEN a new key put in the secret WHEN a member asks for a URL THEN the URL names the new
    key pair and is signed with the new key, with no redeploy."""
    secrets = lab.client("secretsmanager")
    new = new_key()
    secrets.put_secret_value(SecretId=key_secret, SecretString=secret_value(new, "K3NEWKEYXMPL9Z"))
    try:
        answer = video_url(call_signer, epoch_ms=WHEN_MS)
    finally:
        secrets.put_secret_value(SecretId=key_secret, SecretString=secret_value(key, key_pair_id))

    values = dict(split_url(answer.body["url"])[1])
    resource = split_url(answer.body["url"])[0]
    assert values["Key-Pair-Id"] == "K3NEWKEYXMPL9Z"
    assert verifies(new, values["Signature"], canned(resource, WHEN + 300))
    assert not verifies(key, values["Signature"], canned(resource, WHEN + 300))
