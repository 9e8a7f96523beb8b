"""Fixtures for the teardown tests: a moto account, a tracker, attached and plain client factories."""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Callable, Iterator

import boto3
import pytest
from botocore.client import BaseClient
from moto import mock_aws

from helpers.teardown import Tracker

REGION = "us-east-1"
OTHER_REGION = "eu-west-1"
ACCOUNT = "123456789012"
TAG_KEY = "labbook:lab"
LAB_TAGS = {TAG_KEY: "blog", "labbook:run": "run-1"}
PREFIX = "lab-blog-"

Factory = Callable[..., BaseClient]

_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
}


@pytest.fixture(scope="session")
def session() -> Iterator[boto3.session.Session]:
    """One boto3 session (its model cache makes clients cheap), with fake credentials."""
    saved = {k: os.environ.get(k) for k in [*_ENV, "AWS_PROFILE"]}
    os.environ.update(_ENV)
    os.environ.pop("AWS_PROFILE", None)
    yield boto3.session.Session()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def aws(session: boto3.session.Session) -> Iterator[None]:
    """A fresh, empty moto account for one test."""
    with mock_aws():
        yield


def _factory(session: boto3.session.Session, tracker: Tracker | None) -> Factory:
    cache: dict[tuple[str, str], BaseClient] = {}

    def client(service: str, region: str = REGION) -> BaseClient:
        if (service, region) not in cache:
            cache[(service, region)] = session.client(service, region_name=region)
            if tracker is not None:
                tracker.attach(cache[(service, region)])
        return cache[(service, region)]

    return client


@pytest.fixture
def tracker(aws: None) -> Tracker:
    """The lab's tracker."""
    return Tracker(tags=LAB_TAGS, region=REGION)


@pytest.fixture
def lab(session: boto3.session.Session, tracker: Tracker) -> Factory:
    """Clients as a notebook gets them: attached to the tracker."""
    return _factory(session, tracker)


@pytest.fixture
def plain(session: boto3.session.Session, aws: None) -> Factory:
    """Clients nobody tracks: for teardown, discover and independent checks."""
    return _factory(session, None)


def lambda_zip() -> bytes:
    """A deployable Lambda package with one handler."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", "def handler(event, context):\n    return event\n")
    return buf.getvalue()


def make_role(client: Factory, name: str = f"{PREFIX}fn-role") -> str:
    """An execution role Lambda (or Firehose) may assume; returns its ARN."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": ["lambda.amazonaws.com", "firehose.amazonaws.com"]},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    return client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))[
        "Role"
    ]["Arn"]


def make_function(client: Factory, name: str = f"{PREFIX}fn", **extra: object) -> str:
    """A Lambda function; returns its ARN."""
    return client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=make_role(client),
        Handler="app.handler",
        Code={"ZipFile": lambda_zip()},
        **extra,
    )["FunctionArn"]


def make_vpc(client: Factory) -> tuple[str, list[str]]:
    """A VPC with two subnets in two AZs; returns (vpc id, subnet ids)."""
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{az}")[
            "Subnet"
        ]["SubnetId"]
        for i, az in enumerate("ab")
    ]
    return vpc, subnets
