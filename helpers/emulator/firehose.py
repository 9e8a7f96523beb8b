"""Amazon Data Firehose delivery to Amazon S3, in lab time.

moto writes one S3 object per PutRecord call at once and never reads a Kinesis source, calls a
transform or evaluates a prefix. This piece takes over the data path of delivery streams whose
destination is `ExtendedS3DestinationConfiguration` (or the plain S3 one); moto still stores
the configuration. What it does, after the Firehose developer guide
(https://docs.aws.amazon.com/firehose/latest/dev/):

- **Sources.** Direct PUT (`PutRecord`, `PutRecordBatch`; at most 500 records a batch) and a
  Kinesis stream (`KinesisStreamSourceConfiguration`), read from each shard in order starting
  from LATEST when the delivery stream is created, as AWS does. PutRecord on a
  KinesisStreamAsSource stream is refused with InvalidArgumentException.
- **Buffering.** `BufferingHints` SizeInMBs (1-128, default 5) and IntervalInSeconds (0-900,
  default 300), whichever first; the interval counts from the oldest record in the buffer, on
  the lab clock. Advancing the lab clock delivers what fell due before `advance()` returns;
  `settle()` runs the clock to the next due buffer. A full buffer is delivered at once by the
  emulator's delivery thread (`settle()` waits for it).
- **Lambda transform** (`ProcessingConfiguration`, a `Lambda` processor with `LambdaArn`,
  `BufferSizeInMBs` 0.2-3 default 1, `BufferIntervalInSeconds` 0-900 default 60,
  `NumberOfRetries` default 3): incoming records are buffered for the function first, which is
  invoked synchronously with AWS's event (`invocationId`, `deliveryStreamArn`, `region`,
  `records[{recordId, approximateArrivalTimestamp, data}]`, plus `sourceKinesisStreamArn` and
  each record's `kinesisRecordMetadata` for a Kinesis source). The answer must follow the status
  model (https://docs.aws.amazon.com/firehose/latest/dev/data-transformation-status-model.html):
  every record id back once, `result` Ok | Dropped | ProcessingFailed, `data` base64. Ok records
  go on to the S3 buffer, whose interval counts from then ("Firehose then sends it to the
  destination when the specified destination buffering size or buffering interval is reached",
  data-transformation.html; so with defaults a record waits up to 60 + 300 s), Dropped ones are
  counted, everything else is a failure written to the error output as AWS's JSON error record
  (`attemptsMade`, `arrivalTimestamp`, `errorCode`, `errorMessage`, `attemptEndingTimestamp`,
  `rawData`, `lambdaARN`), one per line. A failed invocation (function error, timeout) or an
  answer that breaks the model as a whole (not JSON: `Lambda.JsonProcessingException`; record
  ids missing, unknown or repeated: `Lambda.MissingRecordId` / `Lambda.DuplicatedRecordId`;
  function error: `Lambda.FunctionError`) is retried `NumberOfRetries` times, then every record
  of the batch fails with that code. A record whose result is ProcessingFailed fails alone
  after one attempt as AWS writes it (`Lambda.ProcessingFailedStatus`, "ProcessingFailed status
  set for record", from records captured on AWS); one with any other word ("OK" is not "Ok") or
  whose data is not base64 fails alone with `Lambda.ProcessingFailed`.
- **Keys.** `<prefix><stream>-<version>-YYYY-MM-dd-HH-mm-ss-<uuid><extension>`; without
  expressions the prefix is `Prefix` + `YYYY/MM/dd/HH/` (UTC), with them it is `Prefix`
  evaluated: `!{timestamp:<Java DateTimeFormatter>}` (the arrival time of the oldest record in
  the object), `!{firehose:random-string}` (11 characters), `!{partitionKeyFromQuery:k}`,
  `!{partitionKeyFromLambda:k}`. Errors go to `ErrorOutputPrefix` evaluated the same way, with
  `!{firehose:error-output-type}` = processing-failed | format-conversion-failed |
  partitioning-failed; without an ErrorOutputPrefix, to `Prefix` + `<error-output-type>/` +
  `YYYY/MM/dd/HH/`. A Prefix with expressions needs an ErrorOutputPrefix, and error-output-type
  is refused in Prefix (InvalidArgumentException), as AWS does.
- **Compression.** `CompressionFormat` GZIP writes gzip objects named `.gz`.
- **Format conversion** (`DataFormatConversionConfiguration`, JSON in, Parquet out, the
  columns read from the Glue table `SchemaConfiguration` names): each JSON record is matched to
  the columns (names case-insensitive, missing fields null, extra fields ignored, values
  converted to the column's Hive type), the object is Parquet written by DuckDB (compression
  from `ParquetSerDe.Compression`, SNAPPY by default) named `.parquet`. A record that is not a
  JSON object or whose value does not fit its column goes to the error output as
  format-conversion-failed (every record, `DataFormatConversion.EntityNotFound`, when the table
  cannot be read), in AWS's format-conversion error record (`attemptsMade`,
  `arrivalTimestamp`, `ErrorCode` DataFormatConversion.MalformedData, `ErrorMessage`,
  `attemptEndingTimestamp`, `rawData`, `dataCatalogTable`).
- **Dynamic partitioning** (`DynamicPartitioningConfiguration.Enabled`): partition keys from a
  `MetadataExtraction` query of the form `{key: .field.path, ...}` (a JQ subset) or from the
  transform's `metadata.partitionKeys`; one buffer per partition; `AppendDelimiterToRecord`
  adds a newline. A record without its keys goes to the error output as partitioning-failed.
- **S3 events.** Objects are written through moto's S3 backend, so the bucket's event
  notifications (S3 → SQS / SNS / Lambda) fire for each delivered object, as on AWS.
- **Accounting.** `metrics(delivery_stream)`: records in, delivered, dropped, failed, still
  buffered, objects and bytes written, transform invocations.

Simplified: one delivery per buffer, no S3 backup, no ZIP/Snappy compression (objects are then
written uncompressed, with a note), no ORC output, no CustomTimeZone, no Direct PUT throughput
quotas, no encryption, no per-record size quota (1,000 KiB). Error records are written when a
batch fails rather than buffered. Our reading, not confirmed against AWS: a response that breaks
the model as a whole is retried like a failed invocation; a wrong `result` word fails the record
alone; an ErrorOutputPrefix without expressions gets `YYYY/MM/dd/HH/` appended like Prefix. If
the bucket is missing, a buffer is retried with back-off for up to 24 hours of lab time, then
counted as failed. The emulator's own wording (not AWS's, unknown here): the code and message
of `Lambda.ProcessingFailed` (a wrong result word, bad base64), the code
`Lambda.FunctionNotFound`, the partitioning-failed record and the InvalidArgumentException
messages about prefixes and about the 64 MiB buffer that format conversion and dynamic
partitioning need (the minimum itself is AWS's).

moto seams (tests/emulator/test_moto_seams.py): `FirehoseBackend.create_delivery_stream`,
`.put_record_batch`, `.update_destination` (patched); `FirehoseBackend.delivery_streams`,
`DeliveryStream.destinations`, `.source`, `.delivery_stream_type`, `.version_id`,
`firehose_backends`, `S3Backend.put_object`, `glue_backends` / `get_table` (read).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import gzip
import json
import os
import random
import re
import secrets
import string
import tempfile
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

MIB = 1024 * 1024
DEFAULT_SIZE_MB, DEFAULT_INTERVAL_S = 5, 300
LAMBDA_DEFAULT_SIZE_MB, LAMBDA_DEFAULT_INTERVAL_S, LAMBDA_DEFAULT_RETRIES = 1.0, 60, 3
DELIVERY_RETRY_S, DELIVERY_RETRY_MAX_S, DELIVERY_GIVE_UP_S = 5.0, 900.0, 24 * 3600.0
MAX_BATCH_RECORDS = 500
# what Firehose writes for a record the function marked ProcessingFailed (captured from AWS)
STATUS_FAILED = "Lambda.ProcessingFailedStatus"
STATUS_FAILED_MESSAGE = "ProcessingFailed status set for record"
# format conversion and dynamic partitioning need a buffer of at least 64 MiB
CONVERSION_MIN_SIZE_MB = 64

MESSAGES = {
    "Lambda.FunctionError": (
        "The Lambda function was successfully invoked but it returned an error result."
    ),
    "Lambda.JsonProcessingException": (
        "There was an error parsing returned records from the Lambda function. Ensure that the "
        "returned records follow the status model required by Firehose."
    ),
    "Lambda.MissingRecordId": (
        "One or more record IDs were not returned. Ensure that the Lambda function returns all "
        "received record IDs."
    ),
    "Lambda.DuplicatedRecordId": (
        "Multiple records were returned with the same record ID. Ensure that the Lambda function "
        "returns unique record IDs for each record."
    ),
    "Lambda.FunctionNotFound": "The Lambda function does not exist.",
}

_installed: Firehose | None = None


def install(emulator: Any) -> None:
    """Patch moto's Firehose so S3 delivery buffers, transforms, converts and names as AWS."""
    global _installed
    _installed = Firehose(emulator)
    _installed.install()


