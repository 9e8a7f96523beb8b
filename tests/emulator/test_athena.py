"""Athena offline (helpers/emulator/athena.py), against the Athena API reference and user guide:
StartQueryExecution / GetQueryExecution / GetQueryResults / StopQueryExecution, tables from the
Glue Data Catalog (JSON, GZIP JSON, CSV, Parquet), registered and projected partitions, pruning
and DataScannedInBytes, result files in the output location, errors, and the price."""

from __future__ import annotations

import gzip
import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from botocore.exceptions import ClientError

from helpers import costs
from helpers.emulator.athena import java_double, query_cost

DATA, RESULTS = "athena-data", "athena-results"
OUT = f"s3://{RESULTS}/queries/"
JSON_SERDE = "org.openx.data.jsonserde.JsonSerDe"
PARQUET = {
    "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
}
COLUMNS = [
    {"Name": "device", "Type": "string"},
    {"Name": "temp", "Type": "double"},
    {"Name": "reading", "Type": "bigint"},
    {"Name": "ts", "Type": "timestamp"},
    {"Name": "payload", "Type": "string"},
    {"Name": "tags", "Type": "array<string>"},
]
PARTS = [("2024-05-01", "09"), ("2024-05-01", "10"), ("2024-05-02", "09"), ("2024-05-02", "10")]


def _records(dt: str, hour: str) -> list[dict]:
    return [
        {
            "device": f"sensor-{i}",
            "temp": 20.5 + i + (1 if hour == "10" else 0),
            "reading": 1000 * i,
            "ts": f"{dt} {hour}:0{i}:00",
            "payload": json.dumps({"battery": 90 - i, "fw": "1.2"}),
            "tags": ["roof", f"zone{i}"],
        }
        for i in range(3)
    ]


@pytest.fixture(scope="module")
def athena(lab):
    return lab.client("athena")


