"""What the micro-services chapter's tests share besides fixtures: paths, the chapter's modules
loaded in-process, the three services built as the notebook builds them, and an independent
reading of the contracts they follow.

The stacks here are the notebook's (notebooks/02-microservices, built by its cells): the users
REST API with its models, an integration URI naming `function:users:${stageVariables.alias}` and
an invoke permission per alias; the orders function behind an Application Load Balancer whose
listener sends `/orders` and `/orders/*` to a `lambda` target group, answers `/health` itself
and everything else with a JSON 404, with Aurora Serverless v2 (Data API), an ElastiCache
Serverless cache, an SNS topic and a Kinesis stream; the notifications queue (redrive to a DLQ
after 3 receives), the `large-orders` queue with its numeric filter policy, and the notifier fed
by an event source mapping with ReportBatchItemFailures.

The expectations are written from AWS's documents, not from the chapter's code:

- an order's total is the sum of unit_price × quantity, each price rounded to cents, in decimal
  arithmetic (never binary floats), written with two places;
- `Server-Timing` follows the W3C Server Timing grammar: comma-separated metrics, each a token
  name and parameters such as `dur=<milliseconds>`
  (https://www.w3.org/TR/server-timing/#the-server-timing-header-field);
- an SNS notification delivered to SQS is the JSON envelope of "HTTP/HTTPS notification JSON
  format" (https://docs.aws.amazon.com/sns/latest/dg/http-notification-json.html);
- a subscription filter policy's numeric condition (`{"numeric": [">=", 100]}`) compares
  message attributes of type Number, and a policy property the message lacks does not match
  (https://docs.aws.amazon.com/sns/latest/dg/sns-subscription-filter-policies.html,
  https://docs.aws.amazon.com/sns/latest/dg/numeric-value-matching.html).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import helpers
from tests.emulator.chapter_support import load  # noqa: F401 (shared here)
from tests.emulator.sqs_support import queue_arn, queue_depth  # noqa: F401 (shared here)

ROOT = Path(__file__).resolve().parents[2]
CHAPTER = ROOT / "notebooks" / "02-microservices"
FUNCTIONS = CHAPTER / "functions"
PROBES = Path(__file__).resolve().parent / "functions"
TRACE_ID = re.compile(r"^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$")
CENTS = Decimal("0.01")

# ---- the notebook's definitions ------------------------------------------------------------------
# the users API's models (section 1), as JSON Schema draft 4
MODELS: dict[str, dict[str, Any]] = {
    "User": {
        "type": "object",
        "required": ["user_id", "name", "email"],
        "properties": {
            "user_id": {"type": "string"},
            "name": {"type": "string"},
            "email": {"type": "string", "format": "email"},
            "display_name": {"type": "string", "description": "version 2: 'Ada L.'"},
            "links": {"type": "object", "properties": {"orders": {"type": "string"}}},
        },
    },
    "NewUser": {
        "type": "object",
        "required": ["name", "email"],
        "properties": {"name": {"type": "string"}, "email": {"type": "string", "format": "email"}},
    },
    "UserList": {
        "type": "object",
        "required": ["users"],
        "properties": {"users": {"type": "array", "items": {"$ref": "#/definitions/User"}}},
    },
    "Error": {
        "type": "object",
        "required": ["message"],
        "properties": {"message": {"type": "string"}},
    },
}
# the large-orders subscription's filter policy (section 2)
LARGE_ORDERS_POLICY = {"event_type": ["OrderPlaced"], "total": [{"numeric": [">=", 100]}]}
# the orders listener (section 3): default, then rules by priority
NOT_A_SERVICE = '{"message": "no such service"}'
DEFAULT_ACTION = {
    "Type": "fixed-response",
    "FixedResponseConfig": {
        "StatusCode": "404",
        "ContentType": "application/json",
        "MessageBody": NOT_A_SERVICE,
    },
}
HEALTH_ACTION = {
    "Type": "fixed-response",
    "FixedResponseConfig": {"StatusCode": "200", "ContentType": "text/plain", "MessageBody": "ok"},
}
ORDERS_PATHS = ["/orders", "/orders/*"]
ORDERS_TABLE_DDL = """
    CREATE TABLE orders (
        order_id  TEXT PRIMARY KEY,
        user_id   TEXT NOT NULL,
        total     NUMERIC(10, 2) NOT NULL,
        items     JSONB NOT NULL,
        placed_at TIMESTAMP NOT NULL
    )"""
# the reason phrases of RFC 9110, section 15, for the statuses the orders service answers
REASONS = {
    200: "OK",
    201: "Created",
    400: "Bad Request",
    404: "Not Found",
    422: "Unprocessable Content",  # RFC 9110; "Unprocessable Entity" in RFC 4918
    503: "Service Unavailable",
}
SNS_ENVELOPE_KEYS = {
    "Type",
    "MessageId",
    "TopicArn",
    "Message",
    "Timestamp",
    "SignatureVersion",
    "Signature",
    "SigningCertURL",
    "UnsubscribeURL",
}


# ---- the contracts, read independently --------------------------------------------------------
def expected_total(items: list[dict[str, Any]]) -> str:
    """The order's total: each unit price to the cent (half to even, Decimal's default), times
    its quantity, summed in decimal arithmetic; two places."""
    total = Decimal(0)
    for item in items:
        price = Decimal(str(item["unit_price"])).quantize(CENTS, rounding=ROUND_HALF_EVEN)
        total += price * int(item["quantity"])
    return f"{total.quantize(CENTS):f}"


# W3C Server Timing: server-timing-metric = metric-name *( OWS ";" OWS server-timing-param );
# metric-name = token; server-timing-param = name OWS "=" OWS value (token or quoted-string)
_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_VALUE = rf'(?:{_TOKEN}|"(?:[^"\\]|\\.)*")'
_METRIC = re.compile(rf"^({_TOKEN})((?:[ \t]*;[ \t]*{_TOKEN}[ \t]*=[ \t]*{_VALUE})*)$")
_PARAM = re.compile(rf"[ \t]*;[ \t]*({_TOKEN})[ \t]*=[ \t]*({_VALUE})")


def server_timing(header: str) -> dict[str, float]:
    """metric name → dur (ms) of a Server-Timing header; AssertionError if the syntax is wrong
    or a dur is not a non-negative number."""
    metrics: dict[str, float] = {}
    for part in (p.strip() for p in header.split(",")):
        if not part:
            continue
        found = _METRIC.match(part)
        assert found, f"not a server-timing-metric: {part!r} in {header!r}"
        params = dict(_PARAM.findall(found.group(2)))
        assert "dur" in params, f"{part!r} has no dur"
        assert re.fullmatch(r"\d+(\.\d+)?", params["dur"]), f"dur is not a number in {part!r}"
        metrics[found.group(1)] = float(params["dur"])
    return metrics


def is_sns_timestamp(text: str) -> bool:
    """SNS's Timestamp: ISO 8601 UTC with milliseconds, `2012-04-25T21:49:25.719Z`."""
    return re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", text) is not None


