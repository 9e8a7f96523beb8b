"""Lab 05 · Big-data ingestion's checks: the Firehose transform, the delivery stream, the report.

Each check is run against the wrong states a learner is likely to build, made with boto3 on the
moto backend, and must name that mistake; against the right state, it passes. The states follow
AWS's documented contracts: the Firehose data-transformation event and status model (every
recordId back once, `result` Ok | Dropped | ProcessingFailed, `data` base64;
https://docs.aws.amazon.com/firehose/latest/dev/data-transformation-status-model.html), the
Firehose S3 prefixes (`!{timestamp:...}` is a Java DateTimeFormatter pattern; an ErrorOutputPrefix
is needed when the Prefix has expressions; https://docs.aws.amazon.com/firehose/latest/dev/s3-prefixes.html),
Firehose invoking the transform with its own role's permissions, and Athena partition pruning
with partition projection.
"""

from __future__ import annotations

import datetime
import json
import random
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import helpers
from helpers.checks import CheckFailed
from helpers.checks import ingestion_pipeline as check
from tests.labs import support

LAB = "05-ingestion-pipeline"
SOLUTION_TRANSFORM = (
    Path(__file__).resolve().parents[2]
    / "labs"
    / LAB
    / "solution"
    / "my-functions"
    / "transform"
    / "app.py"
)
PREFIX = "readings/!{timestamp:yyyy/MM/dd}/"
ERRORS = "errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/"

EXPECTED = {
    "transform": "there is no function",
    "delivery_stream": "there is no delivery stream",
    "report_query": "the query is empty",
}


@pytest.mark.notebook
def test_untouched_student_notebook_fails_every_check(tmp_path: Path) -> None:
    support.assert_student_fails(LAB, tmp_path, EXPECTED)


# ---- the lab's given resources ------------------------------------------------------------------
def _role(lab: helpers.Lab, base: str, service: str, statements: list[dict[str, Any]]) -> str:
    iam = lab.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        ],
    }
    arn = iam.create_role(RoleName=lab.name(base), AssumeRolePolicyDocument=json.dumps(trust))[
        "Role"
    ]["Arn"]
    if statements:
        iam.put_role_policy(
            RoleName=lab.name(base),
            PolicyName="least-privilege",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
        )
    return arn


