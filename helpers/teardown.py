"""Tag and record what a lab creates, delete it in dependency order, prove it is gone, find leftovers.

`Tracker.attach(client)` hooks botocore events on a boto3 client: create calls get the lab's tags
(in the shape each operation expects, never overwriting the caller's) and every successful create is
recorded as a `Resource`. `teardown()` deletes resources dependencies first and checks each one with
the service's own describe call; given the lab's `owned_prefix` and `run_tag`, it deletes only what
this lab made (its name prefix, or its run tag) and keeps, and reports, a learner's own resource
that an idempotent create call merely returned. `discover()` finds resources of earlier runs on a real account by
tag (Resource Groups Tagging API) and, for what that API misses, by listing each service.

`teardown(..., wait=True)` is for real AWS, where deletions are asynchronous: it polls (up to
15-30 min per kind) until each dependency group is gone, and before deleting security groups and
subnets waits (saying why once a minute) until AWS Lambda has released the network interfaces of
deleted VPC functions: 45 min at most in all for one teardown, security groups and subnets
together; once that is spent, what Lambda still holds is left at once, not waited for again. Offline, use wait=False: moto deletes at once, and leaves a
few kinds (ElastiCache, DAX) "deleting" for ever.
"""

from __future__ import annotations

import html
import re
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from botocore.client import BaseClient
from botocore.exceptions import BotoCoreError, ClientError

ClientFactory = Callable[[str, str], BaseClient]


@dataclass(frozen=True)
class Resource:
    """One AWS resource a lab created: what to delete, where, and what it belongs to."""

    service: str  # boto3 service name: "s3", "lambda", "dynamodb", ...
    kind: str  # "bucket", "function", "table", "queue", ...
    id: str  # what the deleter needs: bucket name, function name, queue URL, ARN...
    region: str
    # The owning resource, for sub-resources: topic ARN of a subscription, database of a Glue
    # table, cluster ARN of an ECS service, file system of a mount target, event bus of a rule,
    # and for a DynamoDB replica the region of the table it replicates.
    parent: str | None = field(default=None, compare=False)
    label: str | None = field(default=None, compare=False)  # short display name

    @property
    def name(self) -> str:
        """The name shown in reports."""
        return self.label or self.id

    def __str__(self) -> str:
        return f"{self.service} {self.kind} {self.name} ({self.region})"


# ---------------------------------------------------------------------------------------------
# Tagging: which parameter of which create call carries tags
# ---------------------------------------------------------------------------------------------

# (boto3 service name, operation) -> path to the tag parameter. The value's shape (map, Key/Value
# list, {"Items": [...]}, "k=v&..." string, EC2 TagSpecifications) is read from the service model.
_TAG_PARAMS: dict[tuple[str, str], tuple[str, ...]] = {
    ("s3", "PutBucketTagging"): ("Tagging",),
    ("dynamodb", "CreateTable"): ("Tags",),
    ("lambda", "CreateFunction"): ("Tags",),
    ("lambda", "CreateEventSourceMapping"): ("Tags",),
    ("iam", "CreateRole"): ("Tags",),
    ("iam", "CreatePolicy"): ("Tags",),
    ("iam", "CreateUser"): ("Tags",),
    ("iam", "CreateInstanceProfile"): ("Tags",),
    ("sqs", "CreateQueue"): ("tags",),
    ("sns", "CreateTopic"): ("Tags",),
    ("logs", "CreateLogGroup"): ("tags",),
    ("kinesis", "CreateStream"): ("Tags",),
    ("firehose", "CreateDeliveryStream"): ("Tags",),
    ("cloudfront", "CreateDistributionWithTags"): ("DistributionConfigWithTags", "Tags"),
    ("cloudfront", "CreateFunction"): ("Tags",),
    ("apigateway", "CreateRestApi"): ("tags",),
    ("apigateway", "CreateApiKey"): ("tags",),
    ("apigateway", "CreateUsagePlan"): ("tags",),
    ("cognito-idp", "CreateUserPool"): ("UserPoolTags",),
    ("secretsmanager", "CreateSecret"): ("Tags",),
    ("sesv2", "CreateEmailIdentity"): ("Tags",),
    ("glue", "CreateDatabase"): ("Tags",),
    ("glue", "CreateCrawler"): ("Tags",),
    ("athena", "CreateWorkGroup"): ("Tags",),
    ("iot", "CreateTopicRule"): ("tags",),
    ("iot", "CreatePolicy"): ("tags",),
    ("dax", "CreateCluster"): ("Tags",),
    ("ec2", "CreateVpc"): ("TagSpecifications",),
    ("ec2", "CreateSubnet"): ("TagSpecifications",),
    ("ec2", "CreateSecurityGroup"): ("TagSpecifications",),
    ("ec2", "CreateInternetGateway"): ("TagSpecifications",),
    ("ec2", "CreateRouteTable"): ("TagSpecifications",),
    ("ec2", "CreateLaunchTemplate"): ("TagSpecifications",),
    ("ec2", "RunInstances"): ("TagSpecifications",),
    ("ec2", "CreateNatGateway"): ("TagSpecifications",),
    ("ec2", "AllocateAddress"): ("TagSpecifications",),
    ("ec2", "CreateVpcEndpoint"): ("TagSpecifications",),
    ("ec2", "CreateNetworkInterface"): ("TagSpecifications",),
    ("autoscaling", "CreateAutoScalingGroup"): ("Tags",),
    ("elbv2", "CreateLoadBalancer"): ("Tags",),
    ("elbv2", "CreateTargetGroup"): ("Tags",),
    ("efs", "CreateFileSystem"): ("Tags",),
    ("efs", "CreateAccessPoint"): ("Tags",),
    ("rds", "CreateDBCluster"): ("Tags",),
    ("rds", "CreateDBInstance"): ("Tags",),
    ("rds", "CreateGlobalCluster"): ("Tags",),
    ("rds", "CreateDBSubnetGroup"): ("Tags",),
    ("elasticache", "CreateCacheCluster"): ("Tags",),
    ("elasticache", "CreateReplicationGroup"): ("Tags",),
    ("elasticache", "CreateServerlessCache"): ("Tags",),
    ("elasticache", "CreateCacheSubnetGroup"): ("Tags",),
    ("events", "PutRule"): ("Tags",),
    ("ecs", "CreateCluster"): ("tags",),
    ("ecs", "RegisterTaskDefinition"): ("tags",),
    ("ecs", "CreateService"): ("tags",),
}

# EC2 TagSpecifications name the resource type being tagged.
_EC2_RESOURCE_TYPES = {
    "CreateVpc": "vpc",
    "CreateSubnet": "subnet",
    "CreateSecurityGroup": "security-group",
    "CreateInternetGateway": "internet-gateway",
    "CreateRouteTable": "route-table",
    "CreateLaunchTemplate": "launch-template",
    "RunInstances": "instance",
    "CreateNatGateway": "natgateway",
    "AllocateAddress": "elastic-ip",
    "CreateVpcEndpoint": "vpc-endpoint",
    "CreateNetworkInterface": "network-interface",
}


def _key_value_names(shape: Any) -> tuple[str, str]:
    names = {n.lower(): n for n in shape.members}
    return names["key"], names["value"]


def _merged_tags(shape: Any, current: Any, tags: dict[str, str]) -> Any:
    """Return `current` (in `shape`) plus every lab tag whose key the caller did not set."""
    if shape.type_name == "map":
        merged = dict(current or {})
        for key, value in tags.items():
            merged.setdefault(key, value)
        return merged
    if shape.type_name == "string":  # IoT: "k1=v1&k2=v2"
        pairs = parse_qsl(current or "", keep_blank_values=True)
        have = {k for k, _ in pairs}
        return urlencode(pairs + [(k, v) for k, v in tags.items() if k not in have])
    if shape.type_name == "list":
        key_name, value_name = _key_value_names(shape.member)
        items = list(current or [])
        have = {item.get(key_name) for item in items}
        for key, value in tags.items():
            if key not in have:
                item = {key_name: key, value_name: value}
                if "PropagateAtLaunch" in shape.member.members:  # Auto Scaling
                    item["PropagateAtLaunch"] = True
                items.append(item)
        return items
    if shape.type_name == "structure" and len(shape.members) == 1:  # {"Items": [...]}, {"TagSet"}
        (member_name,) = shape.members
        current = dict(current or {})
        current[member_name] = _merged_tags(
            shape.members[member_name], current.get(member_name), tags
        )
        if "Quantity" in current:
            current["Quantity"] = len(current[member_name])
        return current
    raise TypeError(f"unexpected tag shape {shape.type_name}")


def _merged_tag_specifications(current: Any, resource_type: str, tags: dict[str, str]) -> list:
    specs = [dict(spec) for spec in current or []]
    spec = next((s for s in specs if s.get("ResourceType") == resource_type), None)
    if spec is None:
        spec = {"ResourceType": resource_type, "Tags": []}
        specs.append(spec)
    have = {t.get("Key") for t in spec.get("Tags", [])}
    spec["Tags"] = list(spec.get("Tags", [])) + [
        {"Key": k, "Value": v} for k, v in tags.items() if k not in have
    ]
    return specs


def _inject_tags(params: dict, model: Any, path: tuple[str, ...], tags: dict[str, str]) -> None:
    """Merge the lab's tags into `params` at `path`, copying rather than mutating caller objects."""
    shape = model.input_shape
    target = params
    for name in path[:-1]:
        shape = shape.members[name]
        if not isinstance(target.get(name), dict):
            return  # the caller's call is invalid anyway: let AWS say so
        target[name] = dict(target[name])
        target = target[name]
    last = path[-1]
    if last not in shape.members:
        return  # an older botocore without this tag parameter
    if last == "TagSpecifications":
        target[last] = _merged_tag_specifications(
            target.get(last), _EC2_RESOURCE_TYPES[model.name], tags
        )
    else:
        target[last] = _merged_tags(shape.members[last], target.get(last), tags)


# ---------------------------------------------------------------------------------------------
# Recording: what a successful create call made
# ---------------------------------------------------------------------------------------------

Recorder = Callable[[dict, dict, str], list[Resource]]


def _last(arn: str, sep: str = "/") -> str:
    return arn.rsplit(sep, 1)[-1]


def _at(path: str) -> Callable[[dict, dict], Any]:
    """A reader for "p.A.B" (the call's parameters) or "r.A.0.B" (its response)."""
    source, *keys = path.split(".")

    def read(p: dict, r: dict) -> Any:
        value: Any = p if source == "p" else r
        for key in keys:
            value = value[int(key)] if key.isdigit() else value[key]
        return value

    return read


def _rec(kind: str, id_path: str, label: str | None = None, parent: str | None = None) -> Any:
    """A recorder spec: the kind, where the id is, and optionally the label and parent."""
    return (kind, id_path, label, parent)


def _recorder(service: str, spec: Any) -> Recorder:
    if callable(spec):
        return spec
    kind, id_path, label_path, parent_path = spec
    get_id = _at(id_path)
    get_label = _at(label_path) if label_path else None
    get_parent = _at(parent_path) if parent_path else None

    def record(p: dict, r: dict, region: str) -> list[Resource]:
        return [
            Resource(
                service,
                kind,
                get_id(p, r),
                region,
                parent=get_parent(p, r) if get_parent else None,
                label=get_label(p, r) if get_label else None,
            )
        ]

    return record


def _record_bucket(p: dict, r: dict, region: str) -> list[Resource]:
    location = (p.get("CreateBucketConfiguration") or {}).get("LocationConstraint")
    return [Resource("s3", "bucket", p["Bucket"], location or region)]


def _record_replicas(p: dict, r: dict, region: str) -> list[Resource]:
    return [
        Resource("dynamodb", "table", p["TableName"], u["Create"]["RegionName"], parent=region)
        for u in p.get("ReplicaUpdates") or []
        if "Create" in u
    ]


def _record_instances(p: dict, r: dict, region: str) -> list[Resource]:
    return [Resource("ec2", "instance", i["InstanceId"], region) for i in r.get("Instances", [])]


def _record_subscription(p: dict, r: dict, region: str) -> list[Resource]:
    arn = r.get("SubscriptionArn", "")
    if not arn.startswith("arn:"):  # "pending confirmation": nothing to unsubscribe yet
        return []
    label = f"{p.get('Protocol')} {p.get('Endpoint', '')}".strip()
    return [Resource("sns", "subscription", arn, region, parent=p["TopicArn"], label=label)]


def _record_rule(p: dict, r: dict, region: str) -> list[Resource]:
    bus = p.get("EventBusName")
    bus = None if bus in (None, "default") else bus
    return [Resource("events", "rule", p["Name"], region, parent=bus)]


def _record_layer(p: dict, r: dict, region: str) -> list[Resource]:
    label = f"{p['LayerName']}:{r['Version']}"
    return [Resource("lambda", "layer-version", r["LayerVersionArn"], region, label=label)]


def _record_task_definition(p: dict, r: dict, region: str) -> list[Resource]:
    arn = r["taskDefinition"]["taskDefinitionArn"]
    return [Resource("ecs", "task-definition", arn, region, label=_last(arn))]


def _record_hosted_zone(p: dict, r: dict, region: str) -> list[Resource]:
    zone = r["HostedZone"]
    return [Resource("route53", "hosted-zone", _last(zone["Id"]), region, label=zone["Name"])]


def _record_glue_table(p: dict, r: dict, region: str) -> list[Resource]:
    db, name = p["DatabaseName"], p["TableInput"]["Name"]
    return [Resource("glue", "table", name, region, parent=db, label=f"{db}.{name}")]


_DISTRIBUTION = _rec("distribution", "r.Distribution.Id", "r.Distribution.DomainName")
_REST_API = _rec("rest-api", "r.id", "r.name")

# (service, create operation) -> what it made: a _rec spec, or a function for the odd ones.
_RECORD_SPECS: dict[tuple[str, str], Any] = {
    ("s3", "CreateBucket"): _record_bucket,
    ("dynamodb", "CreateTable"): _rec("table", "r.TableDescription.TableName"),
    ("dynamodb", "UpdateTable"): _record_replicas,
    ("lambda", "CreateFunction"): _rec("function", "r.FunctionName"),
    ("lambda", "CreateEventSourceMapping"): _rec("event-source-mapping", "r.UUID"),
    ("lambda", "PublishLayerVersion"): _record_layer,
    ("iam", "CreateRole"): _rec("role", "r.Role.RoleName"),
    ("iam", "CreatePolicy"): _rec("policy", "r.Policy.Arn", "p.PolicyName"),
    ("iam", "CreateUser"): _rec("user", "r.User.UserName"),
    ("iam", "CreateInstanceProfile"): _rec(
        "instance-profile", "r.InstanceProfile.InstanceProfileName"
    ),
    ("sqs", "CreateQueue"): _rec("queue", "r.QueueUrl", "p.QueueName"),
    ("sns", "CreateTopic"): _rec("topic", "r.TopicArn", "p.Name"),
    ("sns", "Subscribe"): _record_subscription,
    ("logs", "CreateLogGroup"): _rec("log-group", "p.logGroupName"),
    ("kinesis", "CreateStream"): _rec("stream", "p.StreamName"),
    ("firehose", "CreateDeliveryStream"): _rec("delivery-stream", "p.DeliveryStreamName"),
    ("cloudfront", "CreateDistribution"): _DISTRIBUTION,
    ("cloudfront", "CreateDistributionWithTags"): _DISTRIBUTION,
    ("cloudfront", "CreateOriginAccessControl"): _rec(
        "origin-access-control", "r.OriginAccessControl.Id", "p.OriginAccessControlConfig.Name"
    ),
    ("cloudfront", "CreateCloudFrontOriginAccessIdentity"): _rec(
        "origin-access-identity", "r.CloudFrontOriginAccessIdentity.Id"
    ),
    ("cloudfront", "CreatePublicKey"): _rec(
        "public-key", "r.PublicKey.Id", "p.PublicKeyConfig.Name"
    ),
    ("cloudfront", "CreateKeyGroup"): _rec("key-group", "r.KeyGroup.Id", "p.KeyGroupConfig.Name"),
    ("cloudfront", "CreateFunction"): _rec("function", "p.Name"),
    ("cloudfront", "CreateCachePolicy"): _rec(
        "cache-policy", "r.CachePolicy.Id", "p.CachePolicyConfig.Name"
    ),
    ("apigateway", "CreateRestApi"): _REST_API,
    ("apigateway", "ImportRestApi"): _REST_API,
    ("apigateway", "CreateApiKey"): _rec("api-key", "r.id", "r.name"),
    ("apigateway", "CreateUsagePlan"): _rec("usage-plan", "r.id", "r.name"),
    ("cognito-idp", "CreateUserPool"): _rec("user-pool", "r.UserPool.Id", "p.PoolName"),
    ("secretsmanager", "CreateSecret"): _rec("secret", "r.ARN", "p.Name"),
    ("ses", "VerifyEmailIdentity"): _rec("identity", "p.EmailAddress"),
    ("ses", "VerifyDomainIdentity"): _rec("identity", "p.Domain"),
    ("sesv2", "CreateEmailIdentity"): _rec("email-identity", "p.EmailIdentity"),
    ("sesv2", "CreateEmailTemplate"): _rec("email-template", "p.TemplateName"),
    ("glue", "CreateDatabase"): _rec("database", "p.DatabaseInput.Name"),
    ("glue", "CreateTable"): _record_glue_table,
    ("glue", "CreateCrawler"): _rec("crawler", "p.Name"),
    ("athena", "CreateWorkGroup"): _rec("workgroup", "p.Name"),
    ("iot", "CreateThing"): _rec("thing", "r.thingName"),
    ("iot", "CreateTopicRule"): _rec("topic-rule", "p.ruleName"),
    ("iot", "CreatePolicy"): _rec("policy", "r.policyName"),
    ("dax", "CreateCluster"): _rec("cluster", "r.Cluster.ClusterName"),
    ("dax", "CreateSubnetGroup"): _rec("subnet-group", "r.SubnetGroup.SubnetGroupName"),
    ("dax", "CreateParameterGroup"): _rec("parameter-group", "r.ParameterGroup.ParameterGroupName"),
    ("ec2", "CreateVpc"): _rec("vpc", "r.Vpc.VpcId"),
    ("ec2", "CreateSubnet"): _rec("subnet", "r.Subnet.SubnetId"),
    ("ec2", "CreateSecurityGroup"): _rec("security-group", "r.GroupId", "p.GroupName"),
    ("ec2", "CreateInternetGateway"): _rec(
        "internet-gateway", "r.InternetGateway.InternetGatewayId"
    ),
    ("ec2", "CreateRouteTable"): _rec("route-table", "r.RouteTable.RouteTableId"),
    ("ec2", "CreateLaunchTemplate"): _rec(
        "launch-template", "r.LaunchTemplate.LaunchTemplateId", "p.LaunchTemplateName"
    ),
    ("ec2", "RunInstances"): _record_instances,
    ("ec2", "CreateNatGateway"): _rec("nat-gateway", "r.NatGateway.NatGatewayId"),
    ("ec2", "AllocateAddress"): _rec("elastic-ip", "r.AllocationId", "r.PublicIp"),
    ("ec2", "CreateVpcEndpoint"): _rec("vpc-endpoint", "r.VpcEndpoint.VpcEndpointId"),
    ("ec2", "CreateNetworkInterface"): _rec(
        "network-interface", "r.NetworkInterface.NetworkInterfaceId"
    ),
    ("autoscaling", "CreateAutoScalingGroup"): _rec("auto-scaling-group", "p.AutoScalingGroupName"),
    ("elbv2", "CreateLoadBalancer"): _rec(
        "load-balancer", "r.LoadBalancers.0.LoadBalancerArn", "p.Name"
    ),
    ("elbv2", "CreateTargetGroup"): _rec(
        "target-group", "r.TargetGroups.0.TargetGroupArn", "p.Name"
    ),
    ("efs", "CreateFileSystem"): _rec("file-system", "r.FileSystemId"),
    ("efs", "CreateMountTarget"): _rec("mount-target", "r.MountTargetId", parent="r.FileSystemId"),
    ("efs", "CreateAccessPoint"): _rec("access-point", "r.AccessPointId", parent="r.FileSystemId"),
    ("rds", "CreateDBCluster"): _rec("db-cluster", "r.DBCluster.DBClusterIdentifier"),
    ("rds", "CreateDBInstance"): _rec("db-instance", "r.DBInstance.DBInstanceIdentifier"),
    ("rds", "CreateGlobalCluster"): _rec(
        "global-cluster", "r.GlobalCluster.GlobalClusterIdentifier"
    ),
    ("rds", "CreateDBSubnetGroup"): _rec("db-subnet-group", "r.DBSubnetGroup.DBSubnetGroupName"),
    ("elasticache", "CreateCacheCluster"): _rec("cache-cluster", "r.CacheCluster.CacheClusterId"),
    ("elasticache", "CreateServerlessCache"): _rec(
        "serverless-cache", "r.ServerlessCache.ServerlessCacheName"
    ),
    ("elasticache", "CreateReplicationGroup"): _rec(
        "replication-group", "r.ReplicationGroup.ReplicationGroupId"
    ),
    ("elasticache", "CreateCacheSubnetGroup"): _rec(
        "cache-subnet-group", "r.CacheSubnetGroup.CacheSubnetGroupName"
    ),
    ("route53", "CreateHostedZone"): _record_hosted_zone,
    ("events", "PutRule"): _record_rule,
    ("ecs", "CreateCluster"): _rec("cluster", "r.cluster.clusterArn", "r.cluster.clusterName"),
    ("ecs", "RegisterTaskDefinition"): _record_task_definition,
    ("ecs", "CreateService"): _rec(
        "service", "r.service.serviceArn", "r.service.serviceName", "r.service.clusterArn"
    ),
}
_RECORDERS: dict[tuple[str, str], Recorder] = {
    key: _recorder(key[0], spec) for key, spec in _RECORD_SPECS.items()
}


