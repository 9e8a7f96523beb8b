"""Aurora's RDS Data API that really runs SQL, offline: PostgreSQL statements on DuckDB.

moto stores DB clusters and answers `rds-data` ExecuteStatement with canned results (it has no
route for the other calls). This replaces moto's `rds-data` handlers with ones that run the SQL
as the Data API does against an Aurora PostgreSQL cluster (API reference:
https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/; user guide:
https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.html):

- **Calls**: ExecuteStatement, BatchExecuteStatement, BeginTransaction, CommitTransaction
  (`transactionStatus` "Transaction Committed") and RollbackTransaction ("Rollback Complete").
- **The cluster** (`resourceArn`) must be an `aurora-postgresql` cluster of this account and
  region with the HTTP endpoint enabled (CreateDBCluster `EnableHttpEndpoint=True`, or the
  EnableHttpEndpoint / DisableHttpEndpoint calls, which this adds to moto; moto itself keeps the
  flag only for Serverless v1), else HttpEndpointNotEnabledException ("HttpEndpoint is not
  enabled for cluster ..."). A cluster that is stopped, starting, stopping or still creating
  answers InvalidResourceStateException; a provisioned (Serverless v2) cluster without a DB
  instance answers DatabaseNotFoundException ("The DB cluster doesn't have a DB instance").
  **Auto-pause**: a Serverless v2 cluster with `MinCapacity` 0 pauses once no call has reached
  it for `SecondsUntilAutoPause` (default 300) lab seconds and no transaction is open; a call to
  a paused cluster answers DatabaseResumingException and starts the resume, which takes
  15 lab seconds (calls during it get the same answer), as the auto-pause guide describes.
- **The secret** (`secretArn`, a name or an ARN) must exist in Secrets Manager (else
  SecretsErrorException), not be marked for deletion (SecretsErrorException), and hold a JSON
  object with `username` and `password` (else InvalidSecretException). The credentials are
  checked against the cluster's master user, as PostgreSQL would check the login: the
  cluster's own managed secret (`ManageMasterUserPassword`), or `MasterUsername` with the
  current `MasterUserPassword`; anything else answers `FATAL: password authentication failed
  for user "..."` (SQLState 28P01). Users made with SQL (`CREATE USER`) are not emulated.
- **Databases**: each cluster has `postgres` and its `DatabaseName`, plus those made with
  `CREATE DATABASE` (dropped with `DROP DATABASE`); each is its own DuckDB database, kept for
  the lab's lifetime (stopping and starting the cluster keeps it) and dropped when the cluster is
  deleted. Without `database`, PostgreSQL's rule applies: the database named after the user.
  An unknown database answers `FATAL: database "x" does not exist` (3D000).
- **SQL**: PostgreSQL, one statement per call (several answer ValidationException
  "Multistatements aren't supported."; a trailing `;` is fine), parsed with sqlglot
  (`read="postgres"`) and run by DuckDB (`write="duckdb"`). What DuckDB lacks is rewritten:
  `SERIAL` / `BIGSERIAL` / `SMALLSERIAL` and `GENERATED {ALWAYS | BY DEFAULT} AS IDENTITY`
  become a sequence named `<table>_<column>_seq` and a `nextval` default (an explicit value for
  an ALWAYS identity column is refused with PostgreSQL's 428C9, and DROP TABLE drops the
  sequences); an unconstrained `NUMERIC` keeps up to 38 digits with 10 after the point (printed
  without trailing zeros); `now()`, `current_timestamp`, `current_date`, `localtimestamp`,
  `transaction_timestamp()` and friends read the lab clock (the transaction's start inside a
  transaction, as PostgreSQL does). `RETURNING`, `ON CONFLICT ... DO NOTHING | DO UPDATE`,
  `->>`, casts, `gen_random_uuid()` go through sqlglot. `BEGIN` / `COMMIT` / `ROLLBACK` sent
  as SQL, `SET`, `SHOW`, `RESET` and `CREATE EXTENSION` are accepted and do nothing (use the
  transaction calls). `CREATE DATABASE` inside a transaction is refused (25001).
- **Parameters**: `:name` placeholders (not inside quotes, comments or `::` casts) take the
  `parameters` of that name: `stringValue` (sent as `character varying`), `longValue`
  (bigint), `doubleValue`, `booleanValue`, `isNull`, `blobValue` (bytea); `typeHint` DATE
  (`YYYY-MM-DD`), TIME (`HH:MM:SS[.FFF]`), TIMESTAMP (`YYYY-MM-DD HH:MM:SS[.FFF]`), DECIMAL,
  UUID or JSON sends a `stringValue` as that type (a value not in that format answers
  BadRequestException). As PostgreSQL does, a `stringValue` without a hint assigned to (INSERT
  VALUES, UPDATE SET) or compared with (`=`, `<>`, `<`, ...) a column that is not a string
  type is refused: `column "d" is of type date but expression is of type character varying`
  (42804) / `operator does not exist: uuid = character varying` (42883); DuckDB alone would
  have cast it. A placeholder without a parameter answers `No value specified for parameter
  1.` (22023). `arrayValue` parameters answer BadRequestException, as the reference says.
- **Results** as the Data API gives them for PostgreSQL: `records` (lists of Field unions:
  bool -> `booleanValue`; int2/int4/int8 -> `longValue`; float4/float8 -> `doubleValue`;
  numeric -> `stringValue`; text, uuid, json(b), date (`YYYY-MM-DD`), time (`HH:MM:SS[.FFF]`)
  and timestamp(tz) (`YYYY-MM-DD HH:MM:SS[.FFF]`, UTC) -> `stringValue`; bytea ->
  `blobValue`; one-dimensional arrays -> `arrayValue`; NULL -> `isNull`), or with
  `formatRecordsAs='JSON'` a `formattedRecords` JSON string (an array of objects keyed by
  column name); `resultSetOptions` `decimalReturnType` DOUBLE_OR_LONG and `longReturnType`
  STRING; `columnMetadata` with `includeResultMetadata` (JDBC `type` codes and PostgreSQL
  `typeName` such as `int4`, `serial`, `text`, `varchar`, `numeric`, `timestamptz`, `jsonb`,
  `uuid`, with `tableName`, `nullable`, `isAutoIncrement`, `precision`, `scale` for table
  columns); column names as PostgreSQL names them (`count`, `?column?`, aliases folded to lower
  case unless quoted). `numberOfRecordsUpdated` counts the rows an INSERT, UPDATE or DELETE
  without RETURNING changed (0 for queries, DDL, and statements that return rows).
  `generatedFields` is always empty: the reference says Aurora PostgreSQL does not fill it
  (use RETURNING). BatchExecuteStatement runs the statement once per parameter set, all or
  nothing, and answers one `{"generatedFields": []}` per set (no parameter sets: nothing runs).
- **Limits**: a response whose records exceed 1 MiB answers UnsupportedResultException
  ("Database returned more than the allowed response size limit"; BadRequestException on
  Serverless v1), a `formattedRecords` over 10 MB the same; a multidimensional array in a
  result answers UnsupportedResultException.
- **Transactions**: BeginTransaction opens a DuckDB connection of its own, so what it writes is
  seen by nobody else until CommitTransaction; RollbackTransaction undoes it. A transaction
  ends (rolled back) after 3 lab minutes without a call, after 24 lab hours, after a statement
  of it fails (as the troubleshooting guide lists), or when committed or rolled back; its id
  then answers TransactionNotFoundException ("Transaction <id> is not found: <why>").
- **Errors**: SQL errors answer DatabaseErrorException (BadRequestException for a Serverless v1
  cluster, `EngineMode` `serverless`, as the reference says) with PostgreSQL's text, e.g.
  `ERROR: duplicate key value violates unique constraint "users_pkey"\\n  Detail: Key
  (id)=(1) already exists.; SQLState: 23505`, `ERROR: syntax error at or near "SELEC"\\n
  Position: 1; SQLState: 42601`, `ERROR: relation "nope" does not exist`, `column "x" does
  not exist`, not-null (23502), check (23514) and foreign key (23503) violations, invalid input
  (22P02), division by zero (22012); constraint names follow PostgreSQL's defaults
  (`<table>_pkey`, `<table>_<columns>_key`, `<table>_<column>_check`, `<table>_<column>_fkey`).

moto seams (tests/emulator/test_moto_seams.py checks them): the handler methods of
`moto.rdsdata.responses.RDSDataServiceResponse` (moto dispatches an action to the method of
that name) and four routes added to `moto.rdsdata.urls.url_paths`; `RDSResponse` gets
`enable_http_endpoint` / `disable_http_endpoint`; the `DBCluster.enable_http_endpoint` property
(to keep the flag for provisioned clusters); `RDSBackend.delete_db_cluster` (to drop the data);
and it reads `rds_backends`, `DBCluster` attributes (`engine`, `engine_mode`, `status`,
`master_username`, `_master_user_password`, `master_user_secret`, `members`, `database_name`,
`serverless_v2_scaling_configuration`, `created`) and Secrets Manager's `get_secret_value`.

Simplified or not emulated: DuckDB is not PostgreSQL: its snapshot isolation stands in for
READ COMMITTED, and two transactions writing the same row do not wait for each other (the
second write or commit fails, 40001 or 23505 at commit) where PostgreSQL would block;
identifiers are case-insensitive; functions and types outside what sqlglot maps may differ or be
missing; error positions and some messages are approximate; the 64 KB row limit, statement
timeouts (`continueAfterTimeout`), the 4 MiB request limit, `schema`, users and GRANTs, IAM
authorization, Aurora MySQL clusters (refused with BadRequestException saying so), ExecuteSql
(Serverless v1 only) and the row-level details of PostgreSQL's metadata (`schemaName` is empty, as pgjdbc
gives it) are not emulated.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import re
import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from moto.core.exceptions import JsonRESTError

PG_ENGINE = "aurora-postgresql"
# Data API limits (data-api.limitations, API_ExecuteStatement)
MAX_RESPONSE_BYTES = 1024 * 1024  # "The response size limit is 1 MiB"
MAX_FORMATTED_BYTES = 10 * 1024 * 1024  # formattedRecords: "currently 10 MB"
TRANSACTION_IDLE_S = 180  # "times out if no calls use its transaction ID in three minutes"
TRANSACTION_MAX_S = 24 * 3600  # "A transaction can run for a maximum of 24 hours"
AUTO_PAUSE_DEFAULT_S = 300  # SecondsUntilAutoPause's default (Serverless v2 auto-pause)
RESUME_S = 15.0  # an auto-paused Serverless v2 instance resumes in about 15 seconds
COMMITTED, ROLLED_BACK = "Transaction Committed", "Rollback Complete"
# cluster states in which the writer answers (RDS "Viewing DB cluster status")
_USABLE = {
    "available",
    "backing-up",
    "backtracking",
    "maintenance",
    "modifying",
    "renaming",
    "resetting-master-credentials",
    "update-iam-db-auth",
    "upgrading",
    "storage-optimization",
}
_UNCONSTRAINED_NUMERIC = (38, 10)
_ROUTES = {
    "{0}/BatchExecute$",
    "{0}/BeginTransaction$",
    "{0}/CommitTransaction$",
    "{0}/RollbackTransaction$",
}
_lock = threading.Lock()


class DataApiError(JsonRESTError):
    """An RDS Data API error response: the code, its HTTP status and the message."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(code, message)
        self.code = status


