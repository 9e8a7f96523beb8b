"""Teardown of a DynamoDB global table on a real account (wait=True), against AWS's rules.

GIVEN a table in us-east-1 with a replica in eu-west-1, where AWS refuses any change while the
table is UPDATING and removes a replica asynchronously, WHEN the lab tears down, THEN it waits for
the table to be ACTIVE, removes the replica through the table that sourced it, waits again, and
only then deletes the table. moto alone ignores ReplicaUpdates, so AWS's statuses are played back
onto plain moto responses here.
"""

from __future__ import annotations

from typing import Any

import pytest

import helpers.teardown as td
from helpers.teardown import Tracker, teardown

from .conftest import OTHER_REGION, PREFIX, REGION, Factory

NAME = f"{PREFIX}subscribers"
SCHEMA = {
    "KeySchema": [{"AttributeName": "email", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "email", "AttributeType": "S"}],
    "BillingMode": "PAY_PER_REQUEST",
}


def _play_aws(plain: Factory, calls: list[str]) -> dict[str, Any]:
    """Make us-east-1 answer as AWS does while its replica in eu-west-1 is added, then removed."""
    state = {"busy": True, "replica": True}  # the replica is still being added
    home = plain("dynamodb")

    def describe(parsed: dict, **_: Any) -> None:
        table = parsed.get("Table") or {}
        if table.get("TableName") != NAME:
            return
        table["TableStatus"] = "UPDATING" if state["busy"] else "ACTIVE"
        if state["replica"]:
            table["Replicas"] = [
                {"RegionName": REGION, "ReplicaStatus": "ACTIVE"},
                {"RegionName": OTHER_REGION, "ReplicaStatus": "ACTIVE"},
            ]

    def update(params: dict, **_: Any) -> None:
        if params.get("ReplicaUpdates"):
            assert not state["busy"], "UpdateTable while UPDATING: AWS's ResourceInUseException"
            calls.append(f"remove {params['ReplicaUpdates'][0]['Delete']['RegionName']}")
            state["busy"] = True

    def delete(params: dict, **_: Any) -> None:
        assert not state["busy"] and not state["replica"], "DeleteTable too early"
        calls.append(f"delete {REGION}")

    home.meta.events.register("after-call.dynamodb.DescribeTable", describe)
    home.meta.events.register("provide-client-params.dynamodb.UpdateTable", update)
    home.meta.events.register("provide-client-params.dynamodb.DeleteTable", delete)
    return state


def test_a_global_table_is_torn_down_replica_first_waiting_on_each_change(
    tracker: Tracker, lab: Factory, plain: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    lab("dynamodb").create_table(TableName=NAME, **SCHEMA)
    lab("dynamodb").update_table(
        TableName=NAME, ReplicaUpdates=[{"Create": {"RegionName": OTHER_REGION}}]
    )
    plain("dynamodb", OTHER_REGION).create_table(TableName=NAME, **SCHEMA)  # what AWS made
    calls: list[str] = []
    state = _play_aws(plain, calls)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if state["busy"] and not any(c.startswith("remove") for c in calls):
            state["busy"] = False  # the replica is now ACTIVE
        elif state["busy"]:  # AWS removed the replica
            plain("dynamodb", OTHER_REGION).delete_table(TableName=NAME)
            state.update(busy=False, replica=False)

    monkeypatch.setattr(td, "_sleep", sleep)

    report = teardown(tracker.resources, plain, wait=True)

    assert report.clean, str(report)
    assert calls == [f"remove {OTHER_REGION}", f"delete {REGION}"]
    assert len(slept) == 2  # once for the replica to be added, once for it to go
    assert plain("dynamodb").list_tables()["TableNames"] == []
    assert plain("dynamodb", OTHER_REGION).list_tables()["TableNames"] == []
