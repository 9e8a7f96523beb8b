"""Kinesis Data Streams shard limits in lab time, and the Firehose delivery (see `firehose`).

moto stores every record a producer sends, however fast, and routes records after a reshard to
the closed parent shard. This piece makes a stream's capacity what its shards give on AWS
(https://docs.aws.amazon.com/streams/latest/dev/service-sizes-and-limits.html):

- **Writes**, per shard: 1 MiB/s *or* 1,000 records/s, a record counting its data plus its
  partition key. PutRecord over the limit raises `ProvisionedThroughputExceededException`
  ("Rate exceeded for shard {shard} in stream {stream} under account {account}."); PutRecords
  never raises for it: each record over the limit comes back with that `ErrorCode` and
  `ErrorMessage` instead of `SequenceNumber`/`ShardId`, counted in `FailedRecordCount`
  (https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecordsResultEntry.html),
  and the records that fit are stored.
- **Reads**, per shard: 5 GetRecords calls per second and 2 MiB/s. A call may return more than
  2 MiB (up to AWS's 10 MiB); the calls after it are refused until the shard's read budget has
  refilled, as AWS describes ("subsequent calls made within the next 5 seconds throw
  ProvisionedThroughputExceededException" after a 10 MiB read).
- **Time**: a sliding one-second window of lab time. Advancing the lab clock by a second gives a
  throttled producer its capacity back, as waiting does on AWS.
- **Resharding**: `UpdateShardCount`, `SplitShard` and `MergeShards` close the parents; new
  records go to the open child whose hash key range holds MD5(partition key) (or the explicit
  hash key), as on AWS, so more shards really give more capacity. A closed parent keeps the
  records it had (moto moved or copied them into the children), so consumers read the parent
  first and nothing twice.
- **UpdateShardCount** may at most double or halve the open shards in one call, as AWS's
  documented limits say (moto silently stopped at one doubling): LimitExceededException.
- Record arrival times (`ApproximateArrivalTimestamp`) are lab time.

Simplified: ON_DEMAND streams get moto's 4 shards with the same per-shard limits (AWS starts a
new on-demand stream at 4 MiB/s and scales it up with traffic; the emulator does not scale).
Reads by Lambda event source mappings and by Firehose do not count against the read limit
(on AWS they share it, unless the consumer uses enhanced fan-out). There is no
per-account control-plane throttling, and no limit on how often a stream is rescaled a day.
boto3 retries ProvisionedThroughputExceededException with back-off: a PutRecord caller may see
it succeed after the retries (in lab time as on AWS), not the exception.

moto seams (tests/emulator/test_moto_seams.py): `KinesisBackend.put_record`, `.put_records`,
`.get_records`, `.update_shard_count`, `Stream.get_shard_for_key`, `.split_shard`, `.merge_shards`,
`Shard.get_max_sequence_number` / `.get_min_sequence_number` (moto's are linear in the shard's
length, which made long streams quadratic),
`moto.kinesis.models.utcnow`; read: `Stream.shards`, `Shard.is_open`, `.starting_hash`,
`.ending_hash`, `.records`, `moto.kinesis.utils.decompose_shard_iterator`.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
import threading
from collections import Counter, OrderedDict, deque
from typing import Any

from . import firehose

WRITE_BYTES_PER_S = 1024 * 1024  # per shard
WRITE_RECORDS_PER_S = 1000
READ_BYTES_PER_S = 2 * 1024 * 1024
READ_CALLS_PER_S = 5
WINDOW_S = 1.0

_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")

_installed: ShardLimits | None = None


def install(emulator: Any) -> None:
    """Kinesis shard limits, and Firehose delivery from Direct PUT and Kinesis sources."""
    global _installed
    _installed = ShardLimits(emulator)
    _installed.install()
    firehose.install(emulator)


def throttled(stream_name: str) -> int:
    """How many writes and reads of this stream the shard limits refused so far."""
    if _installed is None:
        return 0
    with _installed._lock:
        return sum(n for (name, _), n in _installed.refused.items() if name == stream_name)


def _throughput_error(shard_id: str, stream_name: str, account: str) -> Exception:
    from moto.core.exceptions import JsonRESTError

    return JsonRESTError(
        "ProvisionedThroughputExceededException",
        f"Rate exceeded for shard {shard_id} in stream {stream_name} under account {account}.",
    )


def _limit_error(message: str) -> Exception:
    from moto.core.exceptions import JsonRESTError

    return JsonRESTError("LimitExceededException", message)


def hash_key(partition_key: str, explicit_hash_key: str | None = None) -> int:
    """The 128-bit hash key AWS routes a record by: the explicit one, else MD5 of the key."""
    if explicit_hash_key:
        return int(explicit_hash_key)
    return _md5_key(partition_key)


@functools.lru_cache(maxsize=65536)
def _md5_key(partition_key: str) -> int:
    """MD5 of a partition key as an integer (a fleet reuses its keys: each is hashed once)."""
    return int(hashlib.md5(partition_key.encode("utf-8")).hexdigest(), 16)  # noqa: S324 (AWS's)


class ShardLimits:
    """Per-shard write and read budgets over a sliding second of lab time."""

    def __init__(self, emulator: Any):
        self.em = emulator
        self._lock = threading.Lock()
        self._writes: dict[tuple[str, str], deque[tuple[float, int]]] = {}  # -> (t, bytes)
        self._written: dict[tuple[str, str], int] = {}  # bytes in each write window
        self._calls: dict[tuple[str, str], deque[float]] = {}
        self._reads: dict[tuple[str, str], tuple[float, float]] = {}  # -> (t, budget bytes)
        self.refused: Counter[tuple[str, str]] = Counter()  # (stream, "write"|"read")

    def install(self) -> None:
        from moto.kinesis import models as kinesis_models

        patch = self.em._patch
        limits = self
        backend_cls = kinesis_models.KinesisBackend
        original_put_record = backend_cls.put_record

        def put_record(
            backend: Any,
            stream_arn: str,
            stream_name: str,
            partition_key: str,
            explicit_hash_key: str,
            data: str,
        ) -> Any:
            stream = backend.describe_stream(stream_arn=stream_arn, stream_name=stream_name)
            shard = stream.get_shard_for_key(partition_key, explicit_hash_key)
            if shard is not None:
                size = _record_size(data, partition_key)
                if not limits.admit_write(stream, shard.shard_id, [size]):
                    raise _throughput_error(shard.shard_id, stream.stream_name, backend.account_id)
            return original_put_record(
                backend, stream_arn, stream_name, partition_key, explicit_hash_key, data
            )

        patch(backend_cls, "put_record", put_record)

        def put_records(
            backend: Any, stream_arn: str, stream_name: str, records: list[dict[str, Any]]
        ) -> dict[str, Any]:
            return limits._put_records(backend, stream_arn, stream_name, records)

        patch(backend_cls, "put_records", put_records)
        original_get_records = backend_cls.get_records

        def get_records(
            backend: Any, stream_arn: str | None, shard_iterator: str, limit: int | None
        ) -> Any:
            from moto.kinesis.utils import decompose_shard_iterator

            stream_name, shard_id, _ = decompose_shard_iterator(shard_iterator)
            stream = backend.describe_stream(stream_arn=stream_arn, stream_name=stream_name)
            if not limits.admit_read_call(stream, shard_id):
                raise _throughput_error(shard_id, stream.stream_name, backend.account_id)
            result = original_get_records(backend, stream_arn, shard_iterator, limit)
            read = sum(_record_size(r.data, "") for r in result[1])
            limits.spend_read(stream, shard_id, read)
            return result

        patch(backend_cls, "get_records", get_records)

        original_update = backend_cls.update_shard_count

        def update_shard_count(
            backend: Any, stream_arn: str, stream_name: str, target_shard_count: int
        ) -> int:
            stream = backend.describe_stream(stream_arn=stream_arn, stream_name=stream_name)
            current = len([s for s in stream.shards.values() if s.is_open])
            target = int(target_shard_count)
            if stream.stream_mode.get("StreamMode") != "ON_DEMAND" and (
                target > 2 * current or 2 * target < current
            ):
                raise _limit_error(
                    f"UpdateShardCount cannot scale stream {stream.stream_name} under account "
                    f"{backend.account_id} from {current} to {target} shards: a single call may "
                    f"at most double the open shard count or halve it (here {-(-current // 2)} "
                    f"to {2 * current})."
                )
            return original_update(backend, stream_arn, stream_name, target_shard_count)

        patch(backend_cls, "update_shard_count", update_shard_count)
        stream_cls = kinesis_models.Stream
        original_for_key = stream_cls.get_shard_for_key

        def get_shard_for_key(stream: Any, partition_key: str, explicit_hash_key: str) -> Any:
            if explicit_hash_key or not isinstance(partition_key, str) or len(partition_key) > 256:
                # moto's argument checks and errors (a valid key alone needs none: moto would
                # only hash it again)
                original_for_key(stream, partition_key, explicit_hash_key)
            key = hash_key(partition_key, explicit_hash_key)
            for shard in stream.shards.values():
                if shard.is_open and shard.starting_hash <= key <= shard.ending_hash:
                    return shard
            return None

        patch(stream_cls, "get_shard_for_key", get_shard_for_key)
        original_split = stream_cls.split_shard

        def split_shard(stream: Any, shard_to_split: str, new_starting_hash_key: str) -> None:
            parent = stream.shards.get(shard_to_split)
            kept = parent.records if parent is not None else None
            if parent is not None and parent.is_open:
                parent.records = OrderedDict()  # moto re-puts them into the children
            try:
                original_split(stream, shard_to_split, new_starting_hash_key)
            finally:
                if parent is not None:
                    parent.records = kept

        patch(stream_cls, "split_shard", split_shard)
        original_merge = stream_cls.merge_shards

        def merge_shards(stream: Any, shard_to_merge: str, adjacent_shard_to_merge: str) -> None:
            before = set(stream.shards)
            original_merge(stream, shard_to_merge, adjacent_shard_to_merge)
            for shard_id in set(stream.shards) - before:  # moto copied the parents' records
                stream.shards[shard_id].records = OrderedDict()

        patch(stream_cls, "merge_shards", merge_shards)
        # moto copies every sequence number of a shard to find the last one, on every put:
        # quadratic in the stream's length (OrderedDict gives the ends directly)
        shard_cls = kinesis_models.Shard
        patch(shard_cls, "get_max_sequence_number", lambda shard: next(reversed(shard.records), 0))
        patch(shard_cls, "get_min_sequence_number", lambda shard: next(iter(shard.records), 0))
        # arrival times in lab time (moto's Record and Stream read this module's utcnow)
        patch(kinesis_models, "utcnow", lambda: self.em.clock.datetime().replace(tzinfo=None))

    # ---- budgets ------------------------------------------------------------------------------
    def admit_write(self, stream: Any, shard_id: str, sizes: list[int]) -> bool:
        """Take `sizes` from the shard's write budget now; False (nothing taken) if over it."""
        now = self.em.clock.now()
        with self._lock:
            key = (stream.arn, shard_id)
            window = self._writes.setdefault(key, deque())
            used = self._written.get(key, 0)
            while window and window[0][0] <= now - WINDOW_S:
                used -= window.popleft()[1]
            self._written[key] = used
            if (
                len(window) + len(sizes) > WRITE_RECORDS_PER_S
                or used + sum(sizes) > WRITE_BYTES_PER_S
            ):
                self.refused[(stream.stream_name, "write")] += 1
                return False
            window.extend((now, size) for size in sizes)
            self._written[key] = used + sum(sizes)
            return True

    def admit_read_call(self, stream: Any, shard_id: str) -> bool:
        now = self.em.clock.now()
        key = (stream.arn, shard_id)
        with self._lock:
            calls = self._calls.setdefault(key, deque())
            while calls and calls[0] <= now - WINDOW_S:
                calls.popleft()
            if len(calls) >= READ_CALLS_PER_S or self._read_budget(key, now) < 0:
                self.refused[(stream.stream_name, "read")] += 1
                return False
            calls.append(now)
            return True

    def spend_read(self, stream: Any, shard_id: str, size: int) -> None:
        now = self.em.clock.now()
        key = (stream.arn, shard_id)
        with self._lock:
            self._reads[key] = (now, self._read_budget(key, now) - size)

    def _read_budget(self, key: tuple[str, str], now: float) -> float:
        """Bytes the shard may still serve: refills at 2 MiB/s, up to one second's worth."""
        when, budget = self._reads.get(key, (now, float(READ_BYTES_PER_S)))
        return min(float(READ_BYTES_PER_S), budget + (now - when) * READ_BYTES_PER_S)

    # ---- PutRecords ---------------------------------------------------------------------------
    def _put_records(
        self, backend: Any, stream_arn: str, stream_name: str, records: list[dict[str, Any]]
    ) -> dict[str, Any]:
        from moto.kinesis.exceptions import (
            RecordSizeExceedsLimit,
            TooManyRecords,
            TotalRecordsSizeExceedsLimit,
        )

        stream = backend.describe_stream(stream_arn=stream_arn, stream_name=stream_name)
        if len(records) > 500:
            raise TooManyRecords
        sizes = [_record_size(r.get("Data", ""), r.get("PartitionKey", "")) for r in records]
        if sum(sizes) > 5 * 1024 * 1024:
            raise TotalRecordsSizeExceedsLimit
        for index, size in enumerate(sizes):
            if size > 1024 * 1024:
                raise RecordSizeExceedsLimit(position=index + 1)
        entries: list[dict[str, Any]] = []
        failed = stored_bytes = stored = 0
        for record, size in zip(records, sizes, strict=True):
            partition_key = record.get("PartitionKey")
            explicit = record.get("ExplicitHashKey")
            shard = stream.get_shard_for_key(partition_key, explicit)
            if shard is not None and not self.admit_write(stream, shard.shard_id, [size]):
                failed += 1
                entries.append(
                    {
                        "ErrorCode": "ProvisionedThroughputExceededException",
                        "ErrorMessage": (
                            f"Rate exceeded for shard {shard.shard_id} in stream "
                            f"{stream.stream_name} under account {backend.account_id}."
                        ),
                    }
                )
                continue
            sequence_number, shard_id = stream.put_record(
                partition_key, explicit, record.get("Data")
            )
            entries.append({"SequenceNumber": sequence_number, "ShardId": shard_id})
            stored += 1
            stored_bytes += size
        if stored:
            backend._send_stream_metrics(
                stream.stream_name, incoming_bytes=stored_bytes, incoming_records=stored
            )
        return {"FailedRecordCount": failed, "Records": entries}


def _record_size(data: Any, partition_key: str | None) -> int:
    """Bytes a record counts against a shard: its data plus its partition key (UTF-8)."""
    if isinstance(data, str):  # moto keeps records base64-encoded
        if len(data) % 4 == 0 and _BASE64.fullmatch(data):  # its length says it
            raw = len(data) // 4 * 3 - data[-2:].count("=")
        else:
            raw = len(base64.b64decode(data)) if data else 0
    else:
        raw = len(data or b"")
    return raw + len((partition_key or "").encode("utf-8"))
