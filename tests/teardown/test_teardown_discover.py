"""discover(): find an earlier run's leftovers by tag and by name prefix, then tear them down."""

from __future__ import annotations

import json

import pytest

from helpers.teardown import Resource, Tracker, discover, teardown

from .conftest import LAB_TAGS, OTHER_REGION, PREFIX, REGION, TAG_KEY, Factory, _factory
from .test_teardown_kinds import (
    create_asg,
    create_dax,
    create_hosted_zone,
    create_iot_policy,
    create_kinesis,
    create_oac,
    create_rule,
    create_user_pool,
    make_function,
)


def create_earlier_run(lab: Factory, plain: Factory) -> None:
    """What a crashed notebook left behind: tagged resources, and untagged ones named by prefix."""
    # tagged, in services the Resource Groups Tagging API finds
    lab("s3").create_bucket(Bucket=f"{PREFIX}photos")
    lab("sqs").create_queue(QueueName=f"{PREFIX}jobs")
    lab("dynamodb", OTHER_REGION).create_table(
        TableName=f"{PREFIX}posts",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    make_function(lab)
    # tagged, in services it misses: Kinesis, API Gateway, Cognito, IAM, DAX, Route 53, ASGs,
    # launch templates, IoT, EventBridge
    create_kinesis(lab)
    lab("apigateway").create_rest_api(name="blog-api")  # not prefixed: found by tag only
    create_user_pool(lab)
    create_dax(lab)
    create_hosted_zone(lab)
    create_asg(lab)
    create_iot_policy(lab)
    create_rule(lab)
    # untagged, found by name: what AWS or an unattached client made
    plain("logs").create_log_group(logGroupName=f"/aws/lambda/{PREFIX}fn")
    plain("s3").create_bucket(Bucket=f"{PREFIX}untagged")
    plain("iot").create_thing(thingName=f"{PREFIX}sensor")
    plain("iam").create_role(
        RoleName=f"{PREFIX}untagged-role",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )
    create_oac(plain)


def create_other_lab(session, aws) -> Tracker:
    """Another lab in the same account: different tag value, different prefix."""
    other = Tracker(tags={TAG_KEY: "shop", "labbook:run": "run-9"}, region=REGION)
    client = _factory(session, other)
    client("s3").create_bucket(Bucket="lab-shop-photos")
    client("kinesis").create_stream(StreamName="lab-shop-orders", ShardCount=1)
    client("iam").create_role(
        RoleName="lab-shop-role",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )
    client("cognito-idp").create_user_pool(PoolName="lab-shop-users")
    return other


@pytest.fixture
def earlier(
    tracker: Tracker, lab: Factory, plain: Factory, session, aws
) -> tuple[Tracker, Tracker]:
    create_earlier_run(lab, plain)
    return tracker, create_other_lab(session, aws)


def test_discover_finds_tagged_and_prefixed_resources_of_one_lab(
    earlier: tuple[Tracker, Tracker], plain: Factory
) -> None:
    mine, other = earlier

    found = discover(
        plain,
        regions=[REGION, OTHER_REGION],
        tag_key=TAG_KEY,
        tag_value=LAB_TAGS[TAG_KEY],
        name_prefix=PREFIX,
    )

    missing = set(mine.resources) - set(found)
    assert not missing, f"not discovered: {sorted(map(str, missing))}"
    untagged = {
        Resource("logs", "log-group", f"/aws/lambda/{PREFIX}fn", REGION),
        Resource("s3", "bucket", f"{PREFIX}untagged", REGION),
        Resource("iot", "thing", f"{PREFIX}sensor", REGION),
        Resource("iam", "role", f"{PREFIX}untagged-role", REGION),
    }
    assert untagged <= set(found)
    assert ("cloudfront", "origin-access-control") in {(r.service, r.kind) for r in found}
    assert not set(other.resources) & set(found), "another lab's resources were discovered"
    assert len(found) == len(set(found))


def test_discover_all_labs_by_tag_key_only(
    earlier: tuple[Tracker, Tracker], plain: Factory
) -> None:
    mine, other = earlier
    found = set(discover(plain, regions=[REGION, OTHER_REGION], tag_key=TAG_KEY))
    assert set(other.resources) <= found
    # moto cannot list IoT tags: offline an IoT policy is found by its name only
    assert {r for r in mine.resources if r.service != "iot"} <= found
    assert Resource("s3", "bucket", f"{PREFIX}untagged", REGION) not in found  # no tag, no prefix


def test_discovered_leftovers_tear_down_clean(
    earlier: tuple[Tracker, Tracker], plain: Factory
) -> None:
    _, other = earlier
    found = discover(
        plain, regions=[REGION, OTHER_REGION], tag_key=TAG_KEY, tag_value="blog", name_prefix=PREFIX
    )

    report = teardown(found, plain)

    assert report.clean, str(report)
    assert (
        discover(
            plain,
            regions=[REGION, OTHER_REGION],
            tag_key=TAG_KEY,
            tag_value="blog",
            name_prefix=PREFIX,
        )
        == []
    )
    # the other lab is untouched
    assert [b["Name"] for b in plain("s3").list_buckets()["Buckets"]] == ["lab-shop-photos"]
    assert plain("kinesis").list_streams()["StreamNames"] == ["lab-shop-orders"]
    assert [r["RoleName"] for r in plain("iam").list_roles()["Roles"]] == ["lab-shop-role"]


def run_id_discover(plain: Factory, lab: str) -> set[tuple[str, str, str]]:
    """discover() called as `labbook teardown --lab <lab>` calls it; (service, kind, name) found."""
    found = discover(
        plain,
        regions=[REGION],
        tag_key=TAG_KEY,
        tag_value=lab,
        name_prefix=f"{lab}-",
        run_id_names=True,
    )
    return {(r.service, r.kind, r.label or r.id) for r in found}


def test_discover_by_run_id_names_skips_a_users_own_lookalike_names(plain: Factory) -> None:
    # GIVEN a bucket made by Lab.name() for lab "myblog" and the user's own "myblog-prod", untagged
    s3 = plain("s3", REGION)
    s3.create_bucket(Bucket="myblog-1a2b3c-photos")
    s3.create_bucket(Bucket="myblog-prod")
    s3.create_bucket(Bucket="myblog-backup-photos")  # 6 letters, but not hex
    # WHEN discovering the run-id names the CLI asks for
    found = run_id_discover(plain, "myblog")
    # THEN only the lab's bucket is found
    assert {name for _, kind, name in found if kind == "bucket"} == {"myblog-1a2b3c-photos"}


def test_discover_by_run_id_names_for_a_multi_word_lab(plain: Factory) -> None:
    # GIVEN untagged leftovers of lab "start-here" in the kinds found by name only, next to the
    # user's own look-alikes and another lab's ("start") resources
    s3, sqs, logs, iot = (plain(s, REGION) for s in ("s3", "sqs", "logs", "iot"))
    s3.create_bucket(Bucket="start-here-1a2b3c-photos")
    s3.create_bucket(Bucket="start-here-prod")
    s3.create_bucket(Bucket="start-abcdef-photos")  # lab "start", not "start-here"
    sqs.create_queue(QueueName="start-here-1a2b3c-jobs")
    sqs.create_queue(QueueName="start-here-jobs")
    logs.create_log_group(logGroupName="/aws/lambda/start-here-1a2b3c-fn")
    logs.create_log_group(logGroupName="/aws/lambda/start-here-fn")
    logs.create_log_group(logGroupName="start-here-1a2b3c-app")
    iot.create_thing(thingName="start_here_1a2b3c_sensor")
    iot.create_thing(thingName="start_here_sensor")
    rule = {"sql": "SELECT * FROM 'sensors'", "actions": []}
    iot.create_topic_rule(ruleName="start_here_1a2b3c_alerts", topicRulePayload=rule)
    iot.create_topic_rule(ruleName="start_here_alerts", topicRulePayload=rule)
    ecs = plain("ecs", REGION)
    for family in ("start-here-1a2b3c-web", "start-here-web"):
        ecs.register_task_definition(
            family=family, containerDefinitions=[{"name": "web", "image": "nginx", "memory": 64}]
        )

    found = run_id_discover(plain, "start-here")

    assert found == {
        ("s3", "bucket", "start-here-1a2b3c-photos"),
        ("sqs", "queue", "start-here-1a2b3c-jobs"),
        ("logs", "log-group", "/aws/lambda/start-here-1a2b3c-fn"),
        ("logs", "log-group", "start-here-1a2b3c-app"),
        ("iot", "thing", "start_here_1a2b3c_sensor"),
        ("iot", "topic-rule", "start_here_1a2b3c_alerts"),
        ("ecs", "task-definition", "start-here-1a2b3c-web:1"),
    }


def test_labbook_teardown_finds_and_deletes_a_queue_and_a_lambda_log_group(
    plain: Factory, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CLI's own discover call, end to end on moto: SQS and log groups are found by name."""
    from helpers import cli

    sqs, logs = plain("sqs", REGION), plain("logs", REGION)
    sqs.create_queue(QueueName="myblog-1a2b3c-jobs")
    sqs.create_queue(QueueName="myblog-jobs")
    logs.create_log_group(logGroupName="/aws/lambda/myblog-1a2b3c-fn")
    logs.create_log_group(logGroupName="/aws/lambda/myblog-fn")
    monkeypatch.setenv(cli.OPT_IN, "1")
    monkeypatch.setattr(cli, "aws_client_factory", lambda: plain)

    code = cli.main(["teardown", "--lab", "myblog", "--region", REGION, "--yes"])

    out = capsys.readouterr().out
    assert code == 0, out
    assert "Found 2 resources of lab 'myblog'" in out
    assert [u.rsplit("/", 1)[-1] for u in sqs.list_queues()["QueueUrls"]] == ["myblog-jobs"]
    assert [g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]] == [
        "/aws/lambda/myblog-fn"
    ]
