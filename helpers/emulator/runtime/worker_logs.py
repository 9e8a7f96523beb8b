"""Imported first by every offline Lambda worker (from bootstrap.py), before the runtime
interface client starts:

- print() and sys.stderr output go to the telemetry pipe as log frames, line by line, like the
  `logging` records the runtime client sends there: one pipe keeps them in program order, as
  CloudWatch shows them on AWS (two pipes read side by side would not);
- log lines that only the emulator causes are hidden, so handler logs read as on AWS.
"""

import atexit
import io
import logging
import os
import sys
import threading
import time

_FRAME_TYPE = 0xA55A0003.to_bytes(4, "big")  # awslambdaric's text log frame
_SEND_LOCK = threading.Lock()  # one frame at a time on the pipe, from any thread or stream


class _HideEndpointOverride(logging.Filter):
    """botocore logs where the endpoint came from; offline it is AWS_ENDPOINT_URL, on AWS not."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Found endpoint for")


class _FramedLines(io.TextIOBase):
    """A text stream that sends each complete line as one telemetry frame (one os.write).

    A line without its newline yet waits for it, for an explicit flush() or for exit. The
    runtime client wraps sys.stdout to flush after every write; that flush is not explicit, or
    print("x") would become two log lines, "x" and "\\n".
    """

    def __init__(self, fd: int, original: io.TextIOBase):
        super().__init__()
        self._fd = fd
        self._original = original
        self._pending = ""
        self._just_wrote = False
        self._lock = threading.RLock()

    @property
    def encoding(self) -> str:
        return "utf-8"

    @property
    def errors(self) -> str:
        return "backslashreplace"

    @property
    def buffer(self) -> "_BytesToLines":
        return _BytesToLines(self)

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self._original.fileno()  # what C code and subprocesses write to: the stdout pipe

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        with self._lock:
            self._pending += text
            self._just_wrote = True
            if "\n" in self._pending:
                complete, _, self._pending = self._pending.rpartition("\n")
                for line in complete.split("\n"):
                    _send(self._fd, line + "\n")
        return len(text)

    def flush(self) -> None:
        with self._lock:
            if self._just_wrote:  # the runtime client's flush after each write
                self._just_wrote = False
                return
            self._send_pending()

    def _send_pending(self) -> None:
        with self._lock:
            if self._pending:
                _send(self._fd, self._pending)
                self._pending = ""

    def close(self) -> None:
        self._send_pending()


class _BytesToLines:
    """sys.stdout.buffer: bytes written there join the same lines."""

    def __init__(self, text: _FramedLines):
        self._text = text

    def write(self, data: bytes) -> int:
        self._text.write(bytes(data).decode("utf-8", "replace"))
        return len(data)

    def flush(self) -> None:
        self._text.flush()

    def __getattr__(self, name: str) -> object:
        return getattr(self._text, name)


def _send(fd: int, text: str) -> None:
    data = text.encode("utf-8", "backslashreplace")
    frame = memoryview(
        _FRAME_TYPE
        + len(data).to_bytes(4, "big")
        + (time.time_ns() // 1000).to_bytes(8, "big")  # microseconds, as awslambdaric sends
        + data
    )
    with _SEND_LOCK:
        while frame:
            try:
                written = os.write(fd, frame)
            except OSError:  # the emulator stopped listening: the environment is ending
                return
            frame = frame[written:]


def _redirect_output() -> None:
    # the runtime client reads (and removes) this variable later: leave it in place
    telemetry = os.environ.get("_LAMBDA_TELEMETRY_LOG_FD")
    if not telemetry:
        return
    fd = os.dup(int(telemetry))  # our own copy: the runtime client closes its fd at exit
    streams = [_FramedLines(fd, sys.stdout), _FramedLines(fd, sys.stderr)]
    sys.stdout, sys.stderr = streams
    atexit.register(lambda: [s._send_pending() for s in streams])


logging.getLogger("botocore.configprovider").addFilter(_HideEndpointOverride())
_redirect_output()
