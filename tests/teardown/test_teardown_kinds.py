"""Each kind a lab creates: tagged on create (read back with the service's own call), recorded,
deleted by teardown, and gone according to the service's own describe/list call."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

from helpers.teardown import Resource, TaggingWarning, Tracker, teardown

from .conftest import (
    ACCOUNT,
    LAB_TAGS,
    OTHER_REGION,
    PREFIX,
    REGION,
    Factory,
    lambda_zip,
    make_function,
    make_vpc,
)

TRUST_EC2 = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
    }
)


@dataclass
class Case:
    """One kind: how a notebook creates it, how AWS reports its tags, how to see it is gone."""

    id: str
    service: str
    kind: str
    create: Callable[[Factory], Any]
    gone: Callable[[Factory, Resource], bool]
    tags: Callable[[Factory, Resource], Any] | None = None  # raw tags, as the service returns them
    shape: str = "list"  # "list" ([{"Key","Value"}]), "map" ({k: v}) or "ecs" ([{"key","value"}])


def _raises(call: Callable[[], Any], *codes: str) -> bool:
    try:
        call()
    except ClientError as exc:
        return exc.response["Error"]["Code"] in codes
    return False


# --- create functions ---------------------------------------------------------------------------


def create_bucket(c: Factory) -> None:
    c("s3").create_bucket(Bucket=f"{PREFIX}photos")
    c("s3").put_object(Bucket=f"{PREFIX}photos", Key="a.jpg", Body=b"jpeg")


def create_bucket_other_region(c: Factory) -> None:
    c("s3").create_bucket(
        Bucket=f"{PREFIX}replica",
        CreateBucketConfiguration={"LocationConstraint": OTHER_REGION},
    )


def create_table(c: Factory) -> None:
    c("dynamodb").create_table(
        TableName=f"{PREFIX}posts",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )


def create_esm(c: Factory) -> None:
    make_function(c)
    url = c("sqs").create_queue(QueueName=f"{PREFIX}uploads")["QueueUrl"]
    arn = c("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    c("lambda").create_event_source_mapping(
        EventSourceArn=arn, FunctionName=f"{PREFIX}fn", BatchSize=10
    )


def create_layer(c: Factory) -> None:
    c("lambda").publish_layer_version(
        LayerName=f"{PREFIX}pillow",
        Content={"ZipFile": lambda_zip()},
        CompatibleRuntimes=["python3.12"],
    )


def create_policy(c: Factory) -> None:
    c("iam").create_policy(PolicyName=f"{PREFIX}read", PolicyDocument=POLICY)


def create_instance_profile(c: Factory) -> None:
    c("iam").create_role(RoleName=f"{PREFIX}web", AssumeRolePolicyDocument=TRUST_EC2)
    c("iam").create_instance_profile(InstanceProfileName=f"{PREFIX}web")
    c("iam").add_role_to_instance_profile(
        InstanceProfileName=f"{PREFIX}web", RoleName=f"{PREFIX}web"
    )


def create_user(c: Factory) -> None:
    iam = c("iam")
    iam.create_user(UserName=f"{PREFIX}uploader")
    iam.create_access_key(UserName=f"{PREFIX}uploader")
    iam.put_user_policy(UserName=f"{PREFIX}uploader", PolicyName="inline", PolicyDocument=POLICY)
    arn = iam.create_policy(PolicyName=f"{PREFIX}upload", PolicyDocument=POLICY)["Policy"]["Arn"]
    iam.attach_user_policy(UserName=f"{PREFIX}uploader", PolicyArn=arn)


def create_subscription(c: Factory) -> None:
    topic = c("sns").create_topic(Name=f"{PREFIX}events")["TopicArn"]
    queue = c("sqs").create_queue(QueueName=f"{PREFIX}inbox")["QueueUrl"]
    arn = c("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    c("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)


def create_delivery_stream(c: Factory) -> None:
    from .conftest import make_role

    role = make_role(c, f"{PREFIX}firehose")
    c("s3").create_bucket(Bucket=f"{PREFIX}lake")
    c("firehose").create_delivery_stream(
        DeliveryStreamName=f"{PREFIX}clicks",
        DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": role,
            "BucketARN": f"arn:aws:s3:::{PREFIX}lake",
            "Prefix": "raw/",
        },
    )


def distribution_config(ref: str = "ref-1") -> dict:
    return {
        "CallerReference": ref,
        "Comment": f"{PREFIX}site",
        "Enabled": True,
        "Origins": {
            "Quantity": 1,
            "Items": [
                {
                    "Id": "s3",
                    "DomainName": f"{PREFIX}site.s3.{REGION}.amazonaws.com",
                    "S3OriginConfig": {"OriginAccessIdentity": ""},
                }
            ],
        },
        "DefaultCacheBehavior": {
            "TargetOriginId": "s3",
            "ViewerProtocolPolicy": "redirect-to-https",
            "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
            "MinTTL": 0,
        },
    }


def create_distribution(c: Factory) -> None:
    c("cloudfront").create_distribution(DistributionConfig=distribution_config())


def create_distribution_with_tags(c: Factory) -> None:
    c("cloudfront").create_distribution_with_tags(
        DistributionConfigWithTags={
            "DistributionConfig": distribution_config(),
            "Tags": {"Items": [{"Key": "team", "Value": "web"}]},
        }
    )


def create_oac(c: Factory) -> None:
    c("cloudfront").create_origin_access_control(
        OriginAccessControlConfig={
            "Name": f"{PREFIX}oac",
            "SigningProtocol": "sigv4",
            "SigningBehavior": "always",
            "OriginAccessControlOriginType": "s3",
        }
    )


PUBLIC_KEY_PEM = None


def public_key_pem() -> str:
    global PUBLIC_KEY_PEM
    if PUBLIC_KEY_PEM is None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        PUBLIC_KEY_PEM = (
            key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
    return PUBLIC_KEY_PEM


def create_public_key(c: Factory) -> None:
    c("cloudfront").create_public_key(
        PublicKeyConfig={
            "CallerReference": "pk-1",
            "Name": f"{PREFIX}signer",
            "EncodedKey": public_key_pem(),
        }
    )


def create_cf_function(c: Factory) -> None:
    c("cloudfront").create_function(
        Name=f"{PREFIX}rewrite",
        FunctionConfig={"Comment": "index.html", "Runtime": "cloudfront-js-2.0"},
        FunctionCode=b"function handler(event) { return event.request; }",
    )


def create_rest_api(c: Factory) -> None:
    apigw = c("apigateway")
    api = apigw.create_rest_api(name=f"{PREFIX}api", endpointConfiguration={"types": ["REGIONAL"]})
    root = apigw.get_resources(restApiId=api["id"])["items"][0]["id"]
    apigw.put_method(
        restApiId=api["id"], resourceId=root, httpMethod="GET", authorizationType="NONE"
    )
    apigw.put_integration(restApiId=api["id"], resourceId=root, httpMethod="GET", type="MOCK")
    apigw.create_deployment(restApiId=api["id"], stageName="prod")


def import_rest_api(c: Factory) -> None:
    spec = {
        "openapi": "3.0.1",
        "info": {"title": f"{PREFIX}imported", "version": "1", "description": "posts"},
        "paths": {},
    }
    with warnings.catch_warnings():  # moto's tag_resource only knows stages: no tags offline
        warnings.simplefilter("ignore", TaggingWarning)
        c("apigateway").import_rest_api(body=json.dumps(spec).encode())


def create_usage_plan(c: Factory) -> None:
    create_rest_api(c)
    apigw = c("apigateway")
    api = apigw.get_rest_apis()["items"][0]["id"]
    plan = apigw.create_usage_plan(
        name=f"{PREFIX}free",
        apiStages=[{"apiId": api, "stage": "prod"}],
        throttle={"rateLimit": 5.0, "burstLimit": 10},
    )
    key = apigw.create_api_key(name=f"{PREFIX}key", enabled=True)
    apigw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")


def create_user_pool(c: Factory) -> None:
    idp = c("cognito-idp")
    pool = idp.create_user_pool(PoolName=f"{PREFIX}users")["UserPool"]["Id"]
    idp.create_user_pool_client(UserPoolId=pool, ClientName="web")
    idp.create_user_pool_domain(UserPoolId=pool, Domain=f"{PREFIX}login")


def create_secret(c: Factory) -> None:
    c("secretsmanager").create_secret(Name=f"{PREFIX}db-password", SecretString="hunter2")


def create_glue_table(c: Factory) -> None:
    glue = c("glue")
    glue.create_database(DatabaseInput={"Name": "lab_blog_clicks"})
    glue.create_table(
        DatabaseName="lab_blog_clicks",
        TableInput={
            "Name": "events",
            "StorageDescriptor": {
                "Columns": [{"Name": "ts", "Type": "string"}],
                "Location": f"s3://{PREFIX}lake/raw/",
            },
            "PartitionKeys": [{"Name": "dt", "Type": "string"}],
        },
    )


def create_crawler(c: Factory) -> None:
    from .conftest import make_role

    c("glue").create_database(DatabaseInput={"Name": "lab_blog_clicks"})
    c("glue").create_crawler(
        Name=f"{PREFIX}crawler",
        Role=make_role(c, f"{PREFIX}crawler"),
        DatabaseName="lab_blog_clicks",
        Targets={"S3Targets": [{"Path": f"s3://{PREFIX}lake/raw/"}]},
    )


def create_workgroup(c: Factory) -> None:
    c("athena").create_work_group(
        Name=f"{PREFIX}analytics",
        Configuration={"ResultConfiguration": {"OutputLocation": f"s3://{PREFIX}results/"}},
    )
    c("athena").start_query_execution(QueryString="SELECT 1", WorkGroup=f"{PREFIX}analytics")


def create_thing(c: Factory) -> None:
    iot = c("iot")
    iot.create_thing(thingName=f"{PREFIX}sensor-1")
    cert = iot.create_keys_and_certificate(setAsActive=True)
    iot.attach_thing_principal(thingName=f"{PREFIX}sensor-1", principal=cert["certificateArn"])


def create_topic_rule(c: Factory) -> None:
    c("iot").create_topic_rule(
        ruleName="lab_blog_to_kinesis",
        topicRulePayload={
            "sql": "SELECT * FROM 'sensors/#'",
            "actions": [
                {
                    "kinesis": {
                        "roleArn": f"arn:aws:iam::{ACCOUNT}:role/iot",
                        "streamName": f"{PREFIX}clicks",
                    }
                }
            ],
        },
    )


def create_iot_policy(c: Factory) -> None:
    iot = c("iot")
    doc = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}],
    }
    iot.create_policy(policyName=f"{PREFIX}device", policyDocument=json.dumps(doc))
    cert = iot.create_keys_and_certificate(setAsActive=True)
    iot.attach_policy(policyName=f"{PREFIX}device", target=cert["certificateArn"])


def create_dax(c: Factory) -> None:
    from .conftest import make_role

    c("dax").create_cluster(
        ClusterName="lab-blog-cache",
        NodeType="dax.t3.small",
        ReplicationFactor=1,
        IamRoleArn=make_role(c, f"{PREFIX}dax"),
    )


def create_security_group(c: Factory) -> None:
    vpc, _ = make_vpc(c)
    ec2 = c("ec2")
    web = ec2.create_security_group(GroupName=f"{PREFIX}web", Description="web", VpcId=vpc)[
        "GroupId"
    ]
    db = ec2.create_security_group(GroupName=f"{PREFIX}db", Description="db", VpcId=vpc)["GroupId"]
    postgres = {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432}
    # the groups name each other: web may reach db, db accepts web
    ec2.authorize_security_group_ingress(
        GroupId=db, IpPermissions=[{**postgres, "UserIdGroupPairs": [{"GroupId": web}]}]
    )
    ec2.authorize_security_group_egress(
        GroupId=web, IpPermissions=[{**postgres, "UserIdGroupPairs": [{"GroupId": db}]}]
    )


def create_internet_gateway(c: Factory) -> None:
    vpc, _ = make_vpc(c)
    igw = c("ec2").create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    c("ec2").attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)


def create_route_table(c: Factory) -> None:
    vpc, subnets = make_vpc(c)
    table = c("ec2").create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    c("ec2").associate_route_table(RouteTableId=table, SubnetId=subnets[0])


def create_routes(c: Factory) -> None:
    """A public route table (default route to an internet gateway) and a private one (to a NAT
    gateway), each associated with a subnet."""
    create_nat_gateway(c)


def create_nat_gateway(c: Factory) -> dict[str, str]:
    """A VPC with a public subnet (route to an internet gateway) holding a NAT gateway with an
    Elastic IP, and a private subnet routing to the NAT gateway; returns the ids."""
    vpc, (public, private) = make_vpc(c)
    ec2 = c("ec2")
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    public_rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=public_rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    ec2.associate_route_table(RouteTableId=public_rt, SubnetId=public)
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=public, AllocationId=eip)["NatGateway"]["NatGatewayId"]
    private_rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=private_rt, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
    ec2.associate_route_table(RouteTableId=private_rt, SubnetId=private)
    return {
        "vpc": vpc,
        "public": public,
        "private": private,
        "igw": igw,
        "eip": eip,
        "nat": nat,
        "public_rt": public_rt,
        "private_rt": private_rt,
    }


def create_gateway_endpoint(c: Factory) -> None:
    vpc, _ = make_vpc(c)
    table = c("ec2").create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    c("ec2").create_vpc_endpoint(
        VpcId=vpc,
        VpcEndpointType="Gateway",
        ServiceName=f"com.amazonaws.{REGION}.s3",
        RouteTableIds=[table],
    )


def create_interface_endpoint(c: Factory) -> None:
    vpc, subnets = make_vpc(c)
    group = c("ec2").create_security_group(
        GroupName=f"{PREFIX}endpoint", Description="HTTPS from the functions", VpcId=vpc
    )["GroupId"]
    c("ec2").create_vpc_endpoint(
        VpcId=vpc,
        VpcEndpointType="Interface",
        ServiceName=f"com.amazonaws.{REGION}.secretsmanager",
        SubnetIds=subnets,
        SecurityGroupIds=[group],
        PrivateDnsEnabled=True,
    )


def create_network_interface(c: Factory) -> str:
    vpc, subnets = make_vpc(c)
    group = c("ec2").create_security_group(GroupName=f"{PREFIX}eni", Description="eni", VpcId=vpc)[
        "GroupId"
    ]
    return c("ec2").create_network_interface(
        SubnetId=subnets[0], Groups=[group], Description="a lab's own interface"
    )["NetworkInterface"]["NetworkInterfaceId"]


def create_address_on_interface(c: Factory) -> None:
    """An Elastic IP associated with a network interface: released only once disassociated."""
    eni = create_network_interface(c)
    vpc = c("ec2").describe_network_interfaces(NetworkInterfaceIds=[eni])["NetworkInterfaces"][0][
        "VpcId"
    ]
    igw = c("ec2").create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    c("ec2").attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    eip = c("ec2").allocate_address(Domain="vpc")["AllocationId"]
    c("ec2").associate_address(AllocationId=eip, NetworkInterfaceId=eni)


def create_launch_template(c: Factory) -> None:
    c("ec2").create_launch_template(
        LaunchTemplateName=f"{PREFIX}web",
        LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "t3.micro"},
    )


def create_instance(c: Factory) -> None:
    _, subnets = make_vpc(c)
    c("ec2").run_instances(
        ImageId="ami-12c6146b", InstanceType="t3.micro", MinCount=1, MaxCount=1, SubnetId=subnets[0]
    )


def create_target_group(c: Factory) -> str:
    vpc, _ = make_vpc(c)
    return c("elbv2").create_target_group(
        Name="lab-blog-web", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="instance"
    )["TargetGroups"][0]["TargetGroupArn"]


def create_asg(c: Factory) -> None:
    tg = create_target_group(c)
    subnets = [
        s["SubnetId"] for s in c("ec2").describe_subnets()["Subnets"] if not s["DefaultForAz"]
    ]
    create_launch_template(c)
    c("autoscaling").create_auto_scaling_group(
        AutoScalingGroupName=f"{PREFIX}web",
        LaunchTemplate={"LaunchTemplateName": f"{PREFIX}web", "Version": "$Latest"},
        MinSize=2,
        MaxSize=4,
        DesiredCapacity=2,
        VPCZoneIdentifier=",".join(subnets),
        TargetGroupARNs=[tg],
    )


def create_load_balancer(c: Factory) -> None:
    tg = create_target_group(c)
    subnets = [
        s["SubnetId"] for s in c("ec2").describe_subnets()["Subnets"] if not s["DefaultForAz"]
    ]
    lb = c("elbv2").create_load_balancer(Name="lab-blog-alb", Subnets=subnets, Type="application")
    c("elbv2").create_listener(
        LoadBalancerArn=lb["LoadBalancers"][0]["LoadBalancerArn"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}],
    )


def create_mount_target(c: Factory) -> None:
    _, subnets = make_vpc(c)
    fs = c("efs").create_file_system(
        CreationToken=f"{PREFIX}files", PerformanceMode="generalPurpose"
    )
    c("efs").create_mount_target(FileSystemId=fs["FileSystemId"], SubnetId=subnets[0])


def create_access_point(c: Factory) -> None:
    fs = c("efs").create_file_system(
        CreationToken=f"{PREFIX}shared", PerformanceMode="generalPurpose"
    )
    c("efs").create_access_point(
        FileSystemId=fs["FileSystemId"],
        PosixUser={"Uid": 1000, "Gid": 1000},
        RootDirectory={"Path": "/www"},
    )


def create_db_cluster(c: Factory) -> None:
    _, subnets = make_vpc(c)
    rds = c("rds")
    rds.create_db_subnet_group(
        DBSubnetGroupName=f"{PREFIX}db", DBSubnetGroupDescription="db", SubnetIds=subnets
    )
    rds.create_global_cluster(GlobalClusterIdentifier=f"{PREFIX}global", Engine="aurora-postgresql")
    rds.create_db_cluster(
        DBClusterIdentifier=f"{PREFIX}aurora",
        Engine="aurora-postgresql",
        MasterUsername="blog",
        MasterUserPassword="password123",
        DBSubnetGroupName=f"{PREFIX}db",
        GlobalClusterIdentifier=f"{PREFIX}global",
    )
    rds.create_db_instance(
        DBInstanceIdentifier=f"{PREFIX}aurora-1",
        DBClusterIdentifier=f"{PREFIX}aurora",
        Engine="aurora-postgresql",
        DBInstanceClass="db.r6g.large",
    )


def create_db_instance(c: Factory) -> None:
    c("rds").create_db_instance(
        DBInstanceIdentifier=f"{PREFIX}pg",
        Engine="postgres",
        DBInstanceClass="db.t3.micro",
        AllocatedStorage=20,
        MasterUsername="blog",
        MasterUserPassword="password123",
    )


def create_cache_cluster(c: Factory) -> None:
    c("elasticache").create_cache_cluster(
        CacheClusterId="lab-blog-sessions",
        Engine="redis",
        CacheNodeType="cache.t3.micro",
        NumCacheNodes=1,
    )


def create_replication_group(c: Factory) -> None:
    c("elasticache").create_replication_group(
        ReplicationGroupId="lab-blog-cache",
        ReplicationGroupDescription="cache",
        Engine="redis",
        CacheNodeType="cache.t3.micro",
        NumCacheClusters=2,
    )


def create_hosted_zone(c: Factory) -> None:
    r53 = c("route53")
    zone = r53.create_hosted_zone(Name=f"{PREFIX}example.com", CallerReference="zone-1")[
        "HostedZone"
    ]
    r53.change_resource_record_sets(
        HostedZoneId=zone["Id"],
        ChangeBatch={
            "Changes": [
                {
                    "Action": "CREATE",
                    "ResourceRecordSet": {
                        "Name": f"api.{PREFIX}example.com",
                        "Type": "CNAME",
                        "TTL": 60,
                        "ResourceRecords": [{"Value": "abc.execute-api.us-east-1.amazonaws.com"}],
                    },
                }
            ]
        },
    )


def create_rule(c: Factory) -> None:
    events = c("events")
    events.put_rule(Name=f"{PREFIX}nightly", ScheduleExpression="rate(1 day)")
    events.put_targets(
        Rule=f"{PREFIX}nightly",
        Targets=[{"Id": "fn", "Arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{PREFIX}fn"}],
    )


def create_rule_on_bus(c: Factory) -> None:
    c("events").create_event_bus(Name=f"{PREFIX}bus")
    c("events").put_rule(
        Name=f"{PREFIX}orders",
        EventBusName=f"{PREFIX}bus",
        EventPattern=json.dumps({"source": ["shop"]}),
    )


def create_ecs(c: Factory) -> None:
    ecs = c("ecs")
    ecs.create_cluster(clusterName=f"{PREFIX}cluster")
    ecs.register_task_definition(
        family=f"{PREFIX}web",
        containerDefinitions=[{"name": "web", "image": "nginx", "memory": 256, "essential": True}],
    )
    ecs.create_service(
        cluster=f"{PREFIX}cluster",
        serviceName=f"{PREFIX}web",
        taskDefinition=f"{PREFIX}web",
        desiredCount=0,
    )


def create_kinesis(c: Factory) -> None:
    c("kinesis").create_stream(StreamName=f"{PREFIX}clicks", ShardCount=1)


# --- gone checks and tag readers (the services' own calls) --------------------------------------


def _ec2_gone(op: str, key: str, id_key: str) -> Callable[[Factory, Resource], bool]:
    return lambda c, r: r.id not in [i[id_key] for i in getattr(c("ec2", r.region), op)()[key]]


def _nat_gone(c: Factory, r: Resource) -> bool:
    """AWS lists a deleted NAT gateway for about an hour, in State "deleted"."""
    nats = c("ec2", r.region).describe_nat_gateways(NatGatewayIds=[r.id])["NatGateways"]
    return all(n["State"] == "deleted" for n in nats)


def _endpoint_gone(c: Factory, r: Resource) -> bool:
    endpoints = c("ec2", r.region).describe_vpc_endpoints()["VpcEndpoints"]
    return all(e["State"] == "deleted" for e in endpoints if e["VpcEndpointId"] == r.id)


def _ec2_tags(c: Factory, r: Resource) -> Any:
    return c("ec2", r.region).describe_tags(Filters=[{"Name": "resource-id", "Values": [r.id]}])[
        "Tags"
    ]


def _rds_tags(arn_kind: str) -> Callable[[Factory, Resource], Any]:
    return lambda c, r: c("rds").list_tags_for_resource(
        ResourceName=f"arn:aws:rds:{r.region}:{ACCOUNT}:{arn_kind}:{r.id}"
    )["TagList"]


CASES = [
    Case(
        "s3-bucket",
        "s3",
        "bucket",
        create_bucket,
        gone=lambda c, r: r.id not in [b["Name"] for b in c("s3").list_buckets()["Buckets"]],
        tags=lambda c, r: c("s3").get_bucket_tagging(Bucket=r.id)["TagSet"],
    ),
    Case(
        "s3-bucket-other-region",
        "s3",
        "bucket",
        create_bucket_other_region,
        gone=lambda c, r: (
            r.region == OTHER_REGION
            and r.id not in [b["Name"] for b in c("s3").list_buckets()["Buckets"]]
        ),
        tags=lambda c, r: c("s3", OTHER_REGION).get_bucket_tagging(Bucket=r.id)["TagSet"],
    ),
    Case(
        "dynamodb-table",
        "dynamodb",
        "table",
        create_table,
        gone=lambda c, r: r.id not in c("dynamodb").list_tables()["TableNames"],
        tags=lambda c, r: c("dynamodb").list_tags_of_resource(
            ResourceArn=f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{r.id}"
        )["Tags"],
    ),
    Case(
        "lambda-function",
        "lambda",
        "function",
        make_function,
        gone=lambda c, r: (
            r.id not in [f["FunctionName"] for f in c("lambda").list_functions()["Functions"]]
        ),
        tags=lambda c, r: c("lambda").list_tags(
            Resource=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{r.id}"
        )["Tags"],
        shape="map",
    ),
    Case(
        "lambda-event-source-mapping",
        "lambda",
        "event-source-mapping",
        create_esm,
        gone=lambda c, r: (
            r.id
            not in [
                m["UUID"] for m in c("lambda").list_event_source_mappings()["EventSourceMappings"]
            ]
        ),
    ),
    Case(
        "lambda-layer-version",
        "lambda",
        "layer-version",
        create_layer,
        gone=lambda c, r: (
            not c("lambda").list_layer_versions(LayerName=f"{PREFIX}pillow")["LayerVersions"]
        ),
    ),
    Case(
        "iam-role",
        "iam",
        "role",
        make_function,
        gone=lambda c, r: r.id not in [x["RoleName"] for x in c("iam").list_roles()["Roles"]],
        tags=lambda c, r: c("iam").list_role_tags(RoleName=r.id)["Tags"],
    ),
    Case(
        "iam-policy",
        "iam",
        "policy",
        create_policy,
        gone=lambda c, r: (
            r.id not in [p["Arn"] for p in c("iam").list_policies(Scope="Local")["Policies"]]
        ),
        tags=lambda c, r: c("iam").list_policy_tags(PolicyArn=r.id)["Tags"],
    ),
    Case(
        "iam-user",
        "iam",
        "user",
        create_user,
        gone=lambda c, r: r.id not in [u["UserName"] for u in c("iam").list_users()["Users"]],
        tags=lambda c, r: c("iam").list_user_tags(UserName=r.id)["Tags"],
    ),
    Case(
        "iam-instance-profile",
        "iam",
        "instance-profile",
        create_instance_profile,
        gone=lambda c, r: not c("iam").list_instance_profiles()["InstanceProfiles"],
        tags=lambda c, r: c("iam").get_instance_profile(InstanceProfileName=r.id)[
            "InstanceProfile"
        ]["Tags"],
    ),
    Case(
        "sqs-queue",
        "sqs",
        "queue",
        lambda c: c("sqs").create_queue(
            QueueName=f"{PREFIX}jobs", Attributes={"VisibilityTimeout": "60"}
        ),
        gone=lambda c, r: r.id not in c("sqs").list_queues().get("QueueUrls", []),
        tags=lambda c, r: c("sqs").list_queue_tags(QueueUrl=r.id)["Tags"],
        shape="map",
    ),
    Case(
        "sns-topic",
        "sns",
        "topic",
        lambda c: c("sns").create_topic(Name=f"{PREFIX}alerts"),
        gone=lambda c, r: r.id not in [t["TopicArn"] for t in c("sns").list_topics()["Topics"]],
        tags=lambda c, r: c("sns").list_tags_for_resource(ResourceArn=r.id)["Tags"],
    ),
    Case(
        "sns-subscription",
        "sns",
        "subscription",
        create_subscription,
        gone=lambda c, r: (
            r.id
            not in [s["SubscriptionArn"] for s in c("sns").list_subscriptions()["Subscriptions"]]
        ),
    ),
    Case(
        "logs-log-group",
        "logs",
        "log-group",
        lambda c: c("logs").create_log_group(logGroupName=f"/labbook/{PREFIX}app"),
        gone=lambda c, r: not c("logs").describe_log_groups(logGroupNamePrefix=r.id)["logGroups"],
        tags=lambda c, r: c("logs").list_tags_for_resource(
            resourceArn=f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{r.id}"
        )["tags"],
        shape="map",
    ),
    Case(
        "kinesis-stream",
        "kinesis",
        "stream",
        create_kinesis,
        gone=lambda c, r: r.id not in c("kinesis").list_streams()["StreamNames"],
        tags=lambda c, r: c("kinesis").list_tags_for_stream(StreamName=r.id)["Tags"],
    ),
    Case(
        "firehose-delivery-stream",
        "firehose",
        "delivery-stream",
        create_delivery_stream,
        gone=lambda c, r: r.id not in c("firehose").list_delivery_streams()["DeliveryStreamNames"],
        tags=lambda c, r: c("firehose").list_tags_for_delivery_stream(DeliveryStreamName=r.id)[
            "Tags"
        ],
    ),
    Case(
        "cloudfront-distribution",
        "cloudfront",
        "distribution",
        create_distribution,
        gone=lambda c, r: not c("cloudfront").list_distributions()["DistributionList"].get("Items"),
        tags=lambda c, r: c("cloudfront").list_tags_for_resource(
            Resource=f"arn:aws:cloudfront::{ACCOUNT}:distribution/{r.id}"
        )["Tags"]["Items"],
    ),
    Case(
        "cloudfront-distribution-with-tags",
        "cloudfront",
        "distribution",
        create_distribution_with_tags,
        gone=lambda c, r: not c("cloudfront").list_distributions()["DistributionList"].get("Items"),
        tags=lambda c, r: c("cloudfront").list_tags_for_resource(
            Resource=f"arn:aws:cloudfront::{ACCOUNT}:distribution/{r.id}"
        )["Tags"]["Items"],
    ),
    Case(
        "cloudfront-origin-access-control",
        "cloudfront",
        "origin-access-control",
        create_oac,
        gone=lambda c, r: (
            not c("cloudfront")
            .list_origin_access_controls()["OriginAccessControlList"]
            .get("Items")
        ),
    ),
    Case(
        "cloudfront-public-key",
        "cloudfront",
        "public-key",
        create_public_key,
        gone=lambda c, r: not c("cloudfront").list_public_keys()["PublicKeyList"].get("Items"),
    ),
    Case(
        "cloudfront-function",
        "cloudfront",
        "function",
        create_cf_function,
        gone=lambda c, r: not c("cloudfront").list_functions()["FunctionList"].get("Items"),
    ),
    Case(
        "apigateway-rest-api",
        "apigateway",
        "rest-api",
        create_rest_api,
        gone=lambda c, r: not c("apigateway").get_rest_apis()["items"],
        tags=lambda c, r: c("apigateway").get_rest_api(restApiId=r.id)["tags"],
        shape="map",
    ),
    Case(
        "apigateway-import-rest-api",
        "apigateway",
        "rest-api",
        import_rest_api,
        gone=lambda c, r: not c("apigateway").get_rest_apis()["items"],
        # tagged after the import with tag_resource, which moto supports only for stages
    ),
    Case(
        "apigateway-usage-plan",
        "apigateway",
        "usage-plan",
        create_usage_plan,
        gone=lambda c, r: not c("apigateway").get_usage_plans()["items"],
        tags=lambda c, r: c("apigateway").get_usage_plan(usagePlanId=r.id)["tags"],
        shape="map",
    ),
    Case(
        "apigateway-api-key",
        "apigateway",
        "api-key",
        create_usage_plan,
        gone=lambda c, r: not c("apigateway").get_api_keys()["items"],
        tags=lambda c, r: c("apigateway").get_api_key(apiKey=r.id)["tags"],
        shape="map",
    ),
    Case(
        "cognito-user-pool",
        "cognito-idp",
        "user-pool",
        create_user_pool,
        gone=lambda c, r: not c("cognito-idp").list_user_pools(MaxResults=10)["UserPools"],
        tags=lambda c, r: c("cognito-idp").describe_user_pool(UserPoolId=r.id)["UserPool"][
            "UserPoolTags"
        ],
        shape="map",
    ),
    Case(
        "secretsmanager-secret",
        "secretsmanager",
        "secret",
        create_secret,
        gone=lambda c, r: not c("secretsmanager").list_secrets()["SecretList"],
        tags=lambda c, r: c("secretsmanager").describe_secret(SecretId=r.id)["Tags"],
    ),
    Case(
        "ses-identity",
        "ses",
        "identity",
        lambda c: c("ses").verify_email_identity(EmailAddress="blog@example.com"),
        gone=lambda c, r: r.id not in c("ses").list_identities()["Identities"],
    ),
    Case(
        "sesv2-email-identity",
        "sesv2",
        "email-identity",
        lambda c: c("sesv2").create_email_identity(EmailIdentity="news@example.com"),
        gone=lambda c, r: (
            r.id
            not in [
                i["IdentityName"] for i in c("sesv2").list_email_identities()["EmailIdentities"]
            ]
        ),
        tags=lambda c, r: c("sesv2").get_email_identity(EmailIdentity=r.id)["Tags"],
    ),
    Case(
        "glue-database",
        "glue",
        "database",
        create_glue_table,
        gone=lambda c, r: not c("glue").get_databases()["DatabaseList"],
        tags=lambda c, r: c("glue").get_tags(
            ResourceArn=f"arn:aws:glue:{REGION}:{ACCOUNT}:database/{r.id}"
        )["Tags"],
        shape="map",
    ),
    Case(
        "glue-table",
        "glue",
        "table",
        create_glue_table,
        gone=lambda c, r: (
            _raises(lambda: c("glue").get_tables(DatabaseName=r.parent), "EntityNotFoundException")
            or not c("glue").get_tables(DatabaseName=r.parent)["TableList"]
        ),
    ),
    Case(
        "glue-crawler",
        "glue",
        "crawler",
        create_crawler,
        gone=lambda c, r: not c("glue").get_crawlers()["Crawlers"],
        tags=lambda c, r: c("glue").get_tags(
            ResourceArn=f"arn:aws:glue:{REGION}:{ACCOUNT}:crawler/{r.id}"
        )["Tags"],
        shape="map",
    ),
    Case(
        "athena-workgroup",
        "athena",
        "workgroup",
        create_workgroup,
        gone=lambda c, r: (
            r.id not in [w["Name"] for w in c("athena").list_work_groups()["WorkGroups"]]
        ),
        tags=lambda c, r: c("athena").list_tags_for_resource(
            ResourceARN=f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/{r.id}"
        )["Tags"],
    ),
    Case(
        "iot-thing",
        "iot",
        "thing",
        create_thing,
        gone=lambda c, r: not c("iot").list_things()["things"],
    ),
    Case(
        "iot-topic-rule",
        "iot",
        "topic-rule",
        create_topic_rule,
        gone=lambda c, r: not c("iot").list_topic_rules()["rules"],
    ),
    Case(
        "iot-policy",
        "iot",
        "policy",
        create_iot_policy,
        gone=lambda c, r: not c("iot").list_policies()["policies"],
    ),
    Case(
        "dax-cluster",
        "dax",
        "cluster",
        create_dax,
        gone=lambda c, r: all(
            x["Status"] in ("deleting", "deleted") for x in c("dax").describe_clusters()["Clusters"]
        ),
        tags=lambda c, r: c("dax").list_tags(
            ResourceName=f"arn:aws:dax:{REGION}:{ACCOUNT}:cache/{r.id}"
        )["Tags"],
    ),
    Case(
        "ec2-vpc",
        "ec2",
        "vpc",
        make_vpc,
        gone=_ec2_gone("describe_vpcs", "Vpcs", "VpcId"),
        tags=_ec2_tags,
    ),
    Case(
        "ec2-subnet",
        "ec2",
        "subnet",
        make_vpc,
        gone=_ec2_gone("describe_subnets", "Subnets", "SubnetId"),
        tags=_ec2_tags,
    ),
    Case(
        "ec2-security-group",
        "ec2",
        "security-group",
        create_security_group,
        gone=_ec2_gone("describe_security_groups", "SecurityGroups", "GroupId"),
        tags=_ec2_tags,
    ),
    Case(
        "ec2-internet-gateway",
        "ec2",
        "internet-gateway",
        create_internet_gateway,
        gone=_ec2_gone("describe_internet_gateways", "InternetGateways", "InternetGatewayId"),
        tags=_ec2_tags,
    ),
    Case(
        "ec2-route-table",
        "ec2",
        "route-table",
        create_route_table,
        gone=_ec2_gone("describe_route_tables", "RouteTables", "RouteTableId"),
        tags=_ec2_tags,
    ),
    Case(
        "ec2-route-table-with-routes",
        "ec2",
        "route-table",
        create_routes,
        gone=_ec2_gone("describe_route_tables", "RouteTables", "RouteTableId"),
        tags=_ec2_tags,
    ),
    Case(
        "ec2-nat-gateway",
        "ec2",
        "nat-gateway",
        create_nat_gateway,
        gone=_nat_gone,
        tags=_ec2_tags,
    ),
    Case(
        "ec2-elastic-ip-of-nat-gateway",
        "ec2",
        "elastic-ip",
        create_nat_gateway,
        gone=_ec2_gone("describe_addresses", "Addresses", "AllocationId"),
        tags=_ec2_tags,
    ),
    Case(
        "ec2-elastic-ip-on-interface",
        "ec2",
        "elastic-ip",
        create_address_on_interface,
        gone=_ec2_gone("describe_addresses", "Addresses", "AllocationId"),
        tags=_ec2_tags,
    ),
    Case(
        "ec2-vpc-endpoint-gateway",
        "ec2",
        "vpc-endpoint",
        create_gateway_endpoint,
        gone=_endpoint_gone,
        tags=_ec2_tags,
    ),
    Case(
        "ec2-vpc-endpoint-interface",
        "ec2",
        "vpc-endpoint",
        create_interface_endpoint,
        gone=_endpoint_gone,
        tags=_ec2_tags,
    ),
    Case(
        "ec2-network-interface",
        "ec2",
        "network-interface",
        create_network_interface,
        gone=_ec2_gone("describe_network_interfaces", "NetworkInterfaces", "NetworkInterfaceId"),
        tags=_ec2_tags,
    ),
    Case(
        "ec2-launch-template",
        "ec2",
        "launch-template",
        create_launch_template,
        gone=_ec2_gone("describe_launch_templates", "LaunchTemplates", "LaunchTemplateId"),
        tags=_ec2_tags,
    ),
    Case(
        "ec2-instance",
        "ec2",
        "instance",
        create_instance,
        gone=lambda c, r: all(
            i["State"]["Name"] == "terminated"
            for res in c("ec2").describe_instances()["Reservations"]
            for i in res["Instances"]
        ),
        tags=_ec2_tags,
    ),
    Case(
        "autoscaling-group",
        "autoscaling",
        "auto-scaling-group",
        create_asg,
        gone=lambda c, r: not c("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"],
        tags=lambda c, r: c("autoscaling").describe_tags(
            Filters=[{"Name": "auto-scaling-group", "Values": [r.id]}]
        )["Tags"],
    ),
    Case(
        "elbv2-load-balancer",
        "elbv2",
        "load-balancer",
        create_load_balancer,
        gone=lambda c, r: not c("elbv2").describe_load_balancers()["LoadBalancers"],
        tags=lambda c, r: c("elbv2").describe_tags(ResourceArns=[r.id])["TagDescriptions"][0][
            "Tags"
        ],
    ),
    Case(
        "elbv2-target-group",
        "elbv2",
        "target-group",
        create_load_balancer,
        gone=lambda c, r: not c("elbv2").describe_target_groups()["TargetGroups"],
        tags=lambda c, r: c("elbv2").describe_tags(ResourceArns=[r.id])["TagDescriptions"][0][
            "Tags"
        ],
    ),
    Case(
        "efs-file-system",
        "efs",
        "file-system",
        create_mount_target,
        gone=lambda c, r: not c("efs").describe_file_systems()["FileSystems"],
        tags=lambda c, r: c("efs").list_tags_for_resource(ResourceId=r.id)["Tags"],
    ),
    Case(
        "efs-mount-target",
        "efs",
        "mount-target",
        create_mount_target,
        gone=lambda c, r: _raises(
            lambda: c("efs").describe_mount_targets(MountTargetId=r.id), "MountTargetNotFound"
        ),
    ),
    Case(
        "efs-access-point",
        "efs",
        "access-point",
        create_access_point,
        gone=lambda c, r: _raises(
            lambda: c("efs").describe_access_points(AccessPointId=r.id), "AccessPointNotFound"
        ),
        tags=lambda c, r: c("efs").describe_access_points(AccessPointId=r.id)["AccessPoints"][0][
            "Tags"
        ],
    ),
    Case(
        "rds-db-cluster",
        "rds",
        "db-cluster",
        create_db_cluster,
        gone=lambda c, r: not c("rds").describe_db_clusters()["DBClusters"],
        tags=_rds_tags("cluster"),
    ),
    Case(
        "rds-db-instance-in-cluster",
        "rds",
        "db-instance",
        create_db_cluster,
        gone=lambda c, r: not c("rds").describe_db_instances()["DBInstances"],
        tags=_rds_tags("db"),
    ),
    Case(
        "rds-db-instance",
        "rds",
        "db-instance",
        create_db_instance,
        gone=lambda c, r: not c("rds").describe_db_instances()["DBInstances"],
        tags=_rds_tags("db"),
    ),
    Case(
        "rds-global-cluster",
        "rds",
        "global-cluster",
        create_db_cluster,
        gone=lambda c, r: not c("rds").describe_global_clusters()["GlobalClusters"],
    ),
    Case(
        "rds-db-subnet-group",
        "rds",
        "db-subnet-group",
        create_db_cluster,
        gone=lambda c, r: not c("rds").describe_db_subnet_groups()["DBSubnetGroups"],
        tags=_rds_tags("subgrp"),
    ),
    Case(
        "elasticache-cache-cluster",
        "elasticache",
        "cache-cluster",
        create_cache_cluster,
        gone=lambda c, r: all(
            x["CacheClusterStatus"] == "deleting"
            for x in c("elasticache").describe_cache_clusters()["CacheClusters"]
        ),
        tags=lambda c, r: c("elasticache").list_tags_for_resource(
            ResourceName=f"arn:aws:elasticache:{REGION}:{ACCOUNT}:cluster:{r.id}"
        )["TagList"],
    ),
    Case(
        "elasticache-replication-group",
        "elasticache",
        "replication-group",
        create_replication_group,
        gone=lambda c, r: all(
            x["Status"] == "deleting"
            for x in c("elasticache").describe_replication_groups()["ReplicationGroups"]
        ),
        tags=lambda c, r: c("elasticache").list_tags_for_resource(
            ResourceName=f"arn:aws:elasticache:{REGION}:{ACCOUNT}:replicationgroup:{r.id}"
        )["TagList"],
    ),
    Case(
        "route53-hosted-zone",
        "route53",
        "hosted-zone",
        create_hosted_zone,
        gone=lambda c, r: not c("route53").list_hosted_zones()["HostedZones"],
        tags=lambda c, r: c("route53").list_tags_for_resource(
            ResourceType="hostedzone", ResourceId=r.id
        )["ResourceTagSet"]["Tags"],
    ),
    Case(
        "events-rule",
        "events",
        "rule",
        create_rule,
        gone=lambda c, r: not c("events").list_rules()["Rules"],
        tags=lambda c, r: c("events").list_tags_for_resource(
            ResourceARN=f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{r.id}"
        )["Tags"],
    ),
    Case(
        "events-rule-custom-bus",
        "events",
        "rule",
        create_rule_on_bus,
        gone=lambda c, r: not c("events").list_rules(EventBusName=r.parent)["Rules"],
        tags=lambda c, r: c("events").list_tags_for_resource(
            ResourceARN=f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{r.parent}/{r.id}"
        )["Tags"],
    ),
    Case(
        "ecs-cluster",
        "ecs",
        "cluster",
        create_ecs,
        gone=lambda c, r: all(
            x["status"] == "INACTIVE"
            for x in c("ecs").describe_clusters(clusters=[r.id])["clusters"]
        ),
        tags=lambda c, r: c("ecs").list_tags_for_resource(resourceArn=r.id)["tags"],
        shape="ecs",
    ),
    Case(
        "ecs-service",
        "ecs",
        "service",
        create_ecs,
        gone=lambda c, r: all(
            x["status"] == "INACTIVE"
            for x in c("ecs").describe_services(cluster=r.parent, services=[r.id])["services"]
        ),
        tags=lambda c, r: c("ecs").list_tags_for_resource(resourceArn=r.id)["tags"],
        shape="ecs",
    ),
    Case(
        "ecs-task-definition",
        "ecs",
        "task-definition",
        create_ecs,
        gone=lambda c, r: (
            r.id not in c("ecs").list_task_definitions(status="ACTIVE")["taskDefinitionArns"]
        ),
        tags=lambda c, r: c("ecs").list_tags_for_resource(resourceArn=r.id)["tags"],
        shape="ecs",
    ),
]


def assert_lab_tags(raw: Any, shape: str) -> None:
    """The lab's tags are present, in the shape the service returns them."""
    if shape == "map":
        assert isinstance(raw, dict)
        for key, value in LAB_TAGS.items():
            assert raw.get(key) == value
        return
    key_name, value_name = ("key", "value") if shape == "ecs" else ("Key", "Value")
    assert isinstance(raw, list)
    pairs = {(t[key_name], t[value_name]) for t in raw}
    assert set(LAB_TAGS.items()) <= pairs


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_kind_is_tagged_recorded_deleted_and_verified(
    case: Case, tracker: Tracker, lab: Factory, plain: Factory
) -> None:
    # GIVEN a resource created through an attached client, as a notebook creates it
    case.create(lab)
    mine = [r for r in tracker.resources if (r.service, r.kind) == (case.service, case.kind)]
    assert mine, f"{case.service} {case.kind} was not recorded: {tracker.resources}"
    target = mine[-1]
    assert not case.gone(plain, target)
    # THEN the lab's tags landed, as the service itself reports them
    if case.tags is not None:
        assert_lab_tags(case.tags(plain, target), case.shape)

    # WHEN the lab tears down everything it recorded
    report = teardown(tracker.resources, plain)

    # THEN the service says it is gone, and the report agrees
    assert case.gone(plain, target)
    assert target in report.deleted
    assert report.left == [], str(report)
    assert report.errors == [], str(report)
    assert report.clean
