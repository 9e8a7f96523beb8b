"""DAX subnet groups, parameters and parameter groups, which moto does not implement.

A DAX cluster runs in a VPC: `CreateSubnetGroup` names the subnets (one VPC) its nodes use, and
`CreateCluster(SubnetGroupName=...)` places the cluster there. This adds the three subnet-group
calls to moto's DAX service, checks the subnets against moto's EC2 state, and keeps a cluster's
subnet group, with the errors the DAX API reference lists (SubnetGroupAlreadyExistsFault,
SubnetGroupNotFoundFault, SubnetGroupInUseFault, InvalidSubnet, SubnetInUse).
DescribeParameters and DescribeParameterGroups answer for the default group, `default.dax1.0`,
the only one (creating parameter groups is not emulated: moto answers NotImplementedError).
"""

from __future__ import annotations

import json
from typing import Any

from moto.core.exceptions import JsonRESTError

DEFAULT_PARAMETER_GROUP = "default.dax1.0"
DEFAULT_PARAMETERS = [
    {
        "ParameterName": name,
        "ParameterType": "DEFAULT",
        "ParameterValue": "300000",
        "NodeTypeSpecificValues": [],
        "Description": description,
        "Source": "system",
        "DataType": "integer",
        "AllowedValues": "0-",
        "IsModifiable": "TRUE",
        "ChangeType": "requires-reboot",
    }
    for name, description in (
        ("query-ttl-millis", "Duration in milliseconds for queries to remain cached"),
        ("record-ttl-millis", "Duration in milliseconds for records to remain valid in cache"),
    )
]


class _Fault(JsonRESTError):
    def __init__(self, code: str, message: str):
        super().__init__(code, message)


def _groups(backend: Any) -> dict[str, dict[str, Any]]:
    if not hasattr(backend, "labbook_subnet_groups"):
        backend.labbook_subnet_groups = {}
    return backend.labbook_subnet_groups


def _describe(group: dict[str, Any]) -> dict[str, Any]:
    return {
        "SubnetGroupName": group["name"],
        "Description": group["description"],
        "VpcId": group["vpc_id"],
        "Subnets": [
            {"SubnetIdentifier": s["id"], "SubnetAvailabilityZone": s["az"]}
            for s in group["subnets"]
        ],
    }


def _subnets(account_id: str, region: str, subnet_ids: list[str]) -> list[dict[str, str]]:
    from moto.ec2.models import ec2_backends

    ec2 = ec2_backends[account_id][region]
    found = []
    for subnet_id in subnet_ids:
        try:
            subnet = ec2.get_subnet(subnet_id)
        except Exception:
            raise _Fault("InvalidSubnet", f"Subnet {subnet_id} does not exist.") from None
        found.append({"id": subnet.id, "az": subnet.availability_zone, "vpc": subnet.vpc_id})
    if len({s["vpc"] for s in found}) > 1:
        raise _Fault("InvalidSubnet", "All subnets of a subnet group must be in the same VPC.")
    return found


def install(emulator: Any) -> None:
    """Add CreateSubnetGroup, DescribeSubnetGroups and DeleteSubnetGroup to moto's DAX."""
    from moto.dax.responses import DAXResponse

    def create_subnet_group(response: Any) -> str:
        params = json.loads(response.body)
        name = params["SubnetGroupName"]
        groups = _groups(response.dax_backend)
        if name in groups:
            raise _Fault("SubnetGroupAlreadyExistsFault", f"Subnet group {name} already exists.")
        subnets = _subnets(response.current_account, response.region, params["SubnetIds"])
        groups[name] = {
            "name": name,
            "description": params.get("Description", ""),
            "vpc_id": subnets[0]["vpc"],
            "subnets": subnets,
        }
        return json.dumps({"SubnetGroup": _describe(groups[name])})

    def describe_subnet_groups(response: Any) -> str:
        params = json.loads(response.body)
        groups = _groups(response.dax_backend)
        names = params.get("SubnetGroupNames") or sorted(groups)
        missing = [n for n in names if n not in groups]
        if missing:
            raise _Fault("SubnetGroupNotFoundFault", f"Subnet group {missing[0]} not found.")
        return json.dumps({"SubnetGroups": [_describe(groups[n]) for n in names]})

    def delete_subnet_group(response: Any) -> str:
        name = json.loads(response.body)["SubnetGroupName"]
        backend = response.dax_backend
        groups = _groups(backend)
        if name not in groups:
            raise _Fault("SubnetGroupNotFoundFault", f"Subnet group {name} not found.")
        # a cluster being deleted still holds its subnets on AWS until it is gone; moto never
        # finishes deleting one, so only live clusters count here
        users = [
            c.name
            for c in backend.clusters.values()
            if c.subnet_group == name and c.status not in ("deleting", "deleted")
        ]
        if users:
            raise _Fault("SubnetGroupInUseFault", f"Subnet group {name} is in use by {users[0]}.")
        del groups[name]
        return json.dumps({"DeletionMessage": f"Subnet group {name} deleted."})

    def describe_parameters(response: Any) -> str:
        # moto keeps no parameter groups; every cluster has the default one, whose TTLs are
        # AWS's defaults (five minutes for both caches)
        group = json.loads(response.body).get("ParameterGroupName")
        if group != DEFAULT_PARAMETER_GROUP:
            raise _Fault("ParameterGroupNotFoundFault", f"Parameter group {group} not found.")
        return json.dumps({"Parameters": DEFAULT_PARAMETERS})

    def describe_parameter_groups(response: Any) -> str:
        # only the default group exists (moto cannot create others): a lab's teardown lists
        # the account's groups and must find nothing of its own
        names = json.loads(response.body).get("ParameterGroupNames") or [DEFAULT_PARAMETER_GROUP]
        unknown = [n for n in names if n != DEFAULT_PARAMETER_GROUP]
        if unknown:
            raise _Fault("ParameterGroupNotFoundFault", f"Parameter group {unknown[0]} not found.")
        default = {
            "ParameterGroupName": DEFAULT_PARAMETER_GROUP,
            "Description": "Default parameter group for dax1.0",
        }
        return json.dumps({"ParameterGroups": [default]})

    for name, fn in (
        ("describe_parameters", describe_parameters),
        ("describe_parameter_groups", describe_parameter_groups),
        ("create_subnet_group", create_subnet_group),
        ("describe_subnet_groups", describe_subnet_groups),
        ("delete_subnet_group", delete_subnet_group),
    ):
        emulator._patch(DAXResponse, name, fn)

    original_create = DAXResponse.create_cluster

    def create_cluster(response: Any) -> str:
        group = json.loads(response.body).get("SubnetGroupName")
        if group and group not in _groups(response.dax_backend):
            raise _Fault("SubnetGroupNotFoundFault", f"Subnet group {group} not found.")
        answer = original_create(response)
        if group:
            name = json.loads(answer)["Cluster"]["ClusterName"]
            response.dax_backend.clusters[name].subnet_group = group
            answer = json.dumps({"Cluster": response.dax_backend.clusters[name].to_json()})
        return answer

    emulator._patch(DAXResponse, "create_cluster", create_cluster)
