"""`labbook serve CHAPTER` as a test fixture: the running process and the lines it prints."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


class Served:
    """A running `labbook serve` process and the lines it prints."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put("")  # the process ended

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        """The first printed line matching `pattern` (fails when the process ends first)."""
        deadline = timeout
        while True:
            try:
                line = self.lines.get(timeout=deadline)
            except queue.Empty:
                pytest.fail(f"no line matching {pattern!r} within {timeout:.0f} s: {self.seen}")
            self.seen.append(line)
            found = re.search(pattern, line)
            if found:
                return found
            if line == "" and self.proc.poll() is not None:
                pytest.fail(f"labbook serve stopped before printing {pattern!r}: {self.seen}")


@contextmanager
def serving(chapter: str, *, stop_timeout: float) -> Iterator[Served]:
    """`labbook serve CHAPTER --port 0` until the block ends, then SIGTERM and wait for its
    clean-up to say that nothing is left."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "helpers.cli", "serve", chapter, "--port", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    server = Served(proc)
    try:
        yield server
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            server.wait_for(r"^Stopped; nothing left\.$", timeout=stop_timeout)
        finally:
            proc.kill()
            proc.wait(timeout=30)