class SqlError(Exception):
    """A PostgreSQL error, as the Data API passes it on."""

    def __init__(
        self,
        message: str,
        state: str,
        *,
        detail: str | None = None,
        hint: str | None = None,
        position: int | None = None,
        severity: str = "ERROR",
    ):
        super().__init__(message)
        self.message, self.state, self.detail, self.hint = message, state, detail, hint
        self.position, self.severity = position, severity

    def text(self) -> str:
        out = f"{self.severity}: {self.message}"
        if self.detail:
            out += f"\n  Detail: {self.detail}"
        if self.hint:
            out += f"\n  Hint: {self.hint}"
        if self.position:
            out += f"\n  Position: {self.position}"
        return f"{out}; SQLState: {self.state}"


# ---- PostgreSQL types -----------------------------------------------------------------------
@dataclass(frozen=True)
class _PgType:
    display: str  # format_type(): what error messages say
    jdbc: int  # java.sql.Types, as pgjdbc reports it
    precision: int
    scale: int = 0
    signed: bool = False
    case_sensitive: bool = True
    field: str = "stringValue"  # the Field member the Data API answers with


_MAX = 2147483647
_PG: dict[str, _PgType] = {
    "bool": _PgType("boolean", -7, 1, case_sensitive=False, field="booleanValue"),
    "int2": _PgType("smallint", 5, 5, signed=True, case_sensitive=False, field="longValue"),
    "int4": _PgType("integer", 4, 10, signed=True, case_sensitive=False, field="longValue"),
    "int8": _PgType("bigint", -5, 19, signed=True, case_sensitive=False, field="longValue"),
    "float4": _PgType("real", 7, 8, 8, True, False, "doubleValue"),
    "float8": _PgType("double precision", 8, 17, 17, True, False, "doubleValue"),
    "numeric": _PgType("numeric", 2, 0, signed=True, case_sensitive=False),
    "text": _PgType("text", 12, _MAX),
    "varchar": _PgType("character varying", 12, _MAX),
    "bpchar": _PgType("character", 1, _MAX),
    "name": _PgType("name", 12, 63),
    "bytea": _PgType("bytea", -2, _MAX, field="blobValue"),
    "date": _PgType("date", 91, 13, case_sensitive=False),
    "time": _PgType("time without time zone", 92, 15, 6, case_sensitive=False),
    "timetz": _PgType("time with time zone", 92, 21, 6, case_sensitive=False),
    "timestamp": _PgType("timestamp without time zone", 93, 29, 6, case_sensitive=False),
    "timestamptz": _PgType("timestamp with time zone", 93, 35, 6, case_sensitive=False),
    "interval": _PgType("interval", 1111, 49, 6, case_sensitive=False),
    "uuid": _PgType("uuid", 1111, 0),
    "json": _PgType("json", 1111, 0),
    "jsonb": _PgType("jsonb", 1111, 0),
}
_STRING_TYPES = {"text", "varchar", "bpchar", "name"}
_SERIALS = {"int2": "smallserial", "int4": "serial", "int8": "bigserial"}
_DUCK_TO_PG = {
    "BOOLEAN": "bool",
    "TINYINT": "int2",
    "UTINYINT": "int2",
    "SMALLINT": "int2",
    "USMALLINT": "int4",
    "INTEGER": "int4",
    "UINTEGER": "int8",
    "BIGINT": "int8",
    "UBIGINT": "numeric",
    "HUGEINT": "numeric",
    "UHUGEINT": "numeric",
    "FLOAT": "float4",
    "DOUBLE": "float8",
    "VARCHAR": "text",
    "BLOB": "bytea",
    "DATE": "date",
    "TIME": "time",
    "TIME WITH TIME ZONE": "timetz",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP_S": "timestamp",
    "TIMESTAMP_MS": "timestamp",
    "TIMESTAMP_NS": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "INTERVAL": "interval",
    "UUID": "uuid",
    "JSON": "json",
}
# the cast a typeHint makes of a stringValue, and the format the Data API documents for it
_HINTS = {
    "DATE": ("DATE", r"\d{4}-\d{2}-\d{2}", "YYYY-MM-DD"),
    "TIME": ("TIME", r"\d{2}:\d{2}:\d{2}(\.\d{1,9})?", "HH:MM:SS[.FFF]"),
    "TIMESTAMP": (
        "TIMESTAMP",
        r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,9})?",
        "YYYY-MM-DD HH:MM:SS[.FFF]",
    ),
    "DECIMAL": ("DECIMAL", r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", "a decimal number"),
    "UUID": ("UUID", r"[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}", "a UUID"),
    "JSON": ("JSON", r"(?s).*", "JSON"),
}


@dataclass
class _ColumnInfo:
    pgtype: str  # internal name: int4, serial, varchar, numeric...
    typmod: tuple[int, ...] = ()
    nullable: bool = True
    auto_increment: bool = False


@dataclass
class _Param:
    name: str
    kind: str  # string, long, double, bool, null, blob
    value: Any
    hint: str | None = None


# ---- state -----------------------------------------------------------------------------------
@dataclass
class _Database:
    name: str
    con: Any  # duckdb connection
    lock: threading.RLock = field(default_factory=threading.RLock)
    # PostgreSQL's view of the columns DuckDB cannot say: (table, column) -> info
    columns: dict[tuple[str, str], _ColumnInfo] = field(default_factory=dict)
    sequences: dict[str, list[str]] = field(default_factory=dict)  # table -> owned sequences
    always: set[tuple[str, str]] = field(default_factory=set)  # GENERATED ALWAYS identities

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.con.close()


@dataclass
class _Transaction:
    id: str
    database: _Database
    cursor: Any
    started: float  # lab time
    last_used: float


@dataclass
class _Cluster:
    arn: str
    databases: dict[str, _Database] = field(default_factory=dict)
    dropped: set[str] = field(default_factory=set)  # DROP DATABASE'd default databases
    transactions: dict[str, _Transaction] = field(default_factory=dict)
    ended: dict[str, str] = field(default_factory=dict)  # transaction id -> why it ended
    last_activity: float | None = None
    resuming_until: float | None = None

    def close(self) -> None:
        for tx in list(self.transactions.values()):
            with contextlib.suppress(Exception):
                tx.cursor.close()
        self.transactions.clear()
        for db in self.databases.values():
            db.close()
        self.databases.clear()


class _Store:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.clusters: dict[str, _Cluster] = {}

    def cluster(self, arn: str) -> _Cluster:
        with self.lock:
            if arn not in self.clusters:
                self.clusters[arn] = _Cluster(arn)
            return self.clusters[arn]

    def drop(self, arn: str) -> None:
        with self.lock:
            state = self.clusters.pop(arn, None)
        if state is not None:
            state.close()

    def close(self) -> None:
        with self.lock:
            for state in self.clusters.values():
                state.close()
            self.clusters.clear()


def _store(emulator: Any) -> _Store:
    with _lock:
        store = getattr(emulator, "labbook_rds_data", None)
        if store is None:
            store = _Store()
            emulator.labbook_rds_data = store
            weakref.finalize(emulator, store.close)
        return store


