"""DynamoDB global tables (version 2019.11.21) offline, against AWS's documented contract.

GIVEN a table in us-east-1, WHEN a learner adds a replica with UpdateTable(ReplicaUpdates=...),
THEN the replica is a real table in eu-west-1 that receives every write about a second later,
with AWS's statuses, errors, streams, last-writer-wins and deletion rules.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

import helpers
from helpers.emulator import global_tables as gt
from helpers.teardown import teardown

BACKENDS = ("moto", "moto-server")
HOME, OTHER, THIRD = "us-east-1", "eu-west-1", "ap-southeast-2"
KEY = {"AttributeName": "id", "KeyType": "HASH"}
ATTRS = [{"AttributeName": "id", "AttributeType": "S"}]


@pytest.fixture(scope="module")
def home(lab: helpers.Lab) -> Any:
    return lab.client("dynamodb")


@pytest.fixture(scope="module")
def other(lab: helpers.Lab) -> Any:
    return lab.client("dynamodb", OTHER)


def make_table(lab: helpers.Lab, base: str, **kwargs: Any) -> str:
    name = lab.name(base)
    kwargs.setdefault("BillingMode", "PAY_PER_REQUEST")
    lab.client("dynamodb").create_table(
        TableName=name, KeySchema=[KEY], AttributeDefinitions=ATTRS, **kwargs
    )
    return name


def add_replica(lab: helpers.Lab, name: str, region: str = OTHER) -> dict[str, Any]:
    return lab.client("dynamodb").update_table(
        TableName=name, ReplicaUpdates=[{"Create": {"RegionName": region}}]
    )["TableDescription"]


def global_table(lab: helpers.Lab, base: str) -> str:
    """A table in us-east-1 with an ACTIVE replica in eu-west-1."""
    name = make_table(lab, base)
    add_replica(lab, name)
    lab.settle()
    return name


def describe(client: Any, name: str) -> dict[str, Any]:
    return client.describe_table(TableName=name)["Table"]


def replicas(client: Any, name: str) -> dict[str, str]:
    return {r["RegionName"]: r["ReplicaStatus"] for r in describe(client, name).get("Replicas", [])}


def item(client: Any, name: str, key: str) -> dict[str, Any] | None:
    return client.get_item(TableName=name, Key={"id": {"S": key}}).get("Item")


def error(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    return err.value.response["Error"]["Code"], err.value.response["Error"]["Message"]


def stream_records(lab: helpers.Lab, region: str, name: str) -> list[dict[str, Any]]:
    streams = lab.client("dynamodbstreams", region)
    (stream,) = streams.list_streams(TableName=name)["Streams"]
    shards = streams.describe_stream(StreamArn=stream["StreamArn"])["StreamDescription"]["Shards"]
    records: list[dict[str, Any]] = []
    for shard in shards:
        iterator = streams.get_shard_iterator(
            StreamArn=stream["StreamArn"],
            ShardId=shard["ShardId"],
            ShardIteratorType="TRIM_HORIZON",
        )["ShardIterator"]
        records += streams.get_records(ShardIterator=iterator)["Records"]
    return records


# ---- adding a replica -------------------------------------------------------------------------
def test_a_new_replica_is_the_same_table_in_the_other_region_with_the_items(
    lab: helpers.Lab, home: Any, other: Any
) -> None:
    name = lab.name("posts")
    home.create_table(
        TableName=name,
        KeySchema=[KEY],
        AttributeDefinitions=[*ATTRS, {"AttributeName": "author", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-author",
                "KeySchema": [{"AttributeName": "author", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    home.put_item(TableName=name, Item={"id": {"S": "hello"}, "author": {"S": "ada"}})

    desc = add_replica(lab, name)

    assert desc["TableStatus"] == "UPDATING"
    assert desc["GlobalTableVersion"] == "2019.11.21"
    assert {"RegionName": OTHER, "ReplicaStatus": "CREATING"} in desc["Replicas"]
    # AWS enables a NEW_AND_OLD_IMAGES stream on a table that had none
    assert desc["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    replica = describe(other, name)
    assert replica["TableStatus"] == "CREATING"
    assert replica["TableArn"].startswith(f"arn:aws:dynamodb:{OTHER}:")
    assert replica["KeySchema"] == [KEY]
    assert replica["AttributeDefinitions"] == describe(home, name)["AttributeDefinitions"]
    assert [i["IndexName"] for i in replica["GlobalSecondaryIndexes"]] == ["by-author"]
    assert replica["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert replica["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert name in other.list_tables()["TableNames"]

    lab.settle()

    assert describe(home, name)["TableStatus"] == "ACTIVE"
    assert describe(other, name)["TableStatus"] == "ACTIVE"
    # each region lists the replicas elsewhere, not itself (DescribeTable of a global table)
    assert replicas(home, name) == {OTHER: "ACTIVE"}
    assert replicas(other, name) == {HOME: "ACTIVE"}
    assert describe(other, name)["GlobalTableVersion"] == "2019.11.21"
    assert item(other, name, "hello") == {"id": {"S": "hello"}, "author": {"S": "ada"}}
    found = other.query(
        TableName=name,
        IndexName="by-author",
        KeyConditionExpression="author = :a",
        ExpressionAttributeValues={":a": {"S": "ada"}},
    )
    assert found["Count"] == 1


def test_a_replica_turns_active_as_lab_time_passes(lab: helpers.Lab, home: Any, other: Any) -> None:
    name = make_table(lab, "clock")
    add_replica(lab, name)

    lab.clock.advance(gt.REPLICA_CREATE_S - 1)
    assert describe(other, name)["TableStatus"] == "CREATING"
    lab.clock.advance(1)

    assert describe(other, name)["TableStatus"] == "ACTIVE"
    assert describe(home, name)["TableStatus"] == "ACTIVE"


def test_a_stream_the_table_already_had_is_kept(lab: helpers.Lab, home: Any, other: Any) -> None:
    keys_only = {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    name = make_table(lab, "keys-only", StreamSpecification=keys_only)

    add_replica(lab, name)
    lab.settle()
    home.put_item(TableName=name, Item={"id": {"S": "k"}})
    lab.settle()

    assert describe(home, name)["StreamSpecification"] == keys_only
    assert item(other, name, "k") == {"id": {"S": "k"}}


# ---- replication ------------------------------------------------------------------------------
@pytest.fixture
def held_clock(lab: helpers.Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    """Lab time moves only when the test advances it (not with the real clock), so what is due
    one second after a write stays pending however slow the machine is."""
    real_start, skipped = lab.clock.now() - lab.clock.skipped, lab.clock.skipped
    monkeypatch.setattr(lab.clock, "now", lambda: real_start + lab.clock.skipped)
    assert lab.clock.now() == real_start + skipped


def test_a_write_reaches_the_other_region_about_a_second_later(
    lab: helpers.Lab, home: Any, other: Any, held_clock: None
) -> None:
    name = global_table(lab, "eventual")
    lab.settle()

    home.put_item(TableName=name, Item={"id": {"S": "p1"}, "title": {"S": "Hello"}})

    assert item(other, name, "p1") is None  # eventually consistent across regions
    lab.clock.advance(gt.REPLICATION_DELAY_S)
    assert item(other, name, "p1") == {"id": {"S": "p1"}, "title": {"S": "Hello"}}


def test_updates_and_deletes_in_either_region_replicate(
    lab: helpers.Lab, home: Any, other: Any
) -> None:
    name = global_table(lab, "both-ways")
    home.put_item(TableName=name, Item={"id": {"S": "p1"}, "likes": {"N": "1"}})
    lab.settle()

    other.update_item(
        TableName=name,
        Key={"id": {"S": "p1"}},
        UpdateExpression="ADD likes :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    other.put_item(TableName=name, Item={"id": {"S": "p2"}})
    lab.settle()
    assert item(home, name, "p1") == {"id": {"S": "p1"}, "likes": {"N": "2"}}
    assert item(home, name, "p2") == {"id": {"S": "p2"}}

    home.delete_item(TableName=name, Key={"id": {"S": "p2"}})
    lab.settle()
    assert item(other, name, "p2") is None


def test_batch_writes_and_transactions_replicate_a_cancelled_one_does_not(
    lab: helpers.Lab, home: Any, other: Any
) -> None:
    name = global_table(lab, "batch")

    home.batch_write_item(
        RequestItems={name: [{"PutRequest": {"Item": {"id": {"S": f"b{i}"}}}} for i in range(3)]}
    )
    home.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": name, "Item": {"id": {"S": "t1"}}}},
            {"Delete": {"TableName": name, "Key": {"id": {"S": "b0"}}}},
        ]
    )
    with pytest.raises(ClientError):
        home.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": name, "Item": {"id": {"S": "never"}}}},
                {
                    "Put": {
                        "TableName": name,
                        "Item": {"id": {"S": "t1"}},
                        "ConditionExpression": "attribute_not_exists(id)",
                    }
                },
            ]
        )
    lab.settle()

    keys = sorted(i["id"]["S"] for i in other.scan(TableName=name)["Items"])
    assert keys == ["b1", "b2", "t1"]


def test_each_replica_stream_shows_the_replicated_writes(lab: helpers.Lab, home: Any) -> None:
    name = global_table(lab, "streams")

    home.put_item(TableName=name, Item={"id": {"S": "s1"}, "n": {"N": "1"}})
    home.put_item(TableName=name, Item={"id": {"S": "s1"}, "n": {"N": "2"}})
    lab.settle()

    records = stream_records(lab, OTHER, name)
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY"]
    modify = records[1]
    assert modify["awsRegion"] == OTHER
    assert modify["dynamodb"]["OldImage"] == {"id": {"S": "s1"}, "n": {"N": "1"}}
    assert modify["dynamodb"]["NewImage"] == {"id": {"S": "s1"}, "n": {"N": "2"}}
    assert not any(a.startswith("aws:rep:") for a in modify["dynamodb"]["NewImage"])
    assert [r["eventName"] for r in stream_records(lab, HOME, name)] == ["INSERT", "MODIFY"]


def test_concurrent_writes_converge_on_the_last_writer(
    lab: helpers.Lab, home: Any, other: Any, held_clock: None
) -> None:
    name = global_table(lab, "conflict")
    lab.settle()

    home.put_item(TableName=name, Item={"id": {"S": "c"}, "by": {"S": HOME}})
    other.put_item(TableName=name, Item={"id": {"S": "c"}, "by": {"S": OTHER}})  # later
    lab.settle()

    assert item(home, name, "c") == {"id": {"S": "c"}, "by": {"S": OTHER}}
    assert item(other, name, "c") == {"id": {"S": "c"}, "by": {"S": OTHER}}
    # the losing write never reached eu-west-1's stream; the winner replaced it in us-east-1's
    assert [r["eventName"] for r in stream_records(lab, OTHER, name)] == ["INSERT"]
    home_records = stream_records(lab, HOME, name)
    assert [r["eventName"] for r in home_records] == ["INSERT", "MODIFY"]
    assert home_records[1]["dynamodb"]["NewImage"]["by"] == {"S": OTHER}


def test_a_third_replica_gets_writes_still_in_flight(lab: helpers.Lab, home: Any) -> None:
    name = global_table(lab, "third")
    other = lab.client("dynamodb", OTHER)
    other.put_item(TableName=name, Item={"id": {"S": "in-flight"}})

    add_replica(lab, name, THIRD)
    lab.settle()

    assert item(lab.client("dynamodb", THIRD), name, "in-flight") == {"id": {"S": "in-flight"}}
    assert set(replicas(home, name)) >= {OTHER, THIRD}


# ---- AWS's refusals ---------------------------------------------------------------------------
def test_the_local_region_cannot_be_added(lab: helpers.Lab, home: Any) -> None:
    name = make_table(lab, "local")
    code, message = error(
        home.update_table, TableName=name, ReplicaUpdates=[{"Create": {"RegionName": HOME}}]
    )
    assert code == "ValidationException"
    assert message.startswith("Cannot add or delete the local region through ReplicaUpdates.")


def test_a_region_that_already_has_the_table_is_refused(
    lab: helpers.Lab, home: Any, other: Any
) -> None:
    name = global_table(lab, "twice")
    code, message = error(
        home.update_table, TableName=name, ReplicaUpdates=[{"Create": {"RegionName": OTHER}}]
    )
    assert code == "ValidationException"
    assert "because one or more replicas already existed as tables" in message

    standalone = make_table(lab, "standalone")
    other.create_table(
        TableName=standalone,
        KeySchema=[KEY],
        AttributeDefinitions=ATTRS,
        BillingMode="PAY_PER_REQUEST",
    )
    code, _ = error(
        home.update_table,
        TableName=standalone,
        ReplicaUpdates=[{"Create": {"RegionName": OTHER}}],
    )
    assert code == "ValidationException"


def test_deleting_a_region_that_is_not_a_replica_is_refused(lab: helpers.Lab, home: Any) -> None:
    name = make_table(lab, "not-replica")
    code, message = error(
        home.update_table, TableName=name, ReplicaUpdates=[{"Delete": {"RegionName": OTHER}}]
    )
    assert code == "ValidationException"
    assert "not part of the global table" in message


def test_provisioned_capacity_needs_write_auto_scaling(lab: helpers.Lab, home: Any) -> None:
    throughput = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
    name = make_table(
        lab, "provisioned", BillingMode="PROVISIONED", ProvisionedThroughput=throughput
    )
    code, message = error(
        home.update_table, TableName=name, ReplicaUpdates=[{"Create": {"RegionName": OTHER}}]
    )
    assert (code, message) == (
        "ValidationException",
        "Table write capacity should either be Pay-Per-Request or AutoScaled.",
    )

    lab.client("application-autoscaling").register_scalable_target(
        ServiceNamespace="dynamodb",
        ResourceId=f"table/{name}",
        ScalableDimension="dynamodb:table:WriteCapacityUnits",
        MinCapacity=5,
        MaxCapacity=50,
    )
    desc = add_replica(lab, name)
    assert {"RegionName": OTHER, "ReplicaStatus": "CREATING"} in desc["Replicas"]
    lab.settle()
    replica = describe(lab.client("dynamodb", OTHER), name)
    assert replica["ProvisionedThroughput"]["WriteCapacityUnits"] == 5


def test_no_change_while_a_replica_is_being_added(lab: helpers.Lab, home: Any) -> None:
    name = make_table(lab, "busy")
    add_replica(lab, name)

    code, message = error(
        home.update_table, TableName=name, ReplicaUpdates=[{"Create": {"RegionName": THIRD}}]
    )
    assert (code, message) == (
        "ResourceInUseException",
        "The resource which you are attempting to change is in use.",
    )
    code, _ = error(home.delete_table, TableName=name)
    assert code == "ResourceInUseException"
    lab.settle()


def test_the_stream_of_a_replica_cannot_be_disabled(lab: helpers.Lab, home: Any) -> None:
    name = global_table(lab, "keep-stream")
    code, message = error(
        home.update_table, TableName=name, StreamSpecification={"StreamEnabled": False}
    )
    assert code == "ValidationException"
    assert "Disabling Stream is not allowed for a Global Table replica" in message


def test_an_unknown_region_is_refused(lab: helpers.Lab, home: Any) -> None:
    name = make_table(lab, "nowhere")
    code, _ = error(
        home.update_table,
        TableName=name,
        ReplicaUpdates=[{"Create": {"RegionName": "xx-nowhere-1"}}],
    )
    assert code == "ValidationException"


# ---- removing replicas and deleting -----------------------------------------------------------
def test_removing_a_replica_leaves_a_regional_table_with_its_stream(
    lab: helpers.Lab, home: Any, other: Any
) -> None:
    name = global_table(lab, "remove")

    desc = home.update_table(TableName=name, ReplicaUpdates=[{"Delete": {"RegionName": OTHER}}])
    assert desc["TableDescription"]["TableStatus"] == "UPDATING"
    assert replicas(home, name)[OTHER] == "DELETING"
    assert describe(other, name)["TableStatus"] == "DELETING"
    lab.settle()

    code, _ = error(other.describe_table, TableName=name)
    assert code == "ResourceNotFoundException"
    table = describe(home, name)
    assert "Replicas" not in table and "GlobalTableVersion" not in table
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    home.put_item(TableName=name, Item={"id": {"S": "after"}})
    lab.settle()
    assert name not in other.list_tables()["TableNames"]


def test_delete_table_on_a_replica_removes_that_replica(
    lab: helpers.Lab, home: Any, other: Any
) -> None:
    name = global_table(lab, "drop-replica")

    other.delete_table(TableName=name)

    assert "Replicas" not in describe(home, name)
    home.put_item(TableName=name, Item={"id": {"S": "x"}})
    lab.settle()
    assert name not in other.list_tables()["TableNames"]


def test_the_source_table_cannot_be_deleted_for_24_hours_while_replicas_remain(
    lab: helpers.Lab, home: Any, other: Any
) -> None:
    name = global_table(lab, "source")

    code, message = error(home.delete_table, TableName=name)
    assert (code, message) == (
        "ValidationException",
        "Replica cannot be deleted because it has acted as a source region for new replica(s) "
        "being added to the table in the last 24 hours.",
    )
    code, _ = error(
        other.update_table, TableName=name, ReplicaUpdates=[{"Delete": {"RegionName": HOME}}]
    )
    assert code == "ValidationException"

    lab.clock.advance(gt.SOURCE_HOLD_S)
    home.delete_table(TableName=name)

    assert "Replicas" not in describe(other, name)  # the replica left is a regional table


def test_teardown_deletes_a_global_table_in_every_region(
    lab: helpers.Lab, home: Any, other: Any
) -> None:
    name = make_table(lab, "teardown")
    add_replica(lab, name)  # still CREATING: teardown waits for it, then removes it
    mine = [r for r in lab.tracker.resources if r.id == name]
    assert {r.region for r in mine} == {HOME, OTHER}

    report = teardown(mine, lab.client, wait=False)

    assert report.clean, str(report)
    for client in (home, other):
        code, _ = error(client.describe_table, TableName=name)
        assert code == "ResourceNotFoundException"
