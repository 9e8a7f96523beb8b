"""helpers.checks.policies: policies read as IAM documents them."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

import helpers
from helpers.checks import policies
from tests.emulator.conftest import TRUST_POLICY

STATEMENT = {
    "Effect": "Allow",
    "Action": ["sqs:ReceiveMessage", "lambda:Invoke*"],
    "Resource": "arn:aws:lambda:us-east-1:123456789012:function:transform:*",
}


def test_one_value_or_a_list():
    assert policies.as_list(None) == []
    assert policies.as_list("s3:GetObject") == ["s3:GetObject"]
    assert policies.as_list(["a", "b"]) == ["a", "b"]


def test_documents_as_the_apis_return_them():
    policy = {"Version": "2012-10-17", "Statement": STATEMENT}
    # IAM's GetRolePolicy returns the document URL-encoded (RFC 3986); boto3 may decode it
    for raw in (policy, json.dumps(policy), quote(json.dumps(policy))):
        assert policies.statements(raw) == [STATEMENT]
    assert policies.statements(None) == [] and policies.statements("") == []


def test_iam_wildcards_are_star_and_question_mark_only():
    assert policies.wildcard(
        "arn:aws:s3:::photos-*/uploads/?.jpg", "arn:aws:s3:::photos-1/uploads/a.jpg"
    )
    assert not policies.wildcard("arn:aws:s3:::photos-[12]", "arn:aws:s3:::photos-1")
    assert policies.wildcard("arn:aws:s3:::photos-[12]", "arn:aws:s3:::photos-[12]")
    assert policies.wildcard("S3:GET*", "s3:GetObject", ignore_case=True)
    assert not policies.wildcard("S3:GET*", "s3:GetObject")


def test_a_statement_grants_an_action_on_a_resource():
    arn = "arn:aws:lambda:us-east-1:123456789012:function:transform"
    assert policies.grants(STATEMENT, "lambda:InvokeFunction", f"{arn}:$LATEST")
    assert policies.grants(
        STATEMENT, "LAMBDA:invokefunction", [arn, f"{arn}:1"]
    )  # actions: any case
    assert not policies.grants(STATEMENT, "lambda:InvokeFunction", arn)  # `:*` needs a qualifier
    assert not policies.grants(STATEMENT, "lambda:GetFunction", f"{arn}:1")
    assert not policies.grants({"Action": "*"}, "s3:GetObject", "arn:aws:s3:::b/k")  # no Resource


@pytest.fixture
def lab():
    lab = helpers.start("policies", backend="moto")
    yield lab
    lab.teardown()


def test_a_roles_inline_and_attached_policies(lab):
    iam = lab.client("iam")
    role = iam.create_role(RoleName=lab.name("role"), AssumeRolePolicyDocument=TRUST_POLICY)
    inline = {"Version": "2012-10-17", "Statement": [STATEMENT]}
    iam.put_role_policy(
        RoleName=lab.name("role"), PolicyName="inline", PolicyDocument=json.dumps(inline)
    )
    managed = {"Version": "2012-10-17", "Statement": [{**STATEMENT, "Action": "sns:Publish"}]}
    arn = iam.create_policy(PolicyName=lab.name("managed"), PolicyDocument=json.dumps(managed))
    iam.attach_role_policy(RoleName=lab.name("role"), PolicyArn=arn["Policy"]["Arn"])
    assert policies.role_documents(lab, role["Role"]["Arn"]) == [inline, managed]
