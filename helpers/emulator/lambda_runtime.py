"""Run Lambda functions as AWS does: one worker process per execution environment.

Each environment unzips the function's own package, starts AWS's runtime interface client
(awslambdaric, through runtime/bootstrap.py) and serves it the Lambda Runtime API on loopback.
The runtime client gives the real `context` object, AWS's error JSON and AWS's logging format;
this module adds what the Lambda service does around it: cold and warm starts, the timeout that
stops the handler, the memory limit, and the START / END / REPORT log lines.

A worker imports what it would on AWS and nothing else: the standard library, what AWS's Python
runtime provides (boto3 and its dependencies, the runtime client), the function's package and
its layers. The worker runs `python -S` (no site-packages, so none of the course's libraries)
with a folder that links only the runtime-provided distributions; a missing library is AWS's
`Runtime.ImportModuleError`, raised by the runtime client itself.

A worker reaches AWS as a function on AWS does: its boto3 calls go to the lab's endpoint
(AWS_ENDPOINT_URL), and its own HTTP requests to the hosts the lab's HTTP front serves (API
Gateway, CloudFront, load balancers...: `WorkerNetwork`, see http.py) go to the front, over TLS
that the lab's certificate authority signs and the worker trusts (SSL_CERT_FILE, tls.py).

A function with `FileSystemConfigs` (an Amazon EFS access point) sees the access point's
directory (efs.py) at its `LocalMountPath`: the worker is an unprivileged process that cannot
mount anything, so runtime/bootstrap.py maps the paths under /mnt/... in Python's file functions
(`FunctionSpec.mounts`).
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import hashlib
import importlib.metadata
import io
import json
import math
import os
import select
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from queue import Queue

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

RUNTIME_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "runtime")
TASK_ROOT = "/var/task"  # what AWS calls the package folder; local paths are shown as this
INIT_TIMEOUT_S = 10.0  # AWS limits the init phase of on-demand functions to 10 s
IDLE_LIFETIME_S = 15 * 60  # an idle environment is reclaimed after this much lab time
_API = "/2018-06-01/runtime"
_LOCAL_PATHS = [  # this machine's Python folders, and what they are in AWS's runtime
    (sysconfig.get_paths()["purelib"], "site-packages"),
    (sysconfig.get_paths()["platlib"], "site-packages"),
    (sysconfig.get_paths()["stdlib"], ""),
]
_FRAME_HEADER = 16  # awslambdaric telemetry frame: type (4) + length (4) + timestamp (8)


class RuntimeConfigError(ValueError):
    """A function that the offline runtime cannot run as configured, with AWS's error code."""

    def __init__(
        self, message: str, code: str = "InvalidParameterValueException", status: int = 400
    ):
        super().__init__(message)
        self.code = code
        self.status = status


# Lambda's reserved environment variable names (developer guide, "Defined runtime environment
# variables"): CreateFunction and UpdateFunctionConfiguration refuse them, and the runtime sets
# them in every execution environment; every other name (LANG, TZ, PATH, AWS_ENDPOINT_URL...)
# is the function's to set
RESERVED_ENV = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)


def check_environment(variables: dict[str, str] | None) -> None:
    """Refuse reserved names as Lambda's control plane does (InvalidParameterValueException)."""
    clash = sorted(RESERVED_ENV & set(variables or {}))
    if clash:
        raise RuntimeConfigError(
            "Lambda was unable to configure your environment variables because the environment "
            "variables you have provided contains reserved keys that are currently not supported "
            f"for modification. Reserved keys used in this request: {', '.join(clash)}"
        )


def check_zip(data: bytes) -> None:
    """Refuse a deployment package that is not a zip, as CreateFunction does."""
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise RuntimeConfigError(
            "Could not unzip uploaded file. Please check your file, then try to upload again."
        )


@dataclass(frozen=True)
class WorkerNetwork:
    """How a worker reaches the lab's HTTP front as AWS's hosts (runtime/bootstrap.py uses it)."""

    front_port: int  # the front's loopback port, HTTP and TLS
    hosts: tuple[str, ...]  # regular expressions of the host names the front serves
    ca_file: str  # the lab's certificate authority (PEM), trusted in CA files clients load
    ca_bundle: str  # this machine's authorities and the lab's: the worker's SSL_CERT_FILE

    def config(self) -> dict[str, object]:
        """What bootstrap.py reads: the `front` of the worker's _LABBOOK_WORKER."""
        return {"port": self.front_port, "hosts": list(self.hosts), "ca_file": self.ca_file}


