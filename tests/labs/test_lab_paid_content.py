"""Lab 03 · Paid content's checks: a private bucket behind OAC, a trusted key group, the signer.

Each check runs against the wrong states a learner is likely to build, made with boto3 on the
moto backend, and must name that mistake; against the right state it passes. The states follow
AWS's documented contracts: the OAC bucket policy (service principal cloudfront.amazonaws.com,
condition AWS:SourceArn on the distribution,
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-restricting-access-to-s3.html),
trusted key groups and CloudFront's 403 MissingKey/InvalidKey/AccessDenied
(https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-trusted-signers.html),
the canned policy and CloudFront's base64
(https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-creating-signed-url-canned-policy.html)
and the Lambda proxy response API Gateway expects.

One lab serves the module (one offline lab runs at a time): it holds the right state, and each
test that breaks part of it restores it afterwards.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

import helpers
import helpers.clock
import helpers.lab
from helpers.checks import CheckFailed
from helpers.checks import paid_content as check
from tests.emulator.conftest import TRUST_POLICY as TRUST
from tests.labs import support

LAB_DIR = Path(__file__).resolve().parents[2] / "labs" / "03-paid-content"
SOLUTION_SIGNER = LAB_DIR / "solution" / "my-functions" / "signer" / "app.py"

EXPECTED = {
    "private_videos": "has no Origin Access Control",
    "key_group": "the behaviour for `/videos/*` trusts no key group",
    "signer": "write handler(event, context)",
}


@pytest.mark.notebook
def test_untouched_student_notebook_fails_every_check(tmp_path: Path) -> None:
    support.assert_student_fails("03-paid-content", tmp_path, EXPECTED)


# ---- the lab's given resources and the exercises' right answers ---------------------------------
GET_HEAD = {
    "Quantity": 2,
    "Items": ["GET", "HEAD"],
    "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]},
}
ALL_BLOCKED = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


def behavior(**extra: Any) -> dict[str, Any]:
    return {
        "TargetOriginId": "videos",
        "ViewerProtocolPolicy": "redirect-to-https",
        "AllowedMethods": GET_HEAD,
        "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
        "MinTTL": 0,
        "DefaultTTL": 86400,
        "MaxTTL": 31536000,
        **extra,
    }


def public_key(cf: Any, lab: helpers.Lab, name: str, key: rsa.RSAPrivateKey) -> str:
    pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    config = {"CallerReference": lab.name(name), "Name": lab.name(name), "EncodedKey": pem}
    return cf.create_public_key(PublicKeyConfig=config)["PublicKey"]["Id"]


def oac_policy(bucket: str, resource: str | None = None, **statement: Any) -> str:
    base = {
        "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "s3:GetObject",
        "Resource": resource or f"arn:aws:s3:::{bucket}/*",
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [{**base, **statement}]})


class Given:
    """The lab's resources, built as the notebook's setup cells and the solution build them."""

    def __init__(self, lab: helpers.Lab) -> None:
        self.lab = lab
        self.s3, self.cf = lab.client("s3"), lab.client("cloudfront")
        self.bucket = lab.name("videos")
        self.s3.create_bucket(Bucket=self.bucket)
        self.s3.put_public_access_block(
            Bucket=self.bucket, PublicAccessBlockConfiguration=ALL_BLOCKED
        )
        for key in (check.VIDEO_KEY, check.TRAILER_KEY):
            self.s3.put_object(
                Bucket=self.bucket, Key=key, Body=f"RIFF {key}".encode(), ContentType="image/webp"
            )
        ddb = lab.client("dynamodb")
        self.table = lab.name("premium-users")
        ddb.create_table(
            TableName=self.table,
            AttributeDefinitions=[{"AttributeName": "email", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "email", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        for email, premium in ((check.PREMIUM, True), (check.NOT_PREMIUM, False)):
            ddb.put_item(
                TableName=self.table, Item={"email": {"S": email}, "premium": {"BOOL": premium}}
            )
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.key_id = public_key(self.cf, lab, "signing-key", private)
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        self.secret_arn = lab.client("secretsmanager").create_secret(
            Name=lab.name("cloudfront-signing-key"),
            SecretString=json.dumps({"keyPairId": self.key_id, "privateKey": pem}),
        )["ARN"]
        dist = self.cf.create_distribution(
            DistributionConfig={
                "CallerReference": lab.name("videos"),
                "Comment": "paid content",
                "Enabled": True,
                "Origins": {
                    "Quantity": 1,
                    "Items": [
                        {
                            "Id": "videos",
                            "DomainName": f"{self.bucket}.s3.{lab.region}.amazonaws.com",
                            "S3OriginConfig": {"OriginAccessIdentity": ""},
                        }
                    ],
                },
                "DefaultCacheBehavior": behavior(),
                "CacheBehaviors": {
                    "Quantity": 1,
                    "Items": [behavior(PathPattern="/videos/*", ViewerProtocolPolicy="allow-all")],
                },
            }
        )["Distribution"]
        self.dist_id, self.dist_arn, self.domain = dist["Id"], dist["ARN"], dist["DomainName"]
        iam = lab.client("iam")
        self.role = iam.create_role(
            RoleName=lab.name("signer-role"), AssumeRolePolicyDocument=TRUST
        )["Role"]["Arn"]

    # exercise 1
    def make_videos_private(self) -> None:
        self.oac_id = self.oac("always")
        self.update(lambda c: c["Origins"]["Items"][0].update(OriginAccessControlId=self.oac_id))
        self.s3.put_bucket_policy(
            Bucket=self.bucket,
            Policy=oac_policy(
                self.bucket, Condition={"StringEquals": {"AWS:SourceArn": self.dist_arn}}
            ),
        )

    def oac(self, signing: str) -> str:
        return self.cf.create_origin_access_control(
            OriginAccessControlConfig={
                "Name": self.lab.name(f"oac-{signing}"),
                "SigningProtocol": "sigv4",
                "SigningBehavior": signing,
                "OriginAccessControlOriginType": "s3",
            }
        )["OriginAccessControl"]["Id"]

    # exercise 2
    def trust_key_group(self) -> None:
        self.group_id = self.key_group("signers", [self.key_id])

        def videos(config: dict[str, Any]) -> None:
            behaviour = config["CacheBehaviors"]["Items"][0]
            behaviour["TrustedKeyGroups"] = {
                "Enabled": True,
                "Quantity": 1,
                "Items": [self.group_id],
            }
            behaviour["ViewerProtocolPolicy"] = "redirect-to-https"

        self.update(videos)

    def key_group(self, name: str, items: list[str]) -> str:
        config = {"Name": self.lab.name(name), "Items": items}
        return self.cf.create_key_group(KeyGroupConfig=config)["KeyGroup"]["Id"]

    def update(self, change: Callable[[dict[str, Any]], Any]) -> None:
        resp = self.cf.get_distribution_config(Id=self.dist_id)
        config = resp["DistributionConfig"]
        change(config)
        self.cf.update_distribution(
            Id=self.dist_id, IfMatch=resp["ETag"], DistributionConfig=config
        )

    def config(self) -> dict[str, Any]:
        return self.cf.get_distribution_config(Id=self.dist_id)["DistributionConfig"]

    def set_config(self, config: dict[str, Any]) -> None:
        self.update(lambda c: c.update(config))

    # exercise 3
    def deploy_signer(self, source: str) -> str:
        folder = self.lab_dir / "signer"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "app.py").write_text(source)
        code = helpers.package(folder, runtime=self.lab.runtime, requirements=["cryptography"])
        lambda_ = self.lab.client("lambda")
        name = self.lab.name("signer")
        try:
            lambda_.update_function_code(FunctionName=name, ZipFile=code)
        except lambda_.exceptions.ResourceNotFoundException:
            lambda_.create_function(
                FunctionName=name,
                Runtime=self.lab.runtime,
                Role=self.role,
                Handler="app.handler",
                Code={"ZipFile": code},
                Environment={
                    "Variables": {
                        "PREMIUM_TABLE": self.table,
                        "KEY_SECRET_ID": self.secret_arn,
                        "DISTRIBUTION_DOMAIN": self.domain,
                    }
                },
                Timeout=10,
            )
        return name


@pytest.fixture(scope="module")
def given(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Given]:
    """The lab with every exercise done right (the state each test starts from and leaves)."""
    lab = helpers.start("paid-content-lab", backend="moto")
    try:
        state = Given(lab)
        state.lab_dir = tmp_path_factory.mktemp("functions")  # type: ignore[attr-defined]
        state.make_videos_private()
        state.trust_key_group()
        yield state
    finally:
        lab.teardown()


@pytest.fixture
def restore(given: Given) -> Iterator[Given]:
    """Undo what a test breaks: the distribution, the bucket policy, Block Public Access."""
    config = given.config()
    policy = given.s3.get_bucket_policy(Bucket=given.bucket)["Policy"]
    yield given
    given.set_config(config)
    given.s3.put_public_access_block(
        Bucket=given.bucket, PublicAccessBlockConfiguration=ALL_BLOCKED
    )
    given.s3.put_bucket_policy(Bucket=given.bucket, Policy=policy)


def fails(inspect: Callable[..., str], lab: helpers.Lab, message: str) -> None:
    with pytest.raises(CheckFailed) as failure:
        inspect(lab)
    assert message in failure.value.message, failure.value.message


# ---- exercise 1: private videos -----------------------------------------------------------------
def test_private_videos_passes_with_oac_and_a_policy_for_this_distribution(given: Given) -> None:
    assert "S3 refuses everyone else" in check.private_videos(given.lab)


def test_private_videos_names_a_missing_oac(restore: Given) -> None:
    restore.update(lambda c: c["Origins"]["Items"][0].update(OriginAccessControlId=""))
    fails(check.private_videos, restore.lab, "has no Origin Access Control")


def test_private_videos_names_a_public_policy_first(restore: Given) -> None:
    restore.s3.delete_public_access_block(Bucket=restore.bucket)
    public = oac_policy(restore.bucket, Principal="*")
    restore.s3.put_bucket_policy(Bucket=restore.bucket, Policy=public)
    fails(check.private_videos, restore.lab, "the bucket policy lets anyone read objects")


def test_private_videos_names_block_public_access_off(restore: Given) -> None:
    restore.s3.put_public_access_block(
        Bucket=restore.bucket,
        PublicAccessBlockConfiguration={**ALL_BLOCKED, "BlockPublicPolicy": False},
    )
    fails(check.private_videos, restore.lab, "Block Public Access is off")


def test_private_videos_names_an_oac_that_does_not_sign(restore: Given) -> None:
    never = restore.oac("never")
    restore.update(lambda c: c["Origins"]["Items"][0].update(OriginAccessControlId=never))
    fails(check.private_videos, restore.lab, "SigningBehavior is never")


def test_private_videos_names_a_policy_without_cloudfront(restore: Given) -> None:
    restore.s3.delete_bucket_policy(Bucket=restore.bucket)
    fails(check.private_videos, restore.lab, "no statement of the bucket policy lets CloudFront")


def test_private_videos_names_the_bucket_arn_instead_of_its_objects(restore: Given) -> None:
    arn = f"arn:aws:s3:::{restore.bucket}"
    policy = oac_policy(
        restore.bucket, arn, Condition={"StringEquals": {"AWS:SourceArn": restore.dist_arn}}
    )
    restore.s3.put_bucket_policy(Bucket=restore.bucket, Policy=policy)
    fails(check.private_videos, restore.lab, "does not cover the objects")


def test_private_videos_names_a_policy_for_every_distribution(restore: Given) -> None:
    restore.s3.put_bucket_policy(Bucket=restore.bucket, Policy=oac_policy(restore.bucket))
    fails(check.private_videos, restore.lab, "lets every CloudFront distribution read")


def test_private_videos_names_a_second_statement_without_the_condition(restore: Given) -> None:
    """One statement for this distribution does not make up for another for every one."""
    right = json.loads(
        oac_policy(restore.bucket, Condition={"StringEquals": {"AWS:SourceArn": restore.dist_arn}})
    )["Statement"]
    open_to_all = json.loads(oac_policy(restore.bucket, Sid="AnyDistribution"))["Statement"]
    policy = {"Version": "2012-10-17", "Statement": right + open_to_all}
    restore.s3.put_bucket_policy(Bucket=restore.bucket, Policy=json.dumps(policy))
    fails(check.private_videos, restore.lab, "lets every CloudFront distribution read")


@pytest.mark.parametrize("operator", ["StringNotEquals", "ArnNotLike", "StringNotEqualsIfExists"])
def test_private_videos_names_a_negative_condition(restore: Given, operator: str) -> None:
    """`StringNotEquals` keeps one distribution out and lets every other in."""
    other = restore.dist_arn.rsplit("/", 1)[0] + "/E2OTHERDISTRIB"
    policy = oac_policy(restore.bucket, Condition={operator: {"AWS:SourceArn": other}})
    restore.s3.put_bucket_policy(Bucket=restore.bucket, Policy=policy)
    fails(check.private_videos, restore.lab, "lets every CloudFront distribution read")


@pytest.mark.parametrize("operator", ["ArnEquals", "ArnLike", "StringEqualsIfExists"])
def test_private_videos_accepts_other_positive_operators(restore: Given, operator: str) -> None:
    policy = oac_policy(restore.bucket, Condition={operator: {"AWS:SourceArn": restore.dist_arn}})
    restore.s3.put_bucket_policy(Bucket=restore.bucket, Policy=policy)
    assert "S3 refuses everyone else" in check.private_videos(restore.lab)


def test_private_videos_names_another_distribution(restore: Given) -> None:
    other = restore.dist_arn.rsplit("/", 1)[0] + "/E2OTHERDISTRIB"
    policy = oac_policy(restore.bucket, Condition={"StringEquals": {"AWS:SourceArn": other}})
    restore.s3.put_bucket_policy(Bucket=restore.bucket, Policy=policy)
    fails(check.private_videos, restore.lab, "not this distribution")


# ---- exercise 2: the key group ------------------------------------------------------------------
def test_key_group_passes_and_the_edge_serves_only_signed_requests(given: Given) -> None:
    assert "unsigned requests get 403 MissingKey" in check.key_group(given.lab)


def test_key_group_names_a_behaviour_without_key_groups(restore: Given) -> None:
    def untrusted(config: dict[str, Any]) -> None:
        config["CacheBehaviors"]["Items"][0]["TrustedKeyGroups"] = {"Enabled": False, "Quantity": 0}

    restore.update(untrusted)
    fails(check.key_group, restore.lab, "the behaviour for `/videos/*` trusts no key group")


def test_key_group_names_the_default_behaviour_trusting_instead(restore: Given) -> None:
    def on_default(config: dict[str, Any]) -> None:
        videos = config["CacheBehaviors"]["Items"][0]
        config["DefaultCacheBehavior"]["TrustedKeyGroups"] = videos["TrustedKeyGroups"]
        videos["TrustedKeyGroups"] = {"Enabled": False, "Quantity": 0}

    restore.update(on_default)
    fails(check.key_group, restore.lab, "the default behaviour trusts a key group")


def test_key_group_names_another_public_key(restore: Given) -> None:
    stray = public_key(restore.cf, restore.lab, "stray-key", rsa.generate_private_key(65537, 2048))
    group = restore.key_group("stray-signers", [stray])

    def stray_group(config: dict[str, Any]) -> None:
        trusted = config["CacheBehaviors"]["Items"][0]["TrustedKeyGroups"]
        trusted.update(Items=[group], Quantity=1)

    restore.update(stray_group)
    fails(check.key_group, restore.lab, f"the key group holds public key {stray}")


def test_key_group_names_http_allowed(restore: Given) -> None:
    restore.update(
        lambda c: c["CacheBehaviors"]["Items"][0].update(ViewerProtocolPolicy="allow-all")
    )
    fails(check.key_group, restore.lab, "allows HTTP")


def test_key_group_names_a_missing_videos_behaviour(restore: Given) -> None:
    restore.update(lambda c: c.update(CacheBehaviors={"Quantity": 0}))
    fails(check.key_group, restore.lab, "has no cache behaviour for `/videos/*`")


def test_key_group_sends_back_to_exercise_1_when_s3_refuses_cloudfront(restore: Given) -> None:
    restore.update(lambda c: c["Origins"]["Items"][0].update(OriginAccessControlId=""))
    # the edge has the video cached from earlier tests: as if never fetched
    restore.cf.create_invalidation(
        DistributionId=restore.dist_id,
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": "ex1"},
    )
    fails(check.key_group, restore.lab, "finish exercise 1")


class VirtualTime:
    """time.time/monotonic/sleep for helpers.lab and helpers.clock: sleeping moves it at once."""

    def __init__(self, start: float) -> None:
        self.now = start

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class AwsLab:
    """Just what `_eventually` uses of a lab on a real account: Lab.settle's AWS branch, which
    polls every `interval` seconds by waiting on a real (here virtual) clock."""

    offline = False
    settle = helpers.Lab.settle

    def __init__(self) -> None:
        self.clock = helpers.clock.Clock(offline=False)

    def _check_open(self) -> None:
        pass


def test_eventually_on_aws_signs_a_fresh_url_for_each_attempt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The distribution takes 10 minutes to deploy, longer than a signed URL lives (120 s): each
    attempt must carry a URL that has not expired yet, or a correct setup fails after 2 minutes."""
    clock = VirtualTime(1_700_000_000.0)
    monkeypatch.setattr(helpers.lab, "time", clock)
    monkeypatch.setattr(helpers.clock, "time", clock)
    lab = AwsLab()
    deployed_at = clock.now + 600
    key = {"keyPairId": "K2JCJMDEXMPL7Q", "privateKey": "unused"}
    monkeypatch.setattr(
        check, "_signed_url", lambda url, key, expires: f"{url}?Expires={expires}&Signature=s"
    )
    seen: list[tuple[float, int]] = []

    def edge(url: str) -> requests.Response:
        expires = int(url.split("Expires=", 1)[1].split("&", 1)[0])
        seen.append((clock.now, expires))
        response = requests.Response()
        if expires <= clock.now:
            response.status_code, response._content = 403, b"<Code>AccessDenied</Code>"
        elif clock.now < deployed_at:
            response.status_code, response._content = 403, b"<Code>InvalidKey</Code>"
        else:
            response.status_code, response._content = 200, b"RIFF video"
        return response

    monkeypatch.setattr(check, "_get", edge)
    video_url = f"https://d111111abcdef8.cloudfront.net/{check.VIDEO_KEY}"
    answer = check._eventually(
        lab,
        lambda: check._signed_url(video_url, key, int(lab.clock.now()) + 120),
        lambda r: r.status_code == 200,
        timeout=check.DEPLOY_TIMEOUT,
    )
    assert answer.status_code == 200, answer.text
    assert len(seen) > 120 // 15 + 1  # the wait outlasted one URL's life
    assert all(expires > at for at, expires in seen)  # every attempt's URL was still valid
    assert len({expires for _, expires in seen}) == len(seen)  # signed anew each time


