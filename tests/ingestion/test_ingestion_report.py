"""The report function (functions/report/app.py): S3 event notifications → SQS → Lambda → Athena.

Contract: S3 event notifications (message structure 2.1: `Records[].eventName` such as
`ObjectCreated:Put`, `s3.object.key` URL-encoded as in an HTML form, and the `s3:TestEvent`
message S3 sends when a configuration is saved); Lambda's SQS event source mapping with
`ReportBatchItemFailures` (a response `{"batchItemFailures": [{"itemIdentifier": <messageId>}]}`
returns only those messages to the queue; an empty list means all succeeded; after the queue's
`maxReceiveCount` receives, the redrive policy moves a message to the dead-letter queue);
Athena's query results (a CSV in the output location: a header row, then one line per row,
every field quoted, timestamps as `yyyy-MM-dd HH:mm:ss.SSS`). The chapter's rules (the
function's docstring): one query per day named in a batch, per site, device and hour: count of
readings, temperature mean (2 decimals), min and max, humidity mean (1 decimal), lowest
battery; the result copied to `reports/daily/dt=<day>/device-hourly.csv` in the reporting
bucket; a day whose query fails returns its messages.
https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html
https://docs.aws.amazon.com/athena/latest/ug/querying.html (query results files)
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest

from tests.ingestion.support import (
    REPORT_HEADER,
    athena_queries,
    drain,
    hive_timestamp,
    is_date,
    objects,
    queue_arn,
    queue_depth,
    s3_notification,
    s3_test_event,
    sqs_event,
    telemetry_table,
    utc_ms,
    wire_reports,
    write_parquet,
)

DAY_A, DAY_B, DAY_BAD = "2026-11-02", "2026-11-03", "2026-11-04"
MAX_RECEIVES = 3
QUOTED_LINE = re.compile(r'"[^"]*"(,"[^"]*")*')
DT_LITERAL = re.compile(r"dt\s*=\s*'([^']*)'")


def _row(device, site, ts, temperature, humidity, battery):
    return {
        "device_id": device,
        "site": site,
        "event_time": hive_timestamp(ts),
        "temperature": temperature,
        "humidity": humidity,
        "battery": battery,
        "firmware": "1.4.2",
        "received_at": hive_timestamp(ts + 250),
    }


# groups of 1-3 readings, temperatures with one decimal and whole humidities: no mean falls on a
# rounding tie, so the expected figures do not depend on the rounding mode
ROWS = {
    DAY_A: [
        _row("gh-a-01", "greenhouse-a", utc_ms(2026, 11, 2, 5, 0), 18.2, 70, 99.5),
        _row("gh-a-01", "greenhouse-a", utc_ms(2026, 11, 2, 5, 15), 18.9, 69, 99.4),
        _row("gh-a-01", "greenhouse-a", utc_ms(2026, 11, 2, 5, 59, 59, 999), 19.4, 67, 99.3),
        _row("gh-a-01", "greenhouse-a", utc_ms(2026, 11, 2, 6, 0), 19.9, 66, 99.2),
        _row("gh-a-02", "greenhouse-a", utc_ms(2026, 11, 2, 5, 30), 17.0, 71, 93.1),
        _row("gh-a-02", "greenhouse-a", utc_ms(2026, 11, 2, 5, 45), 17.5, 72, 93.0),
        _row("cold-01", "cold-store", utc_ms(2026, 11, 2, 5, 0), -1.3, 88, 76.0),
        _row("cold-01", "cold-store", utc_ms(2026, 11, 2, 6, 30), 3.1, 90, 75.9),
        _row("cold-01", "cold-store", utc_ms(2026, 11, 2, 6, 45), 4.6, 87, 75.8),
        _row("cold-01", "cold-store", utc_ms(2026, 11, 2, 23, 59, 59, 999), 3.3, 89, 75.0),
    ],
    DAY_B: [
        _row("gh-b-01", "greenhouse-b", utc_ms(2026, 11, 3), 16.4, 77, 88.8),
        _row("gh-b-01", "greenhouse-b", utc_ms(2026, 11, 3, 0, 15), 16.1, 78, 88.7),
        _row("cold-02", "cold-store", utc_ms(2026, 11, 3, 12, 0), 4.4, 85, 70.2),
    ],
}


def _round(value, places):
    return float(Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP))


def expected_report(rows):
    """The report's rows, computed here from the rows put in S3: per (site, device, hour),
    ordered by hour, site, device."""
    groups: dict[tuple[str, str, str], list] = {}
    for r in rows:
        hour = datetime.strptime(r["event_time"], "%Y-%m-%d %H:%M:%S.%f").replace(
            minute=0, second=0, microsecond=0
        )
        groups.setdefault(
            (hour.isoformat(sep=" ", timespec="milliseconds"), r["site"], r["device_id"]), []
        ).append(r)
    out = []
    for (hour, site, device), group in sorted(groups.items()):
        temps = [Decimal(repr(r["temperature"])) for r in group]
        hums = [Decimal(repr(float(r["humidity"]))) for r in group]
        out.append(
            {
                "site": site,
                "device_id": device,
                "hour": hour,
                "readings": len(group),
                "avg_temperature": _round(float(sum(temps) / len(temps)), 2),
                "min_temperature": float(min(temps)),
                "max_temperature": float(max(temps)),
                "avg_humidity": _round(float(sum(hums) / len(hums)), 1),
                "min_battery": min(r["battery"] for r in group),
            }
        )
    return out


def parse_report(body: bytes):
    """(lines, header, rows with numbers as numbers) of a report CSV."""
    lines = body.decode().splitlines()
    reader = list(csv.reader(io.StringIO(body.decode())))
    header, rows = tuple(reader[0]), []
    for values in reader[1:]:
        row = dict(zip(header, values, strict=True))
        assert re.fullmatch(r"\d+", row["readings"]), row  # a bigint, not 2.0
        row["readings"] = int(row["readings"])
        for name in header[4:]:
            row[name] = float(row[name])
        rows.append(row)
    return lines, header, rows


def _key(day, name="part-0000.parquet"):
    return f"telemetry/dt={day}/{name}"


@pytest.fixture(scope="module")
def reporting(lab, deploy_app):
    """The notebook's reporting half: an ingestion bucket holding Parquet objects for DAY_A and
    DAY_B (rows known here) and a corrupt one for DAY_BAD, notifying a queue (with a DLQ after 3
    receives) that the report function consumes; Athena runs in a work group writing to the
    reporting bucket; the Glue table projects dt. Settled."""
    s3, sqs, glue, athena = (lab.client(s) for s in ("s3", "sqs", "glue", "athena"))
    ingest, reports = lab.name("ingestion"), lab.name("reporting")
    for bucket in (ingest, reports):
        s3.create_bucket(Bucket=bucket)
    database = lab.name("telemetry").replace("-", "_")
    glue.create_database(DatabaseInput={"Name": database})
    glue.create_table(
        DatabaseName=database,
        TableInput=telemetry_table(ingest, projection=("2026-11-01", "2026-11-30")),
    )
    workgroup = lab.name("reports")
    athena.create_work_group(
        Name=workgroup,
        Configuration={
            "ResultConfiguration": {"OutputLocation": f"s3://{reports}/athena-results/"},
            "EnforceWorkGroupConfiguration": True,
        },
    )
    dlq = sqs.create_queue(QueueName=lab.name("reports-dlq"))["QueueUrl"]
    queue = sqs.create_queue(
        QueueName=lab.name("reports"),
        Attributes={
            "VisibilityTimeout": "360",  # six times the function's timeout
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": queue_arn(sqs, dlq), "maxReceiveCount": str(MAX_RECEIVES)}
            ),
        },
    )["QueueUrl"]
    env = {
        "DATABASE": database,
        "TABLE": "telemetry",
        "WORKGROUP": workgroup,
        "REPORTS_BUCKET": reports,
    }
    function = deploy_app("report", env=env, Timeout=60, MemorySize=256)
    wire_reports(lab, ingest=ingest, queue=queue, function=function)
    for day, rows in ROWS.items():
        s3.put_object(Bucket=ingest, Key=_key(day), Body=write_parquet(rows))
    s3.put_object(Bucket=ingest, Key=_key(DAY_BAD, "broken.parquet"), Body=b"PAR1 not parquet")
    lab.settle()
    return {
        "function": function,
        "env": env,
        "ingest": ingest,
        "reports": reports,
        "workgroup": workgroup,
        "queue": queue,
        "queue_arn": queue_arn(sqs, queue),
        "dlq": dlq,
        "dead": drain(sqs, dlq),
        "queries": athena_queries(lab, workgroup),
        "report_objects": objects(s3, reports, "reports/"),
    }


def _report_key(day):
    return f"reports/daily/dt={day}/device-hourly.csv"


def _days_queried(queries):
    """dt literal → [states] of the queries, in no particular order."""
    out: dict[str, list[str]] = {}
    for execution in queries.values():
        for day in DT_LITERAL.findall(execution["Query"]):
            out.setdefault(day, []).append(execution["Status"]["State"])
    return out


def _invoke(lab, function, event):
    resp = lab.client("lambda").invoke(FunctionName=function, Payload=json.dumps(event))
    payload = json.loads(resp["Payload"].read())
    assert "FunctionError" not in resp, payload
    return payload


# ---- in-process: which days a notification names ------------------------------------------------
@pytest.mark.parametrize(
    "key, days",
    [
        ("telemetry/dt%3D2026-11-02/x.parquet", ["2026-11-02"]),
        ("telemetry/dt=2026-11-02/x.parquet", ["2026-11-02"]),
        (
            "telemetry/dt%3D2026-11-02/ingestion-parquet-1-2026-11-02-23-59-59-a1b2.parquet",
            ["2026-11-02"],
        ),
        ("telemetry/dt%3D2026-11-02/my+upload%281%29.parquet", ["2026-11-02"]),
        ("telemetry/x.parquet", []),
        ("telemetry/dt%3D/x.parquet", []),
    ],
)
def test_the_day_comes_from_the_url_encoded_key(report_app, key, days):
    """GIVEN an ObjectCreated notification whose key is URL-encoded as S3 sends it WHEN read THEN
    the day is the key's dt=<day> folder, decoded."""
    assert report_app.days_in(s3_notification("ingest", key)) == days