# ---- installation ----------------------------------------------------------------------------
def install(emulator: Any) -> None:
    """Replace moto's `rds-data` handlers with ones that run the SQL, until teardown."""
    from moto.rds.models import DBCluster, RDSBackend
    from moto.rds.responses import RDSResponse
    from moto.rdsdata import urls as rdsdata_urls
    from moto.rdsdata.responses import RDSDataServiceResponse

    api = _DataApi(emulator)
    patch = emulator._patch
    for name in (
        "execute_statement",
        "batch_execute_statement",
        "begin_transaction",
        "commit_transaction",
        "rollback_transaction",
    ):
        patch(RDSDataServiceResponse, name, _handler(getattr(api, name)))
    paths = dict(rdsdata_urls.url_paths)
    for route in _ROUTES:
        paths[route] = RDSDataServiceResponse.dispatch
    patch(rdsdata_urls, "url_paths", paths)

    # moto keeps EnableHttpEndpoint only for Serverless v1 clusters; the Data API also serves
    # Aurora Serverless v2 and provisioned clusters, which turn it on at creation or with
    # EnableHttpEndpoint (API_EnableHttpEndpoint)
    original = DBCluster.enable_http_endpoint

    def set_http_endpoint(cluster: Any, value: bool | None) -> None:
        if value is not None and str(cluster.engine).startswith("aurora-"):
            cluster._enable_http_endpoint = bool(value)
        else:
            original.fset(cluster, value)

    patch(DBCluster, "enable_http_endpoint", property(original.fget, set_http_endpoint))

    def toggle(enabled: bool) -> Any:
        def handler(response: Any) -> Any:
            from moto.core.responses import ActionResult
            from moto.rds.exceptions import RDSClientError

            arn = response._get_param("ResourceArn") or ""
            cluster = _cluster_by_arn(arn)
            if cluster is None:
                raise RDSClientError(
                    "ResourceNotFoundFault", f"The specified resource ID {arn} was not found."
                )
            cluster._enable_http_endpoint = enabled
            return ActionResult({"ResourceArn": arn, "HttpEndpointEnabled": enabled})

        return handler

    patch(RDSResponse, "enable_http_endpoint", toggle(True))
    patch(RDSResponse, "disable_http_endpoint", toggle(False))

    original_delete = RDSBackend.delete_db_cluster

    def delete_db_cluster(backend: Any, cluster_identifier: str, *args: Any, **kwargs: Any) -> Any:
        cluster = original_delete(backend, cluster_identifier, *args, **kwargs)
        api.store.drop(cluster.arn)
        return cluster

    patch(RDSBackend, "delete_db_cluster", delete_db_cluster)


def _handler(method: Any) -> Any:
    def handle(response: Any) -> str:
        body = method(response._get_param, response.current_account, response.region)
        return json.dumps(body)

    return handle


def _cluster_by_arn(arn: str) -> Any:
    """The moto DBCluster an ARN names, or None."""
    from moto.rds.models import rds_backends

    parts = arn.split(":")
    if len(parts) != 7 or parts[0] != "arn" or parts[2] != "rds" or parts[5] != "cluster":
        return None
    region, account, identifier = parts[3], parts[4], parts[6]
    try:
        backend = rds_backends[account][region]
    except KeyError:
        return None
    cluster = backend.clusters.get(identifier)
    return cluster if cluster is not None and cluster.arn == arn else None


# ---- the API ---------------------------------------------------------------------------------
class _DataApi:
    def __init__(self, emulator: Any):
        self.emulator = emulator
        self.store = _store(emulator)

    def now(self) -> float:
        return float(self.emulator.clock.now())

    # ---- calls -------------------------------------------------------------------------------
    def execute_statement(self, param: Any, account: str, region: str) -> dict[str, Any]:
        cluster, state = self._cluster(param("resourceArn"))
        user = self._login(cluster, param("secretArn"), account, region)
        sql = param("sql") or ""
        options = param("resultSetOptions") or {}
        fmt = param("formatRecordsAs") or "NONE"
        meta = bool(param("includeResultMetadata"))
        params = _params(param("parameters") or [])
        tx_id = param("transactionId")
        database = param("database") or user
        with self._session(cluster, state, database, tx_id) as (db, conn, now):
            try:
                result = _execute(db, conn, sql, params, now, in_transaction=tx_id is not None)
            except _DatabaseCommand as command:
                result = self._database_command(cluster, state, db, command)
            return self._respond(cluster, result, meta=meta, fmt=fmt, options=options)

    def batch_execute_statement(self, param: Any, account: str, region: str) -> dict[str, Any]:
        cluster, state = self._cluster(param("resourceArn"))
        user = self._login(cluster, param("secretArn"), account, region)
        sql = param("sql") or ""
        sets = [_params(s or []) for s in (param("parameterSets") or [])]
        tx_id = param("transactionId")
        database = param("database") or user
        with self._session(cluster, state, database, tx_id) as (db, conn, now):
            if not sets:
                return {"updateResults": []}
            own = tx_id is None
            if own:
                conn.execute("BEGIN TRANSACTION")
            try:
                for params in sets:
                    _execute(db, conn, sql, params, now, in_transaction=True, batch=True)
            except _DatabaseCommand as command:
                raise SqlError(
                    f"{command.action.upper()} DATABASE cannot run inside a transaction block",
                    "25001",
                ) from None
            except BaseException:
                if own:
                    with contextlib.suppress(Exception):
                        conn.execute("ROLLBACK")
                raise
            if own:
                _commit(conn)
            return {"updateResults": [{"generatedFields": []} for _ in sets]}

    def begin_transaction(self, param: Any, account: str, region: str) -> dict[str, Any]:
        cluster, state = self._cluster(param("resourceArn"))
        user = self._login(cluster, param("secretArn"), account, region)
        now = self.now()
        with self.store.lock:
            db = self._database(cluster, state, param("database") or user)
        with db.lock:
            cursor = db.con.cursor()
            cursor.execute("BEGIN TRANSACTION")
        tx_id = base64.b64encode(os.urandom(96)).decode()
        with self.store.lock:
            state.transactions[tx_id] = _Transaction(tx_id, db, cursor, now, now)
            state.last_activity = now
        return {"transactionId": tx_id}

    def commit_transaction(self, param: Any, account: str, region: str) -> dict[str, Any]:
        return self._end(param, account, region, commit=True)

    def rollback_transaction(self, param: Any, account: str, region: str) -> dict[str, Any]:
        return self._end(param, account, region, commit=False)

    def _end(self, param: Any, account: str, region: str, *, commit: bool) -> dict[str, Any]:
        cluster, state = self._cluster(param("resourceArn"))
        self._login(cluster, param("secretArn"), account, region)
        tx = self._transaction(state, param("transactionId") or "")
        with self.store.lock:
            state.transactions.pop(tx.id, None)
            state.ended[tx.id] = "One previous call resulted in a termination of your transaction"
            state.last_activity = self.now()
        try:
            with tx.database.lock:
                if commit:
                    _commit(tx.cursor)
                else:
                    tx.cursor.execute("ROLLBACK")
        except SqlError as exc:
            raise _database_error(cluster, exc) from None
        finally:
            with contextlib.suppress(Exception):
                tx.cursor.close()
        return {"transactionStatus": COMMITTED if commit else ROLLED_BACK}

    def _database_command(
        self, cluster: Any, state: _Cluster, current: _Database, command: _DatabaseCommand
    ) -> _Result:
        """CREATE DATABASE / DROP DATABASE, on the cluster's set of databases."""
        verb = command.action.upper()
        if command.in_transaction:
            raise SqlError(f"{verb} DATABASE cannot run inside a transaction block", "25001")
        name = command.name
        with self.store.lock:
            defaults = {"postgres", cluster.database_name or "postgres"}
            exists = name in state.databases or (name in defaults and name not in state.dropped)
            if command.action == "create":
                if exists:
                    raise SqlError(f'database "{name}" already exists', "42P04")
                _open_database(state, name)
                return _Result()
            if not exists:
                if command.if_exists:
                    return _Result()
                raise SqlError(f'database "{name}" does not exist', "3D000")
            if name == current.name:
                raise SqlError("cannot drop the currently open database", "55006")
            if any(tx.database.name == name for tx in state.transactions.values()):
                raise SqlError(
                    f'database "{name}" is being accessed by other users',
                    "55006",
                    detail="There is 1 other session using the database.",
                )
            db = state.databases.pop(name, None)
            state.dropped.add(name)
        if db is not None:
            db.close()
        return _Result()

    # ---- checks ------------------------------------------------------------------------------
    def _cluster(self, arn: str | None) -> tuple[Any, _Cluster]:
        """The moto cluster and its state, after the Data API's checks on the cluster."""
        arn = arn or ""
        cluster = _cluster_by_arn(arn)
        if cluster is None or not cluster.enable_http_endpoint:
            name = cluster.db_cluster_identifier if cluster is not None else arn
            raise DataApiError(
                "HttpEndpointNotEnabledException",
                f"HttpEndpoint is not enabled for cluster {name}. Please refer to "
                "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/"
                "data-api.troubleshooting.html#data-api.troubleshooting.not-enabled",
            )
        if cluster.engine != PG_ENGINE:
            raise DataApiError(  # AWS serves Aurora MySQL too; the emulator does not
                "BadRequestException",
                f"Aurora MySQL is not emulated offline (labbook): the offline Data API runs "
                f"Aurora PostgreSQL only, and cluster {cluster.db_cluster_identifier} is "
                f"{cluster.engine}. Use engine aurora-postgresql, or run this lab on a real "
                "account.",
            )
        status = cluster.status
        if status not in _USABLE:
            raise DataApiError(
                "InvalidResourceStateException",
                f"DB cluster {cluster.db_cluster_identifier} is {status}: the Data API needs "
                "it available (StartDBCluster, or wait for db_cluster_available)",
            )
        if cluster.engine_mode != "serverless" and not cluster.members:
            raise DataApiError(
                "DatabaseNotFoundException",
                f"The DB cluster {cluster.db_cluster_identifier} doesn't have a DB instance: "
                "create one with CreateDBInstance(DBClusterIdentifier=..., "
                "DBInstanceClass='db.serverless')",
                404,
            )
        state = self.store.cluster(arn)
        self._wake(cluster, state)
        return cluster, state

    def _wake(self, cluster: Any, state: _Cluster) -> None:
        """Serverless v2 auto-pause: a paused instance refuses calls while it resumes."""
        now = self.now()
        self._expire(state, now)
        with self.store.lock:
            if state.last_activity is None:
                state.last_activity = _lab_time(self.emulator, getattr(cluster, "created", None))
            if state.resuming_until is not None:
                if now < state.resuming_until:
                    raise _resuming(cluster)
                state.resuming_until = None
                state.last_activity = now
                return
            pause_after = _auto_pause_seconds(cluster)
            idle = now - (state.last_activity or now)
            if pause_after is not None and not state.transactions and idle >= pause_after:
                state.resuming_until = now + RESUME_S
                raise _resuming(cluster)

    def _login(self, cluster: Any, secret_id: str | None, account: str, region: str) -> str:
        """The user the secret logs in as, after the secret and password checks."""
        from moto.secretsmanager.exceptions import SecretsManagerClientError
        from moto.secretsmanager.models import secretsmanager_backends

        secret_id = secret_id or ""
        if secret_id.startswith("arn:"):
            parts = secret_id.split(":")
            account, region = parts[4], parts[3]
        backend = secretsmanager_backends[account][region]
        try:
            value = backend.get_secret_value(secret_id, None, None)
        except SecretsManagerClientError as exc:
            text = exc.message
            if "marked deleted" in text:
                text = "You can't perform this operation on the secret because it was deleted."
            elif "can't find" not in text:
                text = "Secrets Manager can't find the specified secret."
            raise DataApiError(
                "SecretsErrorException", f"Error fetching secret {secret_id} : {text}"
            ) from None
        try:
            creds = json.loads(value.get("SecretString") or "")
            user, password = creds["username"], creds["password"]
            if not isinstance(user, str) or not isinstance(password, str):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            raise DataApiError(
                "InvalidSecretException",
                f"The secret {secret_id} is not valid: its SecretString must be a JSON object "
                'with "username" and "password" (the database credentials).',
            ) from None
        managed = getattr(cluster, "master_user_secret", None) if _managed(cluster) else None
        if managed is not None and value.get("ARN") == managed.secret_arn:
            return cluster.master_username or user  # the managed secret is the master's
        if user != cluster.master_username or password != _master_password(cluster):
            raise _database_error(
                cluster,
                SqlError(
                    f'password authentication failed for user "{user}"', "28P01", severity="FATAL"
                ),
            )
        return user

    # ---- sessions ----------------------------------------------------------------------------
    @contextlib.contextmanager
    def _session(
        self, cluster: Any, state: _Cluster, database: str, tx_id: str | None
    ) -> Iterator[tuple[_Database, Any, float]]:
        """(database, the connection to run on, lab time for now()) for one call; a failure
        inside a transaction ends it, as the Data API does."""
        if tx_id is not None:
            tx = self._transaction(state, tx_id)
            db, conn, stamp = tx.database, tx.cursor, tx.started
        else:
            with self.store.lock:
                db = self._database(cluster, state, database)
            conn, stamp = db.con, self.now()
        failed = False
        try:
            with db.lock:
                yield db, conn, stamp
        except SqlError as exc:
            failed = True
            raise _database_error(cluster, exc) from None
        except DataApiError:
            failed = True
            raise
        finally:
            now = self.now()
            with self.store.lock:
                state.last_activity = now
                if tx_id is not None and tx_id in state.transactions:
                    state.transactions[tx_id].last_used = now
            if failed and tx_id is not None:
                self._abort(state, tx_id)

    def _abort(self, state: _Cluster, tx_id: str) -> None:
        with self.store.lock:
            tx = state.transactions.pop(tx_id, None)
            state.ended[tx_id] = "Transaction has been aborted due to an error from a previous call"
        if tx is not None:
            _close(tx)

    def _transaction(self, state: _Cluster, tx_id: str) -> _Transaction:
        self._expire(state, self.now())
        with self.store.lock:
            tx = state.transactions.get(tx_id)
            if tx is None:
                why = state.ended.get(tx_id, "Transaction may be expired")
                raise DataApiError(
                    "TransactionNotFoundException", f"Transaction {tx_id} is not found: {why}", 404
                )
            return tx

    def _expire(self, state: _Cluster, now: float) -> None:
        """Roll back transactions idle for 3 minutes or open for 24 hours."""
        expired = []
        with self.store.lock:
            for tx in list(state.transactions.values()):
                if now - tx.last_used > TRANSACTION_IDLE_S or now - tx.started > TRANSACTION_MAX_S:
                    state.transactions.pop(tx.id, None)
                    state.ended[tx.id] = "Transaction may be expired"
                    expired.append(tx)
        for tx in expired:
            _close(tx)

    def _database(self, cluster: Any, state: _Cluster, name: str) -> _Database:
        """The database `name` of the cluster (made on first use), or PostgreSQL's FATAL."""
        db = state.databases.get(name)
        if db is not None:
            return db
        defaults = {"postgres", cluster.database_name or "postgres"}
        if name not in defaults or name in state.dropped:
            raise _database_error(
                cluster,
                SqlError(f'database "{name}" does not exist', "3D000", severity="FATAL"),
            )
        return _open_database(state, name)

    # ---- responses ---------------------------------------------------------------------------
    def _respond(
        self,
        cluster: Any,
        result: _Result,
        *,
        meta: bool,
        fmt: str,
        options: dict[str, Any],
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"numberOfRecordsUpdated": result.updated}
        if result.columns is None:
            body["generatedFields"] = []
            return body
        columns = result.columns
        if meta:
            body["columnMetadata"] = [c.metadata() for c in columns]
        if fmt == "JSON":
            rows = [
                {
                    c.name: _json_value(v, c, options, cluster)
                    for c, v in zip(columns, row, strict=False)
                }
                for row in result.rows
            ]
            text = json.dumps(rows, separators=(",", ":"))
            if len(text.encode()) > MAX_FORMATTED_BYTES:
                raise _too_large(cluster)
            body["formattedRecords"] = text
            return body
        records = [
            [_field(v, c, options, cluster) for c, v in zip(columns, row, strict=False)]
            for row in result.rows
        ]
        if len(json.dumps(records).encode()) > MAX_RESPONSE_BYTES:
            raise _too_large(cluster)
        body["records"] = records
        return body


