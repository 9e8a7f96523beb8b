"""ElastiCache endpoints that answer offline (helpers/emulator/elasticache.py), against the
ElastiCache API reference (DescribeCacheClusters ShowCacheNodeInfo, NodeGroups' endpoints,
serverless caches) and the Valkey / Redis OSS protocol (AUTH, NOAUTH, READONLY, CLUSTER SLOTS).

GIVEN a cache cluster, a replication group or a serverless cache, WHEN a Lambda function reads its
endpoint from the ElastiCache API as on AWS and connects with redis-py, THEN it really sets and
gets keys, TTLs follow the lab clock, each cache is its own keyspace, and a deleted cache's
endpoint refuses connections.
"""

from __future__ import annotations

import io
import json
import socket
import zipfile
from typing import Any

import botocore.session
import pytest
import redis
from botocore.exceptions import ClientError

import helpers

# The function a lesson would deploy: it finds the endpoint with the ElastiCache API and talks to
# the cache with redis-py (bundled with lab.package(folder, requirements=["redis"])).
HANDLER = '''
"""Run Redis commands on the cache the event names, found as on AWS."""
import boto3
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

elasticache = boto3.client("elasticache")


def endpoint(event):
    """(address, port, TLS) of the cache, from the ElastiCache API."""
    kind, name = event["kind"], event["name"]
    if kind == "cluster":
        cluster = elasticache.describe_cache_clusters(
            CacheClusterId=name, ShowCacheNodeInfo=True
        )["CacheClusters"][0]
        ep = cluster["CacheNodes"][0]["Endpoint"]
        return ep["Address"], ep["Port"], cluster["TransitEncryptionEnabled"]
    if kind == "group":
        group = elasticache.describe_replication_groups(ReplicationGroupId=name)[
            "ReplicationGroups"
        ][0]
        if group["ClusterEnabled"]:
            ep = group["ConfigurationEndpoint"]
        elif "member" in event:
            ep = group["NodeGroups"][0]["NodeGroupMembers"][event["member"]]["ReadEndpoint"]
        else:
            ep = group["NodeGroups"][0][event.get("endpoint", "PrimaryEndpoint")]
        return ep["Address"], ep["Port"], group["TransitEncryptionEnabled"]
    cache = elasticache.describe_serverless_caches(ServerlessCacheName=name)[
        "ServerlessCaches"
    ][0]
    ep = cache[event.get("endpoint", "Endpoint")]
    return ep["Address"], ep["Port"], True  # serverless caches always encrypt in transit


def handler(event, context):
    host, port, tls = endpoint(event)
    options = dict(
        host=host,
        port=port,
        ssl=event.get("ssl", tls),
        password=event.get("password"),
        protocol=event.get("protocol", 3),
        decode_responses=True,
        socket_timeout=5,
        socket_connect_timeout=2,
        retry=Retry(NoBackoff(), 0),
    )
    client = redis.RedisCluster(**options) if event.get("cluster") else redis.Redis(**options)
    results = []
    try:
        for command in event["commands"]:
            results.append(client.execute_command(*command))
    except redis.RedisError as exc:
        return {"host": host, "port": port, "results": results, "error": type(exc).__name__, "message": str(exc)}
    finally:
        client.close()
    return {"host": host, "port": port, "results": results}
'''
TOKEN = "lab-auth-token-0123456789"
BACKENDS = ("moto", "moto-server")


@pytest.fixture(scope="module")
def ec(lab: helpers.Lab) -> Any:
    return lab.client("elasticache")


