"""The lab: backend choice, the real-account guard, names, clock, settle and teardown."""

from __future__ import annotations

import re

import boto3
import pytest
from moto import mock_aws

import helpers
from helpers import backends
from helpers.backends import BackendError
from helpers.clock import Clock

# AWS naming rules, from each service's API reference
S3_BUCKET = re.compile(r"^(?!xn--)(?!.*-s3alias$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
DYNAMODB_TABLE = re.compile(r"^[a-zA-Z0-9_.-]{3,255}$")
LAMBDA_FUNCTION = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")
SQS_QUEUE = re.compile(r"^[a-zA-Z0-9_-]{1,80}$")
SQS_FIFO = re.compile(r"^[a-zA-Z0-9_-]{1,75}\.fifo$")
SNS_TOPIC = re.compile(r"^[a-zA-Z0-9_-]{1,256}$")
IAM_ROLE = re.compile(r"^[\w+=,.@-]{1,64}$")
COGNITO_POOL = re.compile(r"^[\w\s+=,.@-]{1,128}$")
KINESIS_STREAM = re.compile(r"^[a-zA-Z0-9_.-]{1,128}$")


@pytest.fixture
def lab():
    with helpers.start("unit-lab") as lab:
        yield lab


def test_unknown_backend_names_the_choices():
    with pytest.raises(BackendError, match=r"unknown backend 'mocked'.*moto, moto-server, aws"):
        helpers.start("x", backend="mocked")


def test_backend_comes_from_environment(monkeypatch):
    monkeypatch.setenv("LAB_BACKEND", "moto-server")
    assert backends.choose(None) == "moto-server"
    monkeypatch.delenv("LAB_BACKEND")
    assert backends.choose(None) == "moto"


def test_aws_backend_refused_without_opt_in(monkeypatch):
    monkeypatch.delenv(backends.OPT_IN_VAR, raising=False)
    with pytest.raises(BackendError, match="LABBOOK_ALLOW_AWS=1"):
        helpers.start("x", backend="aws")


def test_aws_backend_refuses_credentials_for_another_account(monkeypatch):
    # GIVEN opted in, expecting account 111122223333, with credentials for 123456789012 (moto's)
    monkeypatch.setenv(backends.OPT_IN_VAR, "1")
    monkeypatch.setenv(backends.ACCOUNT_VAR, "111122223333")
    with mock_aws():
        # WHEN the lab starts THEN it refuses and names both accounts
        with pytest.raises(BackendError, match=r"account 123456789012.*says 111122223333"):
            helpers.start("x", backend="aws")
        # and nothing was created
        assert boto3.client("s3", region_name="us-east-1").list_buckets()["Buckets"] == []


def test_aws_backend_announces_account_and_region_before_creating(monkeypatch, capsys):
    monkeypatch.setenv(backends.OPT_IN_VAR, "1")
    monkeypatch.setenv(backends.ACCOUNT_VAR, "123456789012")
    with mock_aws():
        lab = helpers.start("guarded", backend="aws", estimated_cost="0.01")
        out = capsys.readouterr().out
        assert "123456789012" in out and "us-east-1" in out and "$0.01" in out
        assert re.fullmatch(r"guarded-[0-9a-f]{6}", lab.prefix)
        report = lab.teardown()
        assert report.clean


@pytest.mark.parametrize("base", ["photos", "Thumbnail_Queue", "a" * 80, "x"])
def test_names_are_valid_for_every_service(lab, base):
    name = lab.name(base)
    for rule in (
        S3_BUCKET,
        DYNAMODB_TABLE,
        LAMBDA_FUNCTION,
        SQS_QUEUE,
        SNS_TOPIC,
        IAM_ROLE,
        COGNITO_POOL,
        KINESIS_STREAM,
    ):
        assert rule.match(name), (rule.pattern, name)
    assert SQS_FIFO.match(lab.name(base, fifo=True))


def test_names_are_unique_per_base_and_per_run(lab):
    assert lab.name("a") != lab.name("b")
    assert lab.name("a" * 80 + "1") != lab.name("a" * 80 + "2")
    second = helpers.start("unit-lab")
    try:
        assert second.name("a") != lab.name("a")
    finally:
        second.teardown()


def test_bad_lab_name_is_refused():
    with pytest.raises(ValueError, match="must start with a letter"):
        helpers.start("9lives")


def test_clock_advances_instantly_offline_and_only_forward():
    clock = Clock(offline=True)
    before = clock.now()
    clock.advance(3600)
    assert 3600 <= clock.now() - before < 3601
    with pytest.raises(ValueError, match="only moves forward"):
        clock.advance(-1)


def test_clock_drives_sqs_visibility_timeout(lab):
    # GIVEN a message received with a 30 s visibility timeout
    sqs = lab.client("sqs")
    url = sqs.create_queue(QueueName=lab.name("q"))["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="m")
    assert sqs.receive_message(QueueUrl=url, VisibilityTimeout=30).get("Messages")
    # THEN it stays invisible until the lab clock passes 30 s, with no real wait
    assert not sqs.receive_message(QueueUrl=url).get("Messages")
    lab.clock.advance(31)
    assert sqs.receive_message(QueueUrl=url).get("Messages")


def test_dynamodb_streams_work_with_current_boto3(lab):
    ddb = lab.client("dynamodb")
    table = ddb.create_table(
        TableName=lab.name("t"),
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]
    streams = lab.client("dynamodbstreams")
    desc = streams.describe_stream(StreamArn=table["LatestStreamArn"])["StreamDescription"]
    assert desc["StreamStatus"] in ("ENABLED", "ENABLING")


def test_teardown_on_error_in_context_manager():
    with pytest.raises(RuntimeError, match="boom"):
        with helpers.start("ctx") as lab:
            lab.client("s3").create_bucket(Bucket=lab.name("b"))
            raise RuntimeError("boom")
    report = lab.teardown()  # already done by the with block: returns the same report
    assert [r.id for r in report.deleted] == [lab.name("b")] and report.clean
    with pytest.raises(RuntimeError, match="was torn down"):
        lab.client("s3")


def test_moto_server_backend_is_reachable_over_http(tmp_path):
    import urllib.error
    import urllib.request

    with helpers.start("srv", backend="moto-server") as lab:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", lab.endpoint_url)
        s3 = lab.client("s3")
        bucket = lab.name("b")
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="hello.txt", Body=b"hi")
        # a plain anonymous HTTP request (as curl) reaches the same lab and, as on AWS, a
        # private bucket refuses it with 403
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{lab.endpoint_url}/{bucket}/hello.txt")
        assert refused.value.code == 403
        # a separate client given only the endpoint URL (as the AWS CLI's --endpoint-url) reads it
        other = boto3.client(
            "s3",
            endpoint_url=lab.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="x",
        )
        assert other.get_object(Bucket=bucket, Key="hello.txt")["Body"].read() == b"hi"


def test_offline_functions_run_with_this_python_and_package_from_this_environment():
    import io
    import sys
    import zipfile

    lab = helpers.start("runtime-check")
    try:
        assert lab.runtime == f"python{sys.version_info.major}.{sys.version_info.minor}"
        names = zipfile.ZipFile(
            io.BytesIO(lab.package(__file__, requirements=["pillow"]))
        ).namelist()
        assert any(n.startswith("PIL/") for n in names)  # bundled, without the network
        assert not any(n.startswith("boto3/") for n in names)  # the runtime provides it
    finally:
        lab.teardown()
