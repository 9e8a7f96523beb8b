"""The DAX model against AWS's documented semantics ("DAX and DynamoDB consistency models").

GIVEN a table and a DaxClient over the lab's DynamoDB client, WHEN the learner reads and writes
through DAX (and around it), THEN hits, misses, TTLs, write-through, the stale query cache,
negative caching, consistent-read bypass and the table's read units are as AWS documents them.
"""

from __future__ import annotations

from typing import Any

import pytest

import helpers
from helpers.emulator import dax as daxmod
from helpers.emulator.dax import DaxClient

BACKENDS = ("moto", "moto-server")
TTL_S = daxmod.DEFAULT_TTL_S


@pytest.fixture(scope="module")
def ddb(lab: helpers.Lab) -> Any:
    return lab.client("dynamodb")


@pytest.fixture
def table(lab: helpers.Lab, ddb: Any, request: pytest.FixtureRequest) -> str:
    """A fresh table per test: partition key `pk`, sort key `sk`."""
    name = lab.name(request.node.name.split("[")[0].removeprefix("test_")[:30])
    ddb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


@pytest.fixture
def dax(lab: helpers.Lab, ddb: Any) -> DaxClient:
    return DaxClient(ddb, now=lab.clock)


def key(pk: str, sk: str = "1") -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def put(ddb: Any, table: str, pk: str, sk: str = "1", **attrs: str) -> None:
    item = {**key(pk, sk), **{k: {"S": v} for k, v in attrs.items()}}
    ddb.put_item(TableName=table, Item=item)


def table_units(ddb: Any, call: str, **kwargs: Any) -> float:
    """The read units DynamoDB itself reports for the same request."""
    consumed = getattr(ddb, call)(**kwargs, ReturnConsumedCapacity="TOTAL")["ConsumedCapacity"]
    consumed = consumed if isinstance(consumed, list) else [consumed]
    return sum(c["CapacityUnits"] for c in consumed)


def query_post(table: str) -> dict[str, Any]:
    return {
        "TableName": table,
        "KeyConditionExpression": "pk = :p",
        "ExpressionAttributeValues": {":p": {"S": "post"}},
    }


# ---- item cache -------------------------------------------------------------------------------
def test_get_item_misses_once_then_hits_and_only_the_miss_costs_read_units(
    dax: DaxClient, ddb: Any, table: str
) -> None:
    put(ddb, table, "a", title="Hello")

    first = dax.get_item(TableName=table, Key=key("a"))
    second = dax.get_item(TableName=table, Key=key("a"))
    third = dax.get_item(TableName=table, Key=key("a"))

    expected = ddb.get_item(TableName=table, Key=key("a"))["Item"]
    assert first["Item"] == second["Item"] == third["Item"] == expected
    assert "ConsumedCapacity" not in first and "ConsumedCapacity" not in second
    assert (dax.stats.item_cache.hits, dax.stats.item_cache.misses) == (2, 1)
    assert dax.stats.read_units == table_units(ddb, "get_item", TableName=table, Key=key("a"))
    assert [r.outcome for r in dax.stats.requests] == ["miss", "hit", "hit"]
    hit, miss = daxmod.HIT_MS, daxmod.HIT_MS + daxmod.TABLE_MS
    assert dax.stats.latency_ms == pytest.approx(miss + 2 * hit)
    assert miss >= 10 * hit  # "an order of magnitude from milliseconds to microseconds"


def test_the_item_cache_keeps_an_item_until_its_ttl_even_when_the_table_changes(
    lab: helpers.Lab, dax: DaxClient, ddb: Any, table: str
) -> None:
    put(ddb, table, "a", title="v1")
    dax.get_item(TableName=table, Key=key("a"))
    put(ddb, table, "a", title="v2")  # written around DAX, straight to DynamoDB

    lab.clock.advance(TTL_S - 1)
    assert dax.get_item(TableName=table, Key=key("a"))["Item"]["title"] == {"S": "v1"}
    lab.clock.advance(1)
    assert dax.get_item(TableName=table, Key=key("a"))["Item"]["title"] == {"S": "v2"}
    assert dax.stats.item_cache.expired == 1