# Create calls that take no tags: tag right after the create succeeds.
def _tag_bucket(client: BaseClient, res: Resource, tags: dict[str, str]) -> None:
    try:
        current = client.get_bucket_tagging(Bucket=res.id)["TagSet"]
    except ClientError as exc:
        if _code(exc) not in ("NoSuchTagSet", "NoSuchTagSetError"):
            raise
        current = []
    shape = client.meta.service_model.operation_model("PutBucketTagging").input_shape
    tagging = _merged_tags(shape.members["Tagging"], {"TagSet": current}, tags)
    client.put_bucket_tagging(Bucket=res.id, Tagging=tagging)


def _tag_distribution(client: BaseClient, res: Resource, tags: dict[str, str]) -> None:
    arn = client.get_distribution(Id=res.id)["Distribution"]["ARN"]
    client.tag_resource(
        Resource=arn, Tags={"Items": [{"Key": k, "Value": v} for k, v in tags.items()]}
    )


def _tag_hosted_zone(client: BaseClient, res: Resource, tags: dict[str, str]) -> None:
    client.change_tags_for_resource(
        ResourceType="hostedzone",
        ResourceId=res.id,
        AddTags=[{"Key": k, "Value": v} for k, v in tags.items()],
    )


def _tag_rest_api(client: BaseClient, res: Resource, tags: dict[str, str]) -> None:
    arn = f"arn:aws:apigateway:{res.region}::/restapis/{res.id}"
    current = client.get_tags(resourceArn=arn).get("tags", {})
    client.tag_resource(resourceArn=arn, tags={k: v for k, v in tags.items() if k not in current})


def _tag_stream(client: BaseClient, res: Resource, tags: dict[str, str]) -> None:
    # CreateStream takes Tags on AWS; moto drops them, so make sure they are there.
    current = _tag_dict(client.list_tags_for_stream(StreamName=res.id).get("Tags", []))
    missing = {k: v for k, v in tags.items() if k not in current}
    if missing:
        client.add_tags_to_stream(StreamName=res.id, Tags=missing)


_TAG_AFTER: dict[tuple[str, str], Callable[[BaseClient, Resource, dict[str, str]], None]] = {
    ("s3", "CreateBucket"): _tag_bucket,
    ("cloudfront", "CreateDistribution"): _tag_distribution,
    ("route53", "CreateHostedZone"): _tag_hosted_zone,
    ("apigateway", "ImportRestApi"): _tag_rest_api,
    ("kinesis", "CreateStream"): _tag_stream,
}


# Create calls that answer with an EXISTING resource of that name instead of failing (S3
# CreateBucket in us-east-1, SQS CreateQueue with the same attributes, SNS CreateTopic, ECS
# CreateCluster, EventBridge PutRule, ELB CreateLoadBalancer/CreateTargetGroup, IoT CreateThing):
# the parameter that names the resource. With an owned_prefix, the Tracker tags only names that
# carry it, so a learner's own resource never gets the lab's tags.
_EXISTING_OK_NAME_PARAM: dict[tuple[str, str], str] = {
    ("s3", "CreateBucket"): "Bucket",
    ("sqs", "CreateQueue"): "QueueName",
    ("sns", "CreateTopic"): "Name",
    ("ecs", "CreateCluster"): "clusterName",
    ("events", "PutRule"): "Name",
    ("elbv2", "CreateLoadBalancer"): "Name",
    ("elbv2", "CreateTargetGroup"): "Name",
    ("iot", "CreateThing"): "thingName",
}


def _has_prefix(name: str | None, prefix: str) -> bool:
    """True when `name` starts with `prefix-` or, as IoT names are spelt, `prefix_` with `_` for `-`."""
    if not name or not prefix:
        return False
    return name.startswith(f"{prefix}-") or name.startswith(prefix.replace("-", "_") + "_")


class TaggingWarning(UserWarning):
    """A resource was created but could not be tagged or recorded."""


class Tracker:
    """Tags what attached boto3 clients create and remembers it, in creation order."""

    def __init__(
        self, *, tags: dict[str, str], region: str, owned_prefix: str | None = None
    ) -> None:
        self.tags = dict(tags)
        self.region = region
        # The lab's name prefix ("myblog-1a2b3c"): a create call that may return an existing
        # resource is tagged only when the name carries it (see _EXISTING_OK_NAME_PARAM).
        self.owned_prefix = owned_prefix
        self._resources: dict[Resource, Resource] = {}
        self._lock = threading.Lock()
        self._uid = f"labbook-teardown-{id(self)}"

    def attach(self, client: BaseClient) -> None:
        """Register botocore event handlers on one boto3 client so that its create calls carry the lab's tags and what they create is recorded."""
        service_model = client.meta.service_model
        service = service_model.service_name
        service_id = service_model.service_id.hyphenize()
        stash = self._uid
        ops = {op for svc, op in (*_TAG_PARAMS, *_RECORDERS) if svc == service}

        def on_params(params: dict, model: Any, context: dict, **_: Any) -> None:
            path = _TAG_PARAMS.get((service, model.name))
            if path and self.tags and self._may_tag(service, model.name, params):
                try:
                    _inject_tags(params, model, path, self.tags)
                except Exception as exc:  # never break the learner's call
                    warnings.warn(
                        f"labbook: could not add lab tags to {model.name}: {exc}",
                        TaggingWarning,
                        stacklevel=2,
                    )
            context[stash] = params

        def on_after_call(
            http_response: Any, parsed: dict, model: Any, context: dict, **_: Any
        ) -> None:
            if getattr(http_response, "status_code", 200) >= 300:
                return
            self._after_create(client, service, model.name, context.get(stash) or {}, parsed)

        for op in sorted(ops):
            client.meta.events.register(
                f"provide-client-params.{service_id}.{op}", on_params, unique_id=f"{stash}-p-{op}"
            )
            if (service, op) in _RECORDERS:
                client.meta.events.register(
                    f"after-call.{service_id}.{op}", on_after_call, unique_id=f"{stash}-a-{op}"
                )

    def _after_create(
        self, client: BaseClient, service: str, op: str, params: dict, parsed: dict
    ) -> None:
        region = client.meta.region_name or self.region
        if region == "aws-global":  # IAM, CloudFront, Route 53 clients
            region = "us-east-1"
        try:
            created = _RECORDERS[(service, op)](params, parsed, region)
        except Exception as exc:
            warnings.warn(
                f"labbook: {service} {op} succeeded but its resource could not be recorded "
                f"({exc!r}); teardown will miss it, delete it by hand.",
                TaggingWarning,
                stacklevel=3,
            )
            return
        tag_after = _TAG_AFTER.get((service, op)) if self._may_tag(service, op, params) else None
        for res in created:
            self.record(res)
            if tag_after and self.tags:
                try:
                    tag_after(client, res, self.tags)
                except (ClientError, BotoCoreError, NotImplementedError, KeyError) as exc:
                    warnings.warn(
                        f"labbook: created {res} but could not tag it ({exc}); teardown still "
                        "knows it, but `labbook teardown` on a later run will only find it by name.",
                        TaggingWarning,
                        stacklevel=3,
                    )

    def _may_tag(self, service: str, op: str, params: dict) -> bool:
        """False for a create call that may have returned a resource the lab does not own."""
        name_param = _EXISTING_OK_NAME_PARAM.get((service, op))
        if self.owned_prefix is None or name_param is None:
            return True
        return _has_prefix(params.get(name_param), self.owned_prefix)

    def record(self, resource: Resource) -> None:
        """Remember a resource created outside an attached client (for example by the emulator)."""
        with self._lock:
            known = self._resources.get(resource)
            if known is None:
                self._resources[resource] = resource
            elif known.parent is None and resource.parent is not None:
                self._resources[resource] = resource

    @property
    def resources(self) -> list[Resource]:
        """Everything recorded, in creation order, each once."""
        with self._lock:
            return list(self._resources.values())


# ---------------------------------------------------------------------------------------------
# Teardown
# ---------------------------------------------------------------------------------------------


@dataclass
class TeardownReport:
    """What a teardown deleted, what is still there, and what failed (with the AWS error)."""

    deleted: list[Resource]
    left: list[Resource]
    errors: list[tuple[Resource, str]]
    notes: dict[Resource, str] = field(default_factory=dict)  # why left, "already gone", ...

    @property
    def clean(self) -> bool:
        """True when nothing is left and nothing failed."""
        return not self.left and not self.errors

    def _rows(self) -> list[tuple[str, Resource, str]]:
        errors = dict(self.errors)
        rows = [("deleted", r, self.notes.get(r, "")) for r in self.deleted]
        rows += [("LEFT", r, errors.get(r) or self.notes.get(r, "")) for r in self.left]
        rows += [("ERROR", r, msg) for r, msg in self.errors if r not in self.left]
        return rows

    def summary(self) -> str:
        """One line: counts and whether the account is clean."""
        verdict = "clean" if self.clean else "NOT clean"
        return (
            f"Teardown: {len(self.deleted)} deleted, {len(self.left)} left, "
            f"{len(self.errors)} errors: {verdict}."
        )

    def __repr__(self) -> str:
        return str(self)  # the table, also where only text is shown (terminals, nbval)

    def __str__(self) -> str:
        header = ("status", "service", "kind", "name", "region", "note")
        rows = [header] + [
            (status, r.service, r.kind, r.name, r.region, note) for status, r, note in self._rows()
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(5)]
        lines = [
            "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:5])) + "  " + row[5]
            for row in rows
        ]
        lines.insert(1, "  ".join("-" * w for w in widths) + "  ----")
        return "\n".join([*(line.rstrip() for line in lines), self.summary()])

    def _repr_html_(self) -> str:
        cells = "".join(
            "<tr>"
            + "".join(
                f"<td>{html.escape(c)}</td>"
                for c in (status, r.service, r.kind, r.name, r.region, note)
            )
            + "</tr>"
            for status, r, note in self._rows()
        )
        head = "".join(
            f"<th>{h}</th>" for h in ("status", "service", "kind", "name", "region", "note")
        )
        return (
            f"<table><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>"
            f"<p><b>{html.escape(self.summary())}</b></p>"
        )


class _NotYet(Exception):
    """A resource that cannot be deleted yet (for example a CloudFront distribution deploying)."""


class _Failed(Exception):
    """A deleter failure whose message already names the cause and the fix."""


class _Run:
    """One teardown or discover pass: cached clients and the wait flag."""

    def __init__(
        self,
        client_factory: ClientFactory,
        wait: bool,
        targets: Iterable[Resource] = (),
        run_tag: tuple[str, str] | None = None,
    ) -> None:
        self._factory = client_factory
        self.wait = wait
        self._clients: dict[tuple[str, str], BaseClient] = {}
        self.deleted_now: set[Resource] = set()
        self.targets: set[Resource] = set(targets)  # what this run deletes (the lab's own)
        self.run_tag = run_tag
        # One bound for all the waits for AWS Lambda's network interfaces in this run: set when
        # the first wait starts; once it has passed, later ranks hold at once instead of waiting.
        self.lambda_deadline: float | None = None

    def targets_of(self, kind: str, region: str) -> set[str]:
        """The ids of the `kind` (ec2) resources this run deletes in `region`."""
        return {
            r.id
            for r in self.targets
            if r.service == "ec2" and r.kind == kind and r.region == region
        }

    def client(self, service: str, region: str) -> BaseClient:
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = self._factory(service, region)
        return self._clients[key]


_sleep = time.sleep  # replaced in tests
_monotonic = time.monotonic


def _say(message: str) -> None:
    """Tell the learner why a teardown is waiting (replaced in tests)."""
    print(message, flush=True)


_PROGRESS_EVERY_S = 60.0


def _poll(
    condition: Callable[[], bool],
    timeout: float,
    what: str,
    progress: Callable[[float], str] | None = None,
) -> None:
    """Call `condition` until it is true, backing off from 2 s to 20 s; _NotYet after `timeout`.

    With `progress`, say `progress(seconds waited)` once a minute while waiting.
    """
    start = _monotonic()
    deadline = start + timeout
    next_say = start + _PROGRESS_EVERY_S
    delay = 2.0
    while not condition():
        now = _monotonic()
        if now + delay > deadline:
            raise _NotYet(f"{what} after {timeout:.0f} s; run the teardown again later")
        if progress is not None and now >= next_say:
            _say(progress(now - start))
            next_say = now + _PROGRESS_EVERY_S
        _sleep(delay)
        delay = min(delay * 1.5, 20.0)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


_NOT_FOUND_CODES = {
    "404",
    "NonExistentQueue",
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
    "EntityNotFoundException",
    "NoSuchEntity",
}


def _not_found(exc: BaseException) -> bool:
    if not isinstance(exc, ClientError):
        return False
    code = _code(exc)
    return code in _NOT_FOUND_CODES or "NotFound" in code or code.startswith("NoSuch")


def _paginate(client: BaseClient, op: str, key: str, **kwargs: Any) -> Iterator[Any]:
    """Yield the items under `key` from every page of `op` (one call when it cannot paginate)."""
    if client.can_paginate(op):
        for page in client.get_paginator(op).paginate(**kwargs):
            yield from page.get(key, [])
    else:
        yield from getattr(client, op)(**kwargs).get(key, [])