def _lab_time(emulator: Any, created: Any) -> float:
    now = float(emulator.clock.now())
    if not isinstance(created, datetime):
        return now
    real = created.replace(tzinfo=created.tzinfo or timezone.utc).timestamp()
    lab_time_of = getattr(emulator.clock, "lab_time_of", None)
    return min(now, float(lab_time_of(real))) if lab_time_of else now


def _auto_pause_seconds(cluster: Any) -> float | None:
    """SecondsUntilAutoPause when the cluster may pause (Serverless v2, MinCapacity 0)."""
    config = getattr(cluster, "serverless_v2_scaling_configuration", None) or {}
    try:
        minimum = float(config.get("MinCapacity", 0.5))
    except (TypeError, ValueError):
        return None
    if minimum != 0:
        return None
    return float(config.get("SecondsUntilAutoPause") or AUTO_PAUSE_DEFAULT_S)


def _resuming(cluster: Any) -> DataApiError:
    return DataApiError(
        "DatabaseResumingException",
        f"The Aurora DB instance of cluster {cluster.db_cluster_identifier} is resuming after a "
        "pause. Please wait a few seconds and try again.",
    )


def _managed(cluster: Any) -> bool:
    return bool(getattr(cluster, "manage_master_user_password", False))


def _master_password(cluster: Any) -> str | None:
    if _managed(cluster):
        secret = cluster.master_user_secret.secret
        try:
            version = secret.versions[secret.default_version_id]
            return json.loads(version["secret_string"]).get("password")
        except (KeyError, ValueError, AttributeError):
            return None
    return getattr(cluster, "_master_user_password", None)


def _database_error(cluster: Any, error: SqlError) -> DataApiError:
    """How the Data API wraps a database error: DatabaseErrorException, or BadRequestException
    on Serverless v1 (API reference, BadRequestException)."""
    serverless_v1 = getattr(cluster, "engine_mode", "") == "serverless"
    code = "BadRequestException" if serverless_v1 else "DatabaseErrorException"
    return DataApiError(code, error.text())


def _too_large(cluster: Any) -> DataApiError:
    serverless_v1 = getattr(cluster, "engine_mode", "") == "serverless"
    code = "BadRequestException" if serverless_v1 else "UnsupportedResultException"
    return DataApiError(code, "Database returned more than the allowed response size limit")


def _open_database(state: _Cluster, name: str) -> _Database:
    import duckdb

    # integer_division: `/` on integers truncates, as PostgreSQL's does
    con = duckdb.connect(":memory:", config={"threads": 1, "integer_division": True})
    db = _Database(name, con)
    state.databases[name] = db
    state.dropped.discard(name)
    return db


def _close(tx: _Transaction) -> None:
    """Roll back and close a transaction's connection."""
    with tx.database.lock:
        with contextlib.suppress(Exception):
            tx.cursor.execute("ROLLBACK")
        with contextlib.suppress(Exception):
            tx.cursor.close()


def _commit(conn: Any) -> None:
    try:
        conn.execute("COMMIT")
    except Exception as exc:  # DuckDB checks conflicts at commit
        with contextlib.suppress(Exception):
            conn.execute("ROLLBACK")
        raise _translate(exc, None, None, "") from None