@pytest.fixture(scope="module")
def code(lab: helpers.Lab, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    folder = tmp_path_factory.mktemp("cache-function")
    (folder / "app.py").write_text(HANDLER)
    return lab.package(folder, handler="app.handler", requirements=["redis"])


@pytest.fixture(scope="module")
def run(lab: helpers.Lab, role_arn: str, code: bytes) -> Any:
    """run(event) -> what the deployed function returned (it must not fail)."""
    lambda_ = lab.client("lambda")
    name = lab.name("cache-fn")
    lambda_.create_function(
        FunctionName=name,
        Runtime=lab.runtime,
        Role=role_arn,
        Handler="app.handler",
        Code={"ZipFile": code},
        Timeout=15,
    )

    def _run(event: dict[str, Any]) -> dict[str, Any]:
        resp = lambda_.invoke(FunctionName=name, Payload=json.dumps(event).encode())
        body = json.loads(resp["Payload"].read())
        assert "FunctionError" not in resp, body
        return body

    return _run


def cluster(ec: Any, lab: helpers.Lab, base: str, **kwargs: Any) -> str:
    name = lab.name(base)
    kwargs.setdefault("Engine", "valkey")
    ec.create_cache_cluster(
        CacheClusterId=name, CacheNodeType="cache.t4g.micro", NumCacheNodes=1, **kwargs
    )
    return name


def node_endpoint(ec: Any, name: str) -> dict[str, Any]:
    described = ec.describe_cache_clusters(CacheClusterId=name, ShowCacheNodeInfo=True)
    return described["CacheClusters"][0]["CacheNodes"][0]["Endpoint"]


def refused(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(2)
        return sock.connect_ex(("127.0.0.1", port)) != 0


# ---- packaging -------------------------------------------------------------------------------
def test_lab_package_bundles_redis_py_beside_the_handler(code):
    names = zipfile.ZipFile(io.BytesIO(code)).namelist()
    assert "app.py" in names and "redis/__init__.py" in names
    assert not any(n.startswith(("boto3/", "fakeredis/")) for n in names)


# ---- cache clusters --------------------------------------------------------------------------
@pytest.mark.parametrize("engine", ["valkey", "redis"])
def test_a_cache_cluster_reports_an_endpoint_a_function_reaches(ec, lab, run, engine):
    name = cluster(ec, lab, f"reach-{engine}", Engine=engine)
    endpoint = node_endpoint(ec, name)

    out = run(
        {
            "kind": "cluster",
            "name": name,
            "commands": [["SET", "greeting", "hi"], ["GET", "greeting"]],
        }
    )

    assert out == {"host": "127.0.0.1", "port": endpoint["Port"], "results": [True, "hi"]}


def test_keys_expire_with_the_lab_clock(ec, lab, run):
    name = cluster(ec, lab, "ttl")
    event = {"kind": "cluster", "name": name}

    first = run({**event, "commands": [["SET", "session", "abc", "EX", 60], ["TTL", "session"]]})
    lab.clock.advance(45)
    middle = run({**event, "commands": [["GET", "session"], ["TTL", "session"]]})
    lab.clock.advance(16)
    last = run({**event, "commands": [["GET", "session"], ["TTL", "session"]]})

    assert first["results"] == [True, 60]
    assert middle["results"][0] == "abc" and 14 <= middle["results"][1] <= 15
    assert last["results"] == [None, -2]  # -2: the key does not exist (any more)


def test_two_clusters_are_separate_keyspaces(ec, lab, run):
    one, two = cluster(ec, lab, "space-1"), cluster(ec, lab, "space-2")

    run({"kind": "cluster", "name": one, "commands": [["SET", "k", "one"]]})
    run({"kind": "cluster", "name": two, "commands": [["SET", "k", "two"]]})

    assert run({"kind": "cluster", "name": one, "commands": [["GET", "k"]]})["results"] == ["one"]
    assert run({"kind": "cluster", "name": two, "commands": [["GET", "k"]]})["results"] == ["two"]
    assert node_endpoint(ec, one)["Port"] != node_endpoint(ec, two)["Port"]


def test_after_delete_cache_cluster_the_endpoint_refuses_connections(ec, lab, run):
    name = cluster(ec, lab, "deleted")
    port = node_endpoint(ec, name)["Port"]
    assert run({"kind": "cluster", "name": name, "commands": [["PING"]]})["results"] == [True]

    deleted = ec.delete_cache_cluster(CacheClusterId=name)["CacheCluster"]
    out = run({"kind": "cluster", "name": name, "commands": [["PING"]]})

    assert deleted["CacheClusterStatus"] == "deleting"
    assert out["error"] == "ConnectionError" and "refused" in out["message"]
    assert refused(port)


def test_a_memcached_cluster_is_stored_but_not_served(ec, lab):
    name = cluster(ec, lab, "memcached", Engine="memcached")
    described = ec.describe_cache_clusters(CacheClusterId=name, ShowCacheNodeInfo=True)
    assert described["CacheClusters"][0]["Engine"] == "memcached"
    assert "CacheNodes" not in described["CacheClusters"][0]


# ---- TLS and AUTH ----------------------------------------------------------------------------
def test_transit_encryption_serves_tls_only(ec, lab, run):
    name = cluster(ec, lab, "tls", TransitEncryptionEnabled=True)
    event = {"kind": "cluster", "name": name}

    secure = run({**event, "commands": [["SET", "k", "v"], ["GET", "k"]]})
    plain = run({**event, "ssl": False, "commands": [["PING"]]})

    assert secure["results"] == [True, "v"]
    assert plain["error"] == "ConnectionError"


def test_a_tls_client_fails_against_a_plaintext_cluster(ec, lab, run):
    name = cluster(ec, lab, "plain")
    out = run({"kind": "cluster", "name": name, "ssl": True, "commands": [["PING"]]})
    assert out["error"] == "ConnectionError"


def test_an_auth_token_is_required_before_any_command(ec, lab, run):
    group = lab.name("auth")
    ec.create_replication_group(
        ReplicationGroupId=group,
        ReplicationGroupDescription="auth",
        Engine="valkey",
        CacheNodeType="cache.t4g.micro",
        TransitEncryptionEnabled=True,
        AuthToken=TOKEN,
    )
    event = {"kind": "group", "name": group, "commands": [["SET", "k", "v"], ["GET", "k"]]}

    none = run(event)  # redis-py 8 opens with HELLO 3 (RESP3)
    none_resp2 = run({**event, "protocol": 2})  # no HELLO: the first command is refused
    wrong = run({**event, "password": "not-the-token-0000"})
    right = run({**event, "password": TOKEN})
    right_resp2 = run({**event, "password": TOKEN, "protocol": 2})  # AUTH <token>

    assert none["error"] == "AuthenticationError"
    assert none["message"].startswith("HELLO must be called with the client already authenticated")
    assert (none_resp2["error"], none_resp2["message"]) == (
        "AuthenticationError",
        "Authentication required.",
    )
    assert wrong["error"] == "AuthenticationError"
    assert "invalid username-password pair" in wrong["message"]
    assert right["results"] == [True, "v"] and right_resp2["results"] == [True, "v"]
    described = ec.describe_replication_groups(ReplicationGroupId=group)["ReplicationGroups"][0]
    assert described["AuthTokenEnabled"] is True
    assert described["TransitEncryptionMode"] == "required"


def test_a_password_against_a_cluster_without_a_token_is_refused(ec, lab, run):
    name = cluster(ec, lab, "nopass")
    event = {"kind": "cluster", "name": name, "password": TOKEN, "commands": [["PING"]]}

    auth = run({**event, "protocol": 2})  # AUTH <password>: Redis refuses it
    hello = run(event)  # HELLO 3 AUTH default <password>: the default user has no password

    assert auth["error"] == "AuthenticationError"
    assert auth["message"].startswith("AUTH <password> called without any password configured")
    assert hello["results"] == [True]


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"AuthToken": TOKEN}, "InvalidParameterCombination"),  # no TransitEncryptionEnabled
        ({"AuthToken": "short", "TransitEncryptionEnabled": True}, "InvalidParameterValue"),
        (
            {"AuthToken": "has a space in it 123", "TransitEncryptionEnabled": True},
            "InvalidParameterValue",
        ),
    ],
)
def test_auth_token_constraints(ec, lab, kwargs, code):
    with pytest.raises(ClientError) as info:
        ec.create_replication_group(
            ReplicationGroupId=lab.name("bad-token"),
            ReplicationGroupDescription="bad",
            Engine="redis",
            CacheNodeType="cache.t4g.micro",
            **kwargs,
        )
    assert info.value.response["Error"]["Code"] == code
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


