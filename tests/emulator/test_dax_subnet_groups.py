"""DAX subnet groups, as the DAX API reference describes CreateSubnetGroup, DescribeSubnetGroups,
DeleteSubnetGroup and CreateCluster's SubnetGroupName (moto lacks the first three)."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

BACKENDS = ("moto", "moto-server")


@pytest.fixture
def subnets(lab):
    ec2 = lab.client("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]
    found = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])
    return vpc["VpcId"], sorted(s["SubnetId"] for s in found["Subnets"])[:2]


def _role(lab) -> str:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "dax.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam = lab.client("iam")
    name = lab.name("dax-role")
    try:
        return iam.get_role(RoleName=name)["Role"]["Arn"]
    except ClientError:
        return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"][
            "Arn"
        ]


def test_a_subnet_group_names_subnets_of_one_vpc(lab, subnets):
    vpc_id, subnet_ids = subnets
    dax = lab.client("dax")
    name = lab.name("cache-subnets")

    created = dax.create_subnet_group(SubnetGroupName=name, SubnetIds=subnet_ids)["SubnetGroup"]

    assert created["SubnetGroupName"] == name
    assert created["VpcId"] == vpc_id
    assert sorted(s["SubnetIdentifier"] for s in created["Subnets"]) == subnet_ids
    described = dax.describe_subnet_groups(SubnetGroupNames=[name])["SubnetGroups"]
    assert described == [created]
    with pytest.raises(ClientError) as again:
        dax.create_subnet_group(SubnetGroupName=name, SubnetIds=subnet_ids)
    assert again.value.response["Error"]["Code"] == "SubnetGroupAlreadyExistsFault"
    dax.delete_subnet_group(SubnetGroupName=name)
    with pytest.raises(ClientError) as gone:
        dax.describe_subnet_groups(SubnetGroupNames=[name])
    assert gone.value.response["Error"]["Code"] == "SubnetGroupNotFoundFault"


def test_an_unknown_subnet_is_refused(lab):
    with pytest.raises(ClientError) as refused:
        lab.client("dax").create_subnet_group(
            SubnetGroupName=lab.name("bad-subnets"), SubnetIds=["subnet-00000000"]
        )
    assert refused.value.response["Error"]["Code"] == "InvalidSubnet"


def test_a_cluster_lives_in_its_subnet_group_which_cannot_go_while_used(lab, subnets):
    dax = lab.client("dax")
    group = lab.name("used-subnets")
    dax.create_subnet_group(SubnetGroupName=group, SubnetIds=subnets[1])
    cluster = lab.name("dax1")

    created = dax.create_cluster(
        ClusterName=cluster,
        NodeType="dax.t3.small",
        ReplicationFactor=1,
        IamRoleArn=_role(lab),
        SubnetGroupName=group,
    )["Cluster"]

    assert created["SubnetGroup"] == group
    with pytest.raises(ClientError) as in_use:
        dax.delete_subnet_group(SubnetGroupName=group)
    assert in_use.value.response["Error"]["Code"] == "SubnetGroupInUseFault"
    dax.delete_cluster(ClusterName=cluster)


def test_a_cluster_in_an_unknown_subnet_group_is_refused(lab):
    with pytest.raises(ClientError) as refused:
        lab.client("dax").create_cluster(
            ClusterName=lab.name("dax2"),
            NodeType="dax.t3.small",
            ReplicationFactor=1,
            IamRoleArn=_role(lab),
            SubnetGroupName="no-such-group",
        )
    assert refused.value.response["Error"]["Code"] == "SubnetGroupNotFoundFault"


def test_the_default_parameter_group_caches_for_five_minutes(lab):
    params = lab.client("dax").describe_parameters(ParameterGroupName="default.dax1.0")
    ttls = {p["ParameterName"]: p["ParameterValue"] for p in params["Parameters"]}
    assert ttls == {"query-ttl-millis": "300000", "record-ttl-millis": "300000"}


def test_the_account_lists_only_the_default_parameter_group(lab):
    dax = lab.client("dax")
    listed = dax.describe_parameter_groups()["ParameterGroups"]
    named = dax.describe_parameter_groups(ParameterGroupNames=["default.dax1.0"])
    with pytest.raises(ClientError) as unknown:
        dax.describe_parameter_groups(ParameterGroupNames=["no-such-group"])
    assert [g["ParameterGroupName"] for g in listed] == ["default.dax1.0"]
    assert named["ParameterGroups"] == listed
    assert unknown.value.response["Error"]["Code"] == "ParameterGroupNotFoundFault"
