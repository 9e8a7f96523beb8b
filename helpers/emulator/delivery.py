"""What the Lambda service does between an event source and a function, offline.

- Asynchronous invocations (`InvocationType=Event`, S3, SNS): queued, run, retried twice with
  AWS's back-off (1 then 2 minutes of lab time), then sent to the on-failure destination or the
  dead-letter queue.
- SQS event source mappings: a poller receives up to `BatchSize` messages, invokes, deletes what
  succeeded (honouring `ReportBatchItemFailures`), and leaves failures to come back after the
  queue's visibility timeout, until the queue's redrive policy moves them to its DLQ.
- DynamoDB Streams and Kinesis mappings: per shard, in order, batches of up to `BatchSize`;
  a failed batch is retried (up to `MaximumRetryAttempts`) and blocks its shard meanwhile.

Everything runs on one background thread, in lab time: `settle()` waits until nothing can run
now, then jumps the lab clock to the next scheduled retry or visibility timeout. Other emulator
pieces schedule their own lab-time work (replication, status changes) through `add_work()`.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import itertools
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

from .lambda_runtime import INIT_TIMEOUT_S, Invocation, iso_time

ASYNC_RETRY_DELAYS_S = (60.0, 120.0)  # AWS: two retries, about 1 and 2 minutes apart
ASYNC_MAX_EVENT_AGE_S = 6 * 3600
STREAM_RETRY_DELAY_S = 1.0


@dataclass(order=True)
class _AsyncItem:
    due: float
    seq: int
    function_arn: str = field(compare=False)
    qualifier: str | None = field(compare=False)
    payload: bytes = field(compare=False)
    request_id: str = field(compare=False)
    first_seen: float = field(compare=False)
    attempts: int = field(compare=False, default=0)


class PendingWork(Protocol):
    """Lab-time work an emulator piece schedules; Delivery runs it and settle() waits for it."""

    def next_due(self) -> float | None:
        """The lab time of the earliest pending step, or None when nothing is pending."""
        ...

    def run_due(self, now: float) -> bool:
        """Run every step due by `now`; True when something ran."""
        ...

    def describe_pending(self) -> list[str]:
        """What is still waiting, one phrase each, for the settle report."""
        ...


@dataclass
class SettleReport:
    """What a settle() ran, and what is still waiting."""

    invocations: int = 0
    failed: int = 0
    advanced_s: float = 0.0
    pending: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        text = f"settled: {self.invocations} invocation(s), {self.failed} failed"
        if self.advanced_s:
            text += f", lab clock advanced {self.advanced_s:.0f} s"
        if self.pending:
            text += "; still waiting: " + "; ".join(self.pending)
        return text


class Delivery:
    """Background delivery of asynchronous invocations and event source mappings."""

    def __init__(self, emulator: Any):
        self.em = emulator
        self._async: list[_AsyncItem] = []
        self._seq = itertools.count()
        self._lock = threading.RLock()
        self._wake = threading.Condition(self._lock)
        self._busy = False
        self._stop = False
        self._positions: dict[tuple[str, str], int] = {}  # (esm uuid, shard) -> next index
        self._stream_retry: dict[tuple[str, str], tuple[float, int]] = {}  # -> (due, attempts)
        self._running_timeout_s: float | None = None  # the function timeout of what runs now
        self.ran = 0
        self.failed = 0
        self._works: list[PendingWork] = []
        self._thread = threading.Thread(target=self._run, name="labbook-delivery", daemon=True)
        self._thread.start()

    # ---- producers --------------------------------------------------------------------------
    def enqueue_async(self, function_arn: str, qualifier: str | None, payload: bytes) -> str:
        """Queue an asynchronous invocation; returns its request id."""
        request_id = str(uuid.uuid4())
        now = self.em.clock.now()
        with self._lock:
            heapq.heappush(
                self._async,
                _AsyncItem(now, next(self._seq), function_arn, qualifier, payload, request_id, now),
            )
            self._wake.notify_all()
        return request_id

    def add_work(self, work: PendingWork) -> None:
        """Run `work` on the delivery thread when due, and make settle() wait for it."""
        with self._lock:
            if work not in self._works:
                self._works.append(work)
            self._wake.notify_all()

    def notify(self) -> None:
        """Something changed (a message, a record, the clock): look again."""
        with self._lock:
            self._wake.notify_all()

    # ---- the loop ---------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._lock:
                if self._stop:
                    return
                self._busy = True
            try:
                worked = self._step()
            except Exception as exc:  # keep delivering; a bug here must not stop the lab
                self.em.note(f"delivery error: {exc!r}")
                worked = False
            with self._lock:
                self._busy = False
                if not worked and not self._stop:
                    self._wake.notify_all()
                    self._wake.wait(0.05)

    def _step(self) -> bool:
        """Run everything due now; True when something ran."""
        worked = False
        now = self.em.clock.now()
        while True:
            with self._lock:
                if self._stop or not self._async or self._async[0].due > now:
                    break
                item = heapq.heappop(self._async)
            try:
                self._run_async(item)
            except Exception as exc:  # one broken event must not stop the others
                self.em.note(
                    f"delivery error in asynchronous invocation of {item.function_arn}: {exc!r}"
                )
            worked = True
        for work in self._pending_works():
            try:
                worked |= work.run_due(now)
            except Exception as exc:  # one broken piece must not stop the others
                self.em.note(f"delivery error in {type(work).__name__}: {exc!r}")
        for esm in self.em.event_source_mappings():
            if self._stop:
                break
            if not esm.enabled:
                continue
            source = esm.event_source_arn.split(":")[2]
            try:
                if source == "sqs":
                    worked |= self._poll_sqs(esm)
                elif source in ("dynamodb", "kinesis"):
                    worked |= self._poll_stream(esm, source)
            except Exception as exc:  # one broken mapping must not stop the others
                self.em.note(
                    f"delivery error in mapping {esm.uuid} ({esm.event_source_arn}): {exc!r}"
                )
        return worked

    # ---- asynchronous invocations -----------------------------------------------------------
    def _run_async(self, item: _AsyncItem) -> None:
        fn = self.em.find_function(item.function_arn, item.qualifier)
        if fn is None:
            return  # the function was deleted meanwhile; AWS drops the event too
        item.attempts += 1
        outcome = self._invoke(fn, item.payload, request_id=item.request_id)
        if outcome is None:
            return
        config = self.em.event_invoke_config(fn)
        max_retries = int(config.get("MaximumRetryAttempts", 2))
        max_age = int(config.get("MaximumEventAgeInSeconds", ASYNC_MAX_EVENT_AGE_S))
        destinations = config.get("DestinationConfig") or {}
        if not outcome.failed:
            target = (destinations.get("OnSuccess") or {}).get("Destination")
            if target:
                self._send(target, self._record(fn, item, outcome, "Success"))
            return
        retry_no = item.attempts - 1
        now = self.em.clock.now()
        if retry_no < max_retries and retry_no < len(ASYNC_RETRY_DELAYS_S):
            due = now + ASYNC_RETRY_DELAYS_S[retry_no]
            if due - item.first_seen <= max_age:
                item.due = due
                with self._lock:
                    heapq.heappush(self._async, item)
                return
        condition = "RetriesExhausted" if retry_no >= max_retries else "EventAgeExceeded"
        target = (destinations.get("OnFailure") or {}).get("Destination")
        if target:
            self._send(target, self._record(fn, item, outcome, condition))
        dlq = (getattr(fn, "dead_letter_config", None) or {}).get("TargetArn")
        if dlq:
            body = item.payload.decode("utf-8", "replace")
            try:
                message = json.loads(outcome.payload).get("errorMessage", "")
            except (ValueError, AttributeError):
                message = ""
            attributes = {
                "RequestID": item.request_id,
                "ErrorCode": "200",
                "ErrorMessage": str(message)[:1024],  # AWS: the first 1 KB
            }
            self._send(dlq, body, attributes=attributes)

    def _record(self, fn: Any, item: _AsyncItem, outcome: Invocation, condition: str) -> str:
        """AWS's invocation record for destinations."""
        try:
            request_payload = json.loads(item.payload)
        except ValueError:
            request_payload = item.payload.decode("utf-8", "replace")
        try:
            response_payload = outcome.json()
        except ValueError:
            response_payload = outcome.payload.decode("utf-8", "replace")
        response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": fn.version}
        if outcome.failed:
            response_context["functionError"] = "Unhandled"
        record = {
            "version": "1.0",
            "timestamp": iso_time(self.em.clock.now()),
            "requestContext": {
                "requestId": item.request_id,
                "functionArn": f"{fn.function_arn}:{item.qualifier or '$LATEST'}",
                "condition": condition,
                "approximateInvokeCount": item.attempts,
            },
            "requestPayload": request_payload,
            "responseContext": response_context,
            "responsePayload": response_payload,
        }
        return json.dumps(record)

    # ---- SQS --------------------------------------------------------------------------------
    def _poll_sqs(self, esm: Any) -> bool:
        queue = self.em.sqs_queue(esm.event_source_arn)
        if queue is None:
            return False
        # a mapping whose function was deleted polls nothing: receiving would count receives
        fn = self.em.find_function(esm.function_arn, None)
        if fn is None:
            return False
        batch_size = int(esm.batch_size or 10)
        backend = self.em.sqs_backend(esm.event_source_arn)
        # received messages stay invisible for the queue's visibility timeout, as for any consumer
        visibility = int(queue.visibility_timeout or 30)
        messages = backend.receive_message(
            queue.name, min(batch_size, 10), 0, visibility, message_attribute_names=["All"]
        )
        while len(messages) < batch_size:  # a batch may exceed the 10 of one ReceiveMessage
            more = backend.receive_message(
                queue.name,
                min(batch_size - len(messages), 10),
                0,
                visibility,
                message_attribute_names=["All"],
            )
            if not more:
                break
            messages.extend(more)
        if not messages:
            return False
        records = [self._sqs_record(m, esm.event_source_arn) for m in messages]
        outcome = self._invoke(fn, json.dumps({"Records": records}).encode())
        if outcome is None:
            return False  # stopping: the messages come back after their visibility timeout
        failed_ids: set[str]
        if outcome.failed:
            failed_ids = {m.id for m in messages}
        elif "ReportBatchItemFailures" in (esm.function_response_types or []):
            failed_ids = _batch_item_failures(outcome, [m.id for m in messages], "itemIdentifier")
        else:
            failed_ids = set()
        for message in messages:
            if message.id not in failed_ids:
                backend.delete_message(queue.name, message.receipt_handle)
        return True

    def _sqs_record(self, message: Any, queue_arn: str) -> dict[str, Any]:
        attributes = {
            "ApproximateReceiveCount": str(message.approximate_receive_count),
            "SentTimestamp": str(message.sent_timestamp),
            "SenderId": message.sender_id or "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": str(message.approximate_first_receive_timestamp),
        }
        if queue_arn.endswith(".fifo"):
            attributes["MessageGroupId"] = message.group_id
            attributes["MessageDeduplicationId"] = message.deduplication_id
            attributes["SequenceNumber"] = str(getattr(message, "sequence_number", "") or "")
        attrs = {}
        for name, value in (message.message_attributes or {}).items():  # moto keeps API form
            entry = {"stringListValues": [], "binaryListValues": [], "dataType": value["DataType"]}
            if "StringValue" in value:
                entry["stringValue"] = value["StringValue"]
            if "BinaryValue" in value:
                entry["binaryValue"] = b64(value["BinaryValue"])
            attrs[name] = entry
        return {
            "messageId": message.id,
            "receiptHandle": message.receipt_handle,
            "body": message.body,
            "attributes": attributes,
            "messageAttributes": attrs,
            "md5OfBody": hashlib.md5(message.body.encode()).hexdigest(),  # noqa: S324 (AWS's field)
            "eventSource": "aws:sqs",
            "eventSourceARN": queue_arn,
            "awsRegion": queue_arn.split(":")[3],
        }

    # ---- DynamoDB Streams and Kinesis -------------------------------------------------------
    def _poll_stream(self, esm: Any, source: str) -> bool:
        worked = False
        for shard_id, records in self.em.stream_shards(esm.event_source_arn, source):
            key = (esm.uuid, shard_id)
            if key not in self._positions:
                start = (
                    0
                    if (esm.starting_position or "TRIM_HORIZON") == "TRIM_HORIZON"
                    else len(records)
                )
                self._checkpoint(key, start)
            position = self._positions[key]
            if position >= len(records):
                continue
            retry = self._stream_retry.get(key)
            if retry and retry[0] > self.em.clock.now():
                continue
            fn = self.em.find_function(esm.function_arn, None)
            if fn is None:
                continue
            batch = records[position : position + int(esm.batch_size or 100)]
            event = self.em.stream_event(esm, source, shard_id, batch)
            outcome = self._invoke(fn, json.dumps(event).encode())
            if outcome is None:
                break  # stopping
            worked = True
            ids = [self.em.sequence_number(source, r) for r in batch]
            first_failed: int | None = None
            if outcome.failed:
                first_failed = 0
            elif "ReportBatchItemFailures" in (esm.function_response_types or []):
                failed = _batch_item_failures(outcome, ids, "itemIdentifier")
                if failed:
                    first_failed = min(ids.index(f) for f in failed)
            if first_failed is None:
                self._checkpoint(key, position + len(batch))
                continue
            attempts = (retry[1] if retry else 0) + 1
            max_retries = esm.max_retry_attempts
            if max_retries is None or int(max_retries) < 0 or attempts <= int(max_retries):
                # checkpoint: records before the first failure are done; retry from it
                delay = min(STREAM_RETRY_DELAY_S * 2 ** (attempts - 1), 60.0)
                self._checkpoint(
                    key, position + first_failed, retry=(self.em.clock.now() + delay, attempts)
                )
                continue
            target = ((esm.destination_config or {}).get("OnFailure") or {}).get("Destination")
            if target:
                failure = self.em.stream_failure(esm, shard_id, batch[first_failed:], attempts)
                self._send(target, json.dumps(failure))
            self._checkpoint(key, position + len(batch))
        return worked

    def _checkpoint(
        self, key: tuple[str, str], position: int, retry: tuple[float, int] | None = None
    ) -> None:
        """Move a shard's position; with `retry`, (due, attempts) of its failed batch."""
        with self._lock:
            self._positions[key] = position
            if retry is None:
                self._stream_retry.pop(key, None)
            else:
                self._stream_retry[key] = retry

    # ---- invoking and sending ---------------------------------------------------------------
    def _invoke(
        self, fn: Any, payload: bytes, *, request_id: str | None = None
    ) -> Invocation | None:
        """Run one invocation; None once stopping (nothing more starts then)."""
        with self._lock:
            if self._stop:
                return None
            self._running_timeout_s = float(getattr(fn, "timeout", None) or 3)
        try:
            outcome = self.em.run(fn, payload, request_id=request_id)
        finally:
            with self._lock:
                self._running_timeout_s = None
        self._count(outcome)
        return outcome

    def _send(self, target: str, body: str, *, attributes: dict[str, str] | None = None) -> None:
        """A destination or dead-letter record; after stop() nothing is sent."""
        if self._stop:
            return
        self.em.send_to(target, body, attributes=attributes)

    # ---- settle -----------------------------------------------------------------------------
    def next_due(self) -> float | None:
        """The earliest lab time at which something scheduled becomes runnable."""
        with self._lock:
            dues = [due for due, _ in self._stream_retry.values()]
            if self._async:
                dues.append(self._async[0].due)
        dues.extend(self.em.sqs_next_visible())
        dues.extend(d for d in (w.next_due() for w in self._pending_works()) if d is not None)
        return min(dues) if dues else None

    def idle(self) -> bool:
        with self._lock:
            if self._busy:
                return False
            if self._async and self._async[0].due <= self.em.clock.now():
                return False
            works = list(self._works)
            positions, retries = dict(self._positions), dict(self._stream_retry)
        now = self.em.clock.now()
        if any((due := w.next_due()) is not None and due <= now for w in works):
            return False
        return not self.em.runnable_sources(positions, retries)

    def _pending_works(self) -> list[PendingWork]:
        with self._lock:
            return list(self._works)

    def settle(self, *, timeout: float, max_advance_s: float) -> SettleReport:
        """Run deliveries until quiet, advancing the lab clock over waits up to max_advance_s."""
        report = SettleReport()
        ran0, failed0 = self.ran, self.failed
        start_clock = self.em.clock.now()
        deadline = time.monotonic() + timeout
        while True:
            self.notify()
            if not self._wait_idle(deadline):
                report.pending.append("deliveries still running at the timeout")
                break
            due = self.next_due()
            if due is None:
                break
            if due - start_clock > max_advance_s:
                break
            now = self.em.clock.now()
            if due > now:
                self.em.clock.advance(due - now)
        report.invocations = self.ran - ran0
        report.failed = self.failed - failed0
        report.advanced_s = self.em.clock.now() - start_clock
        with self._lock:
            waiting, retries = list(self._async), dict(self._stream_retry)
        report.pending.extend(self.em.describe_pending(waiting, retries))
        for work in self._pending_works():
            report.pending.extend(work.describe_pending())
        return report

    def _wait_idle(self, deadline: float) -> bool:
        quiet_since = None
        while time.monotonic() < deadline:
            if self.idle():
                # idle twice, 20 ms apart: a delivery may just have been queued by a handler
                if quiet_since is not None and time.monotonic() - quiet_since > 0.02:
                    return True
                quiet_since = quiet_since or time.monotonic()
            else:
                quiet_since = None
            time.sleep(0.005)
        return False

    def request_stop(self) -> None:
        """Start nothing more and send nothing more; what runs now finishes (or is stopped)."""
        with self._lock:
            self._stop = True
            self._wake.notify_all()

    def stop(self) -> None:
        """Stop, and wait for the delivery thread: as long as the running invocation may take."""
        self.request_stop()
        with self._lock:
            running = self._running_timeout_s
        grace = 5.0 if running is None else INIT_TIMEOUT_S + running + 5.0
        self._thread.join(timeout=grace)

    def _count(self, outcome: Invocation) -> None:
        self.ran += 1
        if outcome.failed:
            self.failed += 1


def _batch_item_failures(outcome: Invocation, ids: list[str], key: str) -> set[str]:
    """Ids named in a partial batch response; an invalid response fails the whole batch."""
    try:
        body = outcome.json()
    except ValueError:
        return set(ids)
    if not isinstance(body, dict) or not body.get("batchItemFailures"):
        return set()
    failed = set()
    for entry in body["batchItemFailures"]:
        ident = entry.get(key) if isinstance(entry, dict) else None
        if not ident or (ids and ident not in ids):
            return set(ids)  # AWS treats a malformed response as a complete failure
        failed.add(ident)
    return failed


def b64(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.b64encode(raw).decode()