# ---- parameters ------------------------------------------------------------------------------
def _params(raw: list[dict[str, Any]]) -> dict[str, _Param]:
    out: dict[str, _Param] = {}
    for item in raw:
        name = item.get("name") or ""
        value = item.get("value") or {}
        hint = item.get("typeHint")
        if "arrayValue" in value:
            raise DataApiError("BadRequestException", "Array parameters are not supported.")
        if value.get("isNull") is not None and "isNull" in value:
            param = _Param(name, "null", None)
        elif "stringValue" in value:
            param = _Param(name, "string", value["stringValue"], hint)
            if hint:
                _check_hint(name, value["stringValue"], hint)
        elif "longValue" in value:
            param = _Param(name, "long", int(value["longValue"]))
        elif "doubleValue" in value:
            param = _Param(name, "double", float(value["doubleValue"]))
        elif "booleanValue" in value:
            param = _Param(name, "bool", bool(value["booleanValue"]))
        elif "blobValue" in value:
            blob = value["blobValue"]
            param = _Param(name, "blob", base64.b64decode(blob) if isinstance(blob, str) else blob)
        else:
            param = _Param(name, "null", None)
        out[name] = param
    return out


def _check_hint(name: str, value: str, hint: str) -> None:
    spec = _HINTS.get(hint)
    if spec is None:
        raise DataApiError(
            "BadRequestException",
            f"Invalid typeHint {hint!r} for parameter {name}: use one of {', '.join(_HINTS)}",
        )
    if not re.fullmatch(spec[1], value):
        raise DataApiError(
            "BadRequestException",
            f"Invalid {hint} value {value!r} for parameter {name}: the format is {spec[2]}",
        )


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DOLLAR = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")


def _placeholders(sql: str) -> tuple[str, list[str], dict[str, int]]:
    """`:name` -> `$n` outside quotes, comments and `::` casts: (sql, names by n, first offset
    of each name in `sql`)."""
    out: list[str] = []
    names: list[str] = []
    where: dict[str, int] = {}
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c == "'" or c == '"':
            j = i + 1
            while j < n:
                if sql[j] == c:
                    if j + 1 < n and sql[j + 1] == c:
                        j += 2
                        continue
                    break
                if sql[j] == "\\" and c == "'" and i > 0 and sql[i - 1] in "eE":
                    j += 2
                    continue
                j += 1
            out.append(sql[i : j + 1])
            i = j + 1
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j < 0 else j
            out.append(sql[i:j])
            i = j
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(sql[i:j])
            i = j
        elif c == "$" and (m := _DOLLAR.match(sql, i)) and (i == 0 or not sql[i - 1].isalnum()):
            tag = m.group(0)
            j = sql.find(tag, m.end())
            j = n if j < 0 else j + len(tag)
            out.append(sql[i:j])
            i = j
        elif sql.startswith("::", i):
            out.append("::")
            i += 2
        elif c == ":" and (m := _IDENT.match(sql, i + 1)):
            name = m.group(0)
            if name not in names:
                names.append(name)
                where[name] = i
            out.append(f"${names.index(name) + 1}")
            i = m.end()
        else:
            out.append(c)
            i += 1
    return "".join(out), names, where


# ---- statements ------------------------------------------------------------------------------
@dataclass
class _Column:
    name: str
    info: _ColumnInfo
    table: str = ""
    duck_type: str = ""

    def pg(self) -> _PgType:
        return _PG.get(_base(self.info.pgtype), _PG["text"])

    def metadata(self) -> dict[str, Any]:
        pg = self.pg()
        type_name = self.info.pgtype
        if self.info.auto_increment and type_name in _SERIALS:
            type_name = _SERIALS[type_name]
        precision, scale = pg.precision, pg.scale
        if _base(self.info.pgtype) == "numeric":
            precision = self.info.typmod[0] if self.info.typmod else 0
            scale = self.info.typmod[1] if len(self.info.typmod) > 1 else 0
        elif _base(self.info.pgtype) in ("varchar", "bpchar") and self.info.typmod:
            precision = self.info.typmod[0]
        array = type_name.startswith("_")
        return {
            "name": self.name,
            "type": 2003 if array else pg.jdbc,
            "typeName": type_name,
            "label": self.name,
            "schemaName": "",
            "tableName": self.table,
            "isAutoIncrement": self.info.auto_increment,
            "isSigned": pg.signed,
            "isCurrency": False,
            "isCaseSensitive": pg.case_sensitive,
            "nullable": 1 if self.info.nullable else 0,
            "precision": precision,
            "scale": scale,
            "arrayBaseColumnType": pg.jdbc if array else 0,
        }


@dataclass
class _Result:
    updated: int = 0
    columns: list[_Column] | None = None
    rows: list[tuple[Any, ...]] = field(default_factory=list)


_NO_OP = re.compile(
    r"\s*(BEGIN|START\s+TRANSACTION|COMMIT|END|ROLLBACK|ABORT|SET|RESET|SHOW|DISCARD|"
    r"CREATE\s+EXTENSION|DROP\s+EXTENSION)\b",
    re.IGNORECASE,
)


def _execute(
    db: _Database,
    conn: Any,
    sql: str,
    params: dict[str, _Param],
    now: float,
    *,
    in_transaction: bool,
    batch: bool = False,
) -> _Result:
    """Run one PostgreSQL statement on `conn`; SqlError with PostgreSQL's message on failure."""
    from sqlglot import exp

    positional, names, where = _placeholders(sql)
    if _NO_OP.match(positional) and ";" not in positional.strip().rstrip(";"):
        return _Result()
    tree = _parse(positional, conn)
    if tree is None:
        return _Result()
    values: list[_Param] = []
    for index, name in enumerate(names, start=1):
        if name not in params:
            raise SqlError(f"No value specified for parameter {index}.", "22023")
        values.append(params[name])
    kind = (tree.args.get("kind") or "").upper() if isinstance(tree, (exp.Create, exp.Drop)) else ""
    if kind == "DATABASE":
        target = (
            tree.this if isinstance(tree, exp.Create) else (tree.args.get("tables") or [None])[0]
        )
        action = "create" if isinstance(tree, exp.Create) else "drop"
        name = _ident(target.this) if target is not None else ""
        raise _DatabaseCommand(action, name, bool(tree.args.get("exists")), in_transaction)
    _check_types(db, conn, tree, values, names, where)
    _check_identity(db, tree, sql)
    before, after = _rewrite(db, tree)
    _bind(tree, values)
    duck_sql = tree.sql(dialect="duckdb")
    args = [p.value for p in values]
    stamp = datetime.fromtimestamp(now, tz=timezone.utc).isoformat()
    own = not in_transaction and bool(before)
    try:
        conn.execute(f"SET VARIABLE labbook_now = TIMESTAMPTZ '{stamp}'")
        if own:
            conn.execute("BEGIN TRANSACTION")
        for statement in before:
            conn.execute(statement)
        cursor = conn.execute(duck_sql, args) if args else conn.execute(duck_sql)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        if own:
            conn.execute("COMMIT")
    except Exception as exc:
        if own:
            with contextlib.suppress(Exception):
                conn.execute("ROLLBACK")
        raise _translate(exc, tree, db, sql) from None
    after()
    returns_rows = isinstance(tree, exp.Query) or bool(tree.args.get("returning"))
    if isinstance(tree, (exp.Insert, exp.Update, exp.Delete)) and not returns_rows:
        return _Result(updated=int(rows[0][0]) if rows and rows[0] else 0)
    if not returns_rows or batch:
        return _Result()
    return _Result(columns=_outputs(db, conn, tree, description), rows=rows)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """sqlglot logs a warning when it falls back to a raw Command: not the learner's concern."""
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _parse(sql: str, conn: Any) -> Any:
    import sqlglot
    from sqlglot.errors import ParseError, TokenError

    try:
        with _quiet():
            trees = [t for t in sqlglot.parse(sql, read="postgres") if t is not None]
    except (ParseError, TokenError) as exc:
        raise _syntax_error(sql, conn, exc) from None
    if len(trees) > 1:
        raise DataApiError("ValidationException", "Multistatements aren't supported.")
    return trees[0] if trees else None


def _syntax_error(sql: str, conn: Any, exc: Exception) -> SqlError:
    """PostgreSQL's syntax error: DuckDB's parser is PostgreSQL's, so ask it first."""
    try:
        conn.extract_statements(sql)
    except Exception as duck:
        text = str(duck)
        m = re.search(r"syntax error at (or near \"[^\"]*\"|end of input)", text)
        if m:
            return SqlError(f"syntax error at {m.group(1)}", "42601", position=_caret(text, sql))
    errors = getattr(exc, "errors", None) or [{}]
    got = errors[0].get("highlight") or ""
    position = _find(sql, got) if got else None
    near = f'or near "{got}"' if got else "end of input"
    return SqlError(f"syntax error at {near}", "42601", position=position)


def _caret(text: str, sql: str) -> int | None:
    """The 1-based offset in `sql` that DuckDB's `LINE n: ...` and `^` point at."""
    m = re.search(r"LINE (\d+): (.*)\n(\s*)\^", text)
    if not m:
        return None
    line, prefix = int(m.group(1)), len(f"LINE {m.group(1)}: ")
    column = len(m.group(3)) - prefix
    lines = sql.split("\n")
    if line > len(lines):
        return None
    offset = sum(len(x) + 1 for x in lines[: line - 1]) + max(column, 0)
    return offset + 1


def _find(sql: str, word: str) -> int | None:
    m = re.search(rf"(?<![A-Za-z0-9_]){re.escape(word)}(?![A-Za-z0-9_])", sql, re.IGNORECASE)
    return m.start() + 1 if m else None


class _DatabaseCommand(Exception):
    """CREATE / DROP DATABASE: handled by the caller, who knows the cluster's databases."""

    def __init__(self, action: str, name: str, if_exists: bool, in_transaction: bool):
        super().__init__(action)
        self.action, self.name, self.if_exists = action, name, if_exists
        self.in_transaction = in_transaction