def order_attributes(total: str | None, event_type: str = "OrderPlaced") -> dict[str, Any]:
    """The message attributes an OrderPlaced is published with: event_type, and total as a
    Number (absent when None)."""
    attributes = {"event_type": {"DataType": "String", "StringValue": event_type}}
    if total is not None:
        attributes["total"] = {"DataType": "Number", "StringValue": total}
    return attributes


def sns_envelope(message: dict[str, Any] | str, topic_arn: str, message_id: str) -> str:
    """An SQS body holding an SNS notification, as a subscription without raw delivery sends."""
    return json.dumps(
        {
            "Type": "Notification",
            "MessageId": message_id,
            "TopicArn": topic_arn,
            "Message": message if isinstance(message, str) else json.dumps(message),
            "Timestamp": "2026-11-03T12:00:00.000Z",
            "SignatureVersion": "1",
            "Signature": "EXAMPLE",
            "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService.pem",
            "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
        }
    )


def sqs_record(body: str, message_id: str = "m0", *, receive_count: int = 1) -> dict[str, Any]:
    """One record of the event Lambda's SQS poller passes."""
    return {
        "messageId": message_id,
        "receiptHandle": f"AQEB-receipt-{message_id}",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": str(receive_count),
            "SentTimestamp": "1793664000000",
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": "1793664000250",
        },
        "messageAttributes": {},
        "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:notifications",
        "awsRegion": "us-east-1",
    }


