"""Software-update offloading: today's EC2 fleet behind an ALB, then the same fleet behind CloudFront."""

from diagrams import Cluster, Edge
from diagrams.aws.compute import EC2, EC2AutoScaling, Lambda
from diagrams.aws.network import CloudFront, ElbApplicationLoadBalancer
from diagrams.aws.storage import ElasticFileSystemEFSFileSystem, SimpleStorageServiceS3Bucket
from diagrams.onprem.client import Users

from helpers.show import architecture

TITLE = "Software updates: today, and with CloudFront in front (no application change)"


def _origin(label: str) -> tuple[ElbApplicationLoadBalancer, EC2AutoScaling]:
    """The application as it runs today: an ALB, an Auto Scaling group across two AZs, EFS, and
    the function that publishes releases onto EFS."""
    with Cluster(label):
        alb = ElbApplicationLoadBalancer("ALB\n(target group)")
        with Cluster("Auto Scaling group (2 AZs)"):
            asg = EC2AutoScaling("target tracking\n(network out 60 %)")
            with Cluster("AZ a"):
                a = EC2("instances\n(serve /updates/*)")
            with Cluster("AZ b"):
                b = EC2("instances\n(serve /updates/*)")
        efs = ElasticFileSystemEFSFileSystem("EFS\n(update files,\na mount target per AZ)")
        builds = SimpleStorageServiceS3Bucket("releases\n(builds)")
        publisher = Lambda("publisher\n(mounts EFS through\nan access point)")
        alb >> [a, b]
        a >> Edge(label="NFS") >> efs
        b >> efs
        builds >> publisher >> Edge(label="app-<version>.bin,\nlatest.json") >> efs
        asg >> Edge(style="dashed") >> [a, b]
    return alb, asg


def draw(filename: str, outformat: str = "png") -> None:
    """Render the diagram to `filename`.<outformat>."""
    with architecture(TITLE, filename, outformat, nodesep="0.4", ranksep="0.8", splines="spline"):
        # the fix first: Graphviz stacks same-rank clusters bottom-up, so today ends on top
        with Cluster("the fix: CloudFront in front"):
            clients_cdn = Users("clients\n(release day)")
            edge = CloudFront("CloudFront\n(/updates/*: a year;\nlatest.json: a minute)")
            alb_cdn, _ = _origin("the same application (unchanged)")
            clients_cdn >> Edge(label="https://<id>.cloudfront.net") >> edge
            edge >> Edge(label="misses only\n(custom origin)") >> alb_cdn

        with Cluster("today: every download reaches the instances"):
            clients = Users("clients\n(release day)")
            # a column of its own, where CloudFront stands in the fix
            gap = Edge(label="GET /updates/app-2.1.0.bin\n(every byte from EC2)", minlen="2")
            alb, _ = _origin("the application")
            clients >> gap >> alb