# ---- replication groups ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def group(ec: Any, lab: helpers.Lab) -> str:
    name = lab.name("group")
    ec.create_replication_group(
        ReplicationGroupId=name,
        ReplicationGroupDescription="primary and two replicas",
        Engine="redis",
        CacheNodeType="cache.t4g.micro",
        NumCacheClusters=3,
    )
    return name


def test_a_replication_group_has_one_primary_and_num_cache_clusters_members(ec, group):
    described = ec.describe_replication_groups(ReplicationGroupId=group)["ReplicationGroups"][0]
    members = described["NodeGroups"][0]["NodeGroupMembers"]
    assert [m["CurrentRole"] for m in members] == ["primary", "replica", "replica"]
    assert described["MemberClusters"] == [m["CacheClusterId"] for m in members]
    node_group = described["NodeGroups"][0]
    assert members[0]["ReadEndpoint"] == node_group["PrimaryEndpoint"]
    assert members[1]["ReadEndpoint"] == node_group["ReaderEndpoint"]


def test_the_reader_endpoint_reads_the_primary_keyspace_and_refuses_writes(ec, run, group):
    event = {"kind": "group", "name": group}
    run({**event, "commands": [["SET", "post:1", "hello"]]})

    read = run({**event, "endpoint": "ReaderEndpoint", "commands": [["GET", "post:1"]]})
    replica = run({**event, "member": 2, "commands": [["GET", "post:1"]]})
    write = run({**event, "endpoint": "ReaderEndpoint", "commands": [["SET", "post:2", "no"]]})

    assert read["results"] == ["hello"] and replica["results"] == ["hello"]
    assert write["error"] == "ReadOnlyError"
    assert write["message"] == "You can't write against a read only replica."