def test_eventually_on_aws_gives_a_fixed_url_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = VirtualTime(1_700_000_000.0)
    monkeypatch.setattr(helpers.lab, "time", clock)
    monkeypatch.setattr(helpers.clock, "time", clock)
    urls: list[str] = []

    def edge(url: str) -> requests.Response:
        urls.append(url)
        response = requests.Response()
        response.status_code, response._content = 403, b"<Code>MissingKey</Code>"
        return response

    monkeypatch.setattr(check, "_get", edge)
    answer = check._eventually(AwsLab(), "https://example.net/x", lambda r: False, timeout=60)
    assert answer.status_code == 403
    assert urls and set(urls) == {"https://example.net/x"}
    assert clock.now >= 1_700_000_060


# ---- exercise 3: the signer ---------------------------------------------------------------------
def variant(*changes: tuple[str, str]) -> str:
    """The reference signer with (old, new) replacements: one common mistake."""
    source = SOLUTION_SIGNER.read_text()
    for old, new in changes:
        assert old in source, old
        source = source.replace(old, new)
    return source


def test_signer_passes_for_the_reference_answer(given: Given) -> None:
    given.deploy_signer(variant())
    assert "tampered and expired links are refused" in check.signer(given.lab)


def test_signer_names_a_missing_function(given: Given) -> None:
    lambda_ = given.lab.client("lambda")
    try:
        lambda_.delete_function(FunctionName=given.lab.name("signer"))
    except lambda_.exceptions.ResourceNotFoundException:
        pass
    fails(check.signer, given.lab, "there is no function")