@dataclass(frozen=True)
class FunctionSpec:
    """What an execution environment is made from: the function's code and configuration."""

    name: str
    arn: str
    version: str
    handler: str
    runtime: str
    memory_mb: int
    timeout_s: float
    environment: dict[str, str]
    code: bytes
    region: str
    account_id: str
    layers: tuple[bytes, ...] = ()
    log_group: str = ""
    # (LocalMountPath, directory on this machine): the worker sees each directory at its path
    # (FileSystemConfigs; efs.py makes the directories, runtime/bootstrap.py maps the paths)
    mounts: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> str:
        """Environments are reusable only for the same code and configuration."""
        h = hashlib.sha256(self.code)
        for layer in self.layers:
            h.update(layer)
        h.update(
            json.dumps(
                [
                    self.arn,
                    self.version,
                    self.handler,
                    self.runtime,
                    self.memory_mb,
                    self.timeout_s,
                    sorted(self.environment.items()),
                    [list(m) for m in self.mounts],
                ]
            ).encode()
        )
        return h.hexdigest()

    @property
    def log_group_name(self) -> str:
        return self.log_group or f"/aws/lambda/{self.name}"


@dataclass
class LogEvent:
    timestamp_ms: int
    message: str


@dataclass
class Invocation:
    """One invocation's outcome, as the Lambda service reports it."""

    request_id: str
    payload: bytes
    error_type: str | None  # None on success; AWS's errorType when the function failed
    duration_ms: float
    billed_ms: int
    memory_mb: int
    max_memory_used_mb: int
    init_ms: float | None  # set on a cold start
    log_group: str
    log_stream: str
    logs: list[LogEvent] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.error_type is not None

    @property
    def cold_start(self) -> bool:
        return self.init_ms is not None

    @property
    def log_text(self) -> str:
        return "".join(
            e.message if e.message.endswith("\n") else e.message + "\n" for e in self.logs
        )

    def json(self) -> object:
        return json.loads(self.payload) if self.payload else None


LogWriter = Callable[[str, str, str, list[LogEvent]], None]  # (region, group, stream, events)


def iso_time(ts: float) -> str:
    """A lab time as AWS writes timestamps in events and records: 2024-05-01T12:00:00.000Z."""
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class RuntimeClosedError(RuntimeError):
    """The lab was torn down: its runtime starts no more invocations."""


class _Pending:
    def __init__(self, request_id: str, payload: bytes, deadline_ms: int, headers: dict[str, str]):
        self.request_id = request_id
        self.payload = payload
        self.deadline_ms = deadline_ms
        self.headers = headers
        self.dispatched_at: float | None = None
        self.result: tuple[str, bytes, str | None] | None = None  # (kind, body, error type)


