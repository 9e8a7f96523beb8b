"""The lab clock: what the emulator reads for TTLs, expiries, retries and visibility timeouts."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone


class Clock:
    """Lab time: real time plus whatever the lab skipped. Offline it jumps; on AWS it waits."""

    def __init__(self, *, offline: bool, remote: Callable[[float], float | None] | None = None):
        self.offline = offline
        # an account that is a stand-in: its lab clock moves instead of time passing, and
        # `remote(seconds)` answers the account's time after the move (or None)
        self._remote = remote
        self._offset = 0.0
        self._history: list[tuple[float, float]] = []  # (real time of an advance, offset after)
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []
        self._signed_at = -1.0  # real time of the last signature stamped in whole seconds
        if remote is not None:  # start from the account's time, which earlier labs moved
            self._follow(remote(0))

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
            self._after_this_second_if_signed()
        if self._remote is not None:  # the stand-in account's clock jumps: so does ours
            self._follow(self._remote(secs), secs)
        elif self.offline:
            with self._lock:
                self._offset += secs
                self._history.append((time.time(), self._offset))
        else:
            time.sleep(secs)
        for listener in list(self._listeners):
            listener()

    def signing(self) -> None:
        """Note that a signature stamped in whole seconds (SigV4's X-Amz-Date) is made now."""
        self._signed_at = time.time()

    def _after_this_second_if_signed(self) -> None:
        """A jump never shares a second with a signature made before it: a URL stamped 12:00:00
        was signed before a jump of that second only if the jump waits for 12:00:01 (at most a
        second, and only right after a signature), so `lab_time_of(..., resolution=1)` can
        count every jump of the stamp's second as made before the signature."""
        now = time.time()
        if math.floor(self._signed_at) == math.floor(now):
            time.sleep(math.floor(now) + 1 - now)

    def _follow(self, account_now: float | None, secs: float = 0.0) -> None:
        """Take the stand-in account's time (or, when it does not say, move by `secs`)."""
        with self._lock:
            if account_now is None:
                self._offset += secs
            else:
                self._offset = float(account_now) - time.time()
            self._history.append((time.time(), self._offset))

    def lab_time_of(self, real_epoch: float, *, resolution: float = 0.0) -> float:
        """The lab time at the real moment `real_epoch`: what a timestamp taken by a real clock
        (a handler's, boto3's signing time) means in lab time. A timestamp cut to whole seconds
        (`resolution=1`) stands for any moment of its second: jumps made in that second count
        as made before it (see `signing`)."""
        offset = 0.0
        with self._lock:
            for when, after in self._history:
                if when > real_epoch if not resolution else when >= real_epoch + resolution:
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
