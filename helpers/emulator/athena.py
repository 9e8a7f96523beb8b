"""Athena that really runs SQL, offline: the Glue Data Catalog, DuckDB, and results in S3.

moto stores Glue databases, tables and partitions and Athena work groups and query executions,
but runs no SQL (every query SUCCEEDS with no rows). This replaces moto's handlers for
StartQueryExecution, GetQueryExecution, BatchGetQueryExecution, GetQueryResults,
StopQueryExecution and ListQueryExecutions with an engine that does what Athena does:

- **Tables come from the Glue Data Catalog** (moto's glue backend): `StorageDescriptor.Location`
  (`s3://bucket/prefix/`), `Columns` with Hive types, `PartitionKeys`, and the SerDe: JSON
  (`org.openx.data.jsonserde.JsonSerDe`, `org.apache.hive.hcatalog.data.JsonSerDe`), text
  (`LazySimpleSerDe` with `field.delim`, `\\N` for null, unparseable numbers as NULL;
  `OpenCSVSerde` with `separatorChar` / `quoteChar` / `escapeChar`), Parquet
  (`ParquetHiveSerDe` / `MapredParquetInputFormat`, columns matched by name). Objects whose key
  ends in `.gz` are read as GZIP, as Athena does; keys whose file name starts with `_` or `.`
  are skipped, as Athena does. `skip.header.line.count` is honoured.
- **Partitions**: registered ones (`CreatePartition` / `BatchCreatePartition`, each with its own
  `Location`), or **partition projection** (`projection.enabled`, types `enum`, `integer`
  (`range`, `interval`, `digits`) and `date` (`range` with `NOW` and `NOW-3DAYS` style bounds,
  `format` as a Java date pattern, `interval`, `interval.unit`), and `storage.location.template`
  with `${column}`). With projection enabled, registered partitions are ignored, as on AWS.
- **Partition pruning**: the conjuncts of a WHERE clause that name only partition columns are
  evaluated against each partition's values; only the objects of the partitions kept are read.
- **SQL**: Athena's (Trino) dialect parsed and transpiled by sqlglot (`read="athena"`,
  `write="duckdb"`), then run by DuckDB over local copies of the objects read, kept for the
  lab's lifetime in its temporary folder (hive-style `column=value` directories keep the
  partition values). A copy is named after the object's ETag, so an unchanged object is copied
  once and a changed one again; copies of changed or deleted objects are removed while no
  query runs. Each referenced Glue table becomes a DuckDB view whose columns have the Glue types,
  made once per set of copies and reused. A table named `db.table` or resolved through
  `QueryExecutionContext.Database` both work.
- **DDL**, parsed here because sqlglot does not transpile Athena's Hive DDL:
  `CREATE DATABASE|SCHEMA`, `CREATE EXTERNAL TABLE` (columns, `PARTITIONED BY`,
  `ROW FORMAT SERDE ... WITH SERDEPROPERTIES`, `ROW FORMAT DELIMITED FIELDS TERMINATED BY`,
  `STORED AS PARQUET|TEXTFILE`, `LOCATION`, `TBLPROPERTIES`), `DROP TABLE`, `MSCK REPAIR TABLE`
  (registers the `key=value/` prefixes found in S3) and `ALTER TABLE ... ADD PARTITION`. They
  change moto's Glue catalog, and are free.
- **Statistics**: `DataScannedInBytes` counts the objects of the partitions kept after pruning.
  JSON and text objects count whole (their compressed size for GZIP). Parquet objects count as
  Athena reads them, column by column: per object, its footer (the `FileMetaData`, its 4-byte
  length and the closing `PAR1`) plus the `total_compressed_size` of the column chunks, over
  all row groups, of the columns the query names for that table. A column counts when it is
  qualified by the table's alias (`t.col`, `db.t.col`), is a struct column whose field is read
  (`s.field`: the whole struct counts), or is unqualified and the table has a column by that
  name (even where it names an output alias or another table's column: an upper bound).
  Partition columns are not in the files and never count. `SELECT *` or `t.*` counts every
  column of the tables of its own `FROM`, even when an outer query uses fewer of them; a bare
  `count(*)` counts the footer only. Still simplified: row groups skipped by their min/max
  statistics (or by Parquet page indexes) are counted as read, and dictionary and data pages
  of a chunk are counted whole. `EngineExecutionTimeInMillis`, `QueryPlanningTimeInMillis`,
  `ServiceProcessingTimeInMillis`, `QueryQueueTimeInMillis` and `TotalExecutionTimeInMillis`
  are measured on this machine. `query_cost()` turns statistics into Athena's bill.
- **Results**: `GetQueryResults` with the header row first, `ColumnInfo` with Athena's type
  names, values formatted as Athena formats them (doubles as Java prints them, timestamps with
  milliseconds, arrays `[1, 2]`, maps and rows `{k=v}`, NULL as an empty Datum), `MaxResults`
  up to 1,000 and `NextToken`. The CSV goes to `<OutputLocation>/<QueryExecutionId>.csv` (every
  field quoted, NULL empty) with a `.csv.metadata` beside it; DDL writes `<id>.txt`. The output
  location comes from `ResultConfiguration` or the work group (which wins when it enforces its
  configuration); with neither, StartQueryExecution answers InvalidRequestException.
- **States**: the query runs when it is submitted (so a function that starts one and never polls
  still lands its CSV in S3), and its reported state moves QUEUED -> RUNNING -> SUCCEEDED or
  FAILED one step per GetQueryExecution, or straight to the end once the lab clock has moved a
  second past the submission. StopQueryExecution before the end gives CANCELLED (and removes
  the result files). SQL that does not parse is refused by StartQueryExecution with
  InvalidRequestException, as Athena engine 3 does; an unknown table, schema, column or function
  FAILS with Athena's reason (`TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.db.t' does not
  exist`, `COLUMN_NOT_FOUND: line 1:8: Column 'x' cannot be resolved or requester is not
  authorized to access requested resources`) and `AthenaError` category 2 (USER). An object
  of a Parquet table that is not Parquet FAILS the query as a data error naming it
  (`HIVE_CANNOT_OPEN_SPLIT: Error opening Hive split s3://...`).

Not emulated: CTAS, INSERT INTO, UNLOAD, views, `SHOW` / `DESCRIBE`, prepared statements and
`ExecutionParameters`, ORC / Avro / Ion / Iceberg tables, `injected` projection, query result
reuse, Lake Formation, encryption of results, Athena's exact parser messages (sqlglot's
position is used), and the binary format of `.csv.metadata` (the column info is written as
JSON). DuckDB is not Trino: functions outside what sqlglot maps may differ or be missing.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import json
import math
import re
import shutil
import struct
import tempfile
import threading
import time
import uuid
import weakref
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

from moto.core.exceptions import JsonRESTError

CATALOG = "awsdatacatalog"
# Athena's price (us-east-1, https://aws.amazon.com/athena/pricing/, checked 2026-11):
# $5 per TB scanned, rounded up to the megabyte, 10 MB minimum per query; DDL and failed
# queries are free; cancelled queries are billed for what they scanned
PRICE_PER_TB = Decimal("5")
BYTES_PER_MB = 1024 * 1024
MB_PER_TB = 1024 * 1024
MINIMUM_MB = 10
MAX_RESULTS = 1000
SYSTEM, USER = 1, 2  # AthenaError.ErrorCategory: 1 SYSTEM, 2 USER, 3 OTHER (error catalog)
# AthenaError.ErrorType: 1000 user error, 1001 data error, 1003 DDL task failed, 200 query
# engine had an internal error (Athena error catalog)
USER_ERROR, DATA_ERROR, DDL_FAILED, INTERNAL_ERROR = 1000, 1001, 1003, 200
TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED")
_lock = threading.Lock()


class InvalidRequest(JsonRESTError):
    def __init__(self, message: str):
        super().__init__("InvalidRequestException", message)


class QueryFailed(Exception):
    """A query that FAILS: Athena's reason and its AthenaError.ErrorType."""

    def __init__(self, reason: str, error_type: int = USER_ERROR):
        super().__init__(reason)
        self.reason = reason
        self.error_type = error_type