def test_cluster_mode_enabled_serves_its_configuration_endpoint_to_a_cluster_client(ec, lab, run):
    name = lab.name("sharded")
    created = ec.create_replication_group(
        ReplicationGroupId=name,
        ReplicationGroupDescription="cluster mode",
        Engine="valkey",
        CacheNodeType="cache.t4g.micro",
        ClusterMode="enabled",
        NumNodeGroups=2,
        ReplicasPerNodeGroup=1,
        TransitEncryptionEnabled=True,
    )["ReplicationGroup"]
    event = {"kind": "group", "name": name, "cluster": True}

    out = run({**event, "commands": [["SET", "user:1", "ada"], ["GET", "user:1"]]})
    plain = run({"kind": "group", "name": name, "commands": [["CLUSTER", "SLOTS"]]})

    assert created["ConfigurationEndpoint"]["Address"] == "127.0.0.1"
    assert out["results"] == [True, "ada"]
    slots = plain["results"][0]
    assert slots[0][:2] == [0, 16383] and slots[0][2][:2] == ["127.0.0.1", out["port"]]


def test_a_cluster_disabled_group_refuses_cluster_commands(run, group):
    out = run({"kind": "group", "name": group, "commands": [["CLUSTER", "SLOTS"]]})
    assert out["message"] == "This instance has cluster support disabled"


def test_deleting_a_group_stops_its_endpoints(ec, lab, run):
    name = lab.name("gone")
    created = ec.create_replication_group(
        ReplicationGroupId=name,
        ReplicationGroupDescription="to delete",
        Engine="redis",
        CacheNodeType="cache.t4g.micro",
        NumCacheClusters=2,
    )["ReplicationGroup"]
    ports = [created["NodeGroups"][0][k]["Port"] for k in ("PrimaryEndpoint", "ReaderEndpoint")]
    assert run({"kind": "group", "name": name, "commands": [["PING"]]})["results"] == [True]

    ec.delete_replication_group(ReplicationGroupId=name)

    assert all(refused(port) for port in ports)


