"""The emulator: gives moto's stored configuration AWS behaviour, offline.

`Emulator.install()` patches a handful of moto's private seams (moto is pinned to a tested minor
in pyproject.toml; tests/emulator/test_moto_seams.py checks each seam still exists):

- `LambdaFunction.invoke`: every direct invoke runs the function's own package in the
  Lambda runtime; `Event` invocations are queued for asynchronous delivery; `lambda_versions`
  makes Invoke run the version a qualifier or an alias (with its weights) names;
- S3 and SNS → Lambda: queued as asynchronous invocations with AWS-shaped events;
- SQS, DynamoDB Streams and Kinesis mappings: hidden from moto's synchronous per-message
  delivery and polled by `Delivery` instead, with batches as AWS makes them;
- SQS and the S3 event's times read the lab clock, so advancing it releases invisible messages.

The data planes install their own seams: `gateway` (API Gateway), `cognito` (the
COGNITO_USER_POOLS authorizer and user-pool tokens in lab time), `edge`, `website`,
`global_tables`, `dax_control`, `alb` (Application Load Balancers), `elasticache` (a
Redis-protocol server per cache, stopped on uninstall).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs, quote_plus

from . import (
    alb,
    athena,
    autoscaling,
    cognito,
    control_plane,
    dax_control,
    edge,
    efs,
    elasticache,
    gateway,
    global_tables,
    instances,
    iot,
    lambda_versions,
    rds_data,
    route53_answers,
    streams,
    website,
)
from .delivery import Delivery, SettleReport
from .http import Front, Request, Response, install_requests_route
from .lambda_runtime import (
    FunctionSpec,
    Invocation,
    LambdaRuntime,
    LogEvent,
    RuntimeConfigError,
    check_environment,
    check_zip,
    encode_log_tail,
    iso_time,
)

_active: Emulator | None = None
_ABSENT = object()  # what _patch saw when the attribute did not exist
_lock = threading.Lock()
# Queue.add_message hides a queue's mappings from moto while it runs; the notebook and moto's
# server threads send concurrently, so one at a time (or the mappings come back to the wrong
# call, and moto's own one-record-at-a-time delivery runs)
_sqs_add_lock = threading.Lock()


class Emulator:
    """Lambda runtime, event delivery and the moto seams for one offline lab."""

    def __init__(self, *, account_id: str, endpoint_url: str, clock: Any):
        self.account_id = account_id
        self.endpoint_url = endpoint_url
        self.clock = clock
        self.notes: list[str] = []
        # the lab's HTTP front; its certificate authority (front.authority) is the lab's
        self.front = Front()
        self.runtime = LambdaRuntime(
            endpoint_url=endpoint_url,
            now=clock.now,
            write_logs=self._write_logs,
            network=self.front.worker_network,  # functions reach the front as AWS's hosts
        )
        self.delivery: Delivery | None = None
        self.closed = False  # torn down: nothing more reaches moto's state (logs, records)
        self._patches: list[tuple[Any, str, Any]] = []

    # ---- lifecycle ----------------------------------------------------------------------------
    def install(self) -> None:
        """Patch moto's seams; one emulator per process at a time."""
        global _active
        with _lock:
            if _active is not None:
                raise RuntimeError(
                    "another offline lab is running in this process: call its teardown() first"
                )
            _active = self
        try:
            self.front.start(front_port())
            self._install_patches()
            install_requests_route(self.front.address, self._patch)
            self.front.register("control", self._control)
            for piece in (gateway, cognito, edge, website, global_tables, dax_control, alb):
                piece.install(self)
            efs.install(self)  # before anything that mounts a file system
            instances.install(self)  # EC2 instances' user data: EFS mounts, http.server
            autoscaling.install(self)  # target tracking from what the instances serve
            control_plane.install(self)
            lambda_versions.install(self)
            iot.install(self)
            streams.install(self)
            athena.install(self)
            rds_data.install(self)
            elasticache.install(self)
            route53_answers.install(self)
        except BaseException:
            self.uninstall()
            raise
        self.delivery = Delivery(self)
        self.clock.on_advance(self.delivery.notify)

    def uninstall(self) -> None:
        """Stop deliveries and environments and remove the patches.

        A function still running is stopped, not waited for, and nothing it or the delivery
        thread does afterwards (logs, retries, destination and dead-letter records) reaches
        moto, whose state the next lab starts from.
        """
        global _active
        self.closed = True
        if self.delivery is not None:
            self.delivery.request_stop()
        self.runtime.shutdown()
        instances.stop(self)  # the instances' servers (they serve EFS directories)
        efs.uninstall(self)  # after the workers that mount file systems stopped
        elasticache.stop(self)  # the cache servers: their endpoints refuse connections
        self.front.stop()
        if self.delivery is not None:
            self.delivery.stop()
        for owner, name, original in reversed(self._patches):
            if original is _ABSENT:
                delattr(owner, name)
            else:
                setattr(owner, name, original)
        self._patches.clear()
        from . import mail

        mail.forget()
        with _lock:
            if _active is self:
                _active = None

    def _control(self, request: Request, parts: dict[str, str]) -> Response:
        """`POST /clock/advance?seconds=N` on control.labbook.localhost: a client that uses this
        lab as its AWS account waits by moving this lab's clock (see Lab, LABBOOK_HTTP_ENDPOINT_URL)."""
        query = parse_qs(request.query)
        if request.method != "POST" or request.path != "/clock/advance" or "seconds" not in query:
            return Response(
                404, [("Content-Type", "text/plain")], b"POST /clock/advance?seconds=N\n"
            )
        self.clock.advance(float(query["seconds"][0]))
        body = json.dumps({"now": self.clock.now()}).encode()
        return Response(200, [("Content-Type", "application/json")], body)

    def settle(self, *, timeout: float = 60.0, max_advance_s: float = 6 * 3600) -> SettleReport:
        assert self.delivery is not None
        return self.delivery.settle(timeout=timeout, max_advance_s=max_advance_s)

    def note(self, message: str) -> None:
        self.notes.append(message)

    def _patch(self, owner: Any, name: str, value: Any) -> None:
        """Set owner.name (possibly new) until uninstall() puts back what was there."""
        self._patches.append((owner, name, getattr(owner, name, _ABSENT)))
        setattr(owner, name, value)

    def _install_patches(self) -> None:
        from moto.awslambda import models as lambda_models
        from moto.dynamodb.models import table as ddb_table
        from moto.kinesis import models as kinesis_models
        from moto.s3 import notifications as s3_notifications
        from moto.sns import models as sns_models
        from moto.sqs import models as sqs_models

        em = self

        def invoke(fn: Any, body: Any, request_headers: Any, response_headers: Any) -> bytes:
            return em._invoke_api(fn, body, request_headers, response_headers)

        self._patch(lambda_models.LambdaFunction, "invoke", invoke)

        # a deleted or changed function's idle environments end, as on AWS
        for method in ("delete_function", "update_function_code", "update_function_configuration"):
            original = getattr(lambda_models.LambdaBackend, method)

            def retire(
                backend: Any,
                function_name: str,
                *args: Any,
                _original: Any = original,
                **kwargs: Any,
            ) -> Any:
                fn = em.find_function(
                    function_name, None, region=backend.region_name, account=backend.account_id
                )
                result = _original(backend, function_name, *args, **kwargs)
                if fn is not None:
                    em.runtime.forget(fn.function_arn)
                return result

            self._patch(lambda_models.LambdaBackend, method, retire)

        # CreateFunction / UpdateFunctionConfiguration: AWS's checks, and the DeadLetterConfig
        # that moto does not keep (asynchronous invocations need it)
        function_cls = lambda_models.LambdaFunction
        original_init = function_cls.__init__

        def init(fn: Any, account_id: str, spec: dict[str, Any], *args: Any, **kwargs: Any) -> None:
            with _as_client_error():
                check_environment((spec.get("Environment") or {}).get("Variables"))
                original_init(fn, account_id, spec, *args, **kwargs)
                if "ZipFile" in (spec.get("Code") or {}):
                    check_zip(getattr(fn, "code_bytes", b"") or b"")
            fn.dead_letter_config = dict(spec.get("DeadLetterConfig") or {})

        self._patch(function_cls, "__init__", init)
        original_update = function_cls.update_configuration

        def update_configuration(fn: Any, config_updates: dict[str, Any]) -> dict[str, Any]:
            if "Environment" in config_updates:
                with _as_client_error():
                    check_environment((config_updates["Environment"] or {}).get("Variables"))
            if "DeadLetterConfig" in config_updates:
                fn.dead_letter_config = dict(config_updates["DeadLetterConfig"] or {})
            return original_update(fn, config_updates)

        self._patch(function_cls, "update_configuration", update_configuration)
        original_get_configuration = function_cls.get_configuration

        def get_configuration(fn: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
            config = original_get_configuration(fn, *args, **kwargs)
            if (getattr(fn, "dead_letter_config", None) or {}).get("TargetArn"):
                config["DeadLetterConfig"] = {"TargetArn": fn.dead_letter_config["TargetArn"]}
            return config

        self._patch(function_cls, "get_configuration", get_configuration)

        # moto delivers these synchronously, one record per call: Delivery polls instead
        self._patch(lambda_models.LambdaBackend, "send_dynamodb_items", lambda *a, **k: None)
        self._patch(lambda_models.LambdaBackend, "send_kinesis_message", lambda *a, **k: None)
        original_add = sqs_models.Queue.add_message

        def add_message(queue: Any, message: Any) -> None:
            with _sqs_add_lock:
                mappings = queue.lambda_event_source_mappings
                queue.lambda_event_source_mappings = {}
                try:
                    original_add(queue, message)
                finally:
                    added = queue.lambda_event_source_mappings  # by a CreateEventSourceMapping
                    queue.lambda_event_source_mappings = mappings
                    mappings.update(added)
            em.wake()

        self._patch(sqs_models.Queue, "add_message", add_message)
        original_stream_add = ddb_table.StreamShard.add

        def stream_add(shard: Any, old: Any, new: Any) -> None:
            original_stream_add(shard, old, new)
            em.wake()

        self._patch(ddb_table.StreamShard, "add", stream_add)
        original_put_record = kinesis_models.Stream.put_record

        def put_record(stream: Any, *args: Any, **kwargs: Any) -> Any:
            result = original_put_record(stream, *args, **kwargs)
            em.wake()
            return result

        self._patch(kinesis_models.Stream, "put_record", put_record)

        # S3 and SNS invoke functions asynchronously, with AWS's event shapes
        def invoke_from_s3(account_id: str, event_body: Any, fn_arn: str, region_name: str) -> None:
            em.enqueue_async(fn_arn, json.dumps(event_body).encode())

        self._patch(s3_notifications, "_invoke_awslambda", invoke_from_s3)
        original_s3_event = s3_notifications._get_s3_event

        def s3_event(event_name: str, bucket: Any, key: Any, notification_id: str) -> Any:
            return em._s3_event(original_s3_event(event_name, bucket, key, notification_id), key)

        self._patch(s3_notifications, "_get_s3_event", s3_event)
        original_publish = sns_models.Subscription.publish

        def publish(
            sub: Any,
            message: str,
            message_id: str,
            subject: str | None = None,
            message_attributes: dict[str, Any] | None = None,
            *args: Any,
            **kwargs: Any,
        ) -> None:
            if sub.protocol != "lambda":
                return original_publish(
                    sub, message, message_id, subject, message_attributes, *args, **kwargs
                )
            matcher = sub._filter_policy_matcher
            if matcher is not None and not matcher.matches(message_attributes, message):
                return None
            structure = kwargs.get("message_structure") or (args[2] if len(args) > 2 else None)
            if structure == "json":
                message = sub._parse_message_structure(message, "lambda")
            event = em._sns_event(sub, message, message_id, subject, message_attributes or {})
            em.enqueue_async(sub.endpoint, json.dumps(event).encode())
            return None

        self._patch(sns_models.Subscription, "publish", publish)

        from . import mail

        mail.install(self._patch)

        # SQS times (visibility, delays, receive timestamps) follow the lab clock
        self._patch(sqs_models, "unix_time", lambda dt=None: em.clock.now())
        self._patch(sqs_models, "unix_time_millis", lambda dt=None: em.clock.now() * 1000)
        # CloudWatch Logs accepts events up to 2 hours ahead of *its* now: make that lab time,
        # or every log written after settle() skipped hours would be dropped
        from moto.logs import models as logs_models

        self._patch(logs_models, "utcnow", lambda: em.clock.datetime().replace(tzinfo=None))

    def wake(self) -> None:
        if self.delivery is not None:
            self.delivery.notify()

    # ---- invocation ---------------------------------------------------------------------------
    def _invoke_api(
        self,
        fn: Any,
        body: Any,
        request_headers: Any,
        response_headers: Any,
        *,
        invoked_arn: str | None = None,
    ) -> bytes:
        headers = {k.lower(): v for k, v in dict(request_headers or {}).items()}
        kind = headers.get("x-amz-invocation-type", "RequestResponse")
        payload = body.encode() if isinstance(body, str) else (body or b"")
        response_headers["x-amz-executed-version"] = str(fn.version)
        if kind == "DryRun":
            return b""
        if kind == "Event":
            self.enqueue_async(fn.function_arn, payload or b"{}", qualifier=fn.version)
            return b""
        with _as_client_error():
            outcome = self.run(
                fn,
                payload or b"{}",
                client_context=headers.get("x-amz-client-context"),
                invoked_arn=invoked_arn,
            )
        if outcome.failed:
            response_headers["x-amz-function-error"] = "Unhandled"
        if headers.get("x-amz-log-type") == "Tail":
            response_headers["x-amz-log-result"] = encode_log_tail(outcome)
        return outcome.payload

    def enqueue_async(self, function_arn: str, payload: bytes, qualifier: str | None = None) -> str:
        assert self.delivery is not None
        if self.closed:
            return ""
        return self.delivery.enqueue_async(function_arn, qualifier, payload)

    def run(
        self,
        fn: Any,
        payload: bytes,
        *,
        request_id: str | None = None,
        client_context: str | None = None,
        invoked_arn: str | None = None,
    ) -> Invocation:
        """Invoke a moto function object in the runtime."""
        headers = {"arn": invoked_arn or fn.function_arn}  # the ARN as called (alias, version)
        if client_context:
            headers["Lambda-Runtime-Client-Context"] = base64.b64decode(client_context).decode()
        return self.runtime.invoke(self.spec(fn), payload, request_id=request_id, headers=headers)

    def spec(self, fn: Any) -> FunctionSpec:
        """The runtime's view of a moto function (code, configuration, layers)."""
        layers = []
        for layer in getattr(fn, "layers", None) or []:
            layers.append(self._layer_bytes(fn, layer))
        logging_config = getattr(fn, "logging_config", None) or {}
        return FunctionSpec(
            name=fn.function_name,
            arn=fn.function_arn,
            version=str(fn.version),
            handler=fn.handler or "",
            runtime=fn.run_time or "",
            memory_mb=int(fn.memory_size or 128),
            timeout_s=float(fn.timeout or 3),
            environment={k: str(v) for k, v in (fn.environment_vars or {}).items()},
            code=fn.code_bytes or b"",
            region=fn.region,
            account_id=fn.account_id,
            layers=tuple(layers),
            log_group=logging_config.get("LogGroup", ""),
        )

    def _layer_bytes(self, fn: Any, layer: Any) -> bytes:
        from moto.awslambda.utils import get_backend

        arn = layer["Arn"] if isinstance(layer, dict) else str(layer)
        backend = get_backend(fn.account_id, fn.region)
        version = backend.layers_versions_by_arn(arn)
        return getattr(version, "code_bytes", b"") or b""

    def find_function(
        self,
        arn_or_name: str,
        qualifier: str | None,
        *,
        region: str | None = None,
        account: str | None = None,
    ) -> Any:
        """The moto function an ARN names (or a name, in `region`), or None if there is none."""
        from moto.awslambda.exceptions import UnknownFunctionException
        from moto.awslambda.utils import get_backend

        if arn_or_name.startswith("arn:"):
            parts = arn_or_name.split(":")
            region, account = parts[3], parts[4]
        elif region is None:
            raise ValueError(f"function name {arn_or_name!r} without a region: pass its ARN")
        try:
            return get_backend(account or self.account_id, region).get_function(
                arn_or_name, qualifier
            )
        except UnknownFunctionException:  # no such function, version or alias
            return None

    def event_invoke_config(self, fn: Any) -> dict[str, Any]:
        configs = getattr(fn, "event_invoke_config", None) or []
        if not configs:
            return {}
        return configs[-1].config

    def event_source_mappings(self) -> list[Any]:
        from moto.awslambda.models import lambda_backends

        out = []
        for backend in lambda_backends[self.account_id].values():
            out.extend(backend._event_source_mappings.values())
        return out

    # ---- sources ------------------------------------------------------------------------------
    def sqs_backend(self, queue_arn: str) -> Any:
        from moto.sqs.models import sqs_backends

        parts = queue_arn.split(":")
        return sqs_backends[parts[4]][parts[3]]

    def sqs_queue(self, queue_arn: str) -> Any:
        backend = self.sqs_backend(queue_arn)
        return backend.queues.get(queue_arn.split(":")[5])

    def sqs_next_visible(self) -> list[float]:
        """Lab times at which invisible or delayed messages of mapped queues come back."""
        times = []
        for esm in self.event_source_mappings():
            if not esm.enabled or esm.event_source_arn.split(":")[2] != "sqs":
                continue
            if self.find_function(esm.function_arn, None) is None:
                continue  # nothing polls a queue whose function was deleted
            queue = self.sqs_queue(esm.event_source_arn)
            if queue is None:
                continue
            for message in list(queue._messages):
                due = max(message.visible_at or 0, message.delayed_until or 0) / 1000
                if due > self.clock.now():
                    times.append(due)
        return times

    def stream_shards(self, source_arn: str, source: str) -> list[tuple[str, list[Any]]]:
        """(shard id, records in order) for a DynamoDB stream or a Kinesis stream."""
        parts = source_arn.split(":")
        account, region = parts[4], parts[3]
        if source == "dynamodb":
            from moto.dynamodb.models import dynamodb_backends

            table_name = parts[5].split("/")[1]
            table = dynamodb_backends[account][region].tables.get(table_name)
            if table is None or table.stream_shard is None:
                return []
            return [(table.stream_shard.id, list(table.stream_shard.items))]
        from moto.kinesis.models import kinesis_backends

        stream_name = parts[5].split("/", 1)[1]
        stream = kinesis_backends[account][region].streams.get(stream_name)
        if stream is None:
            return []
        return [(shard.shard_id, list(shard.records.values())) for shard in stream.shards.values()]

    def sequence_number(self, source: str, record: Any) -> str:
        if source == "dynamodb":
            return str(record.record["dynamodb"]["SequenceNumber"])
        return str(record.sequence_number)

    def stream_event(
        self, esm: Any, source: str, shard_id: str, batch: list[Any]
    ) -> dict[str, Any]:
        """The event AWS sends for a batch of stream records."""
        region = esm.event_source_arn.split(":")[3]
        records = []
        for item in batch:
            if source == "dynamodb":
                rec = json.loads(json.dumps(item.record, default=_epoch))
                rec["eventVersion"] = "1.1"  # what Lambda receives (moto's records say 1.0)
                rec["awsRegion"] = region
                rec["eventSourceARN"] = esm.event_source_arn
                records.append(rec)
            else:
                records.append(
                    {
                        "kinesis": {
                            "kinesisSchemaVersion": "1.0",
                            "partitionKey": item.partition_key,
                            "sequenceNumber": str(item.sequence_number),
                            "data": item.data,
                            "approximateArrivalTimestamp": round(item.created_at, 3),
                        },
                        "eventSource": "aws:kinesis",
                        "eventVersion": "1.0",
                        "eventID": f"{shard_id}:{item.sequence_number}",
                        "eventName": "aws:kinesis:record",
                        "invokeIdentityArn": self._role(esm.function_arn),
                        "awsRegion": region,
                        "eventSourceARN": esm.event_source_arn,
                    }
                )
        return {"Records": records}

    def stream_failure(
        self, esm: Any, shard_id: str, batch: list[Any], attempts: int
    ) -> dict[str, Any]:
        """AWS's on-failure record for a stream batch that could not be processed."""
        source = esm.event_source_arn.split(":")[2]
        first, last = batch[0], batch[-1]
        info = {
            "shardId": shard_id,
            "startSequenceNumber": self.sequence_number(source, first),
            "endSequenceNumber": self.sequence_number(source, last),
            "batchSize": len(batch),
            "streamArn": esm.event_source_arn,
        }
        key = "DDBStreamBatchInfo" if source == "dynamodb" else "KinesisBatchInfo"
        return {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": esm.function_arn,
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": attempts,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "version": "1.0",
            "timestamp": iso_time(self.clock.now()),
            key: info,
        }

    def runnable_sources(
        self,
        positions: dict[tuple[str, str], int],
        retries: dict[tuple[str, str], tuple[float, int]],
    ) -> bool:
        """True when a mapped queue has a visible message or a stream has unread records."""
        now = self.clock.now() * 1000
        for esm in self.event_source_mappings():
            if not esm.enabled or self.find_function(esm.function_arn, None) is None:
                continue
            source = esm.event_source_arn.split(":")[2]
            if source == "sqs":
                queue = self.sqs_queue(esm.event_source_arn)
                if queue is not None and any(
                    (m.visible_at or 0) <= now and (m.delayed_until or 0) <= now
                    for m in list(queue._messages)
                ):
                    return True
            elif source in ("dynamodb", "kinesis"):
                for shard_id, records in self.stream_shards(esm.event_source_arn, source):
                    key = (esm.uuid, shard_id)
                    start = positions.get(key)
                    if start is None:
                        if records and (esm.starting_position or "TRIM_HORIZON") == "TRIM_HORIZON":
                            return True
                        continue
                    retry = retries.get(key)
                    if start < len(records) and not (retry and retry[0] * 1000 > now):
                        return True
        return False

    def describe_pending(
        self, async_items: list[Any], retries: dict[tuple[str, str], tuple[float, int]]
    ) -> list[str]:
        out = []
        if async_items:
            out.append(f"{len(async_items)} asynchronous invocation(s) waiting to retry")
        for esm in self.event_source_mappings():
            if esm.event_source_arn.split(":")[2] == "sqs":
                queue = self.sqs_queue(esm.event_source_arn)
                if queue is not None and queue._messages:
                    out.append(f"{len(queue._messages)} message(s) in queue {queue.name}")
        if retries:
            out.append(f"{len(retries)} stream shard(s) retrying a failed batch")
        return out

    def _role(self, function_arn: str) -> str:
        fn = self.find_function(function_arn, None)
        return getattr(fn, "role", "") if fn is not None else ""

    # ---- targets ------------------------------------------------------------------------------
    def send_to(
        self, target_arn: str, body: str, *, attributes: dict[str, str] | None = None
    ) -> None:
        """Deliver a record to an SQS queue, SNS topic, Lambda function or EventBridge bus."""
        if self.closed:
            return
        service = target_arn.split(":")[2]
        region = target_arn.split(":")[3]
        try:
            if service == "sqs":
                backend = self.sqs_backend(target_arn)
                attrs = {
                    k: {"DataType": "Number" if k == "ErrorCode" else "String", "StringValue": v}
                    for k, v in (attributes or {}).items()
                }
                backend.send_message(target_arn.split(":")[5], body, message_attributes=attrs)
            elif service == "sns":
                from moto.sns.models import sns_backends

                attrs = {
                    k: {"Type": "Number" if k == "ErrorCode" else "String", "Value": v}
                    for k, v in (attributes or {}).items()
                }
                sns_backends[target_arn.split(":")[4]][region].publish(
                    body, arn=target_arn, message_attributes=attrs
                )
            elif service == "lambda":
                self.enqueue_async(target_arn, body.encode())
            else:
                self.note(f"destination {target_arn}: only SQS, SNS and Lambda are emulated")
        except Exception as exc:  # AWS drops the record when the destination is unusable
            self.note(f"could not deliver to {target_arn}: {exc}")

    # ---- event shapes -------------------------------------------------------------------------
    def _s3_event(self, event: dict[str, Any], key: Any) -> dict[str, Any]:
        for record in event.get("Records", []):
            record["eventTime"] = iso_time(self.clock.now())
            record.setdefault("userIdentity", {"principalId": "AWS:AIDAEXAMPLELABBOOK"})
            record.setdefault("requestParameters", {"sourceIPAddress": "127.0.0.1"})
            record.setdefault(
                "responseElements",
                {
                    "x-amz-request-id": uuid.uuid4().hex[:16].upper(),
                    "x-amz-id-2": base64.b64encode(uuid.uuid4().bytes * 2).decode(),
                },
            )
            obj = record["s3"]["object"]
            obj["key"] = quote_plus(key.name, safe="/")  # AWS form-encodes but keeps '/'
            obj["sequencer"] = f"{int(self.clock.now() * 1e6):016X}"
            version = getattr(key, "version_id", None)
            if version and version != "null":
                obj["versionId"] = version
            record["s3"]["bucket"].setdefault("ownerIdentity", {"principalId": "A3NL1KOZZKExample"})
        return event

    def _sns_event(
        self,
        sub: Any,
        message: str,
        message_id: str,
        subject: str | None,
        attributes: dict[str, Any],
    ) -> dict[str, Any]:
        region = sub.topic.arn.split(":")[3]
        attrs = {
            name: {"Type": value.get("Type", "String"), "Value": value.get("Value")}
            for name, value in attributes.items()
        }
        sns = {
            "Type": "Notification",
            "MessageId": message_id,
            "TopicArn": sub.topic.arn,
            "Subject": subject,
            "Message": message,
            "Timestamp": iso_time(self.clock.now()),
            "SignatureVersion": "1",
            "Signature": base64.b64encode(uuid.uuid4().bytes * 8).decode(),
            "SigningCertUrl": f"https://sns.{region}.amazonaws.com/SimpleNotificationService-labbook.pem",
            "UnsubscribeUrl": (
                f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={sub.arn}"
            ),
            "MessageAttributes": attrs,
        }
        return {
            "Records": [
                {
                    "EventSource": "aws:sns",
                    "EventVersion": "1.0",
                    "EventSubscriptionArn": sub.arn,
                    "Sns": sns,
                }
            ]
        }

    # ---- logs ---------------------------------------------------------------------------------
    def _write_logs(self, region: str, group: str, stream: str, events: list[LogEvent]) -> None:
        if self.closed:
            return
        from moto.logs.models import logs_backends

        backend = logs_backends[self.account_id][region]
        backend.ensure_log_group(group)
        log_group = backend.groups[group]
        if stream not in log_group.streams:
            backend.create_log_stream(group, stream)
        if events:
            backend.put_log_events(
                group,
                stream,
                [{"timestamp": e.timestamp_ms, "message": e.message.rstrip("\n")} for e in events],
            )


def front_port() -> int:
    """The HTTP front's port: LABBOOK_FRONT_PORT (as `labbook serve --port` sets it), else any."""
    value = os.environ.get("LABBOOK_FRONT_PORT", "0")
    if not value.isdigit() or int(value) > 65535:
        raise ValueError(f"LABBOOK_FRONT_PORT={value!r} must be a port number (0-65535; 0 = any)")
    return int(value)


@contextlib.contextmanager
def _as_client_error() -> Iterator[None]:
    """Turn a RuntimeConfigError into the AWS error response moto sends (code and status)."""
    try:
        yield
    except RuntimeConfigError as exc:
        from moto.core.exceptions import JsonRESTError

        error = JsonRESTError(exc.code, str(exc))
        error.code = exc.status
        raise error from exc


def _epoch(value: Any) -> Any:
    if isinstance(value, datetime):
        return int(value.replace(tzinfo=value.tzinfo or timezone.utc).timestamp())
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
