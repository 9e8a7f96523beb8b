"""Teardown behaviour: what gets recorded, caller tags, dependency order, failures, waiting, report."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

import helpers.teardown as td
from helpers.teardown import Resource, TeardownReport, Tracker, teardown

from .conftest import LAB_TAGS, OTHER_REGION, PREFIX, REGION, Factory, make_function, make_role
from .test_teardown_kinds import POLICY, create_distribution, public_key_pem

# --- recording ---------------------------------------------------------------------------------


def test_unattached_client_is_neither_recorded_nor_tagged(
    tracker: Tracker, lab: Factory, plain: Factory
) -> None:
    plain("s3").create_bucket(Bucket=f"{PREFIX}not-mine")
    lab("sqs").create_queue(QueueName=f"{PREFIX}mine")

    assert [(r.service, r.kind, r.label) for r in tracker.resources] == [
        ("sqs", "queue", f"{PREFIX}mine")
    ]
    with pytest.raises(ClientError) as err:
        plain("s3").get_bucket_tagging(Bucket=f"{PREFIX}not-mine")
    assert err.value.response["Error"]["Code"] == "NoSuchTagSet"


def test_failed_create_is_not_recorded(tracker: Tracker, lab: Factory) -> None:
    with pytest.raises(ClientError):
        lab("sqs").create_queue(QueueName="not a valid name!")
    with pytest.raises(ClientError):
        lab("iam").get_role(RoleName="missing")  # not a create call: ignored anyway
    assert tracker.resources == []


def test_attaching_twice_records_once(tracker: Tracker, lab: Factory) -> None:
    tracker.attach(lab("lambda"))
    make_function(lab)
    functions = [r for r in tracker.resources if r.kind == "function"]
    assert functions == [Resource("lambda", "function", f"{PREFIX}fn", REGION)]
    tags = lab("lambda").list_tags(
        Resource=lab("lambda").get_function(FunctionName=f"{PREFIX}fn")["Configuration"][
            "FunctionArn"
        ]
    )
    assert tags["Tags"] == LAB_TAGS


def test_manual_records_are_deduplicated_in_creation_order(aws: None) -> None:
    tracker = Tracker(tags=LAB_TAGS, region=REGION)
    queue = Resource("sqs", "queue", "https://sqs/q", REGION)
    replica = Resource("dynamodb", "table", "posts", OTHER_REGION)
    tracker.record(queue)
    tracker.record(replica)
    tracker.record(Resource("sqs", "queue", "https://sqs/q", REGION, label="q"))
    tracker.record(Resource("dynamodb", "table", "posts", OTHER_REGION, parent=REGION))
    assert tracker.resources == [queue, replica]
    assert tracker.resources[1].parent == REGION  # the fuller record wins


def test_replica_created_by_update_table_is_a_resource_in_its_region(
    tracker: Tracker, lab: Factory, plain: Factory
) -> None:
    ddb = lab("dynamodb")
    ddb.create_table(
        TableName=f"{PREFIX}subscribers",
        KeySchema=[{"AttributeName": "email", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "email", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    ddb.update_table(
        TableName=f"{PREFIX}subscribers",
        ReplicaUpdates=[{"Create": {"RegionName": OTHER_REGION}}],
    )
    replica = Resource("dynamodb", "table", f"{PREFIX}subscribers", OTHER_REGION)
    assert replica in tracker.resources
    assert tracker.resources[-1].parent == REGION
    # the emulator makes the replica a real table in the other region
    plain("dynamodb", OTHER_REGION).create_table(
        TableName=f"{PREFIX}subscribers",
        KeySchema=[{"AttributeName": "email", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "email", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )

    report = teardown(tracker.resources, plain)

    assert report.clean, str(report)
    assert plain("dynamodb").list_tables()["TableNames"] == []
    assert plain("dynamodb", OTHER_REGION).list_tables()["TableNames"] == []


# --- caller tags -------------------------------------------------------------------------------


def test_caller_tags_win_and_caller_objects_are_not_mutated(lab: Factory, plain: Factory) -> None:
    mine = {"labbook:lab": "mine", "team": "web"}
    lab("lambda").create_function(
        FunctionName=f"{PREFIX}fn",
        Runtime="python3.12",
        Role=make_role(lab),
        Handler="app.handler",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
        Tags=mine,
    )
    assert mine == {"labbook:lab": "mine", "team": "web"}
    arn = plain("lambda").get_function(FunctionName=f"{PREFIX}fn")["Configuration"]["FunctionArn"]
    assert plain("lambda").list_tags(Resource=arn)["Tags"] == {
        "labbook:lab": "mine",
        "team": "web",
        "labbook:run": "run-1",
    }


def test_caller_tags_kept_in_key_value_lists(lab: Factory, plain: Factory) -> None:
    theirs = [{"Key": "labbook:lab", "Value": "mine"}, {"Key": "team", "Value": "data"}]
    lab("dynamodb").create_table(
        TableName=f"{PREFIX}posts",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        Tags=theirs,
    )
    assert len(theirs) == 2
    arn = plain("dynamodb").describe_table(TableName=f"{PREFIX}posts")["Table"]["TableArn"]
    tags = plain("dynamodb").list_tags_of_resource(ResourceArn=arn)["Tags"]
    assert sorted(tags, key=lambda t: t["Key"]) == [
        {"Key": "labbook:lab", "Value": "mine"},
        {"Key": "labbook:run", "Value": "run-1"},
        {"Key": "team", "Value": "data"},
    ]


def test_caller_tag_specifications_kept_and_extended(lab: Factory, plain: Factory) -> None:
    vpc = lab("ec2").create_vpc(
        CidrBlock="10.1.0.0/16",
        TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "blog"}]}],
    )["Vpc"]["VpcId"]
    tags = plain("ec2").describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["Tags"]
    assert {(t["Key"], t["Value"]) for t in tags} == {("Name", "blog"), *LAB_TAGS.items()}


def test_ecs_lowercase_tags_kept(lab: Factory, plain: Factory) -> None:
    arn = lab("ecs").create_cluster(
        clusterName=f"{PREFIX}c", tags=[{"key": "labbook:lab", "value": "mine"}]
    )["cluster"]["clusterArn"]
    tags = plain("ecs").list_tags_for_resource(resourceArn=arn)["tags"]
    assert {(t["key"], t["value"]) for t in tags} == {
        ("labbook:lab", "mine"),
        ("labbook:run", "run-1"),
    }


def test_learner_bucket_tagging_keeps_lab_tags(lab: Factory, plain: Factory) -> None:
    lab("s3").create_bucket(Bucket=f"{PREFIX}site")
    lab("s3").put_bucket_tagging(
        Bucket=f"{PREFIX}site", Tagging={"TagSet": [{"Key": "env", "Value": "dev"}]}
    )
    tags = plain("s3").get_bucket_tagging(Bucket=f"{PREFIX}site")["TagSet"]
    assert {(t["Key"], t["Value"]) for t in tags} == {("env", "dev"), *LAB_TAGS.items()}


def test_auto_scaling_tags_propagate_at_launch(lab: Factory, plain: Factory) -> None:
    from .test_teardown_kinds import create_asg

    create_asg(lab)
    tags = plain("autoscaling").describe_tags()["Tags"]
    lab_tags = [t for t in tags if t["Key"] in LAB_TAGS]
    assert len(lab_tags) == 2 and all(t["PropagateAtLaunch"] for t in lab_tags)


# --- dependency order --------------------------------------------------------------------------


def _call_log(factory: Factory, services: list[str]) -> list[str]:
    """Record every operation the teardown's clients send, in order."""
    calls: list[str] = []
    for service in services:
        factory(service).meta.events.register(
            "before-call", lambda model, **_: calls.append(model.name)
        )
    return calls


