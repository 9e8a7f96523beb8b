"""What the network teardown must never touch on a real account: an Elastic IP's association
with something the lab did not make, the main route table of a VPC the lab did not make, the
rules of a security group that stays; and how long it may wait (one bound per teardown)."""

from __future__ import annotations

from typing import Any

from botocore.client import BaseClient

import helpers.teardown as td
from helpers.teardown import Resource, Tracker, teardown

from . import test_teardown_vpc_network as network
from .conftest import REGION, Factory
from .test_teardown_kinds import create_nat_gateway
from .test_teardown_vpc_network import GROUP, StubEC2, StubLambda, _refuse, call_log, stub_run

clock = network.clock  # the fixtures: a fake clock, an EC2 client nobody tracks
inspect = network.inspect


def refuse_first(client: BaseClient, op: str, code: str, times: int) -> list[int]:
    """Make `client` answer `code` to the first `times` calls of `op` (as AWS does for a while)."""
    seen: list[int] = []

    def rule(**_: Any) -> None:
        seen.append(1)
        if len(seen) <= times:
            raise _refuse(op, code, "not yet")

    client.meta.events.register(f"before-parameter-build.ec2.{op}", rule)
    return seen


# --- Elastic IPs ----------------------------------------------------------------------------------


def test_an_address_on_a_nat_gateways_interface_is_never_disassociated_and_release_is_retried(
    tracker: Tracker, lab: Factory, plain: Factory, clock: dict[str, Any]
) -> None:
    # GIVEN a NAT gateway with its Elastic IP, and AWS still answering InUse for a while after
    # the NAT gateway is deleted
    create_nat_gateway(lab)
    calls = call_log(plain, ["ec2"])
    tries = refuse_first(plain("ec2"), "ReleaseAddress", "InvalidIPAddress.InUse", 4)

    # WHEN the lab tears down with wait=True
    report = teardown(tracker.resources, plain, wait=True)

    # THEN the address is released once AWS frees it, never disassociated from the NAT's interface
    assert report.clean, str(report)
    assert "DisassociateAddress" not in [name for name, _ in calls]
    assert len(tries) == 5 and 0 < sum(clock["slept"]) < td._DEPENDENCY_RETRY_S
    assert not plain("ec2").describe_addresses()["Addresses"]


def test_release_gives_up_after_its_bound_and_an_interface_not_found_is_not_the_address_gone(
    tracker: Tracker, lab: Factory, plain: Factory, clock: dict[str, Any]
) -> None:
    ids = create_nat_gateway(lab)
    refuse_first(plain("ec2"), "ReleaseAddress", "InvalidNetworkInterfaceID.NotFound", 10_000)

    report = teardown(tracker.resources, plain, wait=True)

    [error] = [msg for r, msg in report.errors if r.id == ids["eip"]]
    assert "InvalidNetworkInterfaceID.NotFound" in error
    [eip] = [r for r in report.left if r.id == ids["eip"]]
    assert report.notes.get(eip) != "already gone"
    assert td._DEPENDENCY_RETRY_S - 20 <= sum(clock["slept"]) <= td._DEPENDENCY_RETRY_S + 20
    assert plain("ec2").describe_addresses(AllocationIds=[ids["eip"]])["Addresses"]


def test_an_address_on_an_interface_the_lab_did_not_make_is_left_naming_it(
    tracker: Tracker, lab: Factory, plain: Factory, inspect: BaseClient
) -> None:
    # GIVEN the lab's Elastic IP, associated with a network interface someone else made
    vpc = inspect.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = inspect.create_subnet(VpcId=vpc, CidrBlock="10.9.0.0/24")["Subnet"]["SubnetId"]
    eni = inspect.create_network_interface(SubnetId=subnet, Description="someone else's")[
        "NetworkInterface"
    ]["NetworkInterfaceId"]
    eip = lab("ec2").allocate_address(Domain="vpc")["AllocationId"]
    inspect.associate_address(AllocationId=eip, NetworkInterfaceId=eni)
    calls = call_log(plain, ["ec2"])

    report = teardown(tracker.resources, plain, wait=False)

    # THEN teardown neither disassociates nor releases it, and says what holds it
    [error] = [msg for r, msg in report.errors if r.id == eip]
    assert eni in error and "did not create" in error and "disassociate-address" in error
    assert [name for name, _ in calls if name in ("DisassociateAddress", "ReleaseAddress")] == []
    [address] = inspect.describe_addresses(AllocationIds=[eip])["Addresses"]
    assert address["NetworkInterfaceId"] == eni