def _ignore_missing(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run one call; a not-found error means the job is already done."""
    try:
        return call(*args, **kwargs)
    except ClientError as exc:
        if not _not_found(exc):
            raise
        return None


# --- per-kind delete and state -----------------------------------------------------------------
# delete(run, res) removes the resource (and what it owns). state(run, res) returns None when it
# is gone, "deleting: <why>" while AWS is still removing it, anything else when it still exists.
# A not-found ClientError from either counts as gone.


def _del_bucket(run: _Run, r: Resource) -> None:
    s3 = run.client("s3", r.region)
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=r.id):
        keys = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        for i in range(0, len(keys), 1000):
            s3.delete_objects(Bucket=r.id, Delete={"Objects": keys[i : i + 1000], "Quiet": True})
    for upload in _paginate(s3, "list_multipart_uploads", "Uploads", Bucket=r.id):
        s3.abort_multipart_upload(Bucket=r.id, Key=upload["Key"], UploadId=upload["UploadId"])
    s3.delete_bucket(Bucket=r.id)


_TABLE_CHANGE_S = 1800.0  # adding or removing a global table replica takes minutes on AWS


def _settle_table(run: _Run, region: str, name: str) -> None:
    """Let a table finish changing (a replica being added or removed) before the next change.

    On AWS, poll until it is ACTIVE or gone; offline, let the emulator finish its pending
    replica changes now, as moto deletes everything else at once.
    """
    if not run.wait:
        from .emulator import global_tables

        global_tables.finish_changes()
        return
    ddb = run.client("dynamodb", region)

    def settled() -> bool:
        table = _ignore_missing(ddb.describe_table, TableName=name)
        return table is None or table["Table"]["TableStatus"] in ("ACTIVE", "DELETING")

    _poll(settled, _TABLE_CHANGE_S, f"table {name} in {region} is still changing")


def _remove_replica(run: _Run, name: str, via: str, region: str) -> None:
    """Ask the table in `via` to drop its replica in `region`, and wait until it has."""
    _settle_table(run, via, name)
    try:
        run.client("dynamodb", via).update_table(
            TableName=name, ReplicaUpdates=[{"Delete": {"RegionName": region}}]
        )
    except ClientError as exc:  # not (or no longer) a replica of it: DeleteTable does the rest
        if not (_not_found(exc) or _code(exc) == "ValidationException"):
            raise
    _settle_table(run, via, name)


def _del_table(run: _Run, r: Resource) -> None:
    """Delete a table; a global table loses its other replicas first (each in its region)."""
    ddb = run.client("dynamodb", r.region)
    if r.parent:  # a replica: the table it replicates drops it, else it is deleted here
        _remove_replica(run, r.id, r.parent, r.region)
    else:
        _settle_table(run, r.region, r.id)
        table = ddb.describe_table(TableName=r.id)["Table"]
        for rep in table.get("Replicas", []):
            if rep["RegionName"] != r.region:
                _remove_replica(run, r.id, r.region, rep["RegionName"])
    table = _ignore_missing(ddb.describe_table, TableName=r.id)
    if table is None or table["Table"]["TableStatus"] == "DELETING":
        return
    if table["Table"].get("DeletionProtectionEnabled"):
        ddb.update_table(TableName=r.id, DeletionProtectionEnabled=False)
    ddb.delete_table(TableName=r.id)


def _has_table(run: _Run, r: Resource) -> str | None:
    if not run.wait:
        from .emulator import global_tables

        global_tables.finish_changes()  # offline: a replica being removed is removed now
    status = run.client("dynamodb", r.region).describe_table(TableName=r.id)["Table"]["TableStatus"]
    return f"deleting: {status}" if status == "DELETING" else status


def _del_function(run: _Run, r: Resource) -> None:
    lam = run.client("lambda", r.region)
    # AWS keeps a deleted function's event source mappings; remove them first.
    for esm in _paginate(
        lam, "list_event_source_mappings", "EventSourceMappings", FunctionName=r.id
    ):
        _ignore_missing(lam.delete_event_source_mapping, UUID=esm["UUID"])
    _ignore_missing(lam.delete_function, FunctionName=r.id)  # aliases, versions, URLs go with it
    logs = run.client("logs", r.region)
    _ignore_missing(logs.delete_log_group, logGroupName=f"/aws/lambda/{r.id}")


def _has_function(run: _Run, r: Resource) -> str | None:
    try:
        run.client("lambda", r.region).get_function(FunctionName=r.id)
        return "exists"
    except ClientError as exc:
        if not _not_found(exc):
            raise
    if _log_group_exists(run, r.region, f"/aws/lambda/{r.id}"):
        return f"its log group /aws/lambda/{r.id} remains"
    return None


def _has_esm(run: _Run, r: Resource) -> str | None:
    state = run.client("lambda", r.region).get_event_source_mapping(UUID=r.id).get("State", "")
    return f"deleting: {state}" if state == "Deleting" else state or "exists"


def _layer_name_version(arn: str) -> tuple[str, int]:
    # arn:aws:lambda:<region>:<account>:layer:<name>:<version>
    parts = arn.split(":")
    return parts[6], int(parts[7])


def _del_layer_version(run: _Run, r: Resource) -> None:
    name, version = _layer_name_version(r.id)
    run.client("lambda", r.region).delete_layer_version(LayerName=name, VersionNumber=version)


def _del_role(run: _Run, r: Resource) -> None:
    iam = run.client("iam", r.region)
    for pol in _paginate(iam, "list_attached_role_policies", "AttachedPolicies", RoleName=r.id):
        _ignore_missing(iam.detach_role_policy, RoleName=r.id, PolicyArn=pol["PolicyArn"])
    for name in _paginate(iam, "list_role_policies", "PolicyNames", RoleName=r.id):
        _ignore_missing(iam.delete_role_policy, RoleName=r.id, PolicyName=name)
    for prof in _paginate(
        iam, "list_instance_profiles_for_role", "InstanceProfiles", RoleName=r.id
    ):
        _ignore_missing(
            iam.remove_role_from_instance_profile,
            InstanceProfileName=prof["InstanceProfileName"],
            RoleName=r.id,
        )
    iam.delete_role(RoleName=r.id)


def _del_policy(run: _Run, r: Resource) -> None:
    iam = run.client("iam", r.region)
    entities = iam.list_entities_for_policy(PolicyArn=r.id)
    for role in entities.get("PolicyRoles", []):
        _ignore_missing(iam.detach_role_policy, RoleName=role["RoleName"], PolicyArn=r.id)
    for user in entities.get("PolicyUsers", []):
        _ignore_missing(iam.detach_user_policy, UserName=user["UserName"], PolicyArn=r.id)
    for group in entities.get("PolicyGroups", []):
        _ignore_missing(iam.detach_group_policy, GroupName=group["GroupName"], PolicyArn=r.id)
    for version in iam.list_policy_versions(PolicyArn=r.id)["Versions"]:
        if not version["IsDefaultVersion"]:
            iam.delete_policy_version(PolicyArn=r.id, VersionId=version["VersionId"])
    iam.delete_policy(PolicyArn=r.id)


def _del_user(run: _Run, r: Resource) -> None:
    iam = run.client("iam", r.region)
    _ignore_missing(iam.delete_login_profile, UserName=r.id)
    for key in _paginate(iam, "list_access_keys", "AccessKeyMetadata", UserName=r.id):
        iam.delete_access_key(UserName=r.id, AccessKeyId=key["AccessKeyId"])
    for pol in _paginate(iam, "list_attached_user_policies", "AttachedPolicies", UserName=r.id):
        iam.detach_user_policy(UserName=r.id, PolicyArn=pol["PolicyArn"])
    for name in _paginate(iam, "list_user_policies", "PolicyNames", UserName=r.id):
        iam.delete_user_policy(UserName=r.id, PolicyName=name)
    for group in _paginate(iam, "list_groups_for_user", "Groups", UserName=r.id):
        iam.remove_user_from_group(UserName=r.id, GroupName=group["GroupName"])
    iam.delete_user(UserName=r.id)


def _del_instance_profile(run: _Run, r: Resource) -> None:
    iam = run.client("iam", r.region)
    profile = iam.get_instance_profile(InstanceProfileName=r.id)["InstanceProfile"]
    for role in profile.get("Roles", []):
        iam.remove_role_from_instance_profile(InstanceProfileName=r.id, RoleName=role["RoleName"])
    iam.delete_instance_profile(InstanceProfileName=r.id)


def _has_queue(run: _Run, r: Resource) -> str | None:
    run.client("sqs", r.region).get_queue_attributes(QueueUrl=r.id, AttributeNames=["QueueArn"])
    if r in run.deleted_now:  # AWS: "the deletion process takes up to 60 seconds"
        return "deleting: SQS takes up to 60 s to remove a deleted queue"
    return "exists"


def _del_topic(run: _Run, r: Resource) -> None:
    sns = run.client("sns", r.region)
    for sub in _paginate(sns, "list_subscriptions_by_topic", "Subscriptions", TopicArn=r.id):
        if sub["SubscriptionArn"].startswith("arn:"):
            _ignore_missing(sns.unsubscribe, SubscriptionArn=sub["SubscriptionArn"])
    sns.delete_topic(TopicArn=r.id)


def _log_group_exists(run: _Run, region: str, name: str) -> bool:
    logs = run.client("logs", region)
    groups = logs.describe_log_groups(logGroupNamePrefix=name).get("logGroups", [])
    return any(g["logGroupName"] == name for g in groups)


def _has_log_group(run: _Run, r: Resource) -> str | None:
    return "exists" if _log_group_exists(run, r.region, r.id) else None


def _has_stream(run: _Run, r: Resource) -> str | None:
    kinesis = run.client("kinesis", r.region)
    status = kinesis.describe_stream_summary(StreamName=r.id)["StreamDescriptionSummary"][
        "StreamStatus"
    ]
    return f"deleting: {status}" if status == "DELETING" else status


def _has_delivery_stream(run: _Run, r: Resource) -> str | None:
    firehose = run.client("firehose", r.region)
    desc = firehose.describe_delivery_stream(DeliveryStreamName=r.id)["DeliveryStreamDescription"]
    status = desc["DeliveryStreamStatus"]
    return f"deleting: {status}" if status.startswith("DELETING") else status


def _del_distribution(run: _Run, r: Resource) -> None:
    cf = run.client("cloudfront", r.region)
    got = cf.get_distribution_config(Id=r.id)
    etag, config = got["ETag"], got["DistributionConfig"]
    if config.get("Enabled"):
        config["Enabled"] = False
        etag = cf.update_distribution(Id=r.id, IfMatch=etag, DistributionConfig=config)["ETag"]

    def deployed() -> bool:
        return cf.get_distribution(Id=r.id)["Distribution"]["Status"] == "Deployed"

    if not deployed():
        if not run.wait:
            raise _NotYet(
                "disabled; CloudFront is still deploying that change (Status InProgress, "
                "usually 5-15 min) and only deletes a deployed, disabled distribution: "
                "run the teardown again later, or with wait=True"
            )
        _poll(deployed, 1800, "CloudFront still deploying the disabled distribution")
        etag = cf.get_distribution_config(Id=r.id)["ETag"]
    cf.delete_distribution(Id=r.id, IfMatch=etag)


def _has_distribution(run: _Run, r: Resource) -> str | None:
    dist = run.client("cloudfront", r.region).get_distribution(Id=r.id)["Distribution"]
    enabled = dist["DistributionConfig"]["Enabled"]
    return f"{'enabled' if enabled else 'disabled'}, {dist['Status']}"


def _cloudfront_kind(
    get: str, delete: str, id_param: str = "Id", listed_as: str | None = None
) -> tuple[Callable, Callable]:
    """Delete and state for CloudFront objects deleted by id with the ETag of a get call.

    With `listed_as`, the state comes from the list call (moto's get fails on deleted public keys).
    """

    def remove(run: _Run, r: Resource) -> None:
        cf = run.client("cloudfront", r.region)
        etag = getattr(cf, get)(**{id_param: r.id})["ETag"]
        getattr(cf, delete)(**{id_param: r.id}, IfMatch=etag)

    def state(run: _Run, r: Resource) -> str | None:
        cf = run.client("cloudfront", r.region)
        if listed_as is None:
            getattr(cf, get)(**{id_param: r.id})
            return "exists"
        op, key, kwargs = next(
            (o, k, kw) for o, k, kind, kw in _CLOUDFRONT_NAMED if kind == listed_as
        )
        ids = {
            _cloudfront_id_name(listed_as, i)[0] for i in _cloudfront_items(cf, op, key, **kwargs)
        }
        return "exists" if r.id in ids else None

    return remove, state


def _del_usage_plan(run: _Run, r: Resource) -> None:
    apigw = run.client("apigateway", r.region)
    plan = apigw.get_usage_plan(usagePlanId=r.id)
    ops = [
        {"op": "remove", "path": "/apiStages", "value": f"{s['apiId']}:{s['stage']}"}
        for s in plan.get("apiStages", [])
    ]
    if ops:
        try:
            apigw.update_usage_plan(usagePlanId=r.id, patchOperations=ops)
        except (ClientError, NotImplementedError):
            pass  # AWS also deletes a plan that still lists stages
    apigw.delete_usage_plan(usagePlanId=r.id)


def _del_user_pool(run: _Run, r: Resource) -> None:
    idp = run.client("cognito-idp", r.region)
    pool = idp.describe_user_pool(UserPoolId=r.id)["UserPool"]
    for domain in {pool.get("Domain"), pool.get("CustomDomain")} - {None}:
        _ignore_missing(idp.delete_user_pool_domain, Domain=domain, UserPoolId=r.id)
    idp.delete_user_pool(UserPoolId=r.id)  # app clients, users and groups go with it


def _has_secret(run: _Run, r: Resource) -> str | None:
    desc = run.client("secretsmanager", r.region).describe_secret(SecretId=r.id)
    return "deleting: scheduled for deletion" if desc.get("DeletedDate") else "exists"


def _has_ses_identity(run: _Run, r: Resource) -> str | None:
    ses = run.client("ses", r.region)
    return "exists" if r.id in _paginate(ses, "list_identities", "Identities") else None


def _del_crawler(run: _Run, r: Resource) -> None:
    glue = run.client("glue", r.region)
    if glue.get_crawler(Name=r.id)["Crawler"].get("State") == "RUNNING":
        _ignore_missing(glue.stop_crawler, Name=r.id)
        if run.wait:
            _poll(
                lambda: glue.get_crawler(Name=r.id)["Crawler"].get("State") == "READY",
                900,
                "crawler still stopping",
            )
    glue.delete_crawler(Name=r.id)


def _has_workgroup(run: _Run, r: Resource) -> str | None:
    try:
        found = run.client("athena", r.region).get_work_group(WorkGroup=r.id).get("WorkGroup")
    except ClientError as exc:
        if _code(exc) == "InvalidRequestException":  # Athena's answer for an unknown workgroup
            return None
        raise
    return "exists" if found else None


def _del_thing(run: _Run, r: Resource) -> None:
    iot = run.client("iot", r.region)
    for principal in _paginate(iot, "list_thing_principals", "principals", thingName=r.id):
        iot.detach_thing_principal(thingName=r.id, principal=principal)
    iot.delete_thing(thingName=r.id)


def _has_topic_rule(run: _Run, r: Resource) -> str | None:
    try:
        run.client("iot", r.region).get_topic_rule(ruleName=r.id)
    except ClientError as exc:
        if _code(exc) == "UnauthorizedException":  # IoT's answer for a rule that does not exist
            return None
        raise
    return "exists"


def _del_iot_policy(run: _Run, r: Resource) -> None:
    iot = run.client("iot", r.region)
    for target in _paginate(iot, "list_targets_for_policy", "targets", policyName=r.id):
        iot.detach_policy(policyName=r.id, target=target)
    for version in iot.list_policy_versions(policyName=r.id).get("policyVersions", []):
        if not version.get("isDefaultVersion"):
            iot.delete_policy_version(policyName=r.id, policyVersionId=version["versionId"])
    iot.delete_policy(policyName=r.id)


def _has_dax_cluster(run: _Run, r: Resource) -> str | None:
    dax = run.client("dax", r.region)
    status = dax.describe_clusters(ClusterNames=[r.id])["Clusters"][0]["Status"]
    return f"deleting: {status}" if status == "deleting" else status


def _listed(service: str, op: str, key: str, ids_param: str) -> Callable[[_Run, Resource], Any]:
    """A state function that describes a list of one id and checks the answer is not empty."""

    def state(run: _Run, r: Resource) -> str | None:
        items = getattr(run.client(service, r.region), op)(**{ids_param: [r.id]}).get(key, [])
        return "exists" if items else None

    return state


def _any(items: list) -> str | None:
    return "exists" if items else None


# --- the network: VPC endpoints, NAT gateways, Elastic IPs, network interfaces, security groups,
# subnets, route tables, internet gateways, VPCs (in that order, see _KINDS) ------------------------

# AWS Lambda keeps the network interfaces of a function with VpcConfig for up to 20 minutes after
# the function is deleted (Terraform allows 45), and until then refuses to delete their security
# groups and subnets.
_LAMBDA_ENI_TIMEOUT_S = 2700.0
# How long wait=True retries a DependencyViolation: what AWS removes by itself a little after its
# owner (a load balancer's network interfaces, a public address unmapped from a VPC).
_DEPENDENCY_RETRY_S = 300.0


def _is_lambda_eni(eni: dict) -> bool:
    """True for a network interface AWS Lambda manages for functions with VpcConfig."""
    return (
        eni.get("InterfaceType") == "lambda"
        or ":awslambda_" in str(eni.get("RequesterId", ""))
        or str(eni.get("Description", "")).startswith("AWS Lambda VPC ENI")
    )


def _eni_text(eni: dict) -> str:
    """A network interface's id and what it serves, for messages."""
    if _is_lambda_eni(eni):
        return f"{eni['NetworkInterfaceId']} (AWS Lambda's)"
    what = eni.get("Description") or eni.get("InterfaceType")
    return f"{eni['NetworkInterfaceId']} ({what})" if what else eni["NetworkInterfaceId"]


def _enis(ec2: BaseClient, name: str, values: list[str]) -> list[dict]:
    """The network interfaces matching one filter ("group-id", "subnet-id", "vpc-id")."""
    flt = [{"Name": name, "Values": values}]
    return list(_paginate(ec2, "describe_network_interfaces", "NetworkInterfaces", Filters=flt))


def _retry_dependency(run: _Run, call: Callable[[], Any], what: str) -> None:
    """Run `call`; with wait=True, retry a DependencyViolation for up to 5 min, then raise it."""
    last: list[ClientError] = []

    def done() -> bool:
        try:
            call()
        except ClientError as exc:
            if not run.wait or _code(exc) != "DependencyViolation":
                raise
            last[:] = [exc]
            return False
        return True

    def progress(seconds: float) -> str:
        return (
            f"labbook teardown: {what}: AWS still answers DependencyViolation (something AWS "
            f"removes by itself is still in it); retrying, {seconds / 60:.0f} min so far, "
            f"up to {_DEPENDENCY_RETRY_S / 60:.0f}."
        )

    try:
        _poll(done, _DEPENDENCY_RETRY_S, what, progress)
    except _NotYet:
        raise last[0] from None


def _dependency_failed(exc: ClientError, users: list[str], fix: str) -> _Failed:
    message = exc.response.get("Error", {}).get("Message", "")
    inside = f" Still using it: {', '.join(users)}." if users else ""
    return _Failed(f"DependencyViolation: {message}{inside} Fix: {fix}.")


_IN_VPC_FIX = (
    "delete those first (teardown deletes what the lab created; AWS Lambda's network interfaces go "
    "by themselves up to 20-45 min after their function is deleted), then run the teardown again"
)


def _has_vpc_endpoint_state(ec2: BaseClient, endpoint_id: str) -> str:
    found = ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])["VpcEndpoints"]
    return str(found[0].get("State", "")).lower() if found else "deleted"


def _del_vpc_endpoint(run: _Run, r: Resource) -> None:
    ec2 = run.client("ec2", r.region)
    if _has_vpc_endpoint_state(ec2, r.id) in ("deleting", "deleted"):
        return
    # DeleteVpcEndpoints answers 200 and lists, with their errors, the ones it could not delete.
    for failed in ec2.delete_vpc_endpoints(VpcEndpointIds=[r.id]).get("Unsuccessful", []):
        raise ClientError({"Error": failed.get("Error", {})}, "DeleteVpcEndpoints")


def _has_vpc_endpoint(run: _Run, r: Resource) -> str | None:
    state = _has_vpc_endpoint_state(run.client("ec2", r.region), r.id)
    if state == "deleted":
        return None
    return f"deleting: {state}" if state == "deleting" else state


def _nat_state(ec2: BaseClient, nat_id: str) -> str:
    found = ec2.describe_nat_gateways(NatGatewayIds=[nat_id])["NatGateways"]
    return found[0]["State"] if found else "deleted"


def _del_nat_gateway(run: _Run, r: Resource) -> None:
    # Its Elastic IP and its subnet can go only once it is "deleted" (about a minute): with
    # wait=True the teardown waits for that before the next rank.
    ec2 = run.client("ec2", r.region)
    if _nat_state(ec2, r.id) not in ("deleting", "deleted"):
        ec2.delete_nat_gateway(NatGatewayId=r.id)


def _has_nat_gateway(run: _Run, r: Resource) -> str | None:
    state = _nat_state(run.client("ec2", r.region), r.id)
    if state == "deleted":  # AWS lists a deleted NAT gateway for about an hour
        return None
    return f"deleting: {state}" if state == "deleting" else state


def _nat_using_address(ec2: BaseClient, allocation_id: str) -> dict | None:
    """The NAT gateway (not deleted) that holds an Elastic IP, if any."""
    flt = [{"Name": "state", "Values": ["pending", "available", "deleting"]}]
    for nat in _paginate(ec2, "describe_nat_gateways", "NatGateways", Filter=flt):
        if any(a.get("AllocationId") == allocation_id for a in nat.get("NatGatewayAddresses", [])):
            return nat
    return None


def _del_elastic_ip(run: _Run, r: Resource) -> None:
    ec2 = run.client("ec2", r.region)
    nat = _nat_using_address(ec2, r.id)
    if nat is not None:
        nat_id, state = nat["NatGatewayId"], nat["State"]
        if state != "deleting":
            raise _Failed(
                f"NAT gateway {nat_id} ({state}) still uses this Elastic IP, and AWS frees it only "
                f"once the NAT gateway is deleted. Fix: delete NAT gateway {nat_id} (teardown does "
                "when the lab created it), then run the teardown again."
            )
        if not run.wait:
            raise _NotYet(
                f"NAT gateway {nat_id}, which uses it, is still being deleted (about a minute) and "
                "AWS frees the address only then: run the teardown again later, or with wait=True"
            )
        _poll(
            lambda: _nat_state(ec2, nat_id) == "deleted",
            900,
            f"NAT gateway {nat_id} still being deleted",
        )
    address = ec2.describe_addresses(AllocationIds=[r.id])["Addresses"][0]
    if address.get("AssociationId"):
        _free_address(run, ec2, r, address)
    _release_address(run, ec2, r)


# What ReleaseAddress answers for a while after AWS deleted the NAT gateway (or other managed
# interface) that held the address: AWS frees it by itself, a little later.
_RELEASE_NOT_YET = {"AuthFailure", "InvalidIPAddress.InUse", "InvalidNetworkInterfaceID.NotFound"}