def metrics(delivery_stream: str) -> dict[str, int]:
    """Record accounting for one delivery stream (name or ARN): in = delivered + dropped +
    failed + buffered."""
    name = delivery_stream.rsplit("/", 1)[-1]
    if _installed is None:
        return dict.fromkeys(_METRICS, 0)
    with _installed._lock:
        counts = Counter()
        for state in _installed._states.values():
            if state.name == name:
                counts.update(state.counts)
                counts["buffered"] += state.buffered()
    return {k: int(counts.get(k, 0)) for k in _METRICS}


_METRICS = (
    "records_in",
    "delivered",
    "dropped",
    "failed",
    "buffered",
    "objects",
    "bytes_delivered",
    "transform_invocations",
)


# ---- state --------------------------------------------------------------------------------------
@dataclass
class _Record:
    record_id: str
    data: bytes
    arrival: float  # lab time, seconds
    raw: bytes  # as it arrived, for error records
    kinesis: dict[str, Any] | None = None  # kinesisRecordMetadata
    keys: dict[str, str] | None = None  # partitionKeyFromLambda
    entered: float | None = None  # lab time it entered its current buffer (else: arrival)


@dataclass
class _Buffer:
    records: list[_Record] = field(default_factory=list)
    size: int = 0
    retry_at: float | None = None  # a delivery failed: try again then
    retry_delay: float = DELIVERY_RETRY_S
    # opened(), kept as records come (every delivery step asks it of every buffer)
    oldest: float | None = field(default=None, repr=False)

    def opened(self) -> float:
        if self.oldest is None:
            self.oldest = min(r.arrival if r.entered is None else r.entered for r in self.records)
        return self.oldest

    def add(self, record: _Record) -> None:
        self.records.append(record)
        self.size += len(record.data)
        if self.oldest is not None:
            entered = record.arrival if record.entered is None else record.entered
            self.oldest = min(self.oldest, entered)


@dataclass
class _State:
    """One delivery stream's buffers, source position and counts."""

    account: str
    region: str
    name: str
    arn: str
    source_arn: str | None = None
    positions: dict[str, int] = field(default_factory=dict)  # shard id -> last sequence read
    transform: _Buffer = field(default_factory=_Buffer)  # records waiting for the function
    buffers: dict[tuple[tuple[str, str], ...], _Buffer] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)

    def buffered(self) -> int:
        return len(self.transform.records) + sum(len(b.records) for b in self.buffers.values())


def _arg_error(message: str) -> Exception:
    from moto.firehose.exceptions import InvalidArgumentException

    return InvalidArgumentException(message)


def _validation_error(value: Any, where: str, constraint: str) -> Exception:
    from moto.firehose.exceptions import ValidationException

    return ValidationException(
        f"1 validation error detected: Value '{value}' at '{where}' failed to satisfy "
        f"constraint: {constraint}"
    )