@dataclass
class Query:
    id: str
    sql: str
    database: str
    catalog: str
    workgroup: str
    output: str  # s3://.../<id>.csv (or .txt for DDL)
    statement_type: str
    submitted: float  # lab time
    execution_parameters: list[str] | None = None
    state: str = "QUEUED"
    final: str = "SUCCEEDED"
    reason: str | None = None
    error_type: int | None = None
    error_category: int = USER
    shown: int = 0  # how many GetQueryExecution calls moved it on
    completed: float | None = None
    columns: list[dict[str, Any]] = field(default_factory=list)
    rows: list[list[str | None]] = field(default_factory=list)
    header: bool = False
    scanned: int = 0
    timings: dict[str, int] = field(default_factory=dict)

    def statistics(self) -> dict[str, Any]:
        t = self.timings
        return {
            "EngineExecutionTimeInMillis": t.get("engine", 0),
            "DataScannedInBytes": self.scanned,
            "TotalExecutionTimeInMillis": sum(t.values()),
            "QueryQueueTimeInMillis": t.get("queue", 0),
            "QueryPlanningTimeInMillis": t.get("planning", 0),
            "ServicePreProcessingTimeInMillis": t.get("preprocessing", 0),
            "ServiceProcessingTimeInMillis": t.get("service", 0),
            "ResultReuseInformation": {"ReusedPreviousResult": False},
        }

    def describe(self) -> dict[str, Any]:
        status: dict[str, Any] = {"State": self.state, "SubmissionDateTime": self.submitted}
        if self.state in TERMINAL:
            status["CompletionDateTime"] = self.completed
        if self.state == "FAILED":
            status["StateChangeReason"] = self.reason
            status["AthenaError"] = {
                "ErrorCategory": self.error_category,
                "ErrorType": self.error_type,
                "Retryable": False,
                "ErrorMessage": self.reason,
            }
        out: dict[str, Any] = {
            "QueryExecutionId": self.id,
            "Query": self.sql,
            "StatementType": self.statement_type,
            "ResultConfiguration": {"OutputLocation": self.output},
            "ResultReuseConfiguration": {"ResultReuseByAgeConfiguration": {"Enabled": False}},
            "QueryExecutionContext": {"Database": self.database, "Catalog": self.catalog},
            "Status": status,
            "Statistics": self.statistics()
            if self.state in TERMINAL
            else {"DataScannedInBytes": 0, "TotalExecutionTimeInMillis": 0},
            "WorkGroup": self.workgroup,
            "EngineVersion": {
                "SelectedEngineVersion": "AUTO",
                "EffectiveEngineVersion": "Athena engine version 3",
            },
            "SubstatementType": self.statement_type_detail(),
        }
        if self.execution_parameters is not None:
            out["ExecutionParameters"] = self.execution_parameters
        return out

    def statement_type_detail(self) -> str:
        words = self.sql.split()
        return " ".join(words[:2]).upper() if self.statement_type == "DDL" else "SELECT"


def query_cost(query_execution: dict[str, Any]) -> Decimal:
    """USD Athena bills for one query, from a GetQueryExecution `QueryExecution`.

    $5 per TB scanned, the bytes rounded up to the MB with a 10 MB minimum; DDL and failed
    queries are free."""
    status = query_execution["Status"]["State"]
    if status == "FAILED" or query_execution.get("StatementType") == "DDL":
        return Decimal(0)
    if status not in ("SUCCEEDED", "CANCELLED"):
        raise ValueError(f"query {query_execution.get('QueryExecutionId')} is still {status}")
    scanned = int(query_execution["Statistics"]["DataScannedInBytes"])
    megabytes = max(math.ceil(scanned / BYTES_PER_MB), MINIMUM_MB)
    return Decimal(megabytes) * PRICE_PER_TB / MB_PER_TB


# ---- moto seams --------------------------------------------------------------------------------
def _queries(backend: Any) -> dict[str, Query]:
    with _lock:
        if not hasattr(backend, "labbook_queries"):
            backend.labbook_queries = {}
        return backend.labbook_queries


def _tokens(backend: Any) -> dict[str, str]:
    """ClientRequestToken -> QueryExecutionId: a repeated token starts nothing new."""
    with _lock:
        if not hasattr(backend, "labbook_tokens"):
            backend.labbook_tokens = {}
        return backend.labbook_tokens


def install(emulator: Any) -> None:
    """Replace moto's Athena query handlers with ones that run the SQL."""
    from moto.athena.responses import AthenaResponse

    def start_query_execution(response: Any) -> str:
        backend = response.athena_backend
        sql = response._get_param("QueryString") or ""
        context = response._get_param("QueryExecutionContext") or {}
        config = response._get_param("ResultConfiguration") or {}
        workgroup_name = response._get_param("WorkGroup") or "primary"
        workgroup = backend.work_groups.get(workgroup_name)
        if workgroup is None:
            raise InvalidRequest(f"WorkGroup {workgroup_name} is not found.")
        token = response._get_param("ClientRequestToken")
        queries = _queries(backend)
        tokens = _tokens(backend)
        if token and token in tokens:
            return json.dumps({"QueryExecutionId": tokens[token]})
        wg_config = workgroup.configuration or {}
        location = config.get("OutputLocation")
        wg_location = (wg_config.get("ResultConfiguration") or {}).get("OutputLocation")
        if wg_location and (wg_config.get("EnforceWorkGroupConfiguration") or not location):
            location = wg_location
        if not location:
            raise InvalidRequest(
                "No output location provided. An output location is required either through "
                "the Workgroup result configuration setting or as an API input."
            )
        statement = _statement_type(sql)
        if statement == "DML":
            _parse(sql)  # Athena refuses SQL that does not parse before it queues anything
        query_id = str(uuid.uuid4())
        ext = "txt" if statement == "DDL" else "csv"
        query = Query(
            id=query_id,
            sql=sql,
            database=context.get("Database") or "default",
            catalog=context.get("Catalog") or "AwsDataCatalog",
            workgroup=workgroup_name,
            output=f"{location.rstrip('/')}/{query_id}.{ext}",
            statement_type=statement,
            submitted=emulator.clock.now(),
            execution_parameters=response._get_param("ExecutionParameters"),
        )
        queries[query_id] = query
        if token:
            tokens[token] = query_id
        _run(query, response.current_account, response.region, emulator)
        return json.dumps({"QueryExecutionId": query_id})

    def _find(response: Any, query_id: str | None = None) -> Query:
        query_id = query_id or response._get_param("QueryExecutionId")
        query = _queries(response.athena_backend).get(query_id)
        if query is None:
            raise InvalidRequest(f"QueryExecution {query_id} was not found")
        return query

    def get_query_execution(response: Any) -> str:
        query = _find(response)
        _advance(query, emulator.clock.now())
        return json.dumps({"QueryExecution": query.describe()})

    def batch_get_query_execution(response: Any) -> str:
        found, missing = [], []
        queries = _queries(response.athena_backend)
        for query_id in response._get_param("QueryExecutionIds") or []:
            query = queries.get(query_id)
            if query is None:
                missing.append(
                    {
                        "QueryExecutionId": query_id,
                        "ErrorCode": "INVALID_INPUT",
                        "ErrorMessage": f"QueryExecution {query_id} was not found",
                    }
                )
                continue
            _advance(query, emulator.clock.now())
            found.append(query.describe())
        return json.dumps(
            {"QueryExecutions": found, "UnprocessedQueryExecutionIds": missing}, default=str
        )

    def get_query_results(response: Any) -> str:
        query = _find(response)
        if query.state == "FAILED" or query.state == "CANCELLED":
            raise InvalidRequest(
                f"Query did not finish successfully. Final query state: {query.state}"
            )
        if query.state != "SUCCEEDED":
            raise InvalidRequest(f"Query has not yet finished. Current state: {query.state}")
        limit = response._get_param("MaxResults") or MAX_RESULTS
        if not 1 <= int(limit) <= MAX_RESULTS:
            raise InvalidRequest(
                f"1 validation error detected: Value '{limit}' at 'maxResults' failed to satisfy "
                f"constraint: Member must have value less than or equal to {MAX_RESULTS}"
            )
        return json.dumps(_results_page(query, int(limit), response._get_param("NextToken")))

    def stop_query_execution(response: Any) -> str:
        query = _find(response)
        if query.state not in TERMINAL:
            query.state = "CANCELLED"
            query.final = "CANCELLED"
            query.completed = emulator.clock.now()
            _delete_outputs(query, response.current_account)
        return "{}"

    def list_query_executions(response: Any) -> str:
        workgroup = response._get_param("WorkGroup") or "primary"
        ids = [
            q.id
            for q in sorted(
                _queries(response.athena_backend).values(),
                key=lambda q: q.submitted,
                reverse=True,
            )
            if q.workgroup == workgroup
        ]
        limit = int(response._get_param("MaxResults") or 50)
        start = int(_decode_token(response._get_param("NextToken")) or 0)
        out: dict[str, Any] = {"QueryExecutionIds": ids[start : start + limit]}
        if start + limit < len(ids):
            out["NextToken"] = _encode_token(str(start + limit))
        return json.dumps(out)

    for name, fn in (
        ("start_query_execution", start_query_execution),
        ("get_query_execution", get_query_execution),
        ("batch_get_query_execution", batch_get_query_execution),
        ("get_query_results", get_query_results),
        ("stop_query_execution", stop_query_execution),
        ("list_query_executions", list_query_executions),
    ):
        emulator._patch(AthenaResponse, name, fn)


def _advance(query: Query, now: float) -> None:
    """One step of QUEUED -> RUNNING -> final per look, or straight to the end in lab time."""
    if query.state in TERMINAL:
        return
    if now - query.submitted >= 1.0 or query.state == "RUNNING":
        query.state = query.final
    else:
        query.state = "RUNNING"


