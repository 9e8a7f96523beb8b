"""A Lambda function in a VPC (to reach ElastiCache) with a NAT gateway and VPC endpoints: teardown
deletes the network in an order AWS accepts, waits for what AWS removes by itself (a NAT gateway,
Lambda's network interfaces), and proves nothing is left.

moto deletes network pieces that are still in use; `aws_dependency_rules` makes it refuse them as
AWS does, so a wrong order fails here as it would on a real account."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

import helpers.teardown as td
from helpers.teardown import Resource, Tracker, discover, teardown

from .conftest import (
    LAB_TAGS,
    PREFIX,
    REGION,
    TAG_KEY,
    Factory,
    lambda_zip,
    make_function,
    make_role,
)

LAMBDA_ENI = "AWS Lambda VPC ENI-lab-blog-api-6f1c2a7e-5b1d-4c59-9d0e-0b8a1f2c3d4e"

# --- moto, strict: refuse what AWS refuses --------------------------------------------------------


def _refuse(op: str, code: str, message: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, op)


def aws_dependency_rules(client: BaseClient, ec2: BaseClient) -> None:
    """Make `client` refuse, as AWS does, to delete what something still uses (`ec2` inspects)."""

    def live_nats(name: str, value: str) -> list[dict]:
        flt = [{"Name": name, "Values": [value]}]
        return [
            n
            for n in ec2.describe_nat_gateways(Filter=flt)["NatGateways"]
            if n["State"] != "deleted"
        ]

    def live_enis() -> list[dict]:
        # moto keeps a deleted NAT gateway's interface; AWS deletes it with the NAT gateway
        dead = {
            a.get("NetworkInterfaceId")
            for n in ec2.describe_nat_gateways()["NatGateways"]
            if n["State"] == "deleted"
            for a in n.get("NatGatewayAddresses", [])
        }
        enis = ec2.describe_network_interfaces()["NetworkInterfaces"]
        return [e for e in enis if e["NetworkInterfaceId"] not in dead]

    def live_endpoints(vpc: str) -> list[dict]:
        endpoints = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc]}])
        return [e for e in endpoints["VpcEndpoints"] if e["State"] != "deleted"]

    def security_group(params: dict, **_: Any) -> None:
        group = params["GroupId"]
        users = [
            e["NetworkInterfaceId"]
            for e in live_enis()
            if any(g["GroupId"] == group for g in e["Groups"])
        ]
        users += [
            other["GroupId"]
            for other in ec2.describe_security_groups()["SecurityGroups"]
            if other["GroupId"] != group
            for perm in other["IpPermissions"] + other["IpPermissionsEgress"]
            if any(pair.get("GroupId") == group for pair in perm.get("UserIdGroupPairs", []))
        ]
        if users:
            raise _refuse(
                "DeleteSecurityGroup",
                "DependencyViolation",
                f"resource {group} has a dependent object ({users})",
            )

    def subnet(params: dict, **_: Any) -> None:
        sub = params["SubnetId"]
        users = [n["NatGatewayId"] for n in live_nats("subnet-id", sub)]
        users += [e["NetworkInterfaceId"] for e in live_enis() if e["SubnetId"] == sub]
        if users:
            raise _refuse(
                "DeleteSubnet",
                "DependencyViolation",
                f"The subnet '{sub}' has dependencies and cannot be deleted ({users}).",
            )

    def release(params: dict, **_: Any) -> None:
        address = ec2.describe_addresses(AllocationIds=[params["AllocationId"]])["Addresses"][0]
        live = {e["NetworkInterfaceId"] for e in live_enis()}
        # AWS frees the address of a deleted NAT gateway's interface by itself; moto keeps it
        held = address.get("InstanceId") or address.get("NetworkInterfaceId") in live
        if address.get("AssociationId") and held:
            raise _refuse("ReleaseAddress", "InvalidIPAddress.InUse", "Address is in use.")

    def detach(params: dict, **_: Any) -> None:
        vpc = params["VpcId"]
        mapped = [n["NatGatewayId"] for n in live_nats("vpc-id", vpc)]
        vpc_enis = {e["NetworkInterfaceId"] for e in live_enis() if e["VpcId"] == vpc}
        mapped += [
            a["PublicIp"]
            for a in ec2.describe_addresses()["Addresses"]
            if a.get("AssociationId") and a.get("NetworkInterfaceId") in vpc_enis
        ]
        if mapped:
            raise _refuse(
                "DetachInternetGateway",
                "DependencyViolation",
                f"Network {vpc} has some mapped public address(es) ({mapped}).",
            )

    def delete_igw(params: dict, **_: Any) -> None:
        igw = ec2.describe_internet_gateways(InternetGatewayIds=[params["InternetGatewayId"]])
        if igw["InternetGateways"][0].get("Attachments"):
            raise _refuse(
                "DeleteInternetGateway", "DependencyViolation", "The internetGateway is attached."
            )

    def route_table(params: dict, **_: Any) -> None:
        table = ec2.describe_route_tables(RouteTableIds=[params["RouteTableId"]])["RouteTables"][0]
        if table.get("Associations"):
            raise _refuse(
                "DeleteRouteTable",
                "DependencyViolation",
                f"The routeTable '{table['RouteTableId']}' has dependencies.",
            )

    def vpc(params: dict, **_: Any) -> None:
        vpc_id = params["VpcId"]
        flt = [{"Name": "vpc-id", "Values": [vpc_id]}]
        inside = [s["SubnetId"] for s in ec2.describe_subnets(Filters=flt)["Subnets"]]
        inside += [
            g["GroupId"]
            for g in ec2.describe_security_groups(Filters=flt)["SecurityGroups"]
            if g["GroupName"] != "default"
        ]
        inside += [
            t["RouteTableId"]
            for t in ec2.describe_route_tables(Filters=flt)["RouteTables"]
            if not any(a.get("Main") for a in t.get("Associations", []))
        ]
        attached = [{"Name": "attachment.vpc-id", "Values": [vpc_id]}]
        inside += [
            g["InternetGatewayId"]
            for g in ec2.describe_internet_gateways(Filters=attached)["InternetGateways"]
        ]
        inside += [n["NatGatewayId"] for n in live_nats("vpc-id", vpc_id)]
        inside += [e["VpcEndpointId"] for e in live_endpoints(vpc_id)]
        if inside:
            raise _refuse(
                "DeleteVpc",
                "DependencyViolation",
                f"The vpc '{vpc_id}' has dependencies and cannot be deleted ({inside}).",
            )

    def interface(params: dict, **_: Any) -> None:
        eni = ec2.describe_network_interfaces(NetworkInterfaceIds=[params["NetworkInterfaceId"]])
        if eni["NetworkInterfaces"][0]["Description"].startswith("AWS Lambda VPC ENI"):
            raise _refuse(
                "DeleteNetworkInterface",
                "OperationNotPermitted",
                "You are not allowed to manage 'ela-attach' attachments.",
            )

    for op, rule in (
        ("DeleteSecurityGroup", security_group),
        ("DeleteSubnet", subnet),
        ("ReleaseAddress", release),
        ("DetachInternetGateway", detach),
        ("DeleteInternetGateway", delete_igw),
        ("DeleteRouteTable", route_table),
        ("DeleteVpc", vpc),
        ("DeleteNetworkInterface", interface),
    ):
        client.meta.events.register(f"before-parameter-build.ec2.{op}", rule)


_CHANGES = ("Delete", "Release", "Detach", "Disassociate", "Revoke", "Terminate", "Replace")


def call_log(factory: Factory, services: list[str]) -> list[tuple[str, dict]]:
    """Every change the teardown's clients send (and the rules let through), in order."""
    calls: list[tuple[str, dict]] = []

    def log(params: dict, model: Any, **_: Any) -> None:
        if model.name.startswith(_CHANGES):
            calls.append((model.name, dict(params)))

    for service in services:
        factory(service).meta.events.register("before-parameter-build", log)
    return calls


