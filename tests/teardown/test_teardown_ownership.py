"""teardown(owned_prefix=..., run_tag=...): never delete what the lab did not create.

Several create calls succeed on a resource that already exists (S3 CreateBucket in us-east-1, SNS
CreateTopic, SQS CreateQueue, IoT CreateThing...): the Tracker records the learner's own resource.
The guard keeps it; the Tracker does not tag it. These tests run the real-account path (plain
boto3 clients, wait=True) on moto.
"""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

import helpers.teardown as td
from helpers.teardown import Resource, Tracker, teardown

from .conftest import REGION, Factory, _factory

RUN_ID = "1a2b3c"
PREFIX = f"myblog-{RUN_ID}"
RUN_TAG = ("labbook:run", RUN_ID)
TAGS = {"labbook:lab": "myblog", "labbook:run": RUN_ID}
KEPT = "not created by this lab (kept): "


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    def sleep(seconds: float) -> None:
        raise AssertionError("teardown slept on moto")

    monkeypatch.setattr(td, "_sleep", sleep)


def guarded_teardown(resources: list[Resource], plain: Factory) -> td.TeardownReport:
    """What Lab.teardown() runs on a real account."""
    return teardown(resources, plain, wait=True, owned_prefix=PREFIX, run_tag=RUN_TAG)


def lab_clients(session: boto3.session.Session, **tracker_args: object) -> tuple[Tracker, Factory]:
    tracker = Tracker(tags=TAGS, region=REGION, **tracker_args)
    return tracker, _factory(session, tracker)


def bucket_tags(s3, bucket: str) -> dict[str, str]:
    try:
        return {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]}
    except ClientError:
        return {}


def test_a_learners_bucket_and_topic_created_again_are_kept_untagged(
    session: boto3.session.Session, plain: Factory
) -> None:
    # GIVEN the learner's own bucket (with an object) and topic, made before the lab
    plain("s3").create_bucket(Bucket="my-photos")
    plain("s3").put_object(Bucket="my-photos", Key="cat.jpg", Body=b"meow")
    mine_topic = plain("sns").create_topic(Name="alerts")["TopicArn"]
    # WHEN the lab "creates" them again (both calls succeed on AWS) next to its own two
    tracker, lab = lab_clients(session, owned_prefix=PREFIX)
    lab("s3").create_bucket(Bucket="my-photos")
    lab("sns").create_topic(Name="alerts")
    lab("s3").create_bucket(Bucket=f"{PREFIX}-photos")
    lab("s3").put_object(Bucket=f"{PREFIX}-photos", Key="dog.jpg", Body=b"woof")
    lab_topic = lab("sns").create_topic(Name=f"{PREFIX}-alerts")["TopicArn"]
    learners = {
        Resource("s3", "bucket", "my-photos", REGION),
        Resource("sns", "topic", mine_topic, REGION),
    }
    assert learners <= set(tracker.resources)  # recorded: the create calls returned them
    assert bucket_tags(plain("s3"), "my-photos") == {}  # ... but not tagged
    assert bucket_tags(plain("s3"), f"{PREFIX}-photos") == TAGS

    report = guarded_teardown(tracker.resources, plain)

    # THEN the lab's own are deleted, the learner's kept, untouched, and reported as kept
    assert {r.id for r in report.deleted} == {f"{PREFIX}-photos", lab_topic}
    assert set(report.left) == learners and not report.errors
    for r in learners:
        assert report.notes[r].startswith(KEPT), report.notes[r]
        assert "myblog-1a2b3c-" in report.notes[r]
    assert not report.clean
    text = str(report)
    assert text.count("not created by this lab (kept)") == 2
    body = plain("s3").get_object(Bucket="my-photos", Key="cat.jpg")["Body"].read()
    assert body == b"meow"
    assert plain("sns").get_topic_attributes(TopicArn=mine_topic)["Attributes"]
    buckets = [b["Name"] for b in plain("s3").list_buckets()["Buckets"]]
    assert buckets == ["my-photos"]


