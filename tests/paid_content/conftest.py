"""Fixtures for the paid-content functions' tests: the emulator's lab fixtures, the premium table,
the videos bucket, the signing key in Secrets Manager and the chapter's functions deployed into
the offline runtime.

The lab, deploy and backend-selection fixtures and hooks are tests/emulator's, imported from its
conftest, so every suite starts labs and deploys the same way. A module that puts the signer
behind a real distribution overrides `key_pair_id` and `distribution_domain`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

import helpers
from tests.emulator.conftest import (  # noqa: F401 (fixtures and hooks pytest collects here)
    _no_silent_delivery_errors,
    cf,
    chapter_deployer,
    deploy,
    lab,
    pytest_configure,
    pytest_generate_tests,
    role_arn,
    s3,
)
from tests.paid_content.support import (
    FUNCTIONS,
    LAPSED,
    MEMBER,
    Answer,
    invoke,
    new_key,
    proxy_event,
    secret_value,
)

# the catalogue's objects: S3 key → bytes (small stand-ins; the edge test serves real clips)
VIDEOS = {
    "videos/serverless/serverless-01.webp": b"RIFF\x10\x00\x00\x00WEBPVP8L serverless 01",
    "videos/serverless/serverless-02.webp": b"RIFF\x10\x00\x00\x00WEBPVP8L serverless 02 ..",
    "videos/serverless/serverless-03.webp": b"RIFF\x10\x00\x00\x00WEBPVP8L serverless 03 ....",
    "videos/security/security-01.webp": b"RIFF\x10\x00\x00\x00WEBPVP8L security 01",
    "public/trailer.webp": b"RIFF\x10\x00\x00\x00WEBPVP8L trailer",
}


@pytest.fixture(scope="module")
def deploy_app(deploy: Callable[..., str]) -> Callable[..., str]:  # noqa: F811
    """deploy_app(folder, base=..., env=..., requirements=..., **create_function kwargs) -> name:
    deploy functions/<folder>/app.py as handler app.handler, named lab.name(base or folder)."""
    return chapter_deployer(deploy, FUNCTIONS)


@pytest.fixture(scope="module")
def premium_table(lab: helpers.Lab) -> str:  # noqa: F811
    """The premium-users table (key `email`), with one paying member and one lapsed member."""
    ddb = lab.client("dynamodb")
    name = lab.name("premium-users")
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "email", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "email", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for email, premium in ((MEMBER, True), (LAPSED, False)):
        ddb.put_item(TableName=name, Item={"email": {"S": email}, "premium": {"BOOL": premium}})
    return name


@pytest.fixture(scope="module")
def videos() -> dict[str, bytes]:
    """S3 key → bytes of the objects in the videos bucket."""
    return VIDEOS


@pytest.fixture(scope="module")
def videos_bucket(s3: Any, lab: helpers.Lab, videos: dict[str, bytes]) -> str:  # noqa: F811
    bucket = lab.name("videos")
    s3.create_bucket(Bucket=bucket)
    for key, data in videos.items():
        s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType="image/webp")
    return bucket


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    """The signing key pair (2048-bit RSA, as CloudFront requires)."""
    return new_key()


@pytest.fixture(scope="module")
def key_pair_id() -> str:
    """The CloudFront public key id the URLs name (a made-up one without a distribution)."""
    return "K2JCJMDEXMPL7Q"


@pytest.fixture(scope="module")
def distribution_domain() -> str:
    return "d111111abcdef8.cloudfront.net"


@pytest.fixture(scope="module")
def key_secret(lab: helpers.Lab, key: rsa.RSAPrivateKey, key_pair_id: str) -> str:  # noqa: F811
    """The secret holding {"keyPairId", "privateKey"}; returns its name."""
    name = lab.name("cloudfront-key")
    lab.client("secretsmanager").create_secret(
        Name=name, SecretString=secret_value(key, key_pair_id)
    )
    return name


@pytest.fixture(scope="module")
def signer_env(
    premium_table: str, videos_bucket: str, key_secret: str, distribution_domain: str
) -> dict[str, str]:
    return {
        "PREMIUM_TABLE": premium_table,
        "VIDEOS_BUCKET": videos_bucket,
        "KEY_SECRET_ID": key_secret,
        "DISTRIBUTION_DOMAIN": distribution_domain,
    }


@pytest.fixture(scope="module")
def signer(deploy_app: Callable[..., str], signer_env: dict[str, str]) -> str:
    """The signer with its defaults: SHA-256, URL_TTL 300 s, COOKIE_TTL 3600 s."""
    return deploy_app("signer", requirements=("cryptography",), env=signer_env)


@pytest.fixture(scope="module")
def call_signer(lab: helpers.Lab, signer: str) -> Callable[..., Answer]:  # noqa: F811
    """call_signer(method, resource, function=..., **proxy_event kwargs) -> Answer."""

    def _call(method: str, resource: str, *, function: str | None = None, **kwargs: Any):
        return invoke(lab, function or signer, proxy_event(method, resource, **kwargs))

    return _call