@pytest.fixture
def inspect(session: boto3.session.Session, aws: None) -> BaseClient:
    """An EC2 client that neither the lab nor the teardown uses: for the rules and the checks."""
    return session.client("ec2", region_name=REGION)


@pytest.fixture
def strict(plain: Factory, inspect: BaseClient) -> Factory:
    """The teardown's clients, refusing what AWS refuses."""
    aws_dependency_rules(plain("ec2"), inspect)
    return plain


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A fake clock for the teardown's waits: sleeping advances it; `on_sleep` hooks run each time."""
    state: dict[str, Any] = {"now": 1000.0, "slept": [], "said": [], "on_sleep": []}

    def sleep(seconds: float) -> None:
        state["slept"].append(seconds)
        state["now"] += seconds
        for hook in state["on_sleep"]:
            hook(len(state["slept"]))

    monkeypatch.setattr(td, "_sleep", sleep)
    monkeypatch.setattr(td, "_monotonic", lambda: state["now"])
    monkeypatch.setattr(td, "_say", state["said"].append)
    return state


# --- the chapter's network ----------------------------------------------------------------------


def build_network(c: Factory) -> dict[str, str]:
    """What the micro-services chapter builds: a VPC with a public subnet (internet gateway, NAT
    gateway with an Elastic IP) and two private subnets routing 0.0.0.0/0 to the NAT gateway; a
    gateway endpoint for S3 and an interface endpoint for Secrets Manager; a function security
    group and a cache security group that name each other; a function with VpcConfig."""
    ec2 = c("ec2")
    ids: dict[str, str] = {}
    ids["vpc"] = vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]

    def subnet(cidr: str, az: str) -> str:
        return ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=f"{REGION}{az}")[
            "Subnet"
        ]["SubnetId"]

    ids["public"] = subnet("10.0.0.0/24", "a")
    ids["private_a"] = subnet("10.0.1.0/24", "a")
    ids["private_b"] = subnet("10.0.2.0/24", "b")
    ids["igw"] = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=ids["igw"], VpcId=vpc)
    ids["public_rt"] = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(
        RouteTableId=ids["public_rt"], DestinationCidrBlock="0.0.0.0/0", GatewayId=ids["igw"]
    )
    ec2.associate_route_table(RouteTableId=ids["public_rt"], SubnetId=ids["public"])
    ids["eip"] = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ids["nat"] = ec2.create_nat_gateway(SubnetId=ids["public"], AllocationId=ids["eip"])[
        "NatGateway"
    ]["NatGatewayId"]
    ids["private_rt"] = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(
        RouteTableId=ids["private_rt"], DestinationCidrBlock="0.0.0.0/0", NatGatewayId=ids["nat"]
    )
    for private in ("private_a", "private_b"):
        ec2.associate_route_table(RouteTableId=ids["private_rt"], SubnetId=ids[private])
    ids["fn_sg"] = ec2.create_security_group(
        GroupName=f"{PREFIX}fn", Description="the functions", VpcId=vpc
    )["GroupId"]
    ids["cache_sg"] = ec2.create_security_group(
        GroupName=f"{PREFIX}cache", Description="Redis from the functions", VpcId=vpc
    )["GroupId"]
    redis = {"IpProtocol": "tcp", "FromPort": 6379, "ToPort": 6379}
    ec2.authorize_security_group_ingress(
        GroupId=ids["cache_sg"],
        IpPermissions=[{**redis, "UserIdGroupPairs": [{"GroupId": ids["fn_sg"]}]}],
    )
    ec2.authorize_security_group_egress(
        GroupId=ids["fn_sg"],
        IpPermissions=[{**redis, "UserIdGroupPairs": [{"GroupId": ids["cache_sg"]}]}],
    )
    ids["s3_endpoint"] = ec2.create_vpc_endpoint(
        VpcId=vpc,
        VpcEndpointType="Gateway",
        ServiceName=f"com.amazonaws.{REGION}.s3",
        RouteTableIds=[ids["private_rt"]],
    )["VpcEndpoint"]["VpcEndpointId"]
    ids["secrets_endpoint"] = ec2.create_vpc_endpoint(
        VpcId=vpc,
        VpcEndpointType="Interface",
        ServiceName=f"com.amazonaws.{REGION}.secretsmanager",
        SubnetIds=[ids["private_a"], ids["private_b"]],
        SecurityGroupIds=[ids["fn_sg"]],
        PrivateDnsEnabled=True,
    )["VpcEndpoint"]["VpcEndpointId"]
    make_function(
        c,
        f"{PREFIX}api",
        VpcConfig={
            "SubnetIds": [ids["private_a"], ids["private_b"]],
            "SecurityGroupIds": [ids["fn_sg"]],
        },
    )
    return ids


