"""CloudFront signed URLs and signed cookies at the offline edge.

GIVEN a distribution whose `/videos/*` behaviour trusts a key group holding the public half of a
2048-bit RSA key, WHEN a viewer asks for a video with a URL (or cookies) signed with that key by
botocore's `CloudFrontSigner` or by hand, THEN CloudFront's documented contract follows: a valid
canned or custom policy serves the object; an expired, not yet valid, tampered, wrongly addressed
or out-of-range request gets the XML 403 AccessDenied; an unknown key gets InvalidKey and a missing
key id MissingKey; SHA-256 signatures need `Hash-Algorithm=SHA256`; the signing parameters stay
out of the cache key and the origin request; a public behaviour needs no signature.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import requests
from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa

from helpers.emulator.http import Response
from tests.emulator.edge_support import (
    assert_denied,
    assert_refused,
    behaviour,
    cf_b64,
    create_distribution,
    create_oac,
    new_key,
    oac_policy,
    public_pem,
    rsa_sign,
    signer_for,
)

BACKENDS = ("moto", "moto-server")
API_HOST = "f6g7h8i9j0.execute-api.us-east-1.amazonaws.com"
INTRO = b"\x00\x00\x00\x18ftypmp42 intro"
OUTRO = b"\x00\x00\x00\x18ftypmp42 outro"


def canned(resource: str, expires: int) -> bytes:
    return (
        f'{{"Statement":[{{"Resource":"{resource}","Condition":'
        f'{{"DateLessThan":{{"AWS:EpochTime":{expires}}}}}}}]}}'
    ).encode()


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return new_key()


@pytest.fixture(scope="module")
def key_id(lab, cf, key) -> str:
    return cf.create_public_key(
        PublicKeyConfig={
            "CallerReference": lab.name("video-key"),
            "Name": lab.name("video-key"),
            "EncodedKey": public_pem(key),
        }
    )["PublicKey"]["Id"]


@pytest.fixture(scope="module")
def trusted(lab, cf, key_id) -> dict:
    group = cf.create_key_group(KeyGroupConfig={"Name": lab.name("video-group"), "Items": [key_id]})
    return {"Enabled": True, "Quantity": 1, "Items": [group["KeyGroup"]["Id"]]}


@pytest.fixture(scope="module")
def dist(lab, cf, s3, trusted) -> dict:
    """A private bucket behind OAC: `/videos/*` trusts the key group, the rest is public."""
    bucket = lab.name("videos")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="videos/intro.mp4", Body=INTRO, ContentType="video/mp4")
    s3.put_object(Bucket=bucket, Key="videos/outro.mp4", Body=OUTRO, ContentType="video/mp4")
    s3.put_object(Bucket=bucket, Key="index.html", Body=b"<h1>Free</h1>", ContentType="text/html")
    origin = {
        "Id": "s3",
        "DomainName": f"{bucket}.s3.us-east-1.amazonaws.com",
        "OriginPath": "",
        "S3OriginConfig": {"OriginAccessIdentity": ""},
        "OriginAccessControlId": create_oac(lab, cf),
    }
    created = create_distribution(
        cf, [origin], behaviour("s3"), [behaviour("s3", "/videos/*", TrustedKeyGroups=trusted)]
    )
    s3.put_bucket_policy(Bucket=bucket, Policy=oac_policy(bucket, [created["ARN"]]))
    return created


def video(dist: dict, name: str = "intro.mp4") -> str:
    return f"https://{dist['DomainName']}/videos/{name}"


@pytest.fixture
def signer(key, key_id) -> CloudFrontSigner:
    return signer_for(key, key_id)


@pytest.fixture
def soon(lab):
    """A deadline `seconds` from now on the lab clock (the clock the edge checks)."""
    return lambda seconds=300: lab.clock.datetime() + timedelta(seconds=seconds)


# ---- canned policies -----------------------------------------------------------------------------
def test_a_canned_signed_url_serves_the_video(dist, signer, soon):
    url = signer.generate_presigned_url(video(dist), date_less_than=soon())

    resp = requests.get(url, timeout=10)

    assert resp.status_code == 200
    assert resp.content == INTRO
    assert resp.headers["Content-Type"] == "video/mp4"


def test_the_url_expires_when_the_lab_clock_passes_date_less_than(lab, dist, signer, soon):
    url = signer.generate_presigned_url(video(dist), date_less_than=soon(300))
    assert requests.get(url, timeout=10).status_code == 200

    lab.clock.advance(301)

    assert_denied(requests.get(url, timeout=10))


def test_a_tampered_url_or_signature_is_denied(dist, signer, soon):
    url = signer.generate_presigned_url(video(dist), date_less_than=soon())
    other_file = url.replace("intro.mp4", "outro.mp4")
    expires = int(url.split("Expires=")[1].split("&")[0])
    later = url.replace(f"Expires={expires}", f"Expires={expires + 3600}")
    signature = url.split("Signature=")[1].split("&")[0]
    flipped = ("A" if signature[10] != "A" else "B").join([signature[:10], signature[11:]])
    bad_signature = url.replace(signature, flipped)

    for tampered in (other_file, later, bad_signature, url.replace("Signature=", "Signature=x")):
        assert_denied(requests.get(tampered, timeout=10))


def test_a_key_outside_the_trusted_groups_is_an_invalid_key(lab, cf, dist, soon):
    stranger = new_key()
    stranger_id = cf.create_public_key(
        PublicKeyConfig={
            "CallerReference": lab.name("stranger"),
            "Name": lab.name("stranger"),
            "EncodedKey": public_pem(stranger),
        }
    )["PublicKey"]["Id"]
    url = signer_for(stranger, stranger_id).generate_presigned_url(
        video(dist), date_less_than=soon()
    )

    assert_refused(requests.get(url, timeout=10), "InvalidKey", "Unknown Key")


def test_no_key_pair_id_is_missing_key(dist, signer, soon):
    url = signer.generate_presigned_url(video(dist), date_less_than=soon())
    without_key = url.split("&Key-Pair-Id=")[0]

    for resp in (requests.get(without_key, timeout=10), requests.get(video(dist), timeout=10)):
        assert_refused(resp, "MissingKey", "Missing Key-Pair-Id query parameter or cookie value")


def test_a_public_behaviour_needs_no_signature(dist):
    resp = requests.get(f"https://{dist['DomainName']}/index.html", timeout=10)

    assert resp.status_code == 200
    assert resp.text == "<h1>Free</h1>"


# ---- custom policies -----------------------------------------------------------------------------
def test_a_custom_policy_wildcard_covers_every_matching_file(dist, signer, soon):
    policy = signer.build_policy(video(dist, "*"), soon())
    intro = signer.generate_presigned_url(video(dist, "intro.mp4"), policy=policy)
    outro = signer.generate_presigned_url(video(dist, "outro.mp4"), policy=policy)

    assert requests.get(intro, timeout=10).content == INTRO
    assert requests.get(outro, timeout=10).content == OUTRO


def test_a_custom_policy_resource_must_match_the_url(dist, signer, soon):
    policy = signer.build_policy(video(dist, "intro.mp?"), soon())
    intro = signer.generate_presigned_url(video(dist, "intro.mp4"), policy=policy)
    outro = signer.generate_presigned_url(video(dist, "outro.mp4"), policy=policy)

    assert requests.get(intro, timeout=10).status_code == 200  # `?` is one character
    assert_denied(requests.get(outro, timeout=10))


def test_a_viewer_outside_the_policys_cidr_is_denied(dist, signer, soon):
    policy = signer.build_policy(video(dist), soon(), ip_address="10.0.0.0/8")
    url = signer.generate_presigned_url(video(dist), policy=policy)

    outside = requests.get(url, timeout=10)  # the viewer is 127.0.0.1
    inside = requests.get(url, headers={"X-Labbook-Source-Ip": "10.20.30.40"}, timeout=10)

    assert_denied(outside)
    assert inside.status_code == 200


def test_a_url_is_denied_before_date_greater_than(lab, dist, signer, soon):
    policy = signer.build_policy(video(dist), soon(7200), date_greater_than=soon(3600))
    url = signer.generate_presigned_url(video(dist), policy=policy)
    assert_denied(requests.get(url, timeout=10))

    lab.clock.advance(3600)

    assert requests.get(url, timeout=10).status_code == 200


# ---- SHA-256 and cookies, signed by hand ---------------------------------------------------------
def test_hash_algorithm_sha256_verifies_a_sha256_signature(dist, key, key_id, soon):
    expires = int(soon().timestamp())
    signature = cf_b64(rsa_sign(key, canned(video(dist), expires), hashes.SHA256))
    signed = f"{video(dist)}?Expires={expires}&Signature={signature}&Key-Pair-Id={key_id}"

    with_sha256 = requests.get(f"{signed}&Hash-Algorithm=SHA256", timeout=10)
    as_sha1 = requests.get(signed, timeout=10)

    assert with_sha256.status_code == 200
    assert with_sha256.content == INTRO
    assert_denied(as_sha1)


def test_signed_cookies_with_a_canned_policy(dist, key, key_id, soon):
    expires = int(soon().timestamp())
    cookies = {
        "CloudFront-Expires": str(expires),
        "CloudFront-Signature": cf_b64(rsa_sign(key, canned(video(dist), expires))),
        "CloudFront-Key-Pair-Id": key_id,
    }

    resp = requests.get(video(dist), cookies=cookies, timeout=10)
    elsewhere = requests.get(video(dist, "outro.mp4"), cookies=cookies, timeout=10)

    assert resp.status_code == 200
    assert resp.content == INTRO
    assert_denied(elsewhere)  # a canned policy names one URL


def test_signed_cookies_with_a_custom_sha256_policy(dist, key, key_id, soon):
    policy = json.dumps(
        {
            "Statement": [
                {
                    "Resource": video(dist, "*"),
                    "Condition": {"DateLessThan": {"AWS:EpochTime": int(soon().timestamp())}},
                }
            ]
        }
    ).encode()
    cookies = {
        "CloudFront-Policy": cf_b64(policy),
        "CloudFront-Signature": cf_b64(rsa_sign(key, policy, hashes.SHA256)),
        "CloudFront-Key-Pair-Id": key_id,
        "CloudFront-Hash-Algorithm": "SHA256",
    }

    outro = requests.get(video(dist, "outro.mp4"), cookies=cookies, timeout=10)
    no_key = {k: v for k, v in cookies.items() if k != "CloudFront-Key-Pair-Id"}

    assert outro.status_code == 200
    assert outro.content == OUTRO
    assert_refused(
        requests.get(video(dist, "outro.mp4"), cookies=no_key, timeout=10),
        "MissingKey",
        "Missing Key-Pair-Id query parameter or cookie value",
    )


# ---- the signing parameters are CloudFront's own -------------------------------------------------
@pytest.fixture
def api_origin(lab, monkeypatch) -> list:
    """A stand-in for an API Gateway stage on the lab's front: records what reaches it."""
    seen: list = []

    def handler(request, parts):
        seen.append(request)
        headers = [("Content-Type", "text/plain"), ("Cache-Control", "max-age=60")]
        return Response(200, headers, request.url.encode())

    monkeypatch.setitem(lab.emulator.front.services, "gateway", handler)
    return seen