# ---- serverless caches -----------------------------------------------------------------------
def test_a_serverless_cache_answers_over_tls(ec, lab, run):
    name = lab.name("serverless")
    created = ec.create_serverless_cache(ServerlessCacheName=name, Engine="valkey")
    described = ec.describe_serverless_caches(ServerlessCacheName=name)["ServerlessCaches"][0]
    event = {"kind": "serverless", "name": name}

    out = run({**event, "commands": [["SET", "cart:7", "3"], ["INCR", "cart:7"]]})
    read = run({**event, "endpoint": "ReaderEndpoint", "commands": [["GET", "cart:7"]]})
    sharded = run({**event, "cluster": True, "commands": [["GET", "cart:7"]]})
    plain = run({**event, "ssl": False, "commands": [["PING"]]})

    assert created["ServerlessCache"]["Status"] == "creating"
    assert described["Status"] == "available"
    assert (described["Engine"], described["MajorEngineVersion"]) == ("valkey", "8")
    assert described["ARN"].endswith(f":serverlesscache:{name}")
    assert out["results"] == [True, 4] and read["results"] == ["4"] and sharded["results"] == ["4"]
    assert plain["error"] == "ConnectionError"


def test_deleting_a_serverless_cache_stops_it(ec, lab, run):
    name = lab.name("serverless-gone")
    port = ec.create_serverless_cache(ServerlessCacheName=name, Engine="redis")["ServerlessCache"][
        "Endpoint"
    ]["Port"]
    assert run({"kind": "serverless", "name": name, "commands": [["PING"]]})["results"] == [True]

    deleted = ec.delete_serverless_cache(ServerlessCacheName=name)["ServerlessCache"]
    again = error(ec.delete_serverless_cache, ServerlessCacheName=name)

    assert deleted["Status"] == "deleting"
    assert refused(port)
    assert again["Error"]["Code"] == "InvalidServerlessCacheStateFault"


def test_a_deleted_serverless_cache_is_gone_minutes_later(ec, lab):
    """AWS shows `deleting` while it removes the cache (minutes), then the name is unknown."""
    name = lab.name("serverless-minutes")
    ec.create_serverless_cache(ServerlessCacheName=name, Engine="valkey")
    ec.delete_serverless_cache(ServerlessCacheName=name)
    lab.clock.advance(30)
    during = ec.describe_serverless_caches(ServerlessCacheName=name)["ServerlessCaches"][0]
    lab.clock.advance(300)
    after = error(ec.describe_serverless_caches, ServerlessCacheName=name)
    listed = ec.describe_serverless_caches()["ServerlessCaches"]

    assert during["Status"] == "deleting"
    assert not any(k.startswith("_") for k in during)
    assert after["Error"]["Code"] == "ServerlessCacheNotFoundFault"
    assert name not in [c["ServerlessCacheName"] for c in listed]