def order_placed(order_id: str, total: str = "42.00", **extra: Any) -> dict[str, Any]:
    return {
        "type": "OrderPlaced",
        "order_id": order_id,
        "user_id": "u-1",
        "email": "ada@example.com",
        "total": total,
        "placed_at": "2026-11-03T12:00:00.000Z",
        **extra,
    }


# ---- SQS, Kinesis, DynamoDB ---------------------------------------------------------------------
def drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    """Receive and delete every visible message of a queue."""
    out = []
    while True:
        got = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        if not got.get("Messages"):
            return out
        out.extend(got["Messages"])
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                for i, m in enumerate(got["Messages"])
            ],
        )


def notifications(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events inside SQS messages holding SNS notifications."""
    return [json.loads(json.loads(m["Body"])["Message"]) for m in messages]


def stream_events(lab: helpers.Lab, stream: str) -> list[dict[str, Any]]:
    """Every record of a stream from its start, as a consumer reads it: partition key and data.
    A shard serves 5 GetRecords calls a second: the lab clock moves a second first, as a
    consumer's poll interval would."""
    kinesis = lab.client("kinesis")
    lab.clock.advance(1)
    out = []
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
            out += [
                {"partition_key": r["PartitionKey"], **json.loads(r["Data"])}
                for r in page["Records"]
            ]
            if not page["Records"] or page.get("MillisBehindLatest", 0) == 0:
                break
            iterator = page.get("NextShardIterator")
    return out


def scan_all(ddb: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table}
    while True:
        page = ddb.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def key_table(ddb: Any, name: str, key: str) -> str:
    ddb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
        KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.get_waiter("table_exists").wait(TableName=name)
    return name


# ---- the users service -------------------------------------------------------------------------
@dataclass
class Users:
    """The users service as section 1 makes it: table, function (version 1 behind alias `live`),
    REST API with models, stage `prod` naming `live` through the stage variable `alias`."""

    lab: helpers.Lab
    table: str
    function: str
    api: str
    versions: dict[str, str] = field(default_factory=dict)  # alias -> version

    @property
    def base(self) -> str:
        return f"https://{self.api}.execute-api.{self.lab.region}.amazonaws.com"

    def url(self, stage: str = "prod") -> str:
        return f"{self.base}/{stage}"

    def allow(self, alias: str, statement: str | None = None) -> None:
        """The notebook's allow_api: API Gateway may invoke this alias from any method."""
        self.lab.client("lambda").add_permission(
            FunctionName=self.function,
            Qualifier=alias,
            StatementId=statement or f"users-api-{alias}",
            Action="lambda:InvokeFunction",
            Principal="apigateway.amazonaws.com",
            SourceArn=f"arn:aws:execute-api:{self.lab.region}:{self.lab.account_id}:{self.api}/*/*/*",
        )

    def release(self, alias: str, version: str, *, allow: bool = True) -> None:
        """Alias `alias` → `version`, with the API's permission on it (unless allow=False)."""
        self.lab.client("lambda").create_alias(
            FunctionName=self.function, Name=alias, FunctionVersion=version
        )
        self.versions[alias] = version
        if allow:
            self.allow(alias)

    def stage(self, name: str, alias: str, **kwargs: Any) -> str:
        """A deployment to stage `name` whose variable `alias` is `alias`; its id."""
        return self.lab.client("apigateway").create_deployment(
            restApiId=self.api, stageName=name, variables={"alias": alias}, **kwargs
        )["id"]

    def publish(self, api_version: str, description: str) -> str:
        """Set API_VERSION (and ORDERS_URL) on $LATEST and publish it: the version number."""
        lambda_ = self.lab.client("lambda")
        config = lambda_.get_function_configuration(FunctionName=self.function)
        variables = {
            **config["Environment"]["Variables"],
            "API_VERSION": api_version,
            "ORDERS_URL": "https://orders.example.com",
        }
        if variables != config["Environment"]["Variables"]:
            lambda_.update_function_configuration(
                FunctionName=self.function, Environment={"Variables": variables}
            )
            lambda_.get_waiter("function_updated_v2").wait(FunctionName=self.function)
        return lambda_.publish_version(FunctionName=self.function, Description=description)[
            "Version"
        ]


def build_users(lab: helpers.Lab, deploy_app: Callable[..., str]) -> Users:
    """Section 1 of the notebook: the users service with stage prod → alias live → version 1."""
    lambda_, apigw = lab.client("lambda"), lab.client("apigateway")
    table = key_table(lab.client("dynamodb"), lab.name("users"), "user_id")
    function = deploy_app("users", env={"USERS_TABLE": table, "API_VERSION": "1"}, MemorySize=256)
    api = apigw.create_rest_api(
        name=lab.name("users-api"),
        description="The users service: who can place orders.",
        endpointConfiguration={"types": ["REGIONAL"]},
    )["id"]
    users = Users(lab, table, function, api)
    root = apigw.get_resources(restApiId=api)["items"][0]["id"]
    model_ref = f"https://apigateway.amazonaws.com/restapis/{api}/models"
    for model, schema in MODELS.items():
        schema = json.loads(json.dumps(schema).replace("#/definitions", model_ref))
        apigw.create_model(
            restApiId=api,
            name=model,
            contentType="application/json",
            schema=json.dumps(
                {"$schema": "http://json-schema.org/draft-04/schema#", "title": model, **schema}
            ),
        )
    collection = apigw.create_resource(restApiId=api, parentId=root, pathPart="users")["id"]
    item = apigw.create_resource(restApiId=api, parentId=collection, pathPart="{user_id}")["id"]
    uri = (
        f"arn:aws:apigateway:{lab.region}:lambda:path/2015-03-31/functions/"
        f"arn:aws:lambda:{lab.region}:{lab.account_id}:function:{function}:"
        "${stageVariables.alias}/invocations"
    )

    def method(resource, verb, operation, responses, request_model=None, path_parameter=None):
        apigw.put_method(
            restApiId=api,
            resourceId=resource,
            httpMethod=verb,
            authorizationType="NONE",
            operationName=operation,
            requestModels={"application/json": request_model} if request_model else {},
            requestParameters=(
                {f"method.request.path.{path_parameter}": True} if path_parameter else {}
            ),
        )
        for status, model in responses.items():
            apigw.put_method_response(
                restApiId=api,
                resourceId=resource,
                httpMethod=verb,
                statusCode=status,
                responseModels={"application/json": model},
            )
        apigw.put_integration(
            restApiId=api,
            resourceId=resource,
            httpMethod=verb,
            type="AWS_PROXY",
            integrationHttpMethod="POST",
            uri=uri,
        )

    method(collection, "GET", "listUsers", {"200": "UserList"})
    method(collection, "POST", "registerUser", {"201": "User", "400": "Error"}, "NewUser")
    method(item, "GET", "getUser", {"200": "User", "404": "Error"}, path_parameter="user_id")
    v1 = lambda_.publish_version(FunctionName=function, Description="users API v1")["Version"]
    users.release("live", v1)
    users.stage("prod", "live", description="users v1")
    return users


def register(users: Users, name: str, email: str, stage: str = "prod") -> str:
    """Register a user through the API; the user_id."""
    import requests

    resp = requests.post(f"{users.url(stage)}/users", json={"name": name, "email": email})
    assert resp.status_code == 201, (resp.text, users.lab.emulator.notes[-3:])
    return resp.json()["user_id"]


# ---- the network and the load balancer ----------------------------------------------------------
@dataclass
class Network:
    vpc: str
    public: list[str]
    private: list[str]
    alb_sg: str
    fn_sg: str
    cache_sg: str
    db_sg: str


def build_network(lab: helpers.Lab) -> Network:
    """Section 3's VPC: two zones, public and private subnets, the four security groups."""
    ec2 = lab.client("ec2")
    zones = [
        z["ZoneName"]
        for z in ec2.describe_availability_zones(
            Filters=[{"Name": "zone-type", "Values": ["availability-zone"]}]
        )["AvailabilityZones"]
    ][:2]
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]

    def subnet(cidr: str, zone: str) -> str:
        return ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=zone)["Subnet"][
            "SubnetId"
        ]

    public = [subnet(f"10.20.{i}.0/24", zone) for i, zone in enumerate(zones)]
    private = [subnet(f"10.20.{10 + i}.0/24", zone) for i, zone in enumerate(zones)]

    def group(base: str) -> str:
        return ec2.create_security_group(GroupName=lab.name(base), Description=base, VpcId=vpc)[
            "GroupId"
        ]

    alb_sg, fn_sg, cache_sg, db_sg = (
        group(b) for b in ("orders-alb", "orders-fn", "orders-cache", "orders-db")
    )
    ec2.authorize_security_group_ingress(
        GroupId=alb_sg,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 80,
                "ToPort": 80,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
            }
        ],
    )
    return Network(vpc, public, private, alb_sg, fn_sg, cache_sg, db_sg)