class Firehose:
    """The Firehose data path of one offline lab."""

    def __init__(self, emulator: Any):
        self.em = emulator
        self._lock = threading.RLock()  # state
        self._run_lock = threading.Lock()  # one run_due at a time (delivery thread, clock)
        self._states: dict[tuple[str, str, str], _State] = {}
        self._seq = 0
        # record ids' random part: uuid4 reads os.urandom, which lets go of the GIL on every
        # record (the publishing thread then holds it for up to 5 ms each time)
        self._ids = random.Random(secrets.randbits(64))
        self._attached = False

    # ---- patches ------------------------------------------------------------------------------
    def install(self) -> None:
        from moto.firehose import models as firehose_models

        backend_cls = firehose_models.FirehoseBackend
        patch = self.em._patch
        fh = self
        original_create = backend_cls.create_delivery_stream

        def create_delivery_stream(backend: Any, region: str, name: str, *args: Any) -> str:
            kinesis_source, extended = args[1], args[4]
            s3 = args[3]
            fh._check_destination(extended or s3 or {}, extended is not None)
            arn = original_create(backend, region, name, *args)
            fh._created(backend, name, kinesis_source)
            return arn

        patch(backend_cls, "create_delivery_stream", create_delivery_stream)
        original_update = backend_cls.update_destination

        def update_destination(backend: Any, name: str, version: str, dest_id: str, *a: Any) -> Any:
            s3_update, extended_update = a[0], a[1]
            if extended_update or s3_update:
                fh._check_destination(extended_update or s3_update, extended_update is not None)
            return original_update(backend, name, version, dest_id, *a)

        patch(backend_cls, "update_destination", update_destination)
        original_batch = backend_cls.put_record_batch

        def put_record_batch(backend: Any, name: str, records: list[dict[str, Any]]) -> Any:
            stream = backend.delivery_streams.get(name)
            if stream is None or _destination(stream) is None:
                return original_batch(backend, name, records)
            return fh._put(backend, stream, records)

        patch(backend_cls, "put_record_batch", put_record_batch)
        self.em.clock.on_advance(self._on_clock)

    def _check_destination(self, config: dict[str, Any], extended: bool) -> None:
        where = "extendedS3DestinationConfiguration" if extended else "s3DestinationConfiguration"
        hints = config.get("BufferingHints") or {}
        size = hints.get("SizeInMBs")
        if size is not None and not 1 <= int(size) <= 128:
            bound = "greater than or equal to 1" if int(size) < 1 else "less than or equal to 128"
            raise _validation_error(
                size, f"{where}.bufferingHints.sizeInMBs", f"Member must have value {bound}"
            )
        interval = hints.get("IntervalInSeconds")
        if interval is not None and not 0 <= int(interval) <= 900:
            bound = (
                "greater than or equal to 0" if int(interval) < 0 else "less than or equal to 900"
            )
            raise _validation_error(
                interval,
                f"{where}.bufferingHints.intervalInSeconds",
                f"Member must have value {bound}",
            )
        converts = (config.get("DataFormatConversionConfiguration") or {}).get("Enabled", True)
        partitions = (config.get("DynamicPartitioningConfiguration") or {}).get("Enabled")
        needs_64 = ("DataFormatConversionConfiguration" in config and converts) or partitions
        if needs_64 and size is not None and int(size) < CONVERSION_MIN_SIZE_MB:
            feature = (
                "data format conversion"
                if converts and "DataFormatConversionConfiguration" in config
                else "dynamic partitioning"
            )
            raise _arg_error(
                f"BufferingHints.SizeInMBs must be at least {CONVERSION_MIN_SIZE_MB} when "
                f"{feature} is enabled."
            )
        prefix = config.get("Prefix") or ""
        error_prefix = config.get("ErrorOutputPrefix") or ""
        if "!{firehose:error-output-type}" in prefix:
            raise _arg_error(
                "The expression !{firehose:error-output-type} is only allowed in the "
                "ErrorOutputPrefix."
            )
        if "!{" in prefix and not error_prefix:
            raise _arg_error(
                "ErrorOutputPrefix cannot be null or empty when Prefix contains expressions."
            )
        for template in (prefix, error_prefix):
            for namespace, value in _EXPRESSION.findall(template):
                if namespace == "timestamp":
                    try:
                        _java_format(value)
                    except ValueError as exc:
                        raise _arg_error(f"Invalid timestamp format in prefix: {exc}") from exc
                elif namespace == "firehose" and value not in (
                    "random-string",
                    "error-output-type",
                ):
                    raise _arg_error(f"Unknown firehose namespace value: {value}")
                elif namespace not in (
                    "timestamp",
                    "firehose",
                    "partitionKeyFromQuery",
                    "partitionKeyFromLambda",
                ):
                    raise _arg_error(f"Unknown namespace in prefix: {namespace}")

    def _created(self, backend: Any, name: str, kinesis_source: dict[str, Any] | None) -> None:
        stream = backend.delivery_streams[name]
        key = (backend.account_id, backend.region_name, name)
        state = _State(backend.account_id, backend.region_name, name, stream.delivery_stream_arn)
        if kinesis_source and kinesis_source.get("KinesisStreamARN"):
            state.source_arn = kinesis_source["KinesisStreamARN"]
            source = self._kinesis_stream(state.source_arn)
            for shard in source.shards.values() if source is not None else []:
                state.positions[shard.shard_id] = shard.get_max_sequence_number()  # LATEST
        with self._lock:
            self._states[key] = state
        self._attach()

    def _state(self, stream: Any, account: str, region: str) -> _State:
        key = (account, region, stream.delivery_stream_name)
        with self._lock:
            state = self._states.get(key)
            if state is None or state.arn != stream.delivery_stream_arn:
                state = _State(
                    account, region, stream.delivery_stream_name, stream.delivery_stream_arn
                )
                self._states[key] = state
            return state

    # ---- Direct PUT ---------------------------------------------------------------------------
    def _put(self, backend: Any, stream: Any, records: list[dict[str, Any]]) -> dict[str, Any]:
        if stream.delivery_stream_type == "KinesisStreamAsSource":
            raise _arg_error(
                "This operation is not permitted on KinesisStreamAsSource delivery stream type."
            )
        if len(records) > MAX_BATCH_RECORDS:
            raise _validation_error(
                "[...]", "records", "Member must have length less than or equal to 500"
            )
        state = self._state(stream, backend.account_id, backend.region_name)
        now = self.em.clock.now()
        responses = []
        with self._lock:
            for item in records:
                data = item.get("Data") or b""
                if isinstance(data, str):
                    data = data.encode()
                record = _Record(self._record_id(), bytes(data), now, bytes(data))
                self._accept(state, stream, record)
                responses.append({"RecordId": record.record_id})
        self._attach()
        return {"FailedPutCount": 0, "Encrypted": False, "RequestResponses": responses}

    def _record_id(self) -> str:
        with self._lock:
            self._seq += 1
            return f"{self._ids.getrandbits(128):039d}{self._seq:017d}"

    def _accept(
        self, state: _State, stream: Any, record: _Record, transformed: bool | None = None
    ) -> None:
        """A record arrives: to the transform's buffer, or straight to the S3 buffers
        (`transformed`: whether the stream has a Lambda processor, when the caller knows)."""
        state.counts["records_in"] += 1
        if transformed is None:
            transformed = _lambda_processor(_destination(stream) or {}) is not None
        if transformed:
            state.transform.add(record)
        else:
            self._to_destination(state, stream, [record])

    # ---- Kinesis source -----------------------------------------------------------------------
    def _kinesis_stream(self, arn: str) -> Any:
        from moto.kinesis.models import kinesis_backends

        parts = arn.split(":")
        name = parts[5].split("/", 1)[1]
        return kinesis_backends[parts[4]][parts[3]].streams.get(name)

    def _read_source(self, state: _State, stream: Any) -> bool:
        source = self._kinesis_stream(state.source_arn or "")
        if source is None:
            return False
        read = False
        transformed = _lambda_processor(_destination(stream) or {}) is not None
        for shard in sorted(source.shards.values(), key=lambda s: s._shard_id):
            last = state.positions.get(shard.shard_id, 0)
            while (item := shard.records.get(last + 1)) is not None:
                last += 1
                data = base64.b64decode(item.data)
                record = _Record(
                    self._record_id(),
                    data,
                    float(item.created_at),
                    data,
                    kinesis={
                        "shardId": shard.shard_id,
                        "partitionKey": item.partition_key,
                        "approximateArrivalTimestamp": _iso(float(item.created_at)),
                        "sequenceNumber": str(item.sequence_number),
                        "subsequenceNumber": "",
                    },
                )
                self._accept(state, stream, record, transformed)
                read = True
            state.positions[shard.shard_id] = last
        return read

    def _unread(self, state: _State) -> bool:
        source = self._kinesis_stream(state.source_arn or "")
        if source is None:
            return False
        return any(
            shard.records.get(state.positions.get(shard.shard_id, 0) + 1) is not None
            for shard in list(source.shards.values())
        )

    # ---- pending work (Delivery and clock advances run it) ------------------------------------
    def _attach(self) -> None:
        delivery = self.em.delivery
        if delivery is not None and not self._attached:
            delivery.add_work(self)
            self._attached = True
        self.em.wake()

    def _on_clock(self) -> None:
        """The lab clock moved: what fell due is delivered by the time advance() returns."""
        if not self.em.closed:
            self.run_due(self.em.clock.now())

    def _streams(self) -> list[tuple[_State, Any]]:
        from moto.firehose.models import firehose_backends

        out = []
        with self._lock:
            states = list(self._states.items())
        for (account, region, name), state in states:
            stream = firehose_backends[account][region].delivery_streams.get(name)
            if stream is None or stream.delivery_stream_arn != state.arn:
                with self._lock:
                    self._states.pop((account, region, name), None)  # deleted: buffers go too
                continue
            if _destination(stream) is not None:
                out.append((state, stream))
        return out

    def next_due(self) -> float | None:
        now = self.em.clock.now()
        dues = []
        for state, stream in self._streams():
            if state.source_arn and self._unread(state):
                dues.append(now)
            config = _destination(stream) or {}
            processor = _lambda_processor(config)
            with self._lock:
                if state.transform.records and processor is not None:
                    dues.append(_due(state.transform, *processor[1:3], now))
                size, interval = _hints(config)
                for buffer in state.buffers.values():
                    if buffer.records:
                        dues.append(_due(buffer, size, interval, now))
        return min(dues) if dues else None

    def run_due(self, now: float) -> bool:
        if self.em.closed:
            return False
        worked = False
        with self._run_lock:
            for state, stream in self._streams():
                try:
                    worked |= self._run_stream(state, stream, now)
                except Exception as exc:  # one broken stream must not stop the others
                    self.em.note(f"delivery error in Firehose stream {state.name}: {exc!r}")
        return worked

    def _run_stream(self, state: _State, stream: Any, now: float) -> bool:
        worked = False
        if state.source_arn:
            with self._lock:
                worked |= self._read_source(state, stream)
        config = _destination(stream) or {}
        processor = _lambda_processor(config)
        if processor is not None:
            arn, size_mb, interval, retries = processor
            while True:
                with self._lock:
                    if (
                        not state.transform.records
                        or _due(state.transform, size_mb, interval, now) > now
                    ):
                        break
                    batch = _take(state.transform, size_mb * MIB)
                self._transform(state, stream, config, arn, retries, batch)
                worked = True
        size, interval = _hints(config)
        with self._lock:
            parts: list[tuple[tuple[tuple[str, str], ...], _Buffer]] = []
            for key, buffer in list(state.buffers.items()):
                if not buffer.records or _due(buffer, size, interval, now) > now:
                    continue
                # the interval (or a retry) delivers everything; a full buffer, whole parts
                everything = buffer.retry_at is not None or buffer.opened() + interval <= now
                while buffer.records and (everything or buffer.size >= size * MIB):
                    parts.append((key, _take(buffer, size * MIB)))
                if not buffer.records:
                    del state.buffers[key]
        for key, part in parts:
            worked = True
            self._deliver(state, stream, config, dict(key), part, now)
        return worked

    def describe_pending(self) -> list[str]:
        out = []
        with self._lock:
            for state in self._states.values():
                if state.buffered():
                    out.append(f"{state.buffered()} record(s) buffered in Firehose {state.name}")
        return out

    # ---- the transform ------------------------------------------------------------------------
    def _transform(
        self,
        state: _State,
        stream: Any,
        config: dict[str, Any],
        arn: str,
        retries: int,
        batch: _Buffer,
    ) -> None:
        event: dict[str, Any] = {
            "invocationId": str(uuid.uuid4()),
            "deliveryStreamArn": state.arn,
            "region": state.region,
            "records": [],
        }
        if state.source_arn:
            event["sourceKinesisStreamArn"] = state.source_arn
        for record in batch.records:
            entry: dict[str, Any] = {
                "recordId": record.record_id,
                "approximateArrivalTimestamp": int(record.arrival * 1000),
                "data": base64.b64encode(record.data).decode(),
            }
            if record.kinesis is not None:
                entry["kinesisRecordMetadata"] = record.kinesis
            event["records"].append(entry)
        payload = json.dumps(event).encode()
        attempts, code, answer = 0, "", None
        while attempts <= retries:
            attempts += 1
            code, answer = self._invoke(arn, payload, [r.record_id for r in batch.records])
            with self._lock:
                state.counts["transform_invocations"] += 1
            if not code:
                break
        if code:
            failures = [(r, code, MESSAGES.get(code, code)) for r in batch.records]
            self._fail(
                state, stream, config, failures, "processing-failed", attempts, lambda_arn=arn
            )
            return
        assert answer is not None
        ok, failed = [], []
        dropped = 0
        for record in batch.records:
            out = answer[record.record_id]
            result = out.get("result")
            if result == "Dropped":
                dropped += 1
                continue
            if result == "ProcessingFailed":  # the function's own verdict
                failed.append((record, STATUS_FAILED, STATUS_FAILED_MESSAGE))
                continue
            if result != "Ok":
                failed.append(
                    (
                        record,
                        "Lambda.ProcessingFailed",
                        f"The Lambda function returned result {result!r} for the "
                        "record: only Ok and Dropped count as processed.",
                    )
                )
                continue
            try:
                data = base64.b64decode(out.get("data") or "", validate=True)
            except (binascii.Error, ValueError, TypeError):
                failed.append(
                    (
                        record,
                        "Lambda.ProcessingFailed",
                        "The Lambda function returned data that is not valid base64.",
                    )
                )
                continue
            keys = ((out.get("metadata") or {}).get("partitionKeys")) or None
            ok.append(
                _Record(
                    record.record_id,
                    data,
                    record.arrival,
                    record.raw,
                    record.kinesis,
                    {str(k): str(v) for k, v in keys.items()} if isinstance(keys, dict) else None,
                )
            )
        with self._lock:
            state.counts["dropped"] += dropped
            if ok:
                self._to_destination(state, stream, ok)
        if failed:
            self._fail(state, stream, config, failed, "processing-failed", 1, lambda_arn=arn)

    def _invoke(
        self, arn: str, payload: bytes, ids: list[str]
    ) -> tuple[str, dict[str, dict[str, Any]] | None]:
        """('' , records by id) for an answer that follows the status model, else (code, None)."""
        fn = self.em.find_function(arn, None)
        if fn is None:
            return "Lambda.FunctionNotFound", None
        try:
            outcome = self.em.run(fn, payload)
        except Exception as exc:  # the runtime could not run it at all
            self.em.note(f"Firehose transform {arn}: {exc}")
            return "Lambda.FunctionError", None
        if outcome.failed:
            return "Lambda.FunctionError", None
        try:
            body = outcome.json()
            records = body["records"]
            if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
                raise TypeError("records is not a list of objects")
        except (ValueError, KeyError, TypeError):
            return "Lambda.JsonProcessingException", None
        by_id: dict[str, dict[str, Any]] = {}
        for entry in records:
            rid = entry.get("recordId")
            if rid in by_id:
                return "Lambda.DuplicatedRecordId", None
            by_id[rid] = entry
        if set(by_id) != set(ids):
            return "Lambda.MissingRecordId", None
        return "", by_id

    # ---- to S3 --------------------------------------------------------------------------------
    def _to_destination(self, state: _State, stream: Any, records: list[_Record]) -> None:
        """Records enter the S3 buffers (one per partition when partitioning is on)."""
        config = _destination(stream) or {}
        partitioning = (config.get("DynamicPartitioningConfiguration") or {}).get("Enabled")
        query = _processor_parameter(config, "MetadataExtraction", "MetadataExtractionQuery")
        delimiter = _processor_parameter(config, "AppendDelimiterToRecord", None) is not None
        unpartitioned = []
        now = self.em.clock.now()
        for record in records:
            record.entered = now
            key: tuple[tuple[str, str], ...] = ()
            if partitioning:
                keys = dict(record.keys or {})
                if query:
                    try:
                        keys.update(_jq_keys(query, record.data))
                    except ValueError as exc:
                        code = "DynamicPartitioning.MetadataExtractionFailed"
                        unpartitioned.append((record, code, str(exc)))
                        continue
                key = tuple(sorted(keys.items()))
            if delimiter:
                record.data += b"\n"
            buffer = state.buffers.get(key)
            if buffer is None:
                buffer = state.buffers[key] = _Buffer()
            buffer.add(record)
        if unpartitioned:
            self._fail(state, stream, config, unpartitioned, "partitioning-failed", 1)
        self.em.wake()

    def _deliver(
        self,
        state: _State,
        stream: Any,
        config: dict[str, Any],
        keys: dict[str, str],
        buffer: _Buffer,
        now: float,
    ) -> None:
        records = buffer.records
        conversion = config.get("DataFormatConversionConfiguration") or {}
        extension = ""
        if conversion.get("Enabled", True) and conversion.get("SchemaConfiguration"):
            schema = conversion["SchemaConfiguration"]
            try:
                glue_columns(schema, state.account, state.region)
            except Exception as exc:  # no such database or table: nothing can be converted
                missing = (
                    f"The Glue table {schema.get('DatabaseName')}.{schema.get('TableName')} "
                    f"cannot be read: {exc}"
                )
                failures = [(r, "DataFormatConversion.EntityNotFound", missing) for r in records]
                self._fail(
                    state, stream, config, failures, "format-conversion-failed", 1, table=schema
                )
                return
            body, bad = self._to_parquet(conversion, records, state.region)
            if bad:
                code = "DataFormatConversion.MalformedData"
                self._fail(
                    state,
                    stream,
                    config,
                    [(record, code, message) for record, message in bad],
                    "format-conversion-failed",
                    1,
                    table=conversion["SchemaConfiguration"],
                )
            records = [r for r in records if all(r is not b for b, _ in bad)]
            if not records:
                return
            extension = ".parquet"
        else:
            body = b"".join(r.data for r in records)
            compression = config.get("CompressionFormat") or "UNCOMPRESSED"
            if compression == "GZIP":
                body, extension = gzip.compress(body), ".gz"
            elif compression != "UNCOMPRESSED":
                self.em.note(
                    f"Firehose {state.name}: CompressionFormat {compression} is not emulated; "
                    "the object is written uncompressed"
                )
        extension = config.get("FileExtension") or extension
        oldest = min(r.arrival for r in records)
        key = object_key(
            config.get("Prefix") or "",
            state.name,
            stream.version_id,
            oldest,
            keys=keys,
            extension=extension,
        )
        try:
            self._put_object(state, config, key, body)
        except Exception as exc:
            if now - oldest >= DELIVERY_GIVE_UP_S:
                self.em.note(f"Firehose {state.name} gave up delivering to S3: {exc}")
                with self._lock:
                    state.counts["failed"] += len(records)
                return
            with self._lock:  # back in its buffer, tried again after a back-off
                merged = state.buffers.setdefault(tuple(sorted(keys.items())), _Buffer())
                for record in records:
                    merged.add(record)
                merged.retry_at = now + buffer.retry_delay
                merged.retry_delay = min(buffer.retry_delay * 2, DELIVERY_RETRY_MAX_S)
            return
        with self._lock:
            state.counts["delivered"] += len(records)
            state.counts["objects"] += 1
            state.counts["bytes_delivered"] += len(body)

    def _put_object(self, state: _State, config: dict[str, Any], key: str, body: bytes) -> None:
        from moto.s3.models import s3_backends
        from moto.utilities.utils import get_partition

        bucket = config["BucketARN"].split(":")[-1]
        s3_backends[state.account][get_partition(state.region)].put_object(bucket, key, body)

    def _fail(
        self,
        state: _State,
        stream: Any,
        config: dict[str, Any],
        failures: list[tuple[_Record, str, str]],
        kind: str,
        attempts: int,
        *,
        lambda_arn: str | None = None,
        table: dict[str, Any] | None = None,
    ) -> None:
        """Write AWS's error records for (record, error code, message) under the error prefix."""
        now = self.em.clock.now()
        lines = []
        records = [record for record, _, _ in failures]
        for record, code, message in failures:
            if kind == "format-conversion-failed":
                entry: dict[str, Any] = {
                    "attemptsMade": attempts,
                    "arrivalTimestamp": int(record.arrival * 1000),
                    "ErrorCode": code,
                    "ErrorMessage": message,
                    "attemptEndingTimestamp": int(now * 1000),
                    "rawData": base64.b64encode(record.raw).decode(),
                }
                if record.kinesis:
                    entry["sequenceNumber"] = record.kinesis["sequenceNumber"]
                    entry["subSequenceNumber"] = 0
                entry["dataCatalogTable"] = {
                    "catalogId": (table or {}).get("CatalogId") or state.account,
                    "databaseName": (table or {}).get("DatabaseName"),
                    "tableName": (table or {}).get("TableName"),
                    "region": (table or {}).get("Region") or state.region,
                    "versionId": (table or {}).get("VersionId") or "LATEST",
                }
            else:
                entry = {
                    "attemptsMade": attempts,
                    "arrivalTimestamp": int(record.arrival * 1000),
                    "errorCode": code,
                    "errorMessage": message,
                    "attemptEndingTimestamp": int(now * 1000),
                    "rawData": base64.b64encode(record.raw).decode(),
                }
                if lambda_arn:
                    entry["lambdaARN"] = lambda_arn
            lines.append(json.dumps(entry))
        with self._lock:
            state.counts["failed"] += len(records)
        if not lines:
            return
        oldest = min(r.arrival for r in records)
        template = config.get("ErrorOutputPrefix")
        if template:
            key = object_key(template, state.name, stream.version_id, oldest, error_type=kind)
        else:
            key = object_key(
                (config.get("Prefix") or "") if "!{" not in (config.get("Prefix") or "") else "",
                state.name,
                stream.version_id,
                oldest,
                error_type=kind,
                default_error=True,
            )
        try:
            self._put_object(state, config, key, ("\n".join(lines) + "\n").encode())
        except Exception as exc:
            self.em.note(f"could not deliver Firehose {state.name} error records: {exc}")

    # ---- Parquet ------------------------------------------------------------------------------
    def _to_parquet(
        self, conversion: dict[str, Any], records: list[_Record], region: str
    ) -> tuple[bytes, list[tuple[_Record, str]]]:
        import duckdb

        schema = conversion["SchemaConfiguration"]
        columns = glue_columns(schema, self.em.account_id, region)
        rows, bad = [], []
        for record in records:
            try:
                rows.append(_row(record.data, columns))
            except ValueError as exc:
                bad.append((record, str(exc)))
        serde = (conversion.get("OutputFormatConfiguration") or {}).get("Serializer") or {}
        parquet = serde.get("ParquetSerDe") or {}
        compression = (parquet.get("Compression") or "SNAPPY").lower()
        if compression not in ("snappy", "gzip", "uncompressed"):
            compression = "snappy"
        con = duckdb.connect()
        try:
            ddl = ", ".join(f'"{name}" {duck_type(kind)}' for name, kind in columns)
            con.execute(f"CREATE TABLE t ({ddl})")
            if rows:
                # one list per column, unnested side by side: a row at a time (executemany)
                # is some twenty times slower
                lists = ", ".join(f"unnest(?::{duck_type(kind)}[])" for _, kind in columns)
                by_column = [list(values) for values in zip(*rows, strict=True)]
                con.execute(f"INSERT INTO t SELECT {lists}", by_column)
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "out.parquet")
                con.execute(f"COPY t TO '{path}' (FORMAT parquet, COMPRESSION {compression})")
                with open(path, "rb") as fh:
                    return fh.read(), bad
        finally:
            con.close()


