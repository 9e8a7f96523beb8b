"""Micro-services: users (API Gateway + Lambda), orders (ALB + Lambda in a VPC), async notifications."""

from diagrams import Cluster, Edge
from diagrams.aws.analytics import Analytics, KinesisDataStreams
from diagrams.aws.compute import Lambda
from diagrams.aws.database import Aurora, DynamodbTable, ElastiCache
from diagrams.aws.general import SDK
from diagrams.aws.integration import SimpleNotificationServiceSnsTopic, SimpleQueueServiceSqsQueue
from diagrams.aws.network import APIGateway, ElbApplicationLoadBalancer, NATGateway, Route53
from diagrams.onprem.client import Users

from helpers.show import architecture

TITLE = "Micro-services: three services, sync and async"


def draw(filename: str, outformat: str = "png") -> None:
    """Render the diagram to `filename`.<outformat>."""
    graph = {"nodesep": "0.4", "splines": "spline"}
    with architecture(TITLE, filename, outformat, **graph):
        sdk = SDK("generated client\n(OpenAPI)")
        clients = Users("clients")
        dns = Route53("Route 53\nhosted zones")

        with Cluster("users (API Gateway + Lambda)"):
            api = APIGateway("REST API\nstages v1 / v2\nprod + canary")
            users_fn = Lambda("users\n(aliases v1, v2)")
            users_table = DynamodbTable("users table")

        with Cluster("notifications (async)"):
            # One `group` keeps the SNS → SQS → Lambda chain in a straight line.
            topic = SimpleNotificationServiceSnsTopic("SNS topic\nOrderPlaced", group="sns")
            queue = SimpleQueueServiceSqsQueue("SQS queue", group="sns")
            notifier = Lambda("notifier", group="sns")
            dlq = SimpleQueueServiceSqsQueue("dead-letter\nqueue")
            deliveries = DynamodbTable("delivery log")
            large = SimpleQueueServiceSqsQueue("large-orders queue\n(filter: total ≥ 100)")
            stream = KinesisDataStreams("Kinesis\nData Streams\n(order events)")
            consumers = Analytics("analytics\nconsumers")

        # The orders labels go at the bottom (the nested clusters inherit it), clear of the edges
        # that leave the VPC upwards.
        with Cluster("orders (ALB + Lambda in a VPC)", graph_attr={"labelloc": "b"}):
            with Cluster("VPC"):
                with Cluster("public subnets"):
                    alb = ElbApplicationLoadBalancer("ALB (internet-facing)\nlistener rules")
                    nat = NATGateway("NAT gateway\n(egress)")
                with Cluster("private subnets"):
                    orders_fn = Lambda("orders")
                    cache = ElastiCache("ElastiCache Serverless\n(read cache)")
                    aurora = Aurora("Aurora Serverless v2\n(Data API)")

        # The generated client and Route 53 share a column between the clients and the front doors.
        clients >> Edge(style="invis") >> [sdk, dns]
        dns >> Edge(style="dashed") >> api
        dns >> Edge(label="weighted\nnames", style="dashed") >> alb
        sdk >> api
        clients >> api
        clients >> alb

        api >> Edge(label="stage → alias") >> users_fn >> users_table
        alb >> Edge(label="target group") >> orders_fn
        orders_fn >> cache
        orders_fn >> aurora
        # The NAT gateway sits above the orders function in the same column (minlen=0; an edge
        # inside a rank points up), and the sync call leaves through it (written from the API, `<<`).
        orders_fn >> Edge(minlen="0") >> nat
        api << Edge(label="sync:\nGET /users/{id}") << nat

        users_table >> Edge(style="invis") >> stream  # the async service sits beside the users row
        orders_fn >> Edge(minlen="2") >> topic >> queue >> notifier
        queue >> Edge(style="dashed") >> dlq
        notifier >> deliveries
        topic >> Edge(label="filter policy") >> large
        orders_fn >> Edge(minlen="2") >> stream >> consumers