def lambda_eni(ec2: BaseClient, ids: dict[str, str]) -> str:
    """The network interface AWS Lambda makes for the function (moto makes none): made here by
    a client nobody tracks, as AWS makes it outside the lab's calls."""
    return ec2.create_network_interface(
        SubnetId=ids["private_a"], Groups=[ids["fn_sg"]], Description=LAMBDA_ENI
    )["NetworkInterface"]["NetworkInterfaceId"]


def network_gone(ec2: BaseClient, ids: dict[str, str]) -> list[str]:
    """What of `ids` EC2 still has (a NAT gateway or endpoint in State "deleted" is gone)."""
    left = [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if v["VpcId"] == ids["vpc"]]
    left += [
        s["SubnetId"] for s in ec2.describe_subnets()["Subnets"] if s["SubnetId"] in ids.values()
    ]
    left += [
        g["GroupId"]
        for g in ec2.describe_security_groups()["SecurityGroups"]
        if g["GroupId"] in ids.values()
    ]
    left += [
        t["RouteTableId"]
        for t in ec2.describe_route_tables()["RouteTables"]
        if t["RouteTableId"] in ids.values()
    ]
    left += [
        g["InternetGatewayId"]
        for g in ec2.describe_internet_gateways()["InternetGateways"]
        if g["InternetGatewayId"] in ids.values()
    ]
    left += [a["AllocationId"] for a in ec2.describe_addresses()["Addresses"]]
    left += [
        n["NatGatewayId"]
        for n in ec2.describe_nat_gateways()["NatGateways"]
        if n["State"] != "deleted"
    ]
    left += [
        e["VpcEndpointId"]
        for e in ec2.describe_vpc_endpoints()["VpcEndpoints"]
        if e["State"] != "deleted"
    ]
    return left