@pytest.fixture(scope="module")
def catalog(lab, s3, tmp_path_factory):
    """A Glue database with the same telemetry as JSON lines, GZIP JSON, CSV and Parquet."""
    glue = lab.client("glue")
    s3.create_bucket(Bucket=DATA)
    s3.create_bucket(Bucket=RESULTS)
    glue.create_database(DatabaseInput={"Name": "telemetry"})
    sizes: dict[str, dict] = {"json": {}, "parquet": {}, "parquet_path": {}}

    # JSON lines, partitions registered with their own locations (not key=value prefixes)
    for dt, hour in PARTS:
        body = "\n".join(json.dumps(r) for r in _records(dt, hour)).encode() + b"\n"
        key = f"raw/{dt.replace('-', '/')}/{hour}/events-1.json"
        s3.put_object(Bucket=DATA, Key=key, Body=body)
        sizes["json"][(dt, hour)] = len(body)
    s3.put_object(Bucket=DATA, Key="raw/2024/05/01/09/_SUCCESS", Body=b"ignored")
    glue.create_table(
        DatabaseName="telemetry",
        TableInput={
            "Name": "events",
            "PartitionKeys": [{"Name": "dt", "Type": "string"}, {"Name": "hour", "Type": "string"}],
            "StorageDescriptor": {
                "Columns": COLUMNS,
                "Location": f"s3://{DATA}/raw/",
                "SerdeInfo": {"SerializationLibrary": JSON_SERDE},
            },
        },
    )
    glue.batch_create_partition(
        DatabaseName="telemetry",
        TableName="events",
        PartitionInputList=[
            {
                "Values": [dt, hour],
                "StorageDescriptor": {
                    "Location": f"s3://{DATA}/raw/{dt.replace('-', '/')}/{hour}/",
                    "Columns": COLUMNS,
                    "SerdeInfo": {"SerializationLibrary": JSON_SERDE},
                },
            }
            for dt, hour in PARTS
        ],
    )

    # the same records GZIP-compressed, one object, no partitions
    lines = [json.dumps(r) for dt, hour in PARTS for r in _records(dt, hour)]
    gz = gzip.compress(("\n".join(lines) + "\n").encode())
    s3.put_object(Bucket=DATA, Key="gz/all.json.gz", Body=gz)
    sizes["gz"] = {("all", ""): len(gz)}
    glue.create_table(
        DatabaseName="telemetry",
        TableInput={
            "Name": "events_gz",
            "StorageDescriptor": {
                "Columns": COLUMNS,
                "Location": f"s3://{DATA}/gz/",
                "SerdeInfo": {"SerializationLibrary": "org.apache.hive.hcatalog.data.JsonSerDe"},
            },
        },
    )

    # CSV with a header line, \N for NULL and an empty number
    csv = "device,temp,reading\nsensor-0,20.5,0\nsensor-1,\\N,\nsensor-2,22.5,2000\n"
    s3.put_object(Bucket=DATA, Key="csv/readings.csv", Body=csv.encode())
    glue.create_table(
        DatabaseName="telemetry",
        TableInput={
            "Name": "readings_csv",
            "Parameters": {"skip.header.line.count": "1", "classification": "csv"},
            "StorageDescriptor": {
                "Columns": COLUMNS[:3],
                "Location": f"s3://{DATA}/csv/",
                "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
                "SerdeInfo": {
                    "SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                    "Parameters": {"field.delim": ","},
                },
            },
        },
    )

    # Parquet written by DuckDB, partitions found by projection (date + integer)
    con = duckdb.connect()
    for n, (dt, hour) in enumerate(PARTS):
        path = lab_tmp = tmp_path_factory.mktemp("parquet") / f"part-{n}.parquet"
        rows = _records(dt, hour)
        con.execute(
            "COPY (SELECT * FROM (VALUES "
            + ", ".join(
                f"('{r['device']}', {r['temp']}, {r['reading']}, TIMESTAMP '{r['ts']}', "
                f"'{r['payload']}', ['roof', 'zone{i}'])"
                for i, r in enumerate(rows)
            )
            + ") v(device, temp, reading, ts, payload, tags)) "
            f"TO '{path}' (FORMAT parquet)"
        )
        with open(lab_tmp, "rb") as f:
            body = f.read()
        s3.put_object(Bucket=DATA, Key=f"parquet/{dt}/{hour}/part-0.parquet", Body=body)
        sizes["parquet"][(dt, hour)] = len(body)
        sizes["parquet_path"][(dt, hour)] = path
    glue.create_table(
        DatabaseName="telemetry",
        TableInput={
            "Name": "events_parquet",
            "PartitionKeys": [{"Name": "dt", "Type": "string"}, {"Name": "hour", "Type": "int"}],
            "Parameters": {
                "projection.enabled": "true",
                "projection.dt.type": "date",
                "projection.dt.format": "yyyy-MM-dd",
                "projection.dt.range": "2024-04-28,NOW",
                "projection.hour.type": "integer",
                "projection.hour.range": "0,23",
                "projection.hour.digits": "2",
                "storage.location.template": f"s3://{DATA}/parquet/${{dt}}/${{hour}}/",
            },
            "StorageDescriptor": {
                "Columns": COLUMNS,
                "Location": f"s3://{DATA}/parquet/",
                "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                "SerdeInfo": PARQUET,
            },
        },
    )
    return sizes


def parquet_layout(path: Path) -> tuple[int, dict[str, int]]:
    """A Parquet file's footer (FileMetaData + its 4-byte length + "PAR1", read by hand) and the
    compressed bytes of each column's chunks over all row groups (DuckDB's parquet_metadata)."""
    body = Path(path).read_bytes()
    assert body[:4] == body[-4:] == b"PAR1"
    footer = int.from_bytes(body[-8:-4], "little") + 8
    chunks: dict[str, int] = {}
    for column, size in duckdb.execute(
        "SELECT path_in_schema, total_compressed_size FROM parquet_metadata(?)", [str(path)]
    ).fetchall():
        top = column.split(", ")[0]  # a list's or struct's leaves belong to its column
        chunks[top] = chunks.get(top, 0) + size
    return footer, chunks