def _encode_token(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode()


def _decode_token(token: str | None) -> str | None:
    if not token:
        return None
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except Exception:
        raise InvalidRequest("The NextToken is not valid.") from None


def _results_page(query: Query, limit: int, token: str | None) -> dict[str, Any]:
    decoded = _decode_token(token)
    start = 0
    if decoded is not None:
        qid, _, offset = decoded.partition(":")
        if qid != query.id or not offset.isdigit():
            raise InvalidRequest("The NextToken is not valid.")
        start = int(offset)
    header = 1 if query.header else 0
    total = header + len(query.rows)
    page: list[dict[str, Any]] = []
    for i in range(start, min(start + limit, total)):
        if i < header:
            page.append({"Data": [{"VarCharValue": c["Label"]} for c in query.columns]})
        else:
            page.append({"Data": [_datum(v) for v in query.rows[i - header]]})
    out: dict[str, Any] = {
        "UpdateCount": 0,
        "ResultSet": {"Rows": page, "ResultSetMetadata": {"ColumnInfo": query.columns}},
    }
    if start + limit < total:
        out["NextToken"] = _encode_token(f"{query.id}:{start + limit}")
    return out


def _datum(value: str | None) -> dict[str, str]:
    return {} if value is None else {"VarCharValue": value}


# ---- running a query ---------------------------------------------------------------------------
_DDL = re.compile(r"^\s*(CREATE|DROP|ALTER|MSCK|SHOW|DESCRIBE|DESC)\b", re.I)
_CTAS = re.compile(r"^\s*CREATE\s+TABLE\b.*?\bAS\s*\(?\s*(SELECT|WITH)\b", re.I | re.S)


def _statement_type(sql: str) -> str:
    stripped = _strip_comments(sql)
    if _CTAS.match(stripped):
        return "DML"
    if _DDL.match(stripped):
        return "DDL"
    return "DML"


def _strip_comments(sql: str) -> str:
    return re.sub(r"--[^\n]*", "", sql).strip()


@functools.lru_cache(maxsize=256)
def _parse(sql: str) -> Any:
    """The one statement of `sql` in Athena's dialect; shared between queries: copy to change."""
    import sqlglot
    from sqlglot.errors import ParseError, TokenError

    try:
        statements = [s for s in sqlglot.parse(sql, read="athena") if s is not None]
    except ParseError as exc:
        err = (exc.errors or [{}])[0]
        line, col = err.get("line", 1), err.get("col", 1)
        got = err.get("highlight") or "<EOF>"
        raise InvalidRequest(f"line {line}:{col}: mismatched input '{got}'") from None
    except TokenError as exc:
        raise InvalidRequest(f"line 1:1: {exc}") from None
    if len(statements) != 1:
        raise InvalidRequest("Only one sql statement is allowed. Got: " + str(len(statements)))
    return statements[0]


def _run(query: Query, account: str, region: str, emulator: Any) -> None:
    started = time.perf_counter()
    query.timings = {"queue": 0, "preprocessing": 0}
    try:
        if query.statement_type == "DDL":
            _run_ddl(query, account, region)
            query.timings["engine"] = _ms(started)
            query.header = False
        else:
            _run_select(query, account, region, _engine(emulator))
        t = time.perf_counter()
        _write_outputs(query, account)
        query.timings["service"] = _ms(t)
    except QueryFailed as exc:
        _fail(query, exc.reason, exc.error_type if query.statement_type == "DML" else DDL_FAILED)
        query.timings.setdefault("engine", _ms(started))
    except JsonRESTError as exc:  # a Glue call of the DDL refused
        _fail(query, f"FAILED: {exc.error_type} {exc.message}", DDL_FAILED)
        query.timings.setdefault("engine", _ms(started))
    except Exception as exc:  # the emulator's own failure: SYSTEM, as Athena reports its own
        _fail(query, f"GENERIC_INTERNAL_ERROR: {exc}", INTERNAL_ERROR, category=SYSTEM)
        query.timings.setdefault("engine", _ms(started))
    query.completed = query.submitted + sum(query.timings.values()) / 1000


def _fail(query: Query, reason: str, error_type: int, category: int = 2) -> None:
    query.final = "FAILED"
    query.reason = reason
    query.error_type = error_type
    query.error_category = category
    query.rows, query.columns, query.scanned, query.header = [], [], 0, False


def _ms(since: float) -> int:
    return max(1, round((time.perf_counter() - since) * 1000))


# ---- catalog and S3 ----------------------------------------------------------------------------
def _glue(account: str, region: str) -> Any:
    from moto.glue.models import glue_backends

    return glue_backends[account][region]


def _bucket(account: str, name: str) -> Any:
    from moto.s3.models import s3_backends

    owner = s3_backends.bucket_accounts.get(name)
    if owner is None:
        return None
    partition, bucket_account = owner
    return s3_backends[bucket_account][partition].buckets.get(name)


def _split_s3(url: str) -> tuple[str, str]:
    if not url.startswith("s3://"):
        raise QueryFailed(f"HIVE_INVALID_METADATA: Location {url!r} is not an s3:// URL")
    bucket, _, key = url[5:].partition("/")
    return bucket, key


def _listing(bucket_name: str, listings: dict[str, list[str]] | None = None) -> list[str]:
    """The sorted key names of a bucket (none if it does not exist), listed once per query."""
    if listings is not None and bucket_name in listings:
        return listings[bucket_name]
    bucket = _bucket("", bucket_name)
    names = sorted(list(bucket.keys.keys())) if bucket is not None else []
    if listings is not None:
        listings[bucket_name] = names
    return names


def _key(bucket_name: str, key_name: str) -> Any:
    """The moto key of an object, or None when it (or its bucket) does not exist."""
    from moto.s3.models import FakeDeleteMarker

    bucket = _bucket("", bucket_name)
    key = bucket.keys.get(key_name) if bucket is not None else None
    return None if key is None or isinstance(key, FakeDeleteMarker) else key


def _objects(
    account: str, url: str, listings: dict[str, list[str]] | None = None
) -> list[tuple[str, Any]]:
    """(key, moto key) under an S3 prefix, sorted, without folder markers and hidden files."""
    from moto.s3.models import FakeDeleteMarker

    bucket_name, prefix = _split_s3(url)
    bucket = _bucket(account, bucket_name)
    if bucket is None:
        raise QueryFailed(
            f"HIVE_CANNOT_OPEN_SPLIT: Error opening Hive split {url}: "
            f"The specified bucket does not exist (Bucket: {bucket_name})",
            DATA_ERROR,
        )
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    names = _listing(bucket_name, listings)
    out = []
    for i in range(bisect_left(names, prefix), len(names)):
        name = names[i]
        if not name.startswith(prefix):
            break
        key = bucket.keys.get(name)
        if key is None or isinstance(key, FakeDeleteMarker) or name.endswith("/"):
            continue
        if any(part.startswith(("_", ".")) for part in name[len(prefix) :].split("/")):
            continue
        if name.endswith("_$folder$"):
            continue
        out.append((name, key))
    return out


def _put(account: str, url: str, body: bytes, content_type: str) -> None:
    from moto.s3.models import s3_backends

    bucket_name, key = _split_s3(url)
    owner = s3_backends.bucket_accounts.get(bucket_name)
    if owner is None:
        raise QueryFailed(
            f"Unable to verify/create output bucket {bucket_name}", error_type=USER_ERROR
        )
    partition, bucket_account = owner
    written = s3_backends[bucket_account][partition].put_object(bucket_name, key, body)
    with contextlib.suppress(Exception):
        written.set_metadata({"Content-Type": content_type})


def _write_outputs(query: Query, account: str) -> None:
    if query.statement_type == "DDL":
        body = "".join(f"{row[0] if row else ''}\n" for row in query.rows).encode()
        _put(account, query.output, body, "text/plain")
        return
    lines = []
    if query.header:
        lines.append(",".join(_csv_field(c["Label"]) for c in query.columns))
    for row in query.rows:
        lines.append(",".join("" if v is None else _csv_field(v) for v in row))
    _put(account, query.output, ("\n".join(lines) + "\n").encode(), "text/csv")
    _put(
        account,
        query.output + ".metadata",
        json.dumps({"ColumnInfo": query.columns}).encode(),
        "application/octet-stream",
    )


def _delete_outputs(query: Query, account: str) -> None:
    from moto.s3.models import s3_backends

    bucket_name, key = _split_s3(query.output)
    owner = s3_backends.bucket_accounts.get(bucket_name)
    if owner is None:
        return
    partition, bucket_account = owner
    for name in (key, key + ".metadata"):
        with contextlib.suppress(Exception):
            s3_backends[bucket_account][partition].delete_object(bucket_name, name)


def _csv_field(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


@dataclass
class Table:
    database: str
    name: str
    location: str
    columns: list[tuple[str, str]]  # (name, hive type)
    partition_keys: list[tuple[str, str]]
    serde: str
    input_format: str
    serde_params: dict[str, str]
    params: dict[str, str]
    partitions: list[tuple[tuple[str, ...], str]]  # registered: (values, location)
    account: str = ""


def _table(account: str, region: str, database: str, name: str, where: str) -> Table:
    glue = _glue(account, region)
    db = glue.databases.get(database)
    if db is None:
        raise QueryFailed(f"SCHEMA_NOT_FOUND: {where}Schema '{database}' does not exist")
    found = db.tables.get(name)
    if found is None:
        found = next((t for n, t in db.tables.items() if n.lower() == name), None)
    if found is None:
        raise QueryFailed(
            f"TABLE_NOT_FOUND: {where}Table '{CATALOG}.{database}.{name}' does not exist"
        )
    spec = found.as_dict()
    sd = spec.get("StorageDescriptor") or {}
    serde = sd.get("SerdeInfo") or {}
    location = sd.get("Location") or ""
    registered = []
    for part in found.partitions.values():
        pin = part.partition_input
        values = tuple(str(v) for v in pin.get("Values", []))
        ploc = (pin.get("StorageDescriptor") or {}).get("Location")
        registered.append((values, ploc or ""))
    keys = [(k["Name"].lower(), k.get("Type", "string")) for k in spec.get("PartitionKeys") or []]
    registered = [(v, loc or _default_location(location, keys, v)) for v, loc in registered if v]
    return Table(
        database=database,
        name=found.name,
        location=location,
        columns=[(c["Name"].lower(), c.get("Type", "string")) for c in sd.get("Columns") or []],
        partition_keys=keys,
        serde=serde.get("SerializationLibrary") or "",
        input_format=sd.get("InputFormat") or "",
        serde_params={k: str(v) for k, v in (serde.get("Parameters") or {}).items()},
        params={k: str(v) for k, v in (spec.get("Parameters") or {}).items()},
        partitions=registered,
        account=account,
    )


def _default_location(root: str, keys: list[tuple[str, str]], values: tuple[str, ...]) -> str:
    parts = "/".join(f"{k}={v}" for (k, _), v in zip(keys, values, strict=False))
    return f"{root.rstrip('/')}/{parts}/"


# ---- partition projection ----------------------------------------------------------------------
_UNITS = {
    "YEARS": "years",
    "MONTHS": "months",
    "WEEKS": "weeks",
    "DAYS": "days",
    "HOURS": "hours",
    "MINUTES": "minutes",
    "SECONDS": "seconds",
    "MILLIS": "millis",
}
_JAVA = [
    ("yyyy", "%Y"),
    ("yy", "%y"),
    ("MM", "%m"),
    ("dd", "%d"),
    ("HH", "%H"),
    ("mm", "%M"),
    ("ss", "%S"),
]


def _java_to_strftime(pattern: str) -> str:
    out, i = [], 0
    while i < len(pattern):
        if pattern[i] == "'":
            end = pattern.find("'", i + 1)
            end = len(pattern) if end < 0 else end
            out.append(pattern[i + 1 : end].replace("%", "%%") or "'")
            i = end + 1
            continue
        for java, py in _JAVA:
            if pattern.startswith(java, i):
                out.append(py)
                i += len(java)
                break
        else:
            out.append("%%" if pattern[i] == "%" else pattern[i])
            i += 1
    return "".join(out)


def _finest_unit(pattern: str) -> str:
    plain = re.sub(r"'[^']*'", "", pattern)
    for letter, unit in (("s", "SECONDS"), ("m", "MINUTES"), ("H", "HOURS"), ("d", "DAYS")):
        if letter in plain:
            return unit
    return "MONTHS" if "M" in plain else "YEARS"


def _add(moment: datetime, amount: int, unit: str) -> datetime:
    if unit in ("YEARS", "MONTHS"):
        months = amount * (12 if unit == "YEARS" else 1) + moment.month - 1
        year, month = moment.year + months // 12, months % 12 + 1
        day = min(
            moment.day,
            [31, 29 if year % 4 == 0 else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1],
        )
        return moment.replace(year=year, month=month, day=day)
    if unit == "MILLIS":
        return moment + timedelta(milliseconds=amount)
    return moment + timedelta(**{_UNITS[unit]: amount})


def _date_bound(text: str, fmt: str, now: datetime) -> datetime:
    text = text.strip()
    match = re.fullmatch(r"NOW\s*(?:([+-])\s*(\d+)\s*([A-Za-z]+?)S?)?", text, re.I)
    if match:
        if not match.group(1):
            return now
        unit = match.group(3).upper() + "S"
        if unit not in _UNITS:
            raise QueryFailed(f"HIVE_INVALID_METADATA: unknown date unit in range bound {text!r}")
        amount = int(match.group(2)) * (1 if match.group(1) == "+" else -1)
        return _add(now, amount, unit)
    try:
        return datetime.strptime(text, fmt).replace(tzinfo=timezone.utc)
    except ValueError:
        raise QueryFailed(
            f"HIVE_INVALID_METADATA: range bound {text!r} does not match format {fmt!r}"
        ) from None


def _projected_values(table: Table, column: str, now: datetime) -> list[str]:
    p = table.params
    prefix = f"projection.{column}."
    kind = p.get(prefix + "type", "").strip().lower()
    if kind == "enum":
        return p.get(prefix + "values", "").split(",")
    if kind == "integer":
        low_text, high_text = (s.strip() for s in p.get(prefix + "range", "").split(","))
        low, high = int(low_text), int(high_text)
        step = int(p.get(prefix + "interval", "1").strip() or 1)
        digits = p.get(prefix + "digits", "").strip()
        width = int(digits) if digits else 0
        return [str(n).zfill(width) if width else str(n) for n in range(low, high + 1, step)]
    if kind == "date":
        pattern = p.get(prefix + "format", "yyyy-MM-dd").strip()
        fmt = _java_to_strftime(pattern)
        low_text, high_text = p.get(prefix + "range", "").split(",")
        low, high = _date_bound(low_text, fmt, now), _date_bound(high_text, fmt, now)
        unit = p.get(prefix + "interval.unit", "").strip().upper() or _finest_unit(pattern)
        step = int(p.get(prefix + "interval", "1").strip() or 1)
        values, moment, n = [], low, 0
        while moment <= high:
            values.append(moment.strftime(fmt))
            n += 1
            moment = _add(low, n * step, unit)
            if n > 1_000_000:
                raise QueryFailed(
                    "HIVE_EXCEEDED_PARTITION_LIMIT: partition projection would produce more "
                    "than 1,000,000 partitions"
                )
        return values
    if kind == "injected":
        raise QueryFailed(
            f"NOT_SUPPORTED: injected partition projection (column {column}) is not emulated "
            "offline; use enum, integer or date"
        )
    raise QueryFailed(
        f"HIVE_INVALID_METADATA: Column {column} of table {table.database}.{table.name} has "
        f"projection type {kind!r}: use enum, integer, date or injected"
    )


def _candidates(table: Table, now: datetime) -> list[tuple[tuple[str, ...], str]]:
    if table.params.get("projection.enabled", "").strip().lower() != "true":
        return table.partitions
    if any("now" in v.lower() for k, v in table.params.items() if k.endswith(".range")):
        return _projected(table, now)
    # without NOW in a range the partitions depend on the table's definition alone
    key = (table.database, table.name, table.location, tuple(table.partition_keys))
    return list(_fixed_projection(key, tuple(sorted(table.params.items()))))


@functools.lru_cache(maxsize=64)
def _fixed_projection(
    key: tuple[Any, ...], params: tuple[tuple[str, str], ...]
) -> tuple[tuple[tuple[str, ...], str], ...]:
    database, name, location, keys = key
    table = Table(database, name, location, [], list(keys), "", "", {}, dict(params), [])
    return tuple(_projected(table, datetime.fromtimestamp(0, tz=timezone.utc)))  # no NOW: unused


def _projected(table: Table, now: datetime) -> list[tuple[tuple[str, ...], str]]:
    lists = [_projected_values(table, name, now) for name, _ in table.partition_keys]
    template = table.params.get("storage.location.template")
    out: list[tuple[tuple[str, ...], str]] = [((), "")]
    for values in lists:
        out = [(combo + (v,), "") for combo, _ in out for v in values]
    located = []
    for values, _ in out:
        if template:
            loc = template
            for (name, _), v in zip(table.partition_keys, values, strict=True):
                loc = loc.replace("${" + name + "}", v)
        else:
            loc = _default_location(table.location, table.partition_keys, values)
        located.append((values, loc))
    return located


# ---- types -------------------------------------------------------------------------------------
def _split_top(text: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch in "<(":
            depth += 1
        elif ch in ">)":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur.strip())
    return parts


def duck_type(hive: str) -> str:
    """The DuckDB type for a Glue (Hive) column type."""
    t = hive.strip()
    low = t.lower()
    if low.startswith("array<"):
        return duck_type(t[6:-1]) + "[]"
    if low.startswith("map<"):
        key, value = _split_top(t[4:-1])
        return f"MAP({duck_type(key)}, {duck_type(value)})"
    if low.startswith("struct<"):
        fields = []
        for part in _split_top(t[7:-1]):
            name, _, ftype = part.partition(":")
            fields.append(f'"{name.strip()}" {duck_type(ftype)}')
        return f"STRUCT({', '.join(fields)})"
    if low.startswith("decimal"):
        return low.upper() if "(" in low else "DECIMAL(10,0)"
    if low.startswith(("varchar", "char", "string")):
        return "VARCHAR"
    simple = {
        "int": "INTEGER",
        "integer": "INTEGER",
        "bigint": "BIGINT",
        "smallint": "SMALLINT",
        "tinyint": "TINYINT",
        "double": "DOUBLE",
        "float": "FLOAT",
        "real": "FLOAT",
        "boolean": "BOOLEAN",
        "date": "DATE",
        "timestamp": "TIMESTAMP",
        "binary": "BLOB",
    }
    if low not in simple:
        raise QueryFailed(f"HIVE_INVALID_METADATA: unsupported column type {hive!r}")
    return simple[low]


_ATHENA_TYPES = {
    "VARCHAR": ("varchar", 2147483647),
    "BIGINT": ("bigint", 19),
    "HUGEINT": ("bigint", 19),
    "UBIGINT": ("bigint", 19),
    "UINTEGER": ("bigint", 19),
    "INTEGER": ("integer", 10),
    "USMALLINT": ("integer", 10),
    "SMALLINT": ("smallint", 5),
    "UTINYINT": ("smallint", 5),
    "TINYINT": ("tinyint", 3),
    "DOUBLE": ("double", 17),
    "FLOAT": ("real", 7),
    "BOOLEAN": ("boolean", 0),
    "DATE": ("date", 0),
    "TIMESTAMP": ("timestamp", 3),
    "TIMESTAMP_NS": ("timestamp", 3),
    "TIMESTAMP_MS": ("timestamp", 3),
    "TIMESTAMP WITH TIME ZONE": ("timestamp with time zone", 3),
    "TIME": ("time", 3),
    "BLOB": ("varbinary", 2147483647),
    "JSON": ("json", 0),
    "UUID": ("uuid", 0),
    "INTERVAL": ("interval day to second", 0),
}


def _column_info(name: str, duck: str) -> dict[str, Any]:
    scale = 0
    if duck.endswith("[]"):
        athena, precision = "array", 0
    elif duck.startswith("MAP("):
        athena, precision = "map", 0
    elif duck.startswith("STRUCT("):
        athena, precision = "row", 0
    elif duck.startswith("DECIMAL"):
        numbers = re.findall(r"\d+", duck)
        athena, precision = "decimal", int(numbers[0])
        scale = int(numbers[1]) if len(numbers) > 1 else 0
    else:
        athena, precision = _ATHENA_TYPES.get(duck, (duck.lower(), 0))
    return {
        "CatalogName": "hive",
        "SchemaName": "",
        "TableName": "",
        "Name": name,
        "Label": name,
        "Type": athena,
        "Precision": precision,
        "Scale": scale,
        "Nullable": "UNKNOWN",
        "CaseSensitive": athena == "varchar",
    }


def java_double(value: float) -> str:
    """A double as Java's Double.toString (Trino, hence Athena) prints it."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1, value) < 0 else "0.0"
    return _java_float_text(repr(value), abs(value))


def java_float(value: float) -> str:
    """A REAL as Java's Float.toString prints it."""
    if math.isnan(value) or math.isinf(value) or value == 0:
        return java_double(value)
    for digits in range(1, 10):
        text = f"{value:.{digits}g}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == value:
            break
    return _java_float_text(repr(float(text)), abs(value))


def _java_float_text(shortest: str, magnitude: float) -> str:
    if 1e-3 <= magnitude < 1e7 and "e" not in shortest:
        return shortest  # Python's repr and Java agree between 10^-3 and 10^7
    mantissa, _, exponent = f"{float(shortest):.17e}".partition("e")
    digits = Decimal(shortest).normalize()
    sign, ds, exp = digits.as_tuple()
    digit_str = "".join(map(str, ds))
    point = len(digit_str) + int(exp)  # position of the decimal point in digit_str
    negative = "-" if sign else ""
    if 1e-3 <= magnitude < 1e7:
        if point <= 0:
            return f"{negative}0.{'0' * -point}{digit_str}"
        if point >= len(digit_str):
            return f"{negative}{digit_str}{'0' * (point - len(digit_str))}.0"
        return f"{negative}{digit_str[:point]}.{digit_str[point:]}"
    rest = digit_str[1:] or "0"
    return f"{negative}{digit_str[0]}.{rest}E{point - 1}"


def _fmt(value: Any, duck: str) -> str | None:
    if value is None:
        return None
    kind = type(value)
    if kind is str:
        return value
    if kind is int:
        return str(value)
    if kind is float and duck != "FLOAT":
        return java_double(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return java_float(value) if duck == "FLOAT" else java_double(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        text = value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}"
        return text + " UTC" if value.tzinfo is not None else text
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex(" ")
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_nested(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_nested(k)}={_nested(v)}" for k, v in value.items()) + "}"
    return str(value)


def _nested(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, float):
        return java_double(value)
    return _fmt(value, "") or ""


# ---- SELECT ------------------------------------------------------------------------------------
def _position(sql: str, node: Any) -> str:
    meta = getattr(node, "meta", None) or {}
    if "start" in meta:
        start = meta["start"]
        line = sql.count("\n", 0, start) + 1
        col = start - (sql.rfind("\n", 0, start) + 1) + 1
        return f"line {line}:{col}: "
    return ""


@dataclass(frozen=True)
class _ParquetFile:
    """What Athena reads of one Parquet object besides its column chunks, and the chunks."""

    footer: int  # the FileMetaData, its 4-byte length and the closing "PAR1"
    chunks: dict[str, int]  # top-level column (lower case) -> compressed bytes, all row groups
    schema: tuple[tuple[Any, ...], ...]  # parquet_schema rows: files alike read without union


class _Engine:
    """One DuckDB database and one folder of object copies per lab, removed with the lab.

    A query reads local copies of the objects it keeps after pruning. A copy is named after the
    object's bucket, key, ETag and size: an unchanged object is copied once and read by every
    later query, a changed one is copied again, and copies of objects that changed or were
    deleted are removed while no query runs. Each distinct table definition over a distinct set
    of copies becomes one DuckDB view, created once; the layout of a Parquet copy (footer,
    column chunks, schema) is read once."""

    MAX_VIEWS = 1024
    SWEEP_EVERY = 64  # queries between two looks for copies of deleted objects

    def __init__(self, now: Any) -> None:
        import duckdb

        self.db = duckdb.connect()
        # every query's cursor inherits these; the copies never change under their name, so
        # DuckDB may keep their Parquet footers in memory
        for setting in (
            "SET GLOBAL TimeZone='UTC'",
            "SET GLOBAL threads=2",
            # DuckDB 2.0 pushes TRY_CAST into the CSV reader, where it throws: Hive's text SerDe
            # reads an unparseable number as NULL, so keep the cast in the projection
            "SET GLOBAL disabled_optimizers='type_pushdown'",
            "SET GLOBAL parquet_metadata_cache=true",
        ):
            self.db.execute(setting)
        self.folder = Path(tempfile.mkdtemp(prefix="labbook-athena-"))
        self.now = now
        self.lock = threading.Lock()
        self.copies: dict[tuple[Path, str, str], tuple[Path, str]] = {}  # -> (path, etag)
        self.stale: set[Path] = set()
        self.views: dict[str, str] = {}  # definition digest -> view name, oldest first
        self.sql: dict[tuple[str, tuple[str, ...]], str] = {}  # (Athena SQL, views) -> DuckDB
        self.parquet: dict[str, _ParquetFile] = {}
        self.folders: dict[tuple[Any, ...], Path] = {}  # one folder per table and partition
        self.running = 0
        self.queries = 0

    def begin(self) -> None:
        with self.lock:
            self.running += 1
            self.queries += 1

    def end(self) -> None:
        """A query ended: with none running, remove the copies no object needs any more."""
        with self.lock:
            self.running -= 1
            if self.running:
                return
            if self.queries % self.SWEEP_EVERY == 0:
                self._sweep()
            if not self.stale:
                return
            current = {path for path, _ in self.copies.values()}
            for path in self.stale - current:
                path.unlink(missing_ok=True)
                self.parquet.pop(str(path), None)
            self.stale.clear()

    def _sweep(self) -> None:
        for slot, (path, etag) in list(self.copies.items()):
            _, bucket_name, key_name = slot
            key = _key(bucket_name, key_name)
            if key is None or key.etag != etag:
                del self.copies[slot]
                self.stale.add(path)

    def copy(self, directory: Path, bucket_name: str, key: Any, suffix: str) -> Path:
        """The local copy of one S3 object (moto key) in `directory`, written if missing."""
        slot = (directory, bucket_name, key.name)
        etag = key.etag
        with self.lock:
            known = self.copies.get(slot)
        if known is not None and known[1] == etag:
            return known[0]
        name = _digest(f"{bucket_name}|{key.name}|{etag}|{key.size}")
        path = directory / (name + suffix)
        if not path.exists():
            directory.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(path.name + f".{uuid.uuid4().hex}.part")
            partial.write_bytes(key.value)
            partial.replace(path)
        with self.lock:
            previous = self.copies.get(slot)
            self.copies[slot] = (path, etag)
            if previous is not None and previous[0] != path:
                self.stale.add(previous[0])
            self.stale.discard(path)
        return path

    def parquet_files(self, con: Any, paths: list[str]) -> list[_ParquetFile | None]:
        """Footer, column-chunk sizes and schema of Parquet copies (None: not Parquet)."""
        with self.lock:
            missing = [p for p in dict.fromkeys(paths) if p not in self.parquet]
        if missing:
            found = _read_parquet_layout(con, missing)
            with self.lock:
                self.parquet.update(found)
        with self.lock:
            return [self.parquet.get(p) for p in paths]

    def compiled(self, sql: str, views: tuple[str, ...], build: Any) -> str:
        """The DuckDB SQL of a query over these views, from `build(sql, views)` once."""
        key = (sql, views)
        with self.lock:
            found = self.sql.get(key)
        if found is None:
            found = build(sql, views)
            with self.lock:
                self.sql[key] = found
                while len(self.sql) > self.MAX_VIEWS:
                    del self.sql[next(iter(self.sql))]
        return found

    def view(self, con: Any, digest: str, create: Any) -> str:
        """The name of the view for this definition digest; `create(con, name)` makes it."""
        with self.lock:
            name = self.views.pop(digest, None)
            if name is not None:
                self.views[digest] = name  # most recently used last
                return name
            name = f"__labbook_v{digest}"
            create(con, name)
            self.views[digest] = name
            while len(self.views) > self.MAX_VIEWS:
                oldest = next(iter(self.views))
                con.execute(f'DROP VIEW IF EXISTS "{self.views.pop(oldest)}"')
            return name

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.db.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def _read_parquet_layout(con: Any, paths: list[str]) -> dict[str, _ParquetFile]:
    files = "[" + ", ".join(_literal(p) for p in paths) + "]"
    try:
        footers = dict(
            con.execute(
                f"SELECT file_name, footer_size FROM parquet_file_metadata({files})"
            ).fetchall()
        )
        chunks: dict[str, dict[str, int]] = {p: {} for p in paths}
        for name, column, size in con.execute(
            "SELECT file_name, lower(split_part(path_in_schema, ', ', 1)), "
            f"sum(total_compressed_size) FROM parquet_metadata({files}) GROUP BY ALL"
        ).fetchall():
            chunks[name][column] = int(size)
        schemas: dict[str, list[tuple[Any, ...]]] = {p: [] for p in paths}
        for row in con.execute(f"SELECT * FROM parquet_schema({files})").fetchall():
            schemas[row[0]].append(tuple(row[1:]))
    except Exception:  # not Parquet after all: the query itself says so
        return {}
    return {
        p: _ParquetFile(int(footers[p]) + 8, chunks[p], tuple(schemas[p]))
        for p in paths
        if p in footers
    }


def _engine(emulator: Any) -> _Engine:
    with _lock:
        engine = getattr(emulator, "labbook_athena", None)
        if engine is None:
            engine = _Engine(emulator.clock.datetime)
            emulator.labbook_athena = engine
            weakref.finalize(emulator, engine.close)
        return engine


def _run_select(query: Query, account: str, region: str, engine: _Engine) -> None:
    import duckdb
    from sqlglot import exp

    t0 = time.perf_counter()
    tree = _parse(query.sql)
    if not isinstance(tree, exp.Query):
        raise QueryFailed(
            f"NOT_SUPPORTED: {type(tree).__name__.upper()} statements are not emulated offline: "
            "only SELECT queries and the DDL listed in helpers/emulator/athena.py run"
        )
    now = engine.now()
    engine.begin()
    con = None
    try:
        con = engine.db.cursor()  # its own connection: the pruning table stays this query's
        tables = []
        for ref in _references(tree):
            database = (ref.db or query.database).lower()
            first = ref.args.get("catalog") or ref.args.get("db") or ref.this
            table = _table(account, region, database, ref.name.lower(), _position(query.sql, first))
            tables.append((ref, table, ""))
        listings: dict[str, list[str]] = {}
        views = []
        for ref, table, _ in tables:
            files = _select_files(con, ref, table, now, tables, listings)
            paths = _local_copies(engine, table, files)
            _check_readable(engine, con, table, files, paths)
            query.scanned += _scanned(engine, con, tree, ref, table, files, paths)
            views.append(_view(engine, con, table, paths))
        sql = engine.compiled(query.sql, tuple(views), _duckdb_sql)
        query.timings["planning"] = _ms(t0)
        t1 = time.perf_counter()
        try:
            con.execute(sql)
            description = con.description or []
            raw = con.fetchall()
        except duckdb.Error as exc:
            raise _translate(exc, query.sql) from None
        query.timings["engine"] = _ms(t1)
    finally:
        if con is not None:
            con.close()
        engine.end()
    names = [d[0] for d in description]
    types = [str(d[1]) for d in description]
    query.columns = [_column_info(n, t) for n, t in zip(names, types, strict=True)]
    query.rows = [[_fmt(v, t) for v, t in zip(row, types, strict=True)] for row in raw]
    query.header = True


def _references(tree: Any) -> list[Any]:
    """The Table nodes of a query that name catalog tables (not its CTEs), in tree order."""
    from sqlglot import exp

    cte_names = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    return [
        t
        for t in tree.find_all(exp.Table)
        if isinstance(t.this, exp.Identifier) and not (not t.db and t.name.lower() in cte_names)
    ]


def _duckdb_sql(sql: str, views: tuple[str, ...]) -> str:
    """The query in DuckDB's dialect, each catalog table read through its view."""
    from sqlglot import exp

    tree = _parse(sql).copy()
    for ref, view in zip(_references(tree), views, strict=True):
        alias = ref.args.get("alias") or exp.TableAlias(this=exp.to_identifier(ref.name))
        ref.replace(exp.Table(this=exp.to_identifier(view), alias=alias))
    for column in tree.find_all(exp.Column):
        column.set("db", None)
        column.set("catalog", None)
    if isinstance(tree, exp.Select):  # Athena names unnamed result columns _col0, _col1...
        for i, projection in enumerate(tree.expressions):
            if not isinstance(projection, exp.Alias | exp.Column | exp.Star):
                projection.replace(exp.alias_(projection.copy(), f"_col{i}"))
    return tree.sql(dialect="duckdb")


def _translate(exc: Exception, sql: str) -> QueryFailed:
    from sqlglot import exp

    tree = _parse(sql)
    message = str(exc)
    column = re.search(r'Referenced column "([^"]+)" not found', message)
    if column:
        name = column.group(1)
        node = next((c for c in tree.find_all(exp.Column) if c.name.lower() == name.lower()), None)
        where = _position(sql, node.this) if node is not None else ""
        return QueryFailed(
            f"COLUMN_NOT_FOUND: {where}Column '{name}' cannot be resolved or requester is not "
            "authorized to access requested resources"
        )
    table_column = re.search(r'Table "([^"]+)" does not have a column named "([^"]+)"', message)
    if table_column:
        name = table_column.group(2)
        node = next((c for c in tree.find_all(exp.Column) if c.name.lower() == name.lower()), None)
        where = _position(sql, node.this) if node is not None else ""
        qualified = f"{node.table}.{name}" if node is not None and node.table else name
        return QueryFailed(
            f"COLUMN_NOT_FOUND: {where}Column '{qualified}' cannot be resolved or requester is "
            "not authorized to access requested resources"
        )
    function = re.search(r"Function with name (\w+) does not exist", message)
    if function:
        name = function.group(1)
        node = next(
            (f for f in tree.find_all(exp.Anonymous) if str(f.this).lower() == name.lower()), None
        )
        where = _position(sql, node) if node is not None else ""
        return QueryFailed(f"FUNCTION_NOT_FOUND: {where}Function '{name}' not registered")
    first = message.splitlines()[0] if message else type(exc).__name__
    if "Conversion Error" in first or "Invalid Input Error" in first:
        return QueryFailed(f"HIVE_BAD_DATA: {first}", DATA_ERROR)
    if "No function matches" in first or "Binder Error" in first:
        return QueryFailed(f"TYPE_MISMATCH: {first}")
    return QueryFailed(f"GENERIC_USER_ERROR: {first}")


def _conjuncts(node: Any) -> list[Any]:
    from sqlglot import exp

    if isinstance(node, exp.And):
        return _conjuncts(node.left) + _conjuncts(node.right)
    if isinstance(node, exp.Paren):
        inner = node.this
        return _conjuncts(inner) if isinstance(inner, exp.And) else [node]
    return [node]


def _select_files(
    con: Any,
    ref: Any,
    table: Table,
    now: datetime,
    views: list[tuple[Any, Table, str]],
    listings: dict[str, list[str]] | None = None,
) -> list[tuple[tuple[str, ...], Any, int]]:
    """(partition values, moto key, size) of the objects this reference reads, after pruning."""
    from sqlglot import exp

    account = _account_of(table)
    listings = {} if listings is None else listings
    if not table.partition_keys:
        return [((), key, key.size) for _, key in _objects(account, table.location, listings)]
    candidates = _candidates(table, now)
    # partitions with no objects contribute nothing: drop them before evaluating predicates
    kept = []
    for values, loc in candidates:
        b, prefix = _split_s3(loc)
        names = _listing(b, listings)
        prefix = prefix if prefix.endswith("/") or not prefix else prefix + "/"
        i = bisect_left(names, prefix)
        if i < len(names) and names[i].startswith(prefix):
            kept.append((values, loc))
    candidates = kept
    select = ref.find_ancestor(exp.Select)
    where = select.args.get("where") if select is not None else None
    alias = (ref.alias or ref.name).lower()
    key_names = {name for name, _ in table.partition_keys}
    other_columns = {
        c for r, t, _ in views if r is not ref for c, _ in t.columns + t.partition_keys
    }
    usable = []
    if where is not None and candidates:
        for conjunct in _conjuncts(where.this):
            columns = list(conjunct.find_all(exp.Column))
            if not columns or conjunct.find(exp.Subquery, exp.Select) is not None:
                continue
            ok = True
            for col in columns:
                if col.name.lower() not in key_names:
                    ok = False
                elif col.table and col.table.lower() != alias:
                    ok = False
                elif not col.table and col.name.lower() in other_columns:
                    ok = False
            if ok:
                usable.append(conjunct)
    if usable and candidates:
        candidates = _prune(con, table, candidates, usable)
    files = []
    for values, loc in candidates:
        files.extend((values, key, key.size) for _, key in _objects(account, loc, listings))
    return files


def _prune(
    con: Any, table: Table, candidates: list[tuple[tuple[str, ...], str]], conjuncts: list[Any]
) -> list[tuple[tuple[str, ...], str]]:
    from sqlglot import exp

    names = [name for name, _ in table.partition_keys]
    con.execute("DROP TABLE IF EXISTS __labbook_parts")
    con.execute(
        "CREATE TEMP TABLE __labbook_parts (__i INTEGER, "
        + ", ".join(f'"{n}" VARCHAR' for n in names)
        + ")"
    )
    con.executemany(
        "INSERT INTO __labbook_parts VALUES (" + ", ".join("?" * (len(names) + 1)) + ")",
        [(i, *values) for i, (values, _) in enumerate(candidates)],
    )
    typed = ", ".join(
        f'TRY_CAST("{n}" AS {duck_type(t)}) AS "{n}"' for n, t in table.partition_keys
    )
    conditions = []
    for conjunct in conjuncts:
        copy = conjunct.copy()
        for col in copy.find_all(exp.Column):
            col.set("table", None)
            col.set("db", None)
            col.set("catalog", None)
        conditions.append(f"({copy.sql(dialect='duckdb')})")
    sql = (
        f"SELECT __i FROM (SELECT __i, {typed} FROM __labbook_parts) "
        f"WHERE {' AND '.join(conditions)}"
    )
    try:
        keep = {row[0] for row in con.execute(sql).fetchall()}
    except Exception:  # a predicate DuckDB cannot evaluate alone: read every partition
        return candidates
    return [c for i, c in enumerate(candidates) if i in keep]


def _account_of(table: Table) -> str:
    return table.account


def _format(table: Table) -> str:
    serde, fmt = table.serde.lower(), table.input_format.lower()
    if "parquet" in serde or "parquet" in fmt:
        return "parquet"
    if "json" in serde:
        return "json"
    if "opencsv" in serde:
        return "opencsv"
    if "lazysimple" in serde or "textinputformat" in fmt or not serde:
        return "text"
    raise QueryFailed(
        f"NOT_SUPPORTED: table {table.database}.{table.name} uses SerDe {table.serde}: the "
        "offline Athena reads JSON, CSV/text and Parquet"
    )


def _local_copies(
    engine: _Engine, table: Table, files: list[tuple[tuple[str, ...], Any, int]]
) -> list[str]:
    """Local copies of the objects read, in hive-style `column=value` folders per partition."""
    kind = _format(table)
    ext = {"parquet": ".parquet", "json": ".json"}.get(kind, ".csv")
    names = [n for n, _ in table.partition_keys]
    paths = []
    for values, key, _ in files:
        slot = (table.account, table.location, kind, tuple(names), values)
        directory = engine.folders.get(slot)
        if directory is None:
            where = _digest(f"{table.account}|{table.location}|{kind}|{values}")
            directory = engine.folders[slot] = engine.folder.joinpath(
                where, *(f"{n}={quote(v, safe='')}" for n, v in zip(names, values, strict=True))
            )
        suffix = ext + (".gz" if key.name.endswith(".gz") else "")
        paths.append(str(engine.copy(directory, getattr(key, "bucket_name", ""), key, suffix)))
    return paths


def _check_readable(
    engine: _Engine,
    con: Any,
    table: Table,
    files: list[tuple[tuple[str, ...], Any, int]],
    paths: list[str],
) -> None:
    """A Parquet table's object that is not Parquet fails the query as Athena fails it: a data
    error naming the object (HIVE_CANNOT_OPEN_SPLIT), not an engine error."""
    if _format(table) != "parquet":
        return
    for (_, key, size), layout in zip(files, engine.parquet_files(con, paths), strict=True):
        if layout is None:
            url = f"s3://{getattr(key, 'bucket_name', '')}/{key.name}"
            raise QueryFailed(
                f"HIVE_CANNOT_OPEN_SPLIT: Error opening Hive split {url} (offset=0, "
                f"length={size}): {url} is not a valid Parquet file",
                DATA_ERROR,
            )


def _scanned(
    engine: _Engine,
    con: Any,
    tree: Any,
    ref: Any,
    table: Table,
    files: list[tuple[tuple[str, ...], Any, int]],
    paths: list[str],
) -> int:
    """DataScannedInBytes for one table reference: whole objects, or Parquet column chunks."""
    if _format(table) != "parquet" or not files:
        return sum(size for _, _, size in files)
    read = _columns_read(tree, ref, table)
    total = 0
    for (_, _, size), layout in zip(files, engine.parquet_files(con, paths), strict=True):
        if layout is None:  # not readable as Parquet: the query fails, and is not billed
            total += size
            continue
        chunks = layout.chunks
        total += layout.footer + sum(
            b for column, b in chunks.items() if read is None or column in read
        )
    return total


def _columns_read(tree: Any, ref: Any, table: Table) -> set[str] | None:
    """The columns of `table` the query names through `ref` (None: all of them, `SELECT *`).

    A column counts when it is qualified by the reference's alias (`t.col`, `db.t.col`), is a
    field of one of its struct columns (`s.field`), or is unqualified and the table has a
    column by that name. Partition columns are not in the files: they never count."""
    from sqlglot import exp

    alias = (ref.alias or ref.name).lower()
    columns = {name for name, _ in table.columns}
    home = ref.find_ancestor(exp.Select)
    read: set[str] = set()
    for star in tree.find_all(exp.Star):
        parent = star.parent
        if isinstance(parent, exp.Column):  # t.*
            if parent.table.lower() == alias:
                return None
        elif isinstance(parent, exp.Select) and star.arg_key == "expressions":
            if parent is home:  # SELECT * over this table (count(*) reads no column)
                return None
    for column in tree.find_all(exp.Column):
        parts = [p.name.lower() for p in column.parts]
        if len(parts) == 1:
            name = parts[0]
        elif alias in parts[:-1]:
            name = parts[parts.index(alias) + 1]
        elif parts[0] in columns:
            name = parts[0]
        else:
            continue
        if name in columns:
            read.add(name)
    return read


def _view(engine: _Engine, con: Any, table: Table, paths: list[str]) -> str:
    """The DuckDB view that reads these copies as the Glue table reads its objects."""
    kind = _format(table)
    columns = [(n, duck_type(t)) for n, t in table.columns]
    keys = [(n, duck_type(t)) for n, t in table.partition_keys]
    definition = json.dumps(
        [kind, columns, keys, table.serde_params, table.params.get("skip.header.line.count"), paths]
    )
    layouts = engine.parquet_files(con, paths) if kind == "parquet" and len(paths) > 1 else []

    def create(con: Any, view: str) -> None:
        con.execute(
            f'CREATE OR REPLACE VIEW "{view}" AS {_view_select(con, table, paths, layouts)}'
        )

    return engine.view(con, _digest(definition), create)


def _view_select(con: Any, table: Table, paths: list[str], layouts: list[Any]) -> str:
    kind = _format(table)
    columns = [(n, duck_type(t)) for n, t in table.columns]
    keys = [(n, duck_type(t)) for n, t in table.partition_keys]
    if not paths:
        select = ", ".join(f'CAST(NULL AS {t}) AS "{n}"' for n, t in columns + keys)
        return f"SELECT {select} WHERE false"
    file_list = "[" + ", ".join(_literal(p) for p in paths) + "]"
    hive = ""
    if keys:
        types = ", ".join(f"{_literal(n)}: '{t}'" for n, t in keys)
        hive = f", hive_partitioning=true, hive_types={{{types}}}"
    key_select = [f'"{n}"' for n, _ in keys]
    if kind == "json":
        spec = ", ".join(f"{_literal(n)}: {_literal(t)}" for n, t in columns)
        ignore = table.serde_params.get("ignore.malformed.json", "").lower() == "true"
        source = (
            f"read_json({file_list}, format='newline_delimited', columns={{{spec}}}"
            f"{', ignore_errors=true' if ignore else ''}{hive})"
        )
        select = [f'"{n}"' for n, _ in columns] + key_select
    elif kind == "parquet":
        # columns are matched by name; files with one schema need no union by name
        alike = all(x is not None for x in layouts) and len({x.schema for x in layouts}) <= 1
        union = "" if alike else ", union_by_name=true"
        source = f"read_parquet({file_list}{union}{hive})"
        present = {
            row[0].lower(): row[1]
            for row in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
        }
        select = []
        for n, t in columns:
            if n not in present:
                select.append(f'CAST(NULL AS {t}) AS "{n}"')
            elif present[n] == t:
                select.append(f'"{n}"')
            else:
                select.append(f'CAST("{n}" AS {t}) AS "{n}"')
        select += key_select
    else:
        params = table.serde_params
        if kind == "opencsv":
            delim = params.get("separatorChar", ",")
            quote_char = params.get("quoteChar", '"')
            escape = params.get("escapeChar", "\\")
            nulls = ""
        else:
            delim = params.get("field.delim") or params.get("serialization.format") or "\x01"
            if delim == "1":
                delim = "\x01"
            quote_char, escape, nulls = "", "", ", nullstr='\\N'"
        skip = int(table.params.get("skip.header.line.count", "0") or 0)
        spec = ", ".join(f"{_literal(n)}: 'VARCHAR'" for n, _ in columns)
        source = (
            f"read_csv({file_list}, auto_detect=false, delim={_literal(delim)}, "
            f"quote={_literal(quote_char)}, escape={_literal(escape)}, header=false, "
            f"skip={skip}, columns={{{spec}}}, null_padding=true, strict_mode=false{nulls}{hive})"
        )
        select = [
            f'"{n}"' if t == "VARCHAR" else f'TRY_CAST("{n}" AS {t}) AS "{n}"' for n, t in columns
        ] + key_select
    return f"SELECT {', '.join(select)} FROM {source}"


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# ---- DDL ---------------------------------------------------------------------------------------
def _run_ddl(query: Query, account: str, region: str) -> None:
    sql = _strip_comments(query.sql).rstrip(";").strip()
    glue = _glue(account, region)
    m = re.match(r"CREATE\s+(?:DATABASE|SCHEMA)\s+(IF\s+NOT\s+EXISTS\s+)?`?([\w-]+)`?", sql, re.I)
    if m:
        name = m.group(2).lower()
        if name in glue.databases:
            if m.group(1):
                return
            raise QueryFailed(f"FAILED: AlreadyExistsException Database {name} already exists")
        glue.create_database(name, {"Name": name})
        return
    m = re.match(r"DROP\s+(?:DATABASE|SCHEMA)\s+(IF\s+EXISTS\s+)?`?([\w-]+)`?", sql, re.I)
    if m:
        name = m.group(2).lower()
        if name not in glue.databases:
            if m.group(1):
                return
            raise QueryFailed(
                f"FAILED: SemanticException [Error 10072]: Database does not exist: {name}"
            )
        glue.delete_database(name)
        return
    m = re.match(
        r"CREATE\s+EXTERNAL\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?([`\w.-]+)\s*\((.*)", sql, re.I | re.S
    )
    if m:
        _create_external_table(query, glue, m.group(1) is not None, m.group(2), m.group(3))
        return
    m = re.match(r"DROP\s+TABLE\s+(IF\s+EXISTS\s+)?([`\w.-]+)$", sql, re.I)
    if m:
        database, name = _qualified(m.group(2), query.database)
        db = glue.databases.get(database)
        if db is None or name not in db.tables:
            if m.group(1):
                return
            raise QueryFailed(
                f"FAILED: SemanticException [Error 10001]: Table not found {database}.{name}"
            )
        glue.delete_table(database, name)
        return
    m = re.match(r"MSCK\s+REPAIR\s+TABLE\s+([`\w.-]+)$", sql, re.I)
    if m:
        database, name = _qualified(m.group(1), query.database)
        _msck_repair(query, glue, account, region, database, name)
        return
    m = re.match(
        r"ALTER\s+TABLE\s+([`\w.-]+)\s+ADD\s+(IF\s+NOT\s+EXISTS\s+)?(.*)$", sql, re.I | re.S
    )
    if m:
        database, name = _qualified(m.group(1), query.database)
        _add_partitions(glue, account, region, database, name, m.group(2) is not None, m.group(3))
        return
    raise QueryFailed(
        f"NOT_SUPPORTED: the statement {' '.join(sql.split()[:3])!r} is not emulated offline "
        "(supported DDL: CREATE DATABASE, CREATE EXTERNAL TABLE, DROP TABLE, MSCK REPAIR TABLE, "
        "ALTER TABLE ADD PARTITION)",
        DDL_FAILED,
    )


def _qualified(text: str, default_db: str) -> tuple[str, str]:
    parts = [p.strip("`").lower() for p in text.split(".")]
    return (parts[-2], parts[-1]) if len(parts) > 1 else (default_db.lower(), parts[0])


def _columns(text: str) -> list[dict[str, str]]:
    out = []
    for part in _split_top(text):
        m = re.match(r"`?(\w+)`?\s+(.+?)(?:\s+COMMENT\s+'[^']*')?$", part.strip(), re.I | re.S)
        if not m:
            raise QueryFailed(f"FAILED: ParseException cannot recognize column definition {part!r}")
        out.append({"Name": m.group(1).lower(), "Type": re.sub(r"\s+", "", m.group(2)).lower()})
    return out


def _balanced(text: str) -> tuple[str, str]:
    """Split 'a, b) rest' at the parenthesis closing an already opened one."""
    depth = 1
    for i, ch in enumerate(text):
        if ch in "(<":
            depth += 1
        elif ch in ")>":
            depth -= 1
            if depth == 0:
                return text[:i], text[i + 1 :]
    raise QueryFailed("FAILED: ParseException missing ')'")


def _properties(text: str) -> dict[str, str]:
    return dict(re.findall(r"'([^']*)'\s*=\s*'([^']*)'", text))


def _create_external_table(
    query: Query, glue: Any, if_not_exists: bool, target: str, rest: str
) -> None:
    database, name = _qualified(target, query.database)
    db = glue.databases.get(database)
    if db is None:
        raise QueryFailed(
            f"FAILED: SemanticException [Error 10072]: Database does not exist: {database}"
        )
    if name in db.tables:
        if if_not_exists:
            return
        raise QueryFailed(f"FAILED: AlreadyExistsException Table {name} already exists")
    body, tail = _balanced(rest)
    columns = _columns(body)
    keys: list[dict[str, str]] = []
    m = re.search(r"PARTITIONED\s+BY\s*\(", tail, re.I)
    if m:
        inner, after = _balanced(tail[m.end() :])
        keys = _columns(inner)
        tail = tail[: m.start()] + after
    serde_params: dict[str, str] = {}
    serde = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
    input_format = "org.apache.hadoop.mapred.TextInputFormat"
    output_format = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
    m = re.search(r"ROW\s+FORMAT\s+SERDE\s+'([^']+)'", tail, re.I)
    if m:
        serde = m.group(1)
    m = re.search(r"WITH\s+SERDEPROPERTIES\s*\(([^)]*)\)", tail, re.I)
    if m:
        serde_params.update(_properties(m.group(1)))
    m = re.search(r"FIELDS\s+TERMINATED\s+BY\s+'([^']*)'", tail, re.I)
    if m:
        delim = m.group(1).encode().decode("unicode_escape")
        serde_params.update({"field.delim": delim, "serialization.format": delim})
    if re.search(r"STORED\s+AS\s+PARQUET", tail, re.I):
        serde = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
        input_format = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
        output_format = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
    m = re.search(r"LOCATION\s+'([^']+)'", tail, re.I)
    if not m:
        raise QueryFailed("FAILED: an external table needs LOCATION 's3://bucket/prefix/'")
    location = m.group(1)
    params = {"EXTERNAL": "TRUE"}
    m = re.search(r"TBLPROPERTIES\s*\((.*)\)", tail, re.I | re.S)
    if m:
        params.update(_properties(m.group(1)))
    glue.create_table(
        database,
        name,
        {
            "Name": name,
            "TableType": "EXTERNAL_TABLE",
            "Parameters": params,
            "PartitionKeys": keys,
            "StorageDescriptor": {
                "Columns": columns,
                "Location": location,
                "InputFormat": input_format,
                "OutputFormat": output_format,
                "SerdeInfo": {"SerializationLibrary": serde, "Parameters": serde_params},
            },
        },
    )


def _glue_table(glue: Any, database: str, name: str) -> Any:
    db = glue.databases.get(database)
    if db is None or name not in db.tables:
        raise QueryFailed(
            f"FAILED: SemanticException [Error 10001]: Table not found {database}.{name}"
        )
    return db.tables[name]


def _msck_repair(
    query: Query, glue: Any, account: str, region: str, database: str, name: str
) -> None:
    found = _glue_table(glue, database, name)
    table = _table(account, region, database, name, "")
    if not table.partition_keys:
        return
    root = table.location.rstrip("/") + "/"
    _, prefix = _split_s3(root)
    known = {values for values, _ in table.partitions}
    added = []
    pattern = "/".join(f"{re.escape(k)}=([^/]+)" for k, _ in table.partition_keys)
    for key_name, _ in _objects(account, root):
        m = re.match(pattern + "/", key_name[len(prefix) :])
        if not m:
            continue
        values = tuple(m.groups())
        if values in known:
            continue
        known.add(values)
        added.append(values)
        found.create_partition(
            {
                "Values": list(values),
                "StorageDescriptor": {
                    **(found.as_dict().get("StorageDescriptor") or {}),
                    "Location": _default_location(table.location, table.partition_keys, values),
                },
            }
        )
    query.rows = (
        [
            [
                "Partitions not in metastore:\t"
                + "\t".join(
                    f"{name}:"
                    + "/".join(
                        f"{k}={v}" for (k, _), v in zip(table.partition_keys, vals, strict=True)
                    )
                    for vals in added
                )
            ]
        ]
        if added
        else []
    )
    for values in added:
        query.rows.append(
            [
                "Repair: Added partition to metastore "
                + f"{name}:"
                + "/".join(
                    f"{k}={v}" for (k, _), v in zip(table.partition_keys, values, strict=True)
                )
            ]
        )


def _add_partitions(
    glue: Any, account: str, region: str, database: str, name: str, if_not_exists: bool, text: str
) -> None:
    found = _glue_table(glue, database, name)
    table = _table(account, region, database, name, "")
    keys = [k for k, _ in table.partition_keys]
    for m in re.finditer(r"PARTITION\s*\(([^)]*)\)\s*(?:LOCATION\s+'([^']+)')?", text, re.I):
        given = {
            k.strip().strip("`").lower(): v.strip().strip("'\"")
            for k, v in (pair.split("=", 1) for pair in _split_top(m.group(1)))
        }
        if set(given) != set(keys):
            raise QueryFailed(
                f"FAILED: SemanticException partition spec {sorted(given)} does not match the "
                f"partition keys {keys}"
            )
        values = tuple(given[k] for k in keys)
        if values in {v for v, _ in table.partitions}:
            if if_not_exists:
                continue
            raise QueryFailed(f"FAILED: AlreadyExistsException Partition already exists: {values}")
        location = m.group(2) or _default_location(table.location, table.partition_keys, values)
        found.create_partition(
            {
                "Values": list(values),
                "StorageDescriptor": {
                    **(found.as_dict().get("StorageDescriptor") or {}),
                    "Location": location,
                },
            }
        )
