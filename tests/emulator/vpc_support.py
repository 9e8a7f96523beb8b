"""The network the load-balancer and instance tests stand on, made as a learner makes it."""

from __future__ import annotations


def two_zone_vpc(lab, block: str = "10.0") -> tuple[str, list[str]]:
    """A VPC `{block}.0.0/16` with a /24 subnet in each of two Availability Zones (an ALB needs
    two): (vpc id, [subnet in zone a, subnet in zone b])."""
    ec2 = lab.client("ec2")
    vpc = ec2.create_vpc(CidrBlock=f"{block}.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(
            VpcId=vpc, CidrBlock=f"{block}.{i}.0/24", AvailabilityZone=f"{lab.region}{zone}"
        )["Subnet"]["SubnetId"]
        for i, zone in ((1, "a"), (2, "b"))
    ]
    return vpc, subnets
