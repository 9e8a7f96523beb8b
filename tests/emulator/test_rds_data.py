"""Aurora's RDS Data API offline (helpers/emulator/rds_data.py), against the Data API reference
(https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/), the Aurora user guide's
Data API pages (calling, limitations, troubleshooting, Serverless v2 auto-pause) and
PostgreSQL's documented behaviour (error codes, identity columns, type checks).

GIVEN an Aurora PostgreSQL Serverless v2 cluster with the HTTP endpoint enabled, a writer
instance and a Secrets Manager secret with its master credentials, WHEN a learner calls
`rds-data`, THEN the SQL really runs: typed Field results, named parameters, transactions,
batches and AWS's errors.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError

import helpers

MASTER, PASSWORD, DATABASE = "postgres", "lab-password-1", "blog"
V2 = {"MinCapacity": 0.5, "MaxCapacity": 2}


def make_cluster(
    lab: helpers.Lab,
    base: str,
    *,
    instance: bool = True,
    http: bool = True,
    scaling: dict[str, Any] | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    rds = lab.client("rds")
    ident = lab.name(base)
    kwargs.setdefault("MasterUsername", MASTER)
    if not kwargs.get("ManageMasterUserPassword"):
        kwargs.setdefault("MasterUserPassword", PASSWORD)
    cluster = rds.create_db_cluster(
        DBClusterIdentifier=ident,
        Engine="aurora-postgresql",
        EngineVersion="16.4",
        DatabaseName=DATABASE,
        ServerlessV2ScalingConfiguration=scaling or V2,
        EnableHttpEndpoint=http,
        **kwargs,
    )["DBCluster"]
    if instance:
        rds.create_db_instance(
            DBInstanceIdentifier=f"{ident}-1",
            DBInstanceClass="db.serverless",
            Engine="aurora-postgresql",
            DBClusterIdentifier=ident,
        )
    return cluster


def make_secret(lab: helpers.Lab, base: str, value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return lab.client("secretsmanager").create_secret(Name=lab.name(base), SecretString=text)["ARN"]


@pytest.fixture(scope="module")
def rdsdata(lab: helpers.Lab) -> Any:
    return lab.client("rds-data")


@pytest.fixture(scope="module")
def db(lab: helpers.Lab, rdsdata: Any) -> dict[str, str]:
    """The resourceArn, secretArn and database of a ready cluster."""
    cluster = make_cluster(lab, "main")
    secret = make_secret(lab, "main-secret", {"username": MASTER, "password": PASSWORD})
    return {"resourceArn": cluster["DBClusterArn"], "secretArn": secret, "database": DATABASE}


def run(rdsdata: Any, target: dict[str, str], sql: str, **kwargs: Any) -> dict[str, Any]:
    out = rdsdata.execute_statement(**target, sql=sql, **kwargs)
    out.pop("ResponseMetadata", None)
    return out


def error(call: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    return info.value.response


def s(name: str, value: str, hint: str | None = None) -> dict[str, Any]:
    param: dict[str, Any] = {"name": name, "value": {"stringValue": value}}
    if hint:
        param["typeHint"] = hint
    return param


def n(name: str, value: int) -> dict[str, Any]:
    return {"name": name, "value": {"longValue": value}}


# ---- the cluster and its HTTP endpoint ---------------------------------------------------------
def test_create_db_cluster_keeps_enable_http_endpoint_for_serverless_v2(lab, db):
    described = lab.client("rds").describe_db_clusters(
        DBClusterIdentifier=db["resourceArn"].split(":")[-1]
    )["DBClusters"][0]
    assert described["HttpEndpointEnabled"] is True
    assert described["EngineMode"] == "provisioned"


def test_enable_and_disable_http_endpoint(lab, rdsdata):
    cluster = make_cluster(lab, "toggle", http=False)
    secret = make_secret(lab, "toggle-secret", {"username": MASTER, "password": PASSWORD})
    target = {"resourceArn": cluster["DBClusterArn"], "secretArn": secret, "database": DATABASE}
    refused = error(rdsdata.execute_statement, **target, sql="SELECT 1")
    assert refused["Error"]["Code"] == "HttpEndpointNotEnabledException"
    assert refused["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert cluster["DBClusterIdentifier"] in refused["Error"]["Message"]

    rds = lab.client("rds")
    enabled = rds.enable_http_endpoint(ResourceArn=cluster["DBClusterArn"])
    assert enabled["HttpEndpointEnabled"] is True
    assert enabled["ResourceArn"] == cluster["DBClusterArn"]
    assert run(rdsdata, target, "SELECT 1 AS one")["records"] == [[{"longValue": 1}]]

    assert (
        rds.disable_http_endpoint(ResourceArn=cluster["DBClusterArn"])["HttpEndpointEnabled"]
        is False
    )
    again = error(rdsdata.execute_statement, **target, sql="SELECT 1")
    assert again["Error"]["Code"] == "HttpEndpointNotEnabledException"


def test_an_unknown_cluster_arn_is_refused_like_a_disabled_endpoint(lab, rdsdata, db):
    arn = db["resourceArn"].rsplit(":", 1)[0] + ":no-such-cluster"
    refused = error(
        rdsdata.execute_statement, resourceArn=arn, secretArn=db["secretArn"], sql="SELECT 1"
    )
    assert refused["Error"]["Code"] == "HttpEndpointNotEnabledException"


def test_a_cluster_without_a_db_instance_is_database_not_found(lab, rdsdata):
    cluster = make_cluster(lab, "no-writer", instance=False)
    secret = make_secret(lab, "no-writer-secret", {"username": MASTER, "password": PASSWORD})
    refused = error(
        rdsdata.execute_statement,
        resourceArn=cluster["DBClusterArn"],
        secretArn=secret,
        sql="SELECT 1",
    )
    assert refused["Error"]["Code"] == "DatabaseNotFoundException"
    assert refused["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_a_stopped_cluster_is_refused_and_keeps_its_data_when_started(lab, rdsdata):
    cluster = make_cluster(lab, "stopper")
    secret = make_secret(lab, "stopper-secret", {"username": MASTER, "password": PASSWORD})
    target = {"resourceArn": cluster["DBClusterArn"], "secretArn": secret, "database": DATABASE}
    run(rdsdata, target, "CREATE TABLE kept (v int)")
    run(rdsdata, target, "INSERT INTO kept VALUES (7)")
    rds = lab.client("rds")
    rds.stop_db_cluster(DBClusterIdentifier=cluster["DBClusterIdentifier"])
    refused = error(rdsdata.execute_statement, **target, sql="SELECT v FROM kept")
    assert refused["Error"]["Code"] == "InvalidResourceStateException"
    rds.start_db_cluster(DBClusterIdentifier=cluster["DBClusterIdentifier"])
    assert run(rdsdata, target, "SELECT v FROM kept")["records"] == [[{"longValue": 7}]]


def test_deleting_the_cluster_drops_its_data(lab, rdsdata):
    rds = lab.client("rds")
    cluster = make_cluster(lab, "gone")
    secret = make_secret(lab, "gone-secret", {"username": MASTER, "password": PASSWORD})
    target = {"resourceArn": cluster["DBClusterArn"], "secretArn": secret, "database": DATABASE}
    run(rdsdata, target, "CREATE TABLE t (v int)")
    ident = cluster["DBClusterIdentifier"]
    rds.delete_db_instance(DBInstanceIdentifier=f"{ident}-1")
    rds.delete_db_cluster(DBClusterIdentifier=ident, SkipFinalSnapshot=True)
    # moto names the automated snapshot of a new cluster by the minute: make room for the next
    for snap in rds.describe_db_cluster_snapshots(DBClusterIdentifier=ident)["DBClusterSnapshots"]:
        rds.delete_db_cluster_snapshot(
            DBClusterSnapshotIdentifier=snap["DBClusterSnapshotIdentifier"]
        )

    again = make_cluster(lab, "gone")  # same identifier, same ARN: a new, empty database
    assert again["DBClusterArn"] == cluster["DBClusterArn"]
    missing = error(rdsdata.execute_statement, **target, sql="SELECT * FROM t")
    assert missing["Error"]["Code"] == "DatabaseErrorException"
    assert 'relation "t" does not exist' in missing["Error"]["Message"]


def test_serverless_v2_auto_pause_answers_database_resuming(lab, rdsdata):
    cluster = make_cluster(
        lab, "pausing", scaling={"MinCapacity": 0, "MaxCapacity": 2, "SecondsUntilAutoPause": 300}
    )
    secret = make_secret(lab, "pausing-secret", {"username": MASTER, "password": PASSWORD})
    target = {"resourceArn": cluster["DBClusterArn"], "secretArn": secret, "database": DATABASE}
    assert run(rdsdata, target, "SELECT 1")["records"] == [[{"longValue": 1}]]
    lab.clock.advance(200)
    assert run(rdsdata, target, "SELECT 2")["records"] == [[{"longValue": 2}]]  # still awake
    lab.clock.advance(301)
    paused = error(rdsdata.execute_statement, **target, sql="SELECT 1")
    assert paused["Error"]["Code"] == "DatabaseResumingException"
    assert paused["ResponseMetadata"]["HTTPStatusCode"] == 400
    lab.clock.advance(5)
    assert (
        error(rdsdata.execute_statement, **target, sql="SELECT 1")["Error"]["Code"]
        == "DatabaseResumingException"
    )
    lab.clock.advance(15)
    assert run(rdsdata, target, "SELECT 3")["records"] == [[{"longValue": 3}]]


def test_a_cluster_with_a_minimum_capacity_does_not_pause(lab, rdsdata, db):
    run(rdsdata, db, "SELECT 1")
    lab.clock.advance(3600)
    assert run(rdsdata, db, "SELECT 1")["records"] == [[{"longValue": 1}]]


# ---- the secret ------------------------------------------------------------------------------
def test_a_missing_secret_is_a_secrets_error(lab, rdsdata, db):
    arn = db["secretArn"].rsplit(":", 1)[0] + ":no-such-secret-AbCdEf"
    refused = error(rdsdata.execute_statement, **{**db, "secretArn": arn}, sql="SELECT 1")
    assert refused["Error"]["Code"] == "SecretsErrorException"


def test_a_secret_without_username_and_password_is_invalid(lab, rdsdata, db):
    for value in ("not json", {"user": MASTER, "pass": PASSWORD}):
        secret = make_secret(lab, f"bad-{len(str(value))}", value)
        refused = error(rdsdata.execute_statement, **{**db, "secretArn": secret}, sql="SELECT 1")
        assert refused["Error"]["Code"] == "InvalidSecretException"


def test_credentials_are_checked_against_the_master_user(lab, rdsdata, db):
    wrong = make_secret(lab, "wrong-password", {"username": MASTER, "password": "nope-nope"})
    refused = error(rdsdata.execute_statement, **{**db, "secretArn": wrong}, sql="SELECT 1")
    assert refused["Error"]["Code"] == "DatabaseErrorException"
    assert 'password authentication failed for user "postgres"' in refused["Error"]["Message"]
    assert "28P01" in refused["Error"]["Message"]


def test_the_clusters_managed_master_secret_logs_in(lab, rdsdata):
    cluster = make_cluster(lab, "managed", ManageMasterUserPassword=True)
    target = {
        "resourceArn": cluster["DBClusterArn"],
        "secretArn": cluster["MasterUserSecret"]["SecretArn"],
        "database": DATABASE,
    }
    assert run(rdsdata, target, "SELECT 42 AS answer")["records"] == [[{"longValue": 42}]]


def test_a_deleted_secret_is_a_secrets_error(lab, rdsdata, db):
    secret = make_secret(lab, "deleted", {"username": MASTER, "password": PASSWORD})
    lab.client("secretsmanager").delete_secret(SecretId=secret, RecoveryWindowInDays=7)
    refused = error(rdsdata.execute_statement, **{**db, "secretArn": secret}, sql="SELECT 1")
    assert refused["Error"]["Code"] == "SecretsErrorException"


# ---- databases -------------------------------------------------------------------------------
def test_each_database_is_separate_and_unknown_ones_are_refused(lab, rdsdata, db):
    run(rdsdata, db, "CREATE TABLE only_in_blog (v int)")
    postgres = {**db, "database": "postgres"}
    missing = error(rdsdata.execute_statement, **postgres, sql="SELECT * FROM only_in_blog")
    assert "does not exist" in missing["Error"]["Message"]
    unknown = error(rdsdata.execute_statement, **{**db, "database": "nope"}, sql="SELECT 1")
    assert unknown["Error"]["Code"] == "DatabaseErrorException"
    assert 'database "nope" does not exist' in unknown["Error"]["Message"]
    assert "3D000" in unknown["Error"]["Message"]


def test_without_database_postgresql_connects_to_the_users_database(lab, rdsdata, db):
    bare = {"resourceArn": db["resourceArn"], "secretArn": db["secretArn"]}
    run(rdsdata, bare, "CREATE TABLE in_postgres (v int)")
    run(rdsdata, {**db, "database": "postgres"}, "SELECT * FROM in_postgres")


def test_create_database_then_use_it(lab, rdsdata, db):
    run(rdsdata, db, "CREATE DATABASE reports")
    reports = {**db, "database": "reports"}
    run(rdsdata, reports, "CREATE TABLE r (v int)")
    assert run(rdsdata, reports, "SELECT count(*) FROM r")["records"] == [[{"longValue": 0}]]
    dup = error(rdsdata.execute_statement, **db, sql="CREATE DATABASE reports")
    assert "42P04" in dup["Error"]["Message"]
    run(rdsdata, db, "DROP DATABASE reports")
    gone = error(rdsdata.execute_statement, **reports, sql="SELECT 1")
    assert 'database "reports" does not exist' in gone["Error"]["Message"]


# ---- statements and results ------------------------------------------------------------------
def test_select_answers_field_unions_by_postgresql_type(rdsdata, db):
    out = run(
        rdsdata,
        db,
        "SELECT 1 AS i, 9000000000::bigint AS big, 1.5::float8 AS f, true AS b, 'x' AS t, "
        "NULL AS nothing, 12.50::numeric(5,2) AS price, DATE '2024-01-02' AS d, "
        "TIMESTAMP '2024-01-02 03:04:05.678' AS ts, TIMESTAMP '2024-01-02 03:04:05' AS whole, "
        "TIME '10:11:12' AS tm, '\\x0102'::bytea AS raw, ARRAY[1, 2] AS ints, "
        "ARRAY['a', 'b'] AS words",
    )
    assert out["numberOfRecordsUpdated"] == 0
    assert out["records"] == [
        [
            {"longValue": 1},
            {"longValue": 9000000000},
            {"doubleValue": 1.5},
            {"booleanValue": True},
            {"stringValue": "x"},
            {"isNull": True},
            {"stringValue": "12.50"},
            {"stringValue": "2024-01-02"},
            {"stringValue": "2024-01-02 03:04:05.678"},
            {"stringValue": "2024-01-02 03:04:05"},
            {"stringValue": "10:11:12"},
            {"blobValue": b"\x01\x02"},
            {"arrayValue": {"longValues": [1, 2]}},
            {"arrayValue": {"stringValues": ["a", "b"]}},
        ]
    ]


def test_serial_insert_returning_and_rows_updated(rdsdata, db):
    run(rdsdata, db, "CREATE TABLE posts (id SERIAL PRIMARY KEY, title TEXT NOT NULL)")
    first = run(rdsdata, db, "INSERT INTO posts (title) VALUES ('a'), ('b')")
    assert first["numberOfRecordsUpdated"] == 2
    assert first["generatedFields"] == []  # "not supported by Aurora PostgreSQL"
    returned = run(rdsdata, db, "INSERT INTO posts (title) VALUES ('c') RETURNING id, title")
    assert returned["records"] == [[{"longValue": 3}, {"stringValue": "c"}]]
    assert (
        run(rdsdata, db, "UPDATE posts SET title = 'z' WHERE id <= 2")["numberOfRecordsUpdated"]
        == 2
    )
    assert run(rdsdata, db, "DELETE FROM posts WHERE id = 1")["numberOfRecordsUpdated"] == 1
    assert run(rdsdata, db, "SELECT id FROM posts ORDER BY id")["records"] == [
        [{"longValue": 2}],
        [{"longValue": 3}],
    ]


def test_identity_columns_number_rows_and_always_refuses_explicit_values(rdsdata, db):
    run(
        rdsdata,
        db,
        "CREATE TABLE tickets (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, what TEXT)",
    )
    assert run(rdsdata, db, "INSERT INTO tickets (what) VALUES ('x') RETURNING id")["records"] == [
        [{"longValue": 1}]
    ]
    refused = error(
        rdsdata.execute_statement, **db, sql="INSERT INTO tickets (id, what) VALUES (5, 'y')"
    )
    assert "428C9" in refused["Error"]["Message"]
    assert 'cannot insert a non-DEFAULT value into column "id"' in refused["Error"]["Message"]


def test_on_conflict_do_nothing_and_do_update(rdsdata, db):
    run(rdsdata, db, "CREATE TABLE counters (name TEXT PRIMARY KEY, hits INT NOT NULL)")
    run(rdsdata, db, "INSERT INTO counters VALUES ('home', 1)")
    nothing = run(rdsdata, db, "INSERT INTO counters VALUES ('home', 5) ON CONFLICT DO NOTHING")
    assert nothing["numberOfRecordsUpdated"] == 0
    upsert = run(
        rdsdata,
        db,
        "INSERT INTO counters VALUES ('home', 1) ON CONFLICT (name) "
        "DO UPDATE SET hits = counters.hits + EXCLUDED.hits RETURNING hits",
    )
    assert upsert["records"] == [[{"longValue": 2}]]


def test_named_parameters_of_every_kind_and_type_hints(rdsdata, db):
    run(
        rdsdata,
        db,
        "CREATE TABLE typed (id BIGINT, name TEXT, score FLOAT8, ok BOOLEAN, raw BYTEA, "
        "born DATE, at TIME, seen TIMESTAMP, price NUMERIC(8,2), ref UUID, doc JSONB, gone TEXT)",
    )
    ref = "6f1c0c52-3c55-4a39-9d2f-7b8f0f3a1e11"
    params = [
        n("id", 7),
        s("name", "Ann"),
        {"name": "score", "value": {"doubleValue": 2.5}},
        {"name": "ok", "value": {"booleanValue": True}},
        {"name": "raw", "value": {"blobValue": b"\x00\xff"}},
        s("born", "2000-02-29", "DATE"),
        s("at", "08:30:00", "TIME"),
        s("seen", "2024-05-01 12:00:00.250", "TIMESTAMP"),
        s("price", "19.99", "DECIMAL"),
        s("ref", ref, "UUID"),
        s("doc", '{"a": 1}', "JSON"),
        {"name": "gone", "value": {"isNull": True}},
    ]
    names = ", ".join(f":{p['name']}" for p in params)
    run(rdsdata, db, f"INSERT INTO typed VALUES ({names})", parameters=params)
    row = run(rdsdata, db, "SELECT * FROM typed")["records"][0]
    assert row[:9] == [
        {"longValue": 7},
        {"stringValue": "Ann"},
        {"doubleValue": 2.5},
        {"booleanValue": True},
        {"blobValue": b"\x00\xff"},
        {"stringValue": "2000-02-29"},
        {"stringValue": "08:30:00"},
        {"stringValue": "2024-05-01 12:00:00.250"},
        {"stringValue": "19.99"},
    ]
    assert row[9] == {"stringValue": ref}
    assert json.loads(row[10]["stringValue"]) == {"a": 1}
    assert row[11] == {"isNull": True}


def test_a_string_without_type_hint_is_character_varying(rdsdata, db):
    run(rdsdata, db, "CREATE TABLE events (id UUID PRIMARY KEY, day DATE)")
    ref = "0b4b8f6e-8f1e-4c63-9a71-3f1d7d2a5c10"
    assign = error(
        rdsdata.execute_statement,
        **db,
        sql="INSERT INTO events VALUES (:id, :day)",
        parameters=[s("id", ref, "UUID"), s("day", "2024-01-01")],
    )
    message = assign["Error"]["Message"]
    assert 'column "day" is of type date but expression is of type character varying' in message
    assert "42804" in message
    compare = error(
        rdsdata.execute_statement,
        **db,
        sql="SELECT * FROM events WHERE id = :id",
        parameters=[s("id", ref)],
    )
    assert "operator does not exist: uuid = character varying" in compare["Error"]["Message"]
    run(
        rdsdata,
        db,
        "INSERT INTO events VALUES (:id, :day)",
        parameters=[s("id", ref, "UUID"), s("day", "2024-01-01", "DATE")],
    )
    found = run(
        rdsdata, db, "SELECT day FROM events WHERE id = :id", parameters=[s("id", ref, "UUID")]
    )
    assert found["records"] == [[{"stringValue": "2024-01-01"}]]


def test_a_type_hint_value_in_the_wrong_format_is_a_bad_request(rdsdata, db):
    refused = error(
        rdsdata.execute_statement, **db, sql="SELECT :d", parameters=[s("d", "01/02/2024", "DATE")]
    )
    assert refused["Error"]["Code"] == "BadRequestException"


def test_colons_in_strings_comments_and_casts_are_not_parameters(rdsdata, db):
    out = run(
        rdsdata,
        db,
        "SELECT ':x' AS quoted, '5'::int AS cast, :x AS param -- and :x here\n",
        parameters=[n("x", 3)],
    )
    assert out["records"] == [[{"stringValue": ":x"}, {"longValue": 5}, {"longValue": 3}]]


def test_a_placeholder_without_a_parameter_is_an_error(rdsdata, db):
    refused = error(rdsdata.execute_statement, **db, sql="SELECT :missing")
    assert refused["Error"]["Code"] == "DatabaseErrorException"
    assert "No value specified for parameter 1" in refused["Error"]["Message"]


def test_array_parameters_are_not_supported(rdsdata, db):
    refused = error(
        rdsdata.execute_statement,
        **db,
        sql="SELECT :a",
        parameters=[{"name": "a", "value": {"arrayValue": {"longValues": [1]}}}],
    )
    assert refused["Error"]["Code"] == "BadRequestException"


def test_include_result_metadata_describes_columns_as_pgjdbc(rdsdata, db):
    run(
        rdsdata,
        db,
        "CREATE TABLE people (id SERIAL PRIMARY KEY, email VARCHAR(80) NOT NULL, "
        "joined TIMESTAMPTZ, balance NUMERIC(10,2))",
    )
    out = run(
        rdsdata,
        db,
        "SELECT id, email, joined, balance, count(*) OVER () FROM people",
        includeResultMetadata=True,
    )
    meta = {m["name"]: m for m in out["columnMetadata"]}
    assert list(meta) == ["id", "email", "joined", "balance", "count"]
    assert meta["id"]["typeName"] == "serial" and meta["id"]["type"] == 4  # Types.INTEGER
    assert meta["id"]["isAutoIncrement"] is True and meta["id"]["nullable"] == 0
    assert meta["id"]["tableName"] == "people" and meta["id"]["isSigned"] is True
    assert meta["email"]["typeName"] == "varchar" and meta["email"]["type"] == 12
    assert meta["email"]["precision"] == 80 and meta["email"]["nullable"] == 0
    assert meta["joined"]["typeName"] == "timestamptz" and meta["joined"]["type"] == 93
    assert meta["joined"]["nullable"] == 1
    assert meta["balance"]["typeName"] == "numeric" and meta["balance"]["type"] == 2
    assert (meta["balance"]["precision"], meta["balance"]["scale"]) == (10, 2)
    assert meta["count"]["typeName"] == "int8" and meta["count"]["type"] == -5  # Types.BIGINT
    assert all(m["label"] == m["name"] for m in out["columnMetadata"])


def test_format_records_as_json(rdsdata, db):
    out = run(
        rdsdata,
        db,
        "SELECT 1 AS id, 'Ann' AS name, NULL AS note, true AS ok, 2.50::numeric(4,2) AS price",
        formatRecordsAs="JSON",
    )
    assert "records" not in out
    assert json.loads(out["formattedRecords"]) == [
        {"id": 1, "name": "Ann", "note": None, "ok": True, "price": "2.50"}
    ]


def test_postgresql_column_names_for_unnamed_expressions(rdsdata, db):
    out = run(
        rdsdata,
        db,
        "SELECT count(*), 1 + 1, now() AS \"When\", 'a'::text FROM (VALUES (1)) AS v(x)",
        formatRecordsAs="JSON",
    )
    assert list(json.loads(out["formattedRecords"])[0]) == ["count", "?column?", "When", "text"]


def test_result_set_options(rdsdata, db):
    out = run(
        rdsdata,
        db,
        "SELECT 5::bigint, 2.00::numeric(4,2), 2.25::numeric(4,2), 7::numeric(4,0)",
        resultSetOptions={"decimalReturnType": "DOUBLE_OR_LONG", "longReturnType": "STRING"},
    )
    assert out["records"] == [
        [{"stringValue": "5"}, {"doubleValue": 2.0}, {"doubleValue": 2.25}, {"longValue": 7}]
    ]


def test_now_reads_the_lab_clock(lab, rdsdata, db):
    def db_now() -> float:
        text = run(rdsdata, db, "SELECT now()")["records"][0][0]["stringValue"]
        from datetime import datetime, timezone

        return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()

    assert abs(db_now() - lab.clock.now()) < 5
    lab.clock.advance(86400)
    assert abs(db_now() - lab.clock.now()) < 5


def test_the_response_size_limit_is_1_mib(rdsdata, db):
    small = run(rdsdata, db, "SELECT repeat('x', 1000)")
    assert len(small["records"][0][0]["stringValue"]) == 1000
    refused = error(rdsdata.execute_statement, **db, sql="SELECT repeat('x', 1100000)")
    assert refused["Error"]["Code"] == "UnsupportedResultException"
    assert "response size limit" in refused["Error"]["Message"]


# ---- errors ----------------------------------------------------------------------------------
def test_sql_errors_carry_postgresqls_message_and_sqlstate(rdsdata, db):
    run(rdsdata, db, "CREATE TABLE accounts (id INT PRIMARY KEY, email TEXT UNIQUE NOT NULL)")
    run(rdsdata, db, "INSERT INTO accounts VALUES (1, 'a@example.com')")
    cases = {
        "SELEC 1": ('syntax error at or near "SELEC"', "42601"),
        "SELECT * FROM no_such_table": ('relation "no_such_table" does not exist', "42P01"),
        "SELECT nope FROM accounts": ('column "nope" does not exist', "42703"),
        "INSERT INTO accounts VALUES (1, 'b@example.com')": (
            'duplicate key value violates unique constraint "accounts_pkey"',
            "23505",
        ),
        "INSERT INTO accounts VALUES (2, 'a@example.com')": (
            'duplicate key value violates unique constraint "accounts_email_key"',
            "23505",
        ),
        "INSERT INTO accounts (id) VALUES (3)": (
            'null value in column "email" of relation "accounts" violates not-null constraint',
            "23502",
        ),
        "SELECT 'abc'::int": ('invalid input syntax for type integer: "abc"', "22P02"),
        "SELECT 1 / 0": ("division by zero", "22012"),
    }
    for sql, (text, state) in cases.items():
        refused = error(rdsdata.execute_statement, **db, sql=sql)
        assert refused["Error"]["Code"] == "DatabaseErrorException", sql
        assert refused["ResponseMetadata"]["HTTPStatusCode"] == 400
        message = refused["Error"]["Message"]
        assert message.startswith(f"ERROR: {text}"), (sql, message)
        assert message.endswith(f"SQLState: {state}"), (sql, message)
    detail = error(rdsdata.execute_statement, **db, sql="INSERT INTO accounts VALUES (1, 'c')")
    assert "Detail: Key (id)=(1) already exists." in detail["Error"]["Message"]


def test_several_statements_in_one_call_are_refused(rdsdata, db):
    refused = error(rdsdata.execute_statement, **db, sql="SELECT 1; SELECT 2")
    assert refused["Error"]["Message"] == "Multistatements aren't supported."
    assert run(rdsdata, db, "SELECT 1;")["records"] == [[{"longValue": 1}]]  # trailing ; is fine


# ---- transactions ----------------------------------------------------------------------------
def tx_args(db: dict[str, str]) -> dict[str, str]:
    return {"resourceArn": db["resourceArn"], "secretArn": db["secretArn"]}


@pytest.mark.backends("moto", "moto-server")
def test_a_transaction_is_invisible_until_committed(lab, rdsdata, db):
    run(rdsdata, db, "CREATE TABLE IF NOT EXISTS ledger (v INT)")
    run(rdsdata, db, "DELETE FROM ledger")
    tx = rdsdata.begin_transaction(**db)["transactionId"]
    assert 0 < len(tx) <= 192
    run(rdsdata, db, "INSERT INTO ledger VALUES (1)", transactionId=tx)
    inside = run(rdsdata, db, "SELECT count(*) FROM ledger", transactionId=tx)
    assert inside["records"] == [[{"longValue": 1}]]
    assert run(rdsdata, db, "SELECT count(*) FROM ledger")["records"] == [[{"longValue": 0}]]
    done = rdsdata.commit_transaction(**tx_args(db), transactionId=tx)
    assert done["transactionStatus"] == "Transaction Committed"
    assert run(rdsdata, db, "SELECT count(*) FROM ledger")["records"] == [[{"longValue": 1}]]
    ended = error(rdsdata.execute_statement, **db, sql="SELECT 1", transactionId=tx)
    assert ended["Error"]["Code"] == "TransactionNotFoundException"
    assert ended["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_rollback_discards_the_transactions_writes(rdsdata, db):
    run(rdsdata, db, "CREATE TABLE undo (v INT)")
    tx = rdsdata.begin_transaction(**db)["transactionId"]
    run(rdsdata, db, "INSERT INTO undo VALUES (1)", transactionId=tx)
    done = rdsdata.rollback_transaction(**tx_args(db), transactionId=tx)
    assert done["transactionStatus"] == "Rollback Complete"
    assert run(rdsdata, db, "SELECT count(*) FROM undo")["records"] == [[{"longValue": 0}]]


def test_an_unknown_transaction_id_is_not_found(rdsdata, db):
    for call in (rdsdata.commit_transaction, rdsdata.rollback_transaction):
        refused = error(call, **tx_args(db), transactionId="AQC-no-such-transaction")
        assert refused["Error"]["Code"] == "TransactionNotFoundException"
        assert "AQC-no-such-transaction" in refused["Error"]["Message"]


def test_an_error_aborts_the_transaction(rdsdata, db):
    run(rdsdata, db, "CREATE TABLE aborted (v INT PRIMARY KEY)")
    tx = rdsdata.begin_transaction(**db)["transactionId"]
    run(rdsdata, db, "INSERT INTO aborted VALUES (1)", transactionId=tx)
    failed = error(
        rdsdata.execute_statement, **db, sql="INSERT INTO aborted VALUES (1)", transactionId=tx
    )
    assert failed["Error"]["Code"] == "DatabaseErrorException"
    after = error(rdsdata.commit_transaction, **tx_args(db), transactionId=tx)
    assert after["Error"]["Code"] == "TransactionNotFoundException"
    assert "aborted" in after["Error"]["Message"]
    assert run(rdsdata, db, "SELECT count(*) FROM aborted")["records"] == [[{"longValue": 0}]]


def test_a_transaction_idle_for_three_minutes_is_rolled_back(lab, rdsdata, db):
    run(rdsdata, db, "CREATE TABLE idle (v INT)")
    tx = rdsdata.begin_transaction(**db)["transactionId"]
    run(rdsdata, db, "INSERT INTO idle VALUES (1)", transactionId=tx)
    lab.clock.advance(170)
    run(rdsdata, db, "INSERT INTO idle VALUES (2)", transactionId=tx)  # still alive: resets
    lab.clock.advance(181)
    expired = error(rdsdata.commit_transaction, **tx_args(db), transactionId=tx)
    assert expired["Error"]["Code"] == "TransactionNotFoundException"
    assert run(rdsdata, db, "SELECT count(*) FROM idle")["records"] == [[{"longValue": 0}]]


def test_now_inside_a_transaction_is_its_start(lab, rdsdata, db):
    tx = rdsdata.begin_transaction(**db)["transactionId"]
    first = run(rdsdata, db, "SELECT now()", transactionId=tx)["records"]
    lab.clock.advance(60)
    assert run(rdsdata, db, "SELECT now()", transactionId=tx)["records"] == first
    rdsdata.rollback_transaction(**tx_args(db), transactionId=tx)


def test_create_database_cannot_run_inside_a_transaction(rdsdata, db):
    tx = rdsdata.begin_transaction(**db)["transactionId"]
    refused = error(rdsdata.execute_statement, **db, sql="CREATE DATABASE inside", transactionId=tx)
    assert "25001" in refused["Error"]["Message"]


# ---- batches ---------------------------------------------------------------------------------
@pytest.mark.backends("moto", "moto-server")
def test_batch_execute_runs_once_per_parameter_set(lab, rdsdata, db):
    run(rdsdata, db, "CREATE TABLE IF NOT EXISTS tags (id INT PRIMARY KEY, label TEXT)")
    run(rdsdata, db, "DELETE FROM tags")
    out = rdsdata.batch_execute_statement(
        **db,
        sql="INSERT INTO tags VALUES (:id, :label)",
        parameterSets=[[n("id", i), s("label", f"t{i}")] for i in range(1, 4)],
    )
    assert out["updateResults"] == [{"generatedFields": []}] * 3
    rows = run(rdsdata, db, "SELECT label FROM tags ORDER BY id")["records"]
    assert rows == [[{"stringValue": "t1"}], [{"stringValue": "t2"}], [{"stringValue": "t3"}]]


def test_a_failing_batch_changes_nothing(rdsdata, db):
    run(rdsdata, db, "CREATE TABLE batch_all (id INT PRIMARY KEY)")
    refused = error(
        rdsdata.batch_execute_statement,
        **db,
        sql="INSERT INTO batch_all VALUES (:id)",
        parameterSets=[[n("id", 1)], [n("id", 2)], [n("id", 1)]],
    )
    assert refused["Error"]["Code"] == "DatabaseErrorException"
    assert run(rdsdata, db, "SELECT count(*) FROM batch_all")["records"] == [[{"longValue": 0}]]


def test_a_batch_inside_a_transaction(rdsdata, db):
    run(rdsdata, db, "CREATE TABLE batch_tx (id INT)")
    tx = rdsdata.begin_transaction(**db)["transactionId"]
    rdsdata.batch_execute_statement(
        **db,
        sql="INSERT INTO batch_tx VALUES (:id)",
        parameterSets=[[n("id", 1)], [n("id", 2)]],
        transactionId=tx,
    )
    assert run(rdsdata, db, "SELECT count(*) FROM batch_tx")["records"] == [[{"longValue": 0}]]
    rdsdata.commit_transaction(**tx_args(db), transactionId=tx)
    assert run(rdsdata, db, "SELECT count(*) FROM batch_tx")["records"] == [[{"longValue": 2}]]


def test_unconstrained_numeric_keeps_its_digits(rdsdata, db):
    run(rdsdata, db, "CREATE TABLE amounts (v NUMERIC)")
    run(
        rdsdata,
        db,
        "INSERT INTO amounts VALUES (:v)",
        parameters=[s("v", "1234.5678", "DECIMAL")],
    )
    value = run(rdsdata, db, "SELECT v FROM amounts")["records"][0][0]["stringValue"]
    assert Decimal(value) == Decimal("1234.5678") and value == "1234.5678"


def test_an_aurora_mysql_cluster_is_refused_offline_saying_why(lab):
    """Aurora MySQL's Data API is not emulated: a 400 that names what to use instead."""
    rds = lab.client("rds")
    name = lab.name("mysql")
    arn = rds.create_db_cluster(
        DBClusterIdentifier=name,
        Engine="aurora-mysql",
        MasterUsername="admin",
        MasterUserPassword="not-a-secret-1",
        EnableHttpEndpoint=True,
        ServerlessV2ScalingConfiguration={"MinCapacity": 0.5, "MaxCapacity": 1},
    )["DBCluster"]["DBClusterArn"]
    secret = lab.client("secretsmanager").create_secret(
        Name=lab.name("mysql-secret"),
        SecretString='{"username": "admin", "password": "not-a-secret-1"}',
    )["ARN"]
    with pytest.raises(ClientError) as exc:
        lab.client("rds-data").execute_statement(resourceArn=arn, secretArn=secret, sql="SELECT 1")
    assert exc.value.response["Error"]["Code"] == "BadRequestException"
    assert "not emulated offline" in exc.value.response["Error"]["Message"]