def run(athena, sql: str, **kwargs) -> dict:
    """Start a query and poll it as a notebook does, until it ends; the final QueryExecution."""
    kwargs.setdefault("QueryExecutionContext", {"Database": "telemetry"})
    kwargs.setdefault("ResultConfiguration", {"OutputLocation": OUT})
    qid = athena.start_query_execution(QueryString=sql, **kwargs)["QueryExecutionId"]
    for _ in range(10):
        execution = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
        if execution["Status"]["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            return execution
    raise AssertionError(f"query {qid} never finished")


def rows(athena, qid: str) -> list[list[str | None]]:
    """Every row of the result (header first), NULL as None, across pages."""
    out, kwargs = [], {"QueryExecutionId": qid}
    while True:
        page = athena.get_query_results(**kwargs)
        out += [[d.get("VarCharValue") for d in r["Data"]] for r in page["ResultSet"]["Rows"]]
        if "NextToken" not in page:
            return out
        kwargs["NextToken"] = page["NextToken"]


def test_a_query_moves_from_queued_to_succeeded_and_results_wait_for_it(athena, catalog):
    qid = athena.start_query_execution(
        QueryString="SELECT count(*) FROM events",
        QueryExecutionContext={"Database": "telemetry"},
        ResultConfiguration={"OutputLocation": OUT},
    )["QueryExecutionId"]

    states = [
        athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]["State"]
        for _ in range(3)
    ]

    assert states == ["RUNNING", "SUCCEEDED", "SUCCEEDED"]
    assert qid in athena.list_query_executions()["QueryExecutionIds"]


def test_results_wait_until_the_query_ends(athena, catalog):
    qid = athena.start_query_execution(
        QueryString="SELECT 1",
        ResultConfiguration={"OutputLocation": OUT},
    )["QueryExecutionId"]
    with pytest.raises(ClientError) as early:
        athena.get_query_results(QueryExecutionId=qid)
    assert early.value.response["Error"]["Code"] == "InvalidRequestException"


def test_the_lab_clock_finishes_a_query_without_polling(lab, athena, catalog):
    qid = athena.start_query_execution(
        QueryString="SELECT 1", ResultConfiguration={"OutputLocation": OUT}
    )["QueryExecutionId"]
    lab.clock.advance(5)
    execution = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
    assert execution["Status"]["State"] == "SUCCEEDED"


def test_typed_rows_with_athena_types_and_string_formatting(athena, catalog):
    execution = run(
        athena,
        "SELECT device, temp, reading, ts, tags, dt, hour, CAST(NULL AS varchar) AS nothing, "
        "temp * 1000000 AS big, true AS flag, DATE '2024-05-01' AS day, "
        "CAST(1.5 AS decimal(10, 2)) AS price "
        "FROM events WHERE dt = '2024-05-02' AND hour = '10' ORDER BY device LIMIT 1",
    )
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    page = athena.get_query_results(QueryExecutionId=execution["QueryExecutionId"])
    info = page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]

    assert [c["Name"] for c in info] == [
        "device", "temp", "reading", "ts", "tags", "dt", "hour",
        "nothing", "big", "flag", "day", "price",
    ]  # fmt: skip
    assert [c["Type"] for c in info] == [
        "varchar", "double", "bigint", "timestamp", "array", "varchar", "varchar",
        "varchar", "double", "boolean", "date", "decimal",
    ]  # fmt: skip
    assert (info[-1]["Precision"], info[-1]["Scale"]) == (10, 2)
    header, first = page["ResultSet"]["Rows"]
    assert [d["VarCharValue"] for d in header["Data"]] == [c["Name"] for c in info]
    values = first["Data"]
    assert values[7] == {}  # NULL: an empty Datum
    assert [d.get("VarCharValue") for d in values] == [
        "sensor-0", "21.5", "0", "2024-05-02 10:00:00.000", "[roof, zone0]", "2024-05-02",
        "10", None, "2.15E7", "true", "2024-05-01", "1.50",
    ]  # fmt: skip


def test_java_prints_doubles_as_athena_returns_them():
    # Double.toString: plain between 10^-3 and 10^7, scientific outside, always a fraction
    assert java_double(100.0) == "100.0"
    assert java_double(0.1 + 0.2) == "0.30000000000000004"
    assert java_double(1e7) == "1.0E7"
    assert java_double(12345678.9) == "1.23456789E7"
    assert java_double(0.001) == "0.001"
    assert java_double(0.0001) == "1.0E-4"
    assert java_double(-2.5) == "-2.5"


