"""Ingestion: IoT telemetry through Kinesis and Firehose into S3, then daily Athena reports."""

from diagrams import Cluster, Edge
from diagrams.aws.analytics import (
    Athena,
    GlueDataCatalog,
    KinesisDataFirehose,
    KinesisDataStreams,
    Quicksight,
    Redshift,
)
from diagrams.aws.compute import Lambda
from diagrams.aws.integration import SimpleQueueServiceSqsQueue
from diagrams.aws.iot import IotRule, IotSensor
from diagrams.aws.storage import SimpleStorageServiceS3Bucket

from helpers.show import architecture

TITLE = "Big-data ingestion: IoT telemetry to S3, daily reports with Athena"


def draw(filename: str, outformat: str = "png") -> None:
    """Render the diagram to `filename`.<outformat>."""
    graph = {"nodesep": "0.3", "splines": "spline", "compound": "true", "newrank": "true"}
    with architecture(TITLE, filename, outformat, **graph):
        devices = IotSensor("IoT devices\n(sensors)")

        with Cluster("AWS IoT Core"):
            rule = IotRule("topic rule\nWHERE kind =\n'reading'")

        stream = KinesisDataStreams("Kinesis\nData Streams")

        with Cluster("Amazon Data Firehose"):
            raw = KinesisDataFirehose("raw JSON\nraw/json/")
            gzip = KinesisDataFirehose("GZIP JSON\nraw/json-gzip/")
            parquet = KinesisDataFirehose("Parquet\ntelemetry/dt=/\n(by event day)")
        transform = Lambda("transform\nOk / Dropped /\nProcessingFailed")

        bucket = SimpleStorageServiceS3Bucket("ingestion\nbucket\nfailed → errors/")
        catalog = GlueDataCatalog("Glue Data Catalog")

        # One column, top to bottom: in a left-to-right graph, an edge inside a rank points up,
        # so the column is wired bottom-up with `<<`.
        with Cluster("reporting", graph_attr={"rank": "same"}):
            queue = SimpleQueueServiceSqsQueue("SQS queue\n(S3 events)")
            report = Lambda("report")
            athena = Athena("Athena")
            reports = SimpleStorageServiceS3Bucket("reporting bucket\n(daily CSV)")
        dashboard = Quicksight("dashboard\n(matplotlib)")
        warehouse = Redshift("warehouse\n(DuckDB offline /\nRedshift COPY)")

        devices >> Edge(label="MQTT\n<lab>/{device}/telemetry") >> rule
        rule >> Edge(label="Kinesis action\nkey = device") >> stream
        stream >> [raw, gzip, parquet]
        firehose = {"style": "dashed", "ltail": "cluster_Amazon Data Firehose"}
        parquet >> Edge(label="each stream\ninvokes", **firehose) >> transform
        [raw, gzip, parquet] >> bucket
        parquet << Edge(style="dashed", label="schema") << catalog
        bucket >> queue
        raw >> Edge(style="invis", weight="4") >> queue  # lifts the column level with the top row
        reports << athena << report << queue
        catalog >> Edge(style="dashed", label="tables") >> athena
        athena >> Edge(style="invis") >> dashboard  # the two outputs sit beside the last two steps
        reports >> dashboard
        reports >> warehouse