def _aws_managed_interface(ec2: BaseClient, eni_id: str) -> dict | None:
    """The network interface `eni_id` when AWS manages it (a NAT gateway's, an endpoint's...):
    AWS frees its address itself and refuses to let anyone else detach it. None when not."""
    for nat in _paginate(ec2, "describe_nat_gateways", "NatGateways"):  # also those deleted
        if any(a.get("NetworkInterfaceId") == eni_id for a in nat.get("NatGatewayAddresses", [])):
            return {
                "NetworkInterfaceId": eni_id,
                "Description": f"NAT gateway {nat['NatGatewayId']}",
            }
    try:
        found = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])["NetworkInterfaces"]
    except ClientError as exc:
        if _code(exc) == "InvalidNetworkInterfaceID.NotFound":
            return {"NetworkInterfaceId": eni_id, "Description": "deleted"}  # AWS is freeing it
        raise
    eni = found[0] if found else {"NetworkInterfaceId": eni_id, "Description": "deleted"}
    if not found or eni.get("RequesterManaged") or eni.get("InterfaceType") == "nat_gateway":
        return eni
    return None


def _lab_made(run: _Run, region: str, kind: str, rid: str, tags: Any) -> bool:
    """True when this run deletes `rid`, or it carries this run's tag."""
    if rid in run.targets_of(kind, region):
        return True
    if run.run_tag is None:
        return False
    key, value = run.run_tag
    return _tag_dict(tags or []).get(key) == value


def _free_address(run: _Run, ec2: BaseClient, r: Resource, address: dict) -> None:
    """Disassociate an Elastic IP from what holds it, only when the lab made that; an interface
    AWS manages (a NAT gateway's) is left to AWS, which frees the address itself."""
    eni_id = address.get("NetworkInterfaceId") or ""
    instance_id = address.get("InstanceId") or ""
    if eni_id and _aws_managed_interface(ec2, eni_id) is not None:
        return  # never disassociate it: _release_address waits until AWS has freed it
    if instance_id:
        reservations = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
        tags = [t for res in reservations for i in res["Instances"] for t in i.get("Tags", [])]
        mine = _lab_made(run, r.region, "instance", instance_id, tags)
        target = f"instance {instance_id}"
    else:
        eni = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])["NetworkInterfaces"]
        tags = eni[0].get("TagSet") if eni else []
        mine = _lab_made(run, r.region, "network-interface", eni_id, tags)
        target = f"network interface {eni_id}"
    if not mine:
        raise _Failed(
            f"it is associated with {target} (association {address['AssociationId']}), which this "
            "lab did not create, so teardown leaves both. Fix: if the address is the lab's, "
            f"disassociate it (aws ec2 disassociate-address --association-id "
            f"{address['AssociationId']}), then run the teardown again."
        )
    _ignore_missing(ec2.disassociate_address, AssociationId=address["AssociationId"])


def _release_address(run: _Run, ec2: BaseClient, r: Resource) -> None:
    """ReleaseAddress; with wait=True, retry (5 min at most) while AWS frees it from a deleted
    NAT gateway's interface."""
    last: list[ClientError] = []

    def released() -> bool:
        try:
            ec2.release_address(AllocationId=r.id)
        except ClientError as exc:
            if _code(exc) not in _RELEASE_NOT_YET:
                raise
            if not run.wait:
                raise _NotYet(
                    f"AWS has not yet freed it from the network interface of what held it (a "
                    f"deleted NAT gateway's; ReleaseAddress answers {_code(exc)}): run "
                    "the teardown again in a few minutes, or with wait=True"
                ) from exc
            last[:] = [exc]
            return False
        return True

    def progress(seconds: float) -> str:
        return (
            f"labbook teardown: Elastic IP {r.id}: AWS has not yet freed it from the deleted "
            f"NAT gateway ({_code(last[0]) if last else '?'}); retrying, {seconds / 60:.0f} min "
            f"so far, up to {_DEPENDENCY_RETRY_S / 60:.0f}."
        )

    try:
        _poll(released, _DEPENDENCY_RETRY_S, f"Elastic IP {r.id} still held", progress)
    except _NotYet:
        raise last[0] from None


def _has_elastic_ip(run: _Run, r: Resource) -> str | None:
    # gone when DescribeAddresses no longer lists it (InvalidAllocationID.NotFound)
    return _any(run.client("ec2", r.region).describe_addresses(AllocationIds=[r.id])["Addresses"])


def _del_network_interface(run: _Run, r: Resource) -> None:
    """Delete a network interface the lab created; never one AWS manages (AWS refuses anyway)."""
    ec2 = run.client("ec2", r.region)

    def current() -> dict:
        return ec2.describe_network_interfaces(NetworkInterfaceIds=[r.id])["NetworkInterfaces"][0]

    eni = current()
    if eni.get("RequesterManaged") or _is_lambda_eni(eni):
        raise _Failed(
            f"{_eni_text(eni)} is managed by AWS (requester {eni.get('RequesterId', '?')}), which "
            "refuses to delete it by hand and deletes it once what it serves is gone (a Lambda "
            "function's: up to 20-45 min after the function). Fix: run the teardown again later."
        )
    if eni.get("Status") == "in-use" and run.wait:  # an instance terminated moments ago lets go
        try:
            _poll(lambda: current().get("Status") != "in-use", _DEPENDENCY_RETRY_S, "attached")
        except _NotYet:
            pass
        eni = current()
    if eni.get("Status") == "in-use":
        att = eni.get("Attachment") or {}
        holder = att.get("InstanceId") or f"account {att.get('InstanceOwnerId', '?')}"
        raise _Failed(
            f"it is attached to {holder} (attachment {att.get('AttachmentId', '?')}). Fix: detach "
            "it (DetachNetworkInterface) or terminate that instance, then run the teardown again."
        )
    ec2.delete_network_interface(NetworkInterfaceId=r.id)


def _has_network_interface(run: _Run, r: Resource) -> str | None:
    ec2 = run.client("ec2", r.region)
    return _any(ec2.describe_network_interfaces(NetworkInterfaceIds=[r.id])["NetworkInterfaces"])


def _rules_naming(perms: list[dict], ids: set[str]) -> list[dict]:
    """The part of `perms` (IpPermissions) that names one of the security groups `ids`."""
    out = []
    for perm in perms:
        pairs = [
            {"GroupId": pair["GroupId"]}
            for pair in perm.get("UserIdGroupPairs", [])
            if pair.get("GroupId") in ids
        ]
        if pairs:
            rule = {k: perm[k] for k in ("IpProtocol", "FromPort", "ToPort") if k in perm}
            out.append({**rule, "UserIdGroupPairs": pairs})
    return out


def _revoke_cross_references(run: _Run, groups: list[Resource]) -> dict[Resource, str]:
    """Revoke the rules (in or out) by which the groups about to be deleted name each other: AWS
    refuses to delete a security group that another group's rule names. `groups` holds only
    those deleted now (never one held back), so a group that stays keeps all its rules."""
    for region in sorted({r.region for r in groups}):
        ec2 = run.client("ec2", region)
        ids = {r.id for r in groups if r.region == region}
        flt = [{"Name": "group-id", "Values": sorted(ids)}]
        for group in _paginate(ec2, "describe_security_groups", "SecurityGroups", Filters=flt):
            others = ids - {group["GroupId"]}  # a group naming itself does not block anything
            for key, revoke in (
                ("IpPermissions", ec2.revoke_security_group_ingress),
                ("IpPermissionsEgress", ec2.revoke_security_group_egress),
            ):
                perms = _rules_naming(group.get(key, []), others)
                if perms:
                    _ignore_missing(revoke, GroupId=group["GroupId"], IpPermissions=perms)
    return {}


# security groups and subnets: the filter that finds the network interfaces in them
_ENI_FILTER = {"security-group": "group-id", "subnet": "subnet-id"}


def _eni_in(eni: dict, r: Resource) -> bool:
    if r.kind == "subnet":
        return eni.get("SubnetId") == r.id
    return any(g.get("GroupId") == r.id for g in eni.get("Groups", []))


def _functions_using(run: _Run, region: str, resources: list[Resource]) -> dict[Resource, list]:
    """The Lambda functions whose VpcConfig still names each security group or subnet."""
    users: dict[Resource, list[str]] = {}
    try:
        functions = list(_paginate(run.client("lambda", region), "list_functions", "Functions"))
    except (ClientError, BotoCoreError, NotImplementedError):
        return users  # cannot tell: wait for the network interfaces all the same
    for fn in functions:
        config = fn.get("VpcConfig") or {}
        named = {*(config.get("SecurityGroupIds") or []), *(config.get("SubnetIds") or [])}
        for r in resources:
            if r.id in named:
                users.setdefault(r, []).append(fn["FunctionName"])
    return users


def _lambda_enis_in(ec2: BaseClient, resources: list[Resource]) -> dict[Resource, list[str]]:
    """The Lambda-managed network interfaces still in each security group or subnet."""
    found: dict[Resource, list[str]] = {}
    for kind, name in _ENI_FILTER.items():
        mine = [r for r in resources if r.kind == kind]
        if not mine:
            continue
        for eni in _enis(ec2, name, [r.id for r in mine]):
            if _is_lambda_eni(eni):
                for r in mine:
                    if _eni_in(eni, r):
                        found.setdefault(r, []).append(eni["NetworkInterfaceId"])
    return found


def _lambda_wait_text(left: dict[Resource, list[str]], seconds: float) -> str:
    enis = sorted({e for ids in left.values() for e in ids})
    where = ", ".join(f"{r.kind} {r.id}" for r in left)
    so_far = f"{seconds / 60:.0f} min so far" if seconds else "Checking until they are gone"
    return (
        f"labbook teardown: waiting for AWS Lambda to release {len(enis)} network interface(s) "
        f"({', '.join(enis)}) in {where}. Lambda keeps them for up to 20 min (at times 45) after "
        "a function with VpcConfig is deleted, and AWS refuses to delete a security group or "
        f"subnet they are in. {so_far}; giving up after {_LAMBDA_ENI_TIMEOUT_S / 60:.0f} min in "
        "all for this teardown."
    )


def _await_lambda_enis(run: _Run, resources: list[Resource]) -> dict[Resource, str]:
    """Before security groups or subnets are deleted: wait (wait=True) until AWS Lambda has
    released the network interfaces of deleted functions in them; return those still held, why."""
    held: dict[Resource, str] = {}
    for region in sorted({r.region for r in resources}):
        here = [r for r in resources if r.region == region]
        for r, names in _functions_using(run, region, here).items():
            held[r] = (
                f"Lambda function {', '.join(names)} still uses this {r.kind} (VpcConfig), so "
                f"its network interfaces stay: delete the function, or update its VpcConfig "
                f"without this {r.kind}, then run the teardown again"
            )
        left = _lambda_enis_left(run, region, [r for r in here if r not in held])
        for r, enis in left.items():
            waited = (
                f"after {_LAMBDA_ENI_TIMEOUT_S / 60:.0f} min of waiting in this teardown"
                if run.wait
                else "(it releases them up to 20-45 min after the function is deleted)"
            )
            later = "later" if run.wait else "later, or with wait=True"
            held[r] = (
                f"AWS Lambda still holds its network interface(s) {', '.join(enis)} in this "
                f"{r.kind} {waited}, and AWS refuses to delete the {r.kind} until they are gone: "
                f"run the teardown again {later} (`labbook teardown --lab NAME`)"
            )
    return held


def _lambda_enis_left(
    run: _Run, region: str, resources: list[Resource]
) -> dict[Resource, list[str]]:
    """Lambda's network interfaces in `resources` once they are gone, or the wait gave up."""
    if not resources:
        return {}
    ec2 = run.client("ec2", region)
    left = _lambda_enis_in(ec2, resources)
    if not left or not run.wait:
        return left
    start = _monotonic()
    if run.lambda_deadline is None:  # one bound for the whole teardown, not one per step
        run.lambda_deadline = start + _LAMBDA_ENI_TIMEOUT_S
    remaining = run.lambda_deadline - start
    if remaining <= 0:  # an earlier step already waited the whole time: hold, do not wait again
        return left
    _say(_lambda_wait_text(left, 0))

    def released() -> bool:
        left.clear()
        left.update(_lambda_enis_in(ec2, resources))
        return not left

    try:
        _poll(
            released,
            remaining,
            "AWS Lambda's network interfaces still there",
            lambda seconds: _lambda_wait_text(left, seconds),
        )
    except _NotYet:
        run.lambda_deadline = _monotonic()  # gave up: later steps hold at once, never wait again
        return left
    _say(
        "labbook teardown: AWS Lambda released its network interfaces after "
        f"{(_monotonic() - start) / 60:.0f} min; deleting the security groups and subnets."
    )
    return left


def _security_group_users(ec2: BaseClient, group_id: str) -> list[str]:
    """What still uses a security group: network interfaces, and other groups' rules."""
    users = [_eni_text(n) for n in _enis(ec2, "group-id", [group_id])]
    for flt in ("ip-permission.group-id", "egress.ip-permission.group-id"):
        try:
            groups = ec2.describe_security_groups(Filters=[{"Name": flt, "Values": [group_id]}])
        except Exception:  # best effort: a filter moto lacks, a permission
            continue
        users += [
            f"a rule of {g['GroupId']} ({g.get('GroupName', '')})"
            for g in groups["SecurityGroups"]
            if g["GroupId"] != group_id
        ]
    return list(dict.fromkeys(users))


def _del_security_group(run: _Run, r: Resource) -> None:
    # Before any group goes, _revoke_cross_references and _await_lambda_enis ran (_Kind.before).
    ec2 = run.client("ec2", r.region)
    try:
        _retry_dependency(
            run, lambda: ec2.delete_security_group(GroupId=r.id), f"security group {r.id}"
        )
    except ClientError as exc:
        if _code(exc) != "DependencyViolation":
            raise
        raise _dependency_failed(exc, _security_group_users(ec2, r.id), _IN_VPC_FIX) from exc


def _has_security_group(run: _Run, r: Resource) -> str | None:
    ec2 = run.client("ec2", r.region)
    return _any(ec2.describe_security_groups(GroupIds=[r.id])["SecurityGroups"])


def _del_subnet(run: _Run, r: Resource) -> None:
    ec2 = run.client("ec2", r.region)
    try:
        _retry_dependency(run, lambda: ec2.delete_subnet(SubnetId=r.id), f"subnet {r.id}")
    except ClientError as exc:
        if _code(exc) != "DependencyViolation":
            raise
        users = [_eni_text(n) for n in _enis(ec2, "subnet-id", [r.id])]
        flt = [{"Name": "subnet-id", "Values": [r.id]}]
        users += [
            f"NAT gateway {n['NatGatewayId']} ({n['State']})"
            for n in _paginate(ec2, "describe_nat_gateways", "NatGateways", Filter=flt)
            if n["State"] != "deleted"
        ]
        raise _dependency_failed(exc, users, _IN_VPC_FIX) from exc


def _has_subnet(run: _Run, r: Resource) -> str | None:
    return _any(run.client("ec2", r.region).describe_subnets(SubnetIds=[r.id])["Subnets"])


def _vpcs_own_table(ec2: BaseClient, table: dict) -> str | None:
    """The route table AWS made with the VPC, once the lab made its own table the main one: the
    VPC's only other table, with no association and no tag."""
    flt = [{"Name": "vpc-id", "Values": [table["VpcId"]]}]
    spare = [
        t["RouteTableId"]
        for t in ec2.describe_route_tables(Filters=flt)["RouteTables"]
        if t["RouteTableId"] != table["RouteTableId"]
        and not t.get("Associations")
        and not t.get("Tags")
    ]
    return spare[0] if len(spare) == 1 else None


def _del_route_table(run: _Run, r: Resource) -> None:
    """Drop the table's subnet and gateway associations, then the table (its routes go with it).

    A lab table made the main one of a VPC this run deletes first hands "main" back to the table
    AWS made with the VPC (AWS deletes a main table only with its VPC, and a VPC only without
    other tables); in a VPC the lab did not create, the table stays main and is left."""
    ec2 = run.client("ec2", r.region)
    table = ec2.describe_route_tables(RouteTableIds=[r.id])["RouteTables"][0]
    associations = table.get("Associations", [])
    main = next((a for a in associations if a.get("Main")), None)
    if main is not None:
        vpc = table["VpcId"]
        if vpc not in run.targets_of("vpc", r.region):
            raise _Failed(
                f"it is the main route table of VPC {vpc}, which this teardown does not delete "
                "(the lab did not create it), so teardown leaves the table and the VPC's routing "
                "as they are. Fix: make another table of that VPC the main one (aws ec2 "
                f"replace-route-table-association --association-id "
                f"{main['RouteTableAssociationId']} --route-table-id <other table>), then run "
                "`labbook teardown --lab NAME` again"
            )
        spare = _vpcs_own_table(ec2, table)
        if spare is None:
            raise _NotYet(
                f"it is the main route table of {table['VpcId']}: AWS deletes it with the VPC, "
                "never on its own (make another table the main one to delete it alone)"
            )
        ec2.replace_route_table_association(
            AssociationId=main["RouteTableAssociationId"], RouteTableId=spare
        )
        associations = [a for a in associations if a is not main]
    for assoc in associations:
        if assoc.get("AssociationState", {}).get("State") in ("disassociating", "disassociated"):
            continue
        _ignore_missing(
            ec2.disassociate_route_table, AssociationId=assoc["RouteTableAssociationId"]
        )
    ec2.delete_route_table(RouteTableId=r.id)


def _has_route_table(run: _Run, r: Resource) -> str | None:
    ec2 = run.client("ec2", r.region)
    return _any(ec2.describe_route_tables(RouteTableIds=[r.id])["RouteTables"])


def _del_internet_gateway(run: _Run, r: Resource) -> None:
    """Detach the gateway from its VPC, then delete it (AWS refuses to delete it attached)."""
    ec2 = run.client("ec2", r.region)
    igw = ec2.describe_internet_gateways(InternetGatewayIds=[r.id])["InternetGateways"][0]
    for att in igw.get("Attachments", []):
        if att.get("State") == "detached":
            continue
        vpc = att["VpcId"]

        def detach(vpc: str = vpc) -> None:
            try:
                ec2.detach_internet_gateway(InternetGatewayId=r.id, VpcId=vpc)
            except ClientError as exc:
                if _code(exc) != "Gateway.NotAttached" and not _not_found(exc):
                    raise

        try:
            _retry_dependency(run, detach, f"internet gateway {r.id} (detaching from {vpc})")
        except ClientError as exc:
            if _code(exc) != "DependencyViolation":
                raise
            raise _dependency_failed(
                exc,
                [],
                f"VPC {vpc} still has public addresses mapped (Elastic IPs, a NAT gateway, "
                "instances or load balancers with public IPs): release or delete them (teardown "
                "does for what the lab created), then run the teardown again",
            ) from exc
    _retry_dependency(
        run,
        lambda: ec2.delete_internet_gateway(InternetGatewayId=r.id),
        f"internet gateway {r.id}",
    )


def _has_internet_gateway(run: _Run, r: Resource) -> str | None:
    ec2 = run.client("ec2", r.region)
    return _any(ec2.describe_internet_gateways(InternetGatewayIds=[r.id])["InternetGateways"])


