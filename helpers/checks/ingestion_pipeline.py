"""Checks of lab 05 · Big-data ingestion: the Firehose transform, the delivery stream that calls
it, and the Athena report over what it delivered.

Every check reads the lab's resources by their lab names with boto3, as a learner could on a
real account. What the data should be is computed here, from what the producer put on the
Kinesis stream and from the rules the exercise states, never from the learner's code:

- a record that is not a JSON object, lacks one of `device_id, site, ts, temperature, humidity`,
  or sends `ts`, `temperature` or `humidity` as anything but a JSON number is malformed:
  `ProcessingFailed`, so Firehose keeps the original under the error output prefix;
- a well-formed reading with a temperature outside -40…60 °C (a DS18B20 probe reads 85.0 after a
  reset and -127.0 when its wire is loose) or a humidity outside 0…100 % is `Dropped`;
- every other reading is `Ok`, stored as one JSON object and a newline.

The Firehose contract is AWS's data-transformation status model:
https://docs.aws.amazon.com/firehose/latest/dev/data-transformation-status-model.html
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import time
from collections import Counter
from datetime import datetime, timezone
from typing import Any

from botocore.exceptions import ClientError

from . import Mistake, check, expect
from .policies import grants, role_documents, statements

LAB = "05-ingestion-pipeline"
# the lab names of the notebook's resources (lab.name(...))
TRANSFORM = "transform"
STREAM = "telemetry"
DELIVERY = "readings"
BUCKET = "data"
DATABASE = "telemetry"  # lab.name("telemetry") with _ for -: Athena's names
TABLE = "readings"
WORKGROUP = "reports"
PREFIX = "readings/!{timestamp:yyyy/MM/dd}/"
DATA = "readings/"
FIELDS = ("device_id", "site", "ts", "temperature", "humidity")
NUMBERS = ("ts", "temperature", "humidity")
RANGES = {"temperature": (-40.0, 60.0), "humidity": (0.0, 100.0)}
RESULTS = ("Ok", "Dropped", "ProcessingFailed")
REPORT_COLUMNS = ("device_id", "readings", "avg_temperature")
# Athena's terminal states
DONE = ("SUCCEEDED", "FAILED", "CANCELLED")


def database_name(lab: Any) -> str:
    return lab.name(DATABASE).replace("-", "_")


# ---- the rules, read independently of the learner's code ---------------------------------------
def reading_of(data: bytes) -> dict[str, Any] | None:
    """The reading a record carries, or None when it is malformed."""
    try:
        reading = json.loads(data)
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(reading, dict) or any(name not in reading for name in FIELDS):
        return None
    for name in NUMBERS:
        value = reading[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
    return reading


def verdict(data: bytes) -> str:
    """Ok, Dropped or ProcessingFailed: what the transform must answer for this record."""
    reading = reading_of(data)
    if reading is None:
        return "ProcessingFailed"
    if any(not low <= reading[name] <= high for name, (low, high) in RANGES.items()):
        return "Dropped"
    return "Ok"


# ---- exercise 1 · the transform ----------------------------------------------------------------
def _b64(payload: Any) -> str:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return base64.b64encode(raw).decode()


SAMPLE_TS = 1_764_590_400_000  # 2025-12-01 12:00:00 UTC
GOOD = {
    "device_id": "gh-a-01",
    "site": "greenhouse-a",
    "ts": SAMPLE_TS,
    "temperature": 21.5,
    "humidity": 64.0,
}
# (what the record is, its payload): the probes the transform must sort, in a batch as Firehose
# sends it
PROBES: tuple[tuple[str, Any], ...] = (
    ("a valid reading", GOOD),
    (
        "a valid cold-store reading",
        {
            **GOOD,
            "device_id": "cold-01",
            "site": "cold-store",
            "ts": SAMPLE_TS + 60_000,
            "temperature": -2,
            "humidity": 88.5,
        },
    ),
    (
        "the glitch reading (temperature 85.0 °C, a probe's reset value)",
        {**GOOD, "temperature": 85.0},
    ),
    (
        "the glitch reading (temperature -127.0 °C, a loose probe wire)",
        {**GOOD, "temperature": -127.0},
    ),
    ("the reading with humidity 104.2 %", {**GOOD, "humidity": 104.2}),
    ('the malformed reading with temperature "21.4C" (text)', {**GOOD, "temperature": "21.4C"}),
    ("the malformed reading without humidity", {k: v for k, v in GOOD.items() if k != "humidity"}),
    ("the record that is not JSON (a message cut short)", b'{"device_id": "gh-b-02", "site": "gre'),
)
NO_HANDLER = ("Runtime.HandlerNotFound", "Runtime.ImportModuleError", "Runtime.UserCodeSyntaxError")


def _probe_event(lab: Any, probes: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    """A Firehose data-transformation event (Lambda developer guide's shape) with these records."""
    stream_arn = (
        f"arn:aws:firehose:{lab.region}:{lab.account_id}:deliverystream/{lab.name(DELIVERY)}"
    )
    return {
        "invocationId": "00540a87-5050-496a-84e4-e7d92bbaf5e2",
        "deliveryStreamArn": stream_arn,
        "region": lab.region,
        "records": [
            {
                "recordId": f"4954698668313554428650745793632167567570019247115678515{i}",
                "approximateArrivalTimestamp": SAMPLE_TS + 5_000,
                "data": _b64(payload),
            }
            for i, (_, payload) in enumerate(probes)
        ],
    }


def _invoke(lab: Any, function_name: str, event: dict[str, Any]) -> tuple[str | None, Any]:
    """(FunctionError or None, the decoded answer) of a synchronous invocation."""
    resp = lab.client("lambda").invoke(
        FunctionName=function_name, Payload=json.dumps(event).encode()
    )
    body = resp["Payload"].read()
    try:
        answer = json.loads(body) if body else None
    except ValueError:
        answer = body.decode(errors="replace")
    return resp.get("FunctionError"), answer


def _shown(payload: Any) -> str:
    return payload.decode() if isinstance(payload, bytes) else json.dumps(payload)


@check(LAB, "Firehose transform")
def transform(lab: Any) -> str:
    """Invoke the deployed transform with a Firehose event and hold its answer to the status model."""
    name = lab.name(TRANSFORM)
    try:
        lab.client("lambda").get_function(FunctionName=name)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        raise Mistake(
            f"there is no function {name}: deploy my-functions/transform with "
            "lambda_.create_function (Handler 'app.handler', Role transform_role)"
        ) from None
    event = _probe_event(lab, PROBES)
    failed, answer = _invoke(lab, name, event)
    if failed:
        kind = answer.get("errorType", "") if isinstance(answer, dict) else ""
        message = answer.get("errorMessage", answer) if isinstance(answer, dict) else answer
        if kind in NO_HANDLER:
            raise Mistake(
                f"no handler found ({kind}: {message}): my-functions/transform/app.py must define "
                "`def handler(event, context)` and return {'records': [...]}; write it, then run "
                "the cell that deploys it again"
            )
        for what, payload in PROBES:  # which record breaks it?
            one_failed, one = _invoke(lab, name, _probe_event(lab, ((what, payload),)))
            if one_failed:
                kind = one.get("errorType", "") if isinstance(one, dict) else ""
                message = one.get("errorMessage", one) if isinstance(one, dict) else one
                raise Mistake(
                    f"the transform raised {kind}: {message} on {what} ({_shown(payload)}): a "
                    "record that cannot be read must come back `ProcessingFailed`, not stop the "
                    "batch (Firehose retries the whole batch, then fails every record in it)"
                )
        raise Mistake(f"the transform raised {kind}: {message}")
    expect(
        isinstance(answer, dict) and isinstance(answer.get("records"), list),
        f"the transform returned {str(answer)[:120]!r}: Firehose expects "
        "{'records': [{'recordId': ..., 'result': ..., 'data': ...}, ...]}, one entry per record",
    )
    sent = [r["recordId"] for r in event["records"]]
    got = [r.get("recordId") if isinstance(r, dict) else None for r in answer["records"]]
    missing = [i for i in sent if i not in got]
    expect(
        not missing,
        f"{len(missing)} of the {len(sent)} recordIds are missing from the answer: every record "
        "comes back once, with its own recordId, whatever its result (Firehose fails the whole "
        "batch with Lambda.MissingRecordId otherwise)",
    )
    repeated = sorted(i for i, n in Counter(got).items() if n > 1)
    expect(
        not repeated,
        f"recordId {repeated[0] if repeated else ''} comes back {Counter(got)[repeated[0]] if repeated else 0} "
        "times: return each record once (Lambda.DuplicatedRecordId)",
    )
    unknown = [i for i in got if i not in sent]
    expect(
        not unknown,
        f"the answer has recordIds Firehose did not send ({unknown[:2]}): copy each record's recordId",
    )
    by_id = {r["recordId"]: r for r in answer["records"]}
    results = [by_id[i].get("result") for i in sent]
    for word in results:
        if word in RESULTS:
            continue
        right = next(
            (r for r in RESULTS if isinstance(word, str) and r.lower() == word.lower()), None
        )
        expect(
            right is None,
            f"records are rejected: the transform returns `result: {word}`, Firehose expects "
            f"`{right}` (the status model's words are Ok, Dropped and ProcessingFailed, spelled exactly)",
        )
        raise Mistake(
            f"result {word!r} is not one of Ok, Dropped, ProcessingFailed: Firehose fails such a record"
        )
    decoded: dict[str, bytes] = {}
    for record_id, (what, _) in zip(sent, PROBES, strict=True):
        record = by_id[record_id]
        data = record.get("data")
        if data is None and record["result"] != "Ok":
            continue
        expect(
            data is not None,
            f"{what} came back Ok without `data`: Ok records carry the row to store",
        )
        try:
            decoded[record_id] = base64.b64decode(data, validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise Mistake(
                f"the data returned for {what} is not base64 ({str(data)[:40]!r}…): return "
                "base64.b64encode(line.encode()).decode()"
            ) from None
    for (what, payload), result in zip(PROBES, results, strict=True):
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        expected = verdict(raw)
        if result == expected:
            continue
        if expected == "Ok":
            raise Mistake(
                f"{what} ({_shown(payload)}) came back {result}: only temperatures outside "
                "-40…60 °C or humidity outside 0…100 % are Dropped, and only unreadable records "
                "ProcessingFailed"
            )
        if expected == "Dropped":
            why = (
                "it is a well-formed reading with an impossible value: `Dropped` (ProcessingFailed "
                "would keep it under the error prefix for a replay it does not deserve)"
                if result == "ProcessingFailed"
                else "a reading outside -40…60 °C or 0…100 % humidity is a sensor glitch: `Dropped`"
            )
            raise Mistake(f"{what} came back {result}: {why}")
        raise Mistake(
            f"{what} came back {result}: a record that is not JSON, lacks a field or sends a "
            "number as text is `ProcessingFailed`, so Firehose keeps the original under the error "
            "output prefix and nothing is lost"
        )
    oks = [(i, what, p) for i, (what, p), r in zip(sent, PROBES, results, strict=True) if r == "Ok"]
    for record_id, what, payload in oks:
        text = decoded[record_id].decode(errors="replace")
        expect(
            text.endswith("\n"),
            f"the Ok data of {what} does not end with a newline ({text[-40:]!r}): Firehose "
            "concatenates records as they are, so the JSON objects run together in S3 and Athena "
            "reads one row; add '\\n' after json.dumps(row)",
        )
        expect(
            text.count("\n") == 1,
            f"the Ok data of {what} spans several lines: one JSON object per line (json.dumps "
            "without indent)",
        )
        try:
            row = json.loads(text)
        except ValueError:
            raise Mistake(
                f"the Ok data of {what} is not JSON ({text[:60]!r}): return json.dumps(row) + '\\n'"
            ) from None
        expect(
            isinstance(row, dict),
            f"the Ok data of {what} is {text.strip()[:60]}, not a JSON object",
        )
        for name in FIELDS:
            expect(
                name in row,
                f"the Ok row of {what} has no `{name}`: keep {', '.join(FIELDS)} (the table's columns)",
            )
            same = row[name] == payload[name] or (
                name in NUMBERS
                and isinstance(row[name], (int, float))
                and not isinstance(row[name], bool)
                and math.isclose(row[name], payload[name])
            )
            expect(
                same,
                f"the Ok row of {what} has {name} {row[name]!r}, the reading {payload[name]!r}: store the values as they came",
            )
    count = Counter(results)
    return (
        f"{len(sent)} records back once each: {count['Ok']} Ok (a JSON line each), "
        f"{count['Dropped']} Dropped, {count['ProcessingFailed']} ProcessingFailed"
    )


# ---- exercise 2 · the delivery stream ----------------------------------------------------------
SAMPLE_MOMENT = datetime(2024, 12, 30, 10, 7, 8, tzinfo=timezone.utc)
_PATTERN = re.compile(r"([A-Za-z])\1*")
_FIELDS = {
    "y": lambda t, n: f"{t.year % 100:02d}" if n == 2 else f"{t.year:0{n}d}",
    "u": lambda t, n: f"{t.year:0{n}d}",
    "Y": lambda t, n: (
        f"{t.isocalendar()[0] % 100:02d}" if n == 2 else f"{t.isocalendar()[0]:0{n}d}"
    ),
    "M": lambda t, n: f"{t.month:0{n}d}",
    "d": lambda t, n: f"{t.day:0{n}d}",
    "D": lambda t, n: f"{t.timetuple().tm_yday:0{n}d}",
    "H": lambda t, n: f"{t.hour:0{n}d}",
    "h": lambda t, n: f"{(t.hour % 12) or 12:0{n}d}",
    "m": lambda t, n: f"{t.minute:0{n}d}",
    "s": lambda t, n: f"{t.second:0{n}d}",
}


def _java_format(pattern: str, moment: datetime) -> str:
    """A Java DateTimeFormatter pattern's common letters (yMdHms, Y week-based year, D day of
    year) applied to `moment`; quoted text kept."""
    out = []
    for part in re.split(r"('[^']*')", pattern):
        if part.startswith("'") and part.endswith("'") and len(part) >= 2:
            out.append(part[1:-1])
            continue
        out.append(
            _PATTERN.sub(
                lambda m: _FIELDS.get(m.group(1), lambda t, n: m.group(0))(moment, len(m.group(0))),
                part,
            )
        )
    return "".join(out)


def evaluate_prefix(prefix: str, moment: datetime) -> str:
    """Where Firehose would put an object whose oldest record arrived at `moment`."""
    if "!{" not in prefix:
        return prefix + moment.strftime("%Y/%m/%d/%H/")
    return re.sub(
        r"!\{([^}:]+):([^}]*)\}",
        lambda m: (
            _java_format(m.group(2), moment)
            if m.group(1) == "timestamp"
            else f"<{m.group(1)}:{m.group(2)}>"
        ),
        prefix,
    )


def _prefix_mistake(prefix: str) -> str | None:
    """What is wrong with the delivery stream's Prefix, or None."""
    expected = evaluate_prefix(PREFIX, SAMPLE_MOMENT)
    got = evaluate_prefix(prefix, SAMPLE_MOMENT)
    if got == expected:
        return None
    if "!{" not in prefix:
        return (
            f"the prefix {prefix!r} has no `!{{timestamp:...}}` expression: Firehose then adds its "
            f"default YYYY/MM/dd/HH/ (objects under {got}…), an hour folder the table's day "
            f"partitions do not read; use Prefix {PREFIX!r}"
        )
    hints = []
    patterns = " ".join(re.findall(r"!\{timestamp:([^}]*)\}", prefix))
    if "Y" in patterns:
        hints.append(
            "`YYYY` is the week-based year in Java's DateTimeFormatter (30 December 2024 is in week 1 of 2025): use `yyyy`"
        )
    if "D" in patterns:
        hints.append("`DD` is the day of the year: use `dd`")
    if re.search(r"(?<![mM])mm(?![mM])", patterns) and "MM" not in patterns:
        hints.append("`mm` is minutes: months are `MM`")
    if got == expected.rstrip("/"):
        hints.append("the prefix needs a trailing `/`, or the objects' names run on from the day")
    where = (
        f"an object of 2024-12-30 10:07 UTC would land under {got!r}, the table reads {expected!r}"
    )
    return f"{where}: {'; '.join(hints) or f'use Prefix {PREFIX!r}'}"


_FUNCTION_ARN = re.compile(r"(arn:[^:]+:lambda:[^:]*:[^:]*:function:[^:]+)(?::(.*))?")


def _same_function(resource: str) -> list[str]:
    """`resource` and the ARNs that name the same code: an unqualified function ARN and its
    `:$LATEST` (which AWS-generated Firehose roles name) are one function to Firehose."""
    match = _FUNCTION_ARN.fullmatch(resource)
    if not match or match.group(2) not in (None, "$LATEST"):
        return [resource]
    return [match.group(1), f"{match.group(1)}:$LATEST"]


def _allows(document: dict[str, Any], action: str, resource: str) -> bool:
    """Whether an Allow statement grants `action` on `resource` (a Lambda function's
    unqualified ARN and its `:$LATEST` count as the same resource, so `function:name:$LATEST`
    and `function:name:*` cover the transform)."""
    names = _same_function(resource)
    return any(
        s.get("Effect") == "Allow" and grants(s, action, names) for s in statements(document)
    )


def created_at(lab: Any, description: dict[str, Any]) -> datetime:
    """When the delivery stream was created, in lab time (offline, the catalog's timestamps are
    the machine's while Kinesis stamps arrivals with the lab clock; on AWS both are the same)."""
    created = description["CreateTimestamp"].timestamp()
    return datetime.fromtimestamp(lab.clock.lab_time_of(created) - 1, tz=timezone.utc)


PAUSE = 0.2  # s between GetRecords calls on AWS: a shard serves 5 a second
RETRIES = 5  # ProvisionedThroughputExceededException: tries again after 0.5, 1, 2, 4, 8 s


def _get_records(lab: Any, kinesis: Any, iterator: str) -> dict[str, Any]:
    """One GetRecords page, waiting and trying again while the shard's read limit is exceeded."""
    for attempt in range(RETRIES + 1):
        try:
            return kinesis.get_records(ShardIterator=iterator, Limit=10_000)
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code != "ProvisionedThroughputExceededException" or attempt == RETRIES:
                raise
            time.sleep(0 if lab.offline else 0.5 * 2**attempt)
    raise AssertionError("unreachable")


def stream_readings(lab: Any, since: datetime | None = None) -> list[bytes]:
    """The data of every record on the lab's Kinesis stream (arrived at or after `since`)."""
    kinesis = lab.client("kinesis")
    stream = lab.name(STREAM)
    found = []
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        calls = 0
        while iterator:
            if calls and not lab.offline:
                time.sleep(PAUSE)
            calls += 1
            page = _get_records(lab, kinesis, iterator)
            found += [
                r["Data"]
                for r in page["Records"]
                if since is None or r["ApproximateArrivalTimestamp"] >= since
            ]
            if not page["Records"] and page.get("MillisBehindLatest", 0) == 0:
                break
            iterator = page.get("NextShardIterator")
    return found


def _keys(lab: Any, bucket: str, prefix: str) -> list[dict[str, Any]]:
    pages = lab.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [o for page in pages for o in page.get("Contents", [])]


def _body(lab: Any, bucket: str, key: str) -> bytes:
    import gzip

    body = lab.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    return gzip.decompress(body) if key.endswith(".gz") else body


def _static(prefix: str) -> str:
    """The part of a prefix before its first expression."""
    return prefix.split("!{", 1)[0]


def _delivery(lab: Any) -> dict[str, Any]:
    name = lab.name(DELIVERY)
    try:
        return lab.client("firehose").describe_delivery_stream(DeliveryStreamName=name)[
            "DeliveryStreamDescription"
        ]
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        raise Mistake(
            f"there is no delivery stream {name}: create it with firehose.create_delivery_stream "
            "(DeliveryStreamType KinesisStreamAsSource, ExtendedS3DestinationConfiguration)"
        ) from None


def delivered_objects(lab: Any) -> list[dict[str, Any]]:
    """The objects the delivery stream wrote under readings/ (named after the stream, as Firehose
    names them)."""
    stream = lab.name(DELIVERY)
    return [
        o
        for o in _keys(lab, lab.name(BUCKET), DATA)
        if o["Key"].rsplit("/", 1)[-1].startswith(f"{stream}-")
    ]


@check(LAB, "delivery stream")
def delivery_stream(lab: Any) -> str:
    """The delivery stream reads the stream, calls the transform, partitions by day, keeps
    failures apart, and delivers the producer's readings."""
    description = _delivery(lab)
    stream_arn = f"arn:aws:kinesis:{lab.region}:{lab.account_id}:stream/{lab.name(STREAM)}"
    source = description.get("Source", {}).get("KinesisStreamSourceDescription", {})
    expect(
        description["DeliveryStreamType"] == "KinesisStreamAsSource",
        f"the delivery stream is {description['DeliveryStreamType']}, so nothing reads the Kinesis "
        "stream: create it with DeliveryStreamType 'KinesisStreamAsSource' and "
        "KinesisStreamSourceConfiguration (the type cannot be changed: delete it and create it again)",
    )
    expect(
        source.get("KinesisStreamARN") == stream_arn,
        f"the delivery stream reads {source.get('KinesisStreamARN')}, not the lab's stream "
        f"{lab.name(STREAM)}: use stream_arn in KinesisStreamSourceConfiguration",
    )
    destination = (description.get("Destinations") or [{}])[0].get(
        "ExtendedS3DestinationDescription"
    )
    expect(
        destination,
        "the delivery stream has no ExtendedS3DestinationConfiguration: Firehose calls a transform only with the extended S3 destination",
    )
    bucket = lab.name(BUCKET)
    expect(
        destination.get("BucketARN") == f"arn:aws:s3:::{bucket}",
        f"the destination is {destination.get('BucketARN')}, not the lab's bucket: BucketARN f'arn:aws:s3:::{{bucket}}'",
    )
    processing = destination.get("ProcessingConfiguration") or {}
    lambdas = [p for p in processing.get("Processors", []) if p.get("Type") == "Lambda"]
    expect(
        lambdas,
        "the delivery stream has no processor, so nothing calls the transform: add "
        "ProcessingConfiguration with a Lambda processor whose LambdaArn is the transform's ARN",
    )
    expect(
        processing.get("Enabled"), "the ProcessingConfiguration is not Enabled: set 'Enabled': True"
    )
    parameters = {p["ParameterName"]: p["ParameterValue"] for p in lambdas[0].get("Parameters", [])}
    lambda_arn = parameters.get("LambdaArn", "")
    transform_arn = f"arn:aws:lambda:{lab.region}:{lab.account_id}:function:{lab.name(TRANSFORM)}"
    expect(
        lambda_arn in (transform_arn, f"{transform_arn}:$LATEST"),
        f"the processor names {lambda_arn or 'no function'}, not the lab's transform: set the "
        f"LambdaArn parameter to transform_arn ({lab.name(TRANSFORM)})",
    )
    role_arn = destination.get("RoleARN", "")
    expect(
        any(_allows(d, "lambda:InvokeFunction", lambda_arn) for d in role_documents(lab, role_arn)),
        f"Firehose may not invoke the function: its role {role_arn.rsplit('/', 1)[-1]} has no "
        "policy allowing lambda:InvokeFunction on the transform; use firehose_role, which has one",
    )
    prefix = destination.get("Prefix", "")
    wrong = _prefix_mistake(prefix)
    expect(wrong is None, wrong or "")
    error_prefix = destination.get("ErrorOutputPrefix", "")
    expect(
        error_prefix,
        "the delivery stream has no ErrorOutputPrefix: failed records would go under the data's "
        "own prefix; set ErrorOutputPrefix, e.g. 'errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/'",
    )
    expect(
        not error_prefix.startswith(DATA),
        f"the error output prefix {error_prefix!r} is inside {DATA}, where the table's data lives: "
        "keep failures apart, e.g. 'errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/'",
    )
    interval = destination.get("BufferingHints", {}).get("IntervalInSeconds", 300)
    expect(
        interval <= 60,
        f"the buffer interval is {interval} s: Firehose would hold the readings up to "
        f"{interval // 60} minutes before writing; set BufferingHints IntervalInSeconds to 60",
    )
    # behaviour: what the producer put on the stream since the delivery stream exists lands in S3
    produced = stream_readings(lab, since=created_at(lab, description))
    expect(
        produced,
        "the stream has no records since the delivery stream was created: run the producer cell",
    )
    expected = Counter(verdict(data) for data in produced)
    ok_ids = {
        (r["device_id"], r["ts"])
        for r in map(reading_of, produced)
        if r and verdict(json.dumps(r).encode()) == "Ok"
    }
    errors_at = _static(error_prefix)

    def delivered() -> tuple[list[dict[str, Any]], str | None]:
        """The rows under readings/, and the first line that is not a JSON object (or None)."""
        rows = []
        for o in delivered_objects(lab):
            for line in _body(lab, bucket, o["Key"]).splitlines():
                try:
                    row = json.loads(line)
                except ValueError:
                    row = None
                if not isinstance(row, dict):
                    return rows, f"{o['Key']} holds {line[:60]!r}…"
                rows.append(row)
        return rows, None

    def landed() -> bool:
        rows, bad = delivered()
        failures = _keys(lab, bucket, errors_at) if expected["ProcessingFailed"] else True
        return bool(bad or ok_ids <= {(r.get("device_id"), r.get("ts")) for r in rows} and failures)

    try:
        lab.settle(until=landed, timeout=420, interval=20)  # both buffers: a few minutes on AWS
    except TimeoutError:
        pass
    failed_records = []
    for o in _keys(lab, bucket, errors_at):
        failed_records += [
            json.loads(line) for line in _body(lab, bucket, o["Key"]).splitlines() if line.strip()
        ]
    other = [r for r in failed_records if r.get("errorCode") != "Lambda.ProcessingFailedStatus"]
    expect(
        not other,
        f"{len(other)} record(s) failed with {other[0].get('errorCode') if other else ''}: "
        f"{other[0].get('errorMessage') if other else ''}",
    )
    objects = delivered_objects(lab)
    expect(
        objects,
        f"no object under {DATA} after the buffers' time: did the producer run after the delivery "
        "stream became ACTIVE? (Firehose reads a stream from its latest position) Look at the "
        "transform's logs in CloudWatch Logs",
    )
    rows, bad = delivered()
    expect(
        bad is None,
        f"{bad}, not one JSON object a line: end each Ok record's data with a newline",
    )
    delivered_ids = {(r.get("device_id"), r.get("ts")) for r in rows}
    missing = ok_ids - delivered_ids
    expect(
        not missing,
        f"{len(missing)} of the {len(ok_ids)} valid readings on the stream are not under {DATA}: "
        "Firehose reads a Kinesis stream from its latest position when created, so run the "
        "producer after the delivery stream is ACTIVE",
    )
    extra = delivered_ids - ok_ids
    expect(
        not extra,
        f"{len(extra)} delivered rows are readings the transform should have dropped or failed: see check.transform",
    )
    raw_failed = {r.get("rawData") for r in failed_records}
    expect(
        len(raw_failed) >= expected["ProcessingFailed"],
        f"{expected['ProcessingFailed']} malformed readings were put on the stream, "
        f"{len(raw_failed)} are under {errors_at}: the transform must return ProcessingFailed for them",
    )
    return (
        f"{len(ok_ids)} readings under {DATA}<yyyy/MM/dd>/ in {len(objects)} object(s), "
        f"{len(raw_failed)} failed records under {errors_at}, {expected['Dropped']} dropped"
    )


# ---- exercise 3 · the report query -------------------------------------------------------------
def _aggregate(readings: list[dict[str, Any]]) -> dict[str, tuple[int, float]]:
    """device -> (readings, average temperature)."""
    out: dict[str, list[float]] = {}
    for r in readings:
        out.setdefault(r["device_id"], []).append(float(r["temperature"]))
    return {d: (len(t), sum(t) / len(t)) for d, t in out.items()}


def _rows(body: bytes) -> list[dict[str, Any]]:
    """The JSON objects of a JSON-lines body (other lines are skipped)."""
    rows = []
    for line in body.splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict):
            rows.append(row)
    return rows


def _identity(row: dict[str, Any]) -> tuple[str, str]:
    """A reading's identity: its device and its `ts` (what the producer stamps it with)."""
    return json.dumps(row.get("device_id")), json.dumps(row.get("ts"))


def _reading_like(row: dict[str, Any]) -> bool:
    """A row `_aggregate` can count: a device and a numeric temperature."""
    temperature = row.get("temperature")
    return (
        isinstance(row.get("device_id"), str)
        and isinstance(temperature, (int, float))
        and not isinstance(temperature, bool)
    )


def _same(rows: dict[str, tuple[int, float]], expected: dict[str, tuple[int, float]]) -> bool:
    return rows.keys() == expected.keys() and all(
        rows[d][0] == expected[d][0] and abs(rows[d][1] - expected[d][1]) <= 0.0051 for d in rows
    )


def run_query(lab: Any, sql: str) -> dict[str, Any]:
    """Run SQL in the lab's work group and database; the final QueryExecution."""
    athena = lab.client("athena")
    try:
        query_id = athena.start_query_execution(
            QueryString=sql,
            QueryExecutionContext={"Database": database_name(lab)},
            WorkGroup=lab.name(WORKGROUP),
        )["QueryExecutionId"]
    except ClientError as error:
        if error.response["Error"]["Code"] != "InvalidRequestException":
            raise
        raise Mistake(f"Athena refused the query: {error.response['Error']['Message']}") from None

    def finished() -> dict[str, Any] | None:
        execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        return execution if execution["Status"]["State"] in DONE else None

    try:
        return lab.settle(until=finished, timeout=300, interval=1)
    except TimeoutError:
        athena.stop_query_execution(QueryExecutionId=query_id)
        raise Mistake("the query did not finish in 5 minutes") from None


@check(LAB, "report query")
def report_query(lab: Any, query: Any) -> str:
    """The learner's SQL, run through Athena, answers the day's per-device report from the
    day's partition only."""
    expect(
        isinstance(query, str) and query.strip(),
        "the query is empty: set `query` to the report's SELECT (per device: readings and average "
        "temperature, for `day`)",
    )
    objects = delivered_objects(lab)
    expect(objects, f"no readings under {DATA} yet: finish Exercise 2 first")
    bucket = lab.name(BUCKET)
    day = max(o["Key"][len(DATA) :].rsplit("/", 1)[0] for o in objects)  # yyyy/MM/dd
    in_day = f"{DATA}{day}/"
    # what the producer put on the stream, by reading: the values the report must average
    delivery = _delivery(lab)
    sent: dict[tuple[str, str], dict[str, Any]] = {}
    for reading in map(reading_of, stream_readings(lab, created_at(lab, delivery))):
        if reading:
            sent.setdefault(_identity(reading), reading)
    # which readings the day's partition holds: Firehose files an object under the day its
    # oldest record arrived, so a reading belongs to the day whose folder it landed in, not to
    # the day of its own arrival or of its `ts`
    day_readings, other_days = [], []
    for o in _keys(lab, bucket, DATA):
        rows = _rows(_body(lab, bucket, o["Key"]))
        if o["Key"].startswith(in_day):
            day_readings += [sent.get(_identity(r), r) for r in rows]
        else:
            other_days += rows
    day_readings = [r for r in day_readings if reading_of(json.dumps(r).encode())]
    valid = [r for r in day_readings if verdict(json.dumps(r).encode()) == "Ok"]
    expected = _aggregate(valid)
    with_dropped = _aggregate(day_readings)
    every_day = _aggregate(valid + [r for r in other_days if _reading_like(r)])
    day_bytes = sum(o["Size"] for o in _keys(lab, bucket, in_day))
    other_bytes = sum(o["Size"] for o in _keys(lab, bucket, DATA)) - day_bytes

    execution = run_query(lab, query)
    status = execution["Status"]
    expect(
        status["State"] == "SUCCEEDED",
        f"the query {status['State']}: {status.get('StateChangeReason', '')}",
    )
    athena = lab.client("athena")
    pages = athena.get_paginator("get_query_results").paginate(
        QueryExecutionId=execution["QueryExecutionId"]
    )
    columns, rows = None, []
    for page in pages:
        columns = columns or [
            c["Name"] for c in page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
        ]
        rows += [[d.get("VarCharValue") for d in row["Data"]] for row in page["ResultSet"]["Rows"]]
    rows = rows[1:]  # the first row of a SELECT's results is its header
    expect(
        tuple(columns or ()) == REPORT_COLUMNS,
        f"the columns are {', '.join(columns or ())}: the report's are "
        f"{', '.join(REPORT_COLUMNS)} (name them with AS)",
    )
    try:
        got = {r[0]: (int(r[1]), float(r[2])) for r in rows}
    except (TypeError, ValueError):
        raise Mistake(f"the rows {rows[:2]} do not hold a count and an average") from None
    expect(
        len(got) == len(rows),
        f"{len(rows)} rows for {len(got)} devices: one row per device (GROUP BY device_id)",
    )
    if not _same(got, expected):
        expect(
            not _same(got, every_day),
            f"counts include every day's readings ({sum(n for n, _ in got.values())} instead of "
            f"{sum(n for n, _ in expected.values())}): report one day only, WHERE dt = '{{day}}'",
        )
        expect(
            not _same(got, with_dropped),
            "counts include dropped readings (the 85.0 and -127.0 °C glitches): they must not be "
            "in the bucket at all; fix the transform (check.transform) and replay",
        )
        missing = sorted(expected.keys() - got.keys())
        expect(
            not missing,
            f"no row for {', '.join(missing)}: every device with readings that day has one",
        )
        extra = sorted(got.keys() - expected.keys())
        expect(not extra, f"rows for {', '.join(extra)}, which sent no valid reading that day")
        for device in sorted(expected):
            n, avg = got[device]
            want_n, want_avg = expected[device]
            expect(
                n == want_n, f"{device}: {n} readings, the day has {want_n} (count(*) per device)"
            )
            expect(
                abs(avg - want_avg) <= 0.0051,
                f"{device}: average temperature {avg}, expected {want_avg:.2f} (round(avg(temperature), 2))",
            )
    expect(
        [r[0] for r in rows] == sorted(got),
        "the rows are not in device order: add ORDER BY device_id",
    )
    scanned = execution["Statistics"]["DataScannedInBytes"]
    expect(
        not other_bytes or scanned < day_bytes + other_bytes / 2,
        f"the answer is right, but Athena read every day's objects ({scanned:,} bytes; the day's "
        f"are {day_bytes:,}): filter on the partition column, WHERE dt = '{{day}}', so Athena "
        "reads only that day's folder (filters on ts or other columns prune nothing)",
    )
    total = sum(n for n, _ in got.values())
    return (
        f"{len(got)} devices, {total} readings of the day, and Athena read only the day's partition"
    )
