"""Frame rates: measuring them and limiting them."""
from __future__ import annotations

import threading
from collections import deque


class RateMeter:
    """Events per second over a sliding window. Thread-safe: ticks come from the device thread."""

    def __init__(self, window_s: float = 2.0):
        self._window = window_s
        self._times: deque[float] = deque()
        self._lock = threading.Lock()
        self.count = 0
        self.last: float | None = None      # time of the latest event

    def tick(self, now: float) -> None:
        with self._lock:
            self._times.append(now)
            self.count += 1
            self.last = now
            self._trim(now)

    def rate(self, now: float) -> float:
        with self._lock:
            self._trim(now)
            if len(self._times) < 2:
                return 0.0
            span = max(now - self._times[0], self._times[-1] - self._times[0])
            return (len(self._times) - 1) / span if span > 0 else 0.0

    def _trim(self, now: float) -> None:
        while self._times and now - self._times[0] > self._window:
            self._times.popleft()


class RateLimiter:
    """Lets a frame through if at least 1/max_fps has passed since the last one (0 = no limit).

    Frames are judged by their device timestamps, like the Gen1 per-stream `max_fps`.
    """

    # Frames arrive on a jittery grid; accept one slightly early rather than halve the rate.
    _TOLERANCE = 0.1

    def __init__(self, max_fps: float = 0.0):
        self.max_fps = max_fps
        self._last: float | None = None

    def allow(self, timestamp: float) -> bool:
        if self.max_fps > 0 and self._last is not None and \
                timestamp - self._last < (1 - self._TOLERANCE) / self.max_fps:
            return False
        self._last = timestamp
        return True