def test_serverless_cache_errors(ec, lab):
    name = lab.name("serverless-twice")
    ec.create_serverless_cache(ServerlessCacheName=name, Engine="valkey")

    twice = error(ec.create_serverless_cache, ServerlessCacheName=name, Engine="valkey")
    missing = error(ec.describe_serverless_caches, ServerlessCacheName=lab.name("nope"))
    delete_missing = error(ec.delete_serverless_cache, ServerlessCacheName=lab.name("nope"))

    assert twice["Error"]["Code"] == "ServerlessCacheAlreadyExistsFault"
    assert missing["Error"]["Code"] == "ServerlessCacheNotFoundFault"
    assert missing["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert delete_missing["Error"]["Code"] == "ServerlessCacheNotFoundFault"


def error(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    return info.value.response


# ---- AWS's shapes ----------------------------------------------------------------------------
MODEL = botocore.session.get_session().get_service_model("elasticache")


def conforms(value: Any, shape: Any, path: str = "") -> list[str]:
    """Where `value` has a key the API model's shape does not (recursively)."""
    problems = []
    if shape.type_name == "structure":
        assert isinstance(value, dict), path
        for key, item in value.items():
            if key not in shape.members:
                problems.append(f"{path}.{key}")
            else:
                problems += conforms(item, shape.members[key], f"{path}.{key}")
    elif shape.type_name == "list":
        for i, item in enumerate(value):
            problems += conforms(item, shape.member, f"{path}[{i}]")
    return problems


def shape_of(operation: str) -> Any:
    return MODEL.operation_model(operation).output_shape


def test_describe_cache_clusters_lists_cache_nodes_only_when_asked(ec, lab):
    name = cluster(ec, lab, "shape")
    plain = ec.describe_cache_clusters(CacheClusterId=name)
    nodes = ec.describe_cache_clusters(CacheClusterId=name, ShowCacheNodeInfo=True)
    for resp in (plain, nodes):
        resp.pop("ResponseMetadata")
        assert conforms(resp, shape_of("DescribeCacheClusters")) == []

    assert "CacheNodes" not in plain["CacheClusters"][0]
    node = nodes["CacheClusters"][0]["CacheNodes"][0]
    assert set(node) == {
        "CacheNodeId",
        "CacheNodeStatus",
        "CacheNodeCreateTime",
        "Endpoint",
        "ParameterGroupStatus",
        "CustomerAvailabilityZone",
    }
    assert (node["CacheNodeId"], node["CacheNodeStatus"]) == ("0001", "available")
    assert set(node["Endpoint"]) == {"Address", "Port"}
    assert nodes["CacheClusters"][0]["TransitEncryptionEnabled"] is False


def test_replication_group_and_serverless_responses_keep_the_api_shapes(ec, lab, group):
    name = lab.name("serverless-shape")
    created = ec.create_serverless_cache(
        ServerlessCacheName=name,
        Engine="redis",
        Description="shape",
        CacheUsageLimits={"DataStorage": {"Maximum": 10, "Unit": "GB"}},
    )
    groups = ec.describe_replication_groups(ReplicationGroupId=group)
    caches = ec.describe_serverless_caches(ServerlessCacheName=name)
    for resp, op in (
        (created, "CreateServerlessCache"),
        (groups, "DescribeReplicationGroups"),
        (caches, "DescribeServerlessCaches"),
    ):
        resp.pop("ResponseMetadata")
        assert conforms(resp, shape_of(op)) == [], op

    node_group = groups["ReplicationGroups"][0]["NodeGroups"][0]
    assert {"PrimaryEndpoint", "ReaderEndpoint", "NodeGroupMembers"} <= set(node_group)
    assert "ConfigurationEndpoint" not in groups["ReplicationGroups"][0]
    cache = caches["ServerlessCaches"][0]
    assert cache["CacheUsageLimits"] == {"DataStorage": {"Maximum": 10, "Unit": "GB"}}
    assert {"Endpoint", "ReaderEndpoint", "CreateTime", "FullEngineVersion"} <= set(cache)
    assert cache["Endpoint"]["Port"] != cache["ReaderEndpoint"]["Port"]


def test_a_memcached_serverless_cache_is_refused_offline_saying_why(ec, lab):
    """Not emulated: a 400 that names what to use instead, never a silent success."""
    with pytest.raises(ClientError) as exc:
        ec.create_serverless_cache(ServerlessCacheName=lab.name("memcached"), Engine="memcached")
    assert exc.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert "not emulated offline" in exc.value.response["Error"]["Message"]
    assert "valkey" in exc.value.response["Error"]["Message"]


def test_the_notebook_process_can_reach_a_plaintext_endpoint_too(ec, lab):
    """Offline only: on AWS the endpoint is reachable from inside the VPC alone."""
    endpoint = node_endpoint(ec, cluster(ec, lab, "notebook"))
    client = redis.Redis(host=endpoint["Address"], port=endpoint["Port"], decode_responses=True)
    try:
        assert client.set("from", "notebook") and client.get("from") == "notebook"
    finally:
        client.close()


def test_teardown_deletes_a_serverless_cache_and_checks_it_is_gone():
    """The lab's teardown finds a serverless cache it created, deletes it and reports it."""
    lab = helpers.start("sc-teardown")
    try:
        ec = lab.client("elasticache")
        name = lab.name("sessions")
        port = ec.create_serverless_cache(ServerlessCacheName=name, Engine="valkey")[
            "ServerlessCache"
        ]["Endpoint"]["Port"]
    finally:
        report = lab.teardown()
    assert report.clean, report
    assert any(r.kind == "serverless-cache" and r.id == name for r in report.deleted), report
    assert refused(port)
