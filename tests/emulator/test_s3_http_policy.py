"""Bucket-policy evaluation and the meaning of "public", as S3 documents them.

No lab here: `s3_access.evaluate` and `s3_access.policy_is_public` are pure functions of the
policy JSON a learner writes and the caller that asks.
"""

from __future__ import annotations

import pytest

from helpers.emulator import s3_access
from helpers.emulator.s3_access import ALLOW, DENY, IMPLICIT, evaluate, policy_is_public

BUCKET = "arn:aws:s3:::photos"
OBJECT = "arn:aws:s3:::photos/2024/cat.jpg"
DISTRIBUTION = "arn:aws:cloudfront::123456789012:distribution/E2QWRUHEXAMPLE"
ANONYMOUS = s3_access.anonymous("203.0.113.7")
CLOUDFRONT = s3_access.cloudfront(DISTRIBUTION)


def policy(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(principal="*", action="s3:GetObject", resource="arn:aws:s3:::photos/*", **extra):
    return {
        "Effect": "Allow",
        "Principal": principal,
        "Action": action,
        "Resource": resource,
        **extra,
    }


OAC_STATEMENT = allow(
    {"Service": "cloudfront.amazonaws.com"},
    Condition={"StringEquals": {"AWS:SourceArn": DISTRIBUTION}},
)


def test_no_policy_grants_nothing():
    assert evaluate(None, ANONYMOUS, "s3:GetObject", OBJECT) == IMPLICIT


def test_a_public_read_statement_allows_anonymous_gets_of_objects_only():
    doc = policy(allow())
    assert evaluate(doc, ANONYMOUS, "s3:GetObject", OBJECT) == ALLOW
    assert evaluate(doc, ANONYMOUS, "s3:ListBucket", BUCKET) == IMPLICIT
    assert evaluate(doc, ANONYMOUS, "s3:PutObject", OBJECT) == IMPLICIT


def test_principal_aws_star_is_everyone_too():
    assert evaluate(policy(allow({"AWS": "*"})), ANONYMOUS, "s3:GetObject", OBJECT) == ALLOW


def test_the_oac_policy_admits_only_its_distribution():
    doc = policy(OAC_STATEMENT)
    assert evaluate(doc, CLOUDFRONT, "s3:GetObject", OBJECT) == ALLOW
    other = s3_access.cloudfront("arn:aws:cloudfront::123456789012:distribution/EOTHER")
    assert evaluate(doc, other, "s3:GetObject", OBJECT) == IMPLICIT
    assert evaluate(doc, ANONYMOUS, "s3:GetObject", OBJECT) == IMPLICIT


def test_condition_keys_are_case_insensitive_and_arn_like_takes_wildcards():
    doc = policy(
        allow(
            {"Service": "cloudfront.amazonaws.com"},
            Condition={"ArnLike": {"aws:sourcearn": "arn:aws:cloudfront::123456789012:*"}},
        )
    )
    assert evaluate(doc, CLOUDFRONT, "s3:GetObject", OBJECT) == ALLOW


def test_an_explicit_deny_wins_over_any_allow():
    doc = policy(
        allow(),
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": "arn:aws:s3:::photos/2024/*",
        },
    )
    assert evaluate(doc, ANONYMOUS, "s3:GetObject", OBJECT) == DENY
    assert evaluate(doc, ANONYMOUS, "s3:GetObject", "arn:aws:s3:::photos/2023/a.jpg") == ALLOW


@pytest.mark.parametrize(
    ("pattern", "resource", "applies"),
    [
        ("arn:aws:s3:::photos/*.jpg", OBJECT, True),
        ("arn:aws:s3:::photos/202?/*", OBJECT, True),
        ("arn:aws:s3:::photos/2024/CAT.jpg", OBJECT, False),  # resources are case-sensitive
        ("arn:aws:s3:::photo", BUCKET, False),
    ],
)
def test_resource_wildcards(pattern, resource, applies):
    doc = policy(allow(resource=pattern))
    assert (evaluate(doc, ANONYMOUS, "s3:GetObject", resource) == ALLOW) is applies


def test_actions_match_case_insensitively_with_wildcards():
    doc = policy(allow(action=["S3:Get*"]))
    assert evaluate(doc, ANONYMOUS, "s3:GetObject", OBJECT) == ALLOW


def test_not_action_and_not_principal():
    doc = policy(
        {"Effect": "Allow", "Principal": "*", "NotAction": "s3:Delete*", "Resource": "*"},
        {
            "Effect": "Deny",
            "NotPrincipal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::photos/private/*",
        },
    )
    assert evaluate(doc, ANONYMOUS, "s3:GetObject", OBJECT) == ALLOW
    assert evaluate(doc, ANONYMOUS, "s3:DeleteObject", OBJECT) == IMPLICIT
    private = "arn:aws:s3:::photos/private/x"
    assert evaluate(doc, ANONYMOUS, "s3:GetObject", private) == DENY
    assert evaluate(doc, CLOUDFRONT, "s3:GetObject", private) == ALLOW


def test_source_ip_conditions():
    doc = policy(allow(Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}))
    assert evaluate(doc, ANONYMOUS, "s3:GetObject", OBJECT) == ALLOW
    elsewhere = s3_access.anonymous("198.51.100.1")
    assert evaluate(doc, elsewhere, "s3:GetObject", OBJECT) == IMPLICIT


def test_a_missing_key_fails_positive_tests_and_passes_negated_ones():
    positive = policy(allow(Condition={"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}))
    negated = policy(allow(Condition={"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}))
    if_exists = policy(allow(Condition={"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1"}}))
    assert evaluate(positive, ANONYMOUS, "s3:GetObject", OBJECT) == IMPLICIT
    assert evaluate(negated, ANONYMOUS, "s3:GetObject", OBJECT) == ALLOW
    assert evaluate(if_exists, ANONYMOUS, "s3:GetObject", OBJECT) == ALLOW


def test_deny_insecure_transport():
    doc = policy(
        allow(),
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": ["arn:aws:s3:::photos", "arn:aws:s3:::photos/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    )
    plain_http = s3_access.anonymous("203.0.113.7", secure=False)
    assert evaluate(doc, ANONYMOUS, "s3:GetObject", OBJECT) == ALLOW
    assert evaluate(doc, plain_http, "s3:GetObject", OBJECT) == DENY


def test_date_conditions_read_the_request_time():
    doc = policy(allow(Condition={"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}))
    before = s3_access.anonymous("203.0.113.7", now=1_700_000_000)  # November 2023
    after = s3_access.anonymous("203.0.113.7", now=1_900_000_000)  # March 2030
    assert evaluate(doc, before, "s3:GetObject", OBJECT) == ALLOW
    assert evaluate(doc, after, "s3:GetObject", OBJECT) == IMPLICIT


def test_an_unsupported_operator_says_so():
    doc = policy(allow(Condition={"BinaryEquals": {"aws:UserAgent": "QmluYXJ5"}}))
    with pytest.raises(ValueError, match="BinaryEquals"):
        evaluate(doc, ANONYMOUS, "s3:GetObject", OBJECT)


# ---- the meaning of "public" (Block Public Access) ------------------------------------------------
@pytest.mark.parametrize(
    ("statement", "public"),
    [
        (allow(), True),
        (allow({"AWS": "*"}), True),
        (allow({"AWS": ["arn:aws:iam::111122223333:root", "*"]}), True),
        (allow({"AWS": "arn:aws:iam::111122223333:root"}), False),
        (OAC_STATEMENT, False),  # a fixed service principal
        (allow({"Service": "cloudfront.amazonaws.com"}), False),
        (allow(Condition={"StringEquals": {"aws:SourceArn": DISTRIBUTION}}), False),
        (allow(Condition={"StringLike": {"aws:SourceArn": "arn:aws:cloudfront::*"}}), True),
        (allow(Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}), False),
        (allow(Condition={"IpAddress": {"aws:SourceIp": "0.0.0.0/1"}}), True),
        (allow(Condition={"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}), False),
        (allow(Condition={"StringEquals": {"aws:Referer": "https://example.com"}}), True),
        ({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}, False),
    ],
)
def test_which_policies_are_public(statement, public):
    assert policy_is_public(policy(statement)) is public
