"""Paid content: Cognito sign-in, a premium-user API, and CloudFront signed URLs over a private bucket."""

from diagrams import Cluster, Edge
from diagrams.aws.compute import Lambda
from diagrams.aws.database import DynamodbTable
from diagrams.aws.network import APIGateway, CloudFront
from diagrams.aws.security import (
    Cognito,
    IdentityAndAccessManagementIamDataEncryptionKey,
    SecretsManager,
)
from diagrams.aws.storage import SimpleStorageServiceS3Bucket
from diagrams.onprem.client import Users

from helpers.show import architecture

TITLE = "Paid content: videos for premium users only"


def draw(filename: str, outformat: str = "png") -> None:
    """Render the diagram to `filename`.<outformat>."""
    with architecture(TITLE, filename, outformat, nodesep="0.6", splines="spline"):
        viewers = Users("viewers\n(browser)")

        with Cluster("Cognito user pool"):
            pool = Cognito("sign-up / sign-in\n(ID token)")

        with Cluster("CloudFront distribution"):
            key_group = IdentityAndAccessManagementIamDataEncryptionKey(
                "trusted key group\n(public key)"
            )
            edge = CloudFront("CloudFront\n(checks signatures)")

        with Cluster("private video bucket"):
            videos = SimpleStorageServiceS3Bucket("videos bucket\npublic/  videos/")

        with Cluster("REST API (Cognito authorizer)"):
            api = APIGateway("API Gateway")
            premium_fn = Lambda("premium users")
            signer = Lambda("signer")

        premium = DynamodbTable("premium-users\n(DynamoDB)")
        secret = SecretsManager("Secrets Manager\n(private key)")

        viewers >> Edge(label="sign in") >> pool
        viewers >> Edge(label="https://<id>.cloudfront.net") >> edge
        key_group >> Edge(style="dashed", label="trusted by /videos/*") >> edge
        edge >> Edge(label="/public/*  open\n/videos/*  signed only\n(OAC, SigV4)") >> videos
        edge >> Edge(label="/api/*") >> api
        pool >> Edge(style="dashed", label="authorizer checks the ID token") >> api
        api >> Edge(label="/users, /me") >> premium_fn >> premium
        api >> Edge(label="/videos/{id}/url → signed URL\n/session → signed cookies") >> signer
        signer >> Edge(label="premium?") >> premium
        signer >> Edge(label="private key") >> secret
