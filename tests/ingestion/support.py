"""What the ingestion pipeline's tests share besides fixtures: paths, the chapter's modules loaded
in-process, the Glue table, and an independent reading of the contracts the pipeline follows.

The expectations here are written from the documents, not from the chapter's code:

- the Glue table `telemetry` is the notebook's (its columns are the transform's output contract);
- a row's timestamps are Hive's `yyyy-MM-dd HH:mm:ss.SSS` in UTC, computed with integer
  arithmetic from the epoch milliseconds;
- a message's verdict follows the Firehose status model as the transform's docstring and the
  notebook state the rules: a malformed reading is ProcessingFailed, a glitch or an out-of-range
  value is Dropped, the rest is Ok.
https://docs.aws.amazon.com/firehose/latest/dev/data-transformation-status-model.html
"""

from __future__ import annotations

import base64
import json
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import helpers
from tests.emulator.chapter_support import load  # noqa: F401 (shared here)
from tests.emulator.sqs_support import queue_arn, queue_depth  # noqa: F401 (shared here)

ROOT = Path(__file__).resolve().parents[2]
CHAPTER = ROOT / "notebooks" / "05-ingestion-pipeline"
FUNCTIONS = CHAPTER / "functions"

# the Glue table `telemetry` of the notebook, column by column (name, Hive type)
COLUMNS = (
    ("device_id", "string"),
    ("site", "string"),
    ("event_time", "timestamp"),
    ("temperature", "double"),
    ("humidity", "double"),
    ("battery", "double"),
    ("firmware", "string"),
    ("received_at", "timestamp"),
)
# how DuckDB names those types when it reads the Parquet back
DUCKDB_TYPES = {"string": "VARCHAR", "double": "DOUBLE", "timestamp": "TIMESTAMP"}
# the DS18B20 probe's power-on-reset and disconnected values (its datasheet)
GLITCHES = (85.0, -127.0)
RANGES = {"temperature": (-40.0, 60.0), "humidity": (0.0, 100.0), "battery": (0.0, 100.0)}
REQUIRED = ("device_id", "site", "ts", "temperature", "humidity", "battery")
NUMBERS = ("ts", "temperature", "humidity", "battery")
EPOCH = datetime(1970, 1, 1)
# the rule of the chapter, with `{root}` for the lab's topic root
RULE_SQL = (
    "SELECT *, topic(2) AS device_id, timestamp() AS received_at "
    "FROM '{root}/+/telemetry' WHERE kind = 'reading'"
)
REPORT_HEADER = (
    "site",
    "device_id",
    "hour",
    "readings",
    "avg_temperature",
    "min_temperature",
    "max_temperature",
    "avg_humidity",
    "min_battery",
)


# ---- time, as Hive and Athena write it ----------------------------------------------------------
def utc_ms(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, ms: int = 0
) -> int:
    """Epoch milliseconds of a UTC moment."""
    moment = datetime(year, month, day, hour, minute, second, ms * 1000)
    return (moment - EPOCH) // timedelta(milliseconds=1)


def moment(epoch_ms: int) -> datetime:
    """The naive UTC datetime of epoch milliseconds (integer arithmetic, no float rounding)."""
    return EPOCH + timedelta(milliseconds=epoch_ms)


def hive_timestamp(epoch_ms: int) -> str:
    """`yyyy-MM-dd HH:mm:ss.SSS` in UTC: Hive's timestamp text."""
    return moment(epoch_ms).isoformat(sep=" ", timespec="milliseconds")


def utc_day(epoch_ms: int) -> str:
    return moment(epoch_ms).date().isoformat()


def is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


# ---- the transform's contract -------------------------------------------------------------------
def b64(data: bytes | str | dict[str, Any] | list[Any]) -> str:
    if isinstance(data, (dict, list)):
        data = json.dumps(data)
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode()