def first(calls: list[tuple[str, dict]], op: str, **params: str) -> int:
    """The position of the first call of `op` (with those parameters)."""
    for i, (name, sent) in enumerate(calls):
        if name == op and all(sent.get(k) in (v, [v]) for k, v in params.items()):
            return i
    raise AssertionError(f"{op} {params} was never called: {[name for name, _ in calls]}")


def last(calls: list[tuple[str, dict]], op: str) -> int:
    return max(i for i, (name, _) in enumerate(calls) if name == op)


# --- tests --------------------------------------------------------------------------------------


def test_network_is_recorded_and_tagged(
    tracker: Tracker, lab: Factory, inspect: BaseClient
) -> None:
    ids = build_network(lab)

    kinds = {(r.kind, r.id) for r in tracker.resources if r.service == "ec2"}

    assert {
        ("nat-gateway", ids["nat"]),
        ("elastic-ip", ids["eip"]),
        ("vpc-endpoint", ids["s3_endpoint"]),
        ("vpc-endpoint", ids["secrets_endpoint"]),
        ("security-group", ids["fn_sg"]),
        ("internet-gateway", ids["igw"]),
    } <= kinds
    for key in ("nat", "eip", "s3_endpoint", "secrets_endpoint"):
        flt = [{"Name": "resource-id", "Values": [ids[key]]}]
        tags = {t["Key"]: t["Value"] for t in inspect.describe_tags(Filters=flt)["Tags"]}
        assert LAB_TAGS.items() <= tags.items(), key