def _vpc_contents(ec2: BaseClient, vpc_id: str) -> list[str]:
    """What is still in a VPC, for the message when AWS refuses to delete it."""
    flt = [{"Name": "vpc-id", "Values": [vpc_id]}]
    inside = [s["SubnetId"] for s in ec2.describe_subnets(Filters=flt)["Subnets"]]
    inside += [
        g["GroupId"]
        for g in ec2.describe_security_groups(Filters=flt)["SecurityGroups"]
        if g["GroupName"] != "default"
    ]
    inside += [_eni_text(n) for n in _enis(ec2, "vpc-id", [vpc_id])]
    inside += [
        n["NatGatewayId"]
        for n in _paginate(ec2, "describe_nat_gateways", "NatGateways", Filter=flt)
        if n["State"] != "deleted"
    ]
    inside += [
        e["VpcEndpointId"]
        for e in _paginate(ec2, "describe_vpc_endpoints", "VpcEndpoints", Filters=flt)
        if str(e.get("State", "")).lower() != "deleted"
    ]
    attached = [{"Name": "attachment.vpc-id", "Values": [vpc_id]}]
    inside += [
        g["InternetGatewayId"]
        for g in ec2.describe_internet_gateways(Filters=attached)["InternetGateways"]
    ]
    for extra in (_vpc_tables_and_acls, _vpc_gateways_and_peerings):
        try:  # best effort each: a filter moto lacks, a permission
            inside += extra(ec2, vpc_id)
        except Exception:
            continue
    return inside


def _vpc_tables_and_acls(ec2: BaseClient, vpc_id: str) -> list[str]:
    """A VPC's non-main route tables and non-default network ACLs."""
    flt = [{"Name": "vpc-id", "Values": [vpc_id]}]
    inside = [
        f"route table {t['RouteTableId']}"
        for t in _paginate(ec2, "describe_route_tables", "RouteTables", Filters=flt)
        if not any(a.get("Main") for a in t.get("Associations", []))
    ]
    inside += [
        f"network ACL {a['NetworkAclId']}"
        for a in _paginate(ec2, "describe_network_acls", "NetworkAcls", Filters=flt)
        if not a.get("IsDefault")
    ]
    return inside


def _vpc_gateways_and_peerings(ec2: BaseClient, vpc_id: str) -> list[str]:
    """A VPC's egress-only internet gateways, peering connections and VPN gateways."""
    inside = [
        f"egress-only internet gateway {g['EgressOnlyInternetGatewayId']}"
        for g in _paginate(
            ec2, "describe_egress_only_internet_gateways", "EgressOnlyInternetGateways"
        )
        if any(a.get("VpcId") == vpc_id for a in g.get("Attachments", []))
    ]
    for side in ("requester-vpc-info.vpc-id", "accepter-vpc-info.vpc-id"):
        flt = [{"Name": side, "Values": [vpc_id]}]
        inside += [
            f"peering connection {p['VpcPeeringConnectionId']}"
            for p in _paginate(
                ec2, "describe_vpc_peering_connections", "VpcPeeringConnections", Filters=flt
            )
            if p.get("Status", {}).get("Code") not in ("deleted", "rejected", "failed", "expired")
        ]
    flt = [{"Name": "attachment.vpc-id", "Values": [vpc_id]}]
    inside += [
        f"VPN gateway {g['VpnGatewayId']}"
        for g in ec2.describe_vpn_gateways(Filters=flt)["VpnGateways"]
        if g.get("State") != "deleted"
        and any(
            a.get("VpcId") == vpc_id and a.get("State") in ("attaching", "attached")
            for a in g.get("VpcAttachments", [])
        )
    ]
    return list(dict.fromkeys(inside))


def _del_vpc(run: _Run, r: Resource) -> None:
    ec2 = run.client("ec2", r.region)

    def contents() -> list[str]:
        try:
            return _vpc_contents(ec2, r.id)
        except Exception:  # the message is best effort; the error itself is what matters
            return []

    try:
        try:
            ec2.delete_vpc(VpcId=r.id)
        except ClientError as exc:
            if _code(exc) != "DependencyViolation":
                raise
            # Retry (wait=True) only for what AWS removes by itself: never while something this
            # run could not delete (held, failed) is still in the VPC.
            kept = {t.id for t in run.targets if t.service == "ec2" and t not in run.deleted_now}
            if any(k in item for item in contents() for k in kept if k != r.id):
                raise
            _retry_dependency(run, lambda: ec2.delete_vpc(VpcId=r.id), f"VPC {r.id}")
    except ClientError as exc:
        if _code(exc) != "DependencyViolation":
            raise
        inside = contents()
        raise _Failed(
            f"DependencyViolation: the VPC still contains {', '.join(inside) or 'resources'}; "
            f"{_IN_VPC_FIX} (with wait=True the teardown waits for what AWS removes by itself)"
        ) from exc


def _has_vpc(run: _Run, r: Resource) -> str | None:
    return _any(run.client("ec2", r.region).describe_vpcs(VpcIds=[r.id])["Vpcs"])


def _has_launch_template(run: _Run, r: Resource) -> str | None:
    ec2 = run.client("ec2", r.region)
    return _any(ec2.describe_launch_templates(LaunchTemplateIds=[r.id])["LaunchTemplates"])


def _has_instance(run: _Run, r: Resource) -> str | None:
    reservations = run.client("ec2", r.region).describe_instances(InstanceIds=[r.id])
    states = [i["State"]["Name"] for res in reservations["Reservations"] for i in res["Instances"]]
    if not states or states[0] == "terminated":
        return None
    return f"deleting: {states[0]}" if states[0] == "shutting-down" else states[0]


def _has_asg(run: _Run, r: Resource) -> str | None:
    asg = run.client("autoscaling", r.region)
    groups = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[r.id])["AutoScalingGroups"]
    if not groups:
        return None
    status = groups[0].get("Status")
    return f"deleting: {status}" if status else "exists"


def _has_load_balancer(run: _Run, r: Resource) -> str | None:
    elbv2 = run.client("elbv2", r.region)
    return _any(elbv2.describe_load_balancers(LoadBalancerArns=[r.id])["LoadBalancers"])


def _has_target_group(run: _Run, r: Resource) -> str | None:
    elbv2 = run.client("elbv2", r.region)
    return _any(elbv2.describe_target_groups(TargetGroupArns=[r.id])["TargetGroups"])


def _has_mount_target(run: _Run, r: Resource) -> str | None:
    efs = run.client("efs", r.region)
    targets = efs.describe_mount_targets(MountTargetId=r.id)["MountTargets"]
    if not targets or targets[0]["LifeCycleState"] == "deleted":
        return None
    state = targets[0]["LifeCycleState"]
    return f"deleting: {state}" if state == "deleting" else state