def test_every_created_object_of_a_notification_counts(report_app):
    """GIVEN one notification naming objects of two days WHEN read THEN both days come out."""
    note = s3_notification(
        "ingest", "telemetry/dt%3D2026-11-02/a.parquet", "telemetry/dt%3D2026-11-03/b.parquet"
    )
    assert sorted(set(report_app.days_in(note))) == ["2026-11-02", "2026-11-03"]


def test_s3s_test_event_names_no_day(report_app):
    assert report_app.days_in(s3_test_event("ingest")) == []


@pytest.mark.parametrize(
    "event",
    ["ObjectRemoved:Delete", "ObjectRemoved:DeleteMarkerCreated", "ObjectRestore:Completed"],
)
def test_events_other_than_object_created_name_no_day(report_app, event):
    note = s3_notification("ingest", "telemetry/dt%3D2026-11-02/x.parquet", event=event)
    assert report_app.days_in(note) == []


@pytest.mark.parametrize(
    "encoded_day",
    [
        "2026-13-45",  # the shape of a date, but none
        "2026-02-30",
        "2026-11-02%27%20OR%20%271%27%3D%271",  # 2026-11-02' OR '1'='1
        "2026-11-02%27%3B%20DROP%20TABLE%20telemetry%3B--",
        "20261102",
        "2026-11-2",
    ],
)
def test_a_day_that_is_not_a_date_is_never_returned(report_app, encoded_day):
    """GIVEN a key whose dt=<value> is not a calendar date (or carries SQL) WHEN read THEN no day
    comes out of it: the function must never put it into a query.

    KNOWN BUG (functions/report/app.py) for "2026-13-45" and "2026-02-30": the day pattern
    `\\d{4}-\\d{2}-\\d{2}` checks the shape only, so those reach the SQL (and a report is
    written under reports/daily/dt=2026-13-45/)."""
    note = s3_notification("ingest", f"telemetry/dt%3D{encoded_day}/x.parquet")
    days = report_app.days_in(note)
    assert all(is_date(d) for d in days), days