def test_the_csv_and_its_metadata_land_in_the_output_location(athena, s3, catalog):
    execution = run(
        athena,
        "SELECT device, CAST(NULL AS bigint) AS missing, 'say \"hi\"' AS quoted "
        "FROM events WHERE dt = '2024-05-01' AND hour = '09' ORDER BY device",
    )
    qid = execution["QueryExecutionId"]

    assert execution["ResultConfiguration"]["OutputLocation"] == f"{OUT}{qid}.csv"
    body = s3.get_object(Bucket=RESULTS, Key=f"queries/{qid}.csv")["Body"].read().decode()
    assert body.splitlines() == [
        '"device","missing","quoted"',
        '"sensor-0",,"say ""hi"""',
        '"sensor-1",,"say ""hi"""',
        '"sensor-2",,"say ""hi"""',
    ]
    s3.head_object(Bucket=RESULTS, Key=f"queries/{qid}.csv.metadata")


def test_the_work_group_output_location_is_used_and_none_at_all_is_refused(lab, athena, catalog):
    group = lab.name("reports")
    athena.create_work_group(
        Name=group,
        Configuration={
            "ResultConfiguration": {"OutputLocation": f"s3://{RESULTS}/wg/"},
            "EnforceWorkGroupConfiguration": True,
        },
    )
    execution = run(athena, "SELECT 1", WorkGroup=group, ResultConfiguration={})
    assert execution["ResultConfiguration"]["OutputLocation"] == (
        f"s3://{RESULTS}/wg/{execution['QueryExecutionId']}.csv"
    )
    assert execution["WorkGroup"] == group

    with pytest.raises(ClientError) as refused:
        athena.start_query_execution(QueryString="SELECT 1")  # primary has no location
    assert refused.value.response["Error"]["Code"] == "InvalidRequestException"
    assert "output location" in refused.value.response["Error"]["Message"].lower()


def test_registered_partitions_are_pruned_and_only_their_bytes_scanned(athena, catalog):
    execution = run(athena, "SELECT count(*) AS n FROM telemetry.events WHERE dt = '2024-05-02'")
    scanned = execution["Statistics"]["DataScannedInBytes"]

    assert rows(athena, execution["QueryExecutionId"]) == [["n"], ["6"]]
    assert scanned == sum(catalog["json"][p] for p in PARTS if p[0] == "2024-05-02")
    everything = run(athena, "SELECT count(*) FROM events")
    assert everything["Statistics"]["DataScannedInBytes"] == sum(catalog["json"].values())
    for key in ("EngineExecutionTimeInMillis", "TotalExecutionTimeInMillis"):
        assert execution["Statistics"][key] > 0
    assert "QueryQueueTimeInMillis" in execution["Statistics"]