def test_record_ttl_comes_from_the_parameter_group(lab: helpers.Lab, ddb: Any, table: str) -> None:
    parameters = [
        {"ParameterName": "record-ttl-millis", "ParameterValue": "60000"},
        {"ParameterName": "query-ttl-millis", "ParameterValue": "0"},
    ]
    dax = DaxClient(ddb, now=lab.clock, parameters=parameters)
    put(ddb, table, "a", title="v1")
    dax.get_item(TableName=table, Key=key("a"))
    put(ddb, table, "a", title="v2")

    lab.clock.advance(60)

    assert dax.item_ttl_s == 60 and dax.query_ttl_s == 0
    assert dax.get_item(TableName=table, Key=key("a"))["Item"]["title"] == {"S": "v2"}


def test_write_through_updates_the_item_cache_without_a_table_read(
    dax: DaxClient, ddb: Any, table: str
) -> None:
    put(ddb, table, "a", title="v1")
    dax.get_item(TableName=table, Key=key("a"))
    units = dax.stats.read_units

    dax.update_item(
        TableName=table,
        Key=key("a"),
        UpdateExpression="SET title = :t",
        ExpressionAttributeValues={":t": {"S": "v2"}},
    )
    dax.put_item(TableName=table, Item={**key("b"), "title": {"S": "new"}})

    assert dax.get_item(TableName=table, Key=key("a"))["Item"]["title"] == {"S": "v2"}
    assert dax.get_item(TableName=table, Key=key("b"))["Item"]["title"] == {"S": "new"}
    assert dax.stats.read_units == units  # both served from the item cache
    assert ddb.get_item(TableName=table, Key=key("a"))["Item"]["title"] == {"S": "v2"}
    assert dax.stats.writes == 2


def test_update_item_returns_what_the_caller_asked_for(
    dax: DaxClient, ddb: Any, table: str
) -> None:
    put(ddb, table, "a", n="1")
    quiet = dax.update_item(
        TableName=table,
        Key=key("a"),
        UpdateExpression="SET n = :n",
        ExpressionAttributeValues={":n": {"S": "2"}},
    )
    old = dax.update_item(
        TableName=table,
        Key=key("a"),
        UpdateExpression="SET n = :n",
        ExpressionAttributeValues={":n": {"S": "3"}},
        ReturnValues="UPDATED_OLD",
    )

    assert "Attributes" not in quiet
    assert old["Attributes"] == {"n": {"S": "2"}}
    assert dax.get_item(TableName=table, Key=key("a"))["Item"]["n"] == {"S": "3"}


def test_a_missing_item_is_cached_until_a_write_through_dax(
    lab: helpers.Lab, dax: DaxClient, ddb: Any, table: str
) -> None:
    assert "Item" not in dax.get_item(TableName=table, Key=key("ghost"))
    put(ddb, table, "ghost", title="around DAX")

    assert "Item" not in dax.get_item(TableName=table, Key=key("ghost"))  # negative entry hit
    assert dax.stats.item_cache.hits == 1
    dax.put_item(TableName=table, Item={**key("ghost"), "title": {"S": "through DAX"}})
    assert dax.get_item(TableName=table, Key=key("ghost"))["Item"]["title"] == {"S": "through DAX"}


def test_delete_through_dax_leaves_a_negative_entry(dax: DaxClient, ddb: Any, table: str) -> None:
    put(ddb, table, "a")
    dax.get_item(TableName=table, Key=key("a"))

    dax.delete_item(TableName=table, Key=key("a"))

    assert "Item" not in dax.get_item(TableName=table, Key=key("a"))
    assert dax.stats.item_cache.hits == 1


