"""The signer end to end: its URLs and cookies fetched through the offline CloudFront edge.

GIVEN the videos bucket behind a distribution with Origin Access Control, whose `/videos/*`
behaviour trusts a key group holding the public half of the key in Secrets Manager, and the
signer behind an API Gateway stage, WHEN a premium member's request (a proxy event stamped with
the lab clock, as API Gateway stamps `requestTimeEpoch`) gets a URL or cookies and a viewer
fetches the video with them, THEN CloudFront's contract holds: the right video is served; the same
signature on another video, after the deadline, or from outside the policy's network is the XML
403 AccessDenied; a key the group does not trust is InvalidKey.

The stage has no Cognito authorizer (the emulator cannot put a token's claims in the event), so
the signing calls invoke the function directly with claims; through the stage, the catalogue
answers and the signing routes refuse a caller without claims.
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/PrivateContent.html
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-signed-cookies.html
"""

from __future__ import annotations

import importlib.util

import pytest
import requests

from tests.emulator.edge_support import (
    assert_denied,
    assert_refused,
    behaviour,
    create_distribution,
    create_oac,
    oac_policy,
)
from tests.emulator.gateway_support import RestApi
from tests.paid_content.support import (
    CHAPTER,
    MEMBER,
    VIEWER_IP,
    claims_for,
    new_key,
    public_pem,
    secret_value,
    set_cookies,
    split_url,
)

URL_TTL, COOKIE_TTL = 300, 3600  # the signer's defaults


