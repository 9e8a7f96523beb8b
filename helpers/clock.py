"""The lab clock: what the emulator reads for TTLs, expiries, retries and visibility timeouts."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone


class Clock:
    """Lab time: real time plus whatever the lab skipped. Offline it jumps; on AWS it waits."""

    def __init__(self, *, offline: bool, remote: Callable[[float], None] | None = None):
        self.offline = offline
        self._remote = remote  # an account that is a stand-in: its lab clock moves instead
        self._offset = 0.0
        self._history: list[tuple[float, float]] = []  # (real time of an advance, offset after)
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []

    def now(self) -> float:
        """Seconds since the epoch, in lab time."""
        return time.time() + self._offset

    def datetime(self) -> datetime:
        """Lab time as an aware UTC datetime."""
        return datetime.fromtimestamp(self.now(), tz=timezone.utc)

    def advance(self, seconds: float | timedelta) -> None:
        """Let `seconds` pass: instantly offline, by really waiting on AWS."""
        secs = seconds.total_seconds() if isinstance(seconds, timedelta) else float(seconds)
        if secs < 0:
            raise ValueError(f"the lab clock only moves forward: got {secs} seconds")
        if self.offline or self._remote is not None:
            if self._remote is not None:  # the stand-in account's clock jumps: so does ours
                self._remote(secs)
            with self._lock:
                self._offset += secs
                self._history.append((time.time(), self._offset))
        else:
            time.sleep(secs)
        for listener in list(self._listeners):
            listener()

    def lab_time_of(self, real_epoch: float) -> float:
        """The lab time at the real moment `real_epoch`: what a timestamp taken by a real clock
        (a handler's, boto3's signing time) means in lab time."""
        offset = 0.0
        with self._lock:
            for when, after in self._history:
                if when > real_epoch:
                    break
                offset = after
        return real_epoch + offset

    def on_advance(self, listener: Callable[[], None]) -> None:
        """Call `listener` after every advance (the emulator wakes its deliveries)."""
        self._listeners.append(listener)

    @property
    def skipped(self) -> float:
        """Seconds the lab clock is ahead of real time."""
        return self._offset

    def __repr__(self) -> str:
        ahead = f", {self._offset:.0f} s ahead of real time" if self._offset else ""
        return f"<Clock {self.datetime():%Y-%m-%d %H:%M:%S} UTC{ahead}>"