def _ident(node: Any) -> str:
    """An identifier as PostgreSQL stores it: folded to lower case unless quoted."""
    from sqlglot import exp

    if isinstance(node, exp.Identifier):
        return node.this if node.quoted else node.this.lower()
    return str(getattr(node, "name", node) or "").lower()


def _base(pgtype: str) -> str:
    return {"serial": "int4", "bigserial": "int8", "smallserial": "int2"}.get(pgtype, pgtype)


def _pg_of_datatype(kind: Any) -> tuple[str, tuple[int, ...]]:
    """PostgreSQL's internal type name (and typmod) of a sqlglot DataType read as postgres."""
    from sqlglot import exp

    t = kind.this
    mods: list[int] = []
    for e in kind.expressions:
        with contextlib.suppress(ValueError, TypeError):
            mods.append(int(e.name if hasattr(e, "name") and e.name else e.sql()))
    T = exp.DataType.Type
    if t == T.ARRAY:
        inner = kind.expressions[0] if kind.expressions else None
        name = _pg_of_datatype(inner)[0] if isinstance(inner, exp.DataType) else "text"
        return f"_{_base(name)}", ()
    table = {
        T.INT: "int4",
        T.BIGINT: "int8",
        T.SMALLINT: "int2",
        T.TINYINT: "int2",
        T.SERIAL: "serial",
        T.BIGSERIAL: "bigserial",
        T.SMALLSERIAL: "smallserial",
        T.TEXT: "text",
        T.VARCHAR: "varchar",
        T.NVARCHAR: "varchar",
        T.CHAR: "bpchar",
        T.NCHAR: "bpchar",
        T.BOOLEAN: "bool",
        T.DATE: "date",
        T.TIME: "time",
        T.TIMETZ: "timetz",
        T.TIMESTAMP: "timestamp",
        T.TIMESTAMPTZ: "timestamptz",
        T.DECIMAL: "numeric",
        T.DOUBLE: "float8",
        T.FLOAT: "float4",
        T.JSON: "json",
        T.JSONB: "jsonb",
        T.UUID: "uuid",
        T.VARBINARY: "bytea",
        T.BINARY: "bytea",
        T.INTERVAL: "interval",
    }
    name = table.get(t, str(t.value).lower())
    if name == "bpchar" and not mods:
        mods = [1]
    return name, tuple(mods)


def _pg_of_duck(duck_type: str) -> tuple[str, tuple[int, ...]]:
    duck_type = duck_type.upper()
    if duck_type.endswith("[]"):
        inner = _pg_of_duck(duck_type[:-2])[0]
        return f"_{inner}", ()
    m = re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", duck_type)
    if m:
        mods = (int(m.group(1)), int(m.group(2)))
        return "numeric", () if mods == _UNCONSTRAINED_NUMERIC else mods
    return _DUCK_TO_PG.get(duck_type, "text"), ()


def _table_columns(db: _Database, conn: Any, table: str) -> list[tuple[str, _ColumnInfo]]:
    """The table's columns in order, as PostgreSQL describes them."""
    rows = conn.execute(
        "SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns "
        "WHERE lower(table_name) = lower(?) ORDER BY ordinal_position",
        [table],
    ).fetchall()
    out = []
    for name, data_type, nullable, default in rows:
        known = db.columns.get((table.lower(), name.lower()))
        if known is not None:
            info = _ColumnInfo(known.pgtype, known.typmod, nullable == "YES", known.auto_increment)
        else:
            pgtype, mods = _pg_of_duck(str(data_type))
            auto = "nextval(" in str(default or "")
            info = _ColumnInfo(pgtype, mods, nullable == "YES", auto)
        out.append((name, info))
    return out


def _string_param(node: Any, values: list[_Param]) -> _Param | None:
    """The parameter `node` is, when it is a bare `$n` bound to an unhinted stringValue."""
    from sqlglot import exp

    if isinstance(node, exp.Parameter) and node.this is not None:
        try:
            index = int(node.this.name)
        except (TypeError, ValueError):
            return None
        if 1 <= index <= len(values):
            param = values[index - 1]
            if param.kind == "string" and not param.hint:
                return param
    return None


def _check_types(
    db: _Database,
    conn: Any,
    tree: Any,
    values: list[_Param],
    names: list[str],
    where: dict[str, int],
) -> None:
    """PostgreSQL refuses a character varying where another type is needed: so do we."""
    from sqlglot import exp

    if not any(p.kind == "string" and not p.hint for p in values):
        return

    def position(param: _Param) -> int | None:
        return where[param.name] + 1 if param.name in where else None

    tables = _sources(tree)

    def column_info(column: Any) -> tuple[str, _ColumnInfo] | None:
        qualifier = column.table.lower() if column.table else ""
        for alias, table in tables.items():
            if qualifier and qualifier != alias:
                continue
            for name, info in _table_columns(db, conn, table):
                if name.lower() == column.name.lower():
                    return name, info
        return None

    def refuse_assignment(name: str, info: _ColumnInfo, param: _Param) -> None:
        if _base(info.pgtype) not in _STRING_TYPES:
            raise SqlError(
                f'column "{name}" is of type {_display(info)} but expression is of type '
                "character varying",
                "42804",
                hint="You will need to rewrite or cast the expression.",
                position=position(param),
            )

    if isinstance(tree, exp.Insert) and isinstance(tree.expression, exp.Values):
        target = tree.this
        table = target.this if isinstance(target, exp.Schema) else target
        columns = _table_columns(db, conn, table.name)
        by_name = {n.lower(): (n, i) for n, i in columns}
        if isinstance(target, exp.Schema) and target.expressions:
            chosen = [by_name.get(_ident(c)) for c in target.expressions]
        else:
            chosen = list(columns)
        for row in tree.expression.expressions:
            for slot, node in zip(chosen, row.expressions, strict=False):
                param = _string_param(node, values)
                if param is not None and slot is not None:
                    refuse_assignment(slot[0], slot[1], param)
    if isinstance(tree, exp.Update):
        for eq in tree.expressions:
            param = _string_param(eq.expression, values)
            if param is not None and isinstance(eq.this, exp.Column):
                found = column_info(eq.this)
                if found:
                    refuse_assignment(found[0], found[1], param)
    ops = {exp.EQ: "=", exp.NEQ: "<>", exp.GT: ">", exp.GTE: ">=", exp.LT: "<", exp.LTE: "<="}
    for node in tree.find_all(*ops):
        for column, other, flipped in (
            (node.this, node.expression, False),
            (node.expression, node.this, True),
        ):
            param = _string_param(other, values)
            if param is None or not isinstance(column, exp.Column):
                continue
            found = column_info(column)
            if found and _base(found[1].pgtype) not in _STRING_TYPES:
                left, right = _display(found[1]), "character varying"
                if flipped:
                    left, right = right, left
                raise SqlError(
                    f"operator does not exist: {left} {ops[type(node)]} {right}",
                    "42883",
                    hint="No operator matches the given name and argument types. You might need "
                    "to add explicit type casts.",
                    position=position(param),
                )


def _display(info: _ColumnInfo) -> str:
    base = _base(info.pgtype)
    if base.startswith("_"):
        return f"{_PG.get(base[1:], _PG['text']).display}[]"
    return _PG.get(base, _PgType(base, 1111, 0)).display


def _sources(tree: Any) -> dict[str, str]:
    """alias (or name) -> table name, for the tables a statement reads or writes."""
    from sqlglot import exp

    out: dict[str, str] = {}
    for table in tree.find_all(exp.Table):
        if not table.name:
            continue
        alias = table.alias or table.name
        out.setdefault(alias.lower(), table.name)
    return out


def _check_identity(db: _Database, tree: Any, sql: str) -> None:
    from sqlglot import exp

    if not db.always or not isinstance(tree, exp.Insert):
        return
    target = tree.this
    if not isinstance(target, exp.Schema) or tree.args.get("overriding"):
        return
    table = target.this.name.lower()
    for column in target.expressions:
        name = _ident(column)
        if (table, name) in db.always:
            raise SqlError(
                f'cannot insert a non-DEFAULT value into column "{name}"',
                "428C9",
                detail=f'Column "{name}" is an identity column defined as GENERATED ALWAYS.',
                hint="Use OVERRIDING SYSTEM VALUE to override.",
            )


