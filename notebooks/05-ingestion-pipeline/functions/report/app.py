"""The daily report: each Parquet object Firehose delivers starts an Athena query for its day.

S3 sends an event notification to an SQS queue for every object created under `telemetry/`;
this function consumes the queue (an event source mapping, `ReportBatchItemFailures` on). For
each day (`dt=YYYY-MM-DD` in the object keys) of a batch it runs one query: per site, device
and hour, the number of readings, temperature (mean, min, max), mean humidity and lowest
battery. Athena writes the result to `s3://<REPORTS_BUCKET>/athena-results/<id>.csv`; the
function copies it to the stable key `reports/daily/dt=<day>/device-hourly.csv`, which the
dashboard and the warehouse read. A later object of the same day runs the query again and
replaces the report, so the last report of a day has all of it.

A day whose query fails (or that Athena is too busy to start) is reported back as a batch item
failure: its messages return to the queue, are retried, and end in the dead-letter queue if they
keep failing. Nothing is lost.

Environment: DATABASE, TABLE, WORKGROUP, REPORTS_BUCKET.
"""

import json
import os
import re
import time
from datetime import date
from urllib.parse import unquote_plus

import boto3

athena = boto3.client("athena")
s3 = boto3.client("s3")

DATABASE = os.environ["DATABASE"]
TABLE = os.environ["TABLE"]
WORKGROUP = os.environ["WORKGROUP"]
REPORTS_BUCKET = os.environ["REPORTS_BUCKET"]
DAY = re.compile(r"(?:^|/)dt=(\d{4}-\d{2}-\d{2})/")

QUERY = """
SELECT site, device_id, date_trunc('hour', event_time) AS hour,
       count(*) AS readings,
       round(avg(temperature), 2) AS avg_temperature,
       min(temperature) AS min_temperature,
       max(temperature) AS max_temperature,
       round(avg(humidity), 1) AS avg_humidity,
       min(battery) AS min_battery
FROM {table}
WHERE dt = '{day}'
GROUP BY 1, 2, 3
ORDER BY hour, site, device_id
"""


class QueryFailed(Exception):
    """Athena ended the query in FAILED or CANCELLED, or would not start it now."""


def handler(event, context):
    days = {}  # day -> ids of the messages that asked for it
    for message in event["Records"]:
        for day in days_in(json.loads(message["body"])):
            days.setdefault(day, []).append(message["messageId"])
    failures = []
    for day, message_ids in sorted(days.items()):
        try:
            key = report(day, context)
        except QueryFailed as exc:
            print(json.dumps({"day": day, "failed": str(exc)}))
            failures += message_ids
        else:
            print(json.dumps({"day": day, "report": f"s3://{REPORTS_BUCKET}/{key}"}))
    return {"batchItemFailures": [{"itemIdentifier": i} for i in dict.fromkeys(failures)]}


def days_in(notification):
    """The days of the objects an S3 event notification names (none for S3's test event)."""
    if notification.get("Event") == "s3:TestEvent":
        return []
    days = []
    for record in notification.get("Records", []):
        if not record.get("eventName", "").startswith("ObjectCreated:"):
            continue
        match = DAY.search(unquote_plus(record["s3"]["object"]["key"]))
        if match and _is_date(match.group(1)):
            days.append(match.group(1))
    return days


def _is_date(text):
    """Only a real calendar day is ever put into the query's SQL."""
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def report(day, context):
    """Run the day's query, wait for it, and copy its CSV to the report's key."""
    try:
        started = athena.start_query_execution(
            QueryString=QUERY.format(table=TABLE, day=day),
            QueryExecutionContext={"Database": DATABASE},
            ResultConfiguration={"OutputLocation": f"s3://{REPORTS_BUCKET}/athena-results/"},
            WorkGroup=WORKGROUP,
        )
    except athena.exceptions.TooManyRequestsException as exc:  # the account's query quota
        raise QueryFailed(f"Athena is busy: {exc}") from None
    execution = wait(started["QueryExecutionId"], context)
    status = execution["Status"]
    if status["State"] != "SUCCEEDED":
        raise QueryFailed(f"{status['State']}: {status.get('StateChangeReason', '')}")
    output = execution["ResultConfiguration"]["OutputLocation"]
    bucket, _, source = output.removeprefix("s3://").partition("/")
    key = f"reports/daily/dt={day}/device-hourly.csv"
    s3.copy_object(
        Bucket=REPORTS_BUCKET,
        Key=key,
        CopySource={"Bucket": bucket, "Key": source},
        MetadataDirective="REPLACE",
        ContentType="text/csv",
        Metadata={"query-execution-id": execution["QueryExecutionId"], "day": day},
    )
    return key


def wait(query_id, context):
    """Poll until the query ends, leaving the function ten seconds to spare."""
    delay = 0.2
    while True:
        execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        if execution["Status"]["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            return execution
        if context.get_remaining_time_in_millis() < 10_000:
            athena.stop_query_execution(QueryExecutionId=query_id)
            raise QueryFailed(f"query {query_id} still running when the function had to stop")
        time.sleep(delay)
        delay = min(delay * 2, 2.0)