def test_one_report_per_day_per_batch_and_failures_name_their_messages(report_app, monkeypatch):
    """GIVEN a batch whose messages name day A (twice, in two messages), day B, a day whose
    query fails, A and the failing day together, and S3's test event WHEN handled THEN each day
    is reported once, and batchItemFailures names exactly the messages that named the failing
    day (each once)."""
    calls = []

    def fake_report(day, context):
        calls.append(day)
        if day == DAY_BAD:
            raise report_app.QueryFailed("FAILED: HIVE_BAD_DATA")
        return f"reports/daily/dt={day}/device-hourly.csv"

    monkeypatch.setattr(report_app, "report", fake_report)
    key = "telemetry/dt%3D{}/x.parquet".format
    event = sqs_event(
        "arn:aws:sqs:us-east-1:123456789012:reports",
        [
            s3_notification("ingest", key(DAY_A)),
            s3_notification("ingest", key(DAY_A), key(DAY_A)),
            s3_notification("ingest", key(DAY_B)),
            s3_notification("ingest", key(DAY_BAD)),
            s3_notification("ingest", key(DAY_A), key(DAY_BAD), key(DAY_BAD)),
            s3_test_event("ingest"),
        ],
    )
    answer = report_app.handler(event, None)
    assert sorted(calls) == sorted({DAY_A, DAY_B, DAY_BAD})
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m3"}, {"itemIdentifier": "m4"}]}