def _rewrite(db: _Database, tree: Any) -> tuple[list[str], Any]:
    """Make the PostgreSQL tree DuckDB's: (statements to run first, what to note after)."""
    from sqlglot import exp

    before: list[str] = []
    notes: list[Any] = []
    T = exp.DataType.Type
    lab_now = exp.Cast(
        this=exp.Anonymous(this="getvariable", expressions=[exp.Literal.string("labbook_now")]),
        to=exp.DataType.build("TIMESTAMPTZ"),
    )
    clock = {
        exp.CurrentTimestamp: "TIMESTAMPTZ",
        exp.CurrentDate: "DATE",
        exp.CurrentTime: "TIMETZ",
        exp.Localtimestamp: "TIMESTAMP",
    }
    for node in list(tree.find_all(*clock, exp.Anonymous)):
        if isinstance(node, exp.Anonymous):
            if node.name.lower() not in (
                "clock_timestamp",
                "statement_timestamp",
                "transaction_timestamp",
            ):
                continue
            target = "TIMESTAMPTZ"
        else:
            target = clock[type(node)]
        replacement = lab_now.copy()
        if target != "TIMESTAMPTZ":
            replacement = exp.Cast(this=replacement, to=exp.DataType.build(target))
        node.replace(replacement)
    for cast in list(tree.find_all(exp.Cast)):  # '\\x0102'::bytea, PostgreSQL's hex format
        literal = cast.this
        if (
            isinstance(cast.to, exp.DataType)
            and cast.to.this in (T.VARBINARY, T.BINARY)
            and isinstance(literal, exp.Literal)
            and literal.is_string
            and re.fullmatch(r"\\x([0-9a-fA-F]{2})*", literal.this)
        ):
            hex_digits = exp.Literal.string(literal.this[2:])
            cast.replace(exp.Anonymous(this="unhex", expressions=[hex_digits]))
    for kind in list(tree.find_all(exp.DataType)):
        if kind.this == T.DECIMAL and not kind.expressions:
            p, s = _UNCONSTRAINED_NUMERIC
            kind.set(
                "expressions",
                [
                    exp.DataTypeParam(this=exp.Literal.number(p)),
                    exp.DataTypeParam(this=exp.Literal.number(s)),
                ],
            )
            kind.meta["unconstrained"] = True

    create = isinstance(tree, exp.Create) and (tree.args.get("kind") or "").upper() == "TABLE"
    alter = isinstance(tree, exp.Alter)
    if create or alter:
        table_node = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        table = _ident(table_node.this) if isinstance(table_node, exp.Table) else ""
        defs = (
            tree.this.expressions
            if create and isinstance(tree.this, exp.Schema)
            else (tree.args.get("actions") or [])
        )
        for column in defs:
            if not isinstance(column, exp.ColumnDef) or column.args.get("kind") is None:
                continue
            name = _ident(column.this)
            kind = column.args["kind"]
            pgtype, mods = _pg_of_datatype(kind)
            if kind.meta.get("unconstrained"):
                mods = ()
            auto = False
            identity = None
            for constraint in column.constraints:
                if isinstance(constraint.kind, exp.GeneratedAsIdentityColumnConstraint):
                    identity = constraint
            if pgtype in ("serial", "bigserial", "smallserial") or identity is not None:
                auto = True
                if pgtype in ("serial", "bigserial", "smallserial"):
                    pgtype = _base(pgtype)
                    kind.set("this", {"int4": T.INT, "int8": T.BIGINT, "int2": T.SMALLINT}[pgtype])
                sequence = f"{table}_{name}_seq"
                start = 1
                if identity is not None:
                    start_node = identity.kind.args.get("start")
                    with contextlib.suppress(ValueError, TypeError, AttributeError):
                        start = int(start_node.name)
                    if identity.kind.args.get("this") is True:  # GENERATED ALWAYS
                        notes.append(("always", table, name))
                    column.set("constraints", [c for c in column.constraints if c is not identity])
                before.append(f'CREATE SEQUENCE "{sequence}" START {start}')
                default = exp.ColumnConstraint(
                    kind=exp.DefaultColumnConstraint(
                        this=exp.Anonymous(
                            this="nextval", expressions=[exp.Literal.string(sequence)]
                        )
                    )
                )
                column.append("constraints", default)
                notes.append(("sequence", table, sequence))
            nullable = not any(
                isinstance(c.kind, (exp.NotNullColumnConstraint, exp.PrimaryKeyColumnConstraint))
                for c in column.constraints
            )
            notes.append(("column", table, name, _ColumnInfo(pgtype, mods, nullable, auto)))
    dropped: list[str] = []
    if isinstance(tree, exp.Drop) and (tree.args.get("kind") or "").upper() == "TABLE":
        dropped = [_ident(t.this) for t in tree.args.get("tables") or [tree.this] if t is not None]

    def after() -> None:
        for note in notes:
            if note[0] == "column":
                db.columns[(note[1], note[2])] = note[3]
            elif note[0] == "sequence":
                db.sequences.setdefault(note[1], []).append(note[2])
            elif note[0] == "always":
                db.always.add((note[1], note[2]))
        for table in dropped:
            for key in [k for k in db.columns if k[0] == table]:
                del db.columns[key]
            db.always = {k for k in db.always if k[0] != table}
            for sequence in db.sequences.pop(table, []):
                with contextlib.suppress(Exception):
                    db.con.execute(f'DROP SEQUENCE IF EXISTS "{sequence}"')

    return before, after


def _bind(tree: Any, values: list[_Param]) -> None:
    """Cast hinted parameters to their type (a DECIMAL keeps the digits it was given)."""
    from sqlglot import exp

    for node in list(tree.find_all(exp.Parameter)):
        try:
            index = int(node.this.name)
        except (TypeError, ValueError, AttributeError):
            continue
        if not 1 <= index <= len(values):
            continue
        param = values[index - 1]
        if param.kind == "string" and param.hint:
            target = _HINTS[param.hint][0]
            if target == "DECIMAL":
                target = _decimal_type(param.value)
            node.replace(
                exp.Cast(this=node.copy(), to=exp.DataType.build(target, dialect="duckdb"))
            )


def _decimal_type(text: str) -> str:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return "DECIMAL(38, 10)"
    sign, digits, exponent = value.as_tuple()
    scale = max(0, -int(exponent)) if isinstance(exponent, int) else 0
    precision = max(
        len(digits) + max(0, int(exponent) if isinstance(exponent, int) else 0), scale + 1
    )
    if precision > 38:
        return "DECIMAL(38, 10)"
    return f"DECIMAL({precision}, {min(scale, precision)})"


# ---- results ---------------------------------------------------------------------------------
_FUNCTION_NAMES = {
    "GroupConcat": "string_agg",
    "ArrayAgg": "array_agg",
    "CurrentTimestamp": "now",
    "CurrentDate": "current_date",
    "CurrentTime": "current_time",
    "Localtimestamp": "localtimestamp",
    "Count": "count",
}


def _pg_name(node: Any) -> str | None:
    """The column name PostgreSQL gives a select-list item (FigureColname), or None."""
    from sqlglot import exp

    if isinstance(node, exp.Alias):
        return _ident(node.args["alias"])
    if isinstance(node, exp.Column) and isinstance(node.this, exp.Identifier):
        return _ident(node.this)
    if isinstance(node, exp.Paren):
        return _pg_name(node.this)
    if isinstance(node, exp.Cast):
        inner = node.this
        if isinstance(inner, (exp.Column, exp.Func, exp.Cast, exp.Paren)):
            name = _pg_name(inner)
            if name and name != "?column?":
                return name
        return _base(_pg_of_datatype(node.to)[0]) if isinstance(node.to, exp.DataType) else None
    if isinstance(node, exp.Window):
        return _pg_name(node.this)
    if isinstance(node, exp.Case):
        return "case"
    if isinstance(node, exp.Exists):
        return "exists"
    if isinstance(node, exp.Anonymous):
        return node.name.lower()
    if isinstance(node, exp.Func):
        return _FUNCTION_NAMES.get(type(node).__name__, node.sql_name().lower())
    return "?column?"


def _outputs(db: _Database, conn: Any, tree: Any, description: Any) -> list[_Column]:
    """Names, types and table columns of what a statement returns."""
    from sqlglot import exp

    duck = [(d[0], str(d[1])) for d in description]
    columns = []
    for name, duck_type in duck:
        pgtype, mods = _pg_of_duck(duck_type)
        columns.append(_Column(name, _ColumnInfo(pgtype, mods, True, False), "", duck_type))
    select = tree
    while isinstance(select, exp.SetOperation):
        select = select.this
    if isinstance(tree, (exp.Insert, exp.Update, exp.Delete)):
        items = tree.args["returning"].expressions
        target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        sources = [(target.alias or target.name, target.name)]
    elif isinstance(select, exp.Select):
        items = select.expressions
        sources = []
        for table in [select.args.get("from_") or select.args.get("from")] + list(
            select.args.get("joins") or []
        ):
            node = getattr(table, "this", None)
            if isinstance(node, exp.Table) and node.name:
                sources.append((node.alias or node.name, node.name))
    else:
        return columns
    slots: list[tuple[str | None, str | None, str | None]] = []  # (name, table, column)
    try:
        table_columns = {table.lower(): _table_columns(db, conn, table) for _, table in sources}
    except Exception:
        table_columns = {}
    for item in items:
        star = isinstance(item, exp.Star) or (
            isinstance(item, exp.Column) and isinstance(item.this, exp.Star)
        )
        if star:
            wanted = item.table.lower() if isinstance(item, exp.Column) and item.table else None
            for alias, table in sources:
                if wanted and wanted not in (alias.lower(), table.lower()):
                    continue
                for name, _ in table_columns.get(table.lower(), []):
                    slots.append((name, table, name))
            continue
        inner = item.this if isinstance(item, exp.Alias) else item
        table = column = None
        if isinstance(inner, exp.Column) and isinstance(inner.this, exp.Identifier):
            qualifier = inner.table.lower() if inner.table else ""
            for alias, real in sources:
                if qualifier and qualifier not in (alias.lower(), real.lower()):
                    continue
                names = {n.lower(): n for n, _ in table_columns.get(real.lower(), [])}
                if inner.name.lower() in names:
                    table, column = real, names[inner.name.lower()]
                    break
        slots.append((_pg_name(item), table, column))
    if len(slots) != len(columns):
        return columns
    for out, (name, table, column) in zip(columns, slots, strict=True):
        if name:
            out.name = name
        if table and column:
            info = dict(table_columns.get(table.lower(), [])).get(column)
            if info is not None:
                out.info = info
                out.table = table
    return columns


