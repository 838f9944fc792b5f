"""The simulated device's IMU stream: its own thread, so the image path never waits for it (nor it for images).

Sample k is stamped start + k / rate on the steady clock the frames use (frame n: start + n / capture_fps), and
measures the rig at scene time k / rate, the time the frames of that instant show. It wakes every WAKE_S (or
every sample, if slower) and sends what is due as one dai.IMUData batch (at most MAX_BATCH: a thread that fell
further behind catches up over the next wake-ups, as a device's queue drains). Waking for every sample at 200 Hz
cost the image path a third of its frames on two loaded cores (the GIL changes hands each time); batches of
10 ms add at most that to a sample's latency, whose stamp stays its own.
"""
from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from ..core.imu import ImuInfo
from ..sim.imu import SimImu
from ..sim.motion import RigMotion
from .base import ImuCallback
from .imu import imu_data

MAX_BATCH = 32
WAKE_S = 0.01


class SimImuStream:
    def __init__(self, motion: RigMotion, info: ImuInfo, seed: int):
        self._motion, self.info, self._seed = motion, info, seed
        self._thread: threading.Thread | None = None
        self.sent = 0

    def start(self, start: float, on_imu: ImuCallback, on_failure: Callable[[Exception], None],
              stop: threading.Event) -> None:
        """Send samples from steady-clock time `start` until `stop`; a failure goes to on_failure, once."""
        self._thread = threading.Thread(target=self._run, args=(start, on_imu, on_failure, stop),
                                        name="sim-oak-imu", daemon=True)
        self._thread.start()

    def _run(self, start: float, on_imu: ImuCallback, on_failure, stop: threading.Event) -> None:
        imu = SimImu(self._motion, self.info, self._seed)        # the same readings on every start
        period = 1.0 / self.info.rate_hz
        wake = max(period, WAKE_S)
        try:
            while not stop.wait(max(0.0, start + imu.next_index * period + wake - period - time.monotonic())):
                due = math.floor((time.monotonic() - start) / period) + 1
                first = imu.next_index
                times, accel, gyro = imu.read(min(due, first + MAX_BATCH))
                if len(times):
                    on_imu(imu_data(start + times, accel, gyro, first))
                    self.sent += len(times)
        except Exception as e:  # noqa: BLE001 - reported like any device failure, never silent
            on_failure(e)

    def join(self, timeout: float = 5.0) -> None:
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self._thread = None