# ---- deployed: S3 → SQS → Lambda → Athena → S3 ---------------------------------------------------
@pytest.mark.parametrize("day", [DAY_A, DAY_B])
def test_a_days_report_lands_with_athenas_csv_format(reporting, day):
    """GIVEN the day's Parquet object created in the ingestion bucket WHEN the lab settles THEN
    reports/daily/dt=<day>/device-hourly.csv holds Athena's CSV: the header row, every field
    quoted, hours as yyyy-MM-dd HH:mm:ss.SSS."""
    body = reporting["report_objects"].get(_report_key(day))
    assert body is not None, sorted(reporting["report_objects"])
    lines, header, rows = parse_report(body)
    assert header == REPORT_HEADER
    assert lines[0] == ",".join(f'"{name}"' for name in REPORT_HEADER)
    for line in lines:
        assert QUOTED_LINE.fullmatch(line), line
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:00:00\.000", r["hour"]) for r in rows)


@pytest.mark.parametrize("day", [DAY_A, DAY_B])
def test_a_days_report_has_the_hourly_aggregates_of_its_rows(reporting, day):
    """GIVEN known rows for the day WHEN its report lands THEN it has one row per site, device
    and hour, in order of hour, site, device, with the count, mean/min/max temperature, mean
    humidity and lowest battery computed here (a reading at 05:59:59.999 is in hour 05, one at
    06:00:00.000 in hour 06)."""
    _, _, rows = parse_report(reporting["report_objects"][_report_key(day)])
    want = expected_report(ROWS[day])
    assert [(r["hour"], r["site"], r["device_id"]) for r in rows] == [
        (r["hour"], r["site"], r["device_id"]) for r in want
    ]
    assert rows == [pytest.approx(r, abs=1e-9) for r in want]
    assert sum(r["readings"] for r in rows) == len(ROWS[day])


def test_each_day_was_queried_once_and_the_test_event_not_at_all(reporting):
    """GIVEN the S3 test event and one object per day WHEN settled THEN the work group ran one
    query per good day (SUCCEEDED), and none for the test event."""
    by_day = _days_queried(reporting["queries"])
    assert by_day[DAY_A] == ["SUCCEEDED"]
    assert by_day[DAY_B] == ["SUCCEEDED"]
    assert set(by_day) == {DAY_A, DAY_B, DAY_BAD}


def test_a_failing_day_is_retried_then_dead_lettered_and_nothing_is_lost(reporting, lab):
    """GIVEN a Parquet object that Athena cannot read (its day's query FAILS) WHEN settled THEN
    its notification was received maxReceiveCount times (one FAILED query each), then moved to
    the dead-letter queue, body intact (the URL-encoded key); the queue is empty, and no report
    exists for that day."""
    assert sorted(_days_queried(reporting["queries"])[DAY_BAD]) == ["FAILED"] * MAX_RECEIVES
    [dead] = reporting["dead"]
    body = json.loads(dead["Body"])
    keys = [r["s3"]["object"]["key"] for r in body["Records"]]
    assert keys == [f"telemetry/dt%3D{DAY_BAD}/broken.parquet"]
    assert queue_depth(lab.client("sqs"), reporting["queue"]) == 0
    assert _report_key(DAY_BAD) not in reporting["report_objects"]


def test_athena_names_the_unreadable_object_as_a_data_error(reporting):
    """GIVEN the query over a partition holding an object that is not Parquet WHEN it FAILS THEN
    its reason is one of Athena's data errors (HIVE_BAD_DATA, HIVE_CANNOT_OPEN_SPLIT,
    HIVE_CURSOR_ERROR) naming the object by its s3:// URL, with the USER error category (2),
    and no path of the machine that ran it.
    https://docs.aws.amazon.com/athena/latest/ug/error-reference.html
    https://repost.aws/knowledge-center/athena-hive-cursor-error

    KNOWN EMULATOR BUG (helpers/emulator/athena.py): DuckDB's error while `_view` DESCRIBEs the
    copied objects is not translated; it falls into `_run`'s catch-all, so the query FAILS as
    `GENERIC_INTERNAL_ERROR: Invalid Input Error: No magic bytes found at end of file
    '/tmp/labbook-athena-.../dt=2026-11-04/<hash>.parquet' LINE 1: DESCRIBE SELECT ...`, with
    the SYSTEM category (1): a local temporary path and DuckDB's SQL, not the S3 object."""
    failed = [
        q
        for q in reporting["queries"].values()
        if q["Status"]["State"] == "FAILED" and f"'{DAY_BAD}'" in q["Query"]
    ]
    assert failed
    url = f"s3://{reporting['ingest']}/{_key(DAY_BAD, 'broken.parquet')}"
    for query in failed:
        reason = query["Status"]["StateChangeReason"]
        assert "/tmp/" not in reason and "DESCRIBE" not in reason, reason
        assert reason.startswith(("HIVE_BAD_DATA", "HIVE_CANNOT_OPEN_SPLIT", "HIVE_CURSOR_ERROR"))
        assert url in reason, reason
        assert query["Status"]["AthenaError"]["ErrorCategory"] == 2