def firehose_event(datas: list[bytes], *, arrival_ms: int | None = None) -> dict[str, Any]:
    """Firehose's transformation event for records with these payloads (ids "r0", "r1", ...)."""
    arrival = arrival_ms or utc_ms(2026, 11, 3, 12)
    return {
        "invocationId": "00540a87-5050-496a-84e4-e7d92bbaf5e2",
        "deliveryStreamArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/telemetry",
        "sourceKinesisStreamArn": "arn:aws:kinesis:us-east-1:123456789012:stream/telemetry",
        "region": "us-east-1",
        "records": [
            {"recordId": f"r{i}", "approximateArrivalTimestamp": arrival, "data": b64(data)}
            for i, data in enumerate(datas)
        ],
    }


def verdict(raw: bytes) -> str:
    """Ok / Dropped / ProcessingFailed for a record, by the chapter's documented rules."""
    try:
        message = json.loads(raw)
    except ValueError:
        return "ProcessingFailed"
    if not isinstance(message, dict) or any(name not in message for name in REQUIRED):
        return "ProcessingFailed"
    numbers = [*NUMBERS, *(["received_at"] if "received_at" in message else [])]
    for name in numbers:
        value = message[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return "ProcessingFailed"
    for name in ("device_id", "site"):
        if not isinstance(message[name], str) or not message[name]:
            return "ProcessingFailed"
    if message["temperature"] in GLITCHES:
        return "Dropped"
    for name, (low, high) in RANGES.items():
        if not low <= message[name] <= high:
            return "Dropped"
    return "Ok"


def expected_row(message: dict[str, Any]) -> dict[str, Any]:
    """The row the Glue table holds for a valid reading, as JSON would carry it."""
    return {
        "device_id": message["device_id"],
        "site": message["site"],
        "event_time": hive_timestamp(message["ts"]),
        "temperature": float(message["temperature"]),
        "humidity": float(message["humidity"]),
        "battery": float(message["battery"]),
        "firmware": message["firmware"],
        "received_at": hive_timestamp(message.get("received_at", message["ts"])),
    }


def as_parquet_row(row: dict[str, Any]) -> tuple[Any, ...]:
    """A JSON row as DuckDB reads it back from Parquet: timestamps as datetimes."""
    out = []
    for name, kind in COLUMNS:
        value = row[name]
        if kind == "timestamp":
            value = datetime.strptime(value, "%Y-%m-%d %H:%M:%S.%f")
        out.append(value)
    return tuple(out)


def rows_key(row: tuple[Any, ...] | dict[str, Any]) -> str:
    """A sort key for rows, so multisets compare as sorted lists."""
    return json.dumps(row if isinstance(row, dict) else list(row), sort_keys=True, default=str)


# ---- S3 and the Glue Data Catalog ---------------------------------------------------------------
def telemetry_table(bucket: str, *, projection: tuple[str, str] | None = None) -> dict[str, Any]:
    """The notebook's Parquet table `telemetry` over s3://bucket/telemetry/, partitioned by dt;
    with `projection=(first, last)`, dt is projected over those days."""
    parameters = {"classification": "parquet", "parquet.compression": "SNAPPY"}
    if projection:
        parameters.update(
            {
                "projection.enabled": "true",
                "projection.dt.type": "date",
                "projection.dt.format": "yyyy-MM-dd",
                "projection.dt.range": ",".join(projection),
                "projection.dt.interval": "1",
                "projection.dt.interval.unit": "DAYS",
                "storage.location.template": f"s3://{bucket}/telemetry/dt=${{dt}}/",
            }
        )
    return {
        "Name": "telemetry",
        "TableType": "EXTERNAL_TABLE",
        "Parameters": parameters,
        "PartitionKeys": [{"Name": "dt", "Type": "string"}],
        "StorageDescriptor": {
            "Columns": [{"Name": n, "Type": t} for n, t in COLUMNS],
            "Location": f"s3://{bucket}/telemetry/",
            "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
            "SerdeInfo": {
                "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
            },
        },
    }


# what the chapter's delivery streams do with their role: read the stream, write the bucket,
# call the transform, read the Glue schema
FIREHOSE_ACTIONS = [
    "kinesis:DescribeStream",
    "kinesis:GetShardIterator",
    "kinesis:GetRecords",
    "kinesis:ListShards",
    "s3:PutObject",
    "s3:GetBucketLocation",
    "s3:ListBucket",
    "s3:AbortMultipartUpload",
    "lambda:InvokeFunction",
    "lambda:GetFunctionConfiguration",
    "glue:GetTable",
    "glue:GetTableVersion",
    "glue:GetTableVersions",
]


def service_role(lab: helpers.Lab, base: str, service: str, actions: list[str], resource: Any):
    """A role `service` may assume, allowed `actions` on `resource` (one inline policy)."""
    iam = lab.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        ],
    }
    name = lab.name(f"{base}-role")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}],
    }
    iam.put_role_policy(RoleName=name, PolicyName="pipeline", PolicyDocument=json.dumps(policy))
    return arn