def test_an_address_on_the_labs_own_interface_is_disassociated_then_released(
    tracker: Tracker, lab: Factory, plain: Factory, inspect: BaseClient
) -> None:
    vpc = lab("ec2").create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    subnet = lab("ec2").create_subnet(VpcId=vpc, CidrBlock="10.8.0.0/24")["Subnet"]["SubnetId"]
    eni = lab("ec2").create_network_interface(SubnetId=subnet)["NetworkInterface"][
        "NetworkInterfaceId"
    ]
    eip = lab("ec2").allocate_address(Domain="vpc")["AllocationId"]
    lab("ec2").associate_address(AllocationId=eip, NetworkInterfaceId=eni)
    calls = call_log(plain, ["ec2"])

    report = teardown(tracker.resources, plain, wait=False)

    assert report.clean, str(report)
    names = [name for name, _ in calls]
    assert names.index("DisassociateAddress") < names.index("ReleaseAddress")
    assert not inspect.describe_addresses()["Addresses"]


# --- the main route table -------------------------------------------------------------------------


def test_main_is_never_handed_back_in_a_vpc_the_lab_did_not_make(
    tracker: Tracker, lab: Factory, plain: Factory, inspect: BaseClient
) -> None:
    # GIVEN someone else's VPC, in which the lab made its own table the main one
    vpc = inspect.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    flt = [{"Name": "vpc-id", "Values": [vpc]}, {"Name": "association.main", "Values": ["true"]}]
    [original] = inspect.describe_route_tables(Filters=flt)["RouteTables"]
    main = original["Associations"][0]["RouteTableAssociationId"]
    table = lab("ec2").create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    lab("ec2").replace_route_table_association(AssociationId=main, RouteTableId=table)
    calls = call_log(plain, ["ec2"])

    report = teardown(tracker.resources, plain, wait=False)

    # THEN the lab's table stays main, and the report says how to make another one main
    [error] = [msg for r, msg in report.errors if r.id == table]
    assert vpc in error and "replace-route-table-association" in error
    assert "labbook teardown --lab" in error
    assert [name for name, _ in calls if name != "RevokeSecurityGroupEgress"] == []
    [still] = inspect.describe_route_tables(Filters=flt)["RouteTables"]
    assert still["RouteTableId"] == table


# --- the bound on waiting for AWS Lambda ----------------------------------------------------------


def test_one_lambda_wait_bound_for_the_whole_teardown(clock: dict[str, Any]) -> None:
    # GIVEN Lambda never releases its interfaces, in a security group and then in a subnet
    run = stub_run(StubEC2(polls=10_000), StubLambda(), wait=True)
    subnet = Resource("ec2", "subnet", "subnet-1", REGION)

    # WHEN the security groups' step gives up, and then the subnets' step runs
    held_groups = td._await_lambda_enis(run, [GROUP])
    waited = sum(clock["slept"])
    held_subnets = td._await_lambda_enis(run, [subnet])

    # THEN the subnet is held at once: the teardown waits 45 min at most in all
    assert GROUP in held_groups and subnet in held_subnets
    assert "in this teardown" in held_subnets[subnet]
    assert "labbook teardown --lab" in held_subnets[subnet]
    assert sum(clock["slept"]) == waited <= td._LAMBDA_ENI_TIMEOUT_S
    assert any("in all for this teardown" in m for m in clock["said"])


# --- the VPC ---------------------------------------------------------------------------------------


def test_the_vpc_is_retried_while_aws_answers_dependency_violation(
    tracker: Tracker, lab: Factory, plain: Factory, clock: dict[str, Any]
) -> None:
    vpc = lab("ec2").create_vpc(CidrBlock="10.6.0.0/16")["Vpc"]["VpcId"]
    tries = refuse_first(plain("ec2"), "DeleteVpc", "DependencyViolation", 3)

    report = teardown(tracker.resources, plain, wait=True)

    assert report.clean, str(report)
    assert len(tries) == 4 and clock["slept"]
    assert not plain("ec2").describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Vpcs"]


def test_the_vpc_error_names_route_tables_and_network_acls(plain: Factory) -> None:
    ec2 = plain("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.5.0.0/16")["Vpc"]["VpcId"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]

    inside = td._vpc_contents(ec2, vpc)

    assert f"route table {table}" in inside and f"network ACL {acl}" in inside
    assert not any("network ACL" in item and acl not in item for item in inside)  # not the default