def test_dependencies_are_deleted_first(tracker: Tracker, lab: Factory, plain: Factory) -> None:
    # GIVEN a versioned bucket with objects, versions and a delete marker
    s3 = lab("s3")
    s3.create_bucket(Bucket=f"{PREFIX}photos")
    s3.put_bucket_versioning(
        Bucket=f"{PREFIX}photos", VersioningConfiguration={"Status": "Enabled"}
    )
    for body in (b"v1", b"v2"):
        s3.put_object(Bucket=f"{PREFIX}photos", Key="cat.jpg", Body=body)
    s3.put_object(Bucket=f"{PREFIX}photos", Key="dog.jpg", Body=b"v1")
    s3.delete_object(Bucket=f"{PREFIX}photos", Key="dog.jpg")
    # AND a function whose role has a managed and an inline policy, fed by a queue (ESM)
    make_function(lab)
    iam = lab("iam")
    policy = iam.create_policy(PolicyName=f"{PREFIX}read", PolicyDocument=POLICY)["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=f"{PREFIX}fn-role", PolicyArn=policy)
    iam.put_role_policy(RoleName=f"{PREFIX}fn-role", PolicyName="logs", PolicyDocument=POLICY)
    queue = lab("sqs").create_queue(QueueName=f"{PREFIX}uploads")["QueueUrl"]
    queue_arn = lab("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    lab("lambda").create_event_source_mapping(EventSourceArn=queue_arn, FunctionName=f"{PREFIX}fn")
    # AND a topic with the queue subscribed, and the log group AWS makes on first invoke
    topic = lab("sns").create_topic(Name=f"{PREFIX}uploads")["TopicArn"]
    lab("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    plain("logs").create_log_group(logGroupName=f"/aws/lambda/{PREFIX}fn")
    calls = _call_log(plain, ["s3", "iam", "lambda", "sns", "sqs", "logs"])

    report = teardown(tracker.resources, plain)

    assert report.clean, str(report)

    def before(first: str, then: str) -> bool:
        return calls.index(first) < calls.index(then)

    assert before("DeleteObjects", "DeleteBucket")
    assert before("DeleteEventSourceMapping", "DeleteFunction")
    assert before("Unsubscribe", "DeleteTopic")
    assert before("DetachRolePolicy", "DeleteRole")
    assert before("DeleteRolePolicy", "DeleteRole")
    assert before("DeleteFunction", "DeleteRole")  # IAM goes last
    assert plain("s3").list_buckets()["Buckets"] == []
    assert plain("iam").list_roles()["Roles"] == []
    assert plain("iam").list_policies(Scope="Local")["Policies"] == []
    assert plain("sns").list_subscriptions()["Subscriptions"] == []
    assert plain("logs").describe_log_groups()["logGroups"] == []  # the function's log group


def test_deletion_order_puts_dependants_first_and_newest_first() -> None:
    made = [
        Resource("ec2", "vpc", "vpc-1", REGION),
        Resource("ec2", "subnet", "subnet-1", REGION),
        Resource("iam", "role", "r", REGION),
        Resource("lambda", "function", "f", REGION),
        Resource("s3", "bucket", "b1", REGION),
        Resource("s3", "bucket", "b2", REGION),
        Resource("lambda", "event-source-mapping", "u", REGION),
        Resource("cloudfront", "public-key", "K", REGION),
        Resource("cloudfront", "key-group", "G", REGION),
    ]
    order = [r.id for r in td._deletion_order(made)]
    assert order.index("u") < order.index("f") < order.index("r")
    assert order.index("G") < order.index("K")
    assert order.index("subnet-1") < order.index("vpc-1")
    assert order.index("b2") < order.index("b1")


# --- failures ----------------------------------------------------------------------------------


def test_failing_deleter_lands_in_errors_and_the_rest_is_deleted(
    tracker: Tracker, lab: Factory, plain: Factory
) -> None:
    queue = lab("sqs").create_queue(QueueName=f"{PREFIX}jobs")["QueueUrl"]
    lab("s3").create_bucket(Bucket=f"{PREFIX}photos")
    lab("sns").create_topic(Name=f"{PREFIX}alerts")

    def deny(**_: Any) -> None:
        raise ClientError(
            {"Error": {"Code": "AccessDenied", "Message": "not allowed to sqs:DeleteQueue"}},
            "DeleteQueue",
        )

    plain("sqs").meta.events.register("before-call.sqs.DeleteQueue", deny)

    report = teardown(tracker.resources, plain)

    assert not report.clean
    [(failed, message)] = report.errors
    assert failed.id == queue
    assert "AccessDenied" in message and "Fix:" in message
    assert report.left == [failed]
    assert {r.kind for r in report.deleted} == {"bucket", "topic"}
    assert plain("s3").list_buckets()["Buckets"] == []
    assert plain("sns").list_topics()["Topics"] == []
    assert plain("sqs").list_queues()["QueueUrls"] == [queue]
    assert "LEFT" in str(report) and "AccessDenied" in str(report)


def _key_group(lab: Factory) -> None:
    cf = lab("cloudfront")
    key = cf.create_public_key(
        PublicKeyConfig={
            "CallerReference": "k",
            "Name": f"{PREFIX}signer",
            "EncodedKey": public_key_pem(),
        }
    )["PublicKey"]["Id"]
    cf.create_key_group(KeyGroupConfig={"Name": f"{PREFIX}signers", "Items": [key]})


def _cache_subnet_group(lab: Factory) -> None:
    from .conftest import make_vpc

    _, subnets = make_vpc(lab)
    lab("elasticache").create_cache_subnet_group(
        CacheSubnetGroupName=f"{PREFIX}cache",
        CacheSubnetGroupDescription="cache",
        SubnetIds=subnets,
    )


@pytest.mark.parametrize(
    ("create", "kind"),
    [(_key_group, "key-group"), (_cache_subnet_group, "cache-subnet-group")],
    ids=["cloudfront-key-group", "elasticache-cache-subnet-group"],
)
def test_delete_moto_does_not_implement_is_reported_not_raised(
    create: Any, kind: str, tracker: Tracker, lab: Factory, plain: Factory
) -> None:
    create(lab)

    report = teardown(tracker.resources, plain)

    [(failed, message)] = report.errors
    assert failed.kind == kind
    assert "moto does not implement" in message
    assert report.left == [failed]
    assert len(report.deleted) == len(tracker.resources) - 1  # everything else went


def test_already_deleted_counts_as_deleted(tracker: Tracker, lab: Factory, plain: Factory) -> None:
    queue = lab("sqs").create_queue(QueueName=f"{PREFIX}jobs")["QueueUrl"]
    lab("sqs").delete_queue(QueueUrl=queue)  # the notebook cleaned it up itself

    report = teardown(tracker.resources, plain)

    assert report.clean and [r.id for r in report.deleted] == [queue]
    assert report.notes[report.deleted[0]] == "already gone"


def test_kind_without_deleter_is_an_error_naming_the_fix(plain: Factory) -> None:
    odd = Resource("redshift", "cluster", "lab-blog-wh", REGION)
    report = teardown([odd], plain)
    assert report.errors == [
        (odd, "no deleter for redshift cluster: delete lab-blog-wh by hand (AWS console or CLI)")
    ]
    assert report.left == [odd]


def test_throttled_delete_is_retried(
    tracker: Tracker, lab: Factory, plain: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    lab("apigateway").create_rest_api(name=f"{PREFIX}api")
    slept: list[float] = []
    monkeypatch.setattr(td, "_sleep", slept.append)
    throttled = []

    def throttle_once(**_: Any) -> None:
        if not throttled:
            throttled.append(1)
            raise ClientError(
                {"Error": {"Code": "TooManyRequestsException", "Message": "Too Many Requests"}},
                "DeleteRestApi",
            )

    plain("apigateway").meta.events.register("before-call.api-gateway.DeleteRestApi", throttle_once)

    report = teardown(tracker.resources, plain)

    assert report.clean, str(report)
    assert slept == [2.0]
    assert plain("apigateway").get_rest_apis()["items"] == []


# --- waiting: CloudFront must be disabled and deployed before it can be deleted -----------------


def _deploying(factory: Factory) -> dict:
    """Make GetDistribution report InProgress while state["deploying"] is true, as AWS does."""
    state = {"deploying": True}

    def status(parsed: dict, **_: Any) -> None:
        if state["deploying"] and "Distribution" in parsed:
            parsed["Distribution"]["Status"] = "InProgress"

    factory("cloudfront").meta.events.register("after-call.cloudfront.GetDistribution", status)
    return state


def test_distribution_still_deploying_is_left_with_the_reason(
    tracker: Tracker, lab: Factory, plain: Factory
) -> None:
    create_distribution(lab)
    _deploying(plain)

    report = teardown(tracker.resources, plain)

    [dist] = report.left
    assert report.errors == []
    assert "deploying" in report.notes[dist] and "wait=True" in report.notes[dist]
    config = plain("cloudfront").get_distribution_config(Id=dist.id)["DistributionConfig"]
    assert config["Enabled"] is False  # disabled, ready for the next teardown


def test_wait_polls_until_the_distribution_is_deployed(
    tracker: Tracker, lab: Factory, plain: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_distribution(lab)
    state = _deploying(plain)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 3:
            state["deploying"] = False

    monkeypatch.setattr(td, "_sleep", sleep)

    report = teardown(tracker.resources, plain, wait=True)

    assert report.clean, str(report)
    assert slept == [2.0, 3.0, 4.5]
    assert not plain("cloudfront").list_distributions()["DistributionList"].get("Items")


def test_wait_on_moto_finishes_without_sleeping(
    tracker: Tracker, lab: Factory, plain: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_sleep(seconds: float) -> None:
        raise AssertionError("teardown slept on moto")

    monkeypatch.setattr(td, "_sleep", no_sleep)
    make_function(lab)
    lab("s3").create_bucket(Bucket=f"{PREFIX}photos")
    create_distribution(lab)

    report = teardown(tracker.resources, plain, wait=True)

    assert report.clean, str(report)


# --- the report --------------------------------------------------------------------------------


def test_report_renders_as_text_and_html() -> None:
    bucket = Resource("s3", "bucket", "lab-blog-photos", REGION)
    queue = Resource("sqs", "queue", "https://q", REGION, label="lab-blog-<jobs>")
    report = TeardownReport(
        deleted=[bucket], left=[queue], errors=[(queue, "AccessDenied: no. Fix: ask.")]
    )

    text = str(report)
    lines = text.splitlines()
    assert lines[0].split() == ["status", "service", "kind", "name", "region", "note"]
    assert any(line.startswith("deleted") and "lab-blog-photos" in line for line in lines)
    assert any(line.startswith("LEFT") and "AccessDenied" in line for line in lines)
    assert lines[-1] == "Teardown: 1 deleted, 1 left, 1 errors: NOT clean."
    page = report._repr_html_()
    assert page.startswith("<table>") and "lab-blog-&lt;jobs&gt;" in page
    assert TeardownReport([bucket], [], []).clean


# --- moto-server: the same teardown over HTTP only ---------------------------------------------


@pytest.fixture
def server(session: Any) -> Any:
    """moto's threaded server on a free loopback port, as the moto-server backend runs it."""
    from moto.server import ThreadedMotoServer

    srv = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    srv.start()
    host, port = srv.get_host_and_port()
    yield f"http://{host}:{port}"
    srv.stop()


def test_teardown_over_moto_server(session: Any, server: str) -> None:
    tracker = Tracker(tags=LAB_TAGS, region=REGION)
    clients: dict[tuple[str, str], Any] = {}

    def client(service: str, region: str = REGION, attach: bool = True) -> Any:
        if (service, region, attach) not in clients:
            made = session.client(service, region_name=region, endpoint_url=server)
            if attach:
                tracker.attach(made)
            clients[(service, region, attach)] = made
        return clients[(service, region, attach)]

    client("s3").create_bucket(Bucket=f"{PREFIX}photos")
    client("s3").put_object(Bucket=f"{PREFIX}photos", Key="a.jpg", Body=b"jpeg")
    client("sqs").create_queue(QueueName=f"{PREFIX}jobs")
    make_function(client)
    key = client("cloudfront").create_public_key(
        PublicKeyConfig={
            "CallerReference": "k",
            "Name": f"{PREFIX}k",
            "EncodedKey": public_key_pem(),
        }
    )["PublicKey"]["Id"]
    client("cloudfront").create_key_group(KeyGroupConfig={"Name": f"{PREFIX}g", "Items": [key]})
    assert client("s3").get_bucket_tagging(Bucket=f"{PREFIX}photos")["TagSet"]

    report = teardown(tracker.resources, lambda s, r: client(s, r, attach=False))

    assert [r.kind for r, _ in report.errors] == ["key-group"]
    assert "moto-server answers 500" in report.errors[0][1]
    assert {r.kind for r in report.deleted} == {"bucket", "queue", "function", "role", "public-key"}
    assert client("s3").list_buckets()["Buckets"] == []
    assert client("lambda").list_functions()["Functions"] == []