def test_teardown_deletes_the_network_in_the_order_aws_accepts(
    tracker: Tracker,
    lab: Factory,
    strict: Factory,
    inspect: BaseClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN the chapter's network, on a moto that refuses what AWS refuses
    ids = build_network(lab)
    calls = call_log(strict, ["ec2", "lambda"])

    def no_sleep(seconds: float) -> None:
        raise AssertionError("teardown slept on moto")

    monkeypatch.setattr(td, "_sleep", no_sleep)

    # WHEN the lab tears down, as on AWS (wait=True)
    report = teardown(tracker.resources, strict, wait=True)

    # THEN every piece is deleted, and the report says clean
    assert report.clean, str(report)
    assert set(tracker.resources) == set(report.deleted)
    assert network_gone(inspect, ids) == []
    # AND in the order AWS requires
    function = first(calls, "DeleteFunction")
    endpoints = first(calls, "DeleteVpcEndpoints")
    nat = first(calls, "DeleteNatGateway", NatGatewayId=ids["nat"])
    eip = first(calls, "ReleaseAddress", AllocationId=ids["eip"])
    revoke = min(
        first(calls, "RevokeSecurityGroupIngress"), first(calls, "RevokeSecurityGroupEgress")
    )
    groups = first(calls, "DeleteSecurityGroup")
    subnets = first(calls, "DeleteSubnet")
    tables = first(calls, "DeleteRouteTable")
    detach = first(calls, "DetachInternetGateway", InternetGatewayId=ids["igw"], VpcId=ids["vpc"])
    igw = first(calls, "DeleteInternetGateway", InternetGatewayId=ids["igw"])
    vpc = first(calls, "DeleteVpc", VpcId=ids["vpc"])
    assert function < endpoints < nat < eip < revoke < groups
    assert last(calls, "DeleteSecurityGroup") < subnets
    assert last(calls, "DeleteSubnet") < tables
    assert last(calls, "DeleteRouteTable") < detach < igw < vpc
    assert first(calls, "DisassociateRouteTable") < tables
    assert "DeleteNetworkInterface" not in [name for name, _ in calls]


def test_a_second_teardown_and_labbook_teardown_find_nothing(
    tracker: Tracker, lab: Factory, strict: Factory
) -> None:
    build_network(lab)
    assert teardown(tracker.resources, strict, wait=True).clean

    again = teardown(tracker.resources, strict, wait=True)
    found = discover(strict, regions=[REGION], tag_key=TAG_KEY, tag_value=LAB_TAGS[TAG_KEY])

    assert again.clean, str(again)
    assert found == []


def test_labbook_teardown_finds_the_network_by_tag_and_deletes_it(
    tracker: Tracker,
    lab: Factory,
    strict: Factory,
    inspect: BaseClient,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Any,
) -> None:
    """A kernel died: `labbook teardown --lab blog` finds the network by its tags alone."""
    from helpers import cli

    ids = build_network(lab)
    monkeypatch.setenv(cli.OPT_IN, "1")
    monkeypatch.setenv("LABBOOK_HOME", str(tmp_path))
    monkeypatch.setattr(cli, "aws_client_factory", lambda: strict)
    found = discover(
        strict,
        regions=[REGION],
        tag_key=TAG_KEY,
        tag_value=LAB_TAGS[TAG_KEY],
        name_prefix=f"{LAB_TAGS[TAG_KEY]}-",
        run_id_names=True,
    )
    network = {r for r in tracker.resources if r.service == "ec2"}
    assert network <= set(found), sorted(map(str, network - set(found)))

    code = cli.main(["teardown", "--lab", LAB_TAGS[TAG_KEY], "--region", REGION, "--yes"])

    out = capsys.readouterr().out
    assert code == 0, out
    assert network_gone(inspect, ids) == []
    assert discover(strict, regions=[REGION], tag_key=TAG_KEY, tag_value=LAB_TAGS[TAG_KEY]) == []


def test_teardown_waits_for_lambda_to_release_its_network_interface(
    tracker: Tracker,
    lab: Factory,
    strict: Factory,
    inspect: BaseClient,
    clock: dict[str, Any],
) -> None:
    # GIVEN the network, and the interface AWS Lambda keeps in the function's group and subnet
    ids = build_network(lab)
    eni = lambda_eni(inspect, ids)
    calls = call_log(strict, ["ec2"])

    def lambda_releases(sleeps: int) -> None:  # as AWS does, some minutes after the function
        if clock["now"] >= 1000.0 + 150:
            enis = inspect.describe_network_interfaces()["NetworkInterfaces"]
            if any(e["NetworkInterfaceId"] == eni for e in enis):
                inspect.delete_network_interface(NetworkInterfaceId=eni)
                calls.append(("(AWS Lambda releases its interface)", {}))

    clock["on_sleep"].append(lambda_releases)

    # WHEN the lab tears down with wait=True
    report = teardown(tracker.resources, strict, wait=True)

    # THEN it waited, said why every minute, and deleted the groups only once the interface went
    assert report.clean, str(report)
    assert network_gone(inspect, ids) == []
    released = first(calls, "(AWS Lambda releases its interface)")
    assert released < first(calls, "DeleteSecurityGroup") < first(calls, "DeleteSubnet")
    waiting = [m for m in clock["said"] if "waiting for AWS Lambda" in m]
    assert len(waiting) >= 3  # the first message, then one a minute (150 s: two more)
    assert eni in waiting[0] and ids["fn_sg"] in waiting[0] and "20 min" in waiting[0]
    assert "released" in clock["said"][-1]
    assert sum(clock["slept"]) >= 150


def test_without_wait_a_lambda_interface_holds_its_group_and_subnet_and_is_never_deleted(
    tracker: Tracker, lab: Factory, strict: Factory, inspect: BaseClient, clock: dict[str, Any]
) -> None:
    ids = build_network(lab)
    eni = lambda_eni(inspect, ids)
    calls = call_log(strict, ["ec2"])

    report = teardown(tracker.resources, strict, wait=False)

    assert not report.clean and clock["slept"] == []
    left = {r.id: report.notes.get(r, "") for r in report.left}
    assert "AWS Lambda still holds" in left[ids["fn_sg"]] and eni in left[ids["fn_sg"]]
    assert "wait=True" in left[ids["fn_sg"]]
    assert "AWS Lambda still holds" in left[ids["private_a"]]
    assert ids["private_b"] not in left  # no Lambda interface
    # AND the held group keeps its rules: so the cache group it names stays too, saying why
    assert "RevokeSecurityGroupEgress" not in [name for name, _ in calls]
    [cache_error] = [msg for r, msg in report.errors if r.id == ids["cache_sg"]]
    assert "DependencyViolation" in cache_error and ids["fn_sg"] in cache_error
    assert ("DeleteSecurityGroup", {"GroupId": ids["fn_sg"]}) not in calls
    assert "DeleteNetworkInterface" not in [name for name, _ in calls]
    assert inspect.describe_network_interfaces(NetworkInterfaceIds=[eni])["NetworkInterfaces"]
    [vpc_error] = [msg for r, msg in report.errors if r.id == ids["vpc"]]
    assert eni in vpc_error and "AWS Lambda" in vpc_error


def test_a_function_still_in_the_vpc_holds_its_group_without_waiting(
    tracker: Tracker, lab: Factory, plain: Factory, clock: dict[str, Any]
) -> None:
    # GIVEN a VPC function the lab did not make (so teardown keeps it) using the lab's group
    ids = build_network(lab)
    plain("lambda").create_function(
        FunctionName="someone-elses-fn",
        Runtime="python3.12",
        Role=make_role(plain, "someone-elses-role"),
        Handler="app.handler",
        Code={"ZipFile": lambda_zip()},
        VpcConfig={"SubnetIds": [ids["private_b"]], "SecurityGroupIds": [ids["cache_sg"]]},
    )

    report = teardown(tracker.resources, plain, wait=True)

    notes = {r.id: report.notes.get(r, "") for r in report.left}
    assert "someone-elses-fn still uses this security-group" in notes[ids["cache_sg"]]
    assert "someone-elses-fn still uses this subnet" in notes[ids["private_b"]]
    assert clock["slept"] == []  # nothing to wait for: the function keeps its interfaces


def test_a_lab_table_made_main_hands_main_back_to_the_vpcs_own_table(
    tracker: Tracker, lab: Factory, strict: Factory, inspect: BaseClient
) -> None:
    # GIVEN the lab made its public route table the VPC's main one
    ids = build_network(lab)
    [original] = inspect.describe_route_tables(
        Filters=[
            {"Name": "vpc-id", "Values": [ids["vpc"]]},
            {"Name": "association.main", "Values": ["true"]},
        ]
    )["RouteTables"]
    main = original["Associations"][0]["RouteTableAssociationId"]
    lab("ec2").replace_route_table_association(AssociationId=main, RouteTableId=ids["public_rt"])
    calls = call_log(strict, ["ec2"])

    report = teardown(tracker.resources, strict, wait=True)

    # THEN the VPC's own table is main again, the lab's table goes, and then the VPC
    assert report.clean, str(report)
    handed = [p for name, p in calls if name == "ReplaceRouteTableAssociation"]
    assert [p["RouteTableId"] for p in handed] == [original["RouteTableId"]]
    assert network_gone(inspect, ids) == []


# --- the wait itself, on a stubbed EC2 ----------------------------------------------------------


class StubEC2:
    """DescribeNetworkInterfaces answering Lambda's interface for `polls` calls, then nothing."""

    def __init__(self, polls: int) -> None:
        self.polls = polls
        self.calls: list[list[dict]] = []

    def can_paginate(self, op: str) -> bool:
        return False

    def describe_network_interfaces(self, Filters: list[dict]) -> dict:
        self.calls.append(Filters)
        if len(self.calls) > self.polls:
            return {"NetworkInterfaces": []}
        eni = {
            "NetworkInterfaceId": "eni-0lambda",
            "InterfaceType": "lambda",
            "RequesterId": "AROAEXAMPLE:awslambda_123456789012",
            "RequesterManaged": True,
            "Description": LAMBDA_ENI,
            "Status": "in-use",
            "SubnetId": "subnet-1",
            "Groups": [{"GroupId": "sg-1", "GroupName": "lab-blog-fn"}],
        }
        return {"NetworkInterfaces": [eni]}


class StubLambda:
    def __init__(self, functions: list[dict] | None = None) -> None:
        self.functions = functions or []

    def can_paginate(self, op: str) -> bool:
        return False

    def list_functions(self) -> dict:
        return {"Functions": self.functions}


def stub_run(ec2: StubEC2, lam: StubLambda, wait: bool) -> td._Run:
    clients: dict[str, Any] = {"ec2": ec2, "lambda": lam}
    return td._Run(lambda service, region: clients[service], wait=wait)


GROUP = Resource("ec2", "security-group", "sg-1", REGION, label="lab-blog-fn")


def test_wait_polls_until_lambda_releases_its_interfaces(clock: dict[str, Any]) -> None:
    # GIVEN Lambda's interface for 12 polls (about 2.5 minutes of backing off)
    ec2 = StubEC2(polls=12)

    held = td._await_lambda_enis(stub_run(ec2, StubLambda(), wait=True), [GROUP])

    # THEN nothing is held back, after polling the group's interfaces until none was left
    assert held == {}
    assert len(ec2.calls) == 13
    assert ec2.calls[0] == [{"Name": "group-id", "Values": ["sg-1"]}]
    assert clock["slept"][:4] == [2.0, 3.0, 4.5, 6.75] and max(clock["slept"]) == 20.0
    # AND said why it waits at the start and then once a minute, and when it was over
    waiting = [m for m in clock["said"] if m.startswith("labbook teardown: waiting for AWS Lambda")]
    assert len(waiting) == 1 + int(sum(clock["slept"][:-1]) // 60)
    assert all("eni-0lambda" in m and "security-group sg-1" in m for m in waiting)
    assert "refuses to delete a security group or subnet" in waiting[0]
    assert "1 min so far" in waiting[1] and "2 min so far" in waiting[2]
    assert clock["said"][-1].startswith("labbook teardown: AWS Lambda released")


def test_wait_gives_up_after_its_timeout_and_holds_the_group(clock: dict[str, Any]) -> None:
    ec2 = StubEC2(polls=10_000)

    held = td._await_lambda_enis(stub_run(ec2, StubLambda(), wait=True), [GROUP])

    assert "after 45 min of waiting" in held[GROUP] and "eni-0lambda" in held[GROUP]
    assert td._LAMBDA_ENI_TIMEOUT_S - 20 <= sum(clock["slept"]) <= td._LAMBDA_ENI_TIMEOUT_S
    assert len([m for m in clock["said"] if "waiting for AWS Lambda" in m]) >= 44


def test_no_wait_checks_once(clock: dict[str, Any]) -> None:
    ec2 = StubEC2(polls=3)

    held = td._await_lambda_enis(stub_run(ec2, StubLambda(), wait=False), [GROUP])

    assert "run the teardown again later, or with wait=True" in held[GROUP]
    assert len(ec2.calls) == 1 and clock["slept"] == [] and clock["said"] == []


def test_no_lambda_interface_means_no_wait(clock: dict[str, Any]) -> None:
    """moto (and a function that never ran) leaves no interface: nothing to wait for."""
    ec2 = StubEC2(polls=0)
    subnet = Resource("ec2", "subnet", "subnet-1", REGION)

    held = td._await_lambda_enis(stub_run(ec2, StubLambda(), wait=True), [GROUP, subnet])

    assert held == {} and clock["slept"] == [] and clock["said"] == []
    assert [f[0]["Name"] for f in ec2.calls] == ["group-id", "subnet-id"]


@pytest.mark.parametrize(
    "eni",
    [
        {"InterfaceType": "lambda"},
        {"RequesterId": "AROAEXAMPLE:awslambda_123456789012", "InterfaceType": "interface"},
        {"Description": LAMBDA_ENI},
    ],
)
def test_lambda_interfaces_are_recognised(eni: dict) -> None:
    assert td._is_lambda_eni(eni)


def test_other_interfaces_are_not_lambdas() -> None:
    nat = {"InterfaceType": "nat_gateway", "Description": "Interface for NAT Gateway nat-1"}
    mine = {"InterfaceType": "interface", "Description": "a lab's own interface"}
    assert not td._is_lambda_eni(nat) and not td._is_lambda_eni(mine)


def test_a_nat_gateway_being_deleted_holds_its_address_without_wait(
    lab: Factory, plain: Factory, tracker: Tracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On AWS a NAT gateway is "deleting" for about a minute; its Elastic IP waits for it."""
    from .test_teardown_kinds import create_nat_gateway

    ids = create_nat_gateway(lab)

    def deleting(parsed: dict, **_: Any) -> None:
        for nat in parsed.get("NatGateways", []):
            nat["State"] = "deleting"

    plain("ec2").meta.events.register("after-call.ec2.DescribeNatGateways", deleting)

    report = teardown(tracker.resources, plain, wait=False)

    [eip] = [r for r in report.left if r.id == ids["eip"]]
    assert "still being deleted" in report.notes[eip] and "wait=True" in report.notes[eip]
    assert plain("ec2").describe_addresses(AllocationIds=[ids["eip"]])["Addresses"]