def _make_videos():
    """The chapter's clip maker (notebooks/03-paid-content/make_videos.py), imported by path."""
    spec = importlib.util.spec_from_file_location("make_videos", CHAPTER / "make_videos.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def videos():
    """The shop's real clips (animated WebP): S3 key → bytes."""
    return _make_videos().catalogue()


@pytest.fixture(scope="module")
def key_pair_id(lab, cf, key):
    """The CloudFront public key of the signing key pair."""
    return cf.create_public_key(
        PublicKeyConfig={
            "CallerReference": lab.name("video-key"),
            "Name": lab.name("video-key"),
            "EncodedKey": public_pem(key),
        }
    )["PublicKey"]["Id"]


@pytest.fixture(scope="module")
def key_group(lab, cf, key_pair_id):
    return cf.create_key_group(
        KeyGroupConfig={"Name": lab.name("video-signers"), "Items": [key_pair_id]}
    )["KeyGroup"]["Id"]


@pytest.fixture(scope="module")
def dist(lab, cf, s3, videos_bucket, key_group):
    """The private videos bucket behind OAC: `/videos/*` trusts the key group, the rest (the
    free trailer) is public."""
    origin = {
        "Id": "videos",
        "DomainName": f"{videos_bucket}.s3.us-east-1.amazonaws.com",
        "OriginPath": "",
        "S3OriginConfig": {"OriginAccessIdentity": ""},
        "OriginAccessControlId": create_oac(lab, cf),
    }
    trusted = {"Enabled": True, "Quantity": 1, "Items": [key_group]}
    created = create_distribution(
        cf,
        [origin],
        behaviour("videos"),
        [behaviour("videos", "/videos/*", TrustedKeyGroups=trusted)],
    )
    s3.put_bucket_policy(Bucket=videos_bucket, Policy=oac_policy(videos_bucket, [created["ARN"]]))
    return created


@pytest.fixture(scope="module")
def distribution_domain(dist):
    return dist["DomainName"]


@pytest.fixture(scope="module")
def api(lab, signer):
    """The signer behind a `prod` stage (no authorizer): the chapter's four routes."""
    rest = RestApi(lab, "videos-api")
    for path, method in [
        ("/videos", "GET"),
        ("/videos/{id}/url", "GET"),
        ("/series/{series}/url", "POST"),
        ("/session", "POST"),
    ]:
        rest.lambda_proxy(path, method, signer)
    rest.allow(signer)
    rest.deploy("prod")
    return rest


def now_ms(lab) -> int:
    """requestTimeEpoch as API Gateway would stamp a request arriving now (lab time)."""
    return int(lab.clock.now() * 1000)


def signed_url(lab, call_signer, video_id="serverless-01"):
    answer = call_signer(
        "GET",
        "/videos/{id}/url",
        path=f"/videos/{video_id}/url",
        path_params={"id": video_id},
        claims=claims_for(MEMBER),
        epoch_ms=now_ms(lab),
    )
    assert answer.status == 200, answer.body
    return answer.body["url"]


def series_urls(lab, call_signer, series="serverless", body=None):
    answer = call_signer(
        "POST",
        "/series/{series}/url",
        path=f"/series/{series}/url",
        path_params={"series": series},
        body=body,
        claims=claims_for(MEMBER),
        epoch_ms=now_ms(lab),
    )
    assert answer.status == 200, answer.body
    return answer.body["urls"]


def fetch(url, *, viewer=None, **kwargs):
    headers = {"X-Labbook-Source-Ip": viewer} if viewer else {}
    return requests.get(url, headers=headers, timeout=10, **kwargs)


# ---- the API stage -----------------------------------------------------------------------------
def test_the_catalogue_through_the_api_stage(api, videos):
    resp = requests.get(api.url("/videos"), timeout=10)

    assert resp.status_code == 200
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    listed = [
        {
            "id": key.rsplit("/", 1)[1].removesuffix(".webp"),
            "series": key.split("/")[1],
            "bytes": len(data),
        }
        for key, data in videos.items()
        if key.startswith("videos/")
    ]
    assert resp.json() == {"videos": sorted(listed, key=lambda v: v["id"])}


def test_signing_through_a_stage_without_the_authorizer_is_401(api):
    url = requests.get(api.url("/videos/serverless-01/url"), timeout=10)
    cookies = requests.post(api.url("/session"), timeout=10)

    assert (url.status_code, url.json()) == (401, {"message": "sign in first"})
    assert cookies.status_code == 401
    assert "Set-Cookie" not in cookies.headers


# ---- canned-policy URLs ------------------------------------------------------------------------
def test_a_signed_url_serves_the_video(lab, call_signer, videos):
    url = signed_url(lab, call_signer)

    resp = fetch(url)

    assert resp.status_code == 200
    assert resp.content == videos["videos/serverless/serverless-01.webp"]
    assert resp.headers["Content-Type"] == "image/webp"


def test_the_videos_need_a_signature_and_the_trailer_does_not(dist, videos):
    domain = dist["DomainName"]

    assert_refused(
        fetch(f"https://{domain}/videos/serverless/serverless-01.webp"),
        "MissingKey",
        "Missing Key-Pair-Id query parameter or cookie value",
    )
    trailer = fetch(f"https://{domain}/public/trailer.webp")
    assert trailer.status_code == 200
    assert trailer.content == videos["public/trailer.webp"]


def test_the_signature_of_one_video_does_not_open_another(lab, call_signer):
    url = signed_url(lab, call_signer, "serverless-01")

    assert_denied(fetch(url.replace("serverless-01", "serverless-02")))
    assert_denied(fetch(url.replace("serverless/serverless-01", "security/security-01")))


def test_a_signed_url_expires_url_ttl_after_the_request(lab, call_signer):
    url = signed_url(lab, call_signer)

    lab.clock.advance(URL_TTL - 5)
    assert fetch(url).status_code == 200

    lab.clock.advance(6)
    assert_denied(fetch(url))


# ---- custom policies: a series from one network ------------------------------------------------
def test_series_urls_serve_every_episode_to_the_callers_address(lab, call_signer, videos):
    urls = series_urls(lab, call_signer)

    for url in urls:
        resp = fetch(url, viewer=VIEWER_IP)
        key = split_url(url)[0].split("/", 3)[3]
        assert resp.status_code == 200, url
        assert resp.content == videos[key]
    assert len(urls) == 3


def test_series_urls_are_denied_from_another_address(lab, call_signer):
    [url, *_] = series_urls(lab, call_signer)  # for the caller's /32

    assert_denied(fetch(url))  # from 127.0.0.1
    assert_denied(fetch(url, viewer="198.51.100.24"))


def test_series_urls_for_a_network_that_excludes_the_caller(lab, call_signer):
    [url, *_] = series_urls(lab, call_signer, body={"network": "10.20.0.0/16"})

    assert_denied(fetch(url, viewer=VIEWER_IP))
    assert fetch(url, viewer="10.20.30.40").status_code == 200


def test_a_series_policy_does_not_open_another_series(lab, call_signer):
    [url, *_] = series_urls(lab, call_signer)
    other = url.replace("serverless/serverless-01", "security/security-01")

    assert_denied(fetch(other, viewer=VIEWER_IP))


def test_series_urls_expire_with_the_lab_clock(lab, call_signer):
    [url, *_] = series_urls(lab, call_signer)

    lab.clock.advance(URL_TTL + 1)

    assert_denied(fetch(url, viewer=VIEWER_IP))


# ---- signed cookies ----------------------------------------------------------------------------
@pytest.fixture
def viewer_session(lab, call_signer, dist):
    """A requests session holding the Set-Cookie cookies as a browser would: host-only on the
    distribution's domain, with the cookies' own Path and Secure."""
    answer = call_signer("POST", "/session", claims=claims_for(MEMBER), epoch_ms=now_ms(lab))
    assert answer.status == 200, answer.body
    session = requests.Session()
    for name, morsel in set_cookies(answer).items():
        session.cookies.set(
            name,
            morsel.value,
            domain=dist["DomainName"],
            path=morsel["path"],
            secure=bool(morsel["secure"]),
            rest={"HttpOnly": None},
        )
    yield session
    session.close()


def test_signed_cookies_open_every_video(viewer_session, dist, videos):
    for key in ("videos/serverless/serverless-02.webp", "videos/security/security-02.webp"):
        resp = viewer_session.get(f"https://{dist['DomainName']}/{key}", timeout=10)
        assert resp.status_code == 200, key
        assert resp.content == videos[key]


def test_signed_cookies_are_sent_only_for_the_videos(viewer_session, dist):
    trailer = viewer_session.get(f"https://{dist['DomainName']}/public/trailer.webp", timeout=10)
    video = viewer_session.get(
        f"https://{dist['DomainName']}/videos/security/security-01.webp", timeout=10
    )

    assert "Cookie" not in trailer.request.headers
    assert "CloudFront-Signature=" in video.request.headers["Cookie"]


def test_signed_cookies_expire_cookie_ttl_after_the_request(lab, viewer_session, dist):
    url = f"https://{dist['DomainName']}/videos/serverless/serverless-03.webp"
    lab.clock.advance(COOKIE_TTL - 5)
    assert viewer_session.get(url, timeout=10).status_code == 200

    lab.clock.advance(6)

    assert_denied(viewer_session.get(url, timeout=10))


# ---- key rotation ------------------------------------------------------------------------------
def test_rotating_the_key_needs_its_public_key_in_the_group_first(
    lab, cf, call_signer, key, key_pair_id, key_group, key_secret
):
    """GIVEN a new key pair put in the secret WHEN its public key is not yet in the trusted key
    group THEN the new URLs are InvalidKey; once the group holds both keys, they serve."""
    secrets = lab.client("secretsmanager")
    new = new_key()
    new_id = cf.create_public_key(
        PublicKeyConfig={
            "CallerReference": lab.name("video-key-2"),
            "Name": lab.name("video-key-2"),
            "EncodedKey": public_pem(new),
        }
    )["PublicKey"]["Id"]
    secrets.put_secret_value(SecretId=key_secret, SecretString=secret_value(new, new_id))
    try:
        early = signed_url(lab, call_signer)
        assert dict(split_url(early)[1])["Key-Pair-Id"] == new_id
        assert_refused(fetch(early), "InvalidKey", "Unknown Key")

        group = cf.get_key_group(Id=key_group)
        cf.update_key_group(
            Id=key_group,
            IfMatch=group["ETag"],
            KeyGroupConfig={
                "Name": group["KeyGroup"]["KeyGroupConfig"]["Name"],
                "Items": [key_pair_id, new_id],
            },
        )

        assert fetch(signed_url(lab, call_signer)).status_code == 200
    finally:
        secrets.put_secret_value(SecretId=key_secret, SecretString=secret_value(key, key_pair_id))
    assert fetch(signed_url(lab, call_signer)).status_code == 200  # the old key still trusted