@dataclass
class LoadBalancer:
    arn: str
    dns: str
    listener: str
    target_group: str

    @property
    def url(self) -> str:
        return f"http://{self.dns}"


def build_load_balancer(
    lab: helpers.Lab, network: Network, function: str, base: str = "orders"
) -> LoadBalancer:
    """Section 3's load balancer: a `lambda` target group holding `function`, the listener on
    port 80 with the default JSON 404, /orders and /orders/* (priority 10) forwarded, /health
    (priority 20) answered 200 by the load balancer."""
    elbv2, lambda_ = lab.client("elbv2"), lab.client("lambda")
    alb = elbv2.create_load_balancer(
        Name=lab.name(base),
        Subnets=network.public,
        SecurityGroups=[network.alb_sg],
        Scheme="internet-facing",
        Type="application",
    )["LoadBalancers"][0]
    tg = elbv2.create_target_group(Name=lab.name(f"{base}-fn"), TargetType="lambda")[
        "TargetGroups"
    ][0]["TargetGroupArn"]
    function_arn = lambda_.get_function(FunctionName=function)["Configuration"]["FunctionArn"]
    lambda_.add_permission(
        FunctionName=function,
        StatementId="alb-invoke",
        Action="lambda:InvokeFunction",
        Principal="elasticloadbalancing.amazonaws.com",
        SourceArn=tg,
    )
    elbv2.register_targets(TargetGroupArn=tg, Targets=[{"Id": function_arn}])
    listener = elbv2.create_listener(
        LoadBalancerArn=alb["LoadBalancerArn"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[DEFAULT_ACTION],
    )["Listeners"][0]["ListenerArn"]
    elbv2.create_rule(
        ListenerArn=listener,
        Priority=10,
        Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ORDERS_PATHS}}],
        Actions=[{"Type": "forward", "TargetGroupArn": tg}],
    )
    elbv2.create_rule(
        ListenerArn=listener,
        Priority=20,
        Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/health"]}}],
        Actions=[HEALTH_ACTION],
    )
    elbv2.get_waiter("load_balancer_available").wait(LoadBalancerArns=[alb["LoadBalancerArn"]])
    return LoadBalancer(alb["LoadBalancerArn"], alb["DNSName"], listener, tg)