def _has_access_point(run: _Run, r: Resource) -> str | None:
    efs = run.client("efs", r.region)
    try:
        found = efs.describe_access_points(AccessPointId=r.id)["AccessPoints"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("AccessPointNotFound", "FileSystemNotFound"):
            return None
        raise
    if not found or found[0]["LifeCycleState"] == "deleted":
        return None
    state = found[0]["LifeCycleState"]
    return f"deleting: {state}" if state == "deleting" else state


def _del_file_system(run: _Run, r: Resource) -> None:
    efs = run.client("efs", r.region)

    def targets() -> list:
        return efs.describe_mount_targets(FileSystemId=r.id)["MountTargets"]

    for target in targets():
        if target["LifeCycleState"] not in ("deleting", "deleted"):
            _ignore_missing(efs.delete_mount_target, MountTargetId=target["MountTargetId"])
    if run.wait:
        _poll(lambda: not targets(), 900, "mount targets still being deleted")
    efs.delete_file_system(FileSystemId=r.id)


def _has_file_system(run: _Run, r: Resource) -> str | None:
    efs = run.client("efs", r.region)
    state = efs.describe_file_systems(FileSystemId=r.id)["FileSystems"][0]["LifeCycleState"]
    if state == "deleted":
        return None
    return f"deleting: {state}" if state == "deleting" else state


def _del_db_instance(run: _Run, r: Resource) -> None:
    rds = run.client("rds", r.region)
    db = rds.describe_db_instances(DBInstanceIdentifier=r.id)["DBInstances"][0]
    if db.get("DBInstanceStatus") == "deleting":
        return
    if db.get("DeletionProtection"):
        rds.modify_db_instance(
            DBInstanceIdentifier=r.id, DeletionProtection=False, ApplyImmediately=True
        )
    rds.delete_db_instance(
        DBInstanceIdentifier=r.id, SkipFinalSnapshot=True, DeleteAutomatedBackups=True
    )


def _has_db_instance(run: _Run, r: Resource) -> str | None:
    rds = run.client("rds", r.region)
    status = rds.describe_db_instances(DBInstanceIdentifier=r.id)["DBInstances"][0][
        "DBInstanceStatus"
    ]
    return f"deleting: {status}" if status == "deleting" else status


def _del_db_cluster(run: _Run, r: Resource) -> None:
    rds = run.client("rds", r.region)
    cluster = rds.describe_db_clusters(DBClusterIdentifier=r.id)["DBClusters"][0]
    for glob in _paginate(rds, "describe_global_clusters", "GlobalClusters"):
        if any(
            m["DBClusterArn"] == cluster["DBClusterArn"]
            for m in glob.get("GlobalClusterMembers", [])
        ):
            rds.remove_from_global_cluster(
                GlobalClusterIdentifier=glob["GlobalClusterIdentifier"],
                DbClusterIdentifier=cluster["DBClusterArn"],
            )
    for member in cluster.get("DBClusterMembers", []):  # a cluster goes only without instances
        _del_db_instance(
            run, Resource("rds", "db-instance", member["DBInstanceIdentifier"], r.region)
        )
    if run.wait and cluster.get("DBClusterMembers"):
        _poll(
            lambda: (
                not rds.describe_db_clusters(DBClusterIdentifier=r.id)["DBClusters"][0].get(
                    "DBClusterMembers"
                )
            ),
            1800,
            "cluster instances still being deleted",
        )
    if cluster.get("DeletionProtection"):
        rds.modify_db_cluster(
            DBClusterIdentifier=r.id, DeletionProtection=False, ApplyImmediately=True
        )
    rds.delete_db_cluster(DBClusterIdentifier=r.id, SkipFinalSnapshot=True)


def _has_db_cluster(run: _Run, r: Resource) -> str | None:
    rds = run.client("rds", r.region)
    status = rds.describe_db_clusters(DBClusterIdentifier=r.id)["DBClusters"][0]["Status"]
    return f"deleting: {status}" if status == "deleting" else status


def _del_global_cluster(run: _Run, r: Resource) -> None:
    rds = run.client("rds", r.region)
    glob = rds.describe_global_clusters(GlobalClusterIdentifier=r.id)["GlobalClusters"][0]
    for member in glob.get("GlobalClusterMembers", []):
        rds.remove_from_global_cluster(
            GlobalClusterIdentifier=r.id, DbClusterIdentifier=member["DBClusterArn"]
        )
    rds.delete_global_cluster(GlobalClusterIdentifier=r.id)


def _has_global_cluster(run: _Run, r: Resource) -> str | None:
    rds = run.client("rds", r.region)
    found = rds.describe_global_clusters(GlobalClusterIdentifier=r.id)["GlobalClusters"]
    return "exists" if found else None


def _has_cache_cluster(run: _Run, r: Resource) -> str | None:
    ec = run.client("elasticache", r.region)
    status = ec.describe_cache_clusters(CacheClusterId=r.id)["CacheClusters"][0][
        "CacheClusterStatus"
    ]
    return f"deleting: {status}" if status == "deleting" else status


def _has_replication_group(run: _Run, r: Resource) -> str | None:
    ec = run.client("elasticache", r.region)
    group = ec.describe_replication_groups(ReplicationGroupId=r.id)["ReplicationGroups"][0]
    return f"deleting: {group['Status']}" if group["Status"] == "deleting" else group["Status"]


def _has_serverless_cache(run: _Run, r: Resource) -> str | None:
    ec = run.client("elasticache", r.region)
    cache = ec.describe_serverless_caches(ServerlessCacheName=r.id)["ServerlessCaches"][0]
    return f"deleting: {cache['Status']}" if cache["Status"] == "deleting" else cache["Status"]


def _del_hosted_zone(run: _Run, r: Resource) -> None:
    r53 = run.client("route53", r.region)
    zone_name = r53.get_hosted_zone(Id=r.id)["HostedZone"]["Name"]
    changes = [
        {"Action": "DELETE", "ResourceRecordSet": rrset}
        for rrset in _paginate(
            r53, "list_resource_record_sets", "ResourceRecordSets", HostedZoneId=r.id
        )
        if not (rrset["Type"] in ("SOA", "NS") and rrset["Name"] == zone_name)
    ]
    for i in range(0, len(changes), 500):
        r53.change_resource_record_sets(
            HostedZoneId=r.id, ChangeBatch={"Changes": changes[i : i + 500]}
        )
    r53.delete_hosted_zone(Id=r.id)


def _del_rule(run: _Run, r: Resource) -> None:
    events = run.client("events", r.region)
    bus = {"EventBusName": r.parent} if r.parent else {}
    ids = [t["Id"] for t in _paginate(events, "list_targets_by_rule", "Targets", Rule=r.id, **bus)]
    for i in range(0, len(ids), 10):
        events.remove_targets(Rule=r.id, Ids=ids[i : i + 10], **bus)
    events.delete_rule(Name=r.id, **bus)


def _has_rule(run: _Run, r: Resource) -> str | None:
    bus = {"EventBusName": r.parent} if r.parent else {}
    run.client("events", r.region).describe_rule(Name=r.id, **bus)
    return "exists"


def _has_ecs_service(run: _Run, r: Resource) -> str | None:
    ecs = run.client("ecs", r.region)
    services = ecs.describe_services(cluster=r.parent, services=[r.id]).get("services", [])
    if not services or services[0]["status"] == "INACTIVE":
        return None
    status = services[0]["status"]
    return f"deleting: {status}" if status == "DRAINING" else status


def _del_ecs_cluster(run: _Run, r: Resource) -> None:
    ecs = run.client("ecs", r.region)
    for arn in _paginate(ecs, "list_services", "serviceArns", cluster=r.id):
        _ignore_missing(ecs.delete_service, cluster=r.id, service=arn, force=True)
    for arn in _paginate(ecs, "list_container_instances", "containerInstanceArns", cluster=r.id):
        ecs.deregister_container_instance(cluster=r.id, containerInstance=arn, force=True)
    ecs.delete_cluster(cluster=r.id)


def _has_ecs_cluster(run: _Run, r: Resource) -> str | None:
    clusters = run.client("ecs", r.region).describe_clusters(clusters=[r.id]).get("clusters", [])
    if not clusters or clusters[0]["status"] == "INACTIVE":
        return None
    return clusters[0]["status"]


def _del_task_definition(run: _Run, r: Resource) -> None:
    ecs = run.client("ecs", r.region)
    ecs.deregister_task_definition(taskDefinition=r.id)
    try:  # deregistered revisions linger (free) until deleted; moto has no delete
        ecs.delete_task_definitions(taskDefinitions=[r.id])
    except (ClientError, NotImplementedError):
        pass


def _has_task_definition(run: _Run, r: Resource) -> str | None:
    ecs = run.client("ecs", r.region)
    try:
        status = ecs.describe_task_definition(taskDefinition=r.id)["taskDefinition"]["status"]
    except ClientError as exc:
        if _code(exc) == "ClientException":  # "Unable to describe task definition": none left
            return None
        raise
    return None if status in ("INACTIVE", "DELETE_IN_PROGRESS") else status


# Runs once over all the resources of one kind about to be deleted (one rank), before any of them
# is; returns those that must not be deleted now, with why (they are then reported as left).
Prepare = Callable[[_Run, list[Resource]], dict[Resource, str]]


@dataclass(frozen=True)
class _Kind:
    rank: int  # lower is deleted first: dependants before what they depend on
    delete: Callable[[_Run, Resource], None]
    state: Callable[[_Run, Resource], str | None]
    timeout: float = 900.0  # how long wait=True waits for the resource to disappear
    before: tuple[Prepare, ...] = ()


def _fill(value: Any, r: Resource) -> Any:
    if isinstance(value, list):
        return [_fill(v, r) for v in value]
    return (
        {"{id}": r.id, "{parent}": r.parent}.get(value, value) if isinstance(value, str) else value
    )


def _simple(service: str, op: str, /, **params: Any) -> Callable[[_Run, Resource], None]:
    """A deleter that is one call; "{id}" and "{parent}" in `params` name the resource."""

    def remove(run: _Run, r: Resource) -> None:
        getattr(run.client(service, r.region), op)(**{k: _fill(v, r) for k, v in params.items()})

    return remove


def _getter(
    service: str, op: str, param: str, /, **more: Any
) -> Callable[[_Run, Resource], str | None]:
    """A state function that is one get call taking the resource id (not found: gone)."""

    def state(run: _Run, r: Resource) -> str | None:
        extra = {k: _fill(v, r) for k, v in more.items()}
        getattr(run.client(service, r.region), op)(**{param: r.id}, **extra)
        return "exists"

    return state


_KINDS: dict[tuple[str, str], _Kind] = {
    # rank 0: what calls, routes to or scales other resources
    ("cloudfront", "distribution"): _Kind(0, _del_distribution, _has_distribution, 1800),
    ("events", "rule"): _Kind(0, _del_rule, _has_rule),
    ("iot", "topic-rule"): _Kind(
        0, _simple("iot", "delete_topic_rule", ruleName="{id}"), _has_topic_rule
    ),
    ("apigateway", "usage-plan"): _Kind(
        0, _del_usage_plan, _getter("apigateway", "get_usage_plan", "usagePlanId")
    ),
    ("lambda", "event-source-mapping"): _Kind(
        0, _simple("lambda", "delete_event_source_mapping", UUID="{id}"), _has_esm
    ),
    ("sns", "subscription"): _Kind(
        0,
        _simple("sns", "unsubscribe", SubscriptionArn="{id}"),
        _getter("sns", "get_subscription_attributes", "SubscriptionArn"),
    ),
    ("glue", "crawler"): _Kind(0, _del_crawler, _getter("glue", "get_crawler", "Name")),
    ("ecs", "service"): _Kind(
        0,
        _simple("ecs", "delete_service", cluster="{parent}", service="{id}", force=True),
        _has_ecs_service,
    ),
    ("autoscaling", "auto-scaling-group"): _Kind(
        0,
        _simple(
            "autoscaling",
            "delete_auto_scaling_group",
            AutoScalingGroupName="{id}",
            ForceDelete=True,
        ),
        _has_asg,
    ),
    # rank 1: compute and streams that use storage, networks, roles
    ("firehose", "delivery-stream"): _Kind(
        1,
        _simple("firehose", "delete_delivery_stream", DeliveryStreamName="{id}"),
        _has_delivery_stream,
    ),
    ("ec2", "instance"): _Kind(
        1, _simple("ec2", "terminate_instances", InstanceIds=["{id}"]), _has_instance
    ),
    ("dax", "cluster"): _Kind(  # deleting a node takes minutes; its subnet group waits for it
        1, _simple("dax", "delete_cluster", ClusterName="{id}"), _has_dax_cluster, 1800
    ),
    ("rds", "db-instance"): _Kind(1, _del_db_instance, _has_db_instance, 1800),
    ("elasticache", "cache-cluster"): _Kind(
        1,
        _simple("elasticache", "delete_cache_cluster", CacheClusterId="{id}"),
        _has_cache_cluster,
        1800,
    ),
    ("elasticache", "replication-group"): _Kind(
        1,
        _simple(
            "elasticache",
            "delete_replication_group",
            ReplicationGroupId="{id}",
        ),
        _has_replication_group,
        1800,
    ),
    ("elasticache", "serverless-cache"): _Kind(
        1,
        _simple("elasticache", "delete_serverless_cache", ServerlessCacheName="{id}"),
        _has_serverless_cache,
        1800,
    ),
    ("efs", "mount-target"): _Kind(
        1, _simple("efs", "delete_mount_target", MountTargetId="{id}"), _has_mount_target
    ),
    ("efs", "access-point"): _Kind(
        1, _simple("efs", "delete_access_point", AccessPointId="{id}"), _has_access_point
    ),
    ("elbv2", "load-balancer"): _Kind(
        1, _simple("elbv2", "delete_load_balancer", LoadBalancerArn="{id}"), _has_load_balancer
    ),
    # rank 2: the resources themselves
    ("lambda", "function"): _Kind(2, _del_function, _has_function),
    ("lambda", "layer-version"): _Kind(
        2, _del_layer_version, _getter("lambda", "get_layer_version_by_arn", "Arn")
    ),
    ("apigateway", "rest-api"): _Kind(
        2,
        _simple("apigateway", "delete_rest_api", restApiId="{id}"),
        _getter("apigateway", "get_rest_api", "restApiId"),
    ),
    ("apigateway", "api-key"): _Kind(
        2,
        _simple("apigateway", "delete_api_key", apiKey="{id}"),
        _getter("apigateway", "get_api_key", "apiKey"),
    ),
    ("cognito-idp", "user-pool"): _Kind(
        2, _del_user_pool, _getter("cognito-idp", "describe_user_pool", "UserPoolId")
    ),
    ("cloudfront", "origin-access-control"): _Kind(
        2, *_cloudfront_kind("get_origin_access_control", "delete_origin_access_control")
    ),
    ("cloudfront", "origin-access-identity"): _Kind(
        2,
        *_cloudfront_kind(
            "get_cloud_front_origin_access_identity", "delete_cloud_front_origin_access_identity"
        ),
    ),
    ("cloudfront", "key-group"): _Kind(2, *_cloudfront_kind("get_key_group", "delete_key_group")),
    ("cloudfront", "function"): _Kind(
        2, *_cloudfront_kind("describe_function", "delete_function", "Name")
    ),
    ("cloudfront", "cache-policy"): _Kind(
        2, *_cloudfront_kind("get_cache_policy", "delete_cache_policy")
    ),
    ("glue", "table"): _Kind(
        2,
        _simple("glue", "delete_table", DatabaseName="{parent}", Name="{id}"),
        _getter("glue", "get_table", "Name", DatabaseName="{parent}"),
    ),
    ("ecs", "task-definition"): _Kind(2, _del_task_definition, _has_task_definition),
    ("elbv2", "target-group"): _Kind(
        2, _simple("elbv2", "delete_target_group", TargetGroupArn="{id}"), _has_target_group
    ),
    ("ec2", "launch-template"): _Kind(
        2, _simple("ec2", "delete_launch_template", LaunchTemplateId="{id}"), _has_launch_template
    ),
    ("efs", "file-system"): _Kind(2, _del_file_system, _has_file_system),
    ("rds", "db-cluster"): _Kind(2, _del_db_cluster, _has_db_cluster, 1800),
    ("dynamodb", "table"): _Kind(2, _del_table, _has_table),
    ("kinesis", "stream"): _Kind(
        2,
        _simple("kinesis", "delete_stream", StreamName="{id}", EnforceConsumerDeletion=True),
        _has_stream,
    ),
    ("sqs", "queue"): _Kind(2, _simple("sqs", "delete_queue", QueueUrl="{id}"), _has_queue),
    ("sns", "topic"): _Kind(2, _del_topic, _getter("sns", "get_topic_attributes", "TopicArn")),
    ("s3", "bucket"): _Kind(2, _del_bucket, _getter("s3", "head_bucket", "Bucket")),
    ("logs", "log-group"): _Kind(
        2, _simple("logs", "delete_log_group", logGroupName="{id}"), _has_log_group
    ),
    ("secretsmanager", "secret"): _Kind(
        2,
        _simple(
            "secretsmanager", "delete_secret", SecretId="{id}", ForceDeleteWithoutRecovery=True
        ),
        _has_secret,
    ),
    ("ses", "identity"): _Kind(
        2, _simple("ses", "delete_identity", Identity="{id}"), _has_ses_identity
    ),
    ("sesv2", "email-identity"): _Kind(
        2,
        _simple("sesv2", "delete_email_identity", EmailIdentity="{id}"),
        _getter("sesv2", "get_email_identity", "EmailIdentity"),
    ),
    ("sesv2", "email-template"): _Kind(
        2,
        _simple("sesv2", "delete_email_template", TemplateName="{id}"),
        _getter("sesv2", "get_email_template", "TemplateName"),
    ),
    ("athena", "workgroup"): _Kind(
        2,
        _simple("athena", "delete_work_group", WorkGroup="{id}", RecursiveDeleteOption=True),
        _has_workgroup,
    ),
    ("iot", "thing"): _Kind(2, _del_thing, _getter("iot", "describe_thing", "thingName")),
    ("iot", "policy"): _Kind(2, _del_iot_policy, _getter("iot", "get_policy", "policyName")),
    ("route53", "hosted-zone"): _Kind(
        2, _del_hosted_zone, _getter("route53", "get_hosted_zone", "Id")
    ),
    # rank 3: what the above lived in or was keyed by
    ("cloudfront", "public-key"): _Kind(
        3, *_cloudfront_kind("get_public_key", "delete_public_key", listed_as="public-key")
    ),
    ("glue", "database"): _Kind(
        3,
        _simple("glue", "delete_database", Name="{id}"),
        _getter("glue", "get_database", "Name"),
    ),
    ("ecs", "cluster"): _Kind(3, _del_ecs_cluster, _has_ecs_cluster),
    ("rds", "global-cluster"): _Kind(3, _del_global_cluster, _has_global_cluster, 1800),
    ("rds", "db-subnet-group"): _Kind(
        3,
        _simple("rds", "delete_db_subnet_group", DBSubnetGroupName="{id}"),
        _getter("rds", "describe_db_subnet_groups", "DBSubnetGroupName"),
    ),
    ("dax", "subnet-group"): _Kind(
        3,
        _simple("dax", "delete_subnet_group", SubnetGroupName="{id}"),
        _listed("dax", "describe_subnet_groups", "SubnetGroups", "SubnetGroupNames"),
    ),
    ("dax", "parameter-group"): _Kind(
        3,
        _simple("dax", "delete_parameter_group", ParameterGroupName="{id}"),
        _listed("dax", "describe_parameter_groups", "ParameterGroups", "ParameterGroupNames"),
    ),
    ("elasticache", "cache-subnet-group"): _Kind(
        3,
        _simple("elasticache", "delete_cache_subnet_group", CacheSubnetGroupName="{id}"),
        _getter("elasticache", "describe_cache_subnet_groups", "CacheSubnetGroupName"),
    ),
    # rank 4-12: the network, in the order AWS accepts. Endpoints and NAT gateways first (with
    # wait=True, until they are gone: a NAT gateway holds its Elastic IP and its subnet until its
    # State is "deleted"), then addresses and interfaces, then, once AWS Lambda has released the
    # interfaces of deleted functions, security groups and subnets, then routing, then the VPC.
    ("ec2", "vpc-endpoint"): _Kind(4, _del_vpc_endpoint, _has_vpc_endpoint),
    ("ec2", "nat-gateway"): _Kind(5, _del_nat_gateway, _has_nat_gateway),
    ("ec2", "elastic-ip"): _Kind(6, _del_elastic_ip, _has_elastic_ip),
    ("ec2", "network-interface"): _Kind(7, _del_network_interface, _has_network_interface),
    ("ec2", "security-group"): _Kind(
        8,
        _del_security_group,
        _has_security_group,
        # held groups first: rules are revoked only among the groups that are then deleted
        before=(_await_lambda_enis, _revoke_cross_references),
    ),
    ("ec2", "subnet"): _Kind(9, _del_subnet, _has_subnet, before=(_await_lambda_enis,)),
    ("ec2", "route-table"): _Kind(10, _del_route_table, _has_route_table),
    ("ec2", "internet-gateway"): _Kind(11, _del_internet_gateway, _has_internet_gateway),
    ("ec2", "vpc"): _Kind(12, _del_vpc, _has_vpc),
    ("iam", "instance-profile"): _Kind(
        12, _del_instance_profile, _getter("iam", "get_instance_profile", "InstanceProfileName")
    ),
    # rank 13: identities, last, so nothing still running loses its permissions mid-teardown
    ("iam", "role"): _Kind(13, _del_role, _getter("iam", "get_role", "RoleName")),
    ("iam", "policy"): _Kind(13, _del_policy, _getter("iam", "get_policy", "PolicyArn")),
    ("iam", "user"): _Kind(13, _del_user, _getter("iam", "get_user", "UserName")),
}


# --- ownership: delete only what this lab made ------------------------------------------------
# A create call can succeed on a resource that already exists (see _EXISTING_OK_NAME_PARAM): the
# Tracker then records the learner's own resource. With an owned_prefix or a run_tag, teardown()
# deletes a resource only when one of its names starts with the lab's prefix, or when it carries
# the run tag at delete time; anything else is kept and reported.

# Kinds whose create call may return an existing resource: that call may also have added the lab's
# tags (moto does for SQS queues and ECS clusters), so for them only the name proves ownership.
_EXISTING_OK_KINDS = {
    ("s3", "bucket"),
    ("sqs", "queue"),
    ("sns", "topic"),
    ("sns", "subscription"),
    ("ecs", "cluster"),
    ("events", "rule"),
    ("elbv2", "load-balancer"),
    ("elbv2", "target-group"),
    ("iot", "thing"),
    ("ses", "identity"),
}


def _tags_via_arn(
    service: str, describe: Callable[[BaseClient, Resource], str], list_tags: Callable
) -> Callable[[_Run, Resource], Any]:
    """A tag reader that first finds the resource's ARN, then lists the tags of that ARN."""

    def read(run: _Run, r: Resource) -> Any:
        client = run.client(service, r.region)
        return list_tags(client, describe(client, r))

    return read


def _ec2_tags(run: _Run, r: Resource) -> Any:
    flt = [{"Name": "resource-id", "Values": [r.id]}]
    return run.client("ec2", r.region).describe_tags(Filters=flt)["Tags"]


def _efs_tags(run: _Run, r: Resource) -> Any:
    fs = r.parent if r.kind == "mount-target" else r.id
    return run.client("efs", r.region).describe_file_systems(FileSystemId=fs)["FileSystems"][0][
        "Tags"
    ]


def _elasticache_tags(op: str, key: str, id_param: str) -> Callable[[_Run, Resource], Any]:
    return _tags_via_arn(
        "elasticache",
        lambda c, r: getattr(c, op)(**{id_param: r.id})[key][0]["ARN"],
        lambda c, arn: c.list_tags_for_resource(ResourceName=arn)["TagList"],
    )


# (service, kind) -> its tags, read with one or two cheap calls. Kinds missing here are owned
# by name only.
_TAG_READERS: dict[tuple[str, str], Callable[[_Run, Resource], Any]] = {
    ("lambda", "function"): lambda run, r: (
        run.client("lambda", r.region).get_function(FunctionName=r.id).get("Tags", {})
    ),
    ("dynamodb", "table"): _tags_via_arn(
        "dynamodb",
        lambda c, r: c.describe_table(TableName=r.id)["Table"]["TableArn"],
        lambda c, arn: c.list_tags_of_resource(ResourceArn=arn).get("Tags", []),
    ),
    ("iam", "role"): lambda run, r: run.client("iam", r.region).list_role_tags(RoleName=r.id)[
        "Tags"
    ],
    ("iam", "policy"): lambda run, r: run.client("iam", r.region).list_policy_tags(PolicyArn=r.id)[
        "Tags"
    ],
    ("iam", "user"): lambda run, r: run.client("iam", r.region).list_user_tags(UserName=r.id)[
        "Tags"
    ],
    ("iam", "instance-profile"): lambda run, r: run.client(
        "iam", r.region
    ).list_instance_profile_tags(InstanceProfileName=r.id)["Tags"],
    ("logs", "log-group"): lambda run, r: (
        run.client("logs", r.region).list_tags_log_group(logGroupName=r.id).get("tags", {})
    ),
    ("kinesis", "stream"): lambda run, r: run.client("kinesis", r.region).list_tags_for_stream(
        StreamName=r.id
    )["Tags"],
    ("firehose", "delivery-stream"): lambda run, r: run.client(
        "firehose", r.region
    ).list_tags_for_delivery_stream(DeliveryStreamName=r.id)["Tags"],
    ("secretsmanager", "secret"): lambda run, r: (
        run.client("secretsmanager", r.region).describe_secret(SecretId=r.id).get("Tags", [])
    ),
    ("sesv2", "email-identity"): lambda run, r: (
        run.client("sesv2", r.region).get_email_identity(EmailIdentity=r.id).get("Tags", [])
    ),
    ("cognito-idp", "user-pool"): lambda run, r: (
        run.client("cognito-idp", r.region)
        .describe_user_pool(UserPoolId=r.id)["UserPool"]
        .get("UserPoolTags", {})
    ),
    ("apigateway", "rest-api"): lambda run, r: (
        run.client("apigateway", r.region).get_rest_api(restApiId=r.id).get("tags", {})
    ),
    ("apigateway", "api-key"): lambda run, r: (
        run.client("apigateway", r.region).get_api_key(apiKey=r.id).get("tags", {})
    ),
    ("apigateway", "usage-plan"): lambda run, r: (
        run.client("apigateway", r.region).get_usage_plan(usagePlanId=r.id).get("tags", {})
    ),
    ("cloudfront", "distribution"): _tags_via_arn(
        "cloudfront",
        lambda c, r: c.get_distribution(Id=r.id)["Distribution"]["ARN"],
        lambda c, arn: c.list_tags_for_resource(Resource=arn)["Tags"].get("Items", []),
    ),
    ("route53", "hosted-zone"): lambda run, r: (
        run.client("route53", r.region)
        .list_tags_for_resource(ResourceType="hostedzone", ResourceId=r.id)["ResourceTagSet"]
        .get("Tags", [])
    ),
    **{
        ("ec2", kind): _ec2_tags
        for kind in (
            "vpc",
            "subnet",
            "security-group",
            "internet-gateway",
            "route-table",
            "nat-gateway",
            "elastic-ip",
            "vpc-endpoint",
            "network-interface",
        )
    },
    ("ec2", "launch-template"): _ec2_tags,
    ("ec2", "instance"): _ec2_tags,
    ("autoscaling", "auto-scaling-group"): lambda run, r: (
        run.client("autoscaling", r.region)
        .describe_auto_scaling_groups(AutoScalingGroupNames=[r.id])["AutoScalingGroups"][0]
        .get("Tags", [])
    ),
    ("efs", "file-system"): _efs_tags,
    ("efs", "mount-target"): _efs_tags,
    ("efs", "access-point"): lambda run, r: (
        run.client("efs", r.region)
        .describe_access_points(AccessPointId=r.id)["AccessPoints"][0]
        .get("Tags", [])
    ),
    ("rds", "db-instance"): lambda run, r: (
        run.client("rds", r.region)
        .describe_db_instances(DBInstanceIdentifier=r.id)["DBInstances"][0]
        .get("TagList", [])
    ),
    ("rds", "db-cluster"): lambda run, r: (
        run.client("rds", r.region)
        .describe_db_clusters(DBClusterIdentifier=r.id)["DBClusters"][0]
        .get("TagList", [])
    ),
    ("elasticache", "cache-cluster"): _elasticache_tags(
        "describe_cache_clusters", "CacheClusters", "CacheClusterId"
    ),
    ("elasticache", "replication-group"): _elasticache_tags(
        "describe_replication_groups", "ReplicationGroups", "ReplicationGroupId"
    ),
    ("elasticache", "serverless-cache"): _elasticache_tags(
        "describe_serverless_caches", "ServerlessCaches", "ServerlessCacheName"
    ),
    ("dax", "cluster"): _tags_via_arn(
        "dax",
        lambda c, r: c.describe_clusters(ClusterNames=[r.id])["Clusters"][0]["ClusterArn"],
        lambda c, arn: c.list_tags(ResourceName=arn)["Tags"],
    ),
    ("ecs", "service"): lambda run, r: (
        run.client("ecs", r.region)
        .describe_services(cluster=r.parent, services=[r.id], include=["TAGS"])["services"][0]
        .get("tags", [])
    ),
    ("ecs", "task-definition"): lambda run, r: (
        run.client("ecs", r.region)
        .describe_task_definition(taskDefinition=r.id, include=["TAGS"])
        .get("tags", [])
    ),
    ("iot", "topic-rule"): _tags_via_arn(
        "iot",
        lambda c, r: c.get_topic_rule(ruleName=r.id)["ruleArn"],
        lambda c, arn: c.list_tags_for_resource(resourceArn=arn)["tags"],
    ),
    ("iot", "policy"): _tags_via_arn(
        "iot",
        lambda c, r: c.get_policy(policyName=r.id)["policyArn"],
        lambda c, arn: c.list_tags_for_resource(resourceArn=arn)["tags"],
    ),
}


def _esm_names(run: _Run, r: Resource) -> list[str]:
    """The function an event source mapping invokes: the mapping is the lab's if that is."""
    arn = run.client("lambda", r.region).get_event_source_mapping(UUID=r.id)["FunctionArn"]
    return [arn.split(":function:", 1)[-1].split(":")[0]]


def _cloudfront_comment(run: _Run, r: Resource) -> list[str]:
    cf = run.client("cloudfront", r.region)
    if r.kind == "distribution":
        return [cf.get_distribution(Id=r.id)["Distribution"]["DistributionConfig"]["Comment"]]
    got = cf.get_cloud_front_origin_access_identity(Id=r.id)
    return [
        got["CloudFrontOriginAccessIdentity"]["CloudFrontOriginAccessIdentityConfig"]["Comment"]
    ]


# (service, kind) -> names read from the service, for kinds whose recorded id and label are not
# names: an event source mapping's function, a CloudFront distribution's or OAI's comment.
_LIVE_NAMES: dict[tuple[str, str], Callable[[_Run, Resource], list[str]]] = {
    ("lambda", "event-source-mapping"): _esm_names,
    ("cloudfront", "distribution"): _cloudfront_comment,
    ("cloudfront", "origin-access-identity"): _cloudfront_comment,
}


def _names(r: Resource) -> list[str]:
    """Every name-like segment of the id, label and parent: the name in an ARN, a queue URL, a
    log-group path (/aws/lambda/<name>), "<layer>:<version>", "<protocol> <endpoint>"..."""
    return [
        part
        for text in (r.id, r.label, r.parent)
        if text
        for part in re.split(r"[/:\s]+", text)
        if part
    ]


def _not_owned(
    run: _Run, r: Resource, prefix: str | None, run_tag: tuple[str, str] | None
) -> str | None:
    """None when the lab made `r` (by name or by its run tag); else why it is kept."""
    names = _names(r)
    live = _LIVE_NAMES.get((r.service, r.kind))
    if prefix and live is not None:
        try:
            names += live(run, r)
        except Exception as exc:
            if _not_found(exc):
                return None  # already gone: teardown reports it so
    if prefix and any(_has_prefix(n, prefix) for n in names):
        return None
    why = f"its name does not start with {prefix}-" if prefix else "no name prefix to check"
    if run_tag is None:
        return why
    key, value = run_tag
    if (r.service, r.kind) in _EXISTING_OK_KINDS:
        return (
            f"{why}, and creating a {r.kind} of an existing name returns that one (its tags "
            "prove nothing)"
        )
    reader = _TAG_READERS.get((r.service, r.kind))
    if reader is None:
        return f"{why}, and its tags are not checked for a {r.service} {r.kind}"
    try:
        tags = _tag_dict(_with_retry(reader, run, r))
    except Exception as exc:
        if _not_found(exc):
            return None
        detail = _code(exc) if isinstance(exc, ClientError) else type(exc).__name__
        return f"{why}, and its tags could not be read ({detail})"
    if tags.get(key) == value:
        return None
    return f"{why}, and it lacks the tag {key}={value}"


def _rank(r: Resource) -> int:
    kind = _KINDS.get((r.service, r.kind))
    if kind is None:
        return 99
    if (r.service, r.kind) == ("dynamodb", "table") and r.parent:
        return kind.rank - 1  # replicas go before the table they replicate
    return kind.rank


def _deletion_order(resources: Iterable[Resource]) -> list[Resource]:
    """Deduplicate, then order: dependants first (by rank), newest first within a rank."""
    unique = list(dict.fromkeys(resources))
    position = {r: i for i, r in enumerate(unique)}
    return sorted(unique, key=lambda r: (_rank(r), -position[r]))


_THROTTLED = {
    "TooManyRequestsException",
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "PriorRequestNotComplete",
}


def _with_retry(call: Callable[[_Run, Resource], Any], run: _Run, r: Resource) -> Any:
    """Run one deleter or state call, retrying AWS throttling (API Gateway: 1 delete per 30 s)."""
    for attempt in range(6):
        try:
            return call(run, r)
        except ClientError as exc:
            if _code(exc) not in _THROTTLED or attempt == 5:
                raise
            _sleep(2.0 * 2**attempt)
    raise AssertionError("unreachable")


_IN_USE_BY_DISTRIBUTION = (
    "a CloudFront distribution still uses it: delete the distribution first "
    "(teardown with wait=True), then run the teardown again"
)
_FIXES = {
    "DependencyViolation": "something still uses it: delete that first, or run the teardown "
    "again with wait=True",
    "ResourceInUseException": "it is in use or still changing state: run the teardown again "
    "with wait=True",
    "ResourceInUse": _IN_USE_BY_DISTRIBUTION,
    "OriginAccessControlInUse": _IN_USE_BY_DISTRIBUTION,
    "PublicKeyInUse": _IN_USE_BY_DISTRIBUTION,
    "FunctionInUse": _IN_USE_BY_DISTRIBUTION,
    "CachePolicyInUse": _IN_USE_BY_DISTRIBUTION,
    "DistributionNotDisabled": "disable it, wait until its Status is Deployed, then delete it "
    "(teardown with wait=True does this)",
    "DeleteConflict": "IAM still has something attached to it: detach it, then run the teardown "
    "again",
    "AccessDenied": "these credentials may not delete it: use a role that can, or delete it in "
    "the AWS console",
    "AccessDeniedException": "these credentials may not delete it: use a role that can, or "
    "delete it in the AWS console",
    "UnauthorizedOperation": "these credentials may not delete it: use a role that can, or "
    "delete it in the AWS console",
    "InvalidIfMatchVersion": "it changed during the teardown: run the teardown again",
    "PreconditionFailed": "it changed during the teardown: run the teardown again",
    "InvalidDBClusterStateFault": "RDS is still changing it: run the teardown again with wait=True",
    "InvalidDBInstanceState": "RDS is still changing it: run the teardown again with wait=True",
    "InvalidCacheClusterState": "ElastiCache is still changing it: run the teardown again with "
    "wait=True",
    "InvalidReplicationGroupState": "ElastiCache is still changing it: run the teardown again "
    "with wait=True",
    "500": "the endpoint failed; moto-server answers 500 to calls it does not implement (offline "
    "this costs nothing); on AWS run the teardown again",
    "InvalidParameterException": "deletion protection or a setting blocks it: check it in the "
    "console and delete it by hand",
}


def _error_text(exc: BaseException) -> str:
    """The AWS error code and message, and what to do about it."""
    if isinstance(exc, _Failed):
        return str(exc)
    if isinstance(exc, NotImplementedError):
        return (
            f"moto does not implement this call ({exc}). Offline only: the mock forgets it when "
            "the kernel stops and it costs nothing; on AWS the same teardown deletes it."
        )
    if isinstance(exc, ClientError):
        code = _code(exc)
        message = exc.response.get("Error", {}).get("Message", "")
        fix = _FIXES.get(code, "delete it by hand (AWS console or CLI), or run the teardown again")
        return f"{code}: {message} Fix: {fix}."
    return f"{type(exc).__name__}: {exc}. Fix: delete it by hand (AWS console or CLI)."


def _state(run: _Run, r: Resource) -> str | None:
    """None when the service says the resource is gone; otherwise its state."""
    try:
        return _with_retry(_KINDS[(r.service, r.kind)].state, run, r)
    except ClientError as exc:
        if _not_found(exc):
            return None
        raise


def _delete(run: _Run, r: Resource, report: TeardownReport) -> None:
    """Delete one resource; a failure goes into the report, never up."""
    kind = _KINDS.get((r.service, r.kind))
    if kind is None:
        message = f"no deleter for {r.service} {r.kind}: delete {r.id} by hand (AWS console or CLI)"
        report.errors.append((r, message))
        return
    try:
        _with_retry(kind.delete, run, r)
        run.deleted_now.add(r)
    except _NotYet as exc:
        report.notes[r] = str(exc)
    except Exception as exc:  # one failure never stops the teardown
        if _not_found(exc) and _confirmed_gone(run, r):
            report.notes[r] = "already gone"
        else:
            report.errors.append((r, _error_text(exc)))


def _confirmed_gone(run: _Run, r: Resource) -> bool:
    """After a not-found error from a deleter: does the resource's own describe call say it is
    gone? (InvalidNetworkInterfaceID.NotFound from ReleaseAddress does not mean the address is.)"""
    try:
        return _state(run, r) is None
    except NotImplementedError:  # moto cannot describe this kind: trust the error
        return True
    except Exception:
        return False


def _prepare(run: _Run, group: list[Resource]) -> dict[Resource, str]:
    """Run the kinds' `before` steps over one rank; return what must not be deleted now, and why."""
    steps: dict[Prepare, list[Resource]] = {}
    for r in group:
        kind = _KINDS.get((r.service, r.kind))
        for step in kind.before if kind else ():
            steps.setdefault(step, []).append(r)
    held: dict[Resource, str] = {}
    for step, resources in steps.items():  # in the order of `before`: later steps see only
        resources = [r for r in resources if r not in held]  # what earlier ones did not hold
        if not resources:
            continue
        try:
            held.update(step(run, resources))
        except Exception as exc:  # never stop the teardown: the deletes report what blocks them
            warnings.warn(
                f"labbook teardown: could not prepare {', '.join(map(str, resources))} for "
                f"deletion ({_error_text(exc)})",
                stacklevel=3,
            )
    return held


def _wait_gone(run: _Run, group: list[Resource], report: TeardownReport) -> None:
    """Poll until every resource of `group` deleted in this run is gone (real AWS is async)."""
    for r in group:
        if r not in run.deleted_now:
            continue
        try:
            timeout = _KINDS[(r.service, r.kind)].timeout
            _poll(lambda r=r: _state(run, r) is None, timeout, "still being deleted")
        except _NotYet as exc:
            report.notes[r] = str(exc)
        except Exception:  # the verification pass reports it
            pass


def _verify(run: _Run, r: Resource, report: TeardownReport, errored: set[Resource]) -> None:
    """Ask the service whether the resource is gone and file it under deleted or left."""
    if (r.service, r.kind) not in _KINDS:
        report.left.append(r)
        return
    try:
        state = _state(run, r)
    except NotImplementedError:
        if r in run.deleted_now:
            report.deleted.append(r)
            report.notes[r] = "deleted; not verified: moto cannot describe this kind"
        else:
            report.left.append(r)
        return
    except Exception as exc:
        report.left.append(r)
        report.notes.setdefault(r, f"could not verify: {_error_text(exc)}")
        return
    if state is None:
        report.deleted.append(r)
    elif state.startswith("deleting") and r not in errored:
        report.deleted.append(r)
        report.notes[r] = f"deletion in progress ({state.removeprefix('deleting: ')})"
    else:
        report.left.append(r)
        report.notes.setdefault(r, f"still exists ({state})")


def teardown(
    resources: list[Resource],
    client_factory: ClientFactory,
    *,
    wait: bool = False,
    owned_prefix: str | None = None,
    run_tag: tuple[str, str] | None = None,
) -> TeardownReport:
    """Delete resources (dependencies first: ESMs before functions, objects/versions before buckets, subscriptions before topics, role policies before roles, ...), then check each still-or-not exists.

    With `owned_prefix` ("myblog-1a2b3c") or `run_tag` (("labbook:run", "1a2b3c")), a resource is
    deleted only when one of its names starts with `owned_prefix-` (`owned_prefix_` in the IoT
    spelling) or it carries the run tag now; anything else (a learner's own bucket that a create
    call merely returned) is never touched and is reported as left, "not created by this lab".
    """
    run = _Run(client_factory, wait, run_tag=run_tag)
    report = TeardownReport(deleted=[], left=[], errors=[])
    ordered = _deletion_order(resources)
    if owned_prefix is not None or run_tag is not None:
        owned = []
        for r in ordered:
            why = _not_owned(run, r, owned_prefix, run_tag)
            if why is None:
                owned.append(r)
            else:
                report.left.append(r)
                report.notes[r] = f"not created by this lab (kept): {why}"
        ordered = owned
    run.targets = set(ordered)
    for rank in sorted({_rank(r) for r in ordered}):
        group = [r for r in ordered if _rank(r) == rank]
        held = _prepare(run, group)
        for r in group:
            if r in held:
                report.notes[r] = held[r]
            else:
                _delete(run, r, report)
        if wait:  # on AWS, dependants must really be gone before what they used can go
            _wait_gone(run, group, report)
    errored = {r for r, _ in report.errors}
    for r in ordered:
        _verify(run, r, report, errored)
    return report


# ---------------------------------------------------------------------------------------------
# Discover: leftovers of earlier runs on a real account
# ---------------------------------------------------------------------------------------------


def _tag_dict(tags: Any) -> dict[str, str]:
    """Tags in any AWS shape (map, Key/Value list, key/value list) as a dict."""
    if isinstance(tags, dict):
        return {str(k): str(v) for k, v in tags.items()}
    out = {}
    for item in tags or []:
        low = {k.lower(): v for k, v in item.items()}
        out[low.get("key")] = low.get("value")
    return out


@dataclass
class _Match:
    tag_key: str
    tag_value: str | None
    prefix: str | None  # names start with it ("myblog-"); also in the IoT spelling ("myblog_")
    run_id_names: bool = False  # and go on with a 6-hex run id: "myblog-1a2b3c-..."

    def __post_init__(self) -> None:
        self._patterns: list[re.Pattern[str]] = []
        if self.prefix and self.run_id_names:
            dash = self.prefix
            under = dash.replace("-", "_")
            self._patterns = [
                re.compile(re.escape(dash) + r"[0-9a-f]{6}-"),
                re.compile(re.escape(under) + r"[0-9a-f]{6}_"),
            ]

    def name(self, name: str | None) -> bool:
        if not name or not self.prefix:
            return False
        if self._patterns:
            return any(p.match(name) for p in self._patterns)
        return name.startswith(self.prefix) or name.startswith(self.prefix.replace("-", "_"))

    def tags(self, tags: Any) -> bool:
        tags = _tag_dict(tags)
        if self.tag_key not in tags:
            return False
        return self.tag_value is None or tags[self.tag_key] == self.tag_value

    def __call__(
        self, name: str | None, tags: Any = None, get_tags: Callable[[], Any] | None = None
    ) -> bool:
        if self.name(name):
            return True
        if tags is not None:
            return self.tags(tags)
        if get_tags is not None:
            try:
                return self.tags(get_tags())
            except (ClientError, NotImplementedError):
                return False
        return False


def _bucket_region(run: _Run, bucket: str, region: str) -> str:
    try:
        location = run.client("s3", region).get_bucket_location(Bucket=bucket)
    except ClientError:
        return region
    constraint = location.get("LocationConstraint")
    return {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(constraint, constraint)


_EC2_ARN_KINDS = {
    "vpc": "vpc",
    "subnet": "subnet",
    "security-group": "security-group",
    "internet-gateway": "internet-gateway",
    "route-table": "route-table",
    "instance": "instance",
    "launch-template": "launch-template",
    "natgateway": "nat-gateway",
    "elastic-ip": "elastic-ip",
    "vpc-endpoint": "vpc-endpoint",
    "network-interface": "network-interface",
}
_RDS_ARN_KINDS = {
    "cluster": "db-cluster",
    "db": "db-instance",
    "subgrp": "db-subnet-group",
    "global-cluster": "global-cluster",
}
_ELASTICACHE_ARN_KINDS = {
    "cluster": "cache-cluster",
    "serverlesscache": "serverless-cache",
    "replicationgroup": "replication-group",
    "subnetgroup": "cache-subnet-group",
}


def _from_arn(run: _Run, arn: str, region: str) -> Resource | None:
    """The Resource an ARN from the tagging API names (kind "unknown:..." when not handled)."""
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return None
    _, _, service, arn_region, account, rest = parts
    reg = arn_region or region
    head, _, tail = rest.partition("/")
    head_colon, _, tail_colon = rest.partition(":")

    def res(svc: str, kind: str, rid: str, **meta: Any) -> Resource:
        return Resource(svc, kind, rid, meta.pop("region", reg), **meta)

    if service == "s3" and "/" not in rest:
        return res("s3", "bucket", rest, region=_bucket_region(run, rest, region))
    if service == "lambda":
        if head_colon == "function":
            return res("lambda", "function", tail_colon.split(":")[0])
        if head_colon == "event-source-mapping":
            return res("lambda", "event-source-mapping", tail_colon)
        if head_colon == "layer":
            return res("lambda", "layer-version", arn, label=tail_colon)
    if service == "logs" and head_colon == "log-group":
        return res("logs", "log-group", tail_colon.removesuffix(":*"))
    if service == "dynamodb" and head == "table" and "/" not in tail:
        return res("dynamodb", "table", tail)
    if service == "sqs":
        url = run.client("sqs", reg).get_queue_url(QueueName=rest, QueueOwnerAWSAccountId=account)
        return res("sqs", "queue", url["QueueUrl"], label=rest)
    if service == "sns":
        if ":" in rest:
            return res("sns", "subscription", arn, parent=arn.rsplit(":", 1)[0])
        return res("sns", "topic", arn, label=rest)
    if service == "firehose" and head == "deliverystream":
        return res("firehose", "delivery-stream", tail)
    if service == "kinesis" and head == "stream":
        return res("kinesis", "stream", tail)
    if service == "cloudfront" and head == "distribution":
        return res("cloudfront", "distribution", tail, region="us-east-1")
    if service == "glue":
        if head == "table" and "/" in tail:
            database, name = tail.split("/", 1)
            return res("glue", "table", name, parent=database, label=f"{database}.{name}")
        if head in ("database", "crawler"):
            return res("glue", head, tail)
    if service == "athena" and head == "workgroup":
        return res("athena", "workgroup", tail)
    if service == "ec2" and head in _EC2_ARN_KINDS:
        return res("ec2", _EC2_ARN_KINDS[head], tail)
    if service == "elasticloadbalancing":
        if head == "loadbalancer":
            return res("elbv2", "load-balancer", arn, label=tail.split("/")[1])
        if head == "targetgroup":
            return res("elbv2", "target-group", arn, label=tail.split("/")[0])
    if service == "elasticfilesystem" and head == "file-system":
        return res("efs", "file-system", tail)
    if service == "ecs":
        if head == "cluster":
            return res("ecs", "cluster", arn, label=tail)
        if head == "service" and "/" in tail:
            cluster, name = tail.split("/", 1)
            cluster_arn = arn.split(":service/")[0] + f":cluster/{cluster}"
            return res("ecs", "service", arn, parent=cluster_arn, label=name)
        if head == "task-definition":
            return res("ecs", "task-definition", arn, label=tail)
    if service == "elasticache" and head_colon in _ELASTICACHE_ARN_KINDS:
        return res("elasticache", _ELASTICACHE_ARN_KINDS[head_colon], tail_colon)
    if service == "rds" and head_colon in _RDS_ARN_KINDS:
        return res("rds", _RDS_ARN_KINDS[head_colon], tail_colon)
    if service == "secretsmanager" and head_colon == "secret":
        return res("secretsmanager", "secret", arn, label=tail_colon.rsplit("-", 1)[0])
    if service == "apigateway":
        kinds = {"restapis": "rest-api", "apikeys": "api-key", "usageplans": "usage-plan"}
        path = rest.strip("/").split("/")
        if len(path) == 2 and path[0] in kinds:
            return res("apigateway", kinds[path[0]], path[1])
    if service == "cognito-idp" and head == "userpool":
        return res("cognito-idp", "user-pool", tail)
    if service == "dax" and head == "cache":
        return res("dax", "cluster", tail)
    if service == "events" and head == "rule":
        bus, _, name = tail.rpartition("/")
        return res("events", "rule", name, parent=bus or None)
    if service == "iot" and head in ("thing", "rule", "policy"):
        return res("iot", {"rule": "topic-rule"}.get(head, head), tail)
    if service == "route53" and head == "hostedzone":
        return res("route53", "hosted-zone", tail, region="us-east-1")
    if service == "autoscaling" and "autoScalingGroupName/" in rest:
        return res("autoscaling", "auto-scaling-group", rest.split("autoScalingGroupName/")[1])
    if service == "iam":
        name = rest.rsplit("/", 1)[-1]
        if head == "policy":
            return res("iam", "policy", arn, region="us-east-1", label=name)
        if head in ("role", "user", "instance-profile"):
            return res("iam", head, name, region="us-east-1")
    if service == "ses" and head == "identity":
        return res("sesv2", "email-identity", tail)
    return res(service, f"unknown:{(head if '/' in rest else head_colon)}", arn)


Lister = Callable[[_Run, str, _Match], Iterator[Resource]]


def _list_tagged(run: _Run, region: str, match: _Match) -> Iterator[Resource]:
    """Everything the Resource Groups Tagging API finds with the lab tag."""
    tagging = run.client("resourcegroupstaggingapi", region)
    tag_filter: dict[str, Any] = {"Key": match.tag_key}
    if match.tag_value is not None:
        tag_filter["Values"] = [match.tag_value]
    for item in _paginate(
        tagging, "get_resources", "ResourceTagMappingList", TagFilters=[tag_filter]
    ):
        found = _from_arn(run, item["ResourceARN"], region)
        if found is not None:
            yield found


def _key(name: str) -> Callable[[Any], Any]:
    return lambda item: item.get(name) if isinstance(item, dict) else item


@dataclass(frozen=True)
class _Listing:
    """How to list one kind and read each item's id, name and tags."""

    service: str
    op: str
    key: str  # where the items are in the response
    kind: str
    id: Callable[[Any], str]
    name: Callable[[Any], str | None]
    tags: Callable[[BaseClient, Any], Any] | None = None  # None: found by name only
    kwargs: tuple[tuple[str, Any], ...] = ()

    def __call__(self, run: _Run, region: str, match: _Match) -> Iterator[Resource]:
        client = run.client(self.service, region)
        for item in _paginate(client, self.op, self.key, **dict(self.kwargs)):
            name = self.name(item)
            get_tags = (lambda i=item: self.tags(client, i)) if self.tags else None
            if match(name, get_tags=get_tags):
                yield Resource(self.service, self.kind, self.id(item), region, label=name)


def _listing(
    service: str,
    op: str,
    key: str,
    kind: str,
    id_key: str | None = None,
    name_key: str | None = None,
    tags: Callable[[BaseClient, Any], Any] | None = None,
    **kwargs: Any,
) -> _Listing:
    """A _Listing whose items carry the id and name under `id_key` / `name_key` (or are names)."""
    get_id = _key(id_key) if id_key else (lambda item: item)
    get_name = _key(name_key) if name_key else get_id
    return _Listing(service, op, key, kind, get_id, get_name, tags, tuple(kwargs.items()))


def _in_item(key: str) -> Callable[[BaseClient, Any], Any]:
    """Tags that the list call already returns in each item."""
    return lambda client, item: item.get(key) or []


_LISTINGS: tuple[_Listing, ...] = (
    _listing("lambda", "list_functions", "Functions", "function", "FunctionName"),
    _listing("dynamodb", "list_tables", "TableNames", "table"),
    _Listing(
        "sns",
        "list_topics",
        "Topics",
        "topic",
        _key("TopicArn"),
        lambda item: _last(item["TopicArn"], ":"),
    ),
    _listing(
        "kinesis",
        "list_streams",
        "StreamNames",
        "stream",
        tags=lambda c, name: c.list_tags_for_stream(StreamName=name)["Tags"],
    ),
    _listing("firehose", "list_delivery_streams", "DeliveryStreamNames", "delivery-stream"),
    _listing("apigateway", "get_rest_apis", "items", "rest-api", "id", "name", _in_item("tags")),
    _listing("apigateway", "get_api_keys", "items", "api-key", "id", "name", _in_item("tags")),
    _listing(
        "apigateway", "get_usage_plans", "items", "usage-plan", "id", "name", _in_item("tags")
    ),
    _listing(
        "cognito-idp",
        "list_user_pools",
        "UserPools",
        "user-pool",
        "Id",
        "Name",
        lambda c, item: c.describe_user_pool(UserPoolId=item["Id"])["UserPool"].get(
            "UserPoolTags", {}
        ),
        MaxResults=60,
    ),
    _listing(
        "secretsmanager", "list_secrets", "SecretList", "secret", "ARN", "Name", _in_item("Tags")
    ),
    _listing("glue", "get_databases", "DatabaseList", "database", "Name"),
    _listing("glue", "get_crawlers", "Crawlers", "crawler", "Name"),
    _listing("athena", "list_work_groups", "WorkGroups", "workgroup", "Name"),
    _listing("iot", "list_things", "things", "thing", "thingName"),
    _listing(
        "iot",
        "list_topic_rules",
        "rules",
        "topic-rule",
        "ruleName",
        tags=lambda c, item: c.list_tags_for_resource(resourceArn=item["ruleArn"])["tags"],
    ),
    _listing(
        "iot",
        "list_policies",
        "policies",
        "policy",
        "policyName",
        tags=lambda c, item: c.list_tags_for_resource(resourceArn=item["policyArn"])["tags"],
    ),
    _listing(
        "dax",
        "describe_clusters",
        "Clusters",
        "cluster",
        "ClusterName",
        tags=lambda c, item: c.list_tags(ResourceName=item["ClusterArn"])["Tags"],
    ),
    _listing("dax", "describe_subnet_groups", "SubnetGroups", "subnet-group", "SubnetGroupName"),
    _listing(
        "dax",
        "describe_parameter_groups",
        "ParameterGroups",
        "parameter-group",
        "ParameterGroupName",
    ),
    _listing(
        "autoscaling",
        "describe_auto_scaling_groups",
        "AutoScalingGroups",
        "auto-scaling-group",
        "AutoScalingGroupName",
        tags=_in_item("Tags"),
    ),
    _listing(
        "elbv2",
        "describe_load_balancers",
        "LoadBalancers",
        "load-balancer",
        "LoadBalancerArn",
        "LoadBalancerName",
    ),
    _listing(
        "elbv2",
        "describe_target_groups",
        "TargetGroups",
        "target-group",
        "TargetGroupArn",
        "TargetGroupName",
    ),
    _listing(
        "efs",
        "describe_file_systems",
        "FileSystems",
        "file-system",
        "FileSystemId",
        "Name",
        _in_item("Tags"),
    ),
    _listing(
        "rds",
        "describe_db_instances",
        "DBInstances",
        "db-instance",
        "DBInstanceIdentifier",
        tags=_in_item("TagList"),
    ),
    _listing(
        "rds",
        "describe_db_clusters",
        "DBClusters",
        "db-cluster",
        "DBClusterIdentifier",
        tags=_in_item("TagList"),
    ),
    _listing(
        "rds",
        "describe_global_clusters",
        "GlobalClusters",
        "global-cluster",
        "GlobalClusterIdentifier",
        tags=_in_item("TagList"),
    ),
    _listing(
        "rds",
        "describe_db_subnet_groups",
        "DBSubnetGroups",
        "db-subnet-group",
        "DBSubnetGroupName",
    ),
    _listing(
        "elasticache",
        "describe_replication_groups",
        "ReplicationGroups",
        "replication-group",
        "ReplicationGroupId",
    ),
    _listing(
        "elasticache",
        "describe_cache_subnet_groups",
        "CacheSubnetGroups",
        "cache-subnet-group",
        "CacheSubnetGroupName",
    ),
)

_GLOBAL_LISTINGS: tuple[_Listing, ...] = (
    _listing(
        "iam",
        "list_roles",
        "Roles",
        "role",
        "RoleName",
        tags=lambda c, item: c.list_role_tags(RoleName=item["RoleName"])["Tags"],
    ),
    _listing(
        "iam",
        "list_policies",
        "Policies",
        "policy",
        "Arn",
        "PolicyName",
        lambda c, item: c.list_policy_tags(PolicyArn=item["Arn"])["Tags"],
        Scope="Local",
    ),
    _listing(
        "iam",
        "list_users",
        "Users",
        "user",
        "UserName",
        tags=lambda c, item: c.list_user_tags(UserName=item["UserName"])["Tags"],
    ),
    _listing(
        "iam",
        "list_instance_profiles",
        "InstanceProfiles",
        "instance-profile",
        "InstanceProfileName",
        tags=_in_item("Tags"),
    ),
    _Listing(
        "route53",
        "list_hosted_zones",
        "HostedZones",
        "hosted-zone",
        lambda item: _last(item["Id"]),
        _key("Name"),
        lambda c, item: c.list_tags_for_resource(
            ResourceType="hostedzone", ResourceId=_last(item["Id"])
        )["ResourceTagSet"].get("Tags", []),
    ),
)


def _list_lambda_layers(run: _Run, region: str, match: _Match) -> Iterator[Resource]:
    lam = run.client("lambda", region)
    for layer in _paginate(lam, "list_layers", "Layers"):
        if match(layer["LayerName"]):
            versions = _paginate(
                lam, "list_layer_versions", "LayerVersions", LayerName=layer["LayerName"]
            )
            for v in versions:
                label = f"{layer['LayerName']}:{v['Version']}"
                yield Resource("lambda", "layer-version", v["LayerVersionArn"], region, label=label)


def _list_queues(run: _Run, region: str, match: _Match) -> Iterator[Resource]:
    if match.prefix:
        sqs = run.client("sqs", region)
        for url in _paginate(sqs, "list_queues", "QueueUrls", QueueNamePrefix=match.prefix):
            if match.name(_last(url)):
                yield Resource("sqs", "queue", url, region, label=_last(url))


def _list_log_groups(run: _Run, region: str, match: _Match) -> Iterator[Resource]:
    if match.prefix:
        logs = run.client("logs", region)
        for path in ("", "/aws/lambda/"):
            groups = _paginate(
                logs, "describe_log_groups", "logGroups", logGroupNamePrefix=path + match.prefix
            )
            for group in groups:
                if match.name(group["logGroupName"].removeprefix(path)):
                    yield Resource("logs", "log-group", group["logGroupName"], region)


def _list_cache_clusters(run: _Run, region: str, match: _Match) -> Iterator[Resource]:
    ec = run.client("elasticache", region)
    for cluster in _paginate(ec, "describe_cache_clusters", "CacheClusters"):
        if not cluster.get("ReplicationGroupId") and match(cluster["CacheClusterId"]):
            yield Resource("elasticache", "cache-cluster", cluster["CacheClusterId"], region)


_EC2_LISTS = (
    ("describe_vpcs", "Vpcs", "VpcId", "vpc"),
    ("describe_subnets", "Subnets", "SubnetId", "subnet"),
    ("describe_security_groups", "SecurityGroups", "GroupId", "security-group"),
    ("describe_internet_gateways", "InternetGateways", "InternetGatewayId", "internet-gateway"),
    ("describe_route_tables", "RouteTables", "RouteTableId", "route-table"),
    ("describe_launch_templates", "LaunchTemplates", "LaunchTemplateId", "launch-template"),
    ("describe_nat_gateways", "NatGateways", "NatGatewayId", "nat-gateway"),
    ("describe_addresses", "Addresses", "AllocationId", "elastic-ip"),
    ("describe_vpc_endpoints", "VpcEndpoints", "VpcEndpointId", "vpc-endpoint"),
    ("describe_network_interfaces", "NetworkInterfaces", "NetworkInterfaceId", "network-interface"),
)


def _ec2_listed_gone(kind: str, item: dict) -> bool:
    """An item EC2 still lists that is no longer there to delete, or not the lab's to delete."""
    if item.get("GroupName") == "default" or item.get("IsDefault"):
        return True  # the VPC's default security group, the default VPC: they go with the VPC
    if str(item.get("State", "")).lower() == "deleted":
        return True  # NAT gateways and VPC endpoints are listed for a while after deletion
    if kind == "network-interface" and (item.get("RequesterManaged") or _is_lambda_eni(item)):
        return True  # AWS manages it (Lambda, NAT gateway, endpoint...) and deletes it itself
    return False


def _list_ec2(run: _Run, region: str, match: _Match) -> Iterator[Resource]:
    ec2 = run.client("ec2", region)
    for op, key, id_key, kind in _EC2_LISTS:
        for item in _paginate(ec2, op, key):
            if _ec2_listed_gone(kind, item) or not item.get(id_key):
                continue
            tags = _tag_dict(item.get("Tags") or item.get("TagSet") or [])
            name = tags.get("Name") or item.get("GroupName") or item.get("LaunchTemplateName")
            if match(name, tags):
                label = name or item.get("PublicIp")
                yield Resource("ec2", kind, item[id_key], region, label=label)
    for reservation in _paginate(ec2, "describe_instances", "Reservations"):
        for inst in reservation["Instances"]:
            tags = _tag_dict(inst.get("Tags", []))
            if inst["State"]["Name"] != "terminated" and match(tags.get("Name"), tags):
                yield Resource("ec2", "instance", inst["InstanceId"], region)


def _list_rules(run: _Run, region: str, match: _Match) -> Iterator[Resource]:
    events = run.client("events", region)
    buses = [b["Name"] for b in _paginate(events, "list_event_buses", "EventBuses")] or ["default"]
    for bus in buses:
        for rule in _paginate(events, "list_rules", "Rules", EventBusName=bus):
            arn = rule["Arn"]

            def tags(arn: str = arn) -> Any:
                return events.list_tags_for_resource(ResourceARN=arn)["Tags"]

            if match(rule["Name"], get_tags=tags):
                parent = None if bus == "default" else bus
                yield Resource("events", "rule", rule["Name"], region, parent=parent)


def _list_ecs(run: _Run, region: str, match: _Match) -> Iterator[Resource]:
    ecs = run.client("ecs", region)
    arns = list(_paginate(ecs, "list_clusters", "clusterArns"))
    for i in range(0, len(arns), 100):
        described = ecs.describe_clusters(clusters=arns[i : i + 100], include=["TAGS"])
        for cluster in described.get("clusters", []):
            arn, name = cluster["clusterArn"], cluster["clusterName"]
            if cluster.get("status") == "INACTIVE":
                continue
            if match(name, cluster.get("tags", [])):
                yield Resource("ecs", "cluster", arn, region, label=name)
                continue
            for service in _paginate(ecs, "list_services", "serviceArns", cluster=arn):
                if match(_last(service)):  # a lab service in a shared cluster
                    yield Resource(
                        "ecs", "service", service, region, parent=arn, label=_last(service)
                    )
    if match.prefix:
        families = _paginate(
            ecs,
            "list_task_definition_families",
            "families",
            familyPrefix=match.prefix,
            status="ACTIVE",
        )
        for family in (f for f in families if match.name(f)):
            arns = _paginate(
                ecs,
                "list_task_definitions",
                "taskDefinitionArns",
                familyPrefix=family,
                status="ACTIVE",
            )
            for arn in arns:
                yield Resource("ecs", "task-definition", arn, region, label=_last(arn))


def _list_s3(run: _Run, region: str, match: _Match) -> Iterator[Resource]:
    s3 = run.client("s3", region)
    for bucket in s3.list_buckets().get("Buckets", []):
        name = bucket["Name"]

        def tags(name: str = name) -> Any:
            try:
                return s3.get_bucket_tagging(Bucket=name)["TagSet"]
            except ClientError:
                return []

        if match(name, get_tags=tags):
            yield Resource("s3", "bucket", name, _bucket_region(run, name, region))


def _cloudfront_items(cf: BaseClient, op: str, list_key: str, **kwargs: Any) -> list[Any]:
    try:
        return getattr(cf, op)(**kwargs).get(list_key, {}).get("Items", []) or []
    except NotImplementedError:
        return []
    except ClientError as exc:
        if _code(exc) == "404":  # moto offline: no such list call
            return []
        raise


def _list_distributions(run: _Run, region: str, match: _Match) -> Iterator[Resource]:
    cf = run.client("cloudfront", region)
    for page in cf.get_paginator("list_distributions").paginate():
        for dist in page.get("DistributionList", {}).get("Items", []) or []:
            arn = dist["ARN"]

            def tags(arn: str = arn) -> Any:
                return cf.list_tags_for_resource(Resource=arn)["Tags"].get("Items", [])

            if match(dist.get("Comment"), get_tags=tags):
                label = dist["DomainName"]
                yield Resource("cloudfront", "distribution", dist["Id"], region, label=label)


_CLOUDFRONT_NAMED = (
    ("list_origin_access_controls", "OriginAccessControlList", "origin-access-control", {}),
    ("list_key_groups", "KeyGroupList", "key-group", {}),
    ("list_public_keys", "PublicKeyList", "public-key", {}),
    ("list_functions", "FunctionList", "function", {}),
    ("list_cache_policies", "CachePolicyList", "cache-policy", {"Type": "custom"}),
)


def _cloudfront_id_name(kind: str, item: dict) -> tuple[str, str]:
    if kind == "key-group":
        return item["KeyGroup"]["Id"], item["KeyGroup"]["KeyGroupConfig"]["Name"]
    if kind == "cache-policy":
        return item["CachePolicy"]["Id"], item["CachePolicy"]["CachePolicyConfig"]["Name"]
    if kind == "function":
        return item["Name"], item["Name"]
    return item["Id"], item["Name"]


def _list_cloudfront_named(run: _Run, region: str, match: _Match) -> Iterator[Resource]:
    cf = run.client("cloudfront", region)
    for op, key, kind, kwargs in _CLOUDFRONT_NAMED:
        for item in _cloudfront_items(cf, op, key, **kwargs):
            rid, name = _cloudfront_id_name(kind, item)
            if match(name):
                yield Resource("cloudfront", kind, rid, region, label=name)


_REGIONAL_LISTERS: tuple[tuple[str, Lister], ...] = (
    ("the tagging API", _list_tagged),
    *((f"{x.service} {x.kind}s", x) for x in _LISTINGS),
    ("lambda layers", _list_lambda_layers),
    ("sqs queues", _list_queues),
    ("log groups", _list_log_groups),
    ("elasticache clusters", _list_cache_clusters),
    ("ec2", _list_ec2),
    ("eventbridge rules", _list_rules),
    ("ecs", _list_ecs),
)
_GLOBAL_LISTERS: tuple[tuple[str, Lister], ...] = (
    ("s3 buckets", _list_s3),
    *((f"{x.service} {x.kind}s", x) for x in _GLOBAL_LISTINGS),
    ("cloudfront distributions", _list_distributions),
    ("cloudfront", _list_cloudfront_named),
)


def _collect(run: _Run, what: str, lister: Lister, region: str, match: _Match) -> list[Resource]:
    """Run one lister; one that fails (no permission, not offered there) is skipped with a warning."""
    found: list[Resource] = []
    try:
        for r in lister(run, region, match):
            found.append(r)
    except NotImplementedError:
        pass  # moto offline: the service has no such list call
    except ClientError as exc:
        if not _not_found(exc):  # a list call answering "not found" has nothing to list
            message = exc.response.get("Error", {}).get("Message", "")
            warnings.warn(
                f"labbook discover: could not list {what} in {region} ({_code(exc)}: {message}); "
                "check them in the AWS console.",
                stacklevel=3,
            )
    except BotoCoreError as exc:
        warnings.warn(
            f"labbook discover: could not list {what} in {region} ({exc}); "
            "check them in the AWS console.",
            stacklevel=3,
        )
    return found


def discover(
    client_factory: ClientFactory,
    *,
    regions: list[str],
    tag_key: str,
    tag_value: str | None = None,
    name_prefix: str | None = None,
    run_id_names: bool = False,
) -> list[Resource]:
    """Find resources carrying the lab tag (Resource Groups Tagging API) plus, per service the tagging API misses, by listing and matching tags or the name prefix.

    A name matches when it starts with `name_prefix` ("myblog-1a2b3c-"), or with it spelt with
    "_" for "-" (IoT names). With `run_id_names=True` the prefix is the lab's ("myblog-") and a
    name matches only as Lab.name() makes them, "<prefix><6 hex run id>-..." (IoT:
    "myblog_1a2b3c_..."), so a user's own "myblog-prod" is never found.
    """
    if not regions:
        raise ValueError("discover needs at least one region, e.g. regions=['us-east-1']")
    if run_id_names and not name_prefix:
        raise ValueError("run_id_names needs a name_prefix, e.g. name_prefix='myblog-'")
    run = _Run(client_factory, wait=False)
    match = _Match(tag_key, tag_value, name_prefix, run_id_names)
    found: dict[Resource, Resource] = {}
    for region in regions:
        for what, lister in _REGIONAL_LISTERS:
            for r in _collect(run, what, lister, region, match):
                found.setdefault(r, r)
    for what, lister in _GLOBAL_LISTERS:  # global services answer in us-east-1
        for r in _collect(run, what, lister, "us-east-1", match):
            found.setdefault(r, r)
    return [r for r in found.values() if _still_there(run, r)]


def _still_there(run: _Run, r: Resource) -> bool:
    """False for what is gone or already being deleted (the tagging API lists terminated instances)."""
    if (r.service, r.kind) not in _KINDS:
        return True
    try:
        state = _state(run, r)
    except Exception:  # cannot tell: keep it, teardown will report
        return True
    return state is not None and not state.startswith("deleting")