class _RuntimeAPIHandler(BaseHTTPRequestHandler):
    """The Lambda Runtime API, as one execution environment sees it."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # 44 ms per round trip with delayed ACKs otherwise
    server: _RuntimeAPIServer

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def _reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path != f"{_API}/invocation/next":
            self._reply(404, b'{"errorMessage":"not found"}')
            return
        env = self.server.environment
        env.mark_ready()
        pending = env.next_invocation()
        if pending is None:  # shutting down
            self._reply(410, b"")
            return
        pending.dispatched_at = time.monotonic()
        pending.deadline_ms = int(time.time() * 1000 + env.spec.timeout_s * 1000)
        headers = {
            "Content-Type": "application/json",
            "Lambda-Runtime-Aws-Request-Id": pending.request_id,
            "Lambda-Runtime-Deadline-Ms": str(pending.deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": pending.headers.get("arn", env.spec.arn),
            "Lambda-Runtime-Trace-Id": f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0",
        }
        for name in ("Lambda-Runtime-Client-Context", "Lambda-Runtime-Cognito-Identity"):
            if name in pending.headers:
                headers[name] = pending.headers[name]
        self._reply(200, pending.payload, headers)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        env = self.server.environment
        parts = self.path.removeprefix(_API).strip("/").split("/")
        error_type = self.headers.get("Lambda-Runtime-Function-Error-Type")
        if parts == ["init", "error"]:
            env.complete("init-error", None, body, error_type)
        elif len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
            env.complete(parts[2], parts[1], body, error_type)
        else:
            self._reply(404, b'{"errorMessage":"not found"}')
            return
        self._reply(202, b'{"status":"OK"}', {"Content-Type": "application/json"})


class _RuntimeAPIServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, environment: Environment):
        self.environment = environment
        super().__init__(("127.0.0.1", 0), _RuntimeAPIHandler)

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a worker killed mid-request (timeout, memory, shutdown) is expected


class Environment:
    """One execution environment: a worker process, its Runtime API and its log stream."""

    def __init__(self, spec: FunctionSpec, runtime: LambdaRuntime):
        self.spec = spec
        self.runtime = runtime
        self.id = uuid.uuid4().hex
        self.created = runtime.now()
        self.last_used = self.created
        self.log_stream = datetime.fromtimestamp(self.created, tz=timezone.utc).strftime(
            f"%Y/%m/%d/[{spec.version}]{self.id}"
        )
        self._queue: Queue[_Pending | None] = Queue()
        self._ready = threading.Event()
        self._current: _Pending | None = None
        self._done_r, self._done_w = os.pipe()
        self._proc: subprocess.Popen[bytes] | None = None
        self._server: _RuntimeAPIServer | None = None
        self._dir: str | None = None
        self._buf = {"stdout": b"", "frames": b""}
        self._telemetry_r: int | None = None
        self._init_error: tuple[bytes, str | None] | None = None
        self._lock = threading.Lock()
        self._in_flight = False  # an invocation is running: its thread owns the pipes
        self._closed = False  # pipes, Runtime API and files released
        self.dead = False
        self.retired = False  # the function was deleted or changed: not reused after this

    # --- called by the Runtime API threads -------------------------------------------------
    def mark_ready(self) -> None:
        self._ready.set()
        self._wake(b"r")

    def _wake(self, byte: bytes) -> None:
        """Wake the invoking thread's select(); never writes to a pipe already closed."""
        with self._lock:
            if not self._closed:
                with contextlib.suppress(OSError):
                    os.write(self._done_w, byte)

    def next_invocation(self) -> _Pending | None:
        return self._queue.get()

    def complete(
        self, kind: str, request_id: str | None, body: bytes, error_type: str | None
    ) -> None:
        if kind == "init-error":
            self._init_error = (body, error_type)
        elif self._current is not None and request_id == self._current.request_id:
            self._current.result = (kind, body, error_type)
        self._wake(b"d")

    # --- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        """Unpack the package and start the worker; the init phase runs in it."""
        spec = self.spec
        self._dir = tempfile.mkdtemp(prefix="labbook-lambda-")
        task = os.path.join(self._dir, "task")
        opt = os.path.join(self._dir, "opt")
        _unzip(spec.code, task, what=f"the deployment package of function {spec.name!r}")
        for i, layer in enumerate(spec.layers):
            _unzip(layer, opt, what=f"layer {i + 1} of function {spec.name!r}")
        self._server = _RuntimeAPIServer(self)
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        port = self._server.server_address[1]
        telemetry_r, telemetry_w = os.pipe()
        self._telemetry_r = telemetry_r
        network = self.runtime.network() if self.runtime.network is not None else None
        env = self.runtime.worker_environment(spec, self.log_stream, network)
        config = _worker_paths(spec, task, opt)
        if network is not None:
            config["front"] = network.config()
        if spec.mounts:
            config["mounts"] = [list(m) for m in spec.mounts]
        env.update(
            {
                "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}",
                "LAMBDA_TASK_ROOT": task,
                "_LAMBDA_TELEMETRY_LOG_FD": str(telemetry_w),
                "_LABBOOK_WORKER": json.dumps(config),
            }
        )
        self.started_at = time.monotonic()
        self._proc = subprocess.Popen(
            # -S: none of this Python's site-packages; bootstrap.py sets AWS's import path
            [sys.executable, "-S", os.path.join(RUNTIME_DIR, "bootstrap.py"), spec.handler],
            cwd=task,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(telemetry_w,),
            start_new_session=True,
        )
        os.close(telemetry_w)
        for fd in (self._proc.stdout.fileno(), telemetry_r):  # type: ignore[union-attr]
            os.set_blocking(fd, False)

    def invoke(self, payload: bytes, request_id: str, headers: dict[str, str]) -> Invocation:
        """Run one invocation in this environment (starting it first on a cold start).

        The invoking thread owns the environment's pipes meanwhile: `stop()` from another thread
        only kills the worker, and the pipes are closed here once the invocation has returned.
        """
        with self._lock:
            if self.dead:
                raise RuntimeClosedError(f"the execution environment of {self.spec.name} stopped")
            self._in_flight = True
        try:
            return self._invoke(payload, request_id, headers)
        finally:
            with self._lock:
                self._in_flight = False
                release = self.dead
            if release:
                self._release()

    def _invoke(self, payload: bytes, request_id: str, headers: dict[str, str]) -> Invocation:
        spec = self.spec
        logs: list[LogEvent] = []
        init_ms: float | None = None
        cold = self._proc is None
        if cold:
            self.start()
        pending = _Pending(request_id, payload, 0, headers)
        self._current = pending
        error: tuple[bytes, str] | None = None
        status: str | None = None
        result_body = b""

        if cold:
            logs.append(self._log(f"INIT_START Runtime Version: {spec.runtime}.labbook\n"))
            outcome = self._wait(
                logs,
                lambda: self._ready.is_set() or self._init_error is not None,
                time.monotonic() + INIT_TIMEOUT_S,
                phase="init",
            )
            init_ms = (time.monotonic() - self.started_at) * 1000
            if self._init_error is not None or outcome != "ok":
                body, etype = self._init_error or (b"", None)
                error = self._init_failure(outcome, body, etype, request_id)
                status = "error"
        logs.append(self._log(f"START RequestId: {request_id} Version: {spec.version}\n"))
        if error is None:
            # hand the event over only now: on a cold start after INIT, and always after START,
            # so nothing the handler prints can be read before its START line
            self._queue.put(pending)
            # the event is handed over when the worker asks for it; the timeout runs from there
            outcome = self._wait(
                logs,
                lambda: pending.result is not None or self._init_error is not None,
                None,
                phase="invoke",
                pending=pending,
            )
            if outcome == "ok" and pending.result is not None:
                kind, body, etype = pending.result
                if kind == "error":
                    error = (self._clean_bytes(body), _error_type(body, etype))
                else:
                    result_body = body
            elif outcome == "ok" and self._init_error is not None:  # init failed after /next
                body, etype = self._init_error
                error = self._init_failure("ok", body, etype, request_id)
                status = "error"
            else:
                error, status = self._abnormal(outcome, pending, request_id, logs)
        started = pending.dispatched_at or time.monotonic()
        duration_ms = max((time.monotonic() - started) * 1000, 0.01)
        if status == "timeout":
            duration_ms = spec.timeout_s * 1000
        max_mem = self._max_memory_mb()
        self._drain(logs)
        logs.append(self._log(f"END RequestId: {request_id}\n"))
        duration_ms = round(duration_ms, 2)  # as REPORT shows it, so Billed = ceil(shown)
        init_ms = None if init_ms is None else round(init_ms, 2)
        # since 1 August 2025 AWS bills the INIT phase of on-demand ZIP functions too
        billed = max(1, math.ceil(round(duration_ms + (init_ms or 0.0), 2)))
        report = (
            f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
            f"Billed Duration: {billed} ms\tMemory Size: {spec.memory_mb} MB\t"
            f"Max Memory Used: {max_mem} MB\t"
        )
        if init_ms is not None:
            report += f"Init Duration: {init_ms:.2f} ms\t"
        if status is not None:
            report += f"Status: {status}\t"
            if error is not None and status == "error":
                report += f"Error Type: {error[1]}\t"
        logs.append(self._log(report + "\n"))
        self._current = None
        self.last_used = self.runtime.now()
        if status is not None:
            self.stop()  # a timed out, crashed or failed-init environment is not reused
        self.runtime.write_logs(spec.region, spec.log_group_name, self.log_stream, logs)
        return Invocation(
            request_id=request_id,
            payload=error[0] if error else result_body,
            error_type=error[1] if error else None,
            duration_ms=duration_ms,
            billed_ms=billed,
            memory_mb=spec.memory_mb,
            max_memory_used_mb=max_mem,
            init_ms=init_ms,
            log_group=spec.log_group_name,
            log_stream=self.log_stream,
            logs=logs,
        )

    def _init_failure(
        self, outcome: str, body: bytes, etype: str | None, request_id: str
    ) -> tuple[bytes, str]:
        if outcome == "timeout":
            msg = f"RequestId: {request_id} Error: INIT phase timed out after {INIT_TIMEOUT_S:.2f} seconds"
            return _error_json(msg, "Sandbox.Timedout"), "Sandbox.Timedout"
        if outcome in ("exited", "oom"):
            return self._abnormal(outcome, None, request_id, [])[0]  # type: ignore[return-value]
        return self._clean_bytes(body), _error_type(body, etype)

    def _abnormal(
        self, outcome: str, pending: _Pending | None, request_id: str, logs: list[LogEvent]
    ) -> tuple[tuple[bytes, str], str]:
        if outcome == "timeout":
            elapsed = self.spec.timeout_s
            logs.append(
                self._log(
                    f"{iso_time(self.runtime.now())} {request_id} Task timed out after {elapsed:.2f} seconds\n"
                )
            )
            msg = f"RequestId: {request_id} Error: Task timed out after {elapsed:.2f} seconds"
            return (_error_json(msg, "Sandbox.Timedout"), "Sandbox.Timedout"), "timeout"
        if outcome == "oom":
            msg = f"RequestId: {request_id} Error: Runtime exited with error: signal: killed"
            logs.append(self._log(msg + "\nRuntime.OutOfMemory\n"))
            return (_error_json(msg, "Runtime.OutOfMemory"), "Runtime.OutOfMemory"), "error"
        code = self._proc.poll() if self._proc else None
        how = (
            f"signal: {signal.Signals(-code).name.removeprefix('SIG').lower()}"
            if code and code < 0
            else f"exit status {code}"
        )
        msg = f"RequestId: {request_id} Error: Runtime exited with error: {how}"
        logs.append(self._log(msg + "\nRuntime.ExitError\n"))
        return (_error_json(msg, "Runtime.ExitError"), "Runtime.ExitError"), "error"

    def _wait(
        self,
        logs: list[LogEvent],
        done: Callable[[], bool],
        deadline: float | None,
        *,
        phase: str,
        pending: _Pending | None = None,
    ) -> str:
        """Pump the worker's output until `done()`; returns ok, timeout, exited or oom."""
        assert self._proc is not None and self._proc.stdout is not None
        fds = [self._proc.stdout.fileno(), self._telemetry_r, self._done_r]
        limit_kb = self.spec.memory_mb * 1024
        while True:
            if self.dead:  # stopped from another thread (teardown): the worker is gone
                self._kill()
                self._drain(logs)
                return "exited"
            if done():
                self._drain(logs)
                if phase == "invoke" and _status_kb(self._proc.pid, "VmHWM") > limit_kb:
                    self._kill()  # the peak went past the limit between two polls
                    return "oom"
                return "ok"
            if pending is not None and pending.dispatched_at is not None and deadline is None:
                deadline = pending.dispatched_at + self.spec.timeout_s
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                self._drain(logs)
                return "timeout"
            if self._proc.poll() is not None:
                self._drain(logs)
                if done():
                    return "ok"
                return "exited"
            if phase == "invoke" and _rss_kb(self._proc.pid) > limit_kb:
                self._kill()
                self._drain(logs)
                return "oom"
            wait = 0.02 if deadline is None else max(0.0, min(0.02, deadline - now))
            readable, _, _ = select.select(fds, [], [], wait)
            if self._done_r in readable:
                with contextlib.suppress(BlockingIOError):
                    os.read(self._done_r, 4096)
            if readable:
                self._read(logs)

    def _read(self, logs: list[LogEvent]) -> bool:
        assert self._proc is not None and self._proc.stdout is not None
        got = False
        for name, fd in (("stdout", self._proc.stdout.fileno()), ("frames", self._telemetry_r)):
            while True:
                try:
                    chunk = os.read(fd, 65536)
                except (BlockingIOError, OSError):
                    break
                if not chunk:
                    break
                got = True
                self._buf[name] += chunk
        self._parse(logs)
        return got

    def _drain(self, logs: list[LogEvent]) -> None:
        if self._proc is None:
            return
        while self._read(logs):
            pass

    def _parse(self, logs: list[LogEvent]) -> None:
        now_ms = int(self.runtime.now() * 1000)
        out = self._buf["stdout"]
        while b"\n" in out:
            line, out = out.split(b"\n", 1)
            logs.append(LogEvent(now_ms, self._clean(line.decode("utf-8", "replace")) + "\n"))
        self._buf["stdout"] = out
        frames = self._buf["frames"]
        while len(frames) >= _FRAME_HEADER:
            length = int.from_bytes(frames[4:8], "big")
            if len(frames) < _FRAME_HEADER + length:
                break
            message = frames[_FRAME_HEADER : _FRAME_HEADER + length].decode("utf-8", "replace")
            logs.append(LogEvent(now_ms, self._clean(message)))
            frames = frames[_FRAME_HEADER + length :]
        self._buf["frames"] = frames

    @property
    def _task_dir(self) -> str:
        return os.path.join(self._dir, "task") if self._dir else TASK_ROOT

    def _clean(self, text: str) -> str:
        """Show paths as AWS does: /var/task, /opt, /var/lang/lib/python3.x (no local paths)."""
        if self._dir:
            text = text.replace(self._task_dir, TASK_ROOT)
            text = text.replace(os.path.join(self._dir, "opt"), "/opt")
        lang_lib = f"/var/lang/lib/python{runtime_version(self.spec.runtime)}"
        # AWS keeps boto3 & co. in lang_lib/site-packages, the runtime client in /var/runtime
        if _provided_dir:
            awslambdaric = os.path.join(_provided_dir, "awslambdaric")
            text = text.replace(awslambdaric, "/var/runtime/awslambdaric")
            text = text.replace(_provided_dir, lang_lib + "/site-packages")
        text = text.replace(RUNTIME_DIR, "/var/runtime")
        for mount_path, directory in self.spec.mounts:  # a file system at its LocalMountPath
            text = text.replace(directory, mount_path)
        for local, shown in _LOCAL_PATHS:
            text = text.replace(local, f"{lang_lib}/{shown}".rstrip("/"))
        return text

    def _clean_bytes(self, body: bytes) -> bytes:
        return self._clean(body.decode("utf-8", "replace")).encode()

    def _log(self, message: str) -> LogEvent:
        return LogEvent(int(self.runtime.now() * 1000), message)

    def _max_memory_mb(self) -> int:
        if self._proc is None:
            return 0
        return max(1, math.ceil(_status_kb(self._proc.pid, "VmHWM") / 1024))

    def _kill(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait()

    def stop(self) -> None:
        """Shut the environment down: kill the worker, close its API and remove its files.

        During an invocation (stopped from another thread), only kill the worker: the invoking
        thread is reading the pipes and releases them when it returns.
        """
        with self._lock:
            if self.dead:
                return
            self.dead = True
            in_flight = self._in_flight
        self._kill()
        self._queue.put(None)
        if not in_flight:
            self._release()

    def _release(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._proc is not None and self._proc.stdout is not None:
            self._proc.stdout.close()
        for fd in (self._telemetry_r, self._done_r, self._done_w):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        if self._dir:
            shutil.rmtree(self._dir, ignore_errors=True)

    @property
    def alive(self) -> bool:
        return not self.dead and self._proc is not None and self._proc.poll() is None


class LambdaRuntime:
    """Execution environments for every function of one lab, reused while warm."""

    def __init__(
        self,
        *,
        endpoint_url: str,
        now: Callable[[], float] = time.time,
        write_logs: LogWriter | None = None,
        network: Callable[[], WorkerNetwork | None] | None = None,
    ):
        self.endpoint_url = endpoint_url
        self.now = now
        self._write_logs = write_logs
        # asked once per new worker: the lab's HTTP front and CA (None: the worker resolves and
        # trusts as this machine does)
        self.network = network
        self._idle: dict[str, list[Environment]] = {}
        self._all: list[Environment] = []
        self._lock = threading.Lock()
        self._closed = False

    def worker_environment(
        self, spec: FunctionSpec, log_stream: str, network: WorkerNetwork | None = None
    ) -> dict[str, str]:
        """The environment variables AWS sets in an execution environment, with the function's.

        The function may set any name but the reserved ones (CreateFunction refused those);
        the lab's endpoint is kept whatever the function sets, so its boto3 calls stay offline.
        With `network`, SSL_CERT_FILE names the lab's CA bundle unless the function sets it.
        """
        check_environment(spec.environment)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
        }
        if network is not None:  # the default trust store holds the lab CA, as AWS's hold Amazon's
            env["SSL_CERT_FILE"] = network.ca_bundle
        env.update(spec.environment)
        env.update(
            {
                "_HANDLER": spec.handler,
                "AWS_REGION": spec.region,
                "AWS_DEFAULT_REGION": spec.region,
                "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
                "AWS_LAMBDA_FUNCTION_NAME": spec.name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
                "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
                "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
                "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group_name,
                "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
                "LAMBDA_RUNTIME_DIR": RUNTIME_DIR,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_SESSION_TOKEN": "testing",
                # the handler's own boto3 calls reach the lab, as they reach AWS on AWS
                "AWS_ENDPOINT_URL": self.endpoint_url,
                "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
            }
        )
        return env

    def write_logs(self, region: str, group: str, stream: str, events: list[LogEvent]) -> None:
        if self._write_logs is not None:
            self._write_logs(region, group, stream, events)

    def invoke(
        self,
        spec: FunctionSpec,
        payload: bytes,
        *,
        request_id: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Invocation:
        """Run one invocation, in a warm environment when one is idle, else in a new one."""
        if not spec.runtime.startswith("python"):
            raise RuntimeConfigError(
                f"function {spec.name!r} uses runtime {spec.runtime!r}: the offline runtime runs "
                "python3.x functions; use a Python runtime, or the `aws` backend",
                "InvalidRuntimeException",
                502,
            )
        request_id = request_id or str(uuid.uuid4())
        env = self._acquire(spec)
        try:
            return env.invoke(payload, request_id, headers or {})
        finally:
            self._release(env)

    def _acquire(self, spec: FunctionSpec) -> Environment:
        with self._lock:
            if self._closed:
                raise RuntimeClosedError("the lab was torn down: start a new one to invoke")
            self._reap_locked()
            idle = self._idle.get(spec.key, [])
            while idle:
                env = idle.pop()
                if env.alive:
                    return env
                env.stop()
            check_loadable(spec)
            env = Environment(spec, self)
            self._all.append(env)
            return env

    def _release(self, env: Environment) -> None:
        with self._lock:
            if env.alive and not env.retired and not self._closed:
                self._idle.setdefault(env.spec.key, []).append(env)
            else:
                env.stop()
                if env in self._all:
                    self._all.remove(env)

    def _reap_locked(self) -> None:
        now = self.now()
        for key, envs in list(self._idle.items()):
            keep = []
            for env in envs:
                if now - env.last_used > IDLE_LIFETIME_S or not env.alive:
                    env.stop()
                    if env in self._all:
                        self._all.remove(env)
                else:
                    keep.append(env)
            self._idle[key] = keep

    def environments(self, function_arn: str | None = None) -> list[Environment]:
        """Live execution environments (all, or one function's)."""
        with self._lock:
            return [
                e
                for e in self._all
                if e.alive and (function_arn is None or e.spec.arn == function_arn)
            ]

    def forget(self, function_arn: str) -> None:
        """Stop a function's idle environments (after an update or a delete); a busy one ends
        when its invocation returns."""
        with self._lock:
            for env in self._all:
                if env.spec.arn == function_arn:
                    env.retired = True
            for envs in self._idle.values():
                for env in [e for e in envs if e.spec.arn == function_arn]:
                    envs.remove(env)
                    env.stop()
                    self._all.remove(env)

    def shutdown(self) -> None:
        """Stop every environment, busy ones too (their invocations end as a runtime exit),
        and start no more."""
        with self._lock:
            self._closed = True
            envs = list(self._all)
            self._all.clear()
            self._idle.clear()
        for env in envs:
            env.stop()


# --- what AWS's Python runtime provides --------------------------------------------------
# The Python runtime gives a handler the standard library, the AWS SDK (boto3, with botocore,
# s3transfer, jmespath, python-dateutil, six, urllib3) and the runtime interface client
# (awslambdaric, with simplejson and snapshot-restore-py); everything else comes from the
# function's package or its layers. The distributions are found from these two, as installed.
RUNTIME_PROVIDED_ROOTS = ("boto3", "awslambdaric")
_provided_lock = threading.Lock()
_provided_dir: str | None = None


def runtime_provided_distributions() -> list[importlib.metadata.Distribution]:
    """The installed distributions AWS's Python runtime provides: the roots and what they need."""
    found: dict[str, importlib.metadata.Distribution] = {}
    todo = list(RUNTIME_PROVIDED_ROOTS)
    while todo:
        name = canonicalize_name(todo.pop())
        if name in found:
            continue
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            raise RuntimeConfigError(
                f"the offline Lambda runtime needs {name!r}, which AWS's Python runtime "
                "provides, and it is not installed here: run `make setup`",
                "ServiceException",
                500,
            ) from None
        found[name] = dist
        for line in dist.requires or []:
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return [found[n] for n in sorted(found)]


def runtime_packages_dir() -> str:
    """A folder holding only the runtime-provided distributions (links to the installed ones).

    Made once per process; the workers put it on their import path instead of site-packages.
    """
    global _provided_dir
    with _provided_lock:
        if _provided_dir is None or not os.path.isdir(_provided_dir):
            folder = tempfile.mkdtemp(prefix="labbook-lambda-runtime-")
            for dist in runtime_provided_distributions():
                for top in _top_level_entries(dist):
                    link = os.path.join(folder, top)
                    if not os.path.lexists(link):
                        os.symlink(dist.locate_file(top), link)
            atexit.register(shutil.rmtree, folder, ignore_errors=True)
            _provided_dir = folder
        return _provided_dir


def _top_level_entries(dist: importlib.metadata.Distribution) -> set[str]:
    """The names a distribution installed at the top of site-packages (modules, packages,
    its .dist-info), from its RECORD; scripts installed elsewhere are left out."""
    tops = set()
    for file in dist.files or []:
        parts = file.parts
        if parts and parts[0] not in ("..", "__pycache__"):
            tops.add(parts[0])
    return tops


def runtime_version(runtime: str) -> str:
    """'python3.12' -> '3.12' (the Python version a python3.x runtime runs)."""
    return runtime.removeprefix("python")


def _worker_paths(spec: FunctionSpec, task: str, opt: str) -> dict[str, object]:
    """What bootstrap.py puts on the worker's import path, in AWS's order."""
    version = runtime_version(spec.runtime)
    provided = runtime_packages_dir()
    layer_site = os.path.join(opt, "python", "lib", f"python{version}", "site-packages")
    return {
        "path": [task, layer_site, os.path.join(opt, "python"), provided],
        "runtime_packages": provided,
        "code_roots": [task, opt],
        "runtime_version": version,
    }


def check_loadable(spec: FunctionSpec) -> None:
    """Refuse a package whose compiled modules target a Python this machine does not run.

    The offline runtime runs every python3.x function with this machine's Python. A module
    built for the function's runtime (PIL/_imaging.cpython-312-...so) loads on AWS, not here.
    """
    version = runtime_version(spec.runtime)
    local = f"{sys.version_info.major}.{sys.version_info.minor}"
    if version == local:
        return
    tag = f".cpython-{version.replace('.', '')}-"
    for i, code in enumerate((spec.code, *spec.layers)):
        compiled = None
        with contextlib.suppress(zipfile.BadZipFile), zipfile.ZipFile(io.BytesIO(code)) as zf:
            compiled = next((n for n in zf.namelist() if tag in n and n.endswith(".so")), None)
        if compiled:
            where = "its package" if i == 0 else f"its layer {i}"
            raise RuntimeConfigError(
                f"function {spec.name!r} runs {spec.runtime} and {where} holds modules compiled "
                f"for it ({compiled}); the offline runtime runs Python functions with this "
                f"machine's Python {local}, which cannot load them. Create the course's venv "
                f"with Python {version} (make distclean && make setup PYTHON=python{version}), "
                "or run this function with the `aws` backend",
                "InvalidRuntimeException",
                502,
            )


def _unzip(data: bytes, dest: str, *, what: str) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            zf.extractall(dest)
    except zipfile.BadZipFile as exc:
        raise RuntimeConfigError(
            f"{what} is not a valid zip file ({exc}); build it with helpers.package(...) or zipfile",
            "InvalidZipFileException",
            502,
        ) from exc


def _error_json(message: str, error_type: str) -> bytes:
    return json.dumps({"errorMessage": message, "errorType": error_type}).encode()


def _error_type(body: bytes, header: str | None) -> str:
    try:
        return str(json.loads(body).get("errorType") or header or "Unhandled")
    except (ValueError, AttributeError):
        return header or "Unhandled"


def _status_kb(pid: int, field_name: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _rss_kb(pid: int) -> int:
    return _status_kb(pid, "VmRSS")


def encode_log_tail(invocation: Invocation) -> str:
    """The last 4 KB of an invocation's log, base64, as in the X-Amz-Log-Result header."""
    return base64.b64encode(invocation.log_text.encode()[-4096:]).decode()


__all__ = [
    "Environment",
    "FunctionSpec",
    "Invocation",
    "LambdaRuntime",
    "LogEvent",
    "RESERVED_ENV",
    "RuntimeClosedError",
    "RuntimeConfigError",
    "check_environment",
    "check_zip",
    "encode_log_tail",
    "iso_time",
]