# ---- the notifications service ------------------------------------------------------------------
@dataclass
class Notifications:
    """Section 2: topic, stream, queues, subscriptions; with a consumer, the notifier."""

    topic: str
    stream: str
    queue: str
    dlq: str
    large: str
    deliveries: str | None = None
    notifier: str | None = None
    mapping: str | None = None


def build_notifications(
    lab: helpers.Lab, deploy_app: Callable[..., str] | None = None
) -> Notifications:
    """The topic, the Kinesis stream, notifications (DLQ after 3 receives) and large-orders
    (the numeric filter policy) subscribed to it; with `deploy_app`, the deliveries table and the
    notifier behind an event source mapping (batches of 10, ReportBatchItemFailures)."""
    sns, sqs, kinesis = lab.client("sns"), lab.client("sqs"), lab.client("kinesis")
    topic = sns.create_topic(Name=lab.name("order-events"))["TopicArn"]
    stream = lab.name("order-analytics")
    kinesis.create_stream(StreamName=stream, ShardCount=1)

    def queue(base: str, dlq: str | None = None) -> str:
        attributes = {"VisibilityTimeout": "30", "MessageRetentionPeriod": str(4 * 86400)}
        if dlq:
            attributes["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": queue_arn(sqs, dlq), "maxReceiveCount": "3"}
            )
        url = sqs.create_queue(QueueName=lab.name(base), Attributes=attributes)["QueueUrl"]
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "sns.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn(sqs, url),
                    "Condition": {"ArnEquals": {"aws:SourceArn": topic}},
                }
            ],
        }
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
        return url

    dlq = queue("notifications-dlq")
    main = queue("notifications", dlq)
    large = queue("large-orders")
    kinesis.get_waiter("stream_exists").wait(StreamName=stream)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn(sqs, main))
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn(sqs, large),
        Attributes={"FilterPolicy": json.dumps(LARGE_ORDERS_POLICY)},
    )
    found = Notifications(topic, stream, main, dlq, large)
    if deploy_app is not None:
        found.deliveries = key_table(lab.client("dynamodb"), lab.name("deliveries"), "order_id")
        found.notifier = deploy_app("notifier", env={"DELIVERIES_TABLE": found.deliveries})
        found.mapping = lab.client("lambda").create_event_source_mapping(
            FunctionName=found.notifier,
            EventSourceArn=queue_arn(sqs, main),
            BatchSize=10,
            MaximumBatchingWindowInSeconds=1,
            FunctionResponseTypes=["ReportBatchItemFailures"],
        )["UUID"]
    return found