def objects(s3: Any, bucket: str, prefix: str = "") -> dict[str, bytes]:
    """Key → bytes of every object under a prefix."""
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for o in page.get("Contents", []):
            out[o["Key"]] = s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
    return out


def read_parquet(body: bytes) -> tuple[list[tuple[str, str]], list[tuple[Any, ...]]]:
    """([(column, DuckDB type)], rows) of a Parquet object, read with DuckDB."""
    import duckdb

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "object.parquet"
        path.write_bytes(body)
        con = duckdb.connect()
        try:
            relation = con.sql(f"SELECT * FROM read_parquet('{path}')")
            columns = list(zip(relation.columns, (str(t) for t in relation.types), strict=True))
            return columns, relation.fetchall()
        finally:
            con.close()


def write_parquet(rows: list[dict[str, Any]]) -> bytes:
    """Parquet (Snappy) with the Glue table's columns and types, as Firehose writes it."""
    import duckdb

    ddl = ", ".join(f'"{n}" {DUCKDB_TYPES[t]}' for n, t in COLUMNS)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "object.parquet"
        con = duckdb.connect()
        try:
            con.execute(f"CREATE TABLE t ({ddl})")
            marks = ", ".join("?" for _ in COLUMNS)
            con.executemany(f"INSERT INTO t VALUES ({marks})", [as_parquet_row(r) for r in rows])
            con.execute(f"COPY t TO '{path}' (FORMAT parquet, COMPRESSION snappy)")
        finally:
            con.close()
        return path.read_bytes()


def drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    out = []
    while True:
        got = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, AttributeNames=["All"]
        )
        if not got.get("Messages"):
            return out
        out.extend(got["Messages"])


def athena_queries(lab: helpers.Lab, workgroup: str) -> dict[str, dict[str, Any]]:
    """Query execution id → QueryExecution of every query run in a work group."""
    athena = lab.client("athena")
    ids: list[str] = []
    for page in athena.get_paginator("list_query_executions").paginate(WorkGroup=workgroup):
        ids += page["QueryExecutionIds"]
    out = {}
    for start in range(0, len(ids), 50):
        got = athena.batch_get_query_execution(QueryExecutionIds=ids[start : start + 50])
        for execution in got["QueryExecutions"]:
            out[execution["QueryExecutionId"]] = execution
    return out


def s3_notification(bucket: str, *keys: str, event: str = "ObjectCreated:Put") -> dict[str, Any]:
    """An S3 event notification (version 2.1) for objects whose keys are given URL-encoded,
    as S3 sends them."""
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventTime": "2026-11-03T00:01:00.000Z",
                "eventName": event,
                "userIdentity": {"principalId": "AWS:AROAEXAMPLE:firehose"},
                "requestParameters": {"sourceIPAddress": "10.0.0.1"},
                "responseElements": {
                    "x-amz-request-id": "C3D13FE58DE4C810",
                    "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD",
                },
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "reports",
                    "bucket": {
                        "name": bucket,
                        "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                        "arn": f"arn:aws:s3:::{bucket}",
                    },
                    "object": {
                        "key": key,
                        "size": 1024,
                        "eTag": "d41d8cd98f00b204e9800998ecf8427e",
                        "sequencer": "0055AED6DCD90281E5",
                    },
                },
            }
            for key in keys
        ]
    }