def test_consistent_reads_pass_through_and_are_never_cached(
    dax: DaxClient, ddb: Any, table: str
) -> None:
    put(ddb, table, "a", title="v1")
    dax.get_item(TableName=table, Key=key("a"))
    put(ddb, table, "a", title="v2")
    before = dax.stats.read_units

    strong = dax.get_item(TableName=table, Key=key("a"), ConsistentRead=True)
    dax.get_item(TableName=table, Key=key("a"), ConsistentRead=True)

    assert strong["Item"]["title"] == {"S": "v2"}
    assert dax.get_item(TableName=table, Key=key("a"))["Item"]["title"] == {"S": "v1"}
    assert dax.stats.pass_through == 2
    units = table_units(ddb, "get_item", TableName=table, Key=key("a"), ConsistentRead=True)
    assert dax.stats.read_units == before + 2 * units
    assert dax.stats.item_cache.misses == 1


def test_batch_get_item_reads_only_the_keys_not_cached(
    dax: DaxClient, ddb: Any, table: str
) -> None:
    for pk in "abc":
        put(ddb, table, pk)
    dax.get_item(TableName=table, Key=key("a"))
    units = dax.stats.read_units

    response = dax.batch_get_item(
        RequestItems={table: {"Keys": [key("a"), key("b"), key("c"), key("zz")]}}
    )

    assert sorted(i["pk"]["S"] for i in response["Responses"][table]) == ["a", "b", "c"]
    assert dax.stats.item_cache.hits == 1
    asked = {table: {"Keys": [key("b"), key("c"), key("zz")]}}
    assert dax.stats.read_units - units == table_units(ddb, "batch_get_item", RequestItems=asked)
    again = dax.batch_get_item(RequestItems={table: {"Keys": [key("b"), key("zz")]}})
    assert [i["pk"]["S"] for i in again["Responses"][table]] == ["b"]
    assert dax.stats.requests[-1].outcome == "hit"


def test_the_least_recently_used_item_is_evicted_when_the_cache_is_full(
    lab: helpers.Lab, ddb: Any, table: str
) -> None:
    for pk in "abcd":
        put(ddb, table, pk, body="x" * 200)
    dax = DaxClient(ddb, now=lab.clock, cache_bytes=900)

    for pk in "abca":  # "a" read again: now "b" is the least recently used
        dax.get_item(TableName=table, Key=key(pk))
    dax.get_item(TableName=table, Key=key("d"))
    misses = dax.stats.item_cache.misses

    dax.get_item(TableName=table, Key=key("a"))
    assert dax.stats.item_cache.misses == misses
    dax.get_item(TableName=table, Key=key("b"))
    assert dax.stats.item_cache.misses == misses + 1
    assert dax.stats.item_cache.evicted >= 1
    assert dax.stats.item_cache.bytes <= 900


# ---- query cache ------------------------------------------------------------------------------
def test_a_query_after_a_write_is_stale_until_the_query_ttl(
    lab: helpers.Lab, dax: DaxClient, ddb: Any, table: str
) -> None:
    put(ddb, table, "post", "1", title="first")
    assert dax.query(**query_post(table))["Count"] == 1

    dax.put_item(TableName=table, Item={**key("post", "2"), "title": {"S": "second"}})

    assert dax.query(**query_post(table))["Count"] == 1  # the query cache is not invalidated
    assert dax.get_item(TableName=table, Key=key("post", "2"))["Item"]["title"] == {"S": "second"}
    lab.clock.advance(TTL_S)
    assert dax.query(**query_post(table))["Count"] == 2
    assert (dax.stats.query_cache.hits, dax.stats.query_cache.misses) == (1, 2)


