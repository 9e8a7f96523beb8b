"""MyBlog: a static site and a REST API behind one CloudFront domain, with its event flows."""

from diagrams import Cluster, Edge
from diagrams.aws.compute import Lambda
from diagrams.aws.database import DynamodbDax, DynamodbStreams, DynamodbTable
from diagrams.aws.engagement import SimpleEmailServiceSes
from diagrams.aws.integration import SimpleNotificationServiceSnsTopic, SimpleQueueServiceSqsQueue
from diagrams.aws.network import APIGateway, CloudFront
from diagrams.aws.storage import SimpleStorageServiceS3Bucket
from diagrams.onprem.client import Users

from helpers.show import architecture

TITLE = "MyBlog: serverless hosted website"


def draw(filename: str, outformat: str = "png") -> None:
    """Render the diagram to `filename`.<outformat>."""
    with architecture(TITLE, filename, outformat, nodesep="0.6", splines="spline"):
        readers = Users("readers\n(browser)")
        edge = CloudFront("CloudFront\n(cache, OAC)")
        readers >> Edge(label="https://<id>.cloudfront.net") >> edge

        with Cluster("static content"):
            site = SimpleStorageServiceS3Bucket("site bucket\n(private)")

        with Cluster("REST API (stage 'api', stage cache)"):
            api = APIGateway("API Gateway")
            api_fn = Lambda("api")

        with Cluster("data tier"):
            with Cluster("us-east-1"):
                posts = DynamodbTable("posts")
                subscribers = DynamodbTable("subscribers")
                dax = DynamodbDax("DAX\n(item cache)")
            with Cluster("eu-west-1"):
                replica = DynamodbTable("posts replica\n(global table)")

        edge >> Edge(label="/*  (OAC, SigV4)") >> site
        edge >> Edge(label="/api/*") >> api >> Edge(label="Lambda proxy") >> api_fn
        api_fn >> dax >> posts
        api_fn >> subscribers
        posts >> Edge(style="dashed", label="replication") >> replica

        with Cluster("welcome email"):
            stream = DynamodbStreams("subscribers\nstream")
            welcome = Lambda("welcome")
            ses = SimpleEmailServiceSes("SES template")
        subscribers >> stream >> welcome >> ses

        with Cluster("thumbnails"):
            uploads = SimpleStorageServiceS3Bucket("photos bucket\nuploads/")
            topic = SimpleNotificationServiceSnsTopic("SNS topic\nphoto-uploaded")
            queue = SimpleQueueServiceSqsQueue("SQS queue\n(+ dead-letter queue)")
            thumb = Lambda("thumbnail\n(Pillow)")
        readers >> Edge(style="dashed", label="PUT (presigned URL)") >> uploads
        uploads >> Edge(label="s3:ObjectCreated") >> topic >> queue >> thumb
        thumb >> Edge(label="thumbnails/") >> site