# ---- configuration helpers ------------------------------------------------------------------
def _destination(stream: Any) -> dict[str, Any] | None:
    """The S3 destination configuration moto keeps, or None for other destinations."""
    for destination in stream.destinations:
        if "ExtendedS3" in destination:
            return destination["ExtendedS3"]
        if "S3" in destination:
            return destination["S3"]
    return None


def _hints(config: dict[str, Any]) -> tuple[float, float]:
    hints = config.get("BufferingHints") or {}
    return (
        float(hints.get("SizeInMBs") or DEFAULT_SIZE_MB),
        float(hints.get("IntervalInSeconds", DEFAULT_INTERVAL_S)),
    )


def _processors(config: dict[str, Any]) -> list[dict[str, Any]]:
    processing = config.get("ProcessingConfiguration") or {}
    if not processing.get("Enabled", False):
        return []
    return list(processing.get("Processors") or [])


def _processor_parameter(config: dict[str, Any], kind: str, name: str | None) -> str | None:
    """A processor's parameter value; with name None, '' if the processor is there at all."""
    for processor in _processors(config):
        if processor.get("Type") != kind:
            continue
        if name is None:
            return ""
        for parameter in processor.get("Parameters") or []:
            if parameter.get("ParameterName") == name:
                return str(parameter.get("ParameterValue"))
    return None