@pytest.fixture(scope="module")
def api_dist(cf, trusted) -> dict:
    """`/videos/*` trusts the key group and forwards (and caches on) the query string."""
    origin = {
        "Id": "api",
        "DomainName": API_HOST,
        "OriginPath": "/prod",
        "CustomOriginConfig": {
            "HTTPPort": 80,
            "HTTPSPort": 443,
            "OriginProtocolPolicy": "https-only",
        },
    }
    return create_distribution(
        cf,
        [origin],
        behaviour("api"),
        [behaviour("api", "/videos/*", query=True, TrustedKeyGroups=trusted)],
    )


def test_signing_parameters_are_not_sent_to_the_origin(api_origin, api_dist, signer, soon):
    url = signer.generate_presigned_url(
        f"https://{api_dist['DomainName']}/videos/list?page=2", date_less_than=soon()
    )

    resp = requests.get(url, timeout=10)

    assert resp.status_code == 200
    assert api_origin[-1].url == f"https://{API_HOST}/prod/videos/list?page=2"


def test_signing_parameters_are_not_in_the_cache_key(api_origin, api_dist, signer, soon):
    page = f"https://{api_dist['DomainName']}/videos/list?page=3"
    policy = signer.build_policy(page, soon())
    first = signer.generate_presigned_url(page, policy=policy)
    second = signer.generate_presigned_url(page, date_less_than=soon(600))
    other_page = signer.generate_presigned_url(page.replace("=3", "=4"), date_less_than=soon())
    requests.get(first, timeout=10)

    again = requests.get(second, timeout=10)
    other = requests.get(other_page, timeout=10)

    assert again.status_code == 200
    assert again.headers["X-Cache"] == "Hit from cloudfront"  # another signature, one object
    assert other.headers["X-Cache"] == "Miss from cloudfront"  # the query string still counts
    assert [r.url.rsplit("=", 1)[1] for r in api_origin] == ["3", "4"]