def test_the_run_tag_on_a_re_created_queue_proves_nothing(
    session: boto3.session.Session, plain: Factory
) -> None:
    # GIVEN the learner's queue, "created" again by a tracker without owned_prefix: the create
    # call carries the lab's tags and moto (like some services) adds them to the existing queue
    url = plain("sqs").create_queue(QueueName="orders")["QueueUrl"]
    tracker, lab = lab_clients(session)
    lab("sqs").create_queue(QueueName="orders")
    assert plain("sqs").list_queue_tags(QueueUrl=url)["Tags"]["labbook:run"] == RUN_ID

    report = guarded_teardown(tracker.resources, plain)

    # THEN it is still kept: for such kinds only the name counts
    assert report.left == [Resource("sqs", "queue", url, REGION)]
    assert "its tags prove nothing" in report.notes[report.left[0]]
    assert plain("sqs").get_queue_url(QueueName="orders")["QueueUrl"] == url


def test_the_tracker_with_owned_prefix_does_not_tag_an_unprefixed_queue(
    session: boto3.session.Session, plain: Factory
) -> None:
    tracker, lab = lab_clients(session, owned_prefix=PREFIX)
    mine = lab("sqs").create_queue(QueueName="orders")["QueueUrl"]
    ours = lab("sqs").create_queue(QueueName=f"{PREFIX}-jobs")["QueueUrl"]

    assert plain("sqs").list_queue_tags(QueueUrl=mine).get("Tags", {}) == {}
    assert plain("sqs").list_queue_tags(QueueUrl=ours)["Tags"] == TAGS


def test_unnamed_resources_are_owned_by_their_run_tag(
    session: boto3.session.Session, plain: Factory
) -> None:
    # GIVEN a VPC the lab made (tagged at creation) and one the learner made, recorded anyway
    tracker, lab = lab_clients(session, owned_prefix=PREFIX)
    ours = lab("ec2").create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    theirs = plain("ec2").create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    tracker.record(Resource("ec2", "vpc", theirs, REGION))

    report = guarded_teardown(tracker.resources, plain)

    assert report.deleted == [Resource("ec2", "vpc", ours, REGION)]
    assert report.left == [Resource("ec2", "vpc", theirs, REGION)]
    assert "lacks the tag labbook:run=1a2b3c" in report.notes[report.left[0]]
    assert plain("ec2").describe_vpcs(VpcIds=[theirs])["Vpcs"]


def test_names_are_read_from_urls_arns_log_group_paths_and_iot_spelling(
    session: boto3.session.Session, plain: Factory
) -> None:
    tracker, lab = lab_clients(session, owned_prefix=PREFIX)
    lab("iot").create_thing(thingName="myblog_1a2b3c_sensor")
    plain("iot").create_thing(thingName="sensor")
    lab("iot").create_thing(thingName="sensor")  # returns the learner's thing
    lab("logs").create_log_group(logGroupName=f"/aws/lambda/{PREFIX}-fn")
    lab("sqs").create_queue(QueueName=f"{PREFIX}-jobs")
    lab("sns").create_topic(Name=f"{PREFIX}-alerts")

    report = guarded_teardown(tracker.resources, plain)

    assert {r.label or r.id for r in report.deleted} == {
        "myblog_1a2b3c_sensor",
        f"/aws/lambda/{PREFIX}-fn",
        f"{PREFIX}-jobs",
        f"{PREFIX}-alerts",
    }
    assert report.left == [Resource("iot", "thing", "sensor", REGION)]
    assert plain("iot").describe_thing(thingName="sensor")["thingName"] == "sensor"


def test_only_a_run_tag_keeps_what_lacks_it_and_already_gone_is_fine(
    session: boto3.session.Session, plain: Factory
) -> None:
    tracker, lab = lab_clients(session)
    lab("dynamodb").create_table(
        TableName="posts",  # not prefixed, but tagged by the lab
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    gone = Resource("kinesis", "stream", "never-made", REGION)

    report = teardown([*tracker.resources, gone], plain, wait=True, run_tag=RUN_TAG)

    assert report.clean, str(report)
    assert report.notes[gone] == "already gone"
    assert plain("dynamodb").list_tables()["TableNames"] == []