def tap(lab: helpers.Lab, topic: str, base: str = "tap") -> str:
    """A queue subscribed to the topic without a filter: it sees everything published."""
    sqs, sns = lab.client("sqs"), lab.client("sns")
    url = sqs.create_queue(QueueName=lab.name(base))["QueueUrl"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn(sqs, url))
    return url


# ---- the orders service ------------------------------------------------------------------------
def data_api(
    lab: helpers.Lab, cluster_arn: str, secret_arn: str, statement: str, **values: str
) -> list[dict[str, Any]]:
    """Rows of a statement run on the `orders` database through the Data API."""
    parameters = [{"name": k, "value": {"stringValue": v}} for k, v in values.items()]
    resp = lab.client("rds-data").execute_statement(
        resourceArn=cluster_arn,
        secretArn=secret_arn,
        database="orders",
        sql=statement,
        parameters=parameters,
        formatRecordsAs="JSON",
    )
    return json.loads(resp.get("formattedRecords") or "[]")


@dataclass
class Orders:
    """Section 3: the orders function in the VPC behind its load balancer, and what it uses."""

    function: str
    alb: LoadBalancer
    cluster_arn: str
    secret_arn: str
    cache: str

    @property
    def url(self) -> str:
        return self.alb.url

    def sql(self, lab: helpers.Lab, statement: str, **values: str) -> list[dict[str, Any]]:
        """Rows of a statement run on the orders database."""
        return data_api(lab, self.cluster_arn, self.secret_arn, statement, **values)