def s3_test_event(bucket: str) -> dict[str, Any]:
    """The message S3 sends when a notification configuration is saved."""
    return {
        "Service": "Amazon S3",
        "Event": "s3:TestEvent",
        "Time": "2026-11-03T00:00:00.000Z",
        "Bucket": bucket,
        "RequestId": "5582815E1AEA5ADF",
        "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
    }


def sqs_event(queue_arn: str, bodies: list[dict[str, Any]]) -> dict[str, Any]:
    """The event Lambda's SQS poller passes (ids "m0", "m1", ...)."""
    return {
        "Records": [
            {
                "messageId": f"m{i}",
                "receiptHandle": f"AQEB-receipt-{i}",
                "body": json.dumps(body),
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1793664000000",
                    "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                    "ApproximateFirstReceiveTimestamp": "1793664000010",
                },
                "messageAttributes": {},
                "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            }
            for i, body in enumerate(bodies)
        ]
    }


def delivery_destination(
    kind: str,
    prefix: str,
    *,
    role: str,
    bucket: str,
    transform_arn: str,
    database: str,
    region: str,
    compression: str = "UNCOMPRESSED",
    parquet: bool = False,
) -> dict[str, Any]:
    """The ExtendedS3DestinationConfiguration chapter 5's notebook gives a delivery stream: the
    transform, an error prefix per kind, and for Parquet the Glue schema and dynamic partitions."""
    destination: dict[str, Any] = {
        "RoleARN": role,
        "BucketARN": f"arn:aws:s3:::{bucket}",
        "Prefix": prefix,
        "ErrorOutputPrefix": (
            f"errors/{kind}/!{{firehose:error-output-type}}/!{{timestamp:yyyy/MM/dd}}/"
        ),
        "BufferingHints": {"SizeInMBs": 64 if parquet else 5, "IntervalInSeconds": 60},
        "CompressionFormat": compression,
        "ProcessingConfiguration": {
            "Enabled": True,
            "Processors": [
                {
                    "Type": "Lambda",
                    "Parameters": [{"ParameterName": "LambdaArn", "ParameterValue": transform_arn}],
                }
            ],
        },
    }
    if parquet:
        destination["DataFormatConversionConfiguration"] = {
            "Enabled": True,
            "InputFormatConfiguration": {"Deserializer": {"HiveJsonSerDe": {}}},
            "OutputFormatConfiguration": {
                "Serializer": {"ParquetSerDe": {"Compression": "SNAPPY"}}
            },
            "SchemaConfiguration": {
                "RoleARN": role,
                "DatabaseName": database,
                "TableName": "telemetry",
                "Region": region,
            },
        }
        destination["DynamicPartitioningConfiguration"] = {"Enabled": True}
    return destination


def wire_reports(lab: helpers.Lab, *, ingest: str, queue: str, function: str) -> None:
    """The chapter's report wiring: the queue feeds the function (batches of 10, partial batch
    responses), and every Parquet object under telemetry/ notifies the queue."""
    sqs = lab.client("sqs")
    lab.client("lambda").create_event_source_mapping(
        EventSourceArn=queue_arn(sqs, queue),
        FunctionName=function,
        BatchSize=10,
        MaximumBatchingWindowInSeconds=5,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    lab.client("s3").put_bucket_notification_configuration(
        Bucket=ingest,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": queue_arn(sqs, queue),
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {
                        "Key": {
                            "FilterRules": [
                                {"Name": "prefix", "Value": "telemetry/"},
                                {"Name": "suffix", "Value": ".parquet"},
                            ]
                        }
                    },
                }
            ]
        },
    )