def test_the_query_cache_is_keyed_by_the_exact_parameters(
    dax: DaxClient, ddb: Any, table: str
) -> None:
    put(ddb, table, "post", "1")
    dax.query(**query_post(table))
    dax.query(**query_post(table), ScanIndexForward=False)
    dax.query(**query_post(table), ReturnConsumedCapacity="TOTAL")

    assert (dax.stats.query_cache.hits, dax.stats.query_cache.misses) == (1, 2)
    assert dax.stats.read_units == 2 * table_units(ddb, "query", **query_post(table))


def test_scan_is_cached_and_an_empty_result_too(dax: DaxClient, ddb: Any, table: str) -> None:
    empty = dax.scan(TableName=table)
    put(ddb, table, "a")

    assert dax.scan(TableName=table)["Items"] == empty["Items"] == []
    assert dax.stats.query_cache.hits == 1
    assert dax.scan(TableName=table, ConsistentRead=True)["Count"] == 1
    assert dax.stats.pass_through == 1


def test_hits_report_no_capacity_when_asked(dax: DaxClient, ddb: Any, table: str) -> None:
    put(ddb, table, "a")
    miss = dax.get_item(TableName=table, Key=key("a"), ReturnConsumedCapacity="TOTAL")
    hit = dax.get_item(TableName=table, Key=key("a"), ReturnConsumedCapacity="TOTAL")

    assert miss["ConsumedCapacity"]["CapacityUnits"] > 0
    assert hit["ConsumedCapacity"] == {"TableName": table, "CapacityUnits": 0.0}


# ---- batch and transactional writes -----------------------------------------------------------
def test_batch_write_item_writes_through(dax: DaxClient, ddb: Any, table: str) -> None:
    put(ddb, table, "old")
    dax.get_item(TableName=table, Key=key("old"))

    dax.batch_write_item(
        RequestItems={
            table: [
                {"PutRequest": {"Item": {**key("new"), "v": {"S": "1"}}}},
                {"DeleteRequest": {"Key": key("old")}},
            ]
        }
    )

    assert dax.get_item(TableName=table, Key=key("new"))["Item"]["v"] == {"S": "1"}
    assert "Item" not in dax.get_item(TableName=table, Key=key("old"))
    assert dax.stats.item_cache.hits == 2


def test_transactions_go_to_dynamodb(dax: DaxClient, ddb: Any, table: str) -> None:
    put(ddb, table, "a", v="1")
    dax.get_item(TableName=table, Key=key("a"))

    dax.transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": table,
                    "Key": key("a"),
                    "UpdateExpression": "SET v = :v",
                    "ExpressionAttributeValues": {":v": {"S": "2"}},
                }
            }
        ]
    )
    got = dax.transact_get_items(TransactItems=[{"Get": {"TableName": table, "Key": key("a")}}])

    assert got["Responses"][0]["Item"]["v"] == {"S": "2"}
    assert dax.get_item(TableName=table, Key=key("a"))["Item"]["v"] == {"S": "2"}
    assert dax.stats.pass_through == 1


# ---- a cluster made with CreateCluster ---------------------------------------------------------
def test_a_client_for_a_cluster_uses_its_parameter_group_or_the_defaults(
    lab: helpers.Lab, ddb: Any
) -> None:
    role = lab.client("iam").create_role(
        RoleName=lab.name("dax-role"), AssumeRolePolicyDocument="{}"
    )["Role"]["Arn"]
    dax_api = lab.client("dax")
    name = lab.name("cache")[:20]
    dax_api.create_cluster(
        ClusterName=name, NodeType="dax.t3.small", ReplicationFactor=1, IamRoleArn=role
    )

    client = DaxClient.for_cluster(ddb, dax_api, name, now=lab.clock)

    assert client.cluster["ClusterName"] == name
    assert (client.item_ttl_s, client.query_ttl_s) == (TTL_S, TTL_S)


def test_now_must_be_a_clock_or_a_callable(ddb: Any) -> None:
    with pytest.raises(TypeError, match="lab.clock"):
        DaxClient(ddb, now=42)