def build_orders(
    lab: helpers.Lab,
    deploy_app: Callable[..., str],
    *,
    users_url: str,
    topic: str,
    stream: str,
) -> Orders:
    """Aurora Serverless v2 with the Data API and the orders table, the serverless cache, the
    orders function in the private subnets, and its load balancer."""
    rds, elasticache = lab.client("rds"), lab.client("elasticache")
    network = build_network(lab)
    rds.create_db_subnet_group(
        DBSubnetGroupName=lab.name("orders-db"),
        DBSubnetGroupDescription="orders database, private subnets",
        SubnetIds=network.private,
    )
    cluster = rds.create_db_cluster(
        DBClusterIdentifier=lab.name("orders-db"),
        Engine="aurora-postgresql",
        EngineVersion="16.4",
        DatabaseName="orders",
        MasterUsername="orders_admin",
        ManageMasterUserPassword=True,
        EnableHttpEndpoint=True,
        ServerlessV2ScalingConfiguration={
            "MinCapacity": 0,
            "MaxCapacity": 2,
            "SecondsUntilAutoPause": 3600,
        },
        DBSubnetGroupName=lab.name("orders-db"),
        VpcSecurityGroupIds=[network.db_sg],
        StorageEncrypted=True,
    )["DBCluster"]
    rds.create_db_instance(
        DBInstanceIdentifier=lab.name("orders-db-1"),
        DBClusterIdentifier=cluster["DBClusterIdentifier"],
        Engine="aurora-postgresql",
        DBInstanceClass="db.serverless",
    )
    rds.get_waiter("db_instance_available").wait(DBInstanceIdentifier=lab.name("orders-db-1"))
    cache = lab.name("orders-cache")
    elasticache.create_serverless_cache(
        ServerlessCacheName=cache,
        Engine="valkey",
        SubnetIds=network.private,
        SecurityGroupIds=[network.cache_sg],
    )

    def described() -> dict[str, Any]:
        return elasticache.describe_serverless_caches(ServerlessCacheName=cache)[
            "ServerlessCaches"
        ][0]

    lab.settle(until=lambda: described()["Status"] == "available")
    endpoint = described()["Endpoint"]
    cluster_arn, secret_arn = cluster["DBClusterArn"], cluster["MasterUserSecret"]["SecretArn"]
    data_api(lab, cluster_arn, secret_arn, ORDERS_TABLE_DDL)
    data_api(
        lab, cluster_arn, secret_arn, "CREATE INDEX orders_by_user ON orders (user_id, placed_at)"
    )
    function = deploy_app(
        "orders",
        requirements=("redis>=5",),
        env={
            "USERS_URL": users_url,
            "USERS_TIMEOUT": "2",
            "CLUSTER_ARN": cluster_arn,
            "SECRET_ARN": secret_arn,
            "DATABASE": "orders",
            "TOPIC_ARN": topic,
            "STREAM_NAME": stream,
            "CACHE_HOST": endpoint["Address"],
            "CACHE_PORT": str(endpoint["Port"]),
        },
        VpcConfig={"SubnetIds": network.private, "SecurityGroupIds": [network.fn_sg]},
        MemorySize=512,
    )
    alb = build_load_balancer(lab, network, function)
    return Orders(function, alb, cluster_arn, secret_arn, cache)