def test_a_batch_with_a_failing_day_returns_exactly_its_messages(reporting, lab):
    """GIVEN one SQS batch naming day A, the failing day, both, and S3's test event WHEN the
    deployed function is invoked with it THEN batchItemFailures names the two messages that
    named the failing day, and day A's report is written again."""
    key = "telemetry/dt%3D{}/part-0000.parquet".format
    bodies = [
        s3_notification(reporting["ingest"], key(DAY_A)),
        s3_notification(reporting["ingest"], key(DAY_BAD)),
        s3_notification(reporting["ingest"], key(DAY_A), key(DAY_BAD)),
        s3_test_event(reporting["ingest"]),
    ]
    before = set(athena_queries(lab, reporting["workgroup"]))
    answer = _invoke(lab, reporting["function"], sqs_event(reporting["queue_arn"], bodies))
    assert sorted(f["itemIdentifier"] for f in answer["batchItemFailures"]) == ["m1", "m2"]
    new = {k: v for k, v in athena_queries(lab, reporting["workgroup"]).items() if k not in before}
    assert sorted(_days_queried(new)) == [DAY_A, DAY_BAD]  # one query a day for the batch
    assert len(new) == 2


def test_when_the_table_is_missing_every_message_that_named_a_day_comes_back(
    reporting, lab, deploy_app
):
    """GIVEN the function pointed at a table that does not exist WHEN invoked with a batch of
    two days and S3's test event THEN its queries FAIL and batchItemFailures names both day
    messages (and not the test event): they return to the queue instead of being lost."""
    function = deploy_app(
        "report", base="report-no-table", env={**reporting["env"], "TABLE": "no_such_table"}
    )
    key = "telemetry/dt%3D{}/part-0000.parquet".format
    bodies = [
        s3_notification(reporting["ingest"], key(DAY_A)),
        s3_test_event(reporting["ingest"]),
        s3_notification(reporting["ingest"], key(DAY_B)),
    ]
    before = set(athena_queries(lab, reporting["workgroup"]))
    answer = _invoke(lab, function, sqs_event(reporting["queue_arn"], bodies))
    assert sorted(f["itemIdentifier"] for f in answer["batchItemFailures"]) == ["m0", "m2"]
    new = [v for k, v in athena_queries(lab, reporting["workgroup"]).items() if k not in before]
    assert [q["Status"]["State"] for q in new] == ["FAILED", "FAILED"]
    assert all("TABLE_NOT_FOUND" in q["Status"]["StateChangeReason"] for q in new)


def test_a_day_that_is_not_a_date_never_reaches_athena(reporting, lab):
    """GIVEN notifications whose keys carry dt values that are not dates (one of them SQL) WHEN
    the deployed function handles them THEN Athena receives no query with such a value and no
    report is written for it.

    KNOWN BUG (functions/report/app.py): "2026-13-45" has a date's shape and is queried."""
    s3 = lab.client("s3")
    bodies = [
        s3_notification(reporting["ingest"], "telemetry/dt%3D2026-13-45/x.parquet"),
        s3_notification(
            reporting["ingest"], "telemetry/dt%3D2026-11-02%27%20OR%20%271%27%3D%271/x.parquet"
        ),
    ]
    before = set(athena_queries(lab, reporting["workgroup"]))
    answer = _invoke(lab, reporting["function"], sqs_event(reporting["queue_arn"], bodies))
    new = {k: v for k, v in athena_queries(lab, reporting["workgroup"]).items() if k not in before}
    literals = [d for q in new.values() for d in DT_LITERAL.findall(q["Query"])]
    reports = objects(s3, reporting["reports"], "reports/daily/")
    not_dates_queried = [d for d in literals if not is_date(d)]
    not_dates_reported = [k for k in reports if not is_date(k.split("/")[2].removeprefix("dt="))]
    assert not not_dates_queried and not not_dates_reported, (
        not_dates_queried,
        not_dates_reported,
    )
    assert answer == {"batchItemFailures": []}