def _lambda_processor(config: dict[str, Any]) -> tuple[str, float, float, int] | None:
    """(function ARN, buffer MiB, buffer seconds, retries) of the Lambda processor, if any."""
    arn = _processor_parameter(config, "Lambda", "LambdaArn")
    if not arn:
        return None
    size = _processor_parameter(config, "Lambda", "BufferSizeInMBs")
    interval = _processor_parameter(config, "Lambda", "BufferIntervalInSeconds")
    retries = _processor_parameter(config, "Lambda", "NumberOfRetries")
    return (
        arn,
        float(size) if size else LAMBDA_DEFAULT_SIZE_MB,
        float(interval) if interval else float(LAMBDA_DEFAULT_INTERVAL_S),
        int(retries) if retries else LAMBDA_DEFAULT_RETRIES,
    )


def _due(buffer: _Buffer, size_mb: float, interval: float, now: float) -> float:
    """When a buffer must be delivered: now when full, else its oldest record + interval."""
    if buffer.retry_at is not None:
        return buffer.retry_at
    if buffer.size >= size_mb * MIB:
        return now
    return buffer.opened() + interval


def _take(buffer: _Buffer, limit: float) -> _Buffer:
    """Take records from the front of `buffer` up to `limit` bytes (at least one)."""
    cut, size = 0, 0
    for record in buffer.records:
        if cut and size + len(record.data) > limit:
            break
        cut, size = cut + 1, size + len(record.data)
    out = _Buffer(buffer.records[:cut], size, retry_delay=buffer.retry_delay)
    del buffer.records[:cut]
    buffer.size -= size
    buffer.oldest = None
    buffer.retry_at = None
    return out