def test_projected_parquet_partitions_are_pruned(athena, catalog):
    execution = run(
        athena,
        "SELECT dt, hour, count(*) AS n, round(avg(temp), 2) AS avg_temp FROM events_parquet "
        "WHERE dt = '2024-05-01' AND hour >= 10 GROUP BY dt, hour",
    )

    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    assert rows(athena, execution["QueryExecutionId"]) == [
        ["dt", "hour", "n", "avg_temp"],
        ["2024-05-01", "10", "3", "22.5"],
    ]
    # one partition of four read, and of its file only the footer and the chunks of `temp`
    # (dt and hour come from the path, count(*) from the footer)
    footer, chunks = parquet_layout(catalog["parquet_path"][("2024-05-01", "10")])
    assert execution["Statistics"]["DataScannedInBytes"] == footer + chunks["temp"]
    info = athena.get_query_results(QueryExecutionId=execution["QueryExecutionId"])
    assert [c["Type"] for c in info["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]] == [
        "varchar", "integer", "bigint", "double",
    ]  # fmt: skip


def test_parquet_bills_only_the_column_chunks_a_query_reads(lab, athena, s3, catalog, tmp_path):
    """Athena reads only the columns a query needs from a columnar format and bills the bytes it
    reads (https://docs.aws.amazon.com/athena/latest/ug/columnar-storage.html, and the pricing
    page: "you are charged for the number of bytes scanned")."""
    path = tmp_path / "wide.parquet"
    wide = ", ".join(f"md5(i::varchar || '{n}') AS c{n}" for n in range(10))
    duckdb.execute(  # 10 columns, 3 row groups
        f"COPY (SELECT i AS id, {wide} FROM range(5000) r(i)) TO '{path}' "
        "(FORMAT parquet, ROW_GROUP_SIZE 2048)"
    )
    s3.put_object(Bucket=DATA, Key="wide/part-0.parquet", Body=path.read_bytes())
    lab.client("glue").create_table(
        DatabaseName="telemetry",
        TableInput={
            "Name": "wide",
            "StorageDescriptor": {
                "Columns": [{"Name": "id", "Type": "bigint"}]
                + [{"Name": f"c{n}", "Type": "string"} for n in range(10)],
                "Location": f"s3://{DATA}/wide/",
                "SerdeInfo": PARQUET,
            },
        },
    )
    footer, chunks = parquet_layout(path)

    def scanned(sql: str) -> int:
        execution = run(athena, sql)
        assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
        return execution["Statistics"]["DataScannedInBytes"]

    one = scanned("SELECT c3 FROM wide")
    everything = scanned("SELECT * FROM wide")

    assert one == footer + chunks["c3"]
    assert everything == footer + sum(chunks.values())
    assert one < everything / 5 and everything <= path.stat().st_size
    # qualified, aliased, in functions and in WHERE: each column counted once
    assert scanned("SELECT w.c1, upper(c2) FROM telemetry.wide AS w WHERE w.c1 > c2") == (
        footer + chunks["c1"] + chunks["c2"]
    )
    assert scanned("SELECT count(*) FROM wide") == footer  # answered from the footer
    assert scanned("SELECT count(*) FROM wide WHERE id > 10") == footer + chunks["id"]


def test_json_bills_whole_objects_whatever_the_columns(athena, catalog):
    execution = run(athena, "SELECT device FROM events WHERE dt = '2024-05-02'")

    assert execution["Statistics"]["DataScannedInBytes"] == sum(
        catalog["json"][p] for p in PARTS if p[0] == "2024-05-02"
    )


def test_a_changed_or_deleted_object_is_read_as_it_is_now(lab, athena, s3, catalog):
    lab.client("glue").create_table(
        DatabaseName="telemetry",
        TableInput={
            "Name": "changing",
            "StorageDescriptor": {
                "Columns": [{"Name": "n", "Type": "int"}],
                "Location": f"s3://{DATA}/changing/",
                "SerdeInfo": {
                    "SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                    "Parameters": {"field.delim": ","},
                },
            },
        },
    )
    s3.put_object(Bucket=DATA, Key="changing/a.csv", Body=b"1\n2\n")
    s3.put_object(Bucket=DATA, Key="changing/b.csv", Body=b"10\n")
    sql = "SELECT sum(n) AS total FROM changing"
    assert rows(athena, run(athena, sql)["QueryExecutionId"]) == [["total"], ["13"]]

    s3.put_object(Bucket=DATA, Key="changing/a.csv", Body=b"100\n")
    assert rows(athena, run(athena, sql)["QueryExecutionId"]) == [["total"], ["110"]]

    s3.delete_object(Bucket=DATA, Key="changing/b.csv")
    execution = run(athena, sql)
    assert rows(athena, execution["QueryExecutionId"]) == [["total"], ["100"]]
    assert execution["Statistics"]["DataScannedInBytes"] == len(b"100\n")


def test_gzip_json_is_read_and_its_compressed_bytes_billed(athena, catalog):
    execution = run(athena, "SELECT count(*) AS n, max(reading) AS top FROM events_gz")

    assert rows(athena, execution["QueryExecutionId"]) == [["n", "top"], ["12", "2000"]]
    assert execution["Statistics"]["DataScannedInBytes"] == catalog["gz"][("all", "")]


def test_csv_skips_its_header_and_reads_nulls_as_hive_does(athena, catalog):
    execution = run(athena, "SELECT device, temp, reading FROM readings_csv ORDER BY device")

    assert rows(athena, execution["QueryExecutionId"]) == [
        ["device", "temp", "reading"],
        ["sensor-0", "20.5", "0"],
        ["sensor-1", None, None],
        ["sensor-2", "22.5", "2000"],
    ]


def test_typical_athena_sql_runs(athena, catalog):
    execution = run(
        athena,
        """
        WITH hourly AS (
          SELECT date_trunc('hour', ts) AS hour_start, device, temp,
                 CAST(json_extract_scalar(payload, '$.battery') AS integer) AS battery
          FROM telemetry.events WHERE dt = '2024-05-01'
        )
        SELECT hour_start, device, battery,
               rank() OVER (PARTITION BY hour_start ORDER BY temp DESC) AS hottest,
               approx_percentile(temp, 0.5) OVER (PARTITION BY hour_start) AS median,
               from_iso8601_timestamp('2024-05-01T09:00:00Z') AS since
        FROM hourly ORDER BY hour_start, hottest LIMIT 2
        """,
    )
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    assert rows(athena, execution["QueryExecutionId"]) == [
        ["hour_start", "device", "battery", "hottest", "median", "since"],
        ["2024-05-01 09:00:00.000", "sensor-2", "88", "1", "21.5", "2024-05-01 09:00:00.000 UTC"],
        ["2024-05-01 09:00:00.000", "sensor-1", "89", "2", "21.5", "2024-05-01 09:00:00.000 UTC"],
    ]
    unnested = run(
        athena,
        "SELECT device, tag FROM events CROSS JOIN UNNEST(tags) AS t(tag) "
        "WHERE dt = '2024-05-01' AND hour = '09' AND device = 'sensor-1' ORDER BY tag",
    )
    assert rows(athena, unnested["QueryExecutionId"]) == [
        ["device", "tag"],
        ["sensor-1", "roof"],
        ["sensor-1", "zone1"],
    ]


def test_unknown_column_and_table_fail_with_athenas_reasons(athena, catalog):
    column = run(athena, "SELECT devic FROM events")
    table = run(athena, "SELECT * FROM telemetry.nope")

    assert column["Status"]["State"] == "FAILED"
    assert column["Status"]["StateChangeReason"].startswith(
        "COLUMN_NOT_FOUND: line 1:8: Column 'devic' cannot be resolved"
    )
    assert column["Status"]["AthenaError"]["ErrorCategory"] == 2  # USER
    assert table["Status"]["StateChangeReason"] == (
        "TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.telemetry.nope' does not exist"
    )
    assert table["Statistics"]["DataScannedInBytes"] == 0
    with pytest.raises(ClientError) as bad:
        athena.get_query_results(QueryExecutionId=table["QueryExecutionId"])
    assert bad.value.response["Error"]["Code"] == "InvalidRequestException"


def test_sql_that_does_not_parse_is_refused(athena, catalog):
    with pytest.raises(ClientError) as refused:
        athena.start_query_execution(
            QueryString="SELECT FROM WHERE", ResultConfiguration={"OutputLocation": OUT}
        )
    assert refused.value.response["Error"]["Code"] == "InvalidRequestException"
    assert refused.value.response["Error"]["Message"].startswith("line 1:")


def test_results_come_in_pages_of_at_most_1000_rows(athena, catalog):
    execution = run(athena, "SELECT n FROM UNNEST(sequence(1, 2500)) AS t(n)")
    qid = execution["QueryExecutionId"]

    first = athena.get_query_results(QueryExecutionId=qid)
    assert len(first["ResultSet"]["Rows"]) == 1000  # the header row counts
    assert first["ResultSet"]["Rows"][0]["Data"] == [{"VarCharValue": "n"}]
    small = athena.get_query_results(QueryExecutionId=qid, MaxResults=10)
    assert len(small["ResultSet"]["Rows"]) == 10 and "NextToken" in small
    second = athena.get_query_results(
        QueryExecutionId=qid, MaxResults=10, NextToken=small["NextToken"]
    )
    assert second["ResultSet"]["Rows"][0]["Data"] == [{"VarCharValue": "10"}]
    everything = rows(athena, qid)
    assert len(everything) == 2501 and everything[-1] == ["2500"]
    with pytest.raises(ClientError) as too_many:
        athena.get_query_results(QueryExecutionId=qid, MaxResults=1001)
    assert too_many.value.response["Error"]["Code"] == "InvalidRequestException"


def test_stopping_a_running_query_cancels_it(athena, catalog):
    qid = athena.start_query_execution(
        QueryString="SELECT count(*) FROM events", ResultConfiguration={"OutputLocation": OUT}
    )["QueryExecutionId"]
    athena.stop_query_execution(QueryExecutionId=qid)
    execution = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
    assert execution["Status"]["State"] == "CANCELLED"


def test_ddl_creates_tables_and_registers_partitions(lab, athena, s3, catalog):
    glue = lab.client("glue")
    for day in ("2024-06-01", "2024-06-02"):
        s3.put_object(
            Bucket=DATA,
            Key=f"ddl/day={day}/a.csv",
            Body=f"sensor-0|{day}|1.5\nsensor-1|{day}|2.5\n".encode(),
        )
    created = run(
        athena,
        "CREATE EXTERNAL TABLE IF NOT EXISTS telemetry.daily (device string, seen string, "
        "value double) PARTITIONED BY (day string) ROW FORMAT DELIMITED FIELDS TERMINATED BY '|' "
        f"LOCATION 's3://{DATA}/ddl/'",
    )
    assert created["Status"]["State"] == "SUCCEEDED", created["Status"]
    assert created["StatementType"] == "DDL"
    assert created["ResultConfiguration"]["OutputLocation"].endswith(".txt")
    assert query_cost(created) == 0
    table = glue.get_table(DatabaseName="telemetry", Name="daily")["Table"]
    assert [k["Name"] for k in table["PartitionKeys"]] == ["day"]

    before = run(athena, "SELECT count(*) FROM daily")
    assert rows(athena, before["QueryExecutionId"])[1] == ["0"]  # no partition registered yet
    repaired = run(athena, "MSCK REPAIR TABLE daily")
    assert repaired["Status"]["State"] == "SUCCEEDED"
    parts = glue.get_partitions(DatabaseName="telemetry", TableName="daily")["Partitions"]
    assert sorted(p["Values"][0] for p in parts) == ["2024-06-01", "2024-06-02"]
    after = run(athena, "SELECT sum(value) FROM daily WHERE day = '2024-06-02'")
    assert rows(athena, after["QueryExecutionId"])[1] == ["4.0"]

    s3.put_object(Bucket=DATA, Key="ddl-extra/b.csv", Body=b"sensor-9|x|10.0\n")
    added = run(
        athena,
        f"ALTER TABLE daily ADD IF NOT EXISTS PARTITION (day = '2024-06-03') "
        f"LOCATION 's3://{DATA}/ddl-extra/'",
    )
    assert added["Status"]["State"] == "SUCCEEDED", added["Status"]
    latest = run(athena, "SELECT device, value FROM daily WHERE day = '2024-06-03'")
    assert rows(athena, latest["QueryExecutionId"]) == [["device", "value"], ["sensor-9", "10.0"]]


def test_the_bill_follows_athenas_published_prices(athena, catalog):
    def execution(scanned: int, state: str = "SUCCEEDED", kind: str = "DML") -> dict:
        return {
            "StatementType": kind,
            "Status": {"State": state},
            "Statistics": {"DataScannedInBytes": scanned},
        }

    # AWS's worked example: 3 TB of uncompressed text scanned -> $15
    assert query_cost(execution(3 * 1024**4)) == Decimal("15")
    # 10 MB minimum per query, rounded up to the MB
    ten_mb = Decimal(10) * 5 / 1024**2
    assert query_cost(execution(1)) == ten_mb
    assert query_cost(execution(10 * 1024**2 + 1)) == Decimal(11) * 5 / 1024**2
    # failed queries and DDL are free
    assert query_cost(execution(10**12, state="FAILED")) == 0
    assert query_cost(execution(0, kind="DDL")) == 0
    real = run(athena, "SELECT count(*) FROM events")
    assert query_cost(real) == costs.athena_cost(
        bytes_scanned_per_query=real["Statistics"]["DataScannedInBytes"]
    )