@pytest.fixture(scope="module")
def lab() -> Iterator[helpers.Lab]:
    """One offline lab with what the notebook's setup cells give: the buckets, the stream, the
    roles (and a Firehose role that may not invoke the transform), the table, the work group."""
    lab = helpers.start("ingestion-lab-checks", backend="moto")
    s3, kinesis = lab.client("s3"), lab.client("kinesis")
    for base in (check.BUCKET, "athena-results"):
        s3.create_bucket(Bucket=lab.name(base))
    stream = lab.name(check.STREAM)
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName=stream)
    stream_arn = f"arn:aws:kinesis:{lab.region}:{lab.account_id}:stream/{stream}"
    bucket = lab.name(check.BUCKET)
    reads_and_writes = [
        {"Effect": "Allow", "Action": "kinesis:*", "Resource": stream_arn},
        {
            "Effect": "Allow",
            "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        },
    ]
    _role(lab, "transform-role", "lambda.amazonaws.com", [])
    _role(
        lab,
        "firehose-role",
        "firehose.amazonaws.com",
        [
            *reads_and_writes,
            {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": _transform_arn(lab)},
        ],
    )
    _role(lab, "no-invoke-role", "firehose.amazonaws.com", reads_and_writes)
    glue = lab.client("glue")
    database = check.database_name(lab)
    glue.create_database(DatabaseInput={"Name": database})
    glue.create_table(DatabaseName=database, TableInput=_table(bucket))
    lab.client("athena").create_work_group(
        Name=lab.name(check.WORKGROUP),
        Configuration={
            "ResultConfiguration": {"OutputLocation": f"s3://{lab.name('athena-results')}/"}
        },
    )
    yield lab
    lab.teardown()


def _table(bucket: str) -> dict[str, Any]:
    """The notebook's Glue table: JSON lines, `dt` projected as yyyy/MM/dd under readings/."""
    return {
        "Name": check.TABLE,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {
            "classification": "json",
            "projection.enabled": "true",
            "projection.dt.type": "date",
            "projection.dt.format": "yyyy/MM/dd",
            "projection.dt.range": "NOW-7DAYS,NOW",
            "projection.dt.interval": "1",
            "projection.dt.interval.unit": "DAYS",
            "storage.location.template": f"s3://{bucket}/readings/${{dt}}/",
        },
        "PartitionKeys": [{"Name": "dt", "Type": "string"}],
        "StorageDescriptor": {
            "Columns": [
                {"Name": "device_id", "Type": "string"},
                {"Name": "site", "Type": "string"},
                {"Name": "ts", "Type": "bigint"},
                {"Name": "temperature", "Type": "double"},
                {"Name": "humidity", "Type": "double"},
            ],
            "Location": f"s3://{bucket}/readings/",
            "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
            "SerdeInfo": {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe"},
        },
    }


def _transform_arn(lab: helpers.Lab) -> str:
    return f"arn:aws:lambda:{lab.region}:{lab.account_id}:function:{lab.name(check.TRANSFORM)}"


def _role_arn(lab: helpers.Lab, base: str = "firehose-role") -> str:
    return f"arn:aws:iam::{lab.account_id}:role/{lab.name(base)}"


def deploy(lab: helpers.Lab, source: str, tmp_path: Path) -> None:
    """Deploy `source` as the lab's transform (app.py), as the notebook's deploy cell does."""
    folder = tmp_path / "transform"
    folder.mkdir(exist_ok=True)
    (folder / "app.py").write_text(textwrap.dedent(source))
    lambda_ = lab.client("lambda")
    name = lab.name(check.TRANSFORM)
    package = lab.package(folder)
    try:
        lambda_.create_function(
            FunctionName=name,
            Runtime=lab.runtime,
            Role=_role_arn(lab, "transform-role"),
            Handler="app.handler",
            Code={"ZipFile": package},
            Timeout=10,
        )
    except lambda_.exceptions.ResourceConflictException:
        lambda_.update_function_code(FunctionName=name, ZipFile=package)
    lambda_.get_waiter("function_updated_v2").wait(FunctionName=name)


def good_transform(lab: helpers.Lab, tmp_path: Path) -> None:
    deploy(lab, SOLUTION_TRANSFORM.read_text(), tmp_path)


def fails(inspect: Any, lab: helpers.Lab, message: str, *args: Any) -> str:
    """Run a check that must fail with `message` in what it says; return what it said."""
    with pytest.raises(CheckFailed) as failed:
        inspect(lab, *args)
    assert message in failed.value.message, failed.value.message
    return failed.value.message


def _clear(lab: helpers.Lab) -> None:
    """Remove the delivery stream and every object: a clean slate for the next test."""
    firehose, s3 = lab.client("firehose"), lab.client("s3")
    try:
        firehose.delete_delivery_stream(DeliveryStreamName=lab.name(check.DELIVERY))
    except firehose.exceptions.ResourceNotFoundException:
        pass
    bucket = lab.name(check.BUCKET)
    for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        s3.delete_object(Bucket=bucket, Key=o["Key"])
    lab.clock.advance(2)  # records put from now on arrive after any earlier ones


@pytest.fixture
def clean(lab: helpers.Lab) -> Iterator[None]:
    _clear(lab)
    yield
    _clear(lab)


# ---- exercise 1 · the transform ------------------------------------------------------------------
def test_transform_missing_function(lab: helpers.Lab) -> None:
    lambda_ = lab.client("lambda")
    try:
        lambda_.delete_function(FunctionName=lab.name(check.TRANSFORM))
    except lambda_.exceptions.ResourceNotFoundException:
        pass
    fails(check.transform, lab, "there is no function")


def test_transform_without_handler(lab: helpers.Lab, tmp_path: Path) -> None:
    deploy(lab, "# TODO: write the handler\n", tmp_path)
    fails(check.transform, lab, "no handler found")


# the reference transform (the solution writes it), then each common mistake as a small change
RIGHT = SOLUTION_TRANSFORM.read_text()
MISTAKES = {
    "result_OK": (
        ('"result": "Ok"', '"result": "OK"'),
        "records are rejected: the transform returns `result: OK`, Firehose expects `Ok`",
    ),
    "no_newline": (('json.dumps(row) + "\\n"', "json.dumps(row)"), "does not end with a newline"),
    "crashes_on_malformed": (
        ("except (ValueError, KeyError, TypeError):", "except ZeroDivisionError:"),
        "the transform raised",
    ),
    "only_ok_records": (
        (
            'return {"records": [transform(record) for record in event["records"]]}',
            'return {"records": [r for r in map(transform, event["records"]) if r["result"] == "Ok"]}',
        ),
        "recordIds are missing from the answer",
    ),
    "data_not_base64": (
        ('"data": base64.b64encode(line.encode()).decode()', '"data": line'),
        "is not base64",
    ),
    "no_range_check": (
        (
            'not (-40 <= row["temperature"] <= 60 and 0 <= row["humidity"] <= 100)',
            "False",
        ),
        "the glitch reading (temperature 85.0 °C, a probe's reset value) came back Ok",
    ),
    "glitch_failed": (
        (
            'return {**answer, "result": "Dropped"}',
            'return {**answer, "result": "ProcessingFailed"}',
        ),
        "it is a well-formed reading with an impossible value: `Dropped`",
    ),
    "malformed_dropped": (
        (
            'return {**answer, "result": "ProcessingFailed"}',
            'return {**answer, "result": "Dropped"}',
        ),
        "is `ProcessingFailed`, so Firehose keeps the original",
    ),
    "duplicated": (
        (
            'return {"records": [transform(record) for record in event["records"]]}',
            'return {"records": [transform(r) for r in event["records"]] + [transform(event["records"][0])]}',
        ),
        "times: return each record once",
    ),
    "drops_a_field": (
        (
            "line = json.dumps(row)",
            'line = json.dumps({k: v for k, v in row.items() if k != "site"})',
        ),
        "has no `site`",
    ),
    "pretty_json": (
        ('json.dumps(row) + "\\n"', 'json.dumps(row, indent=2) + "\\n"'),
        "spans several lines",
    ),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_transform_names_the_mistake(lab: helpers.Lab, tmp_path: Path, mistake: str) -> None:
    (old, new), message = MISTAKES[mistake]
    source = RIGHT
    assert old in source, old
    deploy(lab, source.replace(old, new), tmp_path)
    fails(check.transform, lab, message)


def test_transform_right(lab: helpers.Lab, tmp_path: Path) -> None:
    good_transform(lab, tmp_path)
    said = check.transform(lab)
    assert (
        said == "8 records back once each: 2 Ok (a JSON line each), 3 Dropped, 3 ProcessingFailed"
    )


def test_verdicts_follow_the_stated_rules() -> None:
    def v(**reading: Any) -> str:
        return check.verdict(json.dumps({**check.GOOD, **reading}).encode())

    assert v() == "Ok"
    assert v(temperature=-40.0) == v(temperature=60) == v(humidity=0) == v(humidity=100) == "Ok"
    assert v(temperature=85.0) == v(temperature=-127.0) == v(humidity=100.5) == "Dropped"
    assert v(temperature="21.4C") == v(ts=True) == "ProcessingFailed"
    assert check.verdict(b"[1, 2]") == check.verdict(b'{"device') == "ProcessingFailed"


# ---- exercise 2 · the delivery stream ------------------------------------------------------------
def create_delivery(
    lab: helpers.Lab, *, kind: str = "KinesisStreamAsSource", **changes: Any
) -> None:
    """The notebook's delivery stream, with `changes` to its destination (None removes a key)."""
    destination = {
        "RoleARN": _role_arn(lab),
        "BucketARN": f"arn:aws:s3:::{lab.name(check.BUCKET)}",
        "Prefix": PREFIX,
        "ErrorOutputPrefix": ERRORS,
        "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 60},
        "ProcessingConfiguration": {
            "Enabled": True,
            "Processors": [
                {
                    "Type": "Lambda",
                    "Parameters": [
                        {"ParameterName": "LambdaArn", "ParameterValue": _transform_arn(lab)}
                    ],
                }
            ],
        },
    }
    for key, value in changes.items():
        if value is None:
            destination.pop(key, None)
        else:
            destination[key] = value
    request: dict[str, Any] = {
        "DeliveryStreamName": lab.name(check.DELIVERY),
        "DeliveryStreamType": kind,
        "ExtendedS3DestinationConfiguration": destination,
    }
    if kind == "KinesisStreamAsSource":
        stream = lab.name(check.STREAM)
        request["KinesisStreamSourceConfiguration"] = {
            "KinesisStreamARN": f"arn:aws:kinesis:{lab.region}:{lab.account_id}:stream/{stream}",
            "RoleARN": _role_arn(lab),
        }
    lab.client("firehose").create_delivery_stream(**request)


def readings(seed: int = 5) -> list[bytes]:
    """What the notebook's producer sends: valid readings, glitches, malformed messages."""
    rng = random.Random(seed)
    now = 1_764_590_400_000
    out = []
    for minute in range(12):
        for device, base in (("gh-a-01", 22.0), ("gh-b-02", 19.5), ("cold-01", 3.5)):
            reading = {
                "device_id": device,
                "site": "site",
                "ts": now + minute * 60_000,
                "temperature": round(base + rng.gauss(0, 0.4), 2),
                "humidity": 70.0,
            }
            if minute % 5 == 1:
                reading["temperature"] = 85.0
            elif device == "gh-b-02" and minute % 4 == 2:
                reading["temperature"] = f"{reading['temperature']}C"
            out.append(json.dumps(reading).encode())
    return [*out, b'{"device_id": "gh-b-02", "ts": 17']


def produce(lab: helpers.Lab, records: list[bytes]) -> None:
    lab.client("kinesis").put_records(
        StreamName=lab.name(check.STREAM),
        Records=[{"Data": data, "PartitionKey": str(i % 3)} for i, data in enumerate(records)],
    )


uses_clean = pytest.mark.usefixtures("clean")


@uses_clean
def test_delivery_missing(lab: helpers.Lab) -> None:
    fails(check.delivery_stream, lab, "there is no delivery stream")


@uses_clean
def test_delivery_direct_put(lab: helpers.Lab) -> None:
    create_delivery(lab, kind="DirectPut")
    fails(check.delivery_stream, lab, "so nothing reads the Kinesis stream")


@uses_clean
def test_delivery_without_processor(lab: helpers.Lab) -> None:
    create_delivery(lab, ProcessingConfiguration=None)
    fails(check.delivery_stream, lab, "the delivery stream has no processor")


@uses_clean
def test_delivery_processor_disabled(lab: helpers.Lab) -> None:
    processing = {
        "Enabled": False,
        "Processors": [
            {
                "Type": "Lambda",
                "Parameters": [
                    {"ParameterName": "LambdaArn", "ParameterValue": _transform_arn(lab)}
                ],
            }
        ],
    }
    create_delivery(lab, ProcessingConfiguration=processing)
    fails(check.delivery_stream, lab, "is not Enabled")


@uses_clean
def test_delivery_processor_names_another_function(lab: helpers.Lab) -> None:
    other = f"arn:aws:lambda:{lab.region}:{lab.account_id}:function:{lab.name('report')}"
    processing = {
        "Enabled": True,
        "Processors": [
            {
                "Type": "Lambda",
                "Parameters": [{"ParameterName": "LambdaArn", "ParameterValue": other}],
            }
        ],
    }
    create_delivery(lab, ProcessingConfiguration=processing)
    fails(check.delivery_stream, lab, f"the processor names {other}, not the lab's transform")


@uses_clean
def test_delivery_role_may_not_invoke(lab: helpers.Lab) -> None:
    create_delivery(lab, RoleARN=_role_arn(lab, "no-invoke-role"))
    fails(check.delivery_stream, lab, "Firehose may not invoke the function")


@pytest.mark.parametrize("qualifier", [":$LATEST", ":*"])
@uses_clean
def test_delivery_role_on_the_qualified_function(lab: helpers.Lab, qualifier: str) -> None:
    # AWS-generated Firehose roles allow lambda:InvokeFunction on function:name:$LATEST, which is
    # the function the unqualified LambdaArn runs
    base = "latest-role" if qualifier == ":$LATEST" else "any-version-role"
    iam = lab.client("iam")
    try:
        iam.get_role(RoleName=lab.name(base))
    except iam.exceptions.NoSuchEntityException:
        _role(
            lab,
            base,
            "firehose.amazonaws.com",
            [
                {
                    "Effect": "Allow",
                    "Action": "lambda:InvokeFunction",
                    "Resource": _transform_arn(lab) + qualifier,
                }
            ],
        )
    create_delivery(lab, RoleARN=_role_arn(lab, base))
    # past the role: what fails next is that the producer has not run yet
    said = fails(check.delivery_stream, lab, "the stream has no records since")
    assert "may not invoke" not in said


def test_invoke_permission_matching() -> None:
    fn = "arn:aws:lambda:us-east-1:123456789012:function:lab-transform"

    def allows(resource: str, target: str = fn, action: str = "lambda:InvokeFunction") -> bool:
        statement = {"Effect": "Allow", "Action": action, "Resource": resource}
        return check._allows({"Statement": [statement]}, "lambda:InvokeFunction", target)

    assert allows(fn) and allows(f"{fn}:$LATEST") and allows(f"{fn}:*") and allows(f"{fn}*")
    assert allows(fn, target=f"{fn}:$LATEST") and allows("*", action="lambda:*")
    assert allows(fn, action="Lambda:invokefunction")
    assert not allows(f"{fn}:1") and not allows(f"{fn}:live") and not allows(f"{fn}-other")
    assert not allows(fn, action="lambda:GetFunction")
    assert not allows(f"{fn}:[$]LATEST")  # IAM has no character classes


@pytest.mark.parametrize(
    ("prefix", "message"),
    [
        ("readings/!{timestamp:yyyy/mm/dd}/", "`mm` is minutes"),
        ("readings/!{timestamp:yyyy/MM/dd}", "needs a trailing `/`"),
        ("readings/!{timestamp:yyyy-MM-dd}/", "would land under 'readings/2024-12-30/'"),
        ("data/!{timestamp:yyyy/MM/dd}/", "use Prefix 'readings/!{timestamp:yyyy/MM/dd}/'"),
    ],
)
@uses_clean
def test_delivery_prefix_mistakes(lab: helpers.Lab, prefix: str, message: str) -> None:
    create_delivery(lab, Prefix=prefix)
    fails(check.delivery_stream, lab, message)


@uses_clean
def test_delivery_static_prefix(lab: helpers.Lab) -> None:
    create_delivery(lab, Prefix="readings/", ErrorOutputPrefix=None)
    fails(check.delivery_stream, lab, "has no `!{timestamp:...}` expression")


@pytest.mark.parametrize(
    ("prefix", "message"),
    [
        ("readings/!{timestamp:YYYY/MM/dd}/", "`YYYY` is the week-based year"),
        ("readings/!{timestamp:yyyy/MM/DD}/", "`DD` is the day of the year"),
    ],
)
def test_prefix_patterns_the_emulator_refuses(prefix: str, message: str) -> None:
    # Java's DateTimeFormatter takes these, so Firehose may; the offline emulator refuses them
    # at create_delivery_stream, so the check's reading of them is tested directly
    assert message in check._prefix_mistake(prefix)


def test_prefix_evaluation_matches_firehose_examples() -> None:
    # the Firehose guide's example: !{timestamp:yyyy/MM/dd} for an object of 2024-12-30
    moment = check.SAMPLE_MOMENT
    assert check.evaluate_prefix("a/!{timestamp:yyyy/MM/dd}/", moment) == "a/2024/12/30/"
    assert (
        check.evaluate_prefix("a/!{timestamp:yyyy}/!{timestamp:MM}/!{timestamp:dd}/", moment)
        == "a/2024/12/30/"
    )
    assert check.evaluate_prefix("a/!{timestamp:'year='yyyy}/", moment) == "a/year=2024/"
    assert check.evaluate_prefix("a/", moment) == "a/2024/12/30/10/"  # Firehose's default
    assert check.evaluate_prefix("a/!{timestamp:YYYY}/", moment) == "a/2025/"


@uses_clean
def test_delivery_error_prefix_inside_the_data(lab: helpers.Lab) -> None:
    create_delivery(lab, ErrorOutputPrefix="readings/errors/!{firehose:error-output-type}/")
    fails(check.delivery_stream, lab, "is inside readings/, where the table's data lives")


@uses_clean
def test_delivery_default_buffer_interval(lab: helpers.Lab) -> None:
    create_delivery(lab, BufferingHints={"SizeInMBs": 5, "IntervalInSeconds": 300})
    fails(check.delivery_stream, lab, "the buffer interval is 300 s")


@uses_clean
def test_delivery_before_the_producer(lab: helpers.Lab, tmp_path: Path) -> None:
    good_transform(lab, tmp_path)
    produce(lab, readings())  # before the delivery stream: Firehose starts at LATEST
    lab.clock.advance(2)
    create_delivery(lab)
    fails(
        check.delivery_stream,
        lab,
        "the stream has no records since the delivery stream was created",
    )


@uses_clean
def test_delivery_with_a_lax_transform(lab: helpers.Lab, tmp_path: Path) -> None:
    deploy(
        lab,
        RIGHT.replace(
            'not (-40 <= row["temperature"] <= 60 and 0 <= row["humidity"] <= 100)', "False"
        ),
        tmp_path,
    )
    create_delivery(lab)
    produce(lab, readings())
    fails(check.delivery_stream, lab, "readings the transform should have dropped or failed")


@uses_clean
def test_delivery_with_a_transform_returning_OK(lab: helpers.Lab, tmp_path: Path) -> None:
    deploy(lab, RIGHT.replace('"result": "Ok"', '"result": "OK"'), tmp_path)
    create_delivery(lab)
    produce(lab, readings())
    fails(check.delivery_stream, lab, "record(s) failed with Lambda.ProcessingFailed")


@uses_clean
def test_delivery_right(lab: helpers.Lab, tmp_path: Path) -> None:
    good_transform(lab, tmp_path)
    create_delivery(lab)
    records = readings()
    produce(lab, records)
    said = check.delivery_stream(lab)
    verdicts = [check.verdict(r) for r in records]
    assert said == (
        f"{verdicts.count('Ok')} readings under readings/<yyyy/MM/dd>/ in 1 object(s), "
        f"{verdicts.count('ProcessingFailed')} failed records under errors/, "
        f"{verdicts.count('Dropped')} dropped"
    )
    keys = [
        o["Key"]
        for o in lab.client("s3").list_objects_v2(Bucket=lab.name(check.BUCKET))["Contents"]
    ]
    assert any(k.startswith("errors/processing-failed/") for k in keys), keys


@uses_clean
def test_delivery_with_a_transform_without_newlines(lab: helpers.Lab, tmp_path: Path) -> None:
    deploy(lab, RIGHT.replace('json.dumps(row) + "\\n"', "json.dumps(row)"), tmp_path)
    create_delivery(lab)
    produce(lab, readings())
    fails(check.delivery_stream, lab, "not one JSON object a line: end each Ok record's data")


@uses_clean
def test_delivery_with_a_crashing_transform(lab: helpers.Lab, tmp_path: Path) -> None:
    deploy(lab, "def handler(event, context):\n    raise KeyError('humidity')\n", tmp_path)
    create_delivery(
        lab,
        ProcessingConfiguration={
            "Enabled": True,
            "Processors": [
                {
                    "Type": "Lambda",
                    "Parameters": [
                        {"ParameterName": "LambdaArn", "ParameterValue": _transform_arn(lab)},
                        {"ParameterName": "NumberOfRetries", "ParameterValue": "0"},
                    ],
                }
            ],
        },
    )
    produce(lab, readings())
    fails(check.delivery_stream, lab, "record(s) failed with Lambda.FunctionError")


class _Shard:
    """A Kinesis client whose one shard refuses the first GetRecords (its read limit), then
    answers a page of records and an empty page."""

    def __init__(self) -> None:
        self.calls = 0

    def list_shards(self, **_: Any) -> dict[str, Any]:
        return {"Shards": [{"ShardId": "shardId-000000000000"}]}

    def get_shard_iterator(self, **_: Any) -> dict[str, Any]:
        return {"ShardIterator": "iterator-0"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        from botocore.exceptions import ClientError

        self.calls += 1
        if self.calls == 1:
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "Rate"}},
                "GetRecords",
            )
        if ShardIterator == "iterator-0":
            arrived = datetime.datetime(2025, 12, 1, tzinfo=datetime.timezone.utc)
            return {
                "Records": [{"Data": b"{}", "ApproximateArrivalTimestamp": arrived}],
                "NextShardIterator": "iterator-1",
                "MillisBehindLatest": 0,
            }
        return {"Records": [], "NextShardIterator": "iterator-2", "MillisBehindLatest": 0}


@pytest.mark.parametrize("offline", [False, True])
def test_stream_readings_pace_get_records(monkeypatch: pytest.MonkeyPatch, offline: bool) -> None:
    slept: list[float] = []
    monkeypatch.setattr(check.time, "sleep", slept.append)
    shard = _Shard()

    class Lab:
        def __init__(self) -> None:
            self.offline = offline

        def name(self, base: str) -> str:
            return base

        def client(self, service: str) -> Any:
            return shard

    assert check.stream_readings(Lab()) == [b"{}"]
    assert shard.calls == 3
    # on AWS: a backoff after the refusal, then 0.2 s before each further call (5 a second)
    assert [s for s in slept if s] == ([] if offline else [0.5, check.PAUSE])


# ---- exercise 3 · the report query ---------------------------------------------------------------
@pytest.fixture
def day(lab: helpers.Lab, tmp_path: Path) -> Iterator[str]:
    """A delivered day (the producer's readings through the right transform) and yesterday's
    readings beside it; the day's `dt` value."""
    _clear(lab)
    good_transform(lab, tmp_path)
    create_delivery(lab)
    produce(lab, readings())
    lab.settle()
    objects = check.delivered_objects(lab)
    assert objects
    today = objects[0]["Key"].split("/", 1)[1].rsplit("/", 1)[0]
    rows = [
        json.dumps(
            {"device_id": d, "site": "site", "ts": 1, "temperature": 10.0 + i, "humidity": 50.0}
        )
        + "\n"
        for i in range(6)
        for d in ("gh-a-01", "cold-01")
    ]
    yesterday = (
        datetime.datetime.strptime(today, "%Y/%m/%d") - datetime.timedelta(days=1)
    ).strftime("%Y/%m/%d")  # inside the table's projected range
    lab.client("s3").put_object(
        Bucket=lab.name(check.BUCKET),
        Key=f"readings/{yesterday}/archive.json",
        Body="".join(rows).encode(),
    )
    yield today
    _clear(lab)


REPORT = """
SELECT device_id, count(*) AS readings, round(avg(temperature), 2) AS avg_temperature
FROM readings WHERE {where} GROUP BY device_id ORDER BY device_id {order}
"""


def report(where: str, order: str = "") -> str:
    return REPORT.format(where=where, order=order)


def test_report_right(lab: helpers.Lab, day: str) -> None:
    said = check.report_query(lab, report(f"dt = '{day}'"))
    valid = [r for r in readings() if check.verdict(r) == "Ok"]
    assert (
        said
        == f"3 devices, {len(valid)} readings of the day, and Athena read only the day's partition"
    )


@pytest.mark.parametrize("query", [None, "", "   "])
def test_report_empty(lab: helpers.Lab, day: str, query: Any) -> None:
    fails(check.report_query, lab, "the query is empty", query)


def test_report_refused(lab: helpers.Lab, day: str) -> None:
    fails(
        check.report_query,
        lab,
        "Athena refused the query",
        "SELECT device_id FROM readings GROUP device_id",
    )


def test_report_fails(lab: helpers.Lab, day: str) -> None:
    said = fails(
        check.report_query,
        lab,
        "the query FAILED: COLUMN_NOT_FOUND",
        f"SELECT device_id, count(*) AS readings, avg(temprature) AS avg_temperature FROM readings WHERE dt = '{day}' GROUP BY device_id",
    )
    assert "temprature" in said


def test_report_column_names(lab: helpers.Lab, day: str) -> None:
    fails(
        check.report_query,
        lab,
        "the columns are device_id, _col1, _col2",
        f"SELECT device_id, count(*), avg(temperature) FROM readings WHERE dt = '{day}' GROUP BY device_id ORDER BY device_id",
    )


def test_report_every_day(lab: helpers.Lab, day: str) -> None:
    fails(check.report_query, lab, "counts include every day's readings", report("true"))


def _a_day_later(records: list[bytes]) -> list[bytes]:
    """The same readings, stamped a day later (so they are other readings)."""
    out = []
    for data in records:
        reading = check.reading_of(data)
        if reading is None:
            out.append(data)
            continue
        out.append(json.dumps({**json.loads(data), "ts": reading["ts"] + 86_400_000}).encode())
    return out


@uses_clean
def test_report_over_two_days(lab: helpers.Lab, tmp_path: Path) -> None:
    # a lab that crosses midnight UTC (or is done over two sessions): the producer runs on one
    # day, then on the next; `day` is the later, and only its readings are its report's
    good_transform(lab, tmp_path)
    create_delivery(lab)
    first = readings()
    produce(lab, first)
    lab.settle()
    now = lab.clock.datetime()
    midnight = datetime.datetime.combine(
        now.date() + datetime.timedelta(days=1), datetime.time(), tzinfo=datetime.timezone.utc
    )
    lab.clock.advance((midnight - now).total_seconds() + 300)
    second = _a_day_later(readings(seed=6))
    produce(lab, second)
    lab.settle()
    days = sorted(
        {o["Key"].split("/", 1)[1].rsplit("/", 1)[0] for o in check.delivered_objects(lab)}
    )
    assert len(days) == 2, days
    day = days[-1]
    said = check.report_query(lab, report(f"dt = '{day}'"))
    valid = [r for r in second if check.verdict(r) == "Ok"]
    assert said == (
        f"3 devices, {len(valid)} readings of the day, and Athena read only the day's partition"
    )
    said = fails(check.report_query, lab, "counts include every day's readings", report("true"))
    both = len(valid) + sum(check.verdict(r) == "Ok" for r in first)
    assert f"({both} instead of {len(valid)})" in said, said


def test_report_filtered_on_ts_reads_every_day(lab: helpers.Lab, day: str) -> None:
    fails(check.report_query, lab, "Athena read every day's objects", report("ts > 1000"))


def test_report_includes_dropped(lab: helpers.Lab, day: str) -> None:
    # what a transform without its range check would have delivered: the glitches too
    glitches = [r for r in readings() if check.verdict(r) == "Dropped"]
    lab.client("s3").put_object(
        Bucket=lab.name(check.BUCKET),
        Key=f"readings/{day}/{lab.name(check.DELIVERY)}-1-glitches",
        Body=b"".join(g + b"\n" for g in glitches),
    )
    fails(check.report_query, lab, "counts include dropped readings", report(f"dt = '{day}'"))


def test_report_wrong_average(lab: helpers.Lab, day: str) -> None:
    query = report(f"dt = '{day}'").replace("avg(temperature)", "avg(humidity)")
    fails(check.report_query, lab, "average temperature", query)


def test_report_wrong_count(lab: helpers.Lab, day: str) -> None:
    query = report(f"dt = '{day}' AND temperature > 3.5")
    fails(check.report_query, lab, "readings, the day has", query)


def test_report_order(lab: helpers.Lab, day: str) -> None:
    fails(check.report_query, lab, "ORDER BY device_id", report(f"dt = '{day}'", "DESC"))


def test_report_without_group_by(lab: helpers.Lab, day: str) -> None:
    query = f"SELECT device_id, 1 AS readings, temperature AS avg_temperature FROM readings WHERE dt = '{day}'"
    fails(check.report_query, lab, "one row per device (GROUP BY device_id)", query)