def test_signer_names_a_module_without_handler(given: Given) -> None:
    given.deploy_signer(variant(("def handler(event, context):", "def main(event, context):")))
    fails(check.signer, given.lab, "write handler(event, context)")


MISTAKES = {
    "the S3 URL": (
        [
            (
                'url = f"https://{DOMAIN}/',
                "url = f\"https://{os.environ['BUCKET']}.s3.amazonaws.com/",
            )
        ],
        "signed the S3 URL",
    ),
    "the key group's id": (
        [("&Key-Pair-Id={secret['keyPairId']}", "&Key-Pair-Id={os.environ['GROUP']}")],
        "is a key group's id",
    ),
    "another key id": (
        [("&Key-Pair-Id={secret['keyPairId']}", "&Key-Pair-Id=K2JCJMDEXMPL7Q")],
        "not the id of the public key",
    ),
    "an hour": ([("URL_TTL = 300", "URL_TTL = 3600")], "must expire within 5 minutes"),
    "milliseconds": (
        [('["requestTimeEpoch"] // 1000 + URL_TTL', '["requestTimeEpoch"] + URL_TTL * 1000')],
        "is in milliseconds",
    ),
    "plain base64": (
        [('.translate(str.maketrans("+=/", "-_~"))', "")],
        "plain base64",
    ),
    "a policy with spaces": (
        [('\'{"Statement":[{"Resource":"\' + url', '\'{"Statement": [{"Resource": "\' + url')],
        "the signature does not verify",
    ),
    "no premium check": (
        [('if not item or item.get("premium") is not True:', "if False:")],
        "the non-premium user ben@example.com got 200",
    ),
    "a KeyError for strangers": (
        [
            ('.get("Item")', '["Item"]'),
            ('if not item or item.get("premium") is not True:', 'if not item["premium"]:'),
        ],
        "for unknown user zed@example.com the signer raised KeyError: 'Item' (an unknown user",
    ),
    "a dict body": (
        [('"body": json.dumps(body),', '"body": body,')],
        "the body is a dict",
    ),
    "the email at the top of the event": (
        [('event["requestContext"]["authorizer"]["claims"]["email"]', 'event["email"]')],
        "the caller's email is in requestContext.authorizer.claims.email",
    ),
    "no proxy response": (
        [('return respond(200, {"url": signed, "expires": expires})', 'return {"url": signed}')],
        "return an API Gateway proxy",
    ),
}


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_signer_names_the_mistake(given: Given, mistake: str) -> None:
    changes, message = MISTAKES[mistake]
    lambda_ = given.lab.client("lambda")
    given.deploy_signer(variant(*changes))
    name = given.lab.name("signer")
    env = lambda_.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
    extra = {"BUCKET": given.bucket, "GROUP": given.group_id}
    lambda_.update_function_configuration(
        FunctionName=name, Environment={"Variables": {**env, **extra}}
    )
    fails(check.signer, given.lab, message)