def _iso(ts: float) -> str:
    return (
        dt.datetime.fromtimestamp(ts, tz=dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        + "Z"
    )


# ---- keys ----------------------------------------------------------------------------------------
_EXPRESSION = re.compile(r"!\{([A-Za-z]+):([^}]*)\}")
_JAVA = {
    "yyyy": "%Y",
    "uuuu": "%Y",
    "yy": "%y",
    "MM": "%m",
    "dd": "%d",
    "HH": "%H",
    "mm": "%M",
    "ss": "%S",
    "SSS": "{ms}",
    "D": "%j",
    "DDD": "%j",
    "EEE": "%a",
    "MMM": "%b",
}


def _java_format(pattern: str) -> str:
    """A Java DateTimeFormatter pattern as a strftime format (the common letters)."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "'":
            end = pattern.find("'", i + 1)
            if end == -1:
                raise ValueError(f"unterminated quote in {pattern!r}")
            out.append("'" if end == i + 1 else pattern[i + 1 : end].replace("%", "%%"))
            i = end + 1
        elif ch.isalpha():
            j = i
            while j < len(pattern) and pattern[j] == ch:
                j += 1
            token = pattern[i:j]
            if token not in _JAVA:
                raise ValueError(f"unsupported pattern letters {token!r} in {pattern!r}")
            out.append(_JAVA[token])
            i = j
        else:
            out.append("%%" if ch == "%" else ch)
            i += 1
    return "".join(out)


def _random_string() -> str:
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(11))


def object_key(
    template: str,
    stream_name: str,
    version: str,
    oldest: float,
    *,
    keys: dict[str, str] | None = None,
    error_type: str | None = None,
    extension: str = "",
    default_error: bool = False,
) -> str:
    """The S3 key Firehose writes: evaluated prefix, then `<stream>-<version>-<time>-<uuid>`."""
    when = dt.datetime.fromtimestamp(oldest, tz=dt.timezone.utc)
    if default_error:
        prefix = f"{template}{error_type}/{when:%Y/%m/%d/%H/}"
    elif "!{" not in template:
        prefix = f"{template}{when:%Y/%m/%d/%H/}"
    else:

        def evaluate(match: re.Match[str]) -> str:
            namespace, value = match.group(1), match.group(2)
            if namespace == "timestamp":
                ms = f"{when.microsecond // 1000:03d}"
                return when.strftime(_java_format(value)).replace("{ms}", ms)
            if namespace == "firehose":
                return _random_string() if value == "random-string" else (error_type or "")
            if namespace in ("partitionKeyFromQuery", "partitionKeyFromLambda"):
                return (keys or {}).get(value, "")
            return match.group(0)

        prefix = _EXPRESSION.sub(evaluate, template)
    name = f"{stream_name}-{version}-{when:%Y-%m-%d-%H-%M-%S}-{uuid.uuid4()}{extension}"
    return prefix + name


# ---- dynamic partitioning: a JQ subset -----------------------------------------------------------
_JQ_OBJECT = re.compile(r"^\s*\{(.*)\}\s*$", re.S)
_JQ_PAIR = re.compile(r"^\s*\"?([A-Za-z_][\w-]*)\"?\s*:\s*(\.[\w.\[\]\"]*)\s*$")


def _jq_keys(query: str, data: bytes) -> dict[str, str]:
    """Evaluate `{key: .path.to.field, ...}` against a JSON record; ValueError if it cannot."""
    match = _JQ_OBJECT.match(query)
    if not match:
        raise ValueError(f"unsupported MetadataExtractionQuery {query!r}: use {{key: .field}}")
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise ValueError(f"the record is not valid JSON: {exc}") from exc
    out = {}
    for pair in filter(None, (p.strip() for p in match.group(1).split(","))):
        parsed = _JQ_PAIR.match(pair)
        if not parsed:
            raise ValueError(f"unsupported MetadataExtractionQuery part {pair!r}")
        name, path = parsed.groups()
        value: Any = doc
        for part in filter(None, path.lstrip(".").split(".")):
            value = value.get(part) if isinstance(value, dict) else None
        if value is None or isinstance(value, (dict, list)):
            raise ValueError(f"partition key {name!r} ({path}) not found in the record")
        out[name] = str(value).lower() if isinstance(value, bool) else str(value)
    return out


# ---- Glue schema and Parquet ---------------------------------------------------------------------
def glue_columns(schema: dict[str, Any], account: str, region: str) -> list[tuple[str, str]]:
    """(name, Hive type) of the Glue table a SchemaConfiguration names."""
    from moto.glue.models import glue_backends

    region = schema.get("Region") or region
    catalog = schema.get("CatalogId") or account
    table = glue_backends[catalog][region].get_table(schema["DatabaseName"], schema["TableName"])
    columns = table.as_dict()["StorageDescriptor"].get("Columns") or []
    return [(c["Name"], c["Type"].strip().lower()) for c in columns]


_DUCK = {
    "string": "VARCHAR",
    "varchar": "VARCHAR",
    "char": "VARCHAR",
    "int": "INTEGER",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "smallint": "SMALLINT",
    "tinyint": "TINYINT",
    "double": "DOUBLE",
    "float": "FLOAT",
    "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
    "binary": "BLOB",
}


def duck_type(hive: str) -> str:
    """The DuckDB type for a Hive (Glue) column type."""
    base = hive.split("(", 1)[0]
    if base in ("varchar", "char"):
        return "VARCHAR"
    if base == "decimal":
        return hive.upper()
    if hive.startswith("array<") and hive.endswith(">"):
        return duck_type(hive[6:-1]) + "[]"
    if base in _DUCK:
        return _DUCK[base]
    return "VARCHAR"  # struct and map: kept as JSON text


_INT_RANGES = {
    "tinyint": 2**7,
    "smallint": 2**15,
    "int": 2**31,
    "integer": 2**31,
    "bigint": 2**63,
}


def _row(data: bytes, columns: list[tuple[str, str]]) -> list[Any]:
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise ValueError(f"The record is not valid JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise ValueError("The record is not a JSON object")
    lowered = {str(k).lower(): v for k, v in doc.items()}
    return [_convert(lowered.get(name.lower()), kind, name) for name, kind in columns]


def _convert(value: Any, kind: str, column: str) -> Any:
    if value is None:
        return None
    base = kind.split("(", 1)[0]

    def bad() -> ValueError:
        return ValueError(f"Cannot convert {value!r} to {kind} for column {column!r}")

    if base in ("string", "varchar", "char"):
        if isinstance(value, (dict, list)):
            return json.dumps(value)
        return str(value).lower() if isinstance(value, bool) else str(value)
    if base in _INT_RANGES:
        if isinstance(value, bool):
            raise bad()
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise bad() from None
        if number != number.to_integral_value():
            raise bad()
        limit = _INT_RANGES[base]
        if not -limit <= int(number) < limit:
            raise bad()
        return int(number)
    if base in ("double", "float", "decimal"):
        if isinstance(value, bool):
            raise bad()
        try:
            return float(value) if base != "decimal" else Decimal(str(value))
        except (ValueError, InvalidOperation):
            raise bad() from None
    if base == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise bad()
    if base == "timestamp":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            seconds = value / 1000 if value > 1e11 else value
            return dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc).replace(tzinfo=None)
        if isinstance(value, str):
            try:
                parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise bad() from None
            if parsed.tzinfo is not None:
                parsed = parsed.astimezone(dt.timezone.utc).replace(tzinfo=None)
            return parsed
        raise bad()
    if base == "date":
        try:
            return dt.date.fromisoformat(str(value)[:10])
        except ValueError:
            raise bad() from None
    if kind.startswith("array<") and kind.endswith(">"):
        if not isinstance(value, list):
            raise bad()
        return [_convert(v, kind[6:-1], column) for v in value]
    if base == "binary":
        return str(value).encode()
    return json.dumps(value)  # struct, map: JSON text
