"""The first flow of the course: an upload to S3 invokes a Lambda function that writes a result."""

from diagrams import Cluster, Edge
from diagrams.aws.compute import Lambda
from diagrams.aws.management import CloudwatchLogs
from diagrams.aws.storage import SimpleStorageServiceS3Bucket
from diagrams.onprem.client import User

from helpers.show import architecture

TITLE = "Start here: upload → S3 event → Lambda → result"


def draw(filename: str, outformat: str = "png") -> None:
    """Render the diagram to `filename`.<outformat>."""
    with architecture(TITLE, filename, outformat):
        learner = User("notebook\n(boto3)")
        with Cluster("lab bucket"):
            uploads = SimpleStorageServiceS3Bucket("uploads/*.txt")
            results = SimpleStorageServiceS3Bucket("results/*.json")
        shout = Lambda("shout\n(python3.12)")
        logs = CloudwatchLogs("/aws/lambda/shout")
        learner >> Edge(label="put_object") >> uploads
        uploads >> Edge(label="s3:ObjectCreated:*\n(async invoke)") >> shout
        shout >> Edge(label="put_object") >> results
        shout >> Edge(style="dashed", label="START / END / REPORT") >> logs