def test_signer_names_a_plus_left_in_the_signature(
    given: Given, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A signature that kept base64's `+` (swapping only `=` and `/`): a query parser reads `+`
    as a space, so the check looks at the raw query string."""
    given.deploy_signer(variant())
    invoke = check._invoke

    def plus_kept(lab: Any, name: str, email: str, who: str, hint: str = "") -> Any:
        status, body, requested = invoke(lab, name, email, who, hint)
        if email == check.PREMIUM:
            base, query = body["url"].split("?", 1)
            params = dict(p.split("=", 1) for p in query.split("&"))
            params["Signature"] = "+" + params["Signature"][1:].replace("-", "+")
            body = {**body, "url": base + "?" + "&".join(f"{k}={v}" for k, v in params.items())}
        return status, body, requested

    monkeypatch.setattr(check, "_invoke", plus_kept)
    fails(check.signer, given.lab, "plain base64")


def test_signer_names_a_deadline_taken_from_another_clock(given: Given) -> None:
    """A function's clock is not the request's: offline the lab clock runs ahead of the
    function's, as an API Gateway request's time can differ from a worker's."""
    given.deploy_signer(
        variant(
            ("import re\n", "import re\nimport time\n"),
            (
                'event["requestContext"]["requestTimeEpoch"] // 1000 + URL_TTL',
                "int(time.time()) + URL_TTL",
            ),
        )
    )
    given.lab.clock.advance(600)
    fails(check.signer, given.lab, "count the five minutes from the event's requestContext")