def _field(value: Any, column: _Column, options: dict[str, Any], cluster: Any) -> dict[str, Any]:
    """One value as a Data API Field union."""
    if value is None:
        return {"isNull": True}
    base = _base(column.info.pgtype)
    if base.startswith("_") or isinstance(value, list):
        return {"arrayValue": _array(value, cluster)}
    if base == "bool" or isinstance(value, bool):
        return {"booleanValue": bool(value)}
    if base in ("int2", "int4", "int8") and isinstance(value, int):
        if options.get("longReturnType") == "STRING":
            return {"stringValue": str(value)}
        return {"longValue": value}
    if base in ("float4", "float8"):
        return {"doubleValue": float(value)}
    if isinstance(value, Decimal) or base == "numeric":
        if options.get("decimalReturnType") == "DOUBLE_OR_LONG":
            number = Decimal(value)
            if number == number.to_integral_value() and (column.info.typmod[1:2] or (0,))[0] == 0:
                return {"longValue": int(number)}
            return {"doubleValue": float(number)}
        return {"stringValue": _numeric_text(value, column)}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"blobValue": base64.b64encode(bytes(value)).decode()}
    return {"stringValue": _text(value)}


def _json_value(value: Any, column: _Column, options: dict[str, Any], cluster: Any) -> Any:
    """One value as formattedRecords gives it."""
    f = _field(value, column, options, cluster)
    if "isNull" in f:
        return None
    if "arrayValue" in f:
        return _plain_array(f["arrayValue"])
    return next(iter(f.values()))


def _array(values: list[Any], cluster: Any) -> dict[str, Any]:
    items = [v for v in values if v is not None]
    if any(isinstance(v, list) for v in items):
        serverless_v1 = getattr(cluster, "engine_mode", "") == "serverless"
        raise DataApiError(
            "BadRequestException" if serverless_v1 else "UnsupportedResultException",
            "The result contains a multidimensional array, which the Data API does not support.",
        )
    if items and all(isinstance(v, bool) for v in items):
        return {"booleanValues": items}
    if items and all(isinstance(v, int) and not isinstance(v, bool) for v in items):
        return {"longValues": items}
    if items and all(isinstance(v, float) for v in items):
        return {"doubleValues": items}
    return {"stringValues": [_text(v) for v in items]}


def _plain_array(array: dict[str, Any]) -> list[Any]:
    return next(iter(array.values())) if array else []


def _numeric_text(value: Any, column: _Column) -> str:
    number = Decimal(value)
    if not column.info.typmod and column.duck_type.upper() in ("DECIMAL(38,10)", ""):
        if number == 0:
            return "0"
        text = format(number.normalize(), "f")
        return text
    return format(number, "f")


def _text(value: Any) -> str:
    """Strings as the Data API gives dates, times, timestamps, intervals and the rest."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        out = value.strftime("%Y-%m-%d %H:%M:%S")
        return out + (f".{value.microsecond // 1000:03d}" if value.microsecond else "")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, time):
        out = value.strftime("%H:%M:%S")
        return out + (f".{value.microsecond // 1000:03d}" if value.microsecond else "")
    if isinstance(value, timedelta):
        days, rest = value.days, value - timedelta(days=value.days)
        hours, rem = divmod(int(rest.total_seconds()), 3600)
        clock = f"{hours:02d}:{rem // 60:02d}:{rem % 60:02d}"
        if rest.microseconds:
            clock += f".{rest.microseconds:06d}".rstrip("0")
        if days:
            return f"{days} day{'s' if abs(days) != 1 else ''}" + (f" {clock}" if rest else "")
        return clock
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str)
    return str(value)


# ---- errors ----------------------------------------------------------------------------------
_INT_NAMES = {
    "INT8": "smallint",
    "INT16": "smallint",
    "INT32": "integer",
    "INT64": "bigint",
    "DOUBLE": "double precision",
    "FLOAT": "real",
    "BOOL": "boolean",
    "UUID": "uuid",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIME": "time",
}


def _translate(exc: Exception, tree: Any, db: _Database | None, sql: str) -> Exception:
    """A DuckDB error as PostgreSQL would have reported it."""
    if isinstance(exc, (SqlError, DataApiError, _DatabaseCommand)):
        return exc
    text = str(exc)
    first = text.split("\n", 1)[0]
    first = re.sub(r"^[A-Za-z ]+ Error: ", "", first)
    table = _target_table(tree)
    if m := re.search(r'Duplicate key "(.*)" violates (primary key|unique) constraint', first):
        pairs = _key_pairs(m.group(1))
        cols = [c for c, _ in pairs]
        name = f"{table}_pkey" if m.group(2) == "primary key" else f"{table}_{'_'.join(cols)}_key"
        return SqlError(
            f'duplicate key value violates unique constraint "{name}"',
            "23505",
            detail=f"Key ({', '.join(cols)})=({', '.join(v for _, v in pairs)}) already exists.",
        )
    if "PRIMARY KEY or UNIQUE constraint violation" in first:
        m = re.search(r'duplicate key "(.*)"', first)
        return SqlError(
            "duplicate key value violates unique constraint",
            "23505",
            detail=f"Key ({m.group(1) if m else ''}) already exists.",
        )
    if m := re.search(r"NOT NULL constraint failed: ([^.]+)\.(\S+)", first):
        return SqlError(
            f'null value in column "{m.group(2)}" of relation "{m.group(1)}" violates not-null '
            "constraint",
            "23502",
        )
    if m := re.search(r'CHECK constraint failed on table "?([^" ]+)"? with expression (.*)', first):
        column = re.search(r"[A-Za-z_][A-Za-z0-9_]*", m.group(2).replace("CHECK", "", 1))
        name = f"{m.group(1)}_{column.group(0) if column else 'check'}_check"
        return SqlError(
            f'new row for relation "{m.group(1)}" violates check constraint "{name}"', "23514"
        )
    if m := re.search(r'foreign key constraint because key "(.*)" does not exist', first):
        fk = _foreign_key(db, table)
        cols, ref, _ = fk or ([c for c, _ in _key_pairs(m.group(1))], "?", [])
        values = [v for _, v in _key_pairs(m.group(1))]
        return SqlError(
            f'insert or update on table "{table}" violates foreign key constraint '
            f'"{table}_{"_".join(cols)}_fkey"',
            "23503",
            detail=f'Key ({", ".join(cols)})=({", ".join(values)}) is not present in table "{ref}".',
        )
    if "still referenced by a foreign key" in first:
        return SqlError(
            f'update or delete on table "{table}" violates a foreign key constraint',
            "23503",
            detail="Key is still referenced from another table.",
        )
    if m := re.search(r"Table with name (\S+) does not exist", first):
        name = m.group(1).strip('"')
        return SqlError(f'relation "{name}" does not exist', "42P01", position=_find(sql, name))
    if m := re.search(r"Table with name (\S+) already exists", first):
        return SqlError(f'relation "{m.group(1).strip(chr(34))}" already exists', "42P07")
    if m := re.search(r"(?:Scalar|Aggregate|Table) Function with name (\S+) does not exist", first):
        name = m.group(1).strip('"')
        return SqlError(
            f"function {name} does not exist",
            "42883",
            hint="No function matches the given name and argument types. You might need to add "
            "explicit type casts.",
            position=_find(sql, name),
        )
    if m := re.search(r'Referenced column "([^"]+)" not found', first):
        return SqlError(
            f'column "{m.group(1)}" does not exist', "42703", position=_find(sql, m.group(1))
        )
    if m := re.search(r'Table "?([^" ]+)"? does not have a column named "([^"]+)"', first):
        return SqlError(
            f'column "{m.group(2)}" of relation "{m.group(1)}" does not exist',
            "42703",
            position=_find(sql, m.group(2)),
        )
    if m := re.search(r"Could not convert string '(.*)' to (\w+)", first):
        kind = _INT_NAMES.get(m.group(2).upper(), m.group(2).lower())
        return SqlError(f'invalid input syntax for type {kind}: "{m.group(1)}"', "22P02")
    if m := re.search(r'(date|timestamp|time) field value out of range: "([^"]*)"', first):
        return SqlError(f'date/time field value out of range: "{m.group(2)}"', "22008")
    if "Division by zero" in first:
        return SqlError("division by zero", "22012")
    if "Overflow" in first or "out of range" in first.lower():
        return SqlError("integer out of range", "22003")
    if type(exc).__name__ in ("TransactionException",) or "Conflict" in first:
        return SqlError("could not serialize access due to concurrent update", "40001")
    if type(exc).__name__ == "ParserException":
        m = re.search(r"syntax error at (or near \"[^\"]*\"|end of input)", first)
        if m:
            return SqlError(f"syntax error at {m.group(1)}", "42601")
        return SqlError(first, "42601")
    if type(exc).__name__ == "ConversionException":
        return SqlError(first, "22P02")
    if type(exc).__name__ in ("BinderException", "CatalogException"):
        return SqlError(first, "42000")
    if type(exc).__name__ == "NotImplementedException":
        return SqlError(first, "0A000")
    if exc.__class__.__module__.startswith(("duckdb", "_duckdb")):
        return SqlError(first, "XX000")
    return exc


def _target_table(tree: Any) -> str:
    from sqlglot import exp

    if isinstance(tree, (exp.Insert, exp.Update, exp.Delete)):
        target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        return target.name if isinstance(target, exp.Table) else ""
    return ""


def _key_pairs(text: str) -> list[tuple[str, str]]:
    pairs = []
    for part in re.split(r", (?=[A-Za-z_][A-Za-z0-9_]*: )", text):
        column, _, value = part.partition(": ")
        pairs.append((column, value))
    return pairs


def _foreign_key(db: _Database | None, table: str) -> tuple[list[str], str, list[str]] | None:
    if db is None or not table:
        return None
    try:
        row = db.con.execute(
            "SELECT constraint_column_names, referenced_table, referenced_column_names "
            "FROM duckdb_constraints() WHERE lower(table_name) = lower(?) "
            "AND constraint_type = 'FOREIGN KEY' LIMIT 1",
            [table],
        ).fetchone()
    except Exception:
        return None
    return (list(row[0]), row[1], list(row[2])) if row else None
